/*
 * test_inventory.c - the oversold stock: check, await the payment,
 * decrement.
 *
 * Broken must oversell every product on every run, on one worker (no data
 * race: the await is the switch) and on several, even with no payment
 * latency at all. Each fix must sell no more than the stock and account
 * for every unit: the keyed fix one buyer per product at a time with the
 * products paying in parallel, the reserve fix every declined card's unit
 * given back and sold again. Explore finds the bug; each fix survives it.
 */
#include <string.h>

#include "harness.h"

/* suite: inventory */

#define LIMIT_MS 20000
#define RUNS 5
/* A command's limit: explore runs hundreds of schedules, slowly under a
 * sanitizer on a busy machine. */
#define CMD_LIMIT_MS 60000
/* Under make test-tsan the binary under test is a TSan build: its exit
 * code must stay the verdict's. */
#define TSAN_ENV "TSAN_OPTIONS=halt_on_error=0 exitcode=1"

/* The default sale: 3 products, 40 buyers and 10 units each; buyers 1, 8,
 * 15, 22, 29 and 36 of each product have their card declined. */
#define PRODUCTS 3
#define STOCK 10

static cmd_out_t out;

/* test: broken oversells every product on every run */
static void broken_oversells_every_product_every_run(void)
{
    for (int i = 0; i < RUNS; i++) {
        /* Free: one worker, and the await is the switch. */
        child_run_t c = run_forked("inventory", "broken", 0, 0, LIMIT_MS);
        CU_ASSERT_TRUE_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_VIOLATED);
        ASSERT_INT_EQ(fig(&c, "workers"), 1);
        /* The rush (30 buyers a product) all passed the check; the 25
         * whose card went through each took a unit of 10. */
        ASSERT_INT_EQ(fig(&c, "sold"), 25 * PRODUCTS);
        ASSERT_INT_EQ(fig(&c, "oversold"), 15 * PRODUCTS);
        ASSERT_INT_EQ(fig(&c, "lowest_stock"), -15);
        ASSERT_INT_EQ(fig(&c, "lost"), 0);
        ASSERT_STR_HAS(c.r.verdict.observed, "25 sold of 10 in stock per "
                       "product: 15 oversold, stock -15");
        ASSERT_STR_HAS(c.r.verdict.observed, "no data race: one thread");
    }
}

/* test: broken on one worker, even with latency scale 0 */
static void broken_on_one_worker_even_without_latency(void)
{
    /* One thread, and a payment that takes no time: the await still
     * parks the buyer, and the next one passes the same check. */
    child_run_t c =
        expect_broken_on_one_worker_without_latency("inventory", LIMIT_MS);
    CU_ASSERT(fig(&c, "oversold") > 0);
}

/* test: broken on two and four workers too */
static void broken_on_several_workers_too(void)
{
    for (int w = 2; w <= 4; w += 2) {
        child_run_t c =
            run_workers_forked("inventory", "broken", w, 1000, LIMIT_MS);
        CU_ASSERT_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_VIOLATED);
        CU_ASSERT(fig(&c, "oversold") > 0);
        ASSERT_STR_HAS(c.r.verdict.observed, "the stock is atomic");
    }
}

/* A fix's books: the whole stock sold (the latecomers take what a decline
 * left), none oversold, nothing lost. */
static void expect_books_hold(const child_run_t *c)
{
    ASSERT_INT_EQ(c->r.verdict.status, CD_HELD);
    ASSERT_INT_EQ(fig(c, "sold"), STOCK * PRODUCTS);
    ASSERT_INT_EQ(fig(c, "oversold"), 0);
    ASSERT_INT_EQ(fig(c, "lost"), 0);
    ASSERT_INT_EQ(fig(c, "lowest_stock"), 0);
    ASSERT_INT_EQ(fig(c, "left_in_stock"), 0);
}

/* keyed: buyers 1 and 8 were declined on the way to the tenth sale; a
 * declined buyer held no unit, so nothing went back. Never two payments
 * for one product; all products at once. */
static void one_buyer_per_product(const child_run_t *c)
{
    expect_books_hold(c);
    ASSERT_INT_EQ(fig(c, "declined"), 2 * PRODUCTS);
    ASSERT_INT_EQ(fig(c, "returned"), 0);
    ASSERT_INT_EQ(fig(c, "max_same_product_at_once"), 1);
    ASSERT_INT_EQ(fig(c, "max_paying_at_once"), PRODUCTS);
}

/* reserve: buyers 1 and 8 reserved and were declined: each gave the unit
 * back, and latecomers 31 and 32 bought those two. No lock: a product's
 * buyers pay together. */
static void declined_units_given_back(const child_run_t *c)
{
    expect_books_hold(c);
    ASSERT_INT_EQ(fig(c, "declined"), 2 * PRODUCTS);
    ASSERT_INT_EQ(fig(c, "returned"), fig(c, "declined"));
    CU_ASSERT(fig(c, "max_same_product_at_once") > 1);
    ASSERT_STR_HAS(c->r.verdict.observed, "each unit given back");
}

/* test: keyed sells the stock, one buyer per product, products together */
static void keyed_sells_the_stock_one_buyer_per_product(void)
{
    expect_every_run("inventory", "keyed", RUNS, CD_HELD,
                     one_buyer_per_product, LIMIT_MS);
}

/* test: reserve gives back what a declined card held */
static void reserve_gives_back_what_a_declined_card_held(void)
{
    expect_every_run("inventory", "reserve", RUNS, CD_HELD,
                     declined_units_given_back, LIMIT_MS);
}

/* test: both fixes hold on 1 to 4 workers */
static void fixes_hold_on_several_workers(void)
{
    static const char *const fixes[] = { "keyed", "reserve" };
    for (int f = 0; f < 2; f++)
        for (int w = 1; w <= 4; w++) {
            child_run_t c =
                run_workers_forked("inventory", fixes[f], w, 1000, LIMIT_MS);
            CU_ASSERT_FATAL(c.finished);
            ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
            ASSERT_INT_EQ(fig(&c, "oversold"), 0);
            ASSERT_INT_EQ(fig(&c, "lost"), 0);
            ASSERT_CLEAN_EXIT(c);
        }
}

/* test: explore finds it and its replay repeats it */
static void explore_finds_it_and_the_replay_repeats_it(void)
{
    static cmd_out_t again;
    static const char *const args[] = { "inventory", NULL };
    static const char *const verdict[] = { "VIOLATED", "oversold", NULL };
    expect_explore_finds_and_replays(&out, &again, args, verdict, NULL,
                                     TSAN_ENV, CMD_LIMIT_MS);
}

/* test: fixes hold under explore */
static void fixes_hold_under_explore(void)
{
    /* The explore size (4 buyers a product, 1 unit each, buyer 1 declined):
     * every schedule within 2 preemptions, and in some of them the
     * latecomer arrives before the declined buyer gives the unit back -
     * unsold then, and still on the shelf. */
    static const char *const fixes[] = { "--fixed=keyed", "--fixed=reserve",
                                         NULL };
    expect_fixes_hold_under_explore("inventory", fixes, 50, 2, TSAN_ENV,
                                    CMD_LIMIT_MS);
    /* On two workers the buyers of a product run on different threads. */
    int nruns = TSAN_SMALLER(50, 20);
    char runs[32], held[64];
    snprintf(runs, sizeof runs, "--runs=%d", nruns);
    snprintf(held, sizeof held, "no violation in %d schedules", nruns);
    for (int i = 0; fixes[i]; i++) {
        const char *argv[] = { "explore", "inventory", fixes[i],
                               "--workers=2", runs, NULL };
        run_concdemo(&out, argv, TSAN_ENV, CMD_LIMIT_MS);
        ASSERT_INT_EQ(out.exit_code, 0);
        ASSERT_STR_HAS(out.out, held);
    }
}

/* test: explore on two workers finds it too */
static void explore_on_two_workers_finds_it_too(void)
{
    const char *argv[] = { "explore", "inventory", "--workers=2", NULL };
    run_concdemo(&out, argv, TSAN_ENV, CMD_LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "violation found after");
    ASSERT_STR_HAS(out.out, "oversold");
}
