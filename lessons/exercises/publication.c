/*
 * Exercise: publication - the early flag (worksheet:
 * lessons/11-publication.md).
 *
 * Task:  a pool warmer opens database connections one by one while
 *        request handlers poll them. publish() below raises a
 *        connection's ready flag and then does the handshake that fills in
 *        its record: a handler that looks meanwhile is told "ready" and
 *        copies a record that is not there yet. Make take_ready() hand out
 *        a connection's record only once it is whole - on any processor,
 *        with any compiler, not only on this one.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, timing, ThreadSanitizer).
 * Check: concdemo check publication   or: make check-exercise EX=publication
 *
 * This file is yours, all of it: lessons/harness/publication.h says what
 * it must define and when the harness calls it; the harness (the warmer,
 * the handlers, the records, the invariant) is built by the project. You
 * may need <stdatomic.h> (memory_order_...) or lib/cd_mutex.h.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "harness/publication.h"

/* The pool: one ready flag per connection. Add what your fix needs. */
struct pool {
    int nconns;
    atomic_int *ready; /* ready[i]: connection i may be used */
};

pool_t *pool_create(int nconns)
{
    pool_t *p = calloc(1, sizeof *p);
    if (p && !(p->ready = calloc((size_t)nconns, sizeof *p->ready))) {
        free(p);
        p = NULL;
    }
    for (int i = 0; p && i < nconns; i++)
        atomic_init(&p->ready[i], 0);
    if (p)
        p->nconns = nconns;
    return p;
}

void pool_destroy(pool_t *p)
{
    free(p->ready);
    free(p);
}

/* The warmer opens connection c and tells the handlers. */
void publish(pool_t *p, conn_t *c)
{
    atomic_int *flag = &p->ready[c->id];
    atomic_store_explicit(flag, 1, memory_order_relaxed); /* the flag first, */
    handshake(c);                                         /* then the record */
}

/* A handler: is c ready? Then copy its record. */
int take_ready(pool_t *p, conn_t *c, record_t *out)
{
    atomic_int *flag = &p->ready[c->id];
    if (!atomic_load_explicit(flag, memory_order_relaxed))
        return 0;
    *out = c->rec;                /* whatever the record holds by now */
    return 1;
}
