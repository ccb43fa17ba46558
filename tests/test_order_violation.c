/*
 * test_order_violation.c - the connection used before it exists: broken
 * handlers find no connection on every run; with each fix every request
 * is served on the one connection; the controlled scheduler repeats a
 * run, and explore tells the broken start-up from the fixed ones.
 */
#include <string.h>

#include "harness.h"

/* suite: order-violation */

#define LIMIT_MS 20000
#define CMD_LIMIT_MS 120000
#define RUNS 10

static const char *const fixes[] = { "cond", "join", "once" };
#define NFIXES 3

static cmd_out_t out, out2;

static void concdemo(cmd_out_t *o, const char *const args[])
{
    run_concdemo(o, args, "TSAN_OPTIONS=exitcode=1", CMD_LIMIT_MS);
}

/* ================================ broken ================================= */

/* The broken run at its default sizes. Its database holds the handshake
 * until a handler has looked for the connection, so a handler that a
 * loaded machine starts late still comes inside the window. */
static child_run_t run_broken(void)
{
    return run_forked("order-violation", "broken", 0, 0, LIMIT_MS);
}

/* test: broken uses the connection before it exists */
static void broken_uses_the_connection_before_it_exists(void)
{
    child_run_t c = run_broken();
    CU_ASSERT_TRUE_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, CD_VIOLATED);
    CU_ASSERT_TRUE(cd_verdict_get_num(&c.r.verdict,
                                      "used_before_creation") > 0);
    CU_ASSERT_TRUE(cd_verdict_get_num(&c.r.verdict, "served") <
                   cd_verdict_get_num(&c.r.verdict, "requests"));
    /* Start-up did its part - once; the order is what was wrong. */
    ASSERT_INT_EQ(cd_verdict_get_num(&c.r.verdict, "connects"), 1);
    ASSERT_STR_HAS(c.r.verdict.observed, "before start-up had made it");
}

/* test: broken is violated on every run */
static void broken_is_violated_on_every_run(void)
{
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_broken();
        CU_ASSERT_TRUE_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_VIOLATED);
        CU_ASSERT_TRUE(cd_verdict_get_num(&c.r.verdict,
                                          "used_before_creation") > 0);
    }
}

/* ================================= fixes ================================= */

/* Nothing used before it existed, every request served, one connect. */
static void connected_once_before_use(const child_run_t *c)
{
    const cd_verdict_t *v = &c->r.verdict;
    ASSERT_INT_EQ(cd_verdict_get_num(v, "used_before_creation"), 0);
    ASSERT_INT_EQ(cd_verdict_get_num(v, "served"),
                  cd_verdict_get_num(v, "requests"));
    ASSERT_INT_EQ(cd_verdict_get_num(v, "connects"), 1);
}

/* The same, and start-up made the connection (once lets whoever asks
 * first make it). */
static void connected_by_startup(const child_run_t *c)
{
    connected_once_before_use(c);
    ASSERT_STR_HAS(cd_verdict_get_str(&c->r.verdict, "connected_by"),
                   "startup");
}

static void fix_holds(const char *fix, int handlers, int requests, int runs)
{
    expect_fix_holds_every_run("order-violation", fix, handlers, requests,
                               runs,
                               strcmp(fix, "once") ? connected_by_startup
                                                   : connected_once_before_use,
                               LIMIT_MS);
}

static void fix_holds_over_runs(const char *fix)
{
    fix_holds(fix, 0, 0, RUNS);
}

/* test: cond fix holds */
static void cond_fix_holds(void) { fix_holds_over_runs("cond"); }
/* test: join fix holds */
static void join_fix_holds(void) { fix_holds_over_runs("join"); }
/* test: once fix holds */
static void once_fix_holds(void) { fix_holds_over_runs("once"); }

/* test: fixes hold with 32 handlers */
static void fixes_hold_with_many_handlers(void)
{
    /* 32 handlers race for the connection: once must still connect once,
     * cond must wake every waiter (a signal instead of a broadcast would
     * leave handlers asleep: TIMEOUT). */
    for (int i = 0; i < NFIXES; i++)
        fix_holds(fixes[i], 32, 4, 1);
}

/* ========================== the controlled scheduler ===================== */

static child_run_t run_controlled(const char *variant, int strategy,
                                  uint64_t seed)
{
    return run_seeded_forked("order-violation", variant, strategy, seed, LIMIT_MS);
}

/* test: controlled runs violate, the same way twice */
static void controlled_runs_violate_and_repeat(void)
{
    int strategies[] = { CD_SCHED_PCT, CD_SCHED_RANDOM };
    for (int k = 0; k < 2; k++)
        for (uint64_t seed = 1; seed <= 3; seed++) {
            child_run_t a = expect_seeded_run_repeats(
                "order-violation", "broken", strategies[k], seed, CD_VIOLATED,
                LIMIT_MS);
            CU_ASSERT_TRUE(fig(&a, "used_before_creation") > 0);
        }
}

/* test: controlled fixes hold, the same way twice */
static void controlled_fixes_hold_and_repeat(void)
{
    for (int i = 0; i < NFIXES; i++) {
        expect_seeded_run_repeats("order-violation", fixes[i],
                                  CD_SCHED_RANDOM, 7, CD_HELD, LIMIT_MS);
    }
}

/* test: once lets whoever asks first connect */
static void once_lets_whoever_asks_first_connect(void)
{
    /* Two schedules of the same program: in one a handler needs the
     * connection before start-up runs, in the other start-up is first.
     * Either way one connect, and nobody finds it missing. */
    child_run_t h = run_controlled("once", CD_SCHED_RANDOM, 1);
    child_run_t st = run_controlled("once", CD_SCHED_RANDOM, 2);
    CU_ASSERT_TRUE_FATAL(h.finished && st.finished);
    ASSERT_INT_EQ(h.r.verdict.status, CD_HELD);
    ASSERT_INT_EQ(st.r.verdict.status, CD_HELD);
    ASSERT_STR_HAS(cd_verdict_get_str(&h.r.verdict, "connected_by"),
                   "handler-");
    ASSERT_STR_HAS(cd_verdict_get_str(&st.r.verdict, "connected_by"),
                   "startup");
    ASSERT_INT_EQ(cd_verdict_get_num(&h.r.verdict, "connects"), 1);
    ASSERT_INT_EQ(cd_verdict_get_num(&st.r.verdict, "connects"), 1);
}

/* test: explore finds the violation; its replay repeats it */
static void explore_finds_the_violation_and_its_replay_repeats_it(void)
{
    static const char *const args[] = { "order-violation", NULL };
    expect_explore_finds_and_replays(&out, &out2, args, NULL, NULL,
                                     "TSAN_OPTIONS=exitcode=1", CMD_LIMIT_MS);
}

/* test: explore finds nothing in the fixes */
static void explore_finds_nothing_in_the_fixes(void)
{
    /* dfs: every schedule within two preemptions, at the scenario's
     * explore sizes; then pct with two handlers, two requests each. */
    static const char *const fixed[] = { "--fixed=cond", "--fixed=join",
                                         "--fixed=once", NULL };
    static const char *const dfs[] = { "--strategy", "dfs", NULL };
    static const char *const pct[] = { "--strategy", "pct", "--runs", "200",
                                       "--threads", "2", "--iterations", "2",
                                       NULL };
    expect_each_fix_explores_clean("order-violation", fixed, dfs,
                                   DFS_EXHAUSTED,
                                   "TSAN_OPTIONS=exitcode=1", CMD_LIMIT_MS);
    expect_each_fix_explores_clean("order-violation", fixed, pct,
                                   "no violation in 200 schedules",
                                   "TSAN_OPTIONS=exitcode=1", CMD_LIMIT_MS);
}

/* pct with spurious wake-ups: the cond fix's handler loops back to its
 * wait after each one, while start-up sleeps in its connect. A wake-up
 * for nothing must not be the scheduler's fallback when nothing else can
 * go on, or the connect never ends and the run meets its step bound. */
/* test: cond fix holds under pct with spurious wake-ups */
static void cond_fix_holds_under_pct_with_spurious_wakeups(void)
{
    const char *pct[] = { "explore", "order-violation", "--fixed=cond",
                          "--strategy", "pct", "--spurious", "--runs", "300",
                          NULL };
    concdemo(&out, pct);
    if (out.exit_code != 0)
        fprintf(stderr, "\n  pct --spurious: %.600s\n", out.out);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "no violation in 300 schedules");
}
