/*
 * race.c - the double charge: check, then act, with a slow call between.
 *
 * The pitfall: a checkout reads the order's status, asks the payment
 * gateway to charge the customer (slow: 2 ms), then marks the order paid.
 * When the same order is checked out twice at once (a double-clicked Pay
 * button, a webhook retried by an impatient sender), both checkouts read
 * "pending" before either writes "paid": the customer is charged twice.
 *
 * Symptom: more charges than orders; balances below zero.
 * Run:     concdemo race                 the broken checkout
 *          concdemo race --fixed=mutex   one lock for the whole shop
 *          concdemo race --fixed=keyed   one lock per customer (recommended)
 *          concdemo race --fixed=cas     an atomic pending -> charging step
 * Lesson:  lessons/01-race.md
 *
 * Every order is submitted twice, back to back, into a queue that the
 * checkout threads share; orders belong to customers round-robin, so that
 * at any moment the threads work for different customers - which is what
 * lets the keyed fix run in parallel where the global mutex cannot.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "../lib/cd_keyed.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "support.h" /* scenario.h, and how a run is driven */

#define PRICE 100
#define GATEWAY_USEC 2000 /* the payment gateway takes 2 ms */
#define SUBMITS 2         /* each order arrives twice: the double click */

enum { PENDING, CHARGING, PAID };

typedef struct order {
    int id;
    int customer;
    int status;          /* the shop's own record: plain memory */
    atomic_int astatus;  /* the same record for the cas fix */
} order_t;

typedef struct shop {
    int variant;
    int norders, ncustomers, nthreads;
    order_t *orders;
    atomic_int next;          /* next queue item; item k is order k/SUBMITS */
    cd_mutex_t lock;          /* fix "mutex": one lock for everything */
    cd_keyed_t customer_lock; /* fix "keyed": one lock per customer */
    /* The bank behind the gateway is another system; its books are right. */
    atomic_long *balance;
    atomic_int *charges;
    /* Live figures for concdemo --view (registry gauges). */
    int g_done, g_charges, g_twice, g_balance;
} shop_t;

/* The payment gateway: slow, and it charges whatever it is asked to. */
static void gateway_charge(shop_t *s, order_t *o)
{
    cd_latency("payment-gateway", GATEWAY_USEC);
    /* Relaxed: the bank must not synchronise the shop's threads for them. */
    atomic_fetch_sub_explicit(&s->balance[o->customer], PRICE,
                              memory_order_relaxed);
    int before = atomic_fetch_add_explicit(&s->charges[o->id], 1,
                                           memory_order_relaxed);
    /* The live figures (relaxed as well): they change nothing here. */
    cd_reg_gauge_add(s->g_charges, 1);
    if (before == 1)
        cd_reg_gauge_add(s->g_twice, 1);
    if (o->customer == 0)
        cd_reg_gauge_add(s->g_balance, -PRICE);
}

/* ====================== the checkouts, side by side ====================== */

/* Broken: the check and the act are two steps, 2 ms apart. */
static void checkout_broken(shop_t *s, order_t *o)
{
    cd_point("check status");
    if (o->status == PENDING) {  /* BUG: both checkouts see PENDING... */
        gateway_charge(s, o);    /* ...and both charge, */
        cd_point("mark paid");
        o->status = PAID;        /* ...before either records it. */
    }
}

/* Fix "mutex": check and act under one lock. Correct, but every checkout
 * of every customer now waits its turn behind one 2 ms gateway call. */
static void checkout_mutex(shop_t *s, order_t *o)
{
    cd_mutex_lock(&s->lock);                  /* FIX: one step, one lock */
    cd_point("check status");
    if (o->status == PENDING) {
        gateway_charge(s, o);
        cd_point("mark paid");
        o->status = PAID;
    }
    cd_mutex_unlock(&s->lock);                /* FIX */
}

/* Fix "keyed": the same, under the customer's own lock. Checkouts for
 * other customers go on in parallel. */
static void checkout_keyed(shop_t *s, order_t *o)
{
    cd_keyed_lock(&s->customer_lock, o->customer);   /* FIX: per customer */
    cd_point("check status");
    if (o->status == PENDING) {
        gateway_charge(s, o);
        cd_point("mark paid");
        o->status = PAID;
    }
    cd_keyed_unlock(&s->customer_lock, o->customer); /* FIX */
}

/* Fix "cas": claim the order with one atomic step pending -> charging;
 * only the checkout that made the step charges. (A real shop would move a
 * declined payment back to pending.) */
static void checkout_cas(shop_t *s, order_t *o)
{
    int expected = PENDING;
    cd_point("check status");
    if (atomic_compare_exchange_strong(&o->astatus, &expected, CHARGING)) { /* FIX */
        gateway_charge(s, o);
        cd_point("mark paid");
        atomic_store(&o->astatus, PAID);                                     /* FIX */
    }
}

static void (*const checkout[])(shop_t *, order_t *) = {
    checkout_broken, checkout_mutex, checkout_keyed, checkout_cas,
};

/* ================================ harness ================================ */

static void cashier(void *ctx, int index)
{
    shop_t *s = ctx;
    (void)index;
    /* Relaxed: handing out work must not order the checkouts either. */
    for (;;) {
        int k = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed);
        if (k >= s->norders * SUBMITS)
            break;
        checkout[s->variant](s, &s->orders[k / SUBMITS]);
        cd_reg_gauge_add(s->g_done, 1);
    }
}

static int setup(void *state, const cd_params_t *p, int variant)
{
    shop_t *s = state;
    s->variant = variant;
    s->norders = p->iterations;
    s->nthreads = p->threads;
    s->ncustomers = p->threads / SUBMITS > 0 ? p->threads / SUBMITS : 1;
    atomic_init(&s->next, 0);
    s->orders = calloc((size_t)s->norders, sizeof *s->orders);
    s->balance = calloc((size_t)s->ncustomers, sizeof *s->balance);
    s->charges = calloc((size_t)s->norders, sizeof *s->charges);
    if (!s->orders || !s->balance || !s->charges)
        return -1;
    for (int i = 0; i < s->norders; i++) {
        s->orders[i] = (order_t){ .id = i, .customer = i % s->ncustomers,
                                  .status = PENDING };
        atomic_init(&s->orders[i].astatus, PENDING);
        atomic_init(&s->charges[i], 0);
        /* Each customer can afford exactly their own orders. */
        atomic_fetch_add(&s->balance[i % s->ncustomers], PRICE);
    }
    cd_demo_figures("orders", s->norders, "checkouts done", &s->g_done,
                    "charges", &s->g_charges, "charged twice", &s->g_twice,
                    "customer-1 balance", &s->g_balance, NULL);
    cd_reg_gauge_set(s->g_balance, atomic_load(&s->balance[0]));
    if (cd_mutex_init(&s->lock, "shop-lock") != 0)
        return -1;
    if (cd_keyed_init(&s->customer_lock, "customer", s->ncustomers) != 0)
        return -1;
    return 0;
}

static void teardown(void *state)
{
    shop_t *s = state;
    cd_keyed_destroy(&s->customer_lock);
    cd_mutex_destroy(&s->lock);
    free(s->orders);
    free(s->balance);
    free(s->charges);
}

/* Every checkout thread takes queue items until none are left. */
static int serve(void *state, cd_verdict_t *v)
{
    shop_t *s = state;
    if (cd_team_run(s->nthreads, "checkout", cashier, s) >= 0)
        return 0;
    cd_verdict_observe(v, CD_ERROR, "could not start %d threads",
                       s->nthreads);
    return -1;
}

/* Invariant: every order charged exactly once, every balance at zero. */
static void check(void *state, int64_t ns, cd_verdict_t *v)
{
    shop_t *s = state;
    double seconds = (double)ns / 1e9;
    cd_demo_shop_t b = cd_demo_shop_books(s->charges, s->norders, s->balance,
                                          s->ncustomers, PRICE, v);
    int total = b.total, twice = b.twice, unpaid = b.unpaid;

    cd_verdict_num(v, "lowest_balance", b.low);
    cd_verdict_num(v, "orders_per_sec",
                   seconds > 0 ? (int64_t)(s->norders / seconds) : 0);
    if (twice || unpaid)
        cd_verdict_observe(v, CD_VIOLATED,
                           "%d charges for %d %s (%d charged twice or "
                           "more, %d unpaid); customer-%d balance %ld -> %ld",
                           total, s->norders,
                           cd_plural(s->norders, "order", "orders"), twice,
                           unpaid, b.worst + 1, b.start, b.low);
    else
        cd_verdict_observe(v, CD_HELD,
                           "%d charges for %d %s, all balances 0; %d "
                           "%s, %.0f orders/s",
                           total, s->norders,
                           cd_plural(s->norders, "order", "orders"),
                           s->ncustomers,
                           cd_plural(s->ncustomers, "customer", "customers"),
                           s->norders / seconds);
}

void cd_race_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    shop_t s = { 0 };
    cd_demo_run(&(cd_demo_steps_t){ setup, serve, check, teardown,
                                    "the shop" }, &s, p, variant, v);
}
