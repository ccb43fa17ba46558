/*
 * test_livelock.c - the polite transfers: broken retries in lockstep until
 * the retries in a row pass the bound, on every run, on a loaded machine
 * too, and under the controlled scheduler; both fixes complete every
 * transfer, free and explored.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* suite: livelock */

#define LIMIT_MS 20000
#define RUNS 5         /* a broken run takes about 1 s: 20 rounds of 50 ms */
#define LOADED_RUNS 3

/* A command's limit: explore runs hundreds of schedules, slowly under a
 * sanitizer on a busy machine. */
#define CMD_LIMIT_MS 60000
/* Under make test-tsan the binary under test is a TSan build: a report
 * (the broken publication's race) must not change its exit code. */
#define TSAN_ENV "TSAN_OPTIONS=halt_on_error=0 exitcode=1"

static cmd_out_t out;

/* "20/20" -> the number of counts, each at least `least`; -1 if a count
 * is below it or the text is not a list of counts. */
static int counts_at_least(const char *s, long least)
{
    int n = 0;
    while (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < least)
            return -1;
        n++;
        s = *end == '/' ? end + 1 : end;
        if (*end && *end != '/')
            return -1;
    }
    return n;
}

/* The verdict of a livelock: the bound passed by retries in a row, every
 * teller retrying, no transfer between them, the money still all there. */
static void expect_livelock(const child_run_t *c, int tellers)
{
    const cd_verdict_t *v = &c->r.verdict;
    ASSERT_INT_EQ(v->status, CD_LIVELOCK);
    int64_t bound = cd_verdict_get_num(v, "livelock_bound");
    CU_ASSERT_TRUE(bound > 0);
    CU_ASSERT_TRUE(cd_verdict_get_num(v, "most_retries_in_a_row") >= bound);
    CU_ASSERT_TRUE(cd_verdict_get_num(v, "completed") <
                   cd_verdict_get_num(v, "transfers"));
    ASSERT_INT_EQ(counts_at_least(cd_verdict_get_str(v, "retries_per_thread"),
                                  1), tellers);
    ASSERT_INT_EQ(cd_verdict_get_num(v, "total"), 1000 * tellers);
}

/* Broken at its defaults with threads tellers (0: the default) on the
 * controlled scheduler's virtual clock, random:seed. There the tellers
 * meet on every tick because their deadlines do; a free run keeps them in
 * step only while the machine wakes each within 10 ms of the tick, which a
 * starved CI runner need not (a slipped round lets a transfer through). */
static child_run_t run_broken_controlled(int threads, uint64_t seed)
{
    const cd_scenario_t *s = cd_scenario_find("livelock");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    cd_params_t p = s->defaults;
    if (threads > 0)
        p.threads = threads;
    cd_sched_cfg_t cfg = sched_cfg(CD_SCHED_RANDOM, seed);
    return run_controlled_forked("livelock", "broken", &cfg, p, LIMIT_MS);
}

/* test: broken livelocks with retries past the bound */
static void broken_livelocks_with_retries_past_the_bound(void)
{
    child_run_t c = run_broken_controlled(0, 1);
    CU_ASSERT_TRUE_FATAL(c.finished);
    expect_livelock(&c, 2);
    ASSERT_STR_HAS(c.r.verdict.observed, "retries in a row and not one "
                                         "transfer between them");
    /* The run ended by its own judgement, not by the hard limit. */
    CU_ASSERT_FALSE(c.r.has_cycle);
    ASSERT_INT_EQ(c.r.ninv, 0);
}

/* test: broken livelocks on every run */
static void broken_livelocks_every_run(void)
{
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_broken_controlled(0, (uint64_t)i + 1);
        CU_ASSERT_TRUE_FATAL(c.finished);
        expect_livelock(&c, 2);
    }
}

/* A free run's verdict whatever the machine did to it: a livelock, or -
 * where a round slipped often enough to let transfers through - a run that
 * held; the money all there either way. */
static void expect_livelock_or_slipped(const child_run_t *c, int tellers)
{
    if (c->r.verdict.status == CD_LIVELOCK) {
        expect_livelock(c, tellers);
        return;
    }
    ASSERT_INT_EQ(c->r.verdict.status, CD_HELD);
    ASSERT_INT_EQ(cd_verdict_get_num(&c->r.verdict, "total"),
                  1000 * tellers);
}

/* Runs round LOADED_RUNS times with a busy loop per CPU, at the runs' own
 * priority. A round returns 0 when its runs did not finish: no more rounds
 * then (a round asserts nothing _FATAL: the busy loops must be stopped). */
static void on_a_loaded_machine(int (*round)(void))
{
    pid_t pids[8];
    int n = start_busy_loops(pids, 8);
    CU_ASSERT_TRUE(n > 0);
    for (int i = 0; i < LOADED_RUNS; i++)
        if (!round())
            break;
    stop_busy_loops(pids, n);
}

static int broken_round(void)
{
    child_run_t c = run_forked("livelock", "broken", 0, 0, LIMIT_MS);
    CU_ASSERT_TRUE(c.finished);
    if (!c.finished)
        return 0;
    expect_livelock_or_slipped(&c, 2);
    return 1;
}

/* long test: broken livelocks on a loaded machine */
static void broken_livelocks_on_a_loaded_machine(void)
{
    /* The tellers wake late now and then, and the retry timer keeps them
     * in step as long as each is late by under 10 ms - usually (livelock),
     * but a CI runner busy besides may be later, so the run is held to its
     * invariants: the lockstep every time is the controlled runs' to
     * show. */
    on_a_loaded_machine(broken_round);
}

/* test: a ring of three livelocks */
static void a_ring_of_three_livelocks(void)
{
    child_run_t c = run_broken_controlled(3, 1);
    CU_ASSERT_TRUE_FATAL(c.finished);
    expect_livelock(&c, 3);
}

/* Every transfer completed, the money is all there, and no transfer
 * retried as often as the livelock bound. */
static void completes_without_a_retry_storm(const child_run_t *c)
{
    const cd_verdict_t *v = &c->r.verdict;
    ASSERT_INT_EQ(cd_verdict_get_num(v, "completed"),
                  cd_verdict_get_num(v, "transfers"));
    ASSERT_INT_EQ(cd_verdict_get_num(v, "total"),
                  1000 * c->r.params.threads);
    CU_ASSERT_TRUE(cd_verdict_get_num(v, "most_retries_in_a_row") <
                   cd_verdict_get_num(v, "livelock_bound"));
}

static void fix_holds_over_runs(const char *fix, int threads)
{
    expect_fix_holds_every_run("livelock", fix, threads, 0, RUNS,
                               completes_without_a_retry_storm, LIMIT_MS);
}

/* test: ordering fix holds without retrying */
static void ordering_fix_holds_without_retrying(void)
{
    fix_holds_over_runs("ordering", 0);
    child_run_t c = run_forked("livelock", "ordering", 0, 0, LIMIT_MS);
    CU_ASSERT_TRUE_FATAL(c.finished);
    ASSERT_INT_EQ(cd_verdict_get_num(&c.r.verdict, "retries"), 0);
}

/* test: ordering fix holds on a ring of four */
static void ordering_fix_holds_on_a_ring(void)
{
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_forked("livelock", "ordering", 4, 5, LIMIT_MS);
        CU_ASSERT_TRUE_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
        ASSERT_INT_EQ(cd_verdict_get_num(&c.r.verdict, "completed"), 20);
        ASSERT_INT_EQ(cd_verdict_get_num(&c.r.verdict, "retries"), 0);
    }
}

/* test: backoff fix holds */
static void backoff_fix_holds(void) { fix_holds_over_runs("backoff", 0); }

static int fixes_round(void)
{
    child_run_t o = run_forked("livelock", "ordering", 0, 0, LIMIT_MS);
    child_run_t b = run_forked("livelock", "backoff", 0, 0, LIMIT_MS);
    CU_ASSERT_TRUE(o.finished && b.finished);
    if (!o.finished || !b.finished)
        return 0;
    ASSERT_INT_EQ(o.r.verdict.status, CD_HELD);
    ASSERT_INT_EQ(b.r.verdict.status, CD_HELD);
    return 1;
}

/* long test: fixes hold on a loaded machine */
static void fixes_hold_on_a_loaded_machine(void)
{
    on_a_loaded_machine(fixes_round);
}

/* One run under --sched=pct:SEED with the default sizes. */
static child_run_t run_controlled(const char *variant, uint64_t seed)
{
    return run_seeded_forked("livelock", variant, CD_SCHED_PCT, seed,
                             LIMIT_MS);
}

/* test: a controlled run livelocks and repeats itself */
static void a_controlled_run_livelocks_and_repeats_itself(void)
{
    /* Latencies are virtual there: the tellers meet on the timer's ticks
     * because their deadlines do, and the verdict comes from the retries
     * in a row long before the step bound would stop the run. */
    child_run_t a = expect_seeded_run_repeats("livelock", "broken",
                                              CD_SCHED_PCT, 1, CD_LIVELOCK,
                                              LIMIT_MS);
    expect_livelock(&a, 2);
    CU_ASSERT_TRUE(a.r.steps < CD_SCHED_DEFAULT_STEPS);
}

/* test: controlled: the fixes hold, backoff after retries */
static void controlled_fixes_hold_and_backoff_retries(void)
{
    child_run_t o = run_controlled("ordering", 1);
    child_run_t f = run_controlled("backoff", 1);
    CU_ASSERT_TRUE_FATAL(o.finished && f.finished);
    ASSERT_INT_EQ(o.r.verdict.status, CD_HELD);
    ASSERT_INT_EQ(cd_verdict_get_num(&o.r.verdict, "retries"), 0);
    /* On the virtual clock both tellers start at the same instant, so
     * their first tries collide for certain: the retries show the random
     * pauses at work, parting tellers that met, not luck keeping them
     * apart. (A free run on a busy machine may start one late enough to
     * need none.) */
    ASSERT_INT_EQ(f.r.verdict.status, CD_HELD);
    CU_ASSERT_TRUE(cd_verdict_get_num(&f.r.verdict, "retries") > 0);
}

/* test: explore finds the livelock and its replay repeats it */
static void explore_finds_the_livelock_and_the_replay_repeats_it(void)
{
    static cmd_out_t again;
    static const char *const args[] = { "livelock", NULL };
    static const char *const verdict[] = { "LIVELOCK — ",
                                           "40 retries in a row", NULL };
    expect_explore_finds_and_replays(&out, &again, args, verdict, NULL,
                                     TSAN_ENV, CMD_LIMIT_MS);
}

/* test: fixes hold under explore */
static void fixes_hold_under_explore(void)
{
    /* pct samples schedules; dfs tries every one within one preemption
     * (two make thousands, too many for a sanitizer build on a busy
     * machine). */
    static const char *const fixes[] = { "--fixed=ordering", "--fixed=backoff", NULL };
    expect_fixes_hold_under_explore("livelock", fixes, 20, 1, TSAN_ENV,
                                    CMD_LIMIT_MS);
}

/* test: the verdict is LIVELOCK, exit 1, in JSON too */
static void the_verdict_is_livelock_with_exit_1_in_json(void)
{
    const char *argv[] = { concdemo_bin(), "livelock", "--json", NULL };
    run_cmd(&out, argv, TSAN_ENV, CMD_LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "\"status\":\"LIVELOCK\",\"exit_code\":1");
    ASSERT_STR_HAS(out.out, "\"retries_per_thread\":");
}

/* test: the view slows it x10, not x100 */
static void the_view_slows_it_x10_not_x100(void)
{
    /* Its rounds are 50 ms already: at the view's usual x100 the 20 rounds
     * of a livelock would outlast the view's 60 s limit. */
    const char *argv[] = { concdemo_bin(), "livelock", "--fixed=ordering",
                           "--iterations=1", "--view=text", NULL };
    run_cmd(&out, argv, TSAN_ENV, CMD_LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "latency x10 ");
    const char *other[] = { concdemo_bin(), "publication", "--iterations=1",
                            "--threads=1", "--fixed", "--view=text", NULL };
    run_cmd(&out, other, TSAN_ENV, CMD_LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "latency x100 ");
}

/* test: without latency the run still ends honestly */
static void no_latency_still_ends_honestly(void)
{
    /* Without latency there is no timer to keep the tellers in step: they
     * spin, and either get through or pass the bound - and the run ends. */
    child_run_t c = expect_broken_without_latency("livelock", 2, 20, CD_HELD,
                                                  CD_LIVELOCK, LIMIT_MS);
    ASSERT_INT_EQ(cd_verdict_get_num(&c.r.verdict, "total"), 2000);
}
