/*
 * async_race.c - the harness of the exercise async-race (the learner's
 * part: lessons/exercises/async_race.c, its interface: async_race.h).
 *
 * Both checkouts of every order, spawned one after the other and spread
 * round-robin over the workers; the gateway and its books; then the
 * invariant, judged from them. Everything here but gateway_charge() and
 * cd_exercise is static: the learner's file cannot reach it, and the
 * build refuses a learner's file that defines a name beyond async_race.h.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd_exec.h"
#include "cd_registry.h"
#include "harness/exercise.h"
#include "harness/async_race.h"
#include "harness/tasks.h"
#include "../../cli/ledger.h"

#define GATEWAY_USEC 2000 /* the payment gateway takes 2 ms */

/* The gateway's attempts per order: it declines the first attempt of
 * every third order. One run at a time in the exercise's program. */
static atomic_int *attempts;

/* The bank behind the gateway is another system: every attempt is in
 * the books (cli/ledger.h), which apply the same rule of declines to say
 * what was charged; the call's start and end are in them too. */
int gateway_charge(const order_t *o)
{
    cd_ledger_put(CD_EFF_CALL, o->customer, 0, 0, 0);
    cd_await_latency("payment-gateway", GATEWAY_USEC);
    int attempt = atomic_fetch_add(&attempts[o->id], 1);
    cd_ledger_put(CD_EFF_PAY, o->id, o->customer, 0, 0);
    cd_ledger_put(CD_EFF_CALL_END, o->customer, 0, 0, 0);
    return !(attempt == 0 &&
             o->id % CD_EX_DECLINE_EVERY == CD_EX_DECLINE_EVERY - 1);
}

/* Both checkouts of every order, spawned one after the other and spread
 * round-robin over the workers; then the invariant. */

/* The run's shop and orders: what a checkout is made from. A checkout's
 * job is the order it submits (an order_t *). */
typedef struct sale {
    shop_t *shop;
    order_t *orders;
} sale_t;

static void checkout_task(void *ctx, void *order)
{
    checkout(((sale_t *)ctx)->shop, *(order_t **)order);
}

/* Job k: a checkout of order k / CD_EX_SUBMITS, both of an order's one
 * after the other. */
static void make_checkout(void *ctx, int k, void *order, char *name,
                          size_t size)
{
    sale_t *sale = ctx;
    snprintf(name, size, "checkout-%d", k + 1);
    *(order_t **)order = &sale->orders[k / CD_EX_SUBMITS];
}

/* The invariant (cli/ledger.c): every order charged exactly once (a
 * declined card retried by the other checkout), every balance at zero. */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    shop_t *s = NULL;

    order_t *orders = calloc((size_t)plan->orders, sizeof *orders);
    attempts = calloc((size_t)plan->orders, sizeof *attempts);
    if (cd_ledger_begin("async-race", p) != 0 || !orders || !attempts ||
        !(s = shop_create(plan->customers))) {
        cd_ledger_end_error(v, 1, "could not set up the shop");
    } else {
        for (int i = 0; i < plan->orders; i++)
            /* Orders go round the customers; each can pay for its own. */
            orders[i] = (order_t){ .id = i, .customer = i % plan->customers,
                                   .status = PENDING };
        int rc = ex_run_tasks(plan->orders * CD_EX_SUBMITS, sizeof(order_t *),
                              p->workers, checkout_task, make_checkout,
                              &(sale_t){ s, orders });
        cd_ledger_end_error(v, rc != 0, "could not run the checkouts");
        shop_destroy(s);
    }
    free(orders);
    free(attempts);
    attempts = NULL;
}

EX_SCENARIO("async-race", run,
            .defaults = { .iterations = 6, .workers = 1 },
            .min = { .iterations = 1, .workers = 1 },
            .max = { .iterations = 200, .workers = 4 });
