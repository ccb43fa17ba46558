/*
 * test_starvation.c - the starving writer: broken starves the trimmer on
 * every run, both fixes let it in on time, runs end even when the storm
 * would not, and ThreadSanitizer finds nothing in any variant.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* suite: starvation */

#define LIMIT_MS 20000
#define RUNS 5

/* test: broken: the writer starves while reads go past */
static void broken_starves_the_writer(void)
{
    child_run_t c = expect_status("starvation", "broken", CD_VIOLATED,
                                  LIMIT_MS);
    int64_t requests = c.r.params.iterations;
    /* Starved: most of the storm's reads went in after the trimmer asked,
     * far past the bound, and it waited out most of the storm (one
     * request per ms). */
    int64_t past = fig(&c, "most_reads_past_writer");
    CU_ASSERT_TRUE(past > requests / 2);
    CU_ASSERT_TRUE(past > 10 * fig(&c, "reads_past_writer_bound"));
    CU_ASSERT_TRUE(fig(&c, "reads_past_waiting_writer") >= past);
    CU_ASSERT_TRUE(fig(&c, "longest_write_wait_us") > requests * 1000 / 2);
    /* A controlled run (expect_status): the storm's shape is the virtual
     * clock's; the run below shows the exact figure, 0, at another seed. */
    CU_ASSERT_TRUE(fig(&c, "writes_while_requests_ran") <
                   fig(&c, "write_quota") / 2);
    /* It does get in at the end: the run ends with the quota made. */
    ASSERT_INT_EQ(fig(&c, "writes"), fig(&c, "write_quota"));
    ASSERT_INT_EQ(fig(&c, "reads"), requests);
    ASSERT_STR_HAS(c.r.verdict.observed, "reads went in ahead of it");
    ASSERT_STR_HAS(cd_verdict_get_str(&c.r.verdict, "policy"),
                   "prefer-reader");
}

/* test: broken under the scheduler: no trim during the storm */
static void under_the_scheduler_no_trim_gets_in_during_the_storm(void)
{
    /* One thread at a time on a virtual clock: the readers' overlap is
     * exact, and the writer gets in only once the storm is over. */
    cd_sched_cfg_t cfg = sched_cfg(CD_SCHED_RANDOM, 7);
    child_run_t c = run_controlled_forked(
        "starvation", "broken", &cfg,
        cd_scenario_find("starvation")->defaults, LIMIT_MS);
    CU_ASSERT_TRUE_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, CD_VIOLATED);
    ASSERT_INT_EQ(fig(&c, "writes_while_requests_ran"), 0);
    ASSERT_INT_EQ(fig(&c, "writes"), fig(&c, "write_quota"));
}

/* test: broken: starved on every run */
static void broken_starves_the_writer_every_run(void)
{
    expect_status_every_run("starvation", "broken", RUNS, CD_VIOLATED,
                            LIMIT_MS);
}

/* test: broken: starved with the fewest threads and requests */
static void broken_with_the_fewest_threads_and_requests_starves(void)
{
    const cd_scenario_t *s = cd_scenario_find("starvation");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    /* Controlled: the readers' overlap that shuts the writer out is made
     * by their latencies, which a starved free run stretches apart. */
    cd_sched_cfg_t cfg = sched_cfg(CD_SCHED_RANDOM, 1);
    child_run_t c = run_controlled_forked("starvation", "broken", &cfg,
                                          s->min, LIMIT_MS);
    CU_ASSERT_TRUE_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, CD_VIOLATED);
}

/* test: broken: a storm longer than the limit still ends */
static void broken_run_ends_at_the_hard_timeout(void)
{
    /* A storm far longer than the limit: the writer is still waiting when
     * the watchdog stops the run, and every thread ends. */
    const cd_scenario_t *s = cd_scenario_find("starvation");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    cd_run_opts_t o = {
        .params = { .threads = s->defaults.threads, .iterations = 100000 },
        .timeout_ms = 300,
        .latency_permille = 1000,
    };
    child_run_t c = run_forked_opts("starvation", "broken", &o, LIMIT_MS);
    CU_ASSERT_TRUE_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, CD_TIMEOUT);
    CU_ASSERT_TRUE(fig(&c, "writes") < fig(&c, "write_quota"));
    /* The verdict says what the machine gave the run, so that a reader
     * can tell a hang from a starved machine: the CPU it had in the wall
     * time, or - on a machine busy besides - how long it waited for one. */
    if (!strstr(c.r.verdict.observed, "s for a CPU and ran"))
        ASSERT_STR_HAS(c.r.verdict.observed, "s of CPU");
    CU_ASSERT_TRUE(fig(&c, "cpu_ms") >= 0);
    CU_ASSERT_TRUE(fig(&c, "waited_for_cpu_ms") >= 0);
}

static void fix_holds_over_runs(const char *fix, const char *policy)
{
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_forked("starvation", fix, 0, 0, LIMIT_MS);
        CU_ASSERT_TRUE_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
        CU_ASSERT_TRUE(fig(&c, "most_reads_past_writer") <=
                       fig(&c, "reads_past_writer_bound"));
        ASSERT_INT_EQ(fig(&c, "writes"), fig(&c, "write_quota"));
        ASSERT_INT_EQ(fig(&c, "reads"), c.r.params.iterations);
        ASSERT_STR_HAS(cd_verdict_get_str(&c.r.verdict, "policy"), policy);
    }
}

/* test: writer-pref: no read overtakes the waiting writer, every run */
static void writer_pref_fix_holds(void)
{
    fix_holds_over_runs("writer-pref", "prefer-writer");
}

/* test: fair: no read overtakes the waiting writer, every run */
static void fair_fix_holds(void) { fix_holds_over_runs("fair", "fair"); }

static cmd_out_t out;

/* test: --json shows each thread's share */
static void json_shows_each_threads_share(void)
{
    const char *argv[] = { concdemo_bin(), "starvation", "--fixed=fair",
                           "--threads", "5", "--iterations", "100", "--json",
                           NULL };
    run_cmd(&out, argv, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "\"status\":\"HELD\"");
    /* 100 requests, each taken by whichever of the 5 threads is free: five
     * shares that add up to 100. */
    const char *at = strstr(out.out, "\"reads_per_thread\":\"");
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    at += strlen("\"reads_per_thread\":\"");
    int sum = 0, shares = 0;
    for (char *end; *at != '"'; at = *end == '/' ? end + 1 : end, shares++) {
        sum += (int)strtol(at, &end, 10);
        CU_ASSERT_TRUE_FATAL(end != at);
    }
    ASSERT_INT_EQ(shares, 5);
    ASSERT_INT_EQ(sum, 100);
    ASSERT_STR_HAS(out.out, "\"writes\":5");
    ASSERT_STR_HAS(out.out, "\"reads_past_writer_per_thread\":");
}

/* test: the verdict line names the starved wait */
static void verdict_line_names_the_starved_wait(void)
{
    const char *argv[] = { concdemo_bin(), "starvation", NULL };
    run_cmd(&out, argv, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "starvation [broken]: VIOLATED");
    ASSERT_STR_HAS(out.out, "the trimmer waited");
    ASSERT_STR_HAS(out.out, "(request-1..6: ");
}

/* test: fewer request threads than 4 is a usage error */
static void too_few_threads_is_a_usage_error(void)
{
    const char *argv[] = { concdemo_bin(), "starvation", "--threads", "2",
                           NULL };
    run_cmd(&out, argv, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 2);
    ASSERT_INT_EQ(count_lines(out.err), 1);
}

/* long test: TSan: no report in any variant */
static void no_tsan_report_in_any_variant(void)
{
    static const char *const how[] = { NULL, "--fixed=writer-pref",
                                       "--fixed=fair" };
    static const int want[] = { 1, 0, 0 };

    require_tsan_bin();
    for (int i = 0; i < 3; i++) {
        const char *argv[] = { concdemo_tsan_bin(), "starvation", how[i],
                               NULL };
        run_cmd(&out, argv, "TSAN_OPTIONS=halt_on_error=0 exitcode=66",
                60000);
        expect_no_tsan_report(&out, how[i] ? how[i] : "broken", want[i]);
    }
}

/* A starved run of broken must show the bug. */
static void expect_starved_writer(const cmd_out_t *o)
{
    ASSERT_INT_EQ(o->exit_code, 1);
    ASSERT_STR_HAS(o->out, "starvation [broken]: VIOLATED");
    ASSERT_STR_HAS(o->out, "reads went in ahead of it");
}

/* A run that got almost no CPU at all (the machine busy besides our
 * loops) ends in a TIMEOUT that says so: the storm was never played. */
static int starved_past_its_limit(const cmd_out_t *o)
{
    if (!strstr(o->out, ": TIMEOUT") ||
        !strstr(o->out, "so a busy machine, not the run"))
        return 0;
    fprintf(stderr, "\n  starved past its limit, again: %.300s\n", o->out);
    return 1;
}

static void starved_run_ended(int i, const cmd_out_t *o, void *arg)
{
    char *again = arg;
    again[i] = (char)starved_past_its_limit(o);
    if (!again[i])
        expect_starved_writer(o);
}

/* The storm keeps its shape however late the machine runs the threads:
 * on a starved machine (every CPU busy, the run at a lower priority)
 * the request threads start late and run in bursts, and the broken lock
 * must still starve the trimmer - in the plain build and under TSan. */
/* long test: broken: starved on a starved machine too (plain, TSan) */
static void broken_starves_the_writer_on_a_starved_machine(void)
{
    static both_builds_t b;
    static const char *const args[] = { "starvation", "--iterations", "100",
                                        NULL };
    twice_in_both_builds(&b, args, "TSAN_OPTIONS=halt_on_error=0 exitcode=66");
    const cmd_spec_t *cmds = b.cmds;
    /* Two runs of each build, at once, starving each other as well. One
     * that the machine starved past its limit is played again, alone, a
     * few times at most. */
    char again[4] = { 0 };
    ASSERT_INT_EQ(run_cmds_starved(cmds, 4, 120000, starved_run_ended, again),
                  0);
    for (int i = 0; i < 4; i++) {
        if (!again[i])
            continue;
        for (int tries = 0; tries < 2; tries++) {
            run_cmd_starved(&out, cmds[i].argv, cmds[i].env, 120000);
            if (!starved_past_its_limit(&out))
                break;
        }
        expect_starved_writer(&out);
    }
}

/* Under exploration the scheduler may hold the trimmer back between
 * deciding to trim and reaching the lock, with no latency to space the
 * requests: reads that go in then did not overtake anything, since no
 * writer waited yet. Only reads past a writer waiting at the lock count,
 * so both fixes hold on every schedule. */
/* test: fixes hold under exploration without latency */
static void fixes_hold_under_exploration_without_latency(void)
{
    static const char *const fixes[] = { "--fixed=writer-pref",
                                         "--fixed=fair", NULL };
    static const char *const strategies[] = { "pct", "random", "dfs" };
    for (int k = 0; k < 3; k++) {
        const char *args[] = { "--strategy", strategies[k], "--latency-scale",
                               "0", "--runs", "300", NULL };
        expect_each_fix_explores_clean("starvation", fixes, args,
                                       "no violation in 300 schedules", NULL,
                                       120000);
    }
}
