/*
 * cd_amutex.h - awaitable mutexes for tasks: plain and keyed.
 *
 * An awaitable mutex is the lock an async task may hold across an await.
 * A task that finds it taken parks (its worker runs other tasks) instead of
 * blocking its worker thread; the unlock hands the lock to the first task
 * that waits, in arrival order, and makes it ready. So "same lock, in
 * order" holds, and no worker ever sleeps inside a lock.
 *
 * The keyed form has a lock per key (customer, order, ...) for as long as
 * the key is in use: tasks with the same key run their critical sections
 * one after another, in arrival order; tasks with different keys
 * interleave at their awaits.
 *
 * Lock and unlock must be called from a task (cd_exec.h) - the lock parks,
 * and only a task can park; calling it elsewhere is a bug and aborts. The
 * registry shows the mutex (kind CD_OBJ_AMUTEX) with its owner task, and a
 * waiting task as parked on it, so the wait-for graph sees await cycles.
 * When the run is aborted, a waiting task is ended and leaves the queue.
 */
#ifndef CD_AMUTEX_H
#define CD_AMUTEX_H

#include <pthread.h>

#include "cd_common.h"
#include "cd_keyed.h"
#include "cd_keytab.h"
#include "cd_queue.h"

typedef struct cd_amutex {
    pthread_mutex_t lk; /* guards owner and the queue; never held across a park */
    int id;             /* registry id */
    int owner;          /* task id holding it, 0 if free */
    cd_queue_t queue;   /* the waiting tasks, first come first served */
} cd_amutex_t;

/* Creates an awaitable mutex named name. Returns 0, or -ENOSPC when the
 * registry is full. */
int cd_amutex_init(cd_amutex_t *m, const char *name);

/* Destroys an unlocked awaitable mutex that nobody waits for. */
void cd_amutex_destroy(cd_amutex_t *m);

/* Takes m; if another task holds it, the caller parks until it is handed
 * over. Returns 0. Caller is a task; ends the task if the run is aborted
 * while it waits. */
#define cd_amutex_lock(m) cd_amutex_lock_at((m), CD_HERE)
int cd_amutex_lock_at(cd_amutex_t *m, cd_site_t site);

/* Caller holds m. Hands it to the first waiting task, if any. */
#define cd_amutex_unlock(m) cd_amutex_unlock_at((m), CD_HERE)
void cd_amutex_unlock_at(cd_amutex_t *m, cd_site_t site);

/* ---- keyed ----
 * The awaitable keyed mutex: the key table of cd_keytab.h with tasks as
 * its waiters. Its calls are cd_keyed.h's, under the same contracts, but
 * for tasks: the caller is a task, a waiting task parks (its worker runs
 * others), and it is ended if the run is aborted while it waits. The
 * keys' records are CD_OBJ_AKEY. */

typedef cd_keyed_t cd_akeyed_t;

/* As cd_keyed_init and cd_keyed_init_strategy, with tasks as the waiters:
 * 0, -EINVAL (n < 1) or -ENOMEM. */
int cd_akeyed_init(cd_akeyed_t *k, const char *prefix, int n);
int cd_akeyed_init_strategy(cd_akeyed_t *k, const char *prefix, int n,
                            cd_key_strategy_t strategy);

/* The rest is cd_keyed.h's: the table knows that its waiters are tasks.
 * Destroy: no task may hold or wait for a key. */
#define cd_akeyed_destroy cd_keyed_destroy
#define cd_akeyed_lock cd_keyed_lock
#define cd_akeyed_lock_stop cd_keyed_lock_stop
#define cd_akeyed_trylock cd_keyed_trylock
#define cd_akeyed_unlock cd_keyed_unlock
#define cd_akeyed_unlock_failed cd_keyed_unlock_failed
#define cd_akeyed_stats cd_keyed_stats
#define cd_akeyed_waiters cd_keyed_waiters

#endif /* CD_AMUTEX_H */
