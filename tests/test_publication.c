/*
 * test_publication.c - the early flag: broken hands handlers sessions that
 * are not written yet, on every run and on every controlled schedule that
 * explore tries first; both fixes hold, free and explored.
 */
#include <string.h>

#include "harness.h"

/* suite: publication */

#define LIMIT_MS 20000
#define RUNS 5

/* A command's limit: explore runs hundreds of schedules, slowly under a
 * sanitizer on a busy machine. */
#define CMD_LIMIT_MS 60000
/* Under make test-tsan the binary under test is a TSan build: a report
 * (the broken publication's race) must not change its exit code. */
#define TSAN_ENV "TSAN_OPTIONS=halt_on_error=0 exitcode=1"

static cmd_out_t out;

/* test: broken hands out stale sessions */
static void broken_hands_out_stale_sessions(void)
{
    child_run_t c = expect_status("publication", "broken", CD_VIOLATED,
                                  LIMIT_MS);
    /* Every handler read every connection (4 x 8), and some of those reads
     * found the flag up and the session still 0. */
    ASSERT_INT_EQ(cd_verdict_get_num(&c.r.verdict, "readers"), 4);
    ASSERT_INT_EQ(cd_verdict_get_num(&c.r.verdict, "reads"), 32);
    CU_ASSERT_TRUE(cd_verdict_get_num(&c.r.verdict, "stale_reads") > 0);
    ASSERT_STR_HAS(c.r.verdict.observed, "used session 0");
}

/* Every read used a session before it was filled in: the handshake waits
 * for handlers that the machine runs late. */
static void read_stale(const child_run_t *c)
{
    ASSERT_INT_EQ(cd_verdict_get_num(&c->r.verdict, "stale_reads"),
                  cd_verdict_get_num(&c->r.verdict, "reads"));
}

/* test: broken is violated on every run */
static void broken_is_violated_every_run(void)
{
    expect_every_run("publication", "broken", RUNS, CD_VIOLATED, read_stale,
                     LIMIT_MS);
}

/* No stale read, and every handler read every connection. */
static void reads_all_fresh(const child_run_t *c)
{
    ASSERT_INT_EQ(cd_verdict_get_num(&c->r.verdict, "stale_reads"), 0);
    ASSERT_INT_EQ(cd_verdict_get_num(&c->r.verdict, "reads"),
                  c->r.params.threads * c->r.params.iterations);
}

static void fix_holds_over_runs(const char *fix, int threads, int conns)
{
    expect_fix_holds_every_run("publication", fix, threads, conns, RUNS,
                               reads_all_fresh, LIMIT_MS);
}

/* test: release-acquire fix holds */
static void release_acquire_fix_holds(void)
{
    fix_holds_over_runs("release-acquire", 0, 0);
}
/* test: mutex fix holds */
static void mutex_fix_holds(void) { fix_holds_over_runs("mutex", 0, 0); }

/* test: fixes hold with 32 handlers */
static void fixes_hold_with_many_handlers(void)
{
    child_run_t a = run_forked("publication", "release-acquire", 32, 16,
                               LIMIT_MS);
    child_run_t m = run_forked("publication", "mutex", 32, 16, LIMIT_MS);
    CU_ASSERT_TRUE_FATAL(a.finished && m.finished);
    ASSERT_INT_EQ(a.r.verdict.status, CD_HELD);
    ASSERT_INT_EQ(m.r.verdict.status, CD_HELD);
    ASSERT_CLEAN_EXIT(a);
    ASSERT_CLEAN_EXIT(m);
}

/* One run under --sched=pct:SEED with the default sizes. */
static child_run_t run_controlled(const char *variant, uint64_t seed)
{
    return run_seeded_forked("publication", variant, CD_SCHED_PCT, seed,
                             LIMIT_MS);
}

/* test: a controlled run shows it and repeats itself */
static void a_controlled_run_shows_it_and_repeats_itself(void)
{
    /* The handlers' polls are scheduling points, so a controlled run
     * interleaves them with the warmer's two writes: stale reads, and the
     * same ones, schedule and all, each time the seed is played. */
    child_run_t a = expect_seeded_run_repeats("publication", "broken",
                                              CD_SCHED_PCT, 1, CD_VIOLATED,
                                              LIMIT_MS);
    read_stale(&a);
    child_run_t f = run_controlled("release-acquire", 1);
    CU_ASSERT_TRUE_FATAL(f.finished);
    ASSERT_INT_EQ(f.r.verdict.status, CD_HELD);
}

/* test: explore finds it and its replay repeats it */
static void explore_finds_it_and_the_replay_repeats_it(void)
{
    static cmd_out_t again;
    static const char *const args[] = { "publication", NULL };
    static const char *const verdict[] = { "VIOLATED — ", "used session 0",
                                           NULL };
    expect_explore_finds_and_replays(&out, &again, args, verdict, NULL,
                                     TSAN_ENV, CMD_LIMIT_MS);
}

/* test: fixes hold under explore */
static void fixes_hold_under_explore(void)
{
    /* pct samples schedules; dfs tries every one within one preemption
     * (two make thousands, too many for a sanitizer build on a busy
     * machine). */
    static const char *const fixes[] = { "--fixed=release-acquire", "--fixed=mutex", NULL };
    expect_fixes_hold_under_explore("publication", fixes, 20, 1, TSAN_ENV,
                                    CMD_LIMIT_MS);
}

/* test: without latency the run still ends honestly */
static void no_latency_still_ends_honestly(void)
{
    /* With the handshake scaled to 0 the window nearly closes: whatever the
     * run saw, it must end and say so. */
    child_run_t c = expect_broken_without_latency("publication", 4, 8, CD_HELD,
                                                  CD_VIOLATED, LIMIT_MS);
    ASSERT_INT_EQ(cd_verdict_get_num(&c.r.verdict, "reads"), 32);
}

/* A starved run of broken: every read stale; under TSan, the first report
 * is the warmer's write finding a handler's earlier read (the order the
 * worksheet quotes), not a late read finding the write. */
static void starved_run_saw_early_flag(int i, const cmd_out_t *o, void *arg)
{
    (void)arg;
    ASSERT_STR_HAS(o->out, "observed 32 of 32 reads saw the ready flag");
    if (i < 2)
        return; /* the plain build */
    const char *report = strstr(o->err, "WARNING: ThreadSanitizer: data race");
    CU_ASSERT_PTR_NOT_NULL_FATAL(report);
    const char *frame = strstr(report, "#0 ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(frame);
    static const char write_first[] = "#0 publish_broken ";
    int ok = strncmp(frame, write_first, sizeof write_first - 1) == 0;
    if (!ok)
        fprintf(stderr, "\n  the first report begins: %.400s\n", report);
    CU_ASSERT_TRUE(ok);
    ASSERT_STR_HAS(report, "Previous read");
}

/* long test: broken: every read stale on a starved machine too (plain, TSan) */
static void every_read_stale_on_a_starved_machine(void)
{
    static both_builds_t b;
    static const char *const args[] = { "publication", NULL };
    twice_in_both_builds(&b, args, TSAN_ENV);
    /* Two runs of each build at once, beside a busy loop per CPU:
     * handlers wake late, often past the 2 ms handshake. */
    ASSERT_INT_EQ(run_cmds_busy(b.cmds, 4, CMD_LIMIT_MS,
                                starved_run_saw_early_flag, NULL), 0);
}
