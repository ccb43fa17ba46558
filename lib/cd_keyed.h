/*
 * cd_keyed.h - a keyed mutex for threads: one lock per key (customer,
 * account, cache key, ...).
 *
 * Work on the same key is serialised, in arrival order; work on different
 * keys runs in parallel - two keys never share a lock. A key's lock
 * exists while somebody holds or waits for it, and is freed with the last
 * unlock (cd_keytab.h is the table behind it, shared with the awaitable
 * form for tasks in cd_amutex.h). A holder that failed unlocks with
 * cd_keyed_unlock_failed: under the CD_KEY_STOP strategy every thread
 * queued behind it on that key returns -ECANCELED instead of the lock.
 *
 * Each live key shows in the registry as "<prefix>[<key>]" (kind
 * CD_OBJ_KEY) with its owner and its queue; waits are scheduling points
 * of the controlled scheduler; a waiting thread that cd_thread started is
 * ended when the run is aborted, as with cd_mutex.
 */
#ifndef CD_KEYED_H
#define CD_KEYED_H

#include "cd_keytab.h"

typedef struct cd_keyed {
    cd_keytab_t *locks; /* the key table; NULL until init succeeded */
} cd_keyed_t;

/* Makes a keyed mutex whose keys are named "<prefix>[<key>]". n: how many
 * keys are expected to be live at once, a sizing hint (any number of
 * keys works). The strategy is CD_KEY_CONTINUE; _strategy chooses. Returns
 * 0, -EINVAL (n < 1) or -ENOMEM. */
int cd_keyed_init(cd_keyed_t *k, const char *prefix, int n);
int cd_keyed_init_strategy(cd_keyed_t *k, const char *prefix, int n,
                           cd_key_strategy_t strategy);

/* Frees it; nobody may hold or wait for a key. Safe on a zeroed or failed
 * one. */
void cd_keyed_destroy(cd_keyed_t *k);

/* Takes key, after the threads that asked for it before. Returns 0;
 * -ECANCELED when the holder before failed under CD_KEY_STOP (or, for a
 * thread cd_thread did not start, when the run was aborted meanwhile);
 * -ENOMEM. _stop: this hold's failure stops the queue behind it, whatever
 * the table's strategy. */
#define cd_keyed_lock(k, key) \
    cd_keytab_lock_at((k)->locks, (key), CD_KEY_DEFAULT, 0, CD_HERE)
#define cd_keyed_lock_stop(k, key) \
    cd_keytab_lock_at((k)->locks, (key), CD_KEY_STOP, 0, CD_HERE)

/* Takes key if nobody holds or waits for it: 0, else -EBUSY. */
#define cd_keyed_trylock(k, key) \
    cd_keytab_lock_at((k)->locks, (key), CD_KEY_DEFAULT, 1, CD_HERE)

/* Caller holds key. Hands it to the next waiter, or frees it. _failed:
 * the holder failed (see the strategies). Returns 0, or -EPERM when the
 * caller does not hold key. */
#define cd_keyed_unlock(k, key) \
    cd_keytab_unlock_at((k)->locks, (key), 0, CD_HERE)
#define cd_keyed_unlock_failed(k, key) \
    cd_keytab_unlock_at((k)->locks, (key), 1, CD_HERE)

/* Live keys, bytes held, untracked keys (cd_keytab_stats_t); how many
 * wait for key. */
#define cd_keyed_stats(k, out) cd_keytab_stats((k)->locks, (out))
#define cd_keyed_waiters(k, key) cd_keytab_waiters((k)->locks, (key))

#endif /* CD_KEYED_H */
