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
 * its waiters (see cd_keyed.h for the same with threads). A waiting task
 * parks; the keys' records are CD_OBJ_AKEY. */

typedef struct cd_akeyed {
    cd_keytab_t *locks; /* the key table; NULL until init succeeded */
} cd_akeyed_t;

/* Makes an awaitable keyed mutex whose keys are named "<prefix>[<key>]".
 * n: how many keys are expected to be live at once, a sizing hint. The
 * strategy is CD_KEY_CONTINUE; _strategy chooses. Returns 0, -EINVAL
 * (n < 1) or -ENOMEM. */
int cd_akeyed_init(cd_akeyed_t *k, const char *prefix, int n);
int cd_akeyed_init_strategy(cd_akeyed_t *k, const char *prefix, int n,
                            cd_key_strategy_t strategy);
/* Frees it; no task may hold or wait for a key. Safe when zeroed. */
void cd_akeyed_destroy(cd_akeyed_t *k);

/* Takes key, after the tasks that asked for it before; the task parks
 * meanwhile. Caller is a task. Returns 0; -ECANCELED when the holder
 * before failed under CD_KEY_STOP; -ENOMEM. Ends the task if the run is
 * aborted while it waits. _stop: this hold's failure stops the queue. */
#define cd_akeyed_lock(k, key) \
    cd_keytab_lock_at((k)->locks, (key), CD_KEY_DEFAULT, 0, CD_HERE)
#define cd_akeyed_lock_stop(k, key) \
    cd_keytab_lock_at((k)->locks, (key), CD_KEY_STOP, 0, CD_HERE)
/* 0 if it took key, -EBUSY if somebody holds or waits for it. */
#define cd_akeyed_trylock(k, key) \
    cd_keytab_lock_at((k)->locks, (key), CD_KEY_DEFAULT, 1, CD_HERE)

/* Caller holds key: hands it to the first waiting task, or frees it.
 * _failed: the holder failed. Returns 0, or -EPERM (not the holder). */
#define cd_akeyed_unlock(k, key) \
    cd_keytab_unlock_at((k)->locks, (key), 0, CD_HERE)
#define cd_akeyed_unlock_failed(k, key) \
    cd_keytab_unlock_at((k)->locks, (key), 1, CD_HERE)

#define cd_akeyed_stats(k, out) cd_keytab_stats((k)->locks, (out))
#define cd_akeyed_waiters(k, key) cd_keytab_waiters((k)->locks, (key))

#endif /* CD_AMUTEX_H */
