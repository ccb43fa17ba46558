/*
 * race.c - the harness of the exercise race (the learner's part:
 * lessons/exercises/race.c, its interface: race.h).
 *
 * The queue of orders the checkout threads share, the payment gateway,
 * and the scenario concdemo check runs. The gateway writes every charge
 * into the run's books (cli/ledger.h); the invariant is judged from
 * them, by this program and again by the checker, which reads the same
 * books through its pipe. Everything here but gateway_charge() and
 * cd_exercise is static: the learner's file cannot reach it, and the
 * build refuses a learner's file that defines a name of its own beyond
 * race.h.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/exercise.h"
#include "harness/race.h"
#include "../../cli/ledger.h"

#define GATEWAY_USEC 2000 /* the payment gateway takes 2 ms */

/* The bank behind the gateway is another system: what it charged is in
 * the books, where the shop cannot write. A call in flight is in them
 * too (its start and end): the service's own count of its parallelism. */
void gateway_charge(const order_t *o)
{
    cd_ledger_put(CD_EFF_CALL, o->customer, 0, 0, 0);
    cd_latency("payment-gateway", GATEWAY_USEC);
    cd_ledger_put(CD_EFF_PAY, o->id, o->customer, 0, 0);
    cd_ledger_put(CD_EFF_CALL_END, o->customer, 0, 0, 0);
}

typedef struct till {
    shop_t *shop;
    order_t *orders;
    int norders;
    atomic_int next; /* next queue item; item k is order k / SUBMITS */
} till_t;

static void cashier(void *ctx, int index)
{
    till_t *t = ctx;
    (void)index;
    for (;;) {
        int k = atomic_fetch_add_explicit(&t->next, 1, memory_order_relaxed);
        if (k >= t->norders * CD_EX_SUBMITS)
            break;
        checkout(t->shop, &t->orders[k / CD_EX_SUBMITS]);
    }
}

/* The invariant (cli/ledger.c): every order charged exactly once, every
 * balance back at zero. */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    till_t t = { 0 };

    t.norders = plan->orders;
    atomic_init(&t.next, 0);
    t.orders = calloc((size_t)t.norders, sizeof *t.orders);
    if (cd_ledger_begin("race", p) != 0 || !t.orders ||
        !(t.shop = shop_create(plan->customers))) {
        cd_ledger_end_error(v, 1, "could not set up the shop");
        free(t.orders);
        return;
    }
    for (int i = 0; i < t.norders; i++)
        /* Orders go round the customers; each can pay for its own. */
        t.orders[i] = (order_t){ .id = i, .customer = i % plan->customers,
                                 .status = PENDING };
    int rc = cd_team_run(p->threads, "checkout", cashier, &t);
    cd_ledger_end_error(v, rc < 0, "could not start %d threads",
                        p->threads);
    shop_destroy(t.shop);
    free(t.orders);
}

EX_SCENARIO("race", run,
            .defaults = { .threads = 4, .iterations = 8 },
            .min = { .threads = 1, .iterations = 1 },
            .max = { .threads = 64, .iterations = 1000 });
