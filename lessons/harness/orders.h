/*
 * orders.h - the orders and the shop of the exercises race and
 * async-race, which differ in how their checkouts run (threads, async
 * tasks), not in what an order or the shop is. Their interfaces (race.h,
 * async_race.h) include it.
 */
#ifndef EX_ORDERS_H
#define EX_ORDERS_H

#include "harness/state.h"

enum { PENDING, PAID };

/* One order. The harness made it; checkout() reads and marks it. */
typedef struct order {
    int id;
    int customer; /* 0 .. ncustomers-1 */
    int status;   /* PENDING or PAID: the shop's record, plain memory */
} order_t;

/* ---- yours: define these in your exercise file ---- */

typedef struct shop shop_t; /* define struct shop: your locks go there */

/* shop_create() makes the shop before the checkouts start (customers are
 * numbered 0 .. ncustomers-1): NULL on failure. shop_destroy() frees it
 * after every checkout has ended. EX_STATE, in your file, defines both
 * (lessons/harness/state.h). */
EX_STATE_DECLARE(shop, ncustomers);

#endif /* EX_ORDERS_H */
