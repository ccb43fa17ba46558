/*
 * cd_stripes.h - a table of n named locks of one kind, "<prefix>[0]" to
 * "<prefix>[n-1]": the storage of both keyed mutexes, the blocking one
 * (cd_keyed.h) and the awaitable one (cd_amutex.h), made and unmade in one
 * place. Of a kind of lock it knows its size and how to make and unmake
 * one, nothing else, so it calls neither module. For libconc's own
 * modules; demos and cli/ use cd_keyed_t and cd_akeyed_t.
 */
#ifndef CD_STRIPES_H
#define CD_STRIPES_H

#include <stddef.h>

typedef struct cd__stripe_kind {
    size_t size;                               /* one lock's size */
    int (*init)(void *lock, const char *name); /* 0 or a negative errno */
    void (*destroy)(void *lock);
} cd__stripe_kind_t;

/* Makes n locks of kind named "<prefix>[i]" in one array, into *locks.
 * Returns 0; or -EINVAL (n <= 0), -ENOMEM, or what kind->init returned,
 * with *locks NULL and no lock left made. */
int cd__stripes_init(void **locks, const cd__stripe_kind_t *kind,
                     const char *prefix, int n);

/* Unmakes the n locks of a table cd__stripes_init made, and frees it.
 * locks NULL (n 0): nothing to do. */
void cd__stripes_destroy(void *locks, const cd__stripe_kind_t *kind, int n);

#endif /* CD_STRIPES_H */
