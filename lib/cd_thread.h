/*
 * cd_thread.h - named threads, teams that start together, simulated
 * latency and named points.
 *
 * A thread started here is registered under its name, so reports can say
 * "checkout-2 is blocked on shop-lock". When the run is aborted (deadlock
 * found, hard timeout) such a thread is ended at its next blocking or
 * sleeping operation: it releases the locks it holds and exits, so that
 * joins return and the run ends cleanly.
 */
#ifndef CD_THREAD_H
#define CD_THREAD_H

#include <pthread.h>
#include <stdint.h>

#include "cd_common.h"

typedef struct cd_thread {
    int id;       /* registry id, 0 if untracked */
    pthread_t pt;
    struct cd__pooled *pooled; /* the pool's thread it runs on, or NULL */
    int fiber;    /* a coroutine of a controlled run, not an OS thread */
} cd_thread_t;

typedef void (*cd_thread_fn)(void *arg);

/* Starts fn(arg) on a new thread named name. Returns 0, or -EAGAIN /
 * -ENOSPC (no thread / no registry slot); *t is then unusable. */
int cd_thread_spawn(cd_thread_t *t, const char *name, cd_thread_fn fn,
                    void *arg);

/* Waits for the thread to end (normally or by abort). Returns 0, or
 * -ECANCELED if it was ended by the run's abort. */
int cd_thread_join(cd_thread_t *t);

/* The thread pool, for a caller that makes many short runs (an
 * exploration): while it is on, a spawned thread runs on an OS thread
 * parked by an earlier run, started only when none is parked, and a join
 * parks it again instead of ending it. No OS thread serves two threads of
 * one run (each stays a thread of its own to the run), and a run sees the
 * same ids, names, schedule and trace as with fresh threads - if the
 * code run keeps nothing in thread-local variables of its own, which a
 * pooled OS thread keeps from one thread to the next. end stops
 * the parked ones; call it when no spawned thread is left unjoined. Under
 * ThreadSanitizer the pool stays off: there every thread is a fresh one,
 * as the program would make it. Returns 0 (begin can't fail). */
int cd_thread_pool_begin(void);
void cd_thread_pool_end(void);

/* A team: n threads named "<prefix>-1".."<prefix>-n" run fn(ctx, i) with
 * i = 0..n-1. All are created first and released together through a start
 * gate, so that none gets a head start; then all are joined. Returns the
 * number of threads the run's abort ended (0 normally), or -errno if the
 * team could not be started (those started were released and joined). */
typedef void (*cd_team_fn)(void *ctx, int index);
int cd_team_run(int n, const char *prefix, cd_team_fn fn, void *ctx);

/* Simulated latency: "the payment gateway takes 2 ms". The thread shows as
 * sleeping on `what` (a static string) for usec microseconds times the
 * run's latency scale. Ends the thread if the run is aborted meanwhile. */
#define cd_latency(what, usec) cd_latency_at((what), (usec), CD_HERE)
void cd_latency_at(const char *what, int64_t usec, cd_site_t site);

/* A named point in a demo (a static string such as "read status"): shows
 * in the trace, and is where a scheduler may switch threads. */
#define cd_point(label) cd_point_at((label), CD_HERE)
void cd_point_at(const char *label, cd_site_t site);

#endif /* CD_THREAD_H */
