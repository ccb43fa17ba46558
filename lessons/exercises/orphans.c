/*
 * Exercise: orphans - the card charged after the checkout failed
 * (worksheet: lessons/21-orphans.md).
 *
 * Task:  checkout() below fans out three subtasks (reserve the stock,
 *        charge the card, send the email) and waits for them at most
 *        50 ms, then tells the customer the checkout failed. But the
 *        subtasks were spawned and forgotten: the card is charged at
 *        80 ms and the email sent at 90 ms, after the failure was
 *        reported. Make the timeout stop the work, not only the waiting:
 *        nothing may happen after the failure is reported, and no
 *        subtask may outlive its checkout.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, timing, ThreadSanitizer).
 * Check: concdemo check orphans       or: make check-exercise EX=orphans
 *
 * This file is yours, all of it: lessons/harness/orphans.h says what it
 * must define and what it may call; the harness (the orders, the
 * services, the invariant) is built by the project. You may need
 * lib/cd_scope.h (task scopes).
 */
#include <stdint.h>

#include "cd_exec.h"
#include "cd_registry.h"
#include "cd_scope.h"
#include "harness/orphans.h"

#define POLL_US 5000 /* how often the checkout looks */

/* One checkout (an async task). */
void checkout(order_t *o)
{
    cd_exec_spawn(order_exec(o), "reserve", reserve_stock, o);
    cd_exec_spawn(order_exec(o), "charge", charge_card, o);
    cd_exec_spawn(order_exec(o), "email", send_email, o);
    int64_t t0 = cd_reg_elapsed_ns();   /* the run's clock, in ns */
    while (subtasks_done(o) < 3) {
        if (cd_reg_elapsed_ns() - t0 >= CHECKOUT_TIMEOUT_US * 1000LL) {
            report_failure(o);          /* the subtasks run on */
            return;
        }
        cd_await_latency("wait for subtasks", POLL_US);
    }
}
