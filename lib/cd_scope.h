/*
 * cd_scope.h - task scopes (structured concurrency) and the offload pool.
 *
 * A scope is opened by a task, its owner. Tasks spawned in it cannot
 * outlive it: cd_scope_close awaits every one of them. When one of them
 * fails (cd_scope_fail), or the scope's deadline passes, the scope
 * cancels the rest: each ends at its next await (a timer, a lock, a
 * socket), releasing its locks as the run's abort would, and one that
 * never ran does not start. Nothing a cancelled task would have done
 * after that await happens. The close reports the first error and which
 * tasks it cancelled. Without scopes, a request that gives up after a
 * timeout leaves its subtasks running: orphans.
 *
 * Scopes nest: a scope opened by a task of scope P lives inside P.
 * Cancelling P (a failure, its deadline) cancels the tasks of every
 * scope inside it too, and P's close awaits them all - also those of a
 * scope whose owner was cancelled before it could close it (the last of
 * its tasks frees it then).
 *
 * The owner shows parked on the scope's registry object while it waits.
 * A task that was asked to cancel but never awaits again runs to its end
 * (cancellation is cooperative, as in every async runtime).
 *
 * cd_exec_offload runs a blocking or CPU-heavy function on a separate
 * pool of threads, and the task awaits its result: its worker runs other
 * tasks meanwhile. Under the controlled scheduler the function runs on
 * the task's own worker instead (the pool's threads would not be
 * participants); the await is still one of the scheduler's choices.
 *
 * cd_cpu_work is the CPU-heavy work itself (a password hash): real CPU
 * time in a free run. A controlled run's clock is virtual, and work costs
 * nothing on it, so there the cost is counted instead: as a sleep of the
 * thread where the work would hold its thread (on a worker: the event
 * loop runs nothing meanwhile), as an await where it runs inside
 * cd_exec_offload (the pool would work while the loop goes on). Either
 * way a latency measured on the run's clock means what it means in a
 * free run.
 */
#ifndef CD_SCOPE_H
#define CD_SCOPE_H

#include <stdint.h>

#include "cd_common.h"
#include "cd_exec.h"

#define CD_SCOPE_REPORT_MAX 16

typedef struct cd_scope cd_scope_t;

/* What a scope did, filled in by cd_scope_close. */
typedef struct cd_scope_report {
    int err;       /* the first failure, -ETIMEDOUT (deadline), or 0 */
    int spawned;   /* tasks spawned in the scope */
    int cancelled; /* of them, how many a cancel ended before their end */
    int ids[CD_SCOPE_REPORT_MAX]; /* the first cancelled tasks' ids */
} cd_scope_report_t;

/* Opens a scope named name, owned by the calling task. With
 * timeout_us > 0 the scope is cancelled (err -ETIMEDOUT) once that much
 * time (times the run's latency scale) has passed. Returns 0, -EPERM
 * outside a task, -ENOMEM or -ENOSPC. */
int cd_scope_open(cd_scope_t **out, const char *name, int64_t timeout_us);

/* Spawns a task in the scope on the executor's next worker. Returns its
 * id (> 0) or -errno. From the owner or any task of the scope, before
 * cd_scope_close returned. */
int cd_scope_spawn(cd_scope_t *s, const char *name, cd_task_fn fn, void *arg);

/* A task of the scope (or its owner) failed with err (< 0): the first
 * error is kept and every other task of the scope is cancelled. */
void cd_scope_fail(cd_scope_t *s, int err);

/* Cancels every task of the scope (but the caller), keeping err 0 if no
 * failure came first. */
void cd_scope_cancel(cd_scope_t *s);

/* The owner awaits every task of the scope, then frees it and fills
 * *report (if not NULL). Returns report->err. */
int cd_scope_close(cd_scope_t *s, cd_scope_report_t *report);

/* Inside a task: runs fn(arg) on the offload pool (started with the
 * first offload, CD_OFFLOAD_THREADS threads, ended by cd_exec_destroy)
 * and awaits its return; what names the await. Outside a task it calls
 * fn directly. If the run's abort ends the task meanwhile, fn still runs
 * to its end on the pool (arg must outlive it). Returns 0 or -ENOMEM. */
#define CD_OFFLOAD_THREADS 2
#define cd_exec_offload(what, fn, arg)                                       \
    cd_exec_offload_at((what), (fn), (arg), CD_HERE)
int cd_exec_offload_at(const char *what, void (*fn)(void *), void *arg,
                       cd_site_t site);

/* Starts e's offload pool now, before the run, rather than at the first
 * offload: a service that knows it will offload pays for the threads as
 * it starts up, not inside a request (starting a thread costs a
 * millisecond or more under a sanitizer, and the loop waits for it). Does
 * nothing in a controlled run, whose offloads run in place. Returns 0, or
 * -EAGAIN when no thread could be started (the first offload tries
 * again). */
int cd_exec_offload_start(cd_exec_t *e);

/* Spends usec (times the run's latency scale) of CPU time on the calling
 * thread: calls step(arg) until the thread's CPU clock has moved that
 * much, at least once. In a controlled run step runs once and the time is
 * counted on the virtual clock (above), named what. Returns how many
 * times step ran. */
#define cd_cpu_work(what, usec, step, arg)                                   \
    cd_cpu_work_at((what), (usec), (step), (arg), CD_HERE)
long cd_cpu_work_at(const char *what, int64_t usec, void (*step)(void *),
                    void *arg, cd_site_t site);

#endif /* CD_SCOPE_H */
