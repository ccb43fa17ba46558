/*
 * test_backpressure.c - the async logger: the unbounded queue passes its
 * memory budget and loses what it holds; every fix keeps the queue bounded
 * and accounts for every line.
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/cd_load.h"
#include "harness.h"

/* suite: backpressure */

#define LIMIT_MS 20000
#define TSAN_LIMIT_MS 60000
#define RUNS 3
#define CAPACITY 128
#define LINE_BYTES 512

/* test: broken passes the memory budget, loses the queue */
static void broken_passes_the_memory_budget(void)
{
    child_run_t c = expect_status("backpressure", "broken", CD_VIOLATED,
                                  LIMIT_MS);
    ASSERT_INT_EQ(fig(&c, "over_budget"), 1);
    ASSERT_INT_EQ(fig(&c, "capacity"), 0);
    CU_ASSERT_TRUE(fig(&c, "peak_bytes") > fig(&c, "budget_bytes"));
    CU_ASSERT_TRUE(fig(&c, "peak_depth") * LINE_BYTES >
                   fig(&c, "budget_bytes"));
    CU_ASSERT_TRUE(fig(&c, "growth_lines_per_s") > 0);
    CU_ASSERT_TRUE(fig(&c, "growth_bytes_per_s") > 0);
    /* The lines still queued at the "kill" are the ones lost. */
    CU_ASSERT_TRUE(fig(&c, "lost") > 0);
    ASSERT_INT_EQ(fig(&c, "produced"), fig(&c, "delivered") + fig(&c, "lost"));
    ASSERT_INT_EQ(fig(&c, "sent"), fig(&c, "produced"));
    /* The workers outran the store: that is the whole bug. (As counts of
     * one run, not as rates: how much faster depends on the machine.) */
    CU_ASSERT_TRUE(fig(&c, "produced") > fig(&c, "delivered"));
    ASSERT_STR_HAS(c.r.verdict.observed, "past the budget");
    ASSERT_STR_HAS(c.r.verdict.observed, "lost");
}

static void over_budget(const child_run_t *c)
{
    ASSERT_INT_EQ(fig(c, "over_budget"), 1);
}

/* On the controlled scheduler, seeds 1..RUNS (expect_every_run): the
 * workers' pace against the store's is exact there, while a starved free
 * run slows the workers too (a TSan run beside busy loops held). */
/* test: broken is violated on every run */
static void broken_is_violated_every_run(void)
{
    expect_every_run("backpressure", "broken", RUNS, CD_VIOLATED,
                     over_budget, LIMIT_MS);
}

/* test: a short burst stays under the budget */
static void a_short_burst_stays_under_the_budget(void)
{
    /* 100 lines fit in memory whatever the pace: the bug needs the load
     * to last, and this shows the budget check is not trigger-happy. */
    child_run_t c = run_forked("backpressure", "broken", 1, 100, LIMIT_MS);
    CU_ASSERT_TRUE_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
    ASSERT_INT_EQ(fig(&c, "delivered"), 100);
    CU_ASSERT_TRUE(fig(&c, "peak_depth") <= 100);
    ASSERT_STR_HAS(c.r.verdict.observed, "nothing bounds this queue");
}

/* What every fix must show: held, bounded, and a complete account. */
static void expect_fix_holds(const child_run_t *c)
{
    CU_ASSERT_TRUE_FATAL(c->finished);
    ASSERT_INT_EQ(c->r.verdict.status, CD_HELD);
    ASSERT_INT_EQ(fig(c, "over_budget"), 0);
    ASSERT_INT_EQ(fig(c, "lost"), 0);
    ASSERT_INT_EQ(fig(c, "capacity"), CAPACITY);
    CU_ASSERT_TRUE(fig(c, "peak_depth") <= CAPACITY);
    ASSERT_INT_EQ(fig(c, "peak_bytes"), CAPACITY * LINE_BYTES);
    ASSERT_INT_EQ(fig(c, "produced"), fig(c, "delivered") +
                  fig(c, "dropped") + fig(c, "given_up"));
}

/* bounded: nothing shed, the workers waited instead. */
static void waited_sheds_nothing(const child_run_t *c)
{
    expect_fix_holds(c);
    ASSERT_INT_EQ(fig(c, "dropped"), 0);
    ASSERT_INT_EQ(fig(c, "given_up"), 0);
    ASSERT_INT_EQ(fig(c, "delivered"), 3000);
}

/* drop: at 10x the store's pace most lines are shed - and counted. */
static void shed_and_counted(const child_run_t *c)
{
    expect_fix_holds(c);
    CU_ASSERT_TRUE(fig(c, "dropped") > 0);
    ASSERT_INT_EQ(fig(c, "given_up"), 0);
}

/* timeout: the store's 2.5 ms flushes outlast the 1 ms wait: give-ups. */
static void gave_up_waiting(const child_run_t *c)
{
    expect_fix_holds(c);
    CU_ASSERT_TRUE(fig(c, "given_up") > 0);
    ASSERT_INT_EQ(fig(c, "dropped"), 0);
}

/* test: bounded fix holds */
static void bounded_fix_holds(void)
{
    expect_every_run("backpressure", "bounded", RUNS, CD_HELD,
                     waited_sheds_nothing, LIMIT_MS);
}

/* test: drop fix holds and counts drops */
static void drop_fix_holds(void)
{
    expect_every_run("backpressure", "drop", RUNS, CD_HELD, shed_and_counted,
                     LIMIT_MS);
}

/* test: timeout fix holds and reports give-ups */
static void timeout_fix_holds(void)
{
    expect_every_run("backpressure", "timeout", RUNS, CD_HELD,
                     gave_up_waiting, LIMIT_MS);
}

/* test: fixes hold with 4 workers */
static void fixes_hold_with_several_workers(void)
{
    const char *fixes[] = { "bounded", "drop", "timeout" };
    for (int i = 0; i < 3; i++) {
        child_run_t c = run_forked("backpressure", fixes[i], 4, 300, LIMIT_MS);
        expect_fix_holds(&c);
        ASSERT_INT_EQ(fig(&c, "produced"), 1200);
    }
}

/* test: without latency the run still ends honestly */
static void without_latency_the_run_still_ends_honestly(void)
{
    const char *variants[] = { "broken", "bounded", "drop", "timeout" };
    for (int i = 0; i < 4; i++) {
        cd_run_opts_t o = { .params = { .threads = 2, .iterations = 3000 },
                            .timeout_ms = 10000, .latency_permille = 0 };
        child_run_t c = run_forked_opts("backpressure", variants[i], &o,
                                        LIMIT_MS);
        CU_ASSERT_TRUE_FATAL(c.finished);
        if (i > 0)
            ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
        else
            CU_ASSERT_TRUE(c.r.verdict.status == CD_HELD ||
                           c.r.verdict.status == CD_VIOLATED);
        if (fig(&c, "over_budget") == 0)
            ASSERT_INT_EQ(fig(&c, "lost"), 0);
    }
}

/* test: every figure is reported */
static void every_figure_is_reported(void)
{
    static const char *const keys[] = {
        "produced", "sent", "delivered", "dropped", "given_up", "lost", "capacity",
        "peak_depth", "peak_bytes", "budget_bytes", "over_budget",
        "growth_lines_per_s", "growth_bytes_per_s", "produced_per_s",
        "delivered_per_s", "worker_wait_ms",
    };
    const char *variants[] = { "broken", "drop" };
    for (int v = 0; v < 2; v++) {
        child_run_t c = run_forked("backpressure", variants[v], 0, 0,
                                   LIMIT_MS);
        CU_ASSERT_TRUE_FATAL(c.finished);
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            if (fig(&c, keys[i]) < 0)
                fprintf(stderr, "\n  %s: no figure %s\n", variants[v],
                        keys[i]);
            CU_ASSERT_TRUE(fig(&c, keys[i]) >= 0);
        }
        ASSERT_INT_EQ(fig(&c, "budget_bytes"), 1 << 20);
    }
}

/* ================================ the CLI ================================ */

static cmd_out_t out;

/* test: the CLI prints the verdicts */
static void cli_prints_the_verdicts(void)
{
    /* Under the controlled scheduler: a free run on a busy machine (the
     * TSan build's, beside busy suites) can run the workers so late that
     * the shipper keeps up (tsan_broken_is_clean, below). */
    const char *broken[] = { concdemo_bin(), "backpressure",
                             "--sched=random:1", NULL };
    run_cmd(&out, broken, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "backpressure [broken]: VIOLATED");
    ASSERT_STR_HAS(out.out, "lines still queued were lost");

    const char *fixed[] = { concdemo_bin(), "backpressure", "--fixed", NULL };
    run_cmd(&out, fixed, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "backpressure [bounded]: HELD");
}

/* test: explore's smaller machine finds broken, replays it, holds the fixes */
static void explore_size_finds_broken_and_holds_the_fixes(void)
{
    /* explore's size: 300 lines against 96 KiB. The unbounded queue
     * passes it at 129 lines (its buffer doubles to 128 KiB); the fixes'
     * 128 lines fit in 64 KiB, so a fix whose bound were lifted would be
     * caught at this size as well. */
    const char *broken[] = { concdemo_bin(), "explore", "backpressure", NULL };
    explore_found_t f;
    run_cmd(&out, broken, NULL, LIMIT_MS);
    expect_explore_found(&out, "backpressure [broken]: ", &f);
    ASSERT_STR_HAS(f.verdict, "its 96 KiB memory budget");
    ASSERT_STR_HAS(f.verdict, "the queue held 129 lines");
    ASSERT_STR_HAS(f.replay, " --memory-budget 96 --iterations 300 ");
    expect_printed_run_repeats(&out, f.replay, NULL, f.verdict, NULL,
                               LIMIT_MS);

    static const char *const fixes[] = { "--fixed=bounded", "--fixed=drop",
                                         "--fixed=timeout", NULL };
    static const char *const args[] = { "--runs", "300", NULL };
    expect_each_fix_explores_clean("backpressure", fixes, args,
                                   "no violation in 300 schedules", NULL,
                                   LIMIT_MS);
}

/* test: --memory-budget is the budget the run judges */
static void the_memory_budget_option_is_the_budget_judged(void)
{
    /* The bounded queue's 64 KiB against a 32 KiB budget: past it at the
     * first line, the fix fails - the budget is the option's, not 1 MiB. */
    const char *tight[] = { "backpressure", "--fixed",
                            "--memory-budget", "32", "--sched=random:1", NULL };
    expect_concdemo(&out, tight, 1, "a 32 KiB memory budget", NULL, LIMIT_MS);
    ASSERT_STR_HAS(out.out, "stay within its 32 KiB memory budget");
    ASSERT_STR_HAS(out.out, "past the budget");
    /* 3,000 lines fit in 4 MiB: the unbounded queue holds, and says that
     * nothing bounds it. */
    const char *roomy[] = { "backpressure", "--memory-budget", "4096",
                            "--sched=random:1", NULL };
    expect_concdemo(&out, roomy, 0, "nothing bounds this queue", NULL,
                    LIMIT_MS);
    ASSERT_STR_HAS(out.out, "stay within its 4 MiB memory budget");
}

/* ============================== TSan's view ============================== */

/* The TSan build of backpressure with arg (or none: NULL). */
static void tsan_run(const char *arg)
{
    const char *argv[] = { concdemo_tsan_bin(), "backpressure", arg, NULL };
    require_tsan_bin();
    run_cmd(&out, argv, "TSAN_OPTIONS=halt_on_error=0 exitcode=66",
            TSAN_LIMIT_MS);
}

static void tsan_check(const char *fix, int want_exit)
{
    tsan_run(fix);
    expect_no_tsan_report(&out, fix ? fix : "broken", want_exit);
}

/* The broken variant's bug is a design flaw, not a data race: the channel
 * synchronises correctly, so TSan must stay quiet for all four. A free
 * run of broken exits 1 - or 0 where a busy machine ran the workers so
 * late that the shipper kept up, and its verdict says that nothing bounds
 * the queue (seen in TSan runs beside busy suites); the controlled run,
 * where the scheduler sets the pace, is violated every time. */
/* long test: TSan: broken has no report (a design bug, not a race) */
static void tsan_broken_is_clean(void)
{
    tsan_run(NULL);
    expect_no_tsan_report(&out, "broken", out.exit_code == 0 ? 0 : 1);
    if (out.exit_code == 0)
        ASSERT_STR_HAS(out.out, "nothing bounds this queue");
    tsan_run("--sched=random:1");
    expect_no_tsan_report(&out, "broken --sched=random:1", 1);
    ASSERT_STR_HAS(out.out, "backpressure [broken]: VIOLATED");
}
/* long test: TSan: bounded has no report */
static void tsan_bounded_is_clean(void) { tsan_check("--fixed=bounded", 0); }
/* long test: TSan: drop has no report */
static void tsan_drop_is_clean(void) { tsan_check("--fixed=drop", 0); }
/* long test: TSan: timeout has no report */
static void tsan_timeout_is_clean(void) { tsan_check("--fixed=timeout", 0); }

/* A fix on a starved machine (every CPU busy, the run at a lower
 * priority) gets its limit again while starved; if it still cannot finish,
 * the verdict blames the machine, with figures, never the fix: HELD, or a
 * TIMEOUT that says the machine was starved. */
static void starved_fix_ended(int i, const cmd_out_t *o, void *arg)
{
    (void)i;
    (void)arg;
    if (o->exit_code == 0) {
        ASSERT_STR_HAS(o->out, ": HELD");
        return;
    }
    ASSERT_INT_EQ(o->exit_code, 1);
    ASSERT_STR_HAS(o->out, ": TIMEOUT");
    ASSERT_STR_HAS(o->out, "extended while the machine was starved");
    ASSERT_STR_HAS(o->out, "s for a CPU and ran");
}

/* long test: a fix on a starved machine holds or blames the machine */
static void a_fix_on_a_starved_machine_holds_or_blames_the_machine(void)
{
    static const char *const fixes[] = { "--fixed=bounded", "--fixed=drop",
                                         "--fixed=timeout" };
    const char *argv[3][6];
    cmd_spec_t cmds[3];
    for (int i = 0; i < 3; i++) {
        const char *a[] = { concdemo_bin(), "backpressure", fixes[i],
                            "--timeout", "1000", NULL };
        memcpy(argv[i], a, sizeof a);
        cmds[i] = (cmd_spec_t){ argv[i], NULL };
    }
    /* The three at once, starving each other as well. */
    ASSERT_INT_EQ(run_cmds_starved(cmds, 3, 60000, starved_fix_ended, NULL),
                  0);
}

/* The watchdog's rule, on figures: starved means the run's threads waited
 * for a CPU longer than they ran, for at least half of the wall time. */
/* test: starved: waiting for a CPU longer than running */
static void starved_means_waiting_for_a_cpu_more_than_running(void)
{
    const int64_t s = 1000000000;
    cd_load_t l = { .wall_ns = 10 * s, .cpu_ns = 1 * s, .queued_ns = 8 * s };
    CU_ASSERT_TRUE(cd_load_starved(&l));   /* a CI runner at full load */
    l = (cd_load_t){ .wall_ns = 10 * s, .cpu_ns = 0, .queued_ns = s / 100 };
    CU_ASSERT_FALSE(cd_load_starved(&l));  /* a hang: waits, not for CPUs */
    l = (cd_load_t){ .wall_ns = 10 * s, .cpu_ns = 19 * s, .queued_ns = 6 * s };
    CU_ASSERT_FALSE(cd_load_starved(&l));  /* a spin loop: runs */
    l = (cd_load_t){ .wall_ns = 10 * s, .cpu_ns = s / 10, .queued_ns = 2 * s };
    CU_ASSERT_FALSE(cd_load_starved(&l));  /* a little load, not starved */
}

/* Spins on the one CPU of `one` for ms of wall time, then exits. */
static void spin_on(const cpu_set_t *one, int ms)
{
    if (sched_setaffinity(0, sizeof *one, one) != 0)
        _exit(2);
    int64_t end = cd_now_ns() + (int64_t)ms * 1000000;
    while (cd_now_ns() < end) {
    }
    _exit(0);
}

/* What concdemo check leaves out of a program's start: the time another
 * process waited for a CPU, read from outside. Two processes that spin on
 * one CPU take turns, so each waits while the other runs; one that is
 * gone reads -1. */
/* test: another process's wait for a CPU is read from outside */
static void another_process_wait_for_a_cpu_is_read(void)
{
    if (access("/proc/self/schedstat", R_OK) != 0) {
        fprintf(stderr, "\n  SKIPPED: this kernel keeps no schedstat\n");
        return;
    }
    cpu_set_t mine, one;
    CU_ASSERT_FATAL(sched_getaffinity(0, sizeof mine, &mine) == 0);
    int cpu = 0;
    while (!CPU_ISSET(cpu, &mine))
        cpu++;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pid_t kid[2];
    fflush(NULL);
    for (int i = 0; i < 2; i++) {
        kid[i] = fork();
        CU_ASSERT_FATAL(kid[i] >= 0);
        if (kid[i] == 0)
            spin_on(&one, 400);
    }
    struct timespec nap = { 0, 300 * 1000000L };
    nanosleep(&nap, NULL);
    int64_t q0 = cd_load_queued_of(kid[0]), q1 = cd_load_queued_of(kid[1]);
    int status[2];
    for (int i = 0; i < 2; i++)
        CU_ASSERT_FATAL(waitpid(kid[i], &status[i], 0) == kid[i]);
    for (int i = 0; i < 2; i++)
        ASSERT_INT_EQ(status[i], 0);
    /* 300 ms of taking turns: about 300 ms of waiting between them. */
    if (q0 + q1 < 100 * 1000000LL)
        fprintf(stderr, "\n  waited %lld + %lld ns\n", (long long)q0,
                (long long)q1);
    CU_ASSERT_TRUE(q0 + q1 >= 100 * 1000000LL);
    ASSERT_INT_EQ(cd_load_queued_of(kid[0]), -1);
}
