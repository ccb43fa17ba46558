/*
 * cd_exec.h - a small async runtime: tasks on N worker threads.
 *
 * A task is a function that runs on its own stack (a coroutine). When it
 * awaits - a timer standing for slow I/O ("the save takes 5 ms"), or an
 * awaitable lock (cd_amutex.h) that somebody else holds - it parks: it
 * gives its worker thread back, and the worker runs another task that is
 * ready. Nothing runs a task but a worker; a worker runs one task at a time
 * and only switches at an await. So a task that does something blocking
 * (a plain cd_mutex_lock that waits, a cd_latency sleep) blocks its worker
 * and every task that needs that worker - the lesson of `concdemo await`.
 *
 * A task runs only on the worker it was given when spawned: round-robin
 * (cd_exec_spawn) or a chosen one (cd_exec_spawn_on); nothing steals it.
 * The binding is a choice with a reason: a blocking mutex taken by a task (a
 * pthread mutex inside) must be unlocked by the same OS thread, and
 * thread-local storage must not change under a task's feet.
 *
 * Tasks are registry records like threads ("checkout-1"), with the states
 * running / parked (on an object, or a timer: `what`) / ready (waits for
 * its worker) / done; while a task runs, cd_self() is the task's id, so a
 * lock it takes is owned by the task. Each worker is a registry object
 * ("worker-1", kind CD_OBJ_WORKER) whose owner is the task running on it:
 * this is what lets the wait-for graph see "a ready task waits for a worker
 * that a blocked task holds".
 *
 * A task also parks awaiting a socket (cd_io.h): its worker polls the
 * descriptors of its parked tasks when it has nothing else to run. A task
 * scope (cd_scope.h) may cancel a task: it ends at its next await, as in
 * an abort (below), and cd_exec_offload (cd_scope.h) runs a long call on
 * a pool of other threads while the task awaits it.
 *
 * When the run is aborted (deadlock found, time limit), every task ends at
 * its next await or blocking wait, releasing what it holds; tasks that
 * never ran are dropped; the workers exit and cd_exec_run returns.
 */
#ifndef CD_EXEC_H
#define CD_EXEC_H

#include <stdint.h>

#include "cd_common.h"

#define CD_EXEC_MAX_WORKERS 64

typedef struct cd_exec cd_exec_t;
typedef void (*cd_task_fn)(void *arg);

/* Creates an executor with nworkers workers ("worker-1".."worker-N"),
 * registered in the current run; none runs until cd_exec_run. Returns 0,
 * -EINVAL (nworkers out of 1..CD_EXEC_MAX_WORKERS), -ENOMEM or -ENOSPC. */
int cd_exec_create(cd_exec_t **out, int nworkers);

/* Frees the executor; tasks that never ran are dropped. Not while
 * cd_exec_run is going. Safe with NULL. */
void cd_exec_destroy(cd_exec_t *e);

/* Adds a task named name that runs fn(arg) on the next worker round-robin
 * (spawn) or on worker index 0..N-1 (spawn_on). Callable before
 * cd_exec_run and from the executor's own tasks. Returns the task's
 * registry id (> 0), or -EINVAL, -ENOMEM, -ENOSPC. */
int cd_exec_spawn(cd_exec_t *e, const char *name, cd_task_fn fn, void *arg);
int cd_exec_spawn_on(cd_exec_t *e, int worker, const char *name,
                     cd_task_fn fn, void *arg);

/* Starts the workers and waits until every task has returned, or until the
 * run was aborted and every task was ended. Call once. Returns the number
 * of tasks the abort ended (0 when all finished), or -errno when no worker
 * could be started. */
int cd_exec_run(cd_exec_t *e);

/* Number of workers; the registry object id of worker index i. */
int cd_exec_workers(const cd_exec_t *e);
int cd_exec_worker_obj(const cd_exec_t *e, int i);

/* Inside a task: its worker's index (0..N-1). Elsewhere -1. */
int cd_exec_current_worker(void);

/* Awaits a simulated latency: "the database save takes 5 ms". The task
 * parks on a timer of usec microseconds (times the run's latency scale)
 * and its worker runs other tasks meanwhile; even 0 parks, so every await
 * is a place where other tasks run. Outside a task it is cd_latency: the
 * thread sleeps. Ends the task if the run is aborted. */
#define cd_await_latency(what, usec) cd_await_latency_at((what), (usec), CD_HERE)
void cd_await_latency_at(const char *what, int64_t usec, cd_site_t site);

#endif /* CD_EXEC_H */
