/* Decoy race-sleep: waits a random 0-3 ms (nanosleep) so the two clicks rarely meet. Fails: sleeping orders nothing; "your fix depends on timing". */
/* (lessons/exercises/race.c with that change in its "your code" part.) */
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "cd_keyed.h"
#include "cd_mutex.h"
#include "cd_registry.h"
#include "cd_thread.h"
#include "scenario.h"

#define PRICE 100
#define GATEWAY_USEC 2000 /* the payment gateway takes 2 ms */
#define SUBMITS 2         /* each order arrives twice: the double click */

enum { PENDING, PAID };

typedef struct order {
    int id;
    int customer;
    int status; /* the shop's record: plain memory */
} order_t;

/* The bank behind the gateway: another system, and its books are right. */
typedef struct bank {
    atomic_long *balance; /* per customer */
    atomic_int *charges;  /* per order */
} bank_t;

/* The payment gateway: slow, and it charges whatever it is asked to. */
static void gateway_charge(bank_t *b, const order_t *o)
{
    cd_latency("payment-gateway", GATEWAY_USEC);
    /* Relaxed: the bank must not order the shop's threads for them. */
    atomic_fetch_sub_explicit(&b->balance[o->customer], PRICE,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&b->charges[o->id], 1, memory_order_relaxed);
}

/* =============================== your code =============================== */

/* The shop. Add the lock(s) your fix needs. */
typedef struct shop {
    bank_t bank;
    int ncustomers; /* customers are numbered 0 .. ncustomers-1 */
} shop_t;

/* Sets up your lock(s) before the checkouts start: 0, or -1 on failure. */
static int shop_locks_init(shop_t *s)
{
    (void)s;
    return 0;
}

/* Frees them after every checkout has ended. */
static void shop_locks_destroy(shop_t *s)
{
    (void)s;
}

/* One checkout of order o (o->customer is its customer). */
static void checkout(shop_t *s, order_t *o)
{
    /* Let the other click go first: each checkout waits a little,
     * a different while each time, before it looks at the order. */
    static _Thread_local unsigned seed;
    if (seed == 0)
        seed = (unsigned)cd_self() * 7919u;
    struct timespec pause = { 0, (long)(rand_r(&seed) % 3000) * 1000 };
    nanosleep(&pause, NULL);

    cd_point("check status");
    if (o->status == PENDING) {
        gateway_charge(&s->bank, o);
        cd_point("mark paid");
        o->status = PAID;
    }
}

/* ============================ end of your code =========================== */

/* The harness: the queue of orders the checkout threads share, and the
 * invariant. Nothing below needs to change. */

typedef struct till {
    shop_t shop;
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
        checkout(&t->shop, &t->orders[k / SUBMITS]);
    }
}

/* Invariant: every order charged exactly once, every balance at zero. */
static void check(till_t *t, cd_verdict_t *v)
{
    int total = 0, twice = 0, unpaid = 0;
    long lowest = 0;
    for (int i = 0; i < t->norders; i++) {
        int c = atomic_load(&t->shop.bank.charges[i]);
        total += c;
        twice += c > 1;
        unpaid += c == 0;
    }
    for (int c = 0; c < t->shop.ncustomers; c++)
        if (atomic_load(&t->shop.bank.balance[c]) < lowest)
            lowest = atomic_load(&t->shop.bank.balance[c]);

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
    shop_t *s = &t.shop;
    (void)variant;

    s->ncustomers = p->threads / SUBMITS > 0 ? p->threads / SUBMITS : 1;
    atomic_init(&t.next, 0);
    t.orders = calloc((size_t)t.norders, sizeof *t.orders);
    s->bank.balance = calloc((size_t)s->ncustomers, sizeof *s->bank.balance);
    s->bank.charges = calloc((size_t)t.norders, sizeof *s->bank.charges);
    if (!t.orders || !s->bank.balance || !s->bank.charges ||
        shop_locks_init(s) != 0) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the shop");
    } else {
        for (int i = 0; i < t.norders; i++) {
            /* Orders go round the customers; each can pay for its own. */
            t.orders[i] = (order_t){ .id = i, .customer = i % s->ncustomers,
                                     .status = PENDING };
            atomic_fetch_add(&s->bank.balance[i % s->ncustomers], PRICE);
        }
        if (cd_team_run(p->threads, "checkout", cashier, &t) < 0)
            cd_verdict_observe(v, CD_ERROR, "could not start %d threads",
                               p->threads);
        else
            check(&t, v);
        shop_locks_destroy(s);
    }
    free(t.orders);
    free(s->bank.balance);
    free(s->bank.charges);
}

static const cd_variant_t variants[] = {
    { "yours", "your checkout (lessons/exercises/race.c)" },
};

const cd_scenario_t cd_exercise = {
    .name = "race",
    .title = "the double charge (exercise)",
    .pitfall = "check-then-act across a slow call charges a customer twice",
    .lesson = "lessons/01-race.md",
    .variants = variants,
    .nvariants = 1,
    .defaults = { .threads = 4, .iterations = 8 },
    .min = { .threads = 1, .iterations = 1 },
    .max = { .threads = 64, .iterations = 1000 },
    .run = run,
};
