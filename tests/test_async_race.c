/*
 * test_async_race.c - the double charge on one worker thread.
 *
 * Broken must double-charge on every run (the await is the switch, so the
 * interleaving does not depend on timing) and ThreadSanitizer must stay
 * silent (there is no data race: that is the lesson). The fixes must hold,
 * and the keyed fix must let different customers overlap while one
 * customer's checkouts run in turn.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* suite: async-race */

#define LIMIT_MS 20000
#define RUNS 5

/* One worker: every order charged twice, both checkouts of an order at
 * the gateway together (and the customer's other orders with them). */
static void every_order_charged_twice(const child_run_t *c)
{
    ASSERT_INT_EQ(fig(c, "workers"), 1);
    ASSERT_INT_EQ(fig(c, "double_charged"), fig(c, "orders"));
    ASSERT_INT_EQ(fig(c, "charges"), 2 * fig(c, "orders"));
    CU_ASSERT(fig(c, "max_same_customer_at_once") >= 2);
    ASSERT_STR_HAS(c->r.verdict.observed, "no data race: one thread");
}

/* test: broken double-charges every order on every run */
static void test_broken_double_charges_every_order_every_run(void)
{
    /* Free: one worker, and the await is the switch. */
    expect_every_free_run("async-race", "broken", RUNS, CD_VIOLATED,
                     every_order_charged_twice, LIMIT_MS);
}

/* test: broken even with latency scale 0 */
static void test_broken_even_without_latency(void)
{
    /* Latency 0: the gateway takes no time, the await still parks. */
    child_run_t c =
        expect_broken_on_one_worker_without_latency("async-race", LIMIT_MS);
    ASSERT_INT_EQ(cd_verdict_get_num(&c.r.verdict, "double_charged"),
                  cd_verdict_get_num(&c.r.verdict, "orders"));
}

/* Each order charged once; every customer was at the gateway at once,
 * never one twice. */
static void customers_overlap_each_in_turn(const child_run_t *c)
{
    ASSERT_INT_EQ(fig(c, "charges"), fig(c, "orders"));
    ASSERT_INT_EQ(fig(c, "double_charged"), 0);
    ASSERT_INT_EQ(fig(c, "max_gateway_at_once"), fig(c, "customers"));
    ASSERT_INT_EQ(fig(c, "max_same_customer_at_once"), 1);
    CU_ASSERT(fig(c, "customers") > 1);
}

/* test: keyed holds; customers overlap, one customer in turn */
static void test_keyed_holds_and_customers_overlap(void)
{
    expect_every_run("async-race", "keyed", RUNS, CD_HELD,
                     customers_overlap_each_in_turn, LIMIT_MS);
}

/* test: keyed holds on two workers */
static void test_keyed_holds_on_two_workers(void)
{
    cd_run_opts_t o = scenario_opts("async-race", 20, 2, 1000, LIMIT_MS);
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_forked_opts("async-race", "keyed", &o, LIMIT_MS);
        CU_ASSERT_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
        ASSERT_INT_EQ(cd_verdict_get_num(&c.r.verdict, "double_charged"), 0);
        ASSERT_INT_EQ(
            cd_verdict_get_num(&c.r.verdict, "max_same_customer_at_once"), 1);
    }
}

/* No double charge; one call at the gateway at a time. */
static void one_call_at_a_time(const child_run_t *c)
{
    ASSERT_INT_EQ(fig(c, "double_charged"), 0);
    ASSERT_INT_EQ(fig(c, "max_gateway_at_once"), 1);
}

/* test: mutex holds, one gateway call at a time */
static void test_mutex_holds_one_call_at_a_time(void)
{
    expect_every_run("async-race", "mutex", RUNS, CD_HELD, one_call_at_a_time,
                     LIMIT_MS);
}

/* Under ThreadSanitizer: no report for any variant on one worker. */
static void tsan_quiet(const char *fixed, int want_exit)
{
    cmd_out_t *o = malloc(sizeof *o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    const char *argv[] = { concdemo_tsan_bin(), "async-race", fixed, NULL };
    run_cmd(o, argv, NULL, LIMIT_MS);
    expect_no_tsan_report(o, fixed ? fixed : "broken", want_exit);
    ASSERT_STR_HAS(o->out, want_exit ? "VIOLATED" : "HELD");
    free(o);
}

/* long test: TSan reports no data race in broken (one thread) */
static void test_tsan_sees_no_data_race_in_broken(void)
{
    tsan_quiet(NULL, 1);
}

/* long test: TSan quiet on the fixes */
static void test_tsan_quiet_on_fixes(void)
{
    tsan_quiet("--fixed=keyed", 0);
    tsan_quiet("--fixed=mutex", 0);
}
