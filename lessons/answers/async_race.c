/*
 * Answer key: async-race - the double charge without threads For teachers: the
 * starter lessons/exercises/async_race.c with the intended fix (an awaitable
 * lock per customer held from the check to the act; the lines marked FIX).
 * `concdemo check async-race --file lessons/answers/async_race.c` passes.
 *
 * Task:  checkouts run as async tasks, on one worker thread by default.
 *        checkout() below reads the order's status, awaits the payment
 *        gateway (2 ms), then marks the order paid; the await lets the
 *        order's second checkout (the double click) read "pending" too, so
 *        both charge. The gateway also declines a card now and then: a
 *        declined order stays pending, and its other checkout may retry it.
 *        Make every order charged exactly once, with a lock per customer:
 *        other customers' checkouts must still await the gateway together.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, parallelism, timing, ThreadSanitizer).
 * Check: concdemo check async-race  or: make check-exercise EX=async-race
 *
 * Edit only the part between the "your code" lines. You may need
 * lib/cd_amutex.h (awaitable locks, plain and keyed).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd_amutex.h"
#include "cd_exec.h"
#include "cd_registry.h"
#include "cd_thread.h"
#include "scenario.h"

#define PRICE 100
#define GATEWAY_USEC 2000 /* the payment gateway takes 2 ms */
#define SUBMITS 2         /* each order arrives twice: the double click */
#define DECLINE_EVERY 3   /* order 2, 5, 8...: the first attempt is declined */

enum { PENDING, PAID };

typedef struct order {
    int id;
    int customer;
    int status; /* the shop's record: plain memory */
} order_t;

/* The bank behind the gateway: another system, and its books are right. */
typedef struct bank {
    atomic_long *balance;  /* per customer */
    atomic_int *charges;   /* per order */
    atomic_int *attempts;  /* per order */
} bank_t;

/* The payment gateway: awaits 2 ms, then charges the customer and returns
 * 1 - or declines the card (charges nothing) and returns 0. */
static int gateway_charge(bank_t *b, const order_t *o)
{
    cd_await_latency("payment-gateway", GATEWAY_USEC);
    int attempt = atomic_fetch_add(&b->attempts[o->id], 1);
    if (attempt == 0 && o->id % DECLINE_EVERY == DECLINE_EVERY - 1)
        return 0; /* declined: try again */
    atomic_fetch_sub(&b->balance[o->customer], PRICE);
    atomic_fetch_add(&b->charges[o->id], 1);
    return 1;
}

/* =============================== your code =============================== */

/* The shop. Add the lock(s) your fix needs. */
typedef struct shop {
    bank_t bank;
    int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
    cd_akeyed_t customer_lock; /* FIX: an awaitable lock per customer */
} shop_t;

/* Sets up your lock(s) before the checkouts start: 0, or -1 on failure. */
static int shop_locks_init(shop_t *s)
{
    return cd_akeyed_init(&s->customer_lock, "customer", s->ncustomers);
}

/* Frees them after every checkout has ended. */
static void shop_locks_destroy(shop_t *s)
{
    cd_akeyed_destroy(&s->customer_lock);
}

/* One checkout of order o (an async task; o->customer is its customer). */
static void checkout(shop_t *s, order_t *o)
{
    cd_akeyed_lock(&s->customer_lock, o->customer);   /* FIX: the twin */
    cd_point("check status");                         /* parks until */
    if (o->status == PENDING) {
        if (gateway_charge(&s->bank, o)) {
            cd_point("mark paid");
            o->status = PAID;
        }
    }
    cd_akeyed_unlock(&s->customer_lock, o->customer); /* FIX: this is done */
}

/* ============================ end of your code =========================== */

/* The harness: both checkouts of every order, spawned one after the other
 * and spread round-robin over the workers; then the invariant. Nothing
 * below needs to change. */

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
static void check(const shop_t *s, int norders, cd_verdict_t *v)
{
    int total = 0, twice = 0, unpaid = 0, declined = 0;
    for (int i = 0; i < norders; i++) {
        int c = atomic_load(&s->bank.charges[i]);
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
    shop_t s = { .ncustomers = norders / 2 > 0 ? norders / 2 : 1 };
    order_t *orders = calloc((size_t)norders, sizeof *orders);
    (void)variant;

    s.bank.balance = calloc((size_t)s.ncustomers, sizeof *s.bank.balance);
    s.bank.charges = calloc((size_t)norders, sizeof *s.bank.charges);
    s.bank.attempts = calloc((size_t)norders, sizeof *s.bank.attempts);
    if (!orders || !s.bank.balance || !s.bank.charges || !s.bank.attempts ||
        shop_locks_init(&s) != 0) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the shop");
    } else {
        for (int i = 0; i < norders; i++) {
            /* Orders go round the customers; each can pay for its own. */
            orders[i] = (order_t){ .id = i, .customer = i % s.ncustomers,
                                   .status = PENDING };
            atomic_fetch_add(&s.bank.balance[i % s.ncustomers], PRICE);
        }
        if (serve(&s, orders, norders, p->workers) != 0)
            cd_verdict_observe(v, CD_ERROR, "could not run the checkouts");
        else
            check(&s, norders, v);
        shop_locks_destroy(&s);
    }
    free(orders);
    free(s.bank.balance);
    free(s.bank.charges);
    free(s.bank.attempts);
}

static const cd_variant_t variants[] = {
    { "yours", "your checkout (lessons/exercises/async_race.c)" },
};

const cd_scenario_t cd_exercise = {
    .name = "async-race",
    .title = "the double charge without threads (exercise)",
    .pitfall = "one thread is no protection: an await lets another task in "
               "between check and act",
    .lesson = "lessons/06-async-race.md",
    .variants = variants,
    .nvariants = 1,
    .defaults = { .iterations = 6, .workers = 1 },
    .min = { .iterations = 1, .workers = 1 },
    .max = { .iterations = 200, .workers = 4 },
    .run = run,
};
