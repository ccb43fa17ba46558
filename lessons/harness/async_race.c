/*
 * async_race.c - the harness of the exercise async-race (the learner's
 * part: lessons/exercises/async_race.c, its interface: async_race.h).
 *
 * Both checkouts of every order, spawned one after the other and spread
 * round-robin over the workers; the bank behind the gateway; then the
 * invariant. Everything here but gateway_charge() and cd_exercise is
 * static: the learner's file cannot reach it, and the build refuses a
 * learner's file that defines a name beyond async_race.h.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd_exec.h"
#include "cd_registry.h"
#include "harness/exercise.h"
#include "harness/async_race.h"

#define PRICE 100
#define GATEWAY_USEC 2000 /* the payment gateway takes 2 ms */
#define SUBMITS 2         /* each order arrives twice: the double click */
#define DECLINE_EVERY 3   /* order 2, 5, 8...: the first attempt is declined */

/* The bank behind the gateway: another system, and its books are right. */
typedef struct bank {
    atomic_long *balance;  /* per customer */
    atomic_int *charges;   /* per order */
    atomic_int *attempts;  /* per order */
} bank_t;

/* The run's bank: one run at a time in the exercise's program. */
static bank_t bank;

int gateway_charge(const order_t *o)
{
    cd_await_latency("payment-gateway", GATEWAY_USEC);
    int attempt = atomic_fetch_add(&bank.attempts[o->id], 1);
    if (attempt == 0 && o->id % DECLINE_EVERY == DECLINE_EVERY - 1)
        return 0; /* declined: try again */
    atomic_fetch_sub(&bank.balance[o->customer], PRICE);
    atomic_fetch_add(&bank.charges[o->id], 1);
    return 1;
}

/* Both checkouts of every order, spawned one after the other and spread
 * round-robin over the workers; then the invariant. */

typedef struct job {
    shop_t *shop;
    order_t *order;
} job_t;

static void checkout_task(void *arg)
{
    job_t *j = arg;
    checkout(j->shop, j->order);
}

/* Runs both checkouts of every order: 0, or -1 if they could not start. */
static int serve(shop_t *s, order_t *orders, int norders, int nworkers)
{
    int n = norders * SUBMITS, rc = -1;
    cd_exec_t *e = NULL;
    job_t *jobs = calloc((size_t)n, sizeof *jobs);

    if (!jobs || cd_exec_create(&e, nworkers) != 0)
        goto out;
    for (int k = 0; k < n; k++) {
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "checkout-%d", k + 1);
        jobs[k] = (job_t){ s, &orders[k / SUBMITS] };
        if (cd_exec_spawn(e, name, checkout_task, &jobs[k]) < 0)
            goto out;
    }
    rc = cd_exec_run(e) < 0 ? -1 : 0;
out:
    cd_exec_destroy(e);
    free(jobs);
    return rc;
}

/* Invariant: every order charged exactly once, every balance at zero. */
static void check(int norders, cd_verdict_t *v)
{
    int total = 0, twice = 0, unpaid = 0, declined = 0;
    for (int i = 0; i < norders; i++) {
        int c = atomic_load(&bank.charges[i]);
        total += c;
        twice += c > 1;
        unpaid += c == 0;
        declined += i % DECLINE_EVERY == DECLINE_EVERY - 1;
    }
    cd_verdict_expect(v, "each of %d orders charged once (a declined card "
                      "retried by the other checkout), every balance ending "
                      "at 0", norders);
    cd_verdict_num(v, "charges", total);
    cd_verdict_num(v, "double_charged", twice);
    cd_verdict_num(v, "unpaid", unpaid);
    if (twice || unpaid)
        cd_verdict_observe(v, CD_VIOLATED, "%d charges for %d orders: %d "
                           "charged twice or more, %d never charged (%d of "
                           "the orders had their first attempt declined)",
                           total, norders, twice, unpaid, declined);
    else
        cd_verdict_observe(v, CD_HELD, "%d charges for %d orders, all "
                           "balances 0; %d declined card%s retried", total,
                           norders, declined, declined == 1 ? "" : "s");
}

static void run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    int norders = p->iterations;
    int ncustomers = norders / 2 > 0 ? norders / 2 : 1;
    order_t *orders = calloc((size_t)norders, sizeof *orders);
    shop_t *s = NULL;
    (void)variant;

    bank.balance = calloc((size_t)ncustomers, sizeof *bank.balance);
    bank.charges = calloc((size_t)norders, sizeof *bank.charges);
    bank.attempts = calloc((size_t)norders, sizeof *bank.attempts);
    if (!orders || !bank.balance || !bank.charges || !bank.attempts ||
        !(s = shop_create(ncustomers))) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the shop");
    } else {
        for (int i = 0; i < norders; i++) {
            /* Orders go round the customers; each can pay for its own. */
            orders[i] = (order_t){ .id = i, .customer = i % ncustomers,
                                   .status = PENDING };
            atomic_fetch_add(&bank.balance[i % ncustomers], PRICE);
        }
        if (serve(s, orders, norders, p->workers) != 0)
            cd_verdict_observe(v, CD_ERROR, "could not run the checkouts");
        else
            check(norders, v);
        shop_destroy(s);
    }
    free(orders);
    free(bank.balance);
    free(bank.charges);
    free(bank.attempts);
    bank = (bank_t){ 0 };
}

EX_SCENARIO("async-race", run,
            .defaults = { .iterations = 6, .workers = 1 },
            .min = { .iterations = 1, .workers = 1 },
            .max = { .iterations = 200, .workers = 4 });
