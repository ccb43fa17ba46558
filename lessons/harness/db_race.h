/*
 * db_race.h - the exercise db-race: what the learner's file defines, and
 * what the harness (lessons/harness/db_race.c) gives it.
 *
 * The checkout runs in every instance of the shop's service: separate
 * processes, each with its own connection to one SQLite database (WAL
 * mode; a statement waits up to 10 s for a lock). Its table:
 *
 *   orders (id INTEGER PRIMARY KEY, customer INTEGER NOT NULL,
 *           status TEXT NOT NULL)          'pending', then what you write;
 *                                          'paid' when done
 *   checkout_keys (order_id INTEGER PRIMARY KEY)
 *                                          empty: yours to use, or not
 *
 * The harness owns the database, the instances, the payment gateway and
 * its bank; the checker (concdemo check, not this program) creates the
 * database, starts the instances together and counts, in the databases
 * themselves, the charges of every order and whether it is paid. The
 * learner's file defines exactly the functions under "yours"; any other
 * global it defines fails the build.
 *
 * exercise-defines: shop_create shop_destroy checkout
 */
#ifndef EX_DB_RACE_H
#define EX_DB_RACE_H

#include "harness/state.h"

#if defined(__has_include)
#if __has_include(<sqlite3.h>)
#include <sqlite3.h> /* SQLite's own C API: yours to use on db */
#define EX_HAVE_SQLITE_H 1
#endif
#endif
#ifndef EX_HAVE_SQLITE_H
typedef struct sqlite3 sqlite3; /* (no libsqlite3-dev: make deps) */
#endif

/* ---- the harness's: call them, do not define them ---- */

/* The payment gateway: slow (2 ms), and it charges order `order` every
 * time it is asked to. Each call is one charge row in the bank's own
 * database (not the shop's), which is what the checker counts. */
void gateway_charge(int order);

/* Runs one SQL statement on db, its '?' (if it has one) bound to order.
 * Returns the rows it changed (an INSERT, UPDATE or DELETE; 0 for any
 * other statement), or -1 when the database refused it:
 * sqlite3_errcode(db) says why (SQLITE_BUSY, SQLITE_CONSTRAINT, ...),
 * sqlite3_errmsg(db) in words. BEGIN, COMMIT and ROLLBACK are statements
 * too. */
int sql_exec(sqlite3 *db, const char *sql, int order);

/* Runs a query on db, its '?' (if any) bound to order, and returns the
 * first column of its first row as a number ("SELECT count(*) ..."), or
 * -1 when it has no row or the database refused it (as sql_exec). */
long long sql_number(sqlite3 *db, const char *sql, int order);

/* ---- yours: define these in lessons/exercises/db_race.c ---- */

typedef struct shop shop_t; /* one per instance (process): yours */

/* shop_create() makes an instance's shop before its checkouts start
 * (customers are numbered 0 .. ncustomers-1): NULL on failure.
 * shop_destroy() frees it after its last checkout. EX_STATE, in your
 * file, defines both (lessons/harness/state.h). */
EX_STATE_DECLARE(shop, ncustomers);

/* One checkout of order `order` (of customer `customer`) on this
 * instance's connection db. Each order is submitted twice, to two
 * instances at the same moment (a double click behind a load balancer).
 * Returns 0, or -1 when the checkout failed (the customer sees an error
 * page). Done means, in the databases: every order charged once, and
 * 'paid'. */
int checkout(shop_t *s, sqlite3 *db, int order, int customer);

#endif /* EX_DB_RACE_H */
