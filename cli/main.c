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

#include "observer.h"
#include "report.h"
#include "run.h"
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
    "  --iterations N      work items per run (orders, transfers, ...)\n"
    "  --timeout MS        hard limit for the run, 100..600000 (default 10000)\n"
    "  --latency-scale F   multiply simulated latencies by F, 0..100 (default 1;\n"
    "                      0 closes the race windows: bugs hide, detectors don't)\n"
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
    cd_run_opts_t opts;
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

static int parse_int(const char *flag, const char *text, int lo, int hi,
                     int *out)
{
    char *end;
    if (!text || !*text) {
        fprintf(stderr, "concdemo: %s needs a number\n", flag);
        return -1;
    }
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*end != '\0' || end == text) {
        fprintf(stderr, "concdemo: %s: '%s' is not a whole number\n", flag,
                text);
        return -1;
    }
    if (errno == ERANGE || v < lo || v > hi) {
        fprintf(stderr, "concdemo: %s must be between %d and %d (got %s)\n",
                flag, lo, hi, text);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_scale(const char *text, int *permille)
{
    char *end;
    if (!text || !*text) {
        fprintf(stderr, "concdemo: --latency-scale needs a number\n");
        return -1;
    }
    errno = 0;
    double v = strtod(text, &end);
    if (*end != '\0' || end == text || errno == ERANGE || isnan(v) ||
        v < 0 || v > 100) {
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
        printf("%-10s %s: %s\n", s->name, s->title, s->pitfall);
        printf("%-10s variants: broken", "");
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
    printf("\nparameters:\n"
           "  --threads N      %d..%d (default %d)\n"
           "  --iterations N   %d..%d (default %d)\n\n"
           "try:\n  concdemo %s\n  concdemo %s --fixed\n\nlesson: %s\n",
           s->min.threads, s->max.threads, s->defaults.threads,
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
    fflush(stdout);
    _exit(1);
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
        return cd_view_text(stdout, c->scenario, c->variant, &c->opts, w, h,
                            r);
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
    cd_run_result_t r;
    char why[256];
    int signo;

    current = c;
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

/* The value of "--flag=V" or of "--flag V" (advancing *i). NULL if none. */
static const char *flag_value(int argc, char **argv, int *i, const char *flag)
{
    size_t n = strlen(flag);
    if (strncmp(argv[*i], flag, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] == '\0')
        return *i + 1 < argc ? argv[++*i] : "";
    return NULL;
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

static int parse_run_args(cli_t *c, int argc, char **argv)
{
    const cd_scenario_t *s = c->scenario;
    cd_params_t *p = &c->opts.params;
    const char *val;

    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--fixed") == 0 || strncmp(a, "--fixed=", 8) == 0) {
            if (parse_fixed(c, a) != 0)
                return -1;
        } else if ((val = flag_value(argc, argv, &i, "--threads"))) {
            if (parse_int("--threads", val, s->min.threads, s->max.threads,
                          &p->threads) != 0)
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
        } else if ((val = flag_value(argc, argv, &i, "--latency-scale"))) {
            if (parse_scale(val, &c->opts.latency_permille) != 0)
                return -1;
            c->scale_given = 1;
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

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

static int cmd_list(int argc, char **argv)
{
    if (argc == 2) {
        list_text();
        return 0;
    }
    if (argc == 3 && strcmp(argv[2], "--json") == 0) {
        list_json();
        return 0;
    }
    return usage_error("list takes only --json, not '%s'", argv[2]);
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 3) {
        fputs(usage_text, stdout);
        return 0;
    }
    const cd_scenario_t *s = cd_scenario_find(argv[2]);
    if (!s)
        return usage_error("unknown scenario '%s' (concdemo list shows them)",
                           argv[2]);
    scenario_help(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0) {
        printf("concdemo %s\n", CD_VERSION);
        return 0;
    }
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
    if (parse_run_args(&c, argc, argv) != 0)
        return EXIT_USAGE;
    if (c.view == VIEW_TEXT && c.json) {
        fprintf(stderr, "concdemo: --view=text and --json both write to "
                "stdout; use one of them\n");
        return EXIT_USAGE;
    }
    /* Watching needs time: slow the simulated latencies down and allow a
     * longer run, unless the command line said otherwise. */
    if (c.view && !c.scale_given)
        c.opts.latency_permille = CD_VIEW_SCALE_PERMILLE;
    if (c.view && !c.timeout_given)
        c.opts.timeout_ms = CD_VIEW_TIMEOUT_MS;
    return run_scenario(&c);
}
