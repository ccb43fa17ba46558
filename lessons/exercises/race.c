/*
 * Exercise: race - the double charge (worksheet: lessons/01-race.md).
 *
 * Task:  checkout() below charges a customer twice when the same order is
 *        checked out twice at once (a double click). Make it charge every
 *        order exactly once, with a lock per customer: checkouts of other
 *        customers must still call the slow payment gateway at the same time.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, parallelism, timing, ThreadSanitizer).
 * Check: concdemo check race        or: make check-exercise EX=race
 *
 * This file is yours, all of it: lessons/harness/race.h says what it must
 * define and what it may call; the harness (orders, bank, threads, the
 * invariant) is built by the project. You may need lib/cd_keyed.h (one
 * lock per key) and lib/cd_mutex.h.
 */
#include <stdlib.h>

#include "cd_keyed.h"
#include "cd_mutex.h"
#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/race.h"
#include "harness/state.h"

/* The shop. Add the lock(s) your fix needs (set up and freed at the end of
 * this file). */
struct shop {
    int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
};

/* One checkout of order o (o->customer is its customer). */
void checkout(shop_t *s, order_t *o)
{
    (void)s;
    cd_point("check status");
    if (o->status == PENDING) {  /* both checkouts see PENDING... */
        gateway_charge(o);       /* ...both charge (2 ms)... */
        cd_point("mark paid");
        o->status = PAID;        /* ...before either marks it paid */
    }
}

/* Sets up your lock(s) before the checkouts start: 0, or -1 on failure. */
static int shop_locks_init(shop_t *s) { (void)s; return 0; }

/* Frees them after every checkout has ended. */
static void shop_locks_destroy(shop_t *s) { (void)s; }

/* shop_create() and shop_destroy(), which the harness calls
 * (lessons/harness/state.h): shop_create() hands shop_locks_init() a
 * zeroed shop with ncustomers set; shop_destroy() calls
 * shop_locks_destroy(), then frees the shop. */
EX_STATE(shop, ncustomers, shop_locks_init, shop_locks_destroy)
