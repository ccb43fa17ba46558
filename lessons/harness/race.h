/*
 * race.h - the exercise race: what the learner's file defines, and what
 * the harness (lessons/harness/race.c) gives it.
 *
 * The harness owns the orders, the bank, the checkout threads, the
 * invariant and the verdict; it is compiled by the project, so nothing
 * the learner's file does (a #define, a static of the same name) reaches
 * it. The learner's file defines exactly the functions under "yours", and
 * any state it needs in its own struct shop (which the harness only
 * passes around by pointer) or in statics. Any other global it defines
 * fails the build.
 *
 * exercise-defines: shop_create shop_destroy checkout
 */
#ifndef EX_RACE_H
#define EX_RACE_H

#include "harness/orders.h" /* order_t, PENDING, PAID and shop_t */

/* ---- the harness's: call it, do not define it ---- */

/* The payment gateway: slow (2 ms), and it charges order o's customer
 * whatever it is asked to, every time it is asked. */
void gateway_charge(const order_t *o);

/* ---- yours: define these in lessons/exercises/race.c ---- */

/* struct shop, shop_create() and shop_destroy(): see harness/orders.h. */

/* One checkout of order o; threads call it at the same time, and each
 * order arrives twice (a double click). */
void checkout(shop_t *s, order_t *o);

#endif /* EX_RACE_H */
