/*
 * cd_stripes.c - the stripe table of the keyed mutexes.
 */
#include "cd_stripes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd_common.h"

/* The i-th lock of the table (locks are kind->size bytes apart). */
static void *stripe(void *locks, const cd__stripe_kind_t *kind, int i)
{
    return (char *)locks + (size_t)i * kind->size;
}

int cd__stripes_init(void **locks, const cd__stripe_kind_t *kind,
                     const char *prefix, int n)
{
    *locks = NULL;
    if (n <= 0)
        return -EINVAL;
    void *table = calloc((size_t)n, kind->size);
    if (!table)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "%s[%d]", prefix, i);
        int rc = kind->init(stripe(table, kind, i), name);
        if (rc != 0) {
            /* Those made so far go again: the caller has no table. */
            cd__stripes_destroy(table, kind, i);
            return rc;
        }
    }
    *locks = table;
    return 0;
}

void cd__stripes_destroy(void *locks, const cd__stripe_kind_t *kind, int n)
{
    for (int i = 0; i < n; i++)
        kind->destroy(stripe(locks, kind, i));
    free(locks);
}
