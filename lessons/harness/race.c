/*
 * race.c - the harness of the exercise race (the learner's part:
 * lessons/exercises/race.c, its interface: race.h).
 *
 * The queue of orders the checkout threads share, the bank behind the
 * payment gateway, the invariant and the scenario concdemo check runs.
 * Everything here but gateway_charge() and cd_exercise is static: the
 * learner's file cannot reach it, and the build refuses a learner's file
 * that defines a name of its own beyond race.h.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/exercise.h"
#include "harness/race.h"

#define PRICE 100
#define GATEWAY_USEC 2000 /* the payment gateway takes 2 ms */
#define SUBMITS 2         /* each order arrives twice: the double click */

/* The bank behind the gateway: another system, and its books are right. */
typedef struct bank {
    atomic_long *balance; /* per customer */
    atomic_int *charges;  /* per order */
} bank_t;

/* The run's bank: one run at a time in the exercise's program. */
static bank_t bank;

void gateway_charge(const order_t *o)
{
    cd_latency("payment-gateway", GATEWAY_USEC);
    /* Relaxed: the bank must not order the shop's threads for them. */
    atomic_fetch_sub_explicit(&bank.balance[o->customer], PRICE,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&bank.charges[o->id], 1, memory_order_relaxed);
}

typedef struct till {
    shop_t *shop;
    int ncustomers;
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
        if (k >= t->norders * SUBMITS)
            break;
        checkout(t->shop, &t->orders[k / SUBMITS]);
    }
}

/* Invariant: every order charged exactly once, every balance at zero. */
static void check(const till_t *t, cd_verdict_t *v)
{
    int total = 0, twice = 0, unpaid = 0;
    long lowest = 0;
    for (int i = 0; i < t->norders; i++) {
        int c = atomic_load(&bank.charges[i]);
        total += c;
        twice += c > 1;
        unpaid += c == 0;
    }
    for (int c = 0; c < t->ncustomers; c++)
        if (atomic_load(&bank.balance[c]) < lowest)
            lowest = atomic_load(&bank.balance[c]);

    cd_verdict_expect(v, "each of %d orders charged once, every balance "
                      "ending at 0", t->norders);
    cd_verdict_num(v, "charges", total);
    cd_verdict_num(v, "double_charged", twice);
    cd_verdict_num(v, "unpaid", unpaid);
    if (twice || unpaid || lowest < 0)
        cd_verdict_observe(v, CD_VIOLATED, "%d charges for %d orders (%d "
                           "charged twice or more, %d unpaid); lowest "
                           "balance %ld", total, t->norders, twice, unpaid,
                           lowest);
    else
        cd_verdict_observe(v, CD_HELD, "%d charges for %d orders, all "
                           "balances 0", total, t->norders);
}

static void run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    till_t t = { .norders = p->iterations };
    (void)variant;

    t.ncustomers = p->threads / SUBMITS > 0 ? p->threads / SUBMITS : 1;
    atomic_init(&t.next, 0);
    t.orders = calloc((size_t)t.norders, sizeof *t.orders);
    bank.balance = calloc((size_t)t.ncustomers, sizeof *bank.balance);
    bank.charges = calloc((size_t)t.norders, sizeof *bank.charges);
    if (!t.orders || !bank.balance || !bank.charges ||
        !(t.shop = shop_create(t.ncustomers))) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the shop");
    } else {
        for (int i = 0; i < t.norders; i++) {
            /* Orders go round the customers; each can pay for its own. */
            t.orders[i] = (order_t){ .id = i, .customer = i % t.ncustomers,
                                     .status = PENDING };
            atomic_fetch_add(&bank.balance[i % t.ncustomers], PRICE);
        }
        if (cd_team_run(p->threads, "checkout", cashier, &t) < 0)
            cd_verdict_observe(v, CD_ERROR, "could not start %d threads",
                               p->threads);
        else
            check(&t, v);
        shop_destroy(t.shop);
    }
    free(t.orders);
    free(bank.balance);
    free(bank.charges);
    bank = (bank_t){ 0 };
}

EX_SCENARIO("race", run,
            .defaults = { .threads = 4, .iterations = 8 },
            .min = { .threads = 1, .iterations = 1 },
            .max = { .threads = 64, .iterations = 1000 });
