/*
 * cd_keyed.c - the keyed mutex for threads: a key table (cd_keytab.h)
 * whose waiters are threads.
 */
#include "cd_keyed.h"

int cd_keyed_init_strategy(cd_keyed_t *k, const char *prefix, int n,
                           cd_key_strategy_t strategy)
{
    return cd_keytab_create(&k->locks, prefix, 0, n, strategy);
}

int cd_keyed_init(cd_keyed_t *k, const char *prefix, int n)
{
    return cd_keyed_init_strategy(k, prefix, n, CD_KEY_CONTINUE);
}

void cd_keyed_destroy(cd_keyed_t *k)
{
    cd_keytab_free(k->locks);
    k->locks = NULL;
}
