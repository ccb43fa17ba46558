/*
 * async_race.c - the double charge on one thread: every await is a switch.
 *
 * The pitfall: the checkout of race.c, written as async tasks on a single
 * worker thread. A checkout reads the order's status, awaits the payment
 * gateway (2 ms), then marks the order paid. "One thread, so no race" - but
 * the await parks the checkout and the worker runs the other checkout of
 * the same order (the double click), which reads the same "pending". Both
 * charge. There is no data race at all: every access happens on one thread,
 * one after another, so ThreadSanitizer rightly reports nothing. The bug is
 * the interleaving at the await, and it happens on every run - even with
 * --latency-scale 0, because the switch is the await, not the time.
 *
 * Symptom: twice as many charges as orders; balances below zero; a clean
 *          ThreadSanitizer run.
 * Run:     concdemo async-race                 the broken checkout
 *          concdemo async-race --fixed=keyed   an awaitable lock per
 *              customer: one customer's checkouts in turn, different
 *              customers' overlap at the gateway (recommended)
 *          concdemo async-race --fixed=mutex   one awaitable lock for the
 *              shop: correct, one gateway call at a time
 * Lesson:  lessons/06-async-race.md
 *
 * Order k belongs to customer k % C (C = orders / 2, at least 1) and is
 * checked out twice, by tasks checkout-(2k+1) and checkout-(2k+2), spawned
 * in that order and spread round-robin over the workers (one by default).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/cd_amutex.h"
#include "../lib/cd_exec.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "support.h" /* scenario.h, and how a run is driven */

#define PRICE 100
#define GATEWAY_USEC 2000 /* the payment gateway takes 2 ms */
#define SUBMITS 2         /* each order arrives twice: the double click */

enum { PENDING, PAID };

typedef struct order {
    int id;
    int customer;
    int status;            /* the shop's own record: plain memory */
} order_t;

typedef struct shop {
    int variant;
    int norders, ncustomers, nworkers;
    order_t *orders;
    cd_amutex_t lock;           /* fix "mutex": one lock for the shop */
    cd_akeyed_t customer_lock;  /* fix "keyed": one lock per customer */
    /* The bank behind the gateway is another system; its books are right. */
    atomic_long *balance;
    atomic_int *charges;
    /* Gateway calls in flight: in all, and per customer; the most at once. */
    atomic_int in_flight, *cust_in_flight, max_in_flight, max_same_customer;
    int g_done, g_charges, g_twice, g_calls, g_balance; /* live figures */
} shop_t;

static void raise_max(atomic_int *max, int value)
{
    int m = atomic_load(max);
    while (value > m && !atomic_compare_exchange_weak(max, &m, value))
        ;
}

/* The payment gateway: slow, and it charges whatever it is asked to. */
static void gateway_charge(shop_t *s, order_t *o)
{
    raise_max(&s->max_in_flight, atomic_fetch_add(&s->in_flight, 1) + 1);
    raise_max(&s->max_same_customer,
              atomic_fetch_add(&s->cust_in_flight[o->customer], 1) + 1);
    cd_reg_gauge_add(s->g_calls, 1); /* live figure; see show_books() */
    cd_await_latency("payment-gateway", GATEWAY_USEC);
    atomic_fetch_sub(&s->cust_in_flight[o->customer], 1);
    atomic_fetch_sub(&s->in_flight, 1);
    atomic_fetch_sub_explicit(&s->balance[o->customer], PRICE,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&s->charges[o->id], 1, memory_order_relaxed);
}

/* ====================== the checkouts, side by side ====================== */

/* Broken: check, await, act - and the await lets the twin checkout in. */
static void checkout_broken(shop_t *s, order_t *o)
{
    cd_point("check status");
    if (o->status == PENDING) {  /* BUG: both checkouts see PENDING... */
        gateway_charge(s, o);    /* ...because this await runs the other, */
        o->status = PAID;        /* ...before either records it. */
    }
}

/* Fix "keyed": check and act under the customer's awaitable lock. The twin
 * parks until the first is done; other customers' checkouts go on. */
static void checkout_keyed(shop_t *s, order_t *o)
{
    cd_akeyed_lock(&s->customer_lock, o->customer);   /* FIX: per customer */
    cd_point("check status");
    if (o->status == PENDING) {
        gateway_charge(s, o);
        o->status = PAID;
    }
    cd_akeyed_unlock(&s->customer_lock, o->customer); /* FIX */
}

/* Fix "mutex": one awaitable lock for the whole shop. Correct, but every
 * checkout waits for every other customer's gateway call. */
static void checkout_mutex(shop_t *s, order_t *o)
{
    cd_amutex_lock(&s->lock);                 /* FIX: one lock for all */
    cd_point("check status");
    if (o->status == PENDING) {
        gateway_charge(s, o);
        o->status = PAID;
    }
    cd_amutex_unlock(&s->lock);               /* FIX */
}

static void (*const checkout[])(shop_t *, order_t *) = {
    checkout_broken, checkout_keyed, checkout_mutex,
};

/* ================================ harness ================================ */

/* The live figures for --view (registry gauges), read from the shop's own
 * books with relaxed loads: watching orders nothing between the checkouts.
 * gateway_charge() counts a call in as it starts; the calls still out are
 * set again here from in_flight, after a checkout (nothing awaits between
 * the end of its call and there) and after the run. With more than one
 * worker a figure may lag a moment; the last call, after the run, is exact. */
static void show_books(void *shop)
{
    shop_t *s = shop;
    cd_demo_show_tally(s->charges, s->norders, s->g_charges, s->g_twice);
    cd_reg_gauge_set(s->g_calls, atomic_load_explicit(&s->in_flight,
                                                      memory_order_relaxed));
    cd_reg_gauge_set(s->g_balance, atomic_load_explicit(&s->balance[0],
                                                        memory_order_relaxed));
}

/* Checkout k submits order k / SUBMITS: each order SUBMITS times. */
static void checkout_task(void *shop, int k)
{
    shop_t *s = shop;
    checkout[s->variant](s, &s->orders[k / SUBMITS]);
    cd_reg_gauge_add(s->g_done, 1);
    show_books(s);
}

/* Names the live figures; the customer-1 balance starts at what they can
 * afford. Call once the books are set up. */
static void register_figures(shop_t *s)
{
    cd_demo_figures("orders", s->norders, "checkouts done", &s->g_done,
                    "charges", &s->g_charges, "charged twice", &s->g_twice,
                    "at the gateway", &s->g_calls, "customer-1 balance",
                    &s->g_balance, NULL);
    show_books(s);
}

static int setup(void *state, const cd_params_t *p, int variant)
{
    shop_t *s = state;
    s->variant = variant;
    s->norders = p->iterations;
    s->ncustomers = p->iterations / 2 > 0 ? p->iterations / 2 : 1;
    s->nworkers = p->workers;
    atomic_init(&s->in_flight, 0);
    atomic_init(&s->max_in_flight, 0);
    atomic_init(&s->max_same_customer, 0);
    s->orders = calloc((size_t)s->norders, sizeof *s->orders);
    s->balance = calloc((size_t)s->ncustomers, sizeof *s->balance);
    s->charges = calloc((size_t)s->norders, sizeof *s->charges);
    s->cust_in_flight = calloc((size_t)s->ncustomers,
                               sizeof *s->cust_in_flight);
    if (!s->orders || !s->balance || !s->charges || !s->cust_in_flight)
        return -1;
    for (int c = 0; c < s->ncustomers; c++) {
        atomic_init(&s->balance[c], 0);
        atomic_init(&s->cust_in_flight[c], 0);
    }
    for (int i = 0; i < s->norders; i++) {
        s->orders[i] = (order_t){ .id = i, .customer = i % s->ncustomers,
                                  .status = PENDING };
        atomic_init(&s->charges[i], 0);
        /* Each customer can afford exactly their own orders. */
        atomic_fetch_add(&s->balance[i % s->ncustomers], PRICE);
    }
    register_figures(s);
    if (cd_amutex_init(&s->lock, "shop-lock") != 0)
        return -1;
    if (cd_akeyed_init(&s->customer_lock, "customer", s->ncustomers) != 0)
        return -1;
    return 0;
}

static void teardown(void *state)
{
    shop_t *s = state;
    if (s->customer_lock.locks)
        cd_akeyed_destroy(&s->customer_lock);
    if (s->lock.id > 0)
        cd_amutex_destroy(&s->lock);
    free(s->orders);
    free(s->balance);
    free(s->charges);
    free(s->cust_in_flight);
}

/* Spawns both checkouts of every order and runs them. Returns 0 or -1. */
static int serve(void *state, cd_verdict_t *v)
{
    shop_t *s = state;
    return cd_demo_run_batch(&(cd_demo_batch_t){
        .n = s->norders * SUBMITS, .nworkers = s->nworkers,
        .what = "checkout", .prefix = "checkout", .each = checkout_task,
        .after = show_books, .ctx = s }, v);
}

/* Invariant: every order charged exactly once, every balance at zero. */
static void check(void *state, int64_t ns, cd_verdict_t *v)
{
    shop_t *s = state;
    double ms = (double)ns / 1e6;
    cd_demo_shop_t b = cd_demo_shop_books(s->charges, s->norders, s->balance,
                                          s->ncustomers, PRICE, v);
    int total = b.total, twice = b.twice, unpaid = b.unpaid;
    int max = atomic_load(&s->max_in_flight);
    /* What the gateway calls would take one after another. */
    double serial_ms = total * GATEWAY_USEC / 1000.0 *
                       cd_reg_latency_scale() / 1000.0;

    cd_verdict_num(v, "workers", s->nworkers);
    cd_verdict_num(v, "lowest_balance", b.low);
    cd_verdict_num(v, "max_gateway_at_once", max);
    cd_verdict_num(v, "max_same_customer_at_once",
                   atomic_load(&s->max_same_customer));
    cd_verdict_num(v, "elapsed_us", (int64_t)(ms * 1000));
    cd_verdict_num(v, "serial_us", (int64_t)(serial_ms * 1000));
    if (twice || unpaid)
        cd_verdict_observe(v, CD_VIOLATED,
                           "%d charges for %d %s (%d charged twice or "
                           "more, %d unpaid); customer-%d balance %ld -> %ld"
                           "%s", total, s->norders,
                           cd_plural(s->norders, "order", "orders"), twice,
                           unpaid, b.worst + 1, b.start, b.low,
                           !twice ? ""
                           : s->nworkers == 1
                               ? "; no data race: one thread, interleaved at "
                                 "the await (ThreadSanitizer rightly reports "
                                 "nothing)"
                               : "; the checkouts interleave at the await, on "
                                 "several threads now");
    else if (max > 1)
        cd_verdict_observe(v, CD_HELD,
                           "%d charges for %d %s, all balances 0; "
                           "different customers overlapped, each customer's "
                           "checkouts in turn: up to %d gateway calls at "
                           "once, %.1f ms where one at a time takes %.1f ms",
                           total, s->norders,
                           cd_plural(s->norders, "order", "orders"), max, ms,
                           serial_ms);
    else
        cd_verdict_observe(v, CD_HELD,
                           "%d charges for %d %s, all balances 0; one "
                           "gateway call at a time: %.1f ms for %d %s of "
                           "%.1f ms", total, s->norders,
                           cd_plural(s->norders, "order", "orders"), ms, total,
                           cd_plural(total, "call", "calls"),
                           GATEWAY_USEC / 1000.0 * cd_reg_latency_scale() /
                               1000.0);
}

void cd_async_race_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    shop_t s = { 0 };
    cd_demo_run(&(cd_demo_steps_t){ setup, serve, check, teardown,
                                    "the shop" }, &s, p, variant, v);
}
