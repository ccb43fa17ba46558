/*
 * Exercise: db-race - the double charge across processes (worksheet:
 * lessons/19-db-race.md).
 *
 * Task:  checkout() below runs in every instance of the shop's service:
 *        separate processes, each with its own connection to one SQLite
 *        database. Each order is submitted twice, to two instances at the
 *        same moment, and both charge it. Make every order charged exactly
 *        once and marked 'paid' - through the database, the one thing the
 *        instances share.
 * Done:  every stage of the checker says PASS (instances: the charges of
 *        every order counted in the databases; timing).
 * Check: concdemo check db-race     or: make check-exercise EX=db-race
 *
 * This file is yours, all of it: lessons/harness/db_race.h says what it
 * must define, the tables, and what it may call - sql_exec() and
 * sql_number(), or SQLite's own C API on db (sqlite3.h). The harness (the
 * instances, the gateway and its bank) is built by the project, and
 * concdemo check makes the database and judges it.
 */
#include "harness/db_race.h"
#include "harness/state.h"

/* One instance's shop: each process has its own. */
struct shop {
    int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
};

/* One checkout of order `order` on this instance's connection db:
 * 0 done, -1 failed. */
int checkout(shop_t *s, sqlite3 *db, int order, int customer)
{
    (void)s;
    (void)customer;
    long long pending = sql_number(db, "SELECT count(*) FROM orders "
                                       "WHERE id = ? AND status = 'pending'",
                                   order);
    if (pending < 0)
        return -1;
    if (pending) {             /* both instances read 'pending'... */
        gateway_charge(order); /* ...both charge (2 ms)... */
        if (sql_exec(db, "UPDATE orders SET status = 'paid' WHERE id = ?",
                     order) < 0) /* ...before either marks it paid */
            return -1;
    }
    return 0;
}

/* Sets up what your shop needs before the checkouts start: 0, or -1. */
static int shop_init(shop_t *s) { (void)s; return 0; }

/* Frees it after this instance's last checkout. */
static void shop_fini(shop_t *s) { (void)s; }

/* shop_create() and shop_destroy(), which the harness calls
 * (lessons/harness/state.h). */
EX_STATE(shop, ncustomers, shop_init, shop_fini)
