/*
 * exhost.c - the program `concdemo check` builds from an exercise file.
 *
 * The exercise's harness (lessons/harness/NAME.c) defines `const
 * cd_scenario_t cd_exercise` (one variant, "yours") and calls the
 * learner's functions; this file is the main() both are linked with,
 * together with the library (make exercise: see the Makefile and
 * cli/check.c).
 * concdemo check runs it as:
 *
 *   PROG check NAME --cmd CMD --source PATH [--budget S] [--result-fd FD]
 *        [--schedule-dir DIR]
 *        the stages free, explore, parallel and timing, one verdict each;
 *        FD (a pipe of the checker's) receives the records of cli/ledger.h:
 *        a stage's beginning (so that a crash in it counts), each run's
 *        books (the effects the harness's services saw, sent as the run
 *        ends), the stage's end with the program's verdict on it, and the
 *        end of the verdict - or a refusal, for a file that is not the
 *        named exercise. The checker grades from the books, not from
 *        what this program says
 *   PROG tsan NAME [--result-fd FD]
 *        one free run of the first size: the ThreadSanitizer build's
 *        stage; FD gets the run's books and the end record once it is over
 *   PROG run NAME --cmd CMD [--schedule-dir DIR] --sched=S [--threads N]
 *        [--iterations N] [--workers N] [--max-steps N] [--spurious]
 *        [--trace]
 *        one controlled run, as `concdemo SCENARIO --sched=S` makes
 *
 * CMD is how the learner calls the checker ("concdemo check race"): the
 * replay commands printed for failing schedules start with it. A
 * schedule too long to print is saved in DIR (default: next to PROG).
 * Exit: 0 every stage passed (run: the invariant held), 1 a stage failed,
 * 2 bad arguments, or a file that is not the named exercise.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "explore.h"
#include "grade.h"
#include "ledger.h"
#include "options.h"
#include "report.h"
#include "run.h"
#include "step.h"

/* Defined by the exercise's harness (lessons/harness/exercise.h). */
extern const cd_scenario_t cd_exercise;

#define WIDTH 78      /* text is wrapped to this many columns */
#define INDENT 18     /* where a stage's text starts */
#define STEPS 100000  /* operations before a controlled run is stopped */
#define SHOW_SCHEDULE 120 /* longer schedules go to a file for the replay */

typedef struct host {
    const cd_exercise_spec_t *spec;
    const char *cmd;     /* "concdemo check race [--file F]" */
    const char *source;  /* the learner's file */
    const char *sched_dir; /* where long schedules are saved, or NULL */
    const char *self;    /* argv[0]: else they are saved next to it */
    double budget_s;     /* dfs budget, when given */
    char failed[128];    /* names of the stages that failed */
    const char *stage;   /* the stage running (for the stuck handler) */
    int stage_id;        /* its CD_STAGE_..., 0 outside check mode */
} host_t;

static host_t host;
static cd_run_result_t result; /* large: off the stack */

/* ================================ printing =============================== */

/* Prints text from column `col` on, wrapped at spaces to WIDTH, with
 * continuation lines indented to INDENT. */
static void wrap(const char *text, int col)
{
    while (*text) {
        int room = WIDTH - col, len = (int)strlen(text);
        int cut = len;
        if (len > room) {
            cut = room;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            if (cut == 0) /* one long word: let it run over */
                cut = (int)strcspn(text, " ");
        }
        printf("%.*s\n", cut, text);
        text += cut;
        while (*text == ' ')
            text++;
        if (*text)
            printf("%*s", INDENT, "");
        col = INDENT;
    }
}

/* "  free      FAIL  text...": one stage's verdict. */
static void say(const char *stage, const char *mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(const char *stage, const char *mark, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    printf("  %-9s %-4s  ", stage, mark);
    wrap(text, INDENT);
    if (strcmp(mark, "FAIL") == 0 && !strstr(host.failed, stage)) {
        size_t n = strlen(host.failed);
        snprintf(host.failed + n, sizeof host.failed - n, "%s%s",
                 n ? " " : "", stage);
    }
}

/* A further line under a stage, wrapped the same way. */
static void more(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void more(const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    printf("%*s", INDENT, "");
    wrap(text, INDENT);
}

/* What went wrong in a run: the observed text and, for a lock-order
 * inversion, where the opposite orders were taken. */
static void explain_run(const cd_run_result_t *r)
{
    char buf[1024];
    more("observed: %s", r->verdict.observed);
    more("expected: %s", r->verdict.expected);
    for (int i = 0; i < r->ninv && i < 2; i++) {
        cd_inversion_format(&r->inv[i], buf, sizeof buf);
        more("lock order: %s", buf);
    }
}

/* A crash in the learner's code (a lock used before it was set up, a
 * bad pointer): the running stage's verdict line, with async-signal-safe
 * writes only, then the default action, so that the checker sees the
 * signal too. */
static void on_crash(int sig)
{
    /* Threads crash together: the first one tells; the others wait until
     * it has (at most 1 s), since their raise() would end the process
     * before its line was out. */
    static atomic_int told; /* 0: nobody yet; 1: telling; 2: told */
    int none = 0;
    if (!atomic_compare_exchange_strong(&told, &none, 1)) {
        for (int i = 0; i < 1000 && atomic_load(&told) != 2; i++)
            nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    const char *what = sig == SIGSEGV ? "SIGSEGV: a bad pointer"
                     : sig == SIGFPE  ? "SIGFPE: a division by zero"
                     : sig == SIGBUS  ? "SIGBUS: a bad address"
                     : sig == SIGILL  ? "SIGILL: an illegal instruction"
                                      : "SIGABRT: abort()";
    const char *stage = host.stage ? host.stage : "run";
    char line[160];
    size_t n = 0;
    const char *parts[] = { "  ", stage, "", "FAIL  your code crashed (",
                            what, ")\n" };
    for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
        if (p == 2) /* pad the stage's name to its column */
            for (size_t k = strlen(stage); k < 10 && n < sizeof line; k++)
                line[n++] = ' ';
        for (const char *c = parts[p]; *c && n < sizeof line; c++)
            line[n++] = *c;
    }
    ssize_t written = write(1, line, n);
    (void)written; /* if stdout is gone, nobody is left to tell */
    atomic_store(&told, 2);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void catch_crashes(void)
{
    const int sigs[] = { SIGSEGV, SIGFPE, SIGBUS, SIGILL, SIGABRT };
    struct sigaction sa = { .sa_handler = on_crash };
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

/* Runs one stage, between the records that frame it: the checker counts
 * it failed if the program ends before the stage does. Returns what the
 * stage returned (1 passed). */
static int run_stage(int id, int (*stage)(void))
{
    host.stage = cd_stage_name(id);
    host.stage_id = id;
    cd_ledger_send(CD_EFF_STAGE, id, 0);
    int ok = stage();
    fflush(stdout); /* the stage's lines come before its end */
    cd_ledger_send(CD_EFF_STAGE_END, id, ok);
    host.stage_id = 0;
    return ok;
}

/* Threads ignored the run's abort (a loop that never calls the library):
 * say so and leave; exit kills them. */
static void on_stuck(int reason)
{
    (void)reason;
    fflush(stdout);
    const char *stage = host.stage ? host.stage : "run";
    int controlled = strcmp(stage, "explore") == 0 ||
                     strcmp(stage, "parallel") == 0;
    say(stage, "FAIL", "threads did not stop after the run was aborted: a "
        "loop that never calls the library (a spin on a plain variable?) "
        "cannot be ended%s", controlled ? ". Under the controlled scheduler "
        "one thread runs at a time, so a thread that waits in a loop of its "
        "own never lets the others run: wait in a lock instead" : "");
    fflush(stdout);
    if (host.stage_id)
        cd_ledger_send(CD_EFF_STAGE_END, host.stage_id, 0);
    cd_ledger_send(CD_EFF_END, 0, 0);
    _exit(1);
}

/* ============================ replay commands ============================ */

/* Writes the last controlled run's whole schedule into the schedule
 * directory, named by what it holds (NAME-HASH.sched): checks that run
 * side by side never overwrite each other's, and the same schedule found
 * again reuses its file. Written aside and renamed, so a reader never
 * sees half of it. Returns the file's path in buf, or "" if it could not
 * be written. */
static void save_schedule(char *buf, size_t size)
{
    const cd_sched_decision_t *d;
    int n = cd_sched_decisions(&d);
    int len = cd_sched_format_schedule(d, n, NULL, 0);
    char *text = malloc((size_t)len + 1);
    char tmp[4200];
    uint32_t h = 2166136261u; /* FNV-1a */

    buf[0] = '\0';
    if (!text)
        return;
    cd_sched_format_schedule(d, n, text, (size_t)len + 1);
    for (const char *c = text; *c; c++)
        h = (h ^ (unsigned char)*c) * 16777619u;
    if (host.sched_dir)
        snprintf(buf, size, "%s/%s-%08x.sched", host.sched_dir,
                 host.spec->name, (unsigned)h);
    else
        snprintf(buf, size, "%s-%08x.sched", host.self, (unsigned)h);
    snprintf(tmp, sizeof tmp, "%s.%ld", buf, (long)getpid());
    FILE *f = fopen(tmp, "w");
    int ok = f && fprintf(f, "%s\n", text) > 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, buf) != 0) {
        unlink(tmp);
        buf[0] = '\0';
    }
    free(text);
}

/* "concdemo check race --threads 8 --sched=replay:1.2*3": the command
 * that repeats the controlled run r. Sizes equal to the exploration's
 * (what run mode uses by default) are left out; a run that could wake a
 * waiter for nothing says --spurious, since its schedule may name such
 * wake-ups and fits no run without them. */
static void replay_command(const cd_run_result_t *r, char *buf, size_t size)
{
    const cd_params_t *p = &r->params, *d = &host.spec->explore;
    char sizes[128] = "", file[CD_SCHEDULE_MAX];
    int at = 0;

    if (p->threads != d->threads)
        at += snprintf(sizes + at, sizeof sizes - (size_t)at,
                       " --threads %d", p->threads);
    if (p->workers != d->workers)
        at += snprintf(sizes + at, sizeof sizes - (size_t)at,
                       " --workers %d", p->workers);
    if (p->iterations != d->iterations)
        at += snprintf(sizes + at, sizeof sizes - (size_t)at,
                       " --iterations %d", p->iterations);
    if (r->spurious)
        snprintf(sizes + at, sizeof sizes - (size_t)at, " --spurious");
    if (r->schedule[0] && strlen(r->schedule) <= SHOW_SCHEDULE) {
        snprintf(buf, size, "%s%s --sched=replay:%s", host.cmd, sizes,
                 r->schedule);
        return;
    }
    save_schedule(file, sizeof file);
    if (file[0])
        snprintf(buf, size, "%s%s --sched=replay:@%s", host.cmd, sizes,
                 file);
    else
        buf[0] = '\0';
}

static void print_replay(const cd_run_result_t *r)
{
    char cmd[CD_SCHEDULE_MAX + 512];
    replay_command(r, cmd, sizeof cmd);
    if (cmd[0])
        printf("%*sreplay: %s\n", INDENT, "", cmd);
}

/* ================================= stages ================================ */

static cd_run_opts_t free_opts(const cd_params_t *p)
{
    return (cd_run_opts_t){ .params = *p, .timeout_ms = host.spec->free_ms,
                            .latency_permille = 1000, .on_stuck = on_stuck };
}

/* Free runs: real threads, real (simulated) latencies, each size several
 * times. Returns 1 if every run held. */
static int stage_free(void)
{
    const cd_exercise_spec_t *spec = host.spec;
    char size[64];
    int runs = 0;

    for (int s = 0; s < spec->nfree; s++)
        for (int i = 0; i < spec->free_runs; i++) {
            cd_run_opts_t o = free_opts(&spec->free[s]);
            cd_run(&cd_exercise, 0, &o, &result);
            runs++;
            if (result.verdict.status == CD_HELD)
                continue;
            say("free", "FAIL", "run %d of %d (%s): %s", runs,
                spec->nfree * spec->free_runs,
                cd_exercise_size_text(&spec->free[s], size, sizeof size),
                cd_status_name(result.verdict.status));
            explain_run(&result);
            return 0;
        }
    char sizes[160] = "";
    for (int s = 0; s < spec->nfree; s++)
        snprintf(sizes + strlen(sizes), sizeof sizes - strlen(sizes), "%s%s",
                 s ? "; " : "",
                 cd_exercise_size_text(&spec->free[s], size, sizeof size));
    say("free", "PASS", "%d runs held (%s)", runs, sizes);
    more("last run: %s", result.verdict.observed);
    return 1;
}

/* The failing controlled run in `result` again, traced, to say why. */
static void explain_schedule(void)
{
    cd_sched_cfg_t cfg = { 0 };
    char sched[CD_SCHEDULE_MAX + 16], err[256], why[768];
    cd_params_t params = result.params;

    if ((!host.spec->crit_begin && !host.spec->empty_point) ||
        !result.schedule[0])
        return;
    snprintf(sched, sizeof sched, "replay:%s", result.schedule);
    if (cd_sched_parse(sched, &cfg, err, sizeof err) != 0)
        return;
    cfg.max_steps = STEPS;
    cfg.spurious = result.spurious; /* the schedule may name such wake-ups */
    cd_run_opts_t o = free_opts(&params);
    o.sched = &cfg;
    o.trace = 1;
    static cd_run_result_t again;
    cd_run(&cd_exercise, 0, &o, &again);
    cd_sched_cfg_free(&cfg);
    if (cd_grade_explain_critical(host.spec, why, sizeof why) ||
        cd_grade_explain_wakeup(host.spec, why, sizeof why))
        more("why: %s", why);
}

/* The failing schedule in `result`: what broke, why, and how to see it
 * again. */
static void explain_found(void)
{
    explain_run(&result);
    print_replay(&result);
    explain_schedule();
}

/* One search of the explore stage into r: 1 if it ran, else 0 after
 * saying the stage failed. */
static int explore_ran(cd_explore_t *e, cd_explore_result_t *r)
{
    if (cd_explore(e, r, &result) == 0)
        return 1;
    say("explore", "FAIL", "could not run the exploration: %s",
        result.verdict.observed);
    return 0;
}

/* The explore stage's failure: `search` (pct, dfs) broke the invariant
 * after `runs` runs (`how`: "" or how it searched besides) of size
 * `size`; what broke, why, how to see it again. Returns 0. */
static int explore_failed(const char *search, long runs, const char *how,
                          const char *size)
{
    say("explore", "FAIL", "%s found a schedule that breaks it after %ld "
        "run%s%s (%s): %s", search, runs, runs == 1 ? "" : "s", how, size,
        cd_status_name(result.verdict.status));
    explain_found();
    return 0;
}

/* The second search of a CD_SPURIOUS_AFTER exercise, once e (pct_runs
 * pct schedules and `dfs_runs` dfs ones) held: pct again, where a wait
 * may also end for nothing. Returns 1 if none broke the invariant. */
static int explore_spurious(cd_explore_t *e, long pct_runs, long dfs_runs)
{
    cd_explore_result_t sp;
    char size[64];

    cd_exercise_size_text(&host.spec->explore, size, sizeof size);
    e->strategy = CD_SCHED_PCT;
    e->strategy_name = "pct";
    e->runs = host.spec->pct_runs;
    e->spurious = 1;
    if (!explore_ran(e, &sp))
        return 0;
    if (sp.found)
        return explore_failed("pct", sp.runs, " with spurious wake-ups", size);
    say("explore", "PASS", "%ld pct and %ld dfs schedules held, and %ld pct "
        "schedules with spurious wake-ups (%s)", pct_runs, dfs_runs, sp.runs,
        size);
    return 1;
}

/* Exploration: pct with successive seeds, then every schedule dfs can
 * reach within two preemptions and the budget. Returns 1 if none broke
 * the invariant. */
static int stage_explore(void)
{
    const cd_exercise_spec_t *spec = host.spec;
    cd_explore_t e = { .scenario = &cd_exercise, .params = spec->explore,
                       .strategy = CD_SCHED_PCT, .strategy_name = "pct",
                       .seed = 1, .depth = 3, .bound = 2,
                       .runs = spec->pct_runs, .max_steps = STEPS,
                       .timeout_ms = spec->free_ms, .latency_permille = 1000,
                       .spurious = spec->spurious == CD_SPURIOUS_ALWAYS,
                       .on_stuck = on_stuck };
    cd_explore_result_t pct, dfs = { 0 };
    char size[64];

    cd_exercise_size_text(&spec->explore, size, sizeof size);
    if (!explore_ran(&e, &pct))
        return 0;
    if (!pct.found) {
        e.strategy = CD_SCHED_DFS;
        e.strategy_name = "dfs";
        e.runs = 0;
        e.budget_s = host.budget_s > 0 ? host.budget_s : spec->dfs_budget_s;
        if (cd_explore(&e, &dfs, &result) == -E2BIG)
            dfs.runs = 0; /* too many threads for dfs: pct alone judges */
    }
    if (!pct.found && !dfs.found && spec->spurious == CD_SPURIOUS_AFTER)
        return explore_spurious(&e, pct.runs, dfs.runs);
    if (pct.found || dfs.found)
        return explore_failed(pct.found ? "pct" : "dfs",
                              pct.found ? pct.runs : dfs.runs, "", size);
    if (dfs.exhausted)
        say("explore", "PASS", "%ld pct schedules and all %ld dfs schedules "
            "within 2 preemptions held (%s)", pct.runs, dfs.runs, size);
    else
        say("explore", "PASS", "%ld pct and %ld dfs schedules held in %.1f s "
            "(%s)", pct.runs, dfs.runs, pct.seconds + dfs.seconds, size);
    return 1;
}

/* Parallelism: in one controlled run, do the slow calls of independent
 * work overlap at the service? One lock around everything makes them
 * take turns. The service counts its own calls in flight (the run's
 * books): a wait of the learner's own, however named, is no call. */
static int stage_parallel(void)
{
    const cd_exercise_spec_t *spec = host.spec;
    cd_sched_cfg_t cfg = { .strategy = CD_SCHED_RANDOM, .seed = 1,
                           .max_steps = STEPS };
    char size[64];

    cd_run_opts_t o = free_opts(&spec->parallel);
    o.sched = &cfg;
    cd_run(&cd_exercise, 0, &o, &result);
    cd_exercise_size_text(&spec->parallel, size, sizeof size);
    if (result.verdict.status != CD_HELD) {
        say("parallel", "FAIL", "the run (%s) broke the invariant: %s", size,
            cd_status_name(result.verdict.status));
        explain_run(&result);
        print_replay(&result);
        return 0;
    }
    int most = cd_ledger_last_most();
    double ms = (double)result.duration_ns / 1e6;
    if (most < 2) {
        say("parallel", "FAIL", "%s", spec->serial_why);
        more("at most %d %s at a time (%s, %.1f ms of simulated time)",
             most, spec->overlap, size, ms);
        return 0;
    }
    say("parallel", "PASS", "up to %d %s at once (%s, %.1f ms of simulated "
        "time)", most, spec->overlap, size, ms);
    return 1;
}

/* Timing: a fix must not wait on purpose. Reads the learner's source. */
static int stage_timing(void)
{
    cd_wait_finding_t f[CD_GRADE_MAX_FINDINGS];

    int n = cd_grade_scan_waits(host.spec, host.source, f,
                                CD_GRADE_MAX_FINDINGS);
    if (n < 0) {
        say("timing", "FAIL", "cannot read %s: %s", host.source,
            strerror(-n));
        return 0;
    }
    if (n == 0) {
        say("timing", "PASS", "no sleeps, yields or extra waits");
        return 1;
    }
    int shown = n < CD_GRADE_MAX_FINDINGS ? n : CD_GRADE_MAX_FINDINGS;
    int waits = 0;
    for (int i = 0; i < shown; i++)
        waits += !f[i].blocking;
    if (waits)
        say("timing", "FAIL", "your fix depends on timing: waiting makes the "
            "bad interleaving rarer, not impossible (and the controlled "
            "scheduler, where sleeping orders nothing, finds it). A fix must "
            "hold however long anything takes");
    else
        say("timing", "FAIL", "a blocking sleep inside a task holds up its "
            "worker thread: no other task on it runs meanwhile. Await "
            "instead (cd_await_latency)");
    for (int i = 0; i < n && i < CD_GRADE_MAX_FINDINGS; i++)
        more("%s:%d %s", host.source, f[i].line, f[i].what);
    return 0;
}

static int cmd_check(void)
{
    catch_crashes();
    int ok = run_stage(CD_STAGE_FREE, stage_free);
    ok = run_stage(CD_STAGE_EXPLORE, stage_explore) && ok;
    /* Overlap means nothing in runs that break the invariant. */
    if (host.spec->overlap && ok)
        ok = run_stage(CD_STAGE_PARALLEL, stage_parallel);
    else if (host.spec->overlap)
        say("parallel", "-", "skipped until the runs above hold");
    ok = run_stage(CD_STAGE_TIMING, stage_timing) && ok;
    cd_ledger_send(CD_EFF_END, 0, 0);
    return ok ? 0 : 1;
}

/* The ThreadSanitizer build: one free run, its verdict on stdout; TSan
 * writes its reports to stderr and sets the exit code. */
static int cmd_tsan(void)
{
    cd_run_opts_t o = free_opts(&host.spec->free[0]);
    o.timeout_ms *= 2; /* TSan is several times slower */
    host.stage = "tsan";
    /* Sent at once: the checker's start limit ends here, not with the
     * run, which may take longer than that under TSan. */
    cd_ledger_send(CD_EFF_TSAN_RUN, 0, 0);
    cd_run(&cd_exercise, 0, &o, &result);
    cd_report_verdict_line(stdout, cd_exercise.name,
                           cd_exercise.variants[0].name, &result.verdict);
    fflush(stdout);
    /* The run happened: a program that left early has no report either. */
    cd_ledger_send(CD_EFF_END, 0, 0);
    return 0;
}

/* =============================== run mode ================================ */

static int bad(const char *fmt, const char *arg)
{
    fputs("concdemo check: ", stderr);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 2;
}

static int cmd_run(int argc, char **argv)
{
    const cd_scenario_t *x = &cd_exercise;
    cd_run_opts_t o = free_opts(&host.spec->explore);
    cd_runargs_t ra = { .scenario = x, .params = o.params };
    cd_step_t step = { .in = stdin, .out = stdout };
    char err[CD_TEXT_MAX];
    int rc = 0;

    /* concdemo's own table of run options (cli/options.c), here with the
     * exercise's ranges: the same forms and messages as everywhere. */
    for (int i = 0; i < argc && rc == 0; i++) {
        int taken = cd_opt_parse(&ra, CD_OPT_CHECK, argc, argv, &i, err,
                                 sizeof err);
        if (taken < 0)
            rc = bad("%s", err);
        else if (taken == 0)
            rc = bad("unexpected argument '%s'", argv[i]);
    }
    if (rc == 0 && !ra.has_sched)
        rc = bad("%s", "run mode needs --sched=STRATEGY");
    if (rc != 0) {
        cd_runargs_free(&ra);
        return rc;
    }
    cd_sched_cfg_t cfg = ra.sched; /* ours now: freed below */
    cfg.spurious = ra.spurious;
    o.params = ra.params;
    if (ra.max_steps)
        cfg.max_steps = ra.max_steps;
    if (!cfg.max_steps)
        cfg.max_steps = STEPS;
    if (cfg.strategy == CD_SCHED_STEP) {
        cfg.chooser = cd_step_chooser;
        cfg.chooser_arg = &step;
    }
    o.sched = &cfg;
    o.trace = ra.trace;
    host.stage = "run";
    cd_report_intro(stdout, x, 0, &o.params);
    fflush(stdout);
    cd_run(x, 0, &o, &result);
    cd_sched_cfg_free(&cfg);
    if (cd_sched_misfit())
        return bad("--sched: %s", cd_sched_misfit());
    replay_command(&result, result.replay, sizeof result.replay);
    if (ra.trace)
        cd_report_trace(stdout);
    cd_report_text(stdout, &result);
    return cd_exit_code(result.verdict.status);
}

/* ================================== main ================================= */

/* Refuses the run; the checker learns that it was a refusal, not a
 * program that ended early. */
static int refuse(void)
{
    cd_ledger_send(CD_EFF_REFUSED, 0, 0);
    return 2;
}

/* The options every mode shares; returns the index of the first other
 * argument, or -1 after saying what is wrong. */
static int shared_options(int argc, char **argv)
{
    int i = 3;
    for (; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        char *end;
        if (strcmp(a, "--cmd") == 0) {
            host.cmd = v;
        } else if (strcmp(a, "--source") == 0) {
            host.source = v;
        } else if (strcmp(a, "--schedule-dir") == 0) {
            host.sched_dir = v;
        } else if (strcmp(a, "--result-fd") == 0) {
            long fd = strtol(v, &end, 10);
            if (!*v || *end || fd < 3 || fd > 1 << 20) {
                bad("bad --result-fd '%s'", v);
                return -1;
            }
            cd_ledger_set_fd((int)fd);
        } else if (strcmp(a, "--budget") == 0) {
            host.budget_s = strtod(v, &end);
            if (!*v || *end || !isfinite(host.budget_s) ||
                host.budget_s <= 0) {
                bad("bad --budget '%s'", v);
                return -1;
            }
        } else {
            break;
        }
    }
    return i;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* a crash loses no finished line */
    if (argc < 3)
        return bad("%s", "usage: PROG check|tsan|run|instance NAME [options] (run by "
                   "concdemo check)");
    const char *mode = argv[1];
    host.self = argv[0];
    host.spec = cd_exercise_spec(argv[2]);
    host.cmd = "concdemo check";
    int i = shared_options(argc, argv);
    if (i < 0)
        return refuse();
    if (!host.spec) {
        bad("unknown exercise '%s'", argv[2]);
        return refuse();
    }
    if (!cd_exercise.name || strcmp(cd_exercise.name, host.spec->name) != 0 ||
        !cd_exercise.run || cd_exercise.nvariants < 1) {
        fprintf(stderr, "concdemo check: this file's cd_exercise is %s%s%s, "
                "not the exercise '%s' (its .name must be \"%s\", with a "
                "run function and one variant)\n",
                cd_exercise.name ? "'" : "", cd_exercise.name ? cd_exercise.name
                                                              : "unnamed",
                cd_exercise.name ? "'" : "", host.spec->name,
                host.spec->name);
        return refuse();
    }
    /* One of several copies that concdemo check runs side by side (an
     * exercise whose checkouts are processes: db-race). */
    if (strcmp(mode, "instance") == 0 && cd_exercise.instance_main)
        return cd_exercise.instance_main(argc - 3, argv + 3);
    if (strcmp(mode, "check") == 0 && host.source && i == argc)
        return cmd_check();
    if (strcmp(mode, "tsan") == 0 && i == argc)
        return cmd_tsan();
    if (strcmp(mode, "run") == 0)
        return cmd_run(argc - i, argv + i);
    bad("bad arguments for mode '%s'", mode);
    return refuse();
}
