/*
 * test_lost_wakeup.c - the lost wake-up: the broken runner is stuck, and
 * the verdict names the signal that came first; both fixes hear every job.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* suite: lost-wakeup */

#define LIMIT_MS 20000
#define RUNS 10

static cmd_out_t out, out2;

/* What every stuck run of the broken runner must say: who waits on what,
 * and the signal nobody heard - its sender and its line. */
static void says_the_signal_came_first(const cd_verdict_t *v)
{
    ASSERT_INT_EQ(v->status, CD_STUCK);
    ASSERT_STR_HAS(v->observed, "runner waits on condition variable job-done");
    ASSERT_STR_HAS(v->observed, "worker-1 signalled job-done at "
                   "demos/lost_wakeup.c:");
    ASSERT_STR_HAS(v->observed, "before anyone waited (a lost wake-up)");
    ASSERT_INT_EQ(cd_verdict_get_num(v, "finished"), 1);
    ASSERT_INT_EQ(cd_verdict_get_num(v, "heard"), 0);
}

/* test: broken: stuck, and the verdict names the early signal */
static void broken_runner_is_stuck_and_the_early_signal_named(void)
{
    /* Controlled: the signal comes first because the job is shorter than
     * the runner's way to its wait, which a starved free run need not
     * keep; on the virtual clock it does, by construction. */
    child_run_t c = run_seeded_forked("lost-wakeup", "broken",
                                      CD_SCHED_RANDOM, 1, LIMIT_MS);
    CU_ASSERT_TRUE_FATAL(c.finished);
    says_the_signal_came_first(&c.r.verdict);
    /* The line is the signal's own, in the broken worker's code. */
    const char *at = strstr(c.r.verdict.observed, "demos/lost_wakeup.c:");
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    int line = atoi(at + strlen("demos/lost_wakeup.c:"));
    FILE *f = fopen("demos/lost_wakeup.c", "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char text[256] = "";
    for (int i = 0; i < line && fgets(text, sizeof text, f); i++)
        ;
    fclose(f);
    ASSERT_STR_HAS(text, "cd_cond_signal(&r->done_cv);");
    ASSERT_STR_HAS(text, "BUG");
}

/* test: broken is stuck on every run */
static void broken_runner_is_stuck_on_every_run(void)
{
    expect_status_every_run("lost-wakeup", "broken", RUNS, CD_STUCK, LIMIT_MS);
}

/* Every job finished, and the runner heard each one. */
static void heard_every_job(const child_run_t *c)
{
    int64_t want = cd_verdict_get_num(&c->r.verdict, "jobs");
    ASSERT_INT_EQ(cd_verdict_get_num(&c->r.verdict, "finished"), want);
    ASSERT_INT_EQ(cd_verdict_get_num(&c->r.verdict, "heard"), want);
}

static void fix_hears_every_job(const char *fix, int jobs)
{
    expect_fix_holds_every_run("lost-wakeup", fix, 0, jobs, RUNS,
                               heard_every_job, LIMIT_MS);
}

/* test: state fix hears every job */
static void state_fix_hears_every_job(void) { fix_hears_every_job("state", 0); }
/* test: sem fix hears every job */
static void sem_fix_hears_every_job(void) { fix_hears_every_job("sem", 0); }

/* test: fixes hear 200 jobs without latency */
static void fixes_hear_many_jobs_without_latency(void)
{
    /* No setup, no job time: who comes first is up to the machine, job
     * after job; neither order may lose one. */
    const char *fixes[] = { "state", "sem" };
    for (int i = 0; i < 2; i++) {
        cd_run_opts_t o = { .params = { .iterations = 200 },
                            .timeout_ms = 15000, .latency_permille = 0 };
        child_run_t c = run_forked_opts("lost-wakeup", fixes[i], &o, LIMIT_MS);
        CU_ASSERT_TRUE_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
        ASSERT_INT_EQ(cd_verdict_get_num(&c.r.verdict, "heard"), 200);
    }
}

static child_run_t controlled(const char *variant, uint64_t seed)
{
    return run_seeded_forked("lost-wakeup", variant, CD_SCHED_RANDOM, seed,
                             LIMIT_MS);
}

/* test: a controlled run is stuck the same way each time */
static void a_controlled_run_is_stuck_the_same_way_each_time(void)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        child_run_t a = controlled("broken", seed);
        child_run_t b = controlled("broken", seed);
        expect_same_run_twice(&a, &b, CD_STUCK);
        says_the_signal_came_first(&a.r.verdict);
    }
    child_run_t f = controlled("state", 1);
    CU_ASSERT_TRUE_FATAL(f.finished);
    ASSERT_INT_EQ(f.r.verdict.status, CD_HELD);
}

/* test: explore finds it, and its replay repeats it */
static void explore_finds_it_and_its_replay_repeats_it(void)
{
    static const char *const args[] = { "lost-wakeup", NULL };
    static const char *const verdict[] = {
        "STUCK", "before anyone waited (a lost wake-up)", NULL };
    const explore_found_t *f = expect_explore_finds_and_replays(
        &out, &out2, args, verdict, NULL, NULL, 60000);
    ASSERT_STR_HAS(f->replay, " lost-wakeup --iterations 1 --sched=replay:");
}

/* test: explore proves both fixes */
static void explore_proves_both_fixes(void)
{
    static const char *const fixes[] = { "--fixed=state", "--fixed=sem",
                                         NULL };
    static const char *const dfs[] = { "--strategy=dfs", NULL };
    static const char *const pct[] = { "--iterations=3", "--runs=200", NULL };
    expect_each_fix_explores_clean("lost-wakeup", fixes, dfs,
                                   DFS_EXHAUSTED, NULL, 60000);
    expect_each_fix_explores_clean("lost-wakeup", fixes, pct,
                                   "no violation in 200 schedules", NULL,
                                   60000);
}
