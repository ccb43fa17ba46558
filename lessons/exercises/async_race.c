/*
 * Exercise: async-race - the double charge without threads
 * (worksheet: lessons/06-async-race.md).
 *
 * Task:  checkouts run as async tasks, on one worker thread by default.
 *        checkout() below reads the order's status, awaits the payment
 *        gateway (2 ms), then marks the order paid; the await lets the
 *        order's second checkout (the double click) read "pending" too, so
 *        both charge. The gateway also declines a card now and then: a
 *        declined order stays pending, and its other checkout may retry it.
 *        Make every order charged exactly once, with a lock per customer:
 *        other customers' checkouts must still await the gateway together.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, parallelism, timing, ThreadSanitizer).
 * Check: concdemo check async-race  or: make check-exercise EX=async-race
 *
 * This file is yours, all of it: lessons/harness/async_race.h says what
 * it must define and what it may call; the harness (orders, bank,
 * executor, the invariant) is built by the project. You may need
 * lib/cd_amutex.h (awaitable locks, plain and keyed).
 */
#include <stdlib.h>

#include "cd_amutex.h"
#include "cd_exec.h"
#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/async_race.h"
#include "harness/state.h"

/* The shop. Add the lock(s) your fix needs (set up and freed at the end of
 * this file). */
struct shop {
    int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
};

/* One checkout of order o (an async task; o->customer is its customer). */
void checkout(shop_t *s, order_t *o)
{
    (void)s;
    cd_point("check status");
    if (o->status == PENDING) {          /* both checkouts see PENDING: */
        if (gateway_charge(o)) {         /* this await runs the other */
            cd_point("mark paid");
            o->status = PAID;
        }
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
