/*
 * cd_keyed.c - the stripe table.
 */
#include "cd_keyed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int cd_keyed_init(cd_keyed_t *k, const char *prefix, int n)
{
    if (n <= 0)
        return -EINVAL;
    k->locks = calloc((size_t)n, sizeof *k->locks);
    if (!k->locks)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "%s[%d]", prefix, i);
        int rc = cd_mutex_init(&k->locks[i], name);
        if (rc != 0) {
            while (i-- > 0)
                cd_mutex_destroy(&k->locks[i]);
            free(k->locks);
            return rc;
        }
    }
    k->n = n;
    return 0;
}

void cd_keyed_destroy(cd_keyed_t *k)
{
    for (int i = 0; i < k->n; i++)
        cd_mutex_destroy(&k->locks[i]);
    free(k->locks);
    k->locks = NULL;
    k->n = 0;
}

cd_mutex_t *cd_keyed_mutex(cd_keyed_t *k, unsigned long key)
{
    return &k->locks[key % (unsigned long)k->n];
}
