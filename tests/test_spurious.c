/*
 * test_spurious.c - `if` instead of `while`: the broken cooks take from an
 * empty rail on every run, both fixes never do, and a spurious wake-up
 * alone is enough to catch the broken wait.
 */
#include <string.h>

#include "harness.h"

/* suite: spurious */

#define LIMIT_MS 20000
#define RUNS 10

static cmd_out_t out, out2;

static void concdemo(cmd_out_t *o, const char *const args[])
{
    run_concdemo(o, args, NULL, 60000);
}

/* test: broken cooks take from an empty rail */
static void broken_cooks_take_from_an_empty_rail(void)
{
    child_run_t c = expect_status("spurious", "broken", CD_VIOLATED, LIMIT_MS);
    ASSERT_STR_HAS(c.r.verdict.observed, "from an empty rail");
    /* Every "order up!" wakes both cooks for one ticket: at least one
     * empty take per ticket, and every ticket still cooked once. */
    CU_ASSERT_TRUE(fig(&c, "takes_from_empty") >= fig(&c, "tickets"));
    ASSERT_INT_EQ(fig(&c, "cooked"), fig(&c, "tickets"));
}

/* At least one empty take per ticket. */
static void an_empty_take_per_ticket(const child_run_t *c)
{
    CU_ASSERT_TRUE(fig(c, "takes_from_empty") >= fig(c, "tickets"));
}

/* test: broken takes from empty on every run */
static void broken_takes_from_empty_on_every_run(void)
{
    expect_every_run("spurious", "broken", RUNS, CD_VIOLATED,
                     an_empty_take_per_ticket, LIMIT_MS);
}

/* test: five cooks: four empty takes per ticket */
static void more_cooks_more_empty_takes(void)
{
    /* Five cooks woken for each ticket: four of them find nothing - when
     * all five are waiting as it comes, which the virtual clock promises
     * and a starved free run does not. */
    cd_sched_cfg_t cfg = sched_cfg(CD_SCHED_RANDOM, 1);
    child_run_t c = run_controlled_forked("spurious", "broken", &cfg,
                                          (cd_params_t){ .threads = 5,
                                                         .iterations = 6 },
                                          LIMIT_MS);
    CU_ASSERT_TRUE_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, CD_VIOLATED);
    CU_ASSERT_TRUE(fig(&c, "takes_from_empty") >= 4 * 6);
}

/* test: a single cook gets no wake-up for nothing */
static void a_single_cook_gets_no_wakeup_for_nothing(void)
{
    /* One cook: each "order up!" has a ticket for it, and no other cook
     * wakes it. Without spurious wake-ups the broken wait gets away with
     * it - the test can tell the bug from its absence. */
    child_run_t c = run_forked("spurious", "broken", 1, 6, LIMIT_MS);
    CU_ASSERT_TRUE_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
    ASSERT_INT_EQ(fig(&c, "takes_from_empty"), 0);
}

static void fix_holds(const char *fix, int cooks, int tickets)
{
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_forked("spurious", fix, cooks, tickets, LIMIT_MS);
        CU_ASSERT_TRUE_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
        ASSERT_CLEAN_EXIT(c);
        ASSERT_INT_EQ(fig(&c, "takes_from_empty"), 0);
        ASSERT_INT_EQ(fig(&c, "cooked"), fig(&c, "tickets"));
    }
}

/* test: while fix holds */
static void while_fix_holds(void) { fix_holds("while", 0, 0); }
/* test: two-conds fix holds */
static void two_conds_fix_holds(void) { fix_holds("two-conds", 0, 0); }

/* test: fixes hold with 8 cooks */
static void fixes_hold_with_eight_cooks(void)
{
    fix_holds("while", 8, 50);
    fix_holds("two-conds", 8, 50);
}

/* test: two-conds wakes cooks only for the till */
static void two_conds_wakes_cooks_only_for_the_till(void)
{
    /* With two condition variables a cook wakes only when the till acts:
     * each ticket and the closing wake every cook once, nothing else
     * does. (On the shared one the last cook to fall asleep wakes the
     * others as well - unless the till is quicker to wake them.) */
    for (int i = 0; i < RUNS; i++) {
        child_run_t two = run_forked("spurious", "two-conds", 3, 5, LIMIT_MS);
        CU_ASSERT_TRUE_FATAL(two.finished);
        ASSERT_INT_EQ(fig(&two, "wakeups"), 3 * (5 + 1));
    }
}

static child_run_t controlled(const char *variant, uint64_t seed,
                              int cooks, int spurious)
{
    cd_sched_cfg_t cfg = sched_cfg(CD_SCHED_RANDOM, seed);
    cfg.spurious = spurious;
    cd_params_t p = { .threads = cooks, .iterations = 4 };
    return run_controlled_forked("spurious", variant, &cfg, p, LIMIT_MS);
}

/* test: a controlled run repeats itself */
static void a_controlled_run_repeats_itself(void)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        child_run_t a = controlled("broken", seed, 2, 0);
        child_run_t b = controlled("broken", seed, 2, 0);
        expect_same_run_twice(&a, &b, CD_VIOLATED);
        child_run_t f = controlled("while", seed, 2, 1);
        CU_ASSERT_TRUE_FATAL(f.finished);
        ASSERT_INT_EQ(f.r.verdict.status, CD_HELD);
    }
}

/* Explores one cook's kitchen, where only a spurious wake-up can show the
 * broken wait. */
static void explore_one_cook(const char *a, const char *b)
{
    concdemo(&out, (const char *[]){ "explore", "spurious", "--threads=1",
                                     a, b, NULL });
}

/* test: explore finds one cook's bug by a spurious wake-up alone */
static void explore_finds_it_by_a_spurious_wakeup_alone(void)
{
    static const char *const args[] = { "spurious", "--threads=1",
                                        "--strategy=dfs", "--spurious", NULL };
    static const char *const verdict[] = { "VIOLATED", "from an empty rail",
                                           NULL };
    explore_one_cook("--strategy=dfs", NULL);
    if (out.exit_code != 0)
        fprintf(stderr, "\n  %.600s\n", out.out);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "every schedule with at most 2 preemptions tried");
    explore_one_cook("--strategy=pct", "--spurious");
    ASSERT_INT_EQ(out.exit_code, 1);
    explore_one_cook("--strategy=random", "--spurious");
    ASSERT_INT_EQ(out.exit_code, 1);
    const explore_found_t *f = expect_explore_finds_and_replays(
        &out, &out2, args, verdict, "--trace", NULL, 60000);
    ASSERT_STR_HAS(f->replay, " --spurious");
    /* The take that failed followed a wake-up nobody signalled. */
    const char *empty = strstr(out2.out, "rail empty");
    CU_ASSERT_PTR_NOT_NULL_FATAL(empty);
    const char *woke = NULL;
    for (const char *p = out2.out; (p = strstr(p, " woke ")) && p < empty;
         p++)
        woke = p;
    CU_ASSERT_PTR_NOT_NULL_FATAL(woke);
    char line[160];
    snprintf(line, sizeof line, "%.*s", (int)strcspn(woke, "\n"), woke);
    ASSERT_STR_HAS(line, " spurious ");
}

/* test: explore finds two cooks' bug with every strategy */
static void explore_finds_two_cooks_by_any_strategy(void)
{
    /* Two cooks need no spurious wake-up: every schedule shows it. */
    const char *strategies[] = { "--strategy=pct", "--strategy=random",
                                 "--strategy=dfs" };
    for (int i = 0; i < 3; i++) {
        concdemo(&out, (const char *[]){ "explore", "spurious", strategies[i],
                                         NULL });
        ASSERT_INT_EQ(out.exit_code, 1);
        ASSERT_STR_HAS(out.out, "from an empty rail");
        ASSERT_STR_HAS(out.out, "replay: ");
    }
}

/* test: fixes hold under spurious wake-ups */
static void fixes_hold_under_spurious_wakeups(void)
{
    /* One cook: every schedule within the bound, spurious wake-ups
     * included (the broken wait fails there: see above). Three cooks:
     * random schedules, one decision in four may wake a waiter for
     * nothing. */
    static const char *const fixes[] = { "--fixed=while", "--fixed=two-conds",
                                         NULL };
    static const char *const one_cook[] = { "--threads=1", "--strategy=dfs",
                                            "--spurious", NULL };
    static const char *const three_cooks[] = {
        "--spurious", "--threads=3", "--iterations=3", "--strategy=random",
        "--runs=300", NULL };
    expect_each_fix_explores_clean("spurious", fixes, one_cook,
                                   DFS_EXHAUSTED, NULL, 60000);
    expect_each_fix_explores_clean("spurious", fixes, three_cooks,
                                   "no violation in 300 schedules", NULL,
                                   60000);
}
