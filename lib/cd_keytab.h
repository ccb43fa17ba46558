/*
 * cd_keytab.h - a table of per-key locks: the one engine behind both
 * keyed locks, for threads (cd_keyed.h) and for tasks (cd_akeyed in
 * cd_amutex.h).
 *
 * A key (customer, cache key, event id: an unsigned long) has a lock of
 * its own for as long as somebody holds or waits for it. Its entry is
 * made by the first lock and freed by the unlock that leaves it with
 * nobody waiting, so a million keys locked one after another leave the
 * memory where it was. Different keys never share a lock. The waiters for
 * one key get it in arrival order: the unlock hands the key to the first
 * waiter directly, so a newcomer cannot overtake the queue.
 *
 * A holder that fails says so with the failed unlock. Under the default
 * strategy (CD_KEY_CONTINUE) the next waiter gets the key as usual; under
 * CD_KEY_STOP (the table's default, or chosen by the holder's lock) every
 * waiter queued behind it on that key returns -ECANCELED instead of the
 * key: work that only made sense after the failed one (the next step of a
 * transaction) does not run on a broken state.
 *
 * Each live key is a registry object (CD_OBJ_KEY for threads, CD_OBJ_AKEY
 * for tasks) named "<prefix>[<key>]", with its owner and its queue, so the
 * trace, the controlled scheduler, the deadlock and lock-order detectors
 * and the live view see keys as they see mutexes. A table takes at most a
 * bounded number of registry records and gives a freed key's record to its
 * next new key (forgetting the old key's lock order); a key that finds no
 * record free still works, untracked, and is counted (stats.untracked).
 */
#ifndef CD_KEYTAB_H
#define CD_KEYTAB_H

#include "cd_common.h"

typedef struct cd_keytab cd_keytab_t;

/* What a failed holder's unlock does to the waiters behind it. */
typedef enum cd_key_strategy {
    CD_KEY_DEFAULT = -1, /* for a lock: the table's strategy */
    CD_KEY_CONTINUE = 0, /* the next waiter gets the key as usual */
    CD_KEY_STOP          /* every waiter on that key gets -ECANCELED */
} cd_key_strategy_t;

/* The figures a test or a bench reads. */
typedef struct cd_keytab_stats {
    long live_keys;   /* keys held or waited for now */
    long bytes;       /* memory their entries hold now */
    long untracked;   /* keys made so far with no registry record free */
    long records;     /* registry records the table has taken */
} cd_keytab_stats_t;

/* Makes a table whose keys are named "<prefix>[<key>]". tasks: 1 for
 * tasks (locks park the task; only a task may call them), 0 for threads.
 * hint: how many keys are expected to be live at once (sizes the hash and
 * the registry records the table may take; any number of keys works).
 * Returns 0, -EINVAL (hint < 1, a bad strategy) or -ENOMEM. */
int cd_keytab_create(cd_keytab_t **out, const char *prefix, int tasks,
                     int hint, cd_key_strategy_t strategy);

/* Frees a table nobody holds or waits on any more. Safe with NULL. */
void cd_keytab_free(cd_keytab_t *t);

/* Takes key, waiting in arrival order behind its holder and its earlier
 * waiters. strategy: what a failed unlock of this hold does to the
 * waiters (CD_KEY_DEFAULT: the table's). try: never waits. Returns 0;
 * -EBUSY (try, taken); -ECANCELED when the holder before failed under
 * CD_KEY_STOP, or when the run was aborted while a thread that cd_thread
 * did not start waited (one it started, and a task, is ended instead);
 * -ENOMEM. */
int cd_keytab_lock_at(cd_keytab_t *t, unsigned long key,
                      cd_key_strategy_t strategy, int try, cd_site_t site);

/* Caller holds key. Hands it to the first waiter, or frees its entry when
 * nobody waits. failed: the holder failed (see the strategies). Returns 0,
 * or -EPERM when the caller does not hold key. */
int cd_keytab_unlock_at(cd_keytab_t *t, unsigned long key, int failed,
                        cd_site_t site);

/* The table's figures now. */
void cd_keytab_stats(cd_keytab_t *t, cd_keytab_stats_t *out);

/* How many wait for key now (0 when nobody holds it). */
int cd_keytab_waiters(cd_keytab_t *t, unsigned long key);

#endif /* CD_KEYTAB_H */
