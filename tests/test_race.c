/*
 * test_race.c - the double charge: broken is charged twice, every fix holds.
 */
#include <string.h>

#include "harness.h"

/* suite: race */

#define LIMIT_MS 20000
#define RUNS 10

/* test: broken charges orders twice */
static void broken_charges_orders_twice(void)
{
    child_run_t c = expect_status("race", "broken", CD_VIOLATED, LIMIT_MS);
    int64_t orders = cd_verdict_get_num(&c.r.verdict, "orders");
    CU_ASSERT_TRUE(cd_verdict_get_num(&c.r.verdict, "charges") > orders);
    CU_ASSERT_TRUE(cd_verdict_get_num(&c.r.verdict, "double_charged") > 0);
    CU_ASSERT_TRUE(cd_verdict_get_num(&c.r.verdict, "lowest_balance") < 0);
    ASSERT_STR_HAS(c.r.verdict.observed, "charged twice");
}

/* test: broken is violated on every run */
static void broken_is_violated_every_run(void)
{
    expect_every_run("race", "broken", RUNS, CD_VIOLATED, NULL, LIMIT_MS);
}

/* test: a single checkout thread cannot race */
static void single_checkout_thread_cannot_race(void)
{
    /* One thread: the duplicates run one after the other and the check
     * sees PAID. The bug needs concurrency, and this shows the test can
     * tell the difference. */
    child_run_t c = run_forked("race", "broken", 1, 4, LIMIT_MS);
    CU_ASSERT_TRUE_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
    ASSERT_INT_EQ(cd_verdict_get_num(&c.r.verdict, "charges"), 4);
}

/* Every order charged once, and no balance below zero. */
static void charged_once(const child_run_t *c)
{
    ASSERT_INT_EQ(cd_verdict_get_num(&c->r.verdict, "charges"),
                  cd_verdict_get_num(&c->r.verdict, "orders"));
    ASSERT_INT_EQ(cd_verdict_get_num(&c->r.verdict, "lowest_balance"), 0);
}

static void fix_holds_over_runs(const char *fix)
{
    expect_fix_holds_every_run("race", fix, 0, 0, RUNS, charged_once,
                               LIMIT_MS);
}

/* test: mutex fix holds */
static void mutex_fix_holds(void) { fix_holds_over_runs("mutex"); }
/* test: keyed fix holds */
static void keyed_fix_holds(void) { fix_holds_over_runs("keyed"); }
/* test: cas fix holds */
static void cas_fix_holds(void) { fix_holds_over_runs("cas"); }

/* test: fixes hold with 32 threads */
static void fixes_hold_with_many_threads(void)
{
    const char *fixes[] = { "mutex", "keyed", "cas" };
    for (int i = 0; i < 3; i++) {
        child_run_t c = run_forked("race", fixes[i], 32, 64, LIMIT_MS);
        CU_ASSERT_TRUE_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
        ASSERT_CLEAN_EXIT(c);
    }
}

/* One controlled run of a fix with 8 checkouts (4 customers) and 32
 * orders, on the scheduler's virtual clock. */
static child_run_t run_on_virtual_clock(const char *fix)
{
    cd_sched_cfg_t cfg = sched_cfg(CD_SCHED_RANDOM, 3);
    cd_params_t p = { .threads = 8, .iterations = 32 };
    return run_controlled_forked("race", fix, &cfg, p, LIMIT_MS);
}

/* test: keyed runs customers in parallel */
static void keyed_runs_customers_in_parallel(void)
{
    /* On the virtual clock time passes only while every thread waits, so
     * the run's length is exact: the global mutex serialises all 32 of
     * the 2 ms gateway calls (64 ms), while the keyed lock lets the four
     * customers' calls overlap. (How much faster that is on real threads
     * is a speed figure: make bench measures it.) */
    child_run_t m = run_on_virtual_clock("mutex");
    child_run_t k = run_on_virtual_clock("keyed");
    CU_ASSERT_TRUE_FATAL(m.finished && k.finished);
    ASSERT_INT_EQ(m.r.verdict.status, CD_HELD);
    ASSERT_INT_EQ(k.r.verdict.status, CD_HELD);
    CU_ASSERT_TRUE(m.r.duration_ns >= 32 * 2000000LL);
    if (k.r.duration_ns * 2 > m.r.duration_ns)
        fprintf(stderr, "\n  virtual time: keyed %lld ns, mutex %lld ns\n",
                (long long)k.r.duration_ns, (long long)m.r.duration_ns);
    CU_ASSERT_TRUE(k.r.duration_ns * 2 <= m.r.duration_ns);
}

/* test: without latency the run still ends honestly */
static void no_latency_hides_the_race(void)
{
    /* With the gateway's 2 ms scaled to 0 the window nearly closes: the
     * run must still end and report honestly, whatever it saw. */
    expect_broken_without_latency("race", 4, 8, CD_HELD, CD_VIOLATED,
                                  LIMIT_MS);
}
