/*
 * orders.h - the orders of the exercises race and async-race, which
 * differ in how their checkouts run (threads, async tasks), not in what
 * an order is. Their interfaces (race.h, async_race.h) include it.
 */
#ifndef EX_ORDERS_H
#define EX_ORDERS_H

enum { PENDING, PAID };

/* One order. The harness made it; checkout() reads and marks it. */
typedef struct order {
    int id;
    int customer; /* 0 .. ncustomers-1 */
    int status;   /* PENDING or PAID: the shop's record, plain memory */
} order_t;

#endif /* EX_ORDERS_H */
