/*
 * Exercise: inventory - the oversold stock
 * (worksheet: lessons/15-inventory.md).
 *
 * Task:  a flash sale, as async tasks on one worker thread by default.
 *        buy() below checks that a unit is left, awaits the payment
 *        provider (2 ms), then takes the unit off the stock; the await
 *        lets every other buyer of the product check the same stock, so
 *        they all pay and the stock goes below zero. The provider also
 *        declines a card now and then: that buyer gets nothing, and a unit
 *        it may have held must go back on the shelf for a later buyer.
 *        Never sell more than the stock; other products' buyers must still
 *        pay together.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, parallelism, timing, ThreadSanitizer).
 * Check: concdemo check inventory  or: make check-exercise EX=inventory
 *
 * This file is yours, all of it: lessons/harness/inventory.h says what it
 * must define and what it may call; the harness (products, stock, payment
 * provider, executor, the invariant) is built by the project. You may
 * need lib/cd_amutex.h (awaitable locks, plain and keyed).
 */
#include <stdlib.h>

#include "cd_amutex.h"
#include "cd_exec.h"
#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/inventory.h"
#include "harness/state.h"

/* The shop. Add the lock(s) your fix needs (set up and freed at the end of
 * this file). */
struct shop {
    int nproducts; /* products are numbered 0 .. nproducts-1 */
};

/* One buyer's visit (an async task; b->product is what it wants). */
void buy(shop_t *s, buyer_t *b)
{
    product_t *p = b->product;
    (void)s;
    cd_point("check stock");
    if (atomic_load(&p->stock) > 0) {    /* every buyer sees units left: */
        if (pay(b)) {                    /* this await lets them all in */
            cd_point("take unit");
            atomic_fetch_sub(&p->stock, 1);
        }
    }
}

/* Sets up your lock(s) before the buyers come: 0, or -1 on failure. */
static int shop_locks_init(shop_t *s) { (void)s; return 0; }

/* Frees them after every buyer has gone. */
static void shop_locks_destroy(shop_t *s) { (void)s; }

/* shop_create() and shop_destroy(), which the harness calls
 * (lessons/harness/state.h): shop_create() hands shop_locks_init() a
 * zeroed shop with nproducts set; shop_destroy() calls
 * shop_locks_destroy(), then frees the shop. */
EX_STATE(shop, nproducts, shop_locks_init, shop_locks_destroy)
