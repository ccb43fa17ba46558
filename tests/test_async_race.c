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

#define LIMIT_MS 20000
#define RUNS 5

static void test_broken_double_charges_every_order_every_run(void)
{
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_forked("async-race", "broken", 0, 0, LIMIT_MS);
        CU_ASSERT_FATAL(c.finished);
        const cd_verdict_t *v = &c.r.verdict;
        ASSERT_INT_EQ(v->status, CD_VIOLATED);
        ASSERT_INT_EQ(cd_verdict_get_num(v, "workers"), 1);
        ASSERT_INT_EQ(cd_verdict_get_num(v, "double_charged"),
                      cd_verdict_get_num(v, "orders"));
        ASSERT_INT_EQ(cd_verdict_get_num(v, "charges"),
                      2 * cd_verdict_get_num(v, "orders"));
        /* Both checkouts of an order were at the gateway together (and
         * the customer's other orders with them). */
        CU_ASSERT(cd_verdict_get_num(v, "max_same_customer_at_once") >= 2);
        ASSERT_STR_HAS(v->observed, "no data race: one thread");
    }
}

static void test_broken_even_without_latency(void)
{
    /* Latency 0: the gateway takes no time, the await still parks. */
    cd_run_opts_t o = scenario_opts("async-race", 0, 1, 0, LIMIT_MS);
    child_run_t c = run_forked_opts("async-race", "broken", &o, LIMIT_MS);
    CU_ASSERT_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, CD_VIOLATED);
    ASSERT_INT_EQ(cd_verdict_get_num(&c.r.verdict, "double_charged"),
                  cd_verdict_get_num(&c.r.verdict, "orders"));
}

static void test_keyed_holds_and_customers_overlap(void)
{
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_forked("async-race", "keyed", 0, 0, LIMIT_MS);
        CU_ASSERT_FATAL(c.finished);
        const cd_verdict_t *v = &c.r.verdict;
        ASSERT_INT_EQ(v->status, CD_HELD);
        ASSERT_INT_EQ(cd_verdict_get_num(v, "charges"),
                      cd_verdict_get_num(v, "orders"));
        ASSERT_INT_EQ(cd_verdict_get_num(v, "double_charged"), 0);
        /* Every customer was at the gateway at once, never one twice. */
        ASSERT_INT_EQ(cd_verdict_get_num(v, "max_gateway_at_once"),
                      cd_verdict_get_num(v, "customers"));
        ASSERT_INT_EQ(cd_verdict_get_num(v, "max_same_customer_at_once"), 1);
        CU_ASSERT(cd_verdict_get_num(v, "customers") > 1);
    }
}

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

static void test_mutex_holds_one_call_at_a_time(void)
{
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_forked("async-race", "mutex", 0, 0, LIMIT_MS);
        CU_ASSERT_FATAL(c.finished);
        const cd_verdict_t *v = &c.r.verdict;
        ASSERT_INT_EQ(v->status, CD_HELD);
        ASSERT_INT_EQ(cd_verdict_get_num(v, "double_charged"), 0);
        ASSERT_INT_EQ(cd_verdict_get_num(v, "max_gateway_at_once"), 1);
    }
}

/* Under ThreadSanitizer: no report for any variant on one worker. */
static void tsan_quiet(const char *fixed, int want_exit)
{
    cmd_out_t *o = malloc(sizeof *o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    const char *argv[] = { concdemo_tsan_bin(), "async-race", fixed, NULL };
    run_cmd(o, argv, NULL, LIMIT_MS);
    ASSERT_INT_EQ(o->exit_code, want_exit);
    CU_ASSERT(strstr(o->err, "ThreadSanitizer") == NULL);
    if (strstr(o->err, "ThreadSanitizer"))
        fprintf(stderr, "\n  %s: %.2000s\n", fixed ? fixed : "broken", o->err);
    ASSERT_STR_HAS(o->out, want_exit ? "VIOLATED" : "HELD");
    free(o);
}

static void test_tsan_sees_no_data_race_in_broken(void)
{
    tsan_quiet(NULL, 1);
}

static void test_tsan_quiet_on_fixes(void)
{
    tsan_quiet("--fixed=keyed", 0);
    tsan_quiet("--fixed=mutex", 0);
}

void suite_async_race(void)
{
    CU_pSuite s = CU_add_suite("async-race", NULL, NULL);
    CU_add_test(s, "broken double-charges every order on every run",
                test_broken_double_charges_every_order_every_run);
    CU_add_test(s, "broken even with latency scale 0",
                test_broken_even_without_latency);
    CU_add_test(s, "keyed holds; customers overlap, one customer in turn",
                test_keyed_holds_and_customers_overlap);
    CU_add_test(s, "keyed holds on two workers",
                test_keyed_holds_on_two_workers);
    CU_add_test(s, "mutex holds, one gateway call at a time",
                test_mutex_holds_one_call_at_a_time);
    CU_add_test(s, "TSan reports no data race in broken (one thread)",
                test_tsan_sees_no_data_race_in_broken);
    CU_add_test(s, "TSan quiet on the fixes", test_tsan_quiet_on_fixes);
}
