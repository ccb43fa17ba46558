/*
 * inventory.h - the exercise inventory: what the learner's file defines,
 * and what the harness (lessons/harness/inventory.c) gives it.
 *
 * The harness owns the products, their stock, the payment provider, the
 * executor, the invariant and the verdict, compiled by the project:
 * nothing in the learner's file (a #define, a static of the same name)
 * reaches it. The learner's file defines exactly the functions under
 * "yours"; its state goes in its own struct shop, which the harness only
 * passes around by pointer. Any other global it defines fails the build.
 *
 * exercise-defines: shop_create shop_destroy buy
 */
#ifndef EX_INVENTORY_H
#define EX_INVENTORY_H

#include <stdatomic.h>
#include "harness/state.h"

/* One product on sale. The harness made it; buy() sells its units. */
typedef struct product {
    int id;           /* 0 .. nproducts-1 */
    atomic_int stock; /* units on the shelf: the shop's own count */
} product_t;

/* One buyer, who wants one unit of one product. */
typedef struct buyer {
    int no;             /* 1-based, among the product's buyers */
    product_t *product;
} buyer_t;

/* ---- the harness's: call it, do not define it ---- */

/* The payment provider: awaits 2 ms (the task parks, its worker runs
 * others), then charges buyer b for one unit of b's product and returns
 * 1 - or declines the card (charges nothing) and returns 0. Each buyer
 * pays at most once. Call it from a task only. */
int pay(const buyer_t *b);

/* ---- yours: define these in lessons/exercises/inventory.c ---- */

typedef struct shop shop_t; /* define struct shop: your locks go there */

/* shop_create() makes the shop before the buyers come (products are
 * numbered 0 .. nproducts-1): NULL on failure. shop_destroy() frees it
 * after every buyer has gone. EX_STATE, in your file, defines both
 * (lessons/harness/state.h). */
EX_STATE_DECLARE(shop, nproducts);

/* One buyer's visit, an async task: buy one unit of b->product if one is
 * left, paying for it; buyers of every product come at once, spread over
 * the workers. */
void buy(shop_t *s, buyer_t *b);

#endif /* EX_INVENTORY_H */
