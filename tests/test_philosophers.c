/*
 * test_philosophers.c - five diners: broken deadlocks round the whole
 * table and is reported with its five links; every fix feeds everybody,
 * with no lock-order finding; the controlled scheduler repeats a run and
 * explore tells the broken table from the fixed ones.
 */
#include <string.h>

#include "harness.h"

/* suite: philosophers */

#define LIMIT_MS 20000
#define CMD_LIMIT_MS 120000
#define RUNS 10

static cmd_out_t out, out2;

static void concdemo(cmd_out_t *o, const char *const args[])
{
    run_concdemo(o, args, "TSAN_OPTIONS=exitcode=1", CMD_LIMIT_MS);
}

/* ================================ broken ================================= */

/* test: broken deadlocks round the table, five links named */
static void broken_deadlocks_round_the_table(void)
{
    child_run_t c = expect_deadlock_cycle(
        "philosophers", 0, 1, 5,
        "diner-1 holds fork-1, waits fork-2; "
        "diner-2 holds fork-2, waits fork-3; "
        "diner-3 holds fork-3, waits fork-4; "
        "diner-4 holds fork-4, waits fork-5; "
        "diner-5 holds fork-5, waits fork-1", LIMIT_MS);
    CU_ASSERT_TRUE(cd_verdict_get_num(&c.r.verdict, "eaten") <
                   cd_verdict_get_num(&c.r.verdict, "meals"));
}

/* test: broken deadlocks on every run, found by the watchdog */
static void broken_deadlocks_every_run_found_by_the_watchdog(void)
{
    expect_deadlock_cycle("philosophers", 0, RUNS, 5, NULL, LIMIT_MS);
}

/* test: a table of three deadlocks with three links */
static void a_table_of_three_has_three_links(void)
{
    expect_deadlock_cycle("philosophers", 3, 1, 3,
                          "diner-3 holds fork-3, waits fork-1", LIMIT_MS);
}

/* ================================= fixes ================================= */

/* Every meal eaten, and each diner had all ten of theirs. */
static void everybody_fed(const child_run_t *c)
{
    ASSERT_INT_EQ(cd_verdict_get_num(&c->r.verdict, "eaten"),
                  cd_verdict_get_num(&c->r.verdict, "meals"));
    ASSERT_INT_EQ(cd_verdict_get_num(&c->r.verdict, "fewest_eaten"), 10);
}

static void fix_holds_over_runs(const char *fix, int diners)
{
    expect_fix_holds_every_run("philosophers", fix, diners, 0, RUNS,
                               everybody_fed, LIMIT_MS);
}

/* test: ordering fix holds */
static void ordering_fix_holds(void) { fix_holds_over_runs("ordering", 0); }
/* test: waiter fix holds */
static void waiter_fix_holds(void) { fix_holds_over_runs("waiter", 0); }
/* test: timeout fix holds */
static void timeout_fix_holds(void) { fix_holds_over_runs("timeout", 0); }

/* test: fixes hold for two diners and for nine */
static void fixes_hold_for_two_and_for_nine(void)
{
    const char *fixes[] = { "ordering", "waiter", "timeout" };
    for (int i = 0; i < 3; i++) {
        fix_holds_over_runs(fixes[i], 2);
        child_run_t c = run_forked("philosophers", fixes[i], 9, 0, LIMIT_MS);
        CU_ASSERT_TRUE_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
        ASSERT_INT_EQ(c.r.ninv, 0);
    }
}

/* One controlled run, on time: every diner takes a fork before any
 * reach ends, the way the free run's 2 ms window makes it happen. */
static child_run_t run_controlled(const char *variant, int strategy,
                                  uint64_t seed)
{
    return run_seeded_forked("philosophers", variant, strategy, seed, LIMIT_MS);
}

/* test: timeout fix gives forks back and retries */
static void timeout_fix_gives_forks_back_and_retries(void)
{
    /* Under the scheduler all five hold their left fork before the first
     * timed wait runs out: at least one diner must put its fork back,
     * or nobody would eat. retries > 0 is the fix at work, not luck. */
    child_run_t c = run_controlled("timeout", CD_SCHED_PCT, 1);
    CU_ASSERT_TRUE_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
    CU_ASSERT_TRUE(cd_verdict_get_num(&c.r.verdict, "retries") > 0);
}

/* ========================== the controlled scheduler ===================== */

/* test: controlled runs deadlock, the same way twice */
static void controlled_runs_deadlock_and_repeat(void)
{
    /* pct:1 and random:1, each twice: the same deadlock, the same
     * schedule, byte for byte. */
    int strategies[] = { CD_SCHED_PCT, CD_SCHED_RANDOM };
    for (int k = 0; k < 2; k++) {
        child_run_t a = expect_seeded_run_repeats(
            "philosophers", "broken", strategies[k], 1, CD_DEADLOCK, LIMIT_MS);
        ASSERT_INT_EQ(a.r.cycle.len, 5);
    }
}

/* test: controlled fixes hold, the same way twice */
static void controlled_fixes_hold_and_repeat(void)
{
    const char *fixes[] = { "ordering", "waiter", "timeout" };
    for (int i = 0; i < 3; i++) {
        child_run_t a = expect_seeded_run_repeats(
            "philosophers", fixes[i], CD_SCHED_RANDOM, 7, CD_HELD, LIMIT_MS);
        ASSERT_INT_EQ(a.r.ninv, 0);
    }
}

/* test: explore finds the deadlock; its replay repeats it */
static void explore_finds_the_deadlock_and_its_replay_repeats_it(void)
{
    static const char *const args[] = { "philosophers", NULL };
    static const char *const verdict[] = { "DEADLOCK", NULL };
    expect_explore_finds_and_replays(&out, &out2, args, verdict, NULL,
                                     "TSAN_OPTIONS=exitcode=1", CMD_LIMIT_MS);
}

static const char *const explored_fixes[] = {
    "--fixed=ordering", "--fixed=waiter", "--fixed=timeout", NULL };

/* test: dfs tries every schedule of each fix */
static void dfs_tries_every_schedule_of_each_fix(void)
{
    static const char *const dfs[] = { "--strategy", "dfs", NULL };
    expect_each_fix_explores_clean("philosophers", explored_fixes, dfs,
                                   DFS_EXHAUSTED,
                                   "TSAN_OPTIONS=exitcode=1", CMD_LIMIT_MS);
}

/* test: pct finds nothing in the fixes */
static void pct_finds_nothing_in_the_fixes(void)
{
    static const char *const pct[] = { "--strategy", "pct", "--runs", "200",
                                       NULL };
    expect_each_fix_explores_clean("philosophers", explored_fixes, pct,
                                   "no violation in 200 schedules",
                                   "TSAN_OPTIONS=exitcode=1", CMD_LIMIT_MS);
}

/* ================================ the view =============================== */

/* test: the text view draws the ring of five */
static void the_text_view_draws_the_ring_of_five(void)
{
    const char *args[] = { "philosophers", "--view=text", NULL };
    concdemo(&out, args);
    ASSERT_INT_EQ(out.exit_code, 1);
    /* The last frame's cycle panel, its wrapped lines joined again. */
    const char *head = "DEADLOCK: each thread waits for a lock the next one "
                       "holds; none can move\n";
    const char *at = NULL;
    for (const char *p = strstr(out.out, head); p; p = strstr(p + 1, head))
        at = p + strlen(head);
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    char ring[1024];
    size_t n = 0;
    for (; *at && n + 1 < sizeof ring; at++) {
        if (at[0] == '\n' && strncmp(at + 1, "  ", 2) != 0)
            break;  /* the panel ends where the indented lines end */
        if (at[0] == '\n') {
            at += 2;
            if (n > 0)
                ring[n++] = ' ';
            continue;
        }
        ring[n++] = *at;
    }
    ring[n] = '\0';
    ASSERT_STR_HAS(ring, "diner-1 holds fork-1 -> waits fork-2 -> held by "
                         "diner-2 -> waits fork-3 -> held by diner-3 -> "
                         "waits fork-4 -> held by diner-4 -> waits fork-5 -> "
                         "held by diner-5 -> waits fork-1");
}
