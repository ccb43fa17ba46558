/*
 * cd_cond.h - a named condition variable that the registry, the trace and
 * the controlled scheduler can see.
 *
 * It behaves like pthread_cond_t used with a cd_mutex: cd_cond_wait lets
 * go of the mutex and waits, then takes the mutex again before it
 * returns. A signal wakes the oldest waiter that was not woken yet; a
 * broadcast wakes every thread waiting at that moment. A signal or a
 * broadcast that finds nobody waiting is lost, as POSIX says: the
 * registry counts it as "unheard" and keeps who sent the last one, where
 * and when - the usual footprint of a lost wake-up. Always wait in a loop
 * that tests the condition (while, not if): a woken waiter may find the
 * condition gone again, and a controlled run with spurious wake-ups
 * (cd_sched_cfg_t.spurious, `--spurious`) wakes a waiter without any
 * signal, as POSIX allows.
 *
 * A waiter is registered with the condition variable before it lets go
 * of the mutex, so a signal from a thread that takes the mutex after it
 * always reaches it. The mutex is released and taken again through
 * cd_mutex's ordinary unlock and lock, so the registry, the lock-order
 * graph and ThreadSanitizer see them. A waiting thread shows as blocked
 * on the condition variable; if the run is aborted meanwhile, a thread
 * started by cd_thread is ended (see cd_thread.h), holding nothing.
 *
 * For ThreadSanitizer, a signal or broadcast happens-before the return of
 * the waiter it woke (as with pthread's condition variables).
 */
#ifndef CD_COND_H
#define CD_COND_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "cd_common.h"
#include "cd_mutex.h"
#include "cd_queue.h"

typedef struct cd_cond {
    /* Guards the fields below; never held across a scheduling point. */
    pthread_mutex_t lock;
    pthread_cond_t cv;     /* waiters sleep here (CLOCK_MONOTONIC) */
    cd_queue_t waiters;    /* not woken yet, oldest first */
    uint64_t signals, broadcasts;
    uint64_t unheard;      /* signals and broadcasts that woke nobody */
    int pending;           /* woken waiters that have not returned yet */
    /* Signallers that let go of lock and have not yet woken the sleepers
     * on cv: cd_cond_destroy waits for them. */
    _Atomic int waking;
    int id;                /* registry id */
} cd_cond_t;

/* Creates a condition variable named name. Returns 0, or -ENOSPC if the
 * registry is full (it is then not usable). */
int cd_cond_init(cd_cond_t *c, const char *name);

/* Destroys a condition variable nobody waits on (a waiter that a signal
 * or broadcast woke may destroy it at once: this waits for the signaller
 * to be done with it). */
void cd_cond_destroy(cd_cond_t *c);

/* Caller holds m. Lets go of m, waits for a signal or broadcast, takes m
 * again. Returns 0 (woken, or woken spuriously under --spurious: test the
 * condition again); -ECANCELED only on a thread that cd_thread did not
 * start, when the run was aborted while it waited (m is then not held,
 * as after cd_mutex_lock); -EPERM if the caller does not hold m (nothing
 * was done). */
#define cd_cond_wait(c, m) cd_cond_wait_at((c), (m), CD_HERE)
int cd_cond_wait_at(cd_cond_t *c, cd_mutex_t *m, cd_site_t site);

/* cd_cond_wait for at most ms milliseconds. Returns 0 or -ETIMEDOUT, with
 * m held again either way; -ECANCELED and -EPERM as cd_cond_wait. */
#define cd_cond_timedwait(c, m, ms) \
    cd_cond_timedwait_at((c), (m), (ms), CD_HERE)
int cd_cond_timedwait_at(cd_cond_t *c, cd_mutex_t *m, int ms,
                         cd_site_t site);

/* Wakes the oldest waiter not woken yet; nobody if none waits (the
 * signal is lost, and counted as unheard). Holding the mutex the waiters
 * use is allowed, not required. Can't fail. */
#define cd_cond_signal(c) cd_cond_signal_at((c), CD_HERE)
void cd_cond_signal_at(cd_cond_t *c, cd_site_t site);

/* Wakes every thread waiting now (unheard when there is none). Can't
 * fail. */
#define cd_cond_broadcast(c) cd_cond_broadcast_at((c), CD_HERE)
void cd_cond_broadcast_at(cd_cond_t *c, cd_site_t site);

#endif /* CD_COND_H */
