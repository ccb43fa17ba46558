/*
 * orphans.h - the exercise orphans: what the learner's file defines, and
 * what the harness (lessons/harness/orphans.c) gives it.
 *
 * The harness owns the executor, the orders, the three services a
 * checkout fans out to (each writes down what it did), the invariant and
 * the verdict, compiled by the project: nothing in the learner's file
 * reaches it. The learner's file defines exactly the function under
 * "yours". Any other global it defines fails the build.
 *
 * exercise-defines: checkout
 */
#ifndef EX_ORPHANS_H
#define EX_ORPHANS_H

#include "cd_exec.h"

#define CHECKOUT_TIMEOUT_US 50000 /* a checkout answers within 50 ms */

/* One customer's order. The harness made it and reads it at the end. */
typedef struct order order_t;

/* ---- the harness's: call them, do not define them ---- */

/* The three subtasks of a checkout, each a task function (cd_task_fn)
 * whose argument is the order_t *: reserve the stock (awaits 10 ms),
 * charge the card (80 ms), send the confirmation email (90 ms). Each
 * acts once its await is over - unless it was cancelled there. */
void reserve_stock(void *order);
void charge_card(void *order);
void send_email(void *order);

/* The executor the checkouts run on (for cd_exec_spawn). */
cd_exec_t *order_exec(order_t *o);

/* How many of the order's three subtasks have acted so far. */
int subtasks_done(order_t *o);

/* Tells the customer "checkout failed, you were not charged". */
void report_failure(order_t *o);

/* ---- yours: define this in lessons/exercises/orphans.c ---- */

/* One checkout, an async task: runs the three subtasks at once and
 * waits for them at most CHECKOUT_TIMEOUT_US; if they are not all done
 * by then, reports the failure. When it returns, nothing of the order
 * may run or happen any more. */
void checkout(order_t *o);

#endif /* EX_ORPHANS_H */
