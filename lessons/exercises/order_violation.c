/*
 * Exercise: order-violation - the connection used before it exists
 * (worksheet: lessons/09-order-violation.md).
 *
 * Task:  the service's handlers take requests from the start, while
 *        start-up connects to the database (20 ms) and then stores the
 *        connection. get_conn() below returns whatever is stored: in those
 *        first 20 ms, nothing. The lock makes each look and the store
 *        whole; it does not make the store come first. Make every
 *        get_conn() return the open connection - never NULL - however
 *        early the request comes, with the database connected once.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, timing, ThreadSanitizer).
 * Check: concdemo check order-violation
 *        or: make check-exercise EX=order-violation
 *
 * This file is yours, all of it: lessons/harness/order_violation.h says
 * what it must define and what it may call; the harness (the database,
 * start-up's thread, the handlers, the invariant) is built by the
 * project. You may need lib/cd_mutex.h and lib/cd_cond.h.
 */
#include <stdlib.h>

#include "cd_cond.h"
#include "cd_mutex.h"
#include "harness/order_violation.h"

/* The service's state. Add what your fix needs. */
struct service {
    cd_mutex_t lock;   /* guards conn */
    cd_cond_t ready;   /* not used yet */
    conn_t *conn;      /* the connection: set by start-up */
};

service_t *service_create(void)
{
    service_t *s = calloc(1, sizeof *s);
    if (s && cd_mutex_init(&s->lock, "conn-lock") != 0) {
        free(s);
        s = NULL;
    }
    if (s && cd_cond_init(&s->ready, "conn-ready") != 0) {
        cd_mutex_destroy(&s->lock);
        free(s);
        s = NULL;
    }
    return s;
}

void service_destroy(service_t *s)
{
    cd_cond_destroy(&s->ready);
    cd_mutex_destroy(&s->lock);
    free(s);
}

/* Start-up: connect (slow), then store the connection. */
void startup(service_t *s)
{
    conn_t *c = db_connect();
    cd_mutex_lock(&s->lock);
    s->conn = c;                  /* nothing waits for this line... */
    cd_mutex_unlock(&s->lock);
}

/* A handler's look-up, for each request. */
conn_t *get_conn(service_t *s)
{
    cd_mutex_lock(&s->lock);
    conn_t *c = s->conn;          /* ...so this may run before it */
    cd_mutex_unlock(&s->lock);
    return c;
}
