/*
 * async_race.h - the exercise async-race: what the learner's file
 * defines, and what the harness (lessons/harness/async_race.c) gives it.
 *
 * The harness owns the orders, the bank, the executor, the invariant and
 * the verdict, compiled by the project: nothing in the learner's file (a
 * #define, a static of the same name) reaches it. The learner's file
 * defines exactly the functions under "yours"; its state goes in its own
 * struct shop, which the harness only passes around by pointer. Any other
 * global it defines fails the build.
 *
 * exercise-defines: shop_create shop_destroy checkout
 */
#ifndef EX_ASYNC_RACE_H
#define EX_ASYNC_RACE_H

#include "harness/orders.h" /* order_t, PENDING, PAID and shop_t */

/* ---- the harness's: call it, do not define it ---- */

/* The payment gateway: awaits 2 ms (the task parks, its worker runs
 * others), then charges order o's customer and returns 1 - or declines
 * the card (charges nothing) and returns 0. Call it from a task only. */
int gateway_charge(const order_t *o);

/* ---- yours: define these in lessons/exercises/async_race.c ---- */

/* struct shop, shop_create() and shop_destroy(): see harness/orders.h. */

/* One checkout of order o, an async task; each order is checked out
 * twice (a double click), by tasks spread over the workers. */
void checkout(shop_t *s, order_t *o);

#endif /* EX_ASYNC_RACE_H */
