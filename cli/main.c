/*
 * main.c - the concdemo command: arguments, dispatch, exit codes.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "explore.h"
#include "observer.h"
#include "report.h"
#include "run.h"
#include "step.h"
#include "view.h"

#ifndef CD_VERSION
#define CD_VERSION "0.1.0"
#endif

#define EXIT_USAGE 2
#define TIMEOUT_DEFAULT_MS 10000
#define TIMEOUT_MIN_MS 100
#define TIMEOUT_MAX_MS 600000

static const char usage_text[] =
    "usage: concdemo SCENARIO [--fixed[=HOW]] [options]   run a scenario\n"
    "       concdemo explore SCENARIO [--fixed[=HOW]] ...  search schedules for a bug\n"
    "       concdemo check EXERCISE [--file PATH]          grade your fix of an exercise\n"
    "       concdemo list [--json]                        list scenarios\n"
    "       concdemo help [SCENARIO]                      this text, or a scenario's\n"
    "       concdemo --version\n"
    "\n"
    "concdemo runs a concurrency bug on real threads, then its fixes, and\n"
    "ends with one verdict line: what was expected, what was observed.\n"
    "\n"
    "options:\n"
    "  --fixed[=HOW]       run a fixed variant (plain --fixed: the recommended fix)\n"
    "  --threads N         worker threads (range per scenario: concdemo help SCENARIO)\n"
    "  --workers N         worker threads of the async executor, for scenarios\n"
    "                      that run tasks (await, async-race); tasks stay on one\n"
    "                      worker, spread round-robin or as the scenario routes them\n"
    "  --iterations N      work items per run (orders, transfers, ...)\n"
    "  --timeout MS        hard limit for the run, 100..600000 (default 10000)\n"
    "  --latency-scale F   multiply simulated latencies by F, 0..100 (default 1;\n"
    "                      0 closes the race windows: bugs hide, detectors don't)\n"
    "  --sched=STRATEGY    controlled run: one thread at a time, same input, same run:\n"
    "                      random:SEED, pct:SEED[:DEPTH], dfs[:BOUND],\n"
    "                      replay:SCHEDULE (printed by every failing run), step\n"
    "                      (you choose who runs next; with --view, by keys in the\n"
    "                      live view: 1-9 a thread, Enter, a auto, q quit)\n"
    "  --max-steps N       controlled runs stop after N operations (default 100000)\n"
    "  --save-schedule F   write the run's whole schedule to file F (replay:@F)\n"
    "  --trace             print every operation (lock, unlock, latency, ...)\n"
    "  --json              print one JSON object instead of text\n"
    "  --view              watch the run live in the terminal (keys: q quit,\n"
    "                      p pause, + slower, - faster, ? help); latencies x100\n"
    "                      and a 60 s limit unless given\n"
    "  --view=text         the same frames as plain text, no terminal needed\n"
    "  -h, --help          help; with a scenario, the scenario's help\n"
    "\n"
    "exit codes:\n"
    "  0  the invariant held\n"
    "  1  the invariant was violated, the run deadlocked or timed out, or a\n"
    "     potential deadlock (lock-order inversion) was seen, or the run was\n"
    "     stopped (q in the view)\n"
    "  2  usage or environment error\n";

enum { VIEW_NONE, VIEW_TTY, VIEW_TEXT };

typedef struct cli {
    const cd_scenario_t *scenario;
    int variant;
    int json, trace, view;
    int scale_given, timeout_given;
    int has_sched;
    cd_sched_cfg_t sched;
    cd_step_t step;
    cd_run_opts_t opts;
    cd_explore_t *explore; /* set for `concdemo explore` */
    int max_steps;         /* controlled runs: operations before stopping */
    const char *save_path; /* --save-schedule FILE */
} cli_t;

/* The run in progress, for the stuck handler (the one way out that cannot
 * return through main). */
static const cli_t *current;

static int usage_error(const char *fmt, const char *arg)
{
    fputs("concdemo: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs(" (see concdemo --help)\n", stderr);
    return EXIT_USAGE;
}

/* ================================ numbers ================================ */

/* Digits only, after an optional minus: strtol alone would also take
 * " 3", "+3" and "-0", which are not what anyone means by a count. */
static int is_whole_number(const char *text)
{
    const char *d = text[0] == '-' ? text + 1 : text;
    return *d && strspn(d, "0123456789") == strlen(d);
}

static int parse_int(const char *flag, const char *text, int lo, int hi,
                     int *out)
{
    if (!text || !*text) {
        fprintf(stderr, "concdemo: %s needs a number\n", flag);
        return -1;
    }
    if (!is_whole_number(text)) {
        fprintf(stderr, "concdemo: %s: '%s' is not a whole number\n", flag,
                text);
        return -1;
    }
    errno = 0;
    long v = strtol(text, NULL, 10);
    /* Every range here is >= 0, so any minus ("-0" too) is out of it. */
    if (errno == ERANGE || text[0] == '-' || v < lo || v > hi) {
        fprintf(stderr, "concdemo: %s must be between %d and %d (got %s)\n",
                flag, lo, hi, text);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* Plain decimals ("2", "0.5", ".25"): what the help and the replay
 * commands write. strtod would also take "1e1", "0x10", "inf" and "-0". */
static int is_plain_decimal(const char *text)
{
    size_t whole = strspn(text, "0123456789");
    const char *rest = text + whole;
    if (*rest == '.')
        rest++;
    size_t frac = strspn(rest, "0123456789");
    return whole + frac > 0 && rest[frac] == '\0';
}

static int parse_scale(const char *text, int *permille)
{
    if (!text || !*text) {
        fprintf(stderr, "concdemo: --latency-scale needs a number\n");
        return -1;
    }
    double v = is_plain_decimal(text) ? strtod(text, NULL) : -1;
    if (v < 0 || v > 100) {
        fprintf(stderr, "concdemo: --latency-scale must be a number from 0 "
                "to 100 (got %s)\n", text);
        return -1;
    }
    *permille = (int)lround(v * 1000);
    return 0;
}

/* =============================== listings ================================ */

static void list_text(void)
{
    int n;
    const cd_scenario_t *const *all = cd_scenarios(&n);
    for (int i = 0; i < n; i++) {
        const cd_scenario_t *s = all[i];
        printf("%-12s %s: %s\n", s->name, s->title, s->pitfall);
        printf("%-12s variants: broken", "");
        for (int v = 1; v < s->nvariants; v++)
            printf(", --fixed=%s%s", s->variants[v].name,
                   v == s->recommended ? " (recommended)" : "");
        printf("\n");
    }
}

static void list_json(void)
{
    int n;
    const cd_scenario_t *const *all = cd_scenarios(&n);
    printf("[");
    for (int i = 0; i < n; i++) {
        const cd_scenario_t *s = all[i];
        printf("%s{\"name\":\"%s\",\"title\":\"%s\",\"pitfall\":\"%s\","
               "\"lesson\":\"%s\",\"recommended\":\"%s\",\"variants\":[",
               i ? "," : "", s->name, s->title, s->pitfall, s->lesson,
               s->variants[s->recommended].name);
        for (int v = 0; v < s->nvariants; v++)
            printf("%s\"%s\"", v ? "," : "", s->variants[v].name);
        printf("]}");
    }
    printf("]\n");
}

static void scenario_help(const cd_scenario_t *s)
{
    printf("concdemo %s - %s\n\n  %s\n\nvariants:\n", s->name, s->title,
           s->pitfall);
    for (int v = 0; v < s->nvariants; v++)
        printf("  %-22s %s%s\n",
               v == 0 ? "(default)" : s->variants[v].name,
               s->variants[v].summary,
               v == s->recommended ? " [--fixed]" : "");
    printf("\nparameters:\n");
    if (s->max.threads > 0)
        printf("  --threads N      %d..%d (default %d)\n", s->min.threads,
               s->max.threads, s->defaults.threads);
    if (s->max.workers > 0)
        printf("  --workers N      %d..%d (default %d): executor worker threads\n",
               s->min.workers, s->max.workers, s->defaults.workers);
    printf("  --iterations N   %d..%d (default %d)\n\n"
           "try:\n  concdemo %s\n  concdemo %s --fixed\n\nlesson: %s\n",
           s->min.iterations, s->max.iterations, s->defaults.iterations,
           s->name, s->name, s->lesson);
}

/* ================================ the run ================================ */

static void on_stuck(int reason)
{
    /* Threads ignored the abort (spinning outside libconc): report what we
     * know and leave; exit kills them. */
    cd_verdict_t v = { .status = reason == CD_ABORT_DEADLOCK ? CD_DEADLOCK
                           : reason == CD_ABORT_USER        ? CD_STOPPED
                                                             : CD_TIMEOUT };
    snprintf(v.expected, sizeof v.expected, "the run to end");
    snprintf(v.observed, sizeof v.observed,
             "threads did not stop after the run was aborted");
    cd_view_restore(); /* this way out too gives the terminal back */
    fflush(stdout);
    cd_report_verdict_line(stdout, current->scenario->name,
                           current->scenario->variants[current->variant].name,
                           &v);
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "concdemo: cannot write output: %s\n",
                errno ? strerror(errno) : "an earlier write failed");
        _exit(EXIT_USAGE);
    }
    _exit(1);
}

/* Writes the schedule of the last controlled run to path (the whole of
 * it, however long). Returns 0, or prints why not and returns -1. */
static int save_schedule(const char *path)
{
    const cd_sched_decision_t *d;
    int n = cd_sched_decisions(&d);
    int len = cd_sched_format_schedule(d, n, NULL, 0);
    char *text = malloc((size_t)len + 1);
    FILE *f = text ? fopen(path, "w") : NULL;
    int ok = f != NULL;
    if (ok) {
        cd_sched_format_schedule(d, n, text, (size_t)len + 1);
        ok = fprintf(f, "%s\n", text) > 0;
        ok = (fclose(f) == 0) && ok;
    }
    if (!ok)
        fprintf(stderr, "concdemo: --save-schedule: cannot write '%s': %s\n",
                path, strerror(errno));
    free(text);
    return ok ? 0 : -1;
}

/* --view=text frames are 80x24 unless COLUMNS and LINES say otherwise. */
static void text_size(int *w, int *h)
{
    const char *cols = getenv("COLUMNS"), *lines = getenv("LINES");
    *w = 80;
    *h = 24;
    if (cols && lines && atoi(cols) >= CD_SCREEN_MIN_W &&
        atoi(lines) >= CD_SCREEN_MIN_H) {
        *w = atoi(cols);
        *h = atoi(lines);
    }
}

/* Runs the scenario, plain or under a view; returns cd_run's result, or
 * -1 after printing why the view could not start. */
static int run_it(cli_t *c, cd_run_result_t *r, int *signo)
{
    *signo = 0;
    if (c->view == VIEW_TEXT) {
        int w, h;
        text_size(&w, &h);
        return cd_view_text(stdin, stdout, c->scenario, c->variant, &c->opts,
                            w, h, r);
    }
    if (c->view == VIEW_TTY) {
        cd_view_end_t end;
        if (cd_view_run(c->scenario, c->variant, &c->opts, r, &end) != 0) {
            fprintf(stderr, "concdemo: %s\n", end.why);
            return -1;
        }
        *signo = end.signo;
        return end.run_rc;
    }
    return cd_run(c->scenario, c->variant, &c->opts, r);
}

static int run_scenario(cli_t *c)
{
    static cd_run_result_t r; /* large: keep it off the stack */
    char why[256];
    int signo;

    current = c;
    /* Watching needs time: slow the simulated latencies down and allow a
     * longer run, unless the command line said otherwise. A controlled
     * run's latencies pass on a virtual clock, so slowing them would only
     * change the replay command. */
    if (c->view && !c->scale_given && !c->has_sched)
        c->opts.latency_permille = CD_VIEW_SCALE_PERMILLE;
    if (c->view && !c->timeout_given)
        c->opts.timeout_ms = CD_VIEW_TIMEOUT_MS;
    if (c->has_sched) {
        if (c->max_steps)
            c->sched.max_steps = c->max_steps;
        /* Under a view the observer answers through its mailbox. */
        if (c->sched.strategy == CD_SCHED_STEP && c->view == VIEW_NONE) {
            c->step = (cd_step_t){ .in = stdin, .out = stdout };
            c->sched.chooser = cd_step_chooser;
            c->sched.chooser_arg = &c->step;
        }
        c->opts.sched = &c->sched;
    }
    c->opts.on_stuck = on_stuck;
    c->opts.trace = c->trace;
    if (c->view == VIEW_TTY && cd_view_check(why, sizeof why) != 0) {
        fprintf(stderr, "concdemo: %s\n", why);
        return EXIT_USAGE;
    }
    if (!c->json) {
        cd_report_intro(stdout, c->scenario, c->variant, &c->opts.params);
        fflush(stdout);
    }
    int rc = run_it(c, &r, &signo);
    if (rc == -1)
        return EXIT_USAGE;
    if (rc != 0) {
        fprintf(stderr, "concdemo: %s\n", r.verdict.observed);
        return EXIT_USAGE;
    }
    if (r.controlled && cd_sched_misfit()) {
        /* A schedule that does not fit is bad input, not a verdict. */
        fprintf(stderr, "concdemo: --sched: %s\n", cd_sched_misfit());
        return EXIT_USAGE;
    }
    if (c->save_path && r.controlled && save_schedule(c->save_path) != 0)
        return EXIT_USAGE;
    if (r.controlled)
        cd_report_replay_command(&r, c->opts.latency_permille, c->save_path,
                                 r.replay, sizeof r.replay);
    if (c->json) {
        cd_report_json(stdout, &r, c->trace);
    } else {
        if (c->trace)
            cd_report_trace(stdout);
        cd_report_text(stdout, &r);
    }
    /* Ended by Ctrl-C or SIGTERM in the view: say so, as a shell expects. */
    return signo ? 128 + signo : cd_exit_code(r.verdict.status);
}

/* ============================== arguments ================================ */

/* "--workers" for a scenario without an executor (or "--threads" for one
 * with only tasks): one line that says what to use instead. */
static int wrong_kind(const cd_scenario_t *s, const char *flag)
{
    int n;
    const cd_scenario_t *const *all = cd_scenarios(&n);

    if (strcmp(flag, "--threads") == 0) {
        fprintf(stderr, "concdemo: %s runs async tasks, not threads: use "
                "--workers N (%d..%d) instead of --threads\n", s->name,
                s->min.workers, s->max.workers);
        return -1;
    }
    fprintf(stderr, "concdemo: %s runs threads, not async tasks: --workers "
            "is for", s->name);
    for (int i = 0, k = 0; i < n; i++)
        if (all[i]->max.workers > 0)
            fprintf(stderr, "%s %s", k++ ? "," : "", all[i]->name);
    fprintf(stderr, " (use --threads N)\n");
    return -1;
}

/* The value of "--flag=V" or of "--flag V" (advancing *i); "" when the
 * value is missing: "--flag" last, or followed by another option (so that
 * "--save-schedule --json" does not save to a file named --json). NULL if
 * argv[*i] is not this flag. */
static const char *flag_value(int argc, char **argv, int *i, const char *flag)
{
    size_t n = strlen(flag);
    if (strncmp(argv[*i], flag, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc || strncmp(argv[*i + 1], "--", 2) == 0)
        return "";
    return argv[++*i];
}

static int is_flag(const char *arg, const char *flag)
{
    size_t n = strlen(flag);
    return strncmp(arg, flag, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

static int parse_fixed(cli_t *c, const char *arg)
{
    const cd_scenario_t *s = c->scenario;
    if (strcmp(arg, "--fixed") == 0) {
        c->variant = s->recommended;
        return 0;
    }
    const char *how = arg + strlen("--fixed=");
    int v = cd_scenario_variant(s, how);
    if (v <= 0) {
        fprintf(stderr, "concdemo: %s has no fix called '%s' (fixes:", s->name,
                how);
        for (int i = 1; i < s->nvariants; i++)
            fprintf(stderr, " %s", s->variants[i].name);
        fprintf(stderr, ")\n");
        return -1;
    }
    c->variant = v;
    return 0;
}

/* Flags only `concdemo explore` takes. 1: taken, 0: not ours, -1: bad. */
static int parse_explore_flag(cd_explore_t *e, int argc, char **argv, int *i)
{
    const char *val;
    int n;

    if ((val = flag_value(argc, argv, i, "--strategy"))) {
        if (!*val) {
            fprintf(stderr, "concdemo: --strategy needs pct, random or dfs\n");
            return -1;
        }
        static const struct { const char *name; int strategy; } known[] = {
            { "pct", CD_SCHED_PCT }, { "random", CD_SCHED_RANDOM },
            { "dfs", CD_SCHED_DFS },
        };
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            if (strcmp(val, known[k].name) == 0) {
                e->strategy = known[k].strategy;
                e->strategy_name = known[k].name;
                return 1;
            }
        fprintf(stderr, "concdemo: --strategy: unknown strategy '%s' (pct, "
                "random, dfs)\n", val);
        return -1;
    }
    if ((val = flag_value(argc, argv, i, "--runs"))) {
        if (parse_int("--runs", val, 1, 100000000, &n) != 0)
            return -1;
        e->runs = n;
        return 1;
    }
    if ((val = flag_value(argc, argv, i, "--budget"))) {
        if (parse_int("--budget", val, 1, 3600, &n) != 0)
            return -1;
        e->budget_s = n;
        return 1;
    }
    if ((val = flag_value(argc, argv, i, "--seed"))) {
        if (parse_int("--seed", val, 0, 2000000000, &n) != 0)
            return -1;
        e->seed = (uint64_t)n;
        return 1;
    }
    if ((val = flag_value(argc, argv, i, "--depth"))) {
        if (parse_int("--depth", val, 1, 16, &e->depth) != 0)
            return -1;
        return 1;
    }
    if ((val = flag_value(argc, argv, i, "--bound"))) {
        if (parse_int("--bound", val, 0, 16, &e->bound) != 0)
            return -1;
        return 1;
    }
    return 0;
}

/* The flags parse_explore_flag takes, for a run given one by mistake. */
static int is_explore_flag(const char *arg)
{
    static const char *const names[] = { "--strategy", "--runs", "--budget",
                                         "--seed", "--depth", "--bound" };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (is_flag(arg, names[k]))
            return 1;
    return 0;
}

static int parse_run_args(cli_t *c, int argc, char **argv)
{
    const cd_scenario_t *s = c->scenario;
    cd_params_t *p = &c->opts.params;
    const char *val;

    for (int i = 2 + (c->explore != NULL); i < argc; i++) {
        const char *a = argv[i];
        int taken = c->explore ? parse_explore_flag(c->explore, argc, argv, &i)
                               : 0;
        if (taken < 0)
            return -1;
        if (taken)
            continue;
        if (c->explore && (is_flag(a, "--sched") || is_flag(a, "--trace"))) {
            fprintf(stderr, "concdemo: explore chooses the schedules itself; "
                    "%.*s is for single runs\n", (int)strcspn(a, "="), a);
            return -1;
        }
        if (c->explore && is_flag(a, "--view")) {
            fprintf(stderr, "concdemo: explore runs many schedules and "
                    "watches none; --view is for single runs\n");
            return -1;
        }
        if (strcmp(a, "--fixed") == 0 || strncmp(a, "--fixed=", 8) == 0) {
            if (parse_fixed(c, a) != 0)
                return -1;
        } else if ((val = flag_value(argc, argv, &i, "--threads"))) {
            if (s->max.threads <= 0)
                return wrong_kind(s, "--threads");
            if (parse_int("--threads", val, s->min.threads, s->max.threads,
                          &p->threads) != 0)
                return -1;
        } else if ((val = flag_value(argc, argv, &i, "--workers"))) {
            if (s->max.workers <= 0)
                return wrong_kind(s, "--workers");
            if (parse_int("--workers", val, s->min.workers, s->max.workers,
                          &p->workers) != 0)
                return -1;
        } else if ((val = flag_value(argc, argv, &i, "--iterations"))) {
            if (parse_int("--iterations", val, s->min.iterations,
                          s->max.iterations, &p->iterations) != 0)
                return -1;
        } else if ((val = flag_value(argc, argv, &i, "--timeout"))) {
            if (parse_int("--timeout", val, TIMEOUT_MIN_MS, TIMEOUT_MAX_MS,
                          &c->opts.timeout_ms) != 0)
                return -1;
            c->timeout_given = 1;
        } else if ((val = flag_value(argc, argv, &i, "--sched"))) {
            char err[256];
            cd_sched_cfg_free(&c->sched);
            if (cd_sched_parse(val, &c->sched, err, sizeof err) != 0) {
                fprintf(stderr, "concdemo: --sched: %s\n", err);
                return -1;
            }
            c->has_sched = 1;
        } else if ((val = flag_value(argc, argv, &i, "--latency-scale"))) {
            if (parse_scale(val, &c->opts.latency_permille) != 0)
                return -1;
            c->scale_given = 1;
        } else if ((val = flag_value(argc, argv, &i, "--save-schedule"))) {
            if (!*val) {
                fprintf(stderr, "concdemo: --save-schedule needs a file name\n");
                return -1;
            }
            c->save_path = val;
        } else if ((val = flag_value(argc, argv, &i, "--max-steps"))) {
            if (parse_int("--max-steps", val, 1, 100000000, &c->max_steps) != 0)
                return -1;
        } else if (strcmp(a, "--view") == 0) {
            c->view = VIEW_TTY;
        } else if (strcmp(a, "--view=text") == 0) {
            c->view = VIEW_TEXT;
        } else if (is_flag(a, "--view")) {
            fprintf(stderr, "concdemo: --view takes no value or =text "
                    "(got '%s')\n", a);
            return -1;
        } else if (strcmp(a, "--json") == 0) {
            c->json = 1;
        } else if (strcmp(a, "--trace") == 0) {
            c->trace = 1;
        } else if (is_flag(a, "--json") || is_flag(a, "--trace")) {
            fprintf(stderr, "concdemo: %.*s takes no value\n",
                    (int)strcspn(a, "="), a);
            return -1;
        } else if (!c->explore && is_explore_flag(a)) {
            fprintf(stderr, "concdemo: %.*s is for concdemo explore (see "
                    "concdemo explore --help)\n", (int)strcspn(a, "="), a);
            return -1;
        } else if (a[0] == '-') {
            fprintf(stderr, "concdemo: unknown option '%s' (see concdemo "
                    "help %s)\n", a, s->name);
            return -1;
        } else {
            fprintf(stderr, "concdemo: unexpected argument '%s' (see concdemo "
                    "help %s)\n", a, s->name);
            return -1;
        }
    }
    return 0;
}

static int is_help_flag(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (is_help_flag(argv[i]))
            return 1;
    return 0;
}

/* ================================ explore ================================ */

static const char explore_usage[] =
    "usage: concdemo explore SCENARIO [--fixed[=HOW]] [--strategy pct|random|dfs]\n"
    "                        [--runs N] [--budget S] [--seed N] [--depth D]\n"
    "                        [--bound B] [--threads N] [--iterations N]\n"
    "                        [--latency-scale F] [--save-schedule F] [--json]\n"
    "\n"
    "Runs the variant under many controlled schedules (one thread at a time)\n"
    "until one breaks the invariant, then prints that run and the command\n"
    "that replays it exactly. dfs tries every schedule with at most B\n"
    "preemptions (default 2) and says when it has tried them all.\n"
    "Defaults: pct (depth 3), 1000 runs for pct/random, no run limit for dfs,\n"
    "a 30 s budget, the scenario's small explore size (threads, iterations).\n"
    "Exit: 0 no violation found, 1 violation found, 2 usage error.\n";

static void explore_report_text(const cli_t *c, const cd_explore_result_t *x,
                                const cd_run_result_t *r)
{
    const cd_explore_t *e = c->explore;
    double rate = x->seconds > 0 ? x->runs / x->seconds : 0;
    if (x->found) {
        printf("explore %s [%s] %s: violation found after %ld schedule%s "
               "(%.2f s)\n", e->scenario->name,
               e->scenario->variants[e->variant].name, e->strategy_name,
               x->runs, x->runs == 1 ? "" : "s", x->seconds);
        cd_report_text(stdout, r);
        return;
    }
    printf("explore %s [%s] %s: no violation in %ld schedule%s (%ld distinct)",
           e->scenario->name, e->scenario->variants[e->variant].name,
           e->strategy_name, x->runs, x->runs == 1 ? "" : "s", x->distinct);
    if (e->strategy == CD_SCHED_DFS)
        printf(x->exhausted ? "; every schedule with at most %d preemption%s "
                              "tried" : "; not exhausted (%d preemption%s)",
               e->bound, e->bound == 1 ? "" : "s");
    printf("; %.2f s, %.0f schedules/s\n", x->seconds, rate);
}

static void explore_report_json(const cli_t *c, const cd_explore_result_t *x,
                                cd_run_result_t *r)
{
    const cd_explore_t *e = c->explore;
    printf("{\"explore\":\"%s\",\"variant\":\"%s\",\"strategy\":\"%s\","
           "\"threads\":%d,\"iterations\":%d,\"runs\":%ld,\"distinct\":%ld,"
           "\"found\":%s,\"exhausted\":%s,\"seconds\":%.3f,"
           "\"schedules_per_sec\":%.0f,\"violation\":",
           e->scenario->name, e->scenario->variants[e->variant].name,
           e->strategy_name, e->params.threads, e->params.iterations, x->runs,
           x->distinct, x->found ? "true" : "false",
           x->exhausted ? "true" : "false", x->seconds,
           x->seconds > 0 ? x->runs / x->seconds : 0.0);
    if (x->found) {
        /* The run's own object, without its closing newline. */
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        if (mem) {
            cd_report_json(mem, r, 0);
            fclose(mem);
            while (len > 0 && buf[len - 1] == '\n')
                buf[--len] = '\0';
            printf("%s}\n", buf);
            free(buf);
        } else {
            printf("null}\n");
        }
    } else {
        printf("null}\n");
    }
}

static int cmd_explore(int argc, char **argv)
{
    static cd_run_result_t r; /* large: keep it off the stack */
    cd_explore_result_t x;

    if (argc < 3 || argv[2][0] == '-') {
        if (wants_help(argc, argv)) {
            fputs(explore_usage, stdout);
            return 0;
        }
        fputs("concdemo: explore needs a scenario (concdemo explore --help)\n",
              stderr);
        return EXIT_USAGE;
    }
    cd_explore_t e = { .strategy = CD_SCHED_PCT, .strategy_name = "pct",
                       .depth = 3, .bound = 2, .budget_s = 30,
                       .max_steps = CD_SCHED_DEFAULT_STEPS,
                       .seed = 1, .progress = isatty(2) };
    cli_t c = { .scenario = cd_scenario_find(argv[2]), .explore = &e };
    if (!c.scenario)
        return usage_error("unknown scenario '%s' (concdemo list shows them)",
                           argv[2]);
    if (wants_help(argc, argv)) {
        fputs(explore_usage, stdout);
        return 0;
    }
    c.opts.params = c.scenario->explore;
    if (c.opts.params.threads == 0)
        c.opts.params = c.scenario->min;
    c.opts.timeout_ms = TIMEOUT_DEFAULT_MS;
    c.opts.latency_permille = 1000;
    if (parse_run_args(&c, argc, argv) != 0)
        return EXIT_USAGE;
    if (e.runs == 0 && e.strategy != CD_SCHED_DFS)
        e.runs = 1000;
    if (c.max_steps)
        e.max_steps = c.max_steps;
    e.scenario = c.scenario;
    e.variant = c.variant;
    e.params = c.opts.params;
    e.timeout_ms = c.opts.timeout_ms;
    e.latency_permille = c.opts.latency_permille;
    e.on_stuck = on_stuck; /* a run that spins outside libconc still ends */
    if (c.json)
        e.progress = 0;
    current = &c;
    int rc = cd_explore(&e, &x, &r);
    if (rc == -E2BIG) {
        fprintf(stderr, "concdemo: dfs keeps at most 64 threads; use "
                "--threads to make the case smaller\n");
        return EXIT_USAGE;
    }
    if (rc != 0) {
        fprintf(stderr, "concdemo: explore could not run: %s\n",
                strerror(-rc));
        return EXIT_USAGE;
    }
    if (x.found && c.save_path && save_schedule(c.save_path) != 0)
        return EXIT_USAGE;
    if (x.found)
        cd_report_replay_command(&r, c.opts.latency_permille, c.save_path,
                                 r.replay, sizeof r.replay);
    if (c.json)
        explore_report_json(&c, &x, &r);
    else
        explore_report_text(&c, &x, &r);
    if (x.found && r.verdict.status == CD_ERROR)
        return EXIT_USAGE;
    return x.found ? 1 : 0;
}

static int cmd_list(int argc, char **argv)
{
    int json = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") != 0) /* name the word at fault */
            return usage_error("list takes only --json, not '%s'", argv[i]);
        json = 1;
    }
    if (json)
        list_json();
    else
        list_text();
    return 0;
}

/* help [SCENARIO], --help [SCENARIO]: a help flag among the words is
 * only asking for help again; anything past the scenario is refused. */
static int cmd_help(int argc, char **argv)
{
    const cd_scenario_t *s = NULL;
    for (int i = 2; i < argc; i++) {
        if (is_help_flag(argv[i]))
            continue;
        if (s)
            return usage_error("help takes one scenario, not '%s'", argv[i]);
        s = cd_scenario_find(argv[i]);
        if (!s)
            return usage_error("unknown scenario '%s' (concdemo list shows "
                               "them)", argv[i]);
    }
    if (s)
        scenario_help(s);
    else
        fputs(usage_text, stdout);
    return 0;
}

/* Flags that each work but not together: one line and 1, else 0. Checked
 * before anything runs, so that the answer does not depend on whether
 * stdout is a terminal (--view checks that only when it starts). */
static int flags_conflict(cli_t *c)
{
    if (c->save_path && !c->has_sched) {
        usage_error("%s needs --sched (a free run has no schedule)",
                    "--save-schedule");
        return 1;
    }
    if (c->has_sched && c->sched.strategy == CD_SCHED_STEP && c->json) {
        usage_error("%s: step mode talks to you on the terminal; drop --json",
                    "--sched=step");
        return 1;
    }
    if (c->view && c->json) {
        fprintf(stderr, "concdemo: %s and --json both write to stdout; use "
                "one of them\n", c->view == VIEW_TEXT ? "--view=text"
                                                       : "--view");
        return 1;
    }
    return 0;
}

/* Everything is printed through stdio: a full disk or a closed stdout
 * shows only when the buffer is flushed, so every command ends here.
 * Returns rc, or EXIT_USAGE after one line on stderr if any output was
 * lost (a verdict nobody could read is not a verdict). */
static int finish_output(int rc)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout) && fclose(stdout) == 0)
        return rc;
    /* errno is 0 only if an earlier write failed and this flush had
     * nothing left to write. */
    fprintf(stderr, "concdemo: cannot write output: %s\n",
            errno ? strerror(errno) : "an earlier write failed");
    return EXIT_USAGE;
}

static int run_command(int argc, char **argv)
{
    cd_report_set_program(argv[0]); /* replay commands run as we were run */
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0) {
        if (argc > 2)
            return usage_error("--version takes nothing more, not '%s'",
                               argv[2]);
        printf("concdemo %s\n", CD_VERSION);
        return 0;
    }
    if (strcmp(cmd, "explore") == 0)
        return cmd_explore(argc, argv);
    if (strcmp(cmd, "check") == 0)
        return cd_check_main(argc, argv);
    if (strcmp(cmd, "list") == 0)
        return wants_help(argc, argv) ? cmd_help(2, argv) : cmd_list(argc, argv);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "-h") == 0)
        return cmd_help(argc, argv);
    if (cmd[0] == '-')
        return usage_error("unknown option '%s'", cmd);

    cli_t c = { .scenario = cd_scenario_find(cmd) };
    if (!c.scenario)
        return usage_error("unknown scenario '%s' (concdemo list shows them)",
                           cmd);
    if (wants_help(argc, argv)) {
        scenario_help(c.scenario);
        return 0;
    }
    c.opts.params = c.scenario->defaults;
    c.opts.timeout_ms = TIMEOUT_DEFAULT_MS;
    c.opts.latency_permille = 1000;
    /* c.sched is freed on every way out from here, usage errors too. */
    int rc = parse_run_args(&c, argc, argv) != 0 || flags_conflict(&c)
                 ? EXIT_USAGE
                 : run_scenario(&c);
    cd_sched_cfg_free(&c.sched);
    return rc;
}

int main(int argc, char **argv)
{
    return finish_output(run_command(argc, argv));
}
