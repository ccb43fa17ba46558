/*
 * test_stampede.c - the cache stampede: every request for a cold key
 * queries the database.
 *
 * Broken must query once per request on every run, on one worker too (the
 * await between check and fill is the window, not the threads) and even
 * with no latency at all. Each fix must hold - one query per key, every
 * request served the stored value, the keys' queries still overlapping -
 * and the searches that pass it must find the broken variant at the same
 * size, so that a fix taken out would fail them.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* suite: stampede */

#define LIMIT_MS 20000
#define CMD_LIMIT_MS 120000 /* a dfs of two workers, in a sanitizer build */
#define RUNS 5

static cmd_out_t out;

static void expect_stampede(const cd_verdict_t *v)
{
    ASSERT_INT_EQ(v->status, CD_VIOLATED);
    /* Every request queried: none saw a value in the cache. */
    ASSERT_INT_EQ(cd_verdict_get_num(v, "queries"),
                  cd_verdict_get_num(v, "requests"));
    ASSERT_INT_EQ(cd_verdict_get_num(v, "max_queries_per_key") *
                      cd_verdict_get_num(v, "keys"),
                  cd_verdict_get_num(v, "requests"));
    ASSERT_INT_EQ(cd_verdict_get_num(v, "wrong_values"), 0);
}

/* The default run, one worker and 150 requests: every request queried,
 * and all of them were at the database together. */
static void stampede_of_150(const child_run_t *c)
{
    const cd_verdict_t *v = &c->r.verdict;
    expect_stampede(v);
    ASSERT_INT_EQ(fig(c, "workers"), 1);
    ASSERT_INT_EQ(fig(c, "requests"), 150);
    ASSERT_STR_HAS(v->observed,
                   "150 database queries for 3 keys (50 per key)");
    ASSERT_STR_HAS(v->observed, "no data race: one thread");
    ASSERT_INT_EQ(fig(c, "max_queries_at_once"), 150);
}

/* test: broken queries once per request, on one worker */
static void broken_queries_once_per_request_on_one_worker(void)
{
    /* Free: one worker, and the await is the switch. */
    expect_every_free_run("stampede", "broken", RUNS, CD_VIOLATED,
                          stampede_of_150, LIMIT_MS);
}

/* test: broken even with latency scale 0 */
static void broken_even_without_latency(void)
{
    /* Latency 0: the query takes no time, the await still parks. */
    child_run_t c =
        expect_broken_on_one_worker_without_latency("stampede", LIMIT_MS);
    expect_stampede(&c.r.verdict);
}

/* test: broken on 2, 3 and 4 workers */
static void broken_on_several_workers(void)
{
    for (int w = 2; w <= 4; w++) {
        cd_run_opts_t o = scenario_opts("stampede", 0, w, 1000, LIMIT_MS);
        child_run_t c = run_forked_opts("stampede", "broken", &o, LIMIT_MS);
        CU_ASSERT_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_VIOLATED);
        CU_ASSERT(cd_verdict_get_num(&c.r.verdict, "queries") > 3);
    }
}

/* A fix holds: one query per key, the stored value for every request; on
 * one worker, which runs every request to its first park before any query
 * returns, the three keys' queries are at the database together (on more,
 * a worker that starts late may find its keys done). */
static void expect_one_query_per_key(const char *fix, int workers)
{
    cd_run_opts_t o = scenario_opts("stampede", 0, workers, 1000, LIMIT_MS);
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_forked_opts("stampede", fix, &o, LIMIT_MS);
        CU_ASSERT_FATAL(c.finished);
        const cd_verdict_t *v = &c.r.verdict;
        ASSERT_INT_EQ(v->status, CD_HELD);
        ASSERT_INT_EQ(cd_verdict_get_num(v, "queries"), 3);
        ASSERT_INT_EQ(cd_verdict_get_num(v, "max_queries_per_key"), 1);
        ASSERT_INT_EQ(cd_verdict_get_num(v, "wrong_values"), 0);
        if (workers == 1)
            ASSERT_INT_EQ(cd_verdict_get_num(v, "max_queries_at_once"), 3);
        ASSERT_STR_HAS(v->observed, "3 queries for 3 keys");
    }
}

/* test: keyed: one query per key, keys overlap */
static void keyed_queries_once_per_key(void)
{
    expect_one_query_per_key("keyed", 1);
    expect_one_query_per_key("keyed", 2);
}

/* test: singleflight: one query per key, keys overlap */
static void singleflight_queries_once_per_key(void)
{
    expect_one_query_per_key("singleflight", 1);
    expect_one_query_per_key("singleflight", 4);
}

/* test: explore finds it and its replay repeats it */
static void explore_finds_it_and_the_replay_repeats_it(void)
{
    static cmd_out_t again;
    static const char *const args[] = { "stampede", NULL };
    static const char *const verdict[] = {
        "VIOLATED \xe2\x80\x94 ", "6 database queries for 3 keys (2 per key)",
        NULL };
    expect_explore_finds_and_replays(&out, &again, args, verdict, NULL, NULL,
                                     CMD_LIMIT_MS);
}

/* test: fixes hold under explore (pct, dfs) */
static void fixes_hold_under_explore(void)
{
    static const char *const fixes[] = { "--fixed=keyed",
                                         "--fixed=singleflight", NULL };
    expect_fixes_hold_under_explore("stampede", fixes, 50, 2, NULL,
                                    CMD_LIMIT_MS);
}

/* On two workers the tasks of one key run on both threads: dfs tries every
 * schedule within one preemption. The fixes hold there; the same search
 * without the fix finds the stampede. */
/* test: dfs on two workers: fixes hold, broken found */
static void dfs_on_two_workers_holds_the_fixes_and_finds_broken(void)
{
    static const char *const fixes[] = { "--fixed=keyed",
                                         "--fixed=singleflight", NULL };
    /* 717 schedules a fix within 1 preemption; 12 within none in the TSan
     * runner (see TSAN_SMALLER). */
    int bound = TSAN_SMALLER(1, 0);
    char preempt[32], tried[96];
    snprintf(preempt, sizeof preempt, "--bound=%d", bound);
    dfs_tried(tried, sizeof tried, bound);
    const char *const argv[] = { "explore", "stampede", "--workers=2",
                                 "--strategy=dfs", preempt, NULL };
    expect_each_fix_explores_clean("stampede", fixes, argv + 2, tried, NULL,
                                   CMD_LIMIT_MS);
    run_concdemo(&out, argv, NULL, CMD_LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "violation found after");
}

/* The TSan build on two workers: the fixes stay clean (the broken variant
 * is in the tsan suite). */
/* long test: TSan quiet on the fixes on two workers */
static void tsan_quiet_on_fixes_on_two_workers(void)
{
    static const char *const fixes[] = { "--fixed=keyed",
                                         "--fixed=singleflight" };
    for (int i = 0; i < 2; i++) {
        const char *argv[] = { concdemo_tsan_bin(), "stampede", fixes[i],
                               "--workers=2", NULL };
        run_cmd(&out, argv, "TSAN_OPTIONS=halt_on_error=0 exitcode=66",
                CMD_LIMIT_MS);
        expect_no_tsan_report(&out, fixes[i], 0);
        ASSERT_STR_HAS(out.out, ": HELD");
    }
}
