/*
 * cd_keyed.c - the keyed mutex: a stripe table (cd_stripes.h) of cd_mutex.
 */
#include "cd_keyed.h"

#include "cd_stripes.h"

static int init_one(void *lock, const char *name)
{
    return cd_mutex_init(lock, name);
}

static void destroy_one(void *lock)
{
    cd_mutex_destroy(lock);
}

static const cd__stripe_kind_t mutexes = { sizeof(cd_mutex_t), init_one,
                                           destroy_one };

int cd_keyed_init(cd_keyed_t *k, const char *prefix, int n)
{
    void *locks;
    int rc = cd__stripes_init(&locks, &mutexes, prefix, n);
    k->locks = locks;
    k->n = rc == 0 ? n : 0;
    return rc;
}

void cd_keyed_destroy(cd_keyed_t *k)
{
    cd__stripes_destroy(k->locks, &mutexes, k->n);
    k->locks = NULL;
    k->n = 0;
}

cd_mutex_t *cd_keyed_mutex(cd_keyed_t *k, unsigned long key)
{
    return &k->locks[key % (unsigned long)k->n];
}
