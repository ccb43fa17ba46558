/*
 * test_holdtime.c - the report rendered under the lock.
 *
 * The verdict is measured, not timed: whether a report was rendered
 * holding the board's lock, how many rendered at once, the share of the
 * run the lock was held, and whether every sale the till recorded is in
 * the totals. Broken must render every report under the lock, one at a
 * time, the lock held >90% of the run; copy-out none under it, several at
 * once, the lock held <10%, every sale kept; the wrong fix no-check must
 * lose sales. The render's 5 ms is simulated latency, so the same figures
 * hold on one CPU and under the controlled scheduler, where they are
 * exact. Explore finds both failures; copy-out survives it.
 */
#include <string.h>

#include "harness.h"

/* suite: holdtime */

#define LIMIT_MS 20000
#define RUNS 5
/* A command's limit: explore runs hundreds of schedules, slowly under a
 * sanitizer on a busy machine. */
#define CMD_LIMIT_MS 60000
/* Under make test-tsan the binary under test is a TSan build: its exit
 * code must stay the verdict's. */
#define TSAN_ENV "TSAN_OPTIONS=halt_on_error=0 exitcode=1"

/* The default dashboard: 8 handlers, 4 reports each; the till sells 20. */
#define HANDLERS 8
#define REPORTS (HANDLERS * 4)
#define SALES 20

static cmd_out_t out;

/* A run of variant under the controlled scheduler (random, seed 1): one
 * thread at a time on a virtual clock, sleeps ending by their deadlines. */
static child_run_t run_controlled(const char *variant)
{
    cd_sched_cfg_t cfg = { .strategy = CD_SCHED_RANDOM, .seed = 1,
                           .max_steps = CD_SCHED_DEFAULT_STEPS };
    cd_run_opts_t o = { .params = cd_scenario_find("holdtime")->defaults,
                        .timeout_ms = LIMIT_MS - 2000,
                        .latency_permille = 1000, .sched = &cfg };
    return run_forked_opts("holdtime", variant, &o, LIMIT_MS);
}

/* Broken's figures: every report rendered holding the lock, one at a
 * time; nothing lost - it is slow, not wrong. */
static void expect_serial(const child_run_t *c, int permille_over)
{
    ASSERT_INT_EQ(c->r.verdict.status, CD_VIOLATED);
    ASSERT_INT_EQ(fig(c, "reports"), REPORTS);
    ASSERT_INT_EQ(fig(c, "rendered_under_lock"), REPORTS);
    ASSERT_INT_EQ(fig(c, "max_rendering_at_once"), 1);
    if (fig(c, "lock_held_permille") <= permille_over)
        fprintf(stderr, "\n  lock held %ld permille, expected over %d: %s\n",
                fig(c, "lock_held_permille"), permille_over,
                c->r.verdict.observed);
    CU_ASSERT(fig(c, "lock_held_permille") > permille_over);
    ASSERT_INT_EQ(fig(c, "sales_lost"), 0);
    ASSERT_INT_EQ(fig(c, "went_back"), 0);
    ASSERT_STR_HAS(c->r.verdict.observed, "32 of 32 reports rendered "
                   "holding the board's lock");
}

/* Copy-out's: none under the lock, renders side by side, the lock held a
 * sliver of the run, every sale kept. Each of these fails if the copy-out
 * is taken away (the render back under the lock) or if the store puts the
 * copy back. */
static void expect_parallel(const child_run_t *c, int permille_under)
{
    ASSERT_INT_EQ(c->r.verdict.status, CD_HELD);
    ASSERT_INT_EQ(fig(c, "reports"), REPORTS);
    ASSERT_INT_EQ(fig(c, "rendered_under_lock"), 0);
    if (permille_under <= 1000) /* the overlap, where it is the run's */
        CU_ASSERT(fig(c, "max_rendering_at_once") > 1);
    if (fig(c, "lock_held_permille") >= permille_under)
        fprintf(stderr, "\n  lock held %ld permille, expected under %d: %s\n",
                fig(c, "lock_held_permille"), permille_under,
                c->r.verdict.observed);
    CU_ASSERT(fig(c, "lock_held_permille") < permille_under);
    ASSERT_INT_EQ(fig(c, "sales"), SALES);
    ASSERT_INT_EQ(fig(c, "sales_in_totals"), SALES);
    ASSERT_INT_EQ(fig(c, "sales_lost"), 0);
    ASSERT_INT_EQ(fig(c, "went_back"), 0);
}

/* test: broken renders every report under the lock, one at a time */
static void broken_renders_one_at_a_time_every_run(void)
{
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_forked("holdtime", "broken", 0, 0, LIMIT_MS);
        CU_ASSERT_FATAL(c.finished);
        /* Typically 99%, but the gaps are the hand-offs, each a wake-up
         * that a busy machine delays (38% seen at a load of 12 on two
         * cores): a free run only shows the lock was held. The share is
         * judged under the controlled scheduler, where it is exact. */
        expect_serial(&c, 0);
    }
}

/* A free run of copy-out holds however it was scheduled: nothing rendered
 * under the lock, every sale counted. How many reports render at once and
 * the lock's share are the machine's (a starved handler starts its render
 * late, or is preempted holding the lock): exact on the virtual clock,
 * figures_are_exact_under_the_controlled_scheduler. */
/* test: copy-out renders side by side, the lock held <10%, no sale lost */
static void copy_out_renders_side_by_side_every_run(void)
{
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_forked("holdtime", "copy-out", 0, 0, LIMIT_MS);
        CU_ASSERT_FATAL(c.finished);
        expect_parallel(&c, 1001);
        ASSERT_CLEAN_EXIT(c);
    }
}

/* Whether a free run's till sells during a render is up to the machine (a
 * starved one, under TSan, may not run the till then): every seed of the
 * controlled scheduler, where the till sells each 1 ms of the run's clock
 * and a render takes 5. */
/* test: no-check (a wrong fix) loses the till's sales every run */
static void no_check_loses_sales_every_run(void)
{
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_seeded_forked("holdtime", "no-check",
                                          CD_SCHED_RANDOM, (uint64_t)i + 1,
                                          LIMIT_MS);
        CU_ASSERT_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_VIOLATED);
        /* It renders as copy-out does; what it puts back loses sales. */
        ASSERT_INT_EQ(fig(&c, "rendered_under_lock"), 0);
        CU_ASSERT(fig(&c, "max_rendering_at_once") > 1);
        CU_ASSERT(fig(&c, "sales_lost") > 0);
        ASSERT_INT_EQ(fig(&c, "sales"), SALES);
        ASSERT_STR_HAS(c.r.verdict.observed, "sales lost from the totals");
    }
}

/* test: the figures are exact under the controlled scheduler */
static void figures_are_exact_under_the_controlled_scheduler(void)
{
    child_run_t c = run_controlled("broken");
    CU_ASSERT_FATAL(c.finished);
    expect_serial(&c, 999);
    /* Virtual time: the run is exactly the 32 reports end to end. */
    ASSERT_INT_EQ(fig(&c, "elapsed_us"), REPORTS * 5000);

    c = run_controlled("copy-out");
    CU_ASSERT_FATAL(c.finished);
    expect_parallel(&c, 1);
    ASSERT_INT_EQ(fig(&c, "max_rendering_at_once"), HANDLERS);
    ASSERT_INT_EQ(fig(&c, "elapsed_us"), 4 * 5000);

    c = run_controlled("no-check");
    CU_ASSERT_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, CD_VIOLATED);
    CU_ASSERT(fig(&c, "sales_lost") > 0);
}

/* test: the same verdicts on one CPU */
static void same_verdicts_on_one_cpu(void)
{
    static const char *const variants[] = { NULL, "--fixed=copy-out",
                                            "--fixed=no-check" };
    /* Broken renders under the lock and copy-out never does, however the
     * CPU is shared; whether no-check's till sells during a render is up
     * to the CPU (exit 0 or 1: every seed of the controlled scheduler,
     * which runs one thread at a time, loses sales), and so is how many
     * of copy-out's reports overlap. */
    static const int codes[] = { 1, 0, -1 };
    static const char *const says[] = { "up to 1 report at once",
                                        "at once",
                                        "holdtime [no-check]: " };
    for (int i = 0; i < 3; i++) {
        const char *argv[] = { "taskset", "-c", "0", concdemo_bin(),
                               "holdtime", variants[i], NULL };
        run_cmd(&out, argv, TSAN_ENV, CMD_LIMIT_MS);
        if (codes[i] >= 0) {
            ASSERT_INT_EQ(out.exit_code, codes[i]);
        } else {
            CU_ASSERT(out.exit_code == 0 || out.exit_code == 1);
        }
        ASSERT_STR_HAS(out.out, says[i]);
    }
}

/* test: explore finds broken and no-check; the replays repeat them */
static void explore_finds_both_and_the_replay_repeats_them(void)
{
    static const char *const variants[] = { NULL, "--fixed=no-check" };
    static const char *const prefixes[] = { "holdtime [broken]: ",
                                            "holdtime [no-check]: " };
    static const char *const says[] = { "rendered holding the board's lock",
                                        "sales lost" };
    static explore_found_t f;
    static cmd_out_t again;
    for (int i = 0; i < 2; i++) {
        const char *argv[] = { "explore", "holdtime", variants[i], NULL };
        run_concdemo(&out, argv, TSAN_ENV, CMD_LIMIT_MS);
        expect_explore_found(&out, prefixes[i], &f);
        ASSERT_STR_HAS(f.verdict, "VIOLATED");
        ASSERT_STR_HAS(f.verdict, says[i]);
        expect_printed_run_repeats(&again, f.replay, NULL, f.verdict,
                                   TSAN_ENV, CMD_LIMIT_MS);
    }
}

/* test: copy-out holds under explore */
static void copy_out_holds_under_explore(void)
{
    /* Sleeps end early in any order here, so reports may no longer
     * overlap; none is rendered under the lock, no sale is lost and the
     * dashboard never goes back in any schedule within 1 preemption. */
    static const char *const fixes[] = { "--fixed=copy-out", NULL };
    expect_fixes_hold_under_explore("holdtime", fixes, 200, 1, TSAN_ENV,
                                    CMD_LIMIT_MS);
}
