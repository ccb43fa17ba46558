/*
 * inventory.c - the oversold stock: check, await the payment, decrement.
 *
 * The pitfall: a flash sale on an async runtime. Each product has 10 units
 * in stock and 40 buyers. A buyer's task checks that a unit is left, awaits
 * the payment provider (2 ms), then takes the unit off the stock. The await
 * parks the buyer and the worker runs the other buyers, who all check the
 * same stock before anyone has taken a unit: they all see units left, they
 * all pay, and the stock goes below zero. The counter itself is atomic -
 * each step is one indivisible operation - and it is still oversold: the
 * check and the decrement are two steps with an await between them. On one
 * worker there is not even a second thread: no data race, the bug is the
 * interleaving at the await.
 *
 * Symptom: more units sold than were in stock; the stock ends below zero;
 *          a clean ThreadSanitizer run.
 * Run:     concdemo inventory                   the broken sale
 *          concdemo inventory --fixed=keyed     an awaitable lock per
 *              product around check, payment and decrement: one buyer
 *              per product at a time, the products sell in parallel
 *              (recommended)
 *          concdemo inventory --fixed=reserve   take the unit first, in one
 *              step that refuses to go below zero (compare-and-swap), then
 *              pay; a declined card gives the unit back
 * Lesson:  lessons/15-inventory.md
 *
 * Buyer n of a product (1-based; --iterations sets how many per product)
 * is spawned as task PRODUCT-n, the products' buyers interleaved, round-
 * robin over the workers (one by default). The first three quarters are
 * the rush and check at once; the last quarter come late, after the rush's
 * payments are through. Buyer 1's card is declined, and every 7th after it
 * (1, 8, 15, ...), so a reservation has something to give back.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/cd_amutex.h"
#include "../lib/cd_exec.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "support.h" /* scenario.h, and how a run is driven */

#define PRODUCTS 3
#define PAY_USEC 2000   /* the payment provider takes 2 ms */
#define LATE_USEC 5000  /* the latecomers arrive once the rush has paid */
#define DECLINE_EVERY 7 /* buyers 1, 8, 15, ...: the card is declined */

static const char *const product_names[PRODUCTS] = { "lamp", "kettle",
                                                     "toaster" };

typedef struct product {
    int id;
    const char *name;
    atomic_int stock;     /* the shop's count: atomic, and still oversold */
    atomic_int sold;      /* payments that went through: units sold */
    atomic_int declined;  /* payments the card issuer declined */
    atomic_int returned;  /* units given back after a declined payment */
    atomic_int paying;    /* this product's payments in flight */
} product_t;

typedef struct sale {
    int variant;
    int buyers, stock, nworkers; /* buyers and stock are per product */
    product_t products[PRODUCTS];
    cd_akeyed_t product_lock; /* fix "keyed": one lock per product */
    int keyed_ready;          /* product_lock was set up */
    atomic_int paying, max_paying, max_same_product;
    int g_done, g_sold, g_oversold, g_declined, g_returned, g_paying,
        g_stock; /* live figures */
} sale_t;

typedef struct buyer {
    sale_t *sale;
    product_t *product;
    int no;               /* 1-based, within its product */
    int late;             /* arrives after the rush */
} buyer_t;

static void raise_max(atomic_int *max, int value)
{
    int m = atomic_load(max);
    while (value > m && !atomic_compare_exchange_weak(max, &m, value))
        ;
}

/* The payment provider: slow, and it declines every 7th buyer's card
 * (buyer 1 first). Returns 1 if the buyer paid: a unit is sold. */
static int pay(sale_t *s, buyer_t *b)
{
    product_t *p = b->product;
    raise_max(&s->max_paying, atomic_fetch_add(&s->paying, 1) + 1);
    raise_max(&s->max_same_product, atomic_fetch_add(&p->paying, 1) + 1);
    cd_reg_gauge_add(s->g_paying, 1); /* live figure; see show_books() */
    cd_await_latency("payment", PAY_USEC);
    atomic_fetch_sub(&p->paying, 1);
    atomic_fetch_sub(&s->paying, 1);
    if ((b->no - 1) % DECLINE_EVERY == 0) {
        atomic_fetch_add(&p->declined, 1);
        return 0;
    }
    atomic_fetch_add(&p->sold, 1);
    return 1;
}

/* Takes one unit off the stock, whatever is left: a plain decrement. */
static void take_unit(product_t *p)
{
    cd_point("take unit");
    atomic_fetch_sub(&p->stock, 1);
}

/* Takes one unit if one is left, in one step: the compare-and-swap fails
 * if another buyer changed the stock since we read it, and we read again.
 * Returns 1 if a unit was taken, 0 when none is left. */
static int reserve_unit(product_t *p)
{
    int n = atomic_load(&p->stock);
    while (n > 0 && !atomic_compare_exchange_weak(&p->stock, &n, n - 1))
        ;
    return n > 0;
}

/* Puts a reserved unit back on the stock. */
static void give_back(product_t *p)
{
    cd_point("give back");
    atomic_fetch_add(&p->stock, 1);
    atomic_fetch_add(&p->returned, 1);
}

/* ======================= the buyers, side by side ======================== */

/* Broken: check, await, act - the payment lets every other buyer past the
 * check before anyone has taken a unit. */
static void buy_broken(sale_t *s, buyer_t *b)
{
    product_t *p = b->product;
    cd_point("check stock");
    if (atomic_load(&p->stock) > 0) { /* BUG: every buyer sees units left... */
        if (pay(s, b))                /* ...because this await lets them all */
            take_unit(p);             /* check before the first decrement */
    }
}

/* Fix "keyed": check, pay and decrement under the product's awaitable
 * lock. The product's other buyers park until the unit is taken; other
 * products' buyers take other locks and pay meanwhile. */
static void buy_keyed(sale_t *s, buyer_t *b)
{
    product_t *p = b->product;
    cd_akeyed_lock(&s->product_lock, p->id);   /* FIX: one buyer per product */
    cd_point("check stock");
    if (atomic_load(&p->stock) > 0) {
        if (pay(s, b))
            take_unit(p);
    }
    cd_akeyed_unlock(&s->product_lock, p->id); /* FIX */
}

/* Fix "reserve": take the unit first, in one step that never goes below
 * zero, then pay; a declined card puts the unit back for a later buyer. */
static void buy_reserve(sale_t *s, buyer_t *b)
{
    product_t *p = b->product;
    cd_point("reserve unit");
    if (reserve_unit(p)) {            /* FIX: decrement first, never below 0 */
        if (!pay(s, b))
            give_back(p);             /* FIX: a declined card returns it */
    }
}

static void (*const buy[])(sale_t *, buyer_t *) = {
    buy_broken, buy_keyed, buy_reserve,
};

/* ================================ harness ================================ */

/* The live figures for --view (registry gauges), from the sale's books with
 * relaxed loads: watching orders nothing between the buyers. pay() counts a
 * payment in as it starts; those still out are set again here, after a buyer
 * and after the run (several workers: a figure may lag; the last is exact). */
static void show_books(void *sale)
{
    sale_t *s = sale;
    int sold = 0, oversold = 0, declined = 0, returned = 0;
    for (int i = 0; i < PRODUCTS; i++) {
        product_t *p = &s->products[i];
        int st = atomic_load_explicit(&p->stock, memory_order_relaxed);
        sold += atomic_load_explicit(&p->sold, memory_order_relaxed);
        declined += atomic_load_explicit(&p->declined, memory_order_relaxed);
        returned += atomic_load_explicit(&p->returned, memory_order_relaxed);
        oversold += st < 0 ? -st : 0;
    }
    cd_reg_gauge_set(s->g_sold, sold);
    cd_reg_gauge_set(s->g_oversold, oversold);
    cd_reg_gauge_set(s->g_declined, declined);
    cd_reg_gauge_set(s->g_returned, returned);
    cd_reg_gauge_set(s->g_paying, atomic_load_explicit(&s->paying,
                                                       memory_order_relaxed));
    cd_reg_gauge_set(s->g_stock, atomic_load_explicit(&s->products[0].stock,
                                                      memory_order_relaxed));
}

static void buyer_task(void *arg)
{
    buyer_t *b = arg;
    if (b->late)
        cd_await_latency("arrival", LATE_USEC);
    buy[b->sale->variant](b->sale, b);
    cd_reg_gauge_add(b->sale->g_done, 1);
    show_books(b->sale);
}

/* Names the live figures. Call once the books are set up. */
static void register_figures(sale_t *s)
{
    char name[CD_NAME_MAX];
    cd_demo_figures("buyers", s->buyers * PRODUCTS, "buyers done", &s->g_done,
                    "sold", &s->g_sold, "oversold", &s->g_oversold, "declined",
                    &s->g_declined, "returned", &s->g_returned, "at payment",
                    &s->g_paying, NULL);
    snprintf(name, sizeof name, "%s stock", product_names[0]);
    s->g_stock = cd_reg_gauge(name);
    show_books(s);
}

static int setup(void *state, const cd_params_t *p, int variant)
{
    sale_t *s = state;
    s->variant = variant;
    s->buyers = p->iterations;
    s->stock = p->iterations / 4 > 0 ? p->iterations / 4 : 1;
    s->nworkers = p->workers;
    atomic_init(&s->paying, 0);
    atomic_init(&s->max_paying, 0);
    atomic_init(&s->max_same_product, 0);
    for (int i = 0; i < PRODUCTS; i++) {
        product_t *pr = &s->products[i];
        pr->id = i;
        pr->name = product_names[i];
        atomic_init(&pr->stock, s->stock);
        atomic_init(&pr->sold, 0);
        atomic_init(&pr->declined, 0);
        atomic_init(&pr->returned, 0);
        atomic_init(&pr->paying, 0);
    }
    register_figures(s);
    if (cd_akeyed_init(&s->product_lock, "product", PRODUCTS) != 0)
        return -1;
    s->keyed_ready = 1;
    return 0;
}

static void teardown(void *state)
{
    sale_t *s = state;
    if (s->keyed_ready)
        cd_akeyed_destroy(&s->product_lock);
}

/* A buyer's task is named for the product and the buyer: "<product>-3". */
static void buyer_name(const void *arg, int k, char *buf, size_t len)
{
    const buyer_t *b = arg;
    (void)k;
    snprintf(buf, len, "%s-%d", b->product->name, b->no);
}

/* Spawns every buyer of every product and runs them. Returns 0 or -1. */
static int sell(void *state, cd_verdict_t *v)
{
    sale_t *s = state;
    int n = s->buyers * PRODUCTS;
    int late_from = s->buyers - s->buyers / 4; /* the last quarter */
    buyer_t *buyers = calloc((size_t)n, sizeof *buyers);

    for (int k = 0; buyers && k < n; k++) {
        int no = k / PRODUCTS + 1;
        buyers[k] = (buyer_t){ s, &s->products[k % PRODUCTS], no,
                               no > late_from };
    }
    int rc = cd_demo_run_batch(&(cd_demo_batch_t){
        .n = n, .nworkers = s->nworkers, .what = "buyer",
        .name = buyer_name, .fn = buyer_task, .args = buyers,
        .size = sizeof *buyers, .after = show_books, .ctx = s }, v);
    free(buyers);
    return rc;
}

/* The sale's books, summed over the products. */
typedef struct books {
    int sold, declined, returned, left, oversold, lost;
    int low, low_product, most, fewest;
} books_t;

static books_t read_books(sale_t *s)
{
    books_t k = { .low = s->stock, .fewest = s->buyers };
    for (int i = 0; i < PRODUCTS; i++) {
        product_t *p = &s->products[i];
        int st = atomic_load(&p->stock), sold = atomic_load(&p->sold);
        k.sold += sold;
        k.declined += atomic_load(&p->declined);
        k.returned += atomic_load(&p->returned);
        k.left += st > 0 ? st : 0;
        k.oversold += sold > s->stock ? sold - s->stock : 0;
        /* What the stock says against what was sold: a unit neither sold
         * nor on the shelf was lost (a reservation kept after a decline);
         * one on the shelf that was sold, made up. Either is off. */
        k.lost += abs(s->stock - sold - st);
        if (st < k.low) {
            k.low = st;
            k.low_product = i;
        }
        k.most = sold > k.most ? sold : k.most;
        k.fewest = sold < k.fewest ? sold : k.fewest;
    }
    return k;
}

/* "10 sold" or "9 to 10 sold": the products' range. */
static void sold_text(const books_t *k, char *buf, size_t size)
{
    if (k->most == k->fewest)
        snprintf(buf, size, "%d sold", k->most);
    else
        snprintf(buf, size, "%d to %d sold", k->fewest, k->most);
}

/* Invariant: no product sells more units than it had, and every unit not
 * sold is back on the shelf. */
static void check(void *state, int64_t ns, cd_verdict_t *v)
{
    sale_t *s = state;
    double ms = (double)ns / 1e6;
    books_t k = read_books(s);
    int max = atomic_load(&s->max_paying);
    int payments = k.sold + k.declined;
    double serial_ms = payments * PAY_USEC / 1000.0 *
                       cd_reg_latency_scale() / 1000.0;
    char sold[48], low[64], back[48];
    sold_text(&k, sold, sizeof sold);
    if (k.most == k.fewest)
        snprintf(low, sizeof low, "%d oversold, stock %d", k.oversold /
                 PRODUCTS, k.low);
    else
        snprintf(low, sizeof low, "%s's stock down to %d",
                 product_names[k.low_product], k.low);
    if (k.returned == 0)
        back[0] = '\0';
    else if (k.returned == k.declined)
        snprintf(back, sizeof back, ", each unit given back");
    else
        snprintf(back, sizeof back, ", %d units given back", k.returned);

    cd_verdict_expect(v, "at most %d sold of %d in stock per product (%d "
                      "products, %d buyers each), every unsold unit back "
                      "in stock", s->stock, s->stock, PRODUCTS, s->buyers);
    cd_verdict_num(v, "products", PRODUCTS);
    cd_verdict_num(v, "buyers", s->buyers);
    cd_verdict_num(v, "stock", s->stock);
    cd_verdict_num(v, "sold", k.sold);
    cd_verdict_num(v, "oversold", k.oversold);
    cd_verdict_num(v, "lowest_stock", k.low);
    cd_verdict_num(v, "declined", k.declined);
    cd_verdict_num(v, "returned", k.returned);
    cd_verdict_num(v, "lost", k.lost);
    cd_verdict_num(v, "left_in_stock", k.left);
    cd_verdict_num(v, "workers", s->nworkers);
    cd_verdict_num(v, "max_paying_at_once", max);
    cd_verdict_num(v, "max_same_product_at_once",
                   atomic_load(&s->max_same_product));
    cd_verdict_num(v, "elapsed_us", (int64_t)(ms * 1000));
    cd_verdict_num(v, "serial_us", (int64_t)(serial_ms * 1000));
    if (k.oversold)
        cd_verdict_observe(v, CD_VIOLATED,
                           "%s of %d in stock per product: %s (%d sold of %d "
                           "across %d products, %d oversold)%s", sold,
                           s->stock, low, k.sold, s->stock * PRODUCTS,
                           PRODUCTS, k.oversold,
                           s->nworkers == 1
                               ? "; no data race: one thread, interleaved at "
                                 "the await (ThreadSanitizer rightly reports "
                                 "nothing)"
                               : "; no data race either: the stock is atomic, "
                                 "the check and the decrement are two steps");
    else if (k.lost)
        cd_verdict_observe(v, CD_VIOLATED,
                           "%s of %d in stock per product, none oversold, "
                           "but %d %s lost: %d declined, %d given back",
                           sold, s->stock, k.lost,
                           cd_plural(k.lost, "unit", "units"), k.declined,
                           k.returned);
    else
        cd_verdict_observe(v, CD_HELD,
                           "%s of %d in stock per product, none oversold; "
                           "%d declined%s, %d left in stock; up to %d %s at "
                           "once, %d per product; %.1f ms where one at a "
                           "time takes %.1f ms", sold, s->stock, k.declined,
                           back, k.left,
                           max, cd_plural(max, "payment", "payments"),
                           atomic_load(&s->max_same_product), ms, serial_ms);
}

void cd_inventory_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    sale_t s = { 0 };
    cd_demo_run(&(cd_demo_steps_t){ setup, sell, check, teardown,
                                    "the sale" }, &s, p, variant, v);
}
