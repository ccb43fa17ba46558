/*
 * cd_keyed.h - a keyed mutex: one lock per key (customer, account, ...).
 *
 * Work on the same key is serialised; work on different keys runs in
 * parallel. Keys map onto a fixed table of named cd_mutex stripes
 * ("customer[3]"); with at least as many stripes as live keys and small
 * integer keys, every key has a lock of its own. More keys than stripes
 * share locks: still correct, just less parallel.
 */
#ifndef CD_KEYED_H
#define CD_KEYED_H

#include "cd_mutex.h"

typedef struct cd_keyed {
    int n;
    cd_mutex_t *locks;
} cd_keyed_t;

/* Creates n stripes named "<prefix>[i]". Returns 0, -EINVAL, -ENOMEM or
 * -ENOSPC. */
int cd_keyed_init(cd_keyed_t *k, const char *prefix, int n);
void cd_keyed_destroy(cd_keyed_t *k);

/* The lock for key. Can't fail. */
cd_mutex_t *cd_keyed_mutex(cd_keyed_t *k, unsigned long key);

#define cd_keyed_lock(k, key) cd_mutex_lock_at(cd_keyed_mutex((k), (key)), CD_HERE)
#define cd_keyed_unlock(k, key) \
    cd_mutex_unlock_at(cd_keyed_mutex((k), (key)), CD_HERE)

#endif /* CD_KEYED_H */
