/*
 * test_webhook.c - the retried webhook: three deliveries of each event.
 *
 * Broken must fulfil every event three times on every run, on one worker
 * (the await is the switch, so no timing luck is involved) and on several,
 * and even with the latency scale at 0. Each fix must hold, and each test
 * of a fix first runs the broken handler in the same set-up and sees it
 * fail there: the window is open, so a fix that held only because nothing
 * overlapped would be caught. The keyed fix must keep different events
 * overlapping at the warehouse while one event's deliveries go in turn.
 * The schedule search must find the bug, replay it, and find no schedule
 * that breaks a fix on two workers.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* suite: webhook */

#define LIMIT_MS 20000
#define CMD_LIMIT_MS 60000
#define RUNS 5

static cmd_out_t out;

/* Runs variant with o and checks the verdict is status. */
static cd_verdict_t run_expect(const char *variant, const cd_run_opts_t *o,
                               int status)
{
    child_run_t c = run_forked_opts("webhook", variant, o, LIMIT_MS);
    CU_ASSERT_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, status);
    return c.r.verdict;
}

/* The broken handler fulfils every event once per delivery. */
static void expect_every_event_thrice(const cd_verdict_t *v)
{
    int64_t events = cd_verdict_get_num(v, "events");
    ASSERT_INT_EQ(v->status, CD_VIOLATED);
    ASSERT_INT_EQ(cd_verdict_get_num(v, "fulfilments"), 3 * events);
    ASSERT_INT_EQ(cd_verdict_get_num(v, "fulfilled_twice_or_more"), events);
    ASSERT_INT_EQ(cd_verdict_get_num(v, "max_same_event_at_once"), 3);
    ASSERT_INT_EQ(cd_verdict_get_num(v, "acknowledged_retries"), 0);
}

/* A fix: one fulfilment per event, every retry acknowledged, never two
 * deliveries of one event at the warehouse at once. */
static void expect_once_each(const cd_verdict_t *v)
{
    int64_t events = cd_verdict_get_num(v, "events");
    ASSERT_INT_EQ(v->status, CD_HELD);
    ASSERT_INT_EQ(cd_verdict_get_num(v, "fulfilments"), events);
    ASSERT_INT_EQ(cd_verdict_get_num(v, "fulfilled_twice_or_more"), 0);
    ASSERT_INT_EQ(cd_verdict_get_num(v, "unfulfilled"), 0);
    ASSERT_INT_EQ(cd_verdict_get_num(v, "acknowledged_retries"), 2 * events);
    ASSERT_INT_EQ(cd_verdict_get_num(v, "max_same_event_at_once"), 1);
}

/* The default run, one worker and 8 events, each fulfilled 3 times. */
static void thrice_each_of_8(const child_run_t *c)
{
    expect_every_event_thrice(&c->r.verdict);
    ASSERT_INT_EQ(fig(c, "workers"), 1);
    ASSERT_INT_EQ(fig(c, "events"), 8);
    ASSERT_STR_HAS(c->r.verdict.observed,
                   "24 fulfilments for 8 events (8 fulfilled 3 times)");
    ASSERT_STR_HAS(c->r.verdict.observed, "one worker thread");
}

/* test: broken fulfils every event three times on every run */
static void test_broken_fulfils_every_event_three_times_every_run(void)
{
    /* Free: one worker, and the await is the switch. */
    expect_every_free_run("webhook", "broken", RUNS, CD_VIOLATED,
                          thrice_each_of_8, LIMIT_MS);
}

/* test: broken even with latency scale 0 */
static void test_broken_even_without_latency(void)
{
    /* Latency 0: the warehouse takes no time, the await still parks. */
    child_run_t c =
        expect_broken_on_one_worker_without_latency("webhook", LIMIT_MS);
    expect_every_event_thrice(&c.r.verdict);
}

/* test: broken on two workers */
static void test_broken_on_several_workers(void)
{
    /* 8 events on 2 workers: an event's three deliveries land on one
     * worker (spawned 8 apart, round-robin), so all three pass the check
     * before the first await ends - whatever the other worker does. */
    cd_run_opts_t o = scenario_opts("webhook", 0, 2, 1000, LIMIT_MS);
    for (int i = 0; i < RUNS; i++) {
        cd_verdict_t v = run_expect("broken", &o, CD_VIOLATED);
        ASSERT_INT_EQ(cd_verdict_get_num(&v, "fulfilled_twice_or_more"), 8);
        ASSERT_STR_HAS(v.observed, "on several threads now");
    }
}

/* On one worker the broken handler fails in this set-up; the fix holds on
 * every run with every event at the warehouse at once: what it serialises
 * is one event's deliveries, not the handler. */
static void expect_fix_holds_and_events_overlap(const char *fix)
{
    cd_run_opts_t o = scenario_opts("webhook", 0, 1, 1000, LIMIT_MS);
    cd_verdict_t b = run_expect("broken", &o, CD_VIOLATED);
    expect_every_event_thrice(&b);
    for (int i = 0; i < RUNS; i++) {
        cd_verdict_t v = run_expect(fix, &o, CD_HELD);
        expect_once_each(&v);
        ASSERT_INT_EQ(cd_verdict_get_num(&v, "max_fulfilling_at_once"),
                      cd_verdict_get_num(&v, "events"));
    }
}

/* test: keyed holds; events overlap, one event's deliveries in turn */
static void test_keyed_holds_and_events_overlap(void)
{
    /* The lock is per event id, not one for the handler. */
    expect_fix_holds_and_events_overlap("keyed");
}

/* test: idempotency holds; events overlap */
static void test_idempotency_holds_and_events_overlap(void)
{
    expect_fix_holds_and_events_overlap("idempotency");
}

/* test: fixes hold on two and three workers */
static void test_fixes_hold_on_several_workers(void)
{
    /* Two workers, 20 events: each event's deliveries share a worker, so
     * broken fails here on every run. Three workers: each event's three
     * deliveries run on three different threads, and the fixes must hold
     * across them (the keyed lock handed from worker to worker). */
    static const char *const fixes[] = { "keyed", "idempotency" };
    cd_run_opts_t two = scenario_opts("webhook", 20, 2, 1000, LIMIT_MS);
    cd_run_opts_t three = scenario_opts("webhook", 20, 3, 1000, LIMIT_MS);
    cd_verdict_t b = run_expect("broken", &two, CD_VIOLATED);
    expect_every_event_thrice(&b);
    for (int f = 0; f < 2; f++)
        for (int i = 0; i < RUNS; i++) {
            cd_verdict_t v = run_expect(fixes[f], i % 2 ? &two : &three,
                                        CD_HELD);
            expect_once_each(&v);
        }
}

/* test: explore finds the bug and its replay repeats it */
static void test_explore_finds_the_bug_and_the_replay_repeats_it(void)
{
    static cmd_out_t again;
    static const char *const args[] = { "webhook", "--workers=2",
                                        "--iterations=2", NULL };
    static const char *const verdict[] = { "VIOLATED — ", "fulfilled", NULL };
    expect_explore_finds_and_replays(&out, &again, args, verdict, NULL, NULL,
                                     CMD_LIMIT_MS);
}

/* Each fix under dfs on two workers and two events - and the broken
 * handler in the same search fails, so the search is one that would catch
 * a fix that did not hold. */
/* test: fixes hold under dfs, where broken fails */
static void test_fixes_hold_under_dfs(void)
{
    static const char *const fixes[] = { "--fixed=keyed",
                                         "--fixed=idempotency", NULL };
    /* Two workers, two events, at most one preemption: broken fails at
     * the first schedule, and each fix is tried whole in 100-130
     * schedules. (Two preemptions make 1,700: half a minute under TSan on
     * an idle machine, past the limit on a busy one.) */
    const char *broken[] = { "explore", "webhook", "--workers=2",
                             "--iterations=2", "--strategy=dfs", "--bound=1",
                             NULL };
    run_concdemo(&out, broken, NULL, CMD_LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "violation found after");
    expect_each_fix_explores_clean("webhook", fixes, broken + 2,
                                   "every schedule with at most 1 "
                                   "preemption tried", NULL, CMD_LIMIT_MS);
    /* And at the explore size the scenario gives (one event, one worker). */
    expect_fixes_hold_under_explore("webhook", fixes, 20, 2, NULL,
                                    CMD_LIMIT_MS);
}

/* Under ThreadSanitizer: no report for any variant on one worker - the
 * broken handler has no data race, only interleaved tasks. */
static void tsan_quiet(const char *fixed, int want_exit)
{
    const char *argv[] = { concdemo_tsan_bin(), "webhook", fixed, NULL };
    run_cmd(&out, argv, NULL, LIMIT_MS);
    expect_no_tsan_report(&out, fixed ? fixed : "broken", want_exit);
    ASSERT_STR_HAS(out.out, want_exit ? "VIOLATED" : "HELD");
}

/* long test: TSan reports no data race in broken (one thread) */
static void test_tsan_sees_no_data_race_in_broken(void)
{
    tsan_quiet(NULL, 1);
}
