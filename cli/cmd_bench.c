/*
 * cmd_bench.c - `concdemo bench fanin`: the fan-in benchmark (fanin.h) as
 * a table, a log-scale chart and the conclusions a reader came for.
 *
 * Rows go producers 2, 4, ... up to --max-producers; at each count every
 * method runs --reps times, the methods taking turns, so that drift on a
 * shared machine hits them alike; a cell is the median. Every row moves
 * the same number of messages (--messages, split evenly among the
 * producers), so rows compare as rates. A row whose messages did not all
 * arrive in order fails, and the command exits 1.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "fanin.h"

#define MAX_ROWS 16 /* producer counts: 2^1 .. 2^16 */
#define CHART_ROWS 10
#define PUBLISHED_ASYNC_RATIO 25.0

typedef struct bench_args {
    int max_producers, messages, capacity, reps, sink;
    int methods[CD_FANIN_NMETHODS], nmethods;
    const char *csv;
} bench_args_t;

typedef struct cell {
    int ran;       /* 0: skipped (a task method above its limit) */
    cd_fanin_result_t r; /* the median run's */
} cell_t;

typedef struct table {
    int np;
    int producers[MAX_ROWS];
    cell_t cells[MAX_ROWS][CD_FANIN_NMETHODS];
    int failed;
} table_t;

static void bench_usage(FILE *out)
{
    fprintf(out,
        "usage: concdemo bench fanin [--max-producers N] [--messages N]\n"
        "           [--capacity N] [--reps N] [--sink pipe|tcp]\n"
        "           [--methods LIST] [--csv FILE] [--quick]\n"
        "P producers (2, 4, ... N; default 1024) send --messages in all\n"
        "(default 131072, split evenly) to one consumer that writes them to a\n"
        "pipe or a loopback TCP connection; the far end checks that every\n"
        "message arrived, each producer's in order. Methods (default all):\n");
    for (int m = 0; m < CD_FANIN_NMETHODS; m++)
        fprintf(out, "  %-12s %s\n", cd_fanin_method_name(m),
                cd_fanin_method_label(m));
    fprintf(out,
        "--capacity: the bounded channel's (default 1024); --reps: runs per\n"
        "cell, the median is shown (default 3); --quick: up to 64 producers,\n"
        "16384 messages, 1 run per cell. Task methods stop at %d producers.\n"
        "Exit 0 when every row's check passed, 1 when one failed, 2 on bad\n"
        "usage.\n", CD_FANIN_MAX_TASKS);
}

/* ================================ options ================================ */

static int bench_error(const char *line)
{
    fprintf(stderr, "concdemo: bench: %s (see concdemo bench --help)\n", line);
    return -1;
}

static int parse_methods(bench_args_t *a, const char *list)
{
    char buf[256], err[300];
    if (!*list)
        return bench_error("--methods needs a list of methods");
    snprintf(buf, sizeof buf, "%s", list);
    a->nmethods = 0;
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w;
         w = strtok_r(NULL, ",", &save)) {
        int m = cd_fanin_method_by_name(w);
        if (m < 0) {
            snprintf(err, sizeof err, "unknown method '%s'", w);
            return bench_error(err);
        }
        for (int i = 0; i < a->nmethods; i++)
            if (a->methods[i] == m) {
                snprintf(err, sizeof err, "method '%s' named twice", w);
                return bench_error(err);
            }
        a->methods[a->nmethods++] = m;
    }
    return a->nmethods ? 0 : bench_error("--methods needs a list of methods");
}

/* The value of the option at argv[*i]: "--flag=V" or "--flag V". */
static const char *value_of(int argc, char **argv, int *i, size_t namelen)
{
    const char *w = argv[*i];
    if (w[namelen] == '=')
        return w + namelen + 1;
    if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0)
        return argv[++*i];
    return "";
}

static int parse_one(bench_args_t *a, int argc, char **argv, int *i)
{
    static const struct {
        const char *name;
        long lo, hi;
        size_t field;
    } nums[] = {
        { "--max-producers", 2, 1 << 16, offsetof(bench_args_t, max_producers) },
        { "--messages", 1, 1 << 26, offsetof(bench_args_t, messages) },
        { "--capacity", 1, 1 << 20, offsetof(bench_args_t, capacity) },
        { "--reps", 1, 99, offsetof(bench_args_t, reps) },
    };
    const char *w = argv[*i];
    char err[300];
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
        size_t n = strlen(nums[k].name);
        if (strncmp(w, nums[k].name, n) != 0 || (w[n] && w[n] != '='))
            continue;
        const char *v = value_of(argc, argv, i, n);
        if (cd_opt_parse_int(nums[k].name, v, nums[k].lo, nums[k].hi,
                             (int *)((char *)a + nums[k].field), err,
                             sizeof err) != 0)
            return bench_error(err);
        return 0;
    }
    if (strncmp(w, "--methods", 9) == 0 && (!w[9] || w[9] == '='))
        return parse_methods(a, value_of(argc, argv, i, 9));
    if (strncmp(w, "--csv", 5) == 0 && (!w[5] || w[5] == '=')) {
        a->csv = value_of(argc, argv, i, 5);
        return *a->csv ? 0 : bench_error("--csv needs a file name");
    }
    if (strncmp(w, "--sink", 6) == 0 && (!w[6] || w[6] == '=')) {
        const char *v = value_of(argc, argv, i, 6);
        if (strcmp(v, "pipe") != 0 && strcmp(v, "tcp") != 0) {
            snprintf(err, sizeof err, "--sink is pipe or tcp, not '%s'", v);
            return bench_error(err);
        }
        a->sink = strcmp(v, "tcp") == 0 ? CD_FANIN_TCP : CD_FANIN_PIPE;
        return 0;
    }
    snprintf(err, sizeof err, "fanin takes no '%s'", w);
    return bench_error(err);
}

static int parse_args(bench_args_t *a, int argc, char **argv)
{
    *a = (bench_args_t){ .max_producers = 1024, .messages = 1 << 17,
                         .capacity = 1024, .reps = 3 };
    for (int m = 0; m < CD_FANIN_NMETHODS; m++)
        a->methods[a->nmethods++] = m;
    /* --quick first: sizes given beside it win, wherever they stand. */
    for (int i = 3; i < argc; i++)
        if (strcmp(argv[i], "--quick") == 0) {
            a->max_producers = 64;
            a->messages = 1 << 14;
            a->reps = 1;
        }
    for (int i = 3; i < argc; i++)
        if (strcmp(argv[i], "--quick") != 0 && parse_one(a, argc, argv, &i))
            return -1;
    return 0;
}

/* ================================ running ================================ */

static int cmp_wall(const void *x, const void *y)
{
    const cd_fanin_result_t *a = x, *b = y;
    return (a->wall_ns > b->wall_ns) - (a->wall_ns < b->wall_ns);
}

static int is_task_method(int m)
{
    return m == CD_FANIN_TASK_MUTEX || m == CD_FANIN_TASK_AMUTEX;
}

/* The progress line, on a terminal only (stderr): the run going on, the
 * rate of runs so far and the time left at that rate, rewritten in place
 * and erased once the table is done (run_all). Nothing when stderr is not
 * a terminal: the table says it all. t0: when the first run began. */
static void progress(const char *what, int done, int total, int producers,
                     int64_t t0)
{
    if (!isatty(STDERR_FILENO))
        return;
    double s = (double)(cd_now_ns() - t0) / 1e9;
    int finished = done - 1; /* run `done` is about to start */
    char tail[64] = "";
    if (finished > 0 && s > 0)
        snprintf(tail, sizeof tail, ", %.1f runs/s, %.0f s left",
                 finished / s, s / finished * (total - finished));
    fprintf(stderr, "\rfanin: %d producers, %-12s (run %d of %d%s)   ",
            producers, what, done, total, tail);
    fflush(stderr);
}

/* Runs every method reps times at one producer count, taking turns, and
 * keeps each method's median run; a run that failed its check is kept
 * instead, so that a failure is never hidden by a median. */
static int run_row(const bench_args_t *a, table_t *t, int row, int *done,
                   int total, int64_t t0)
{
    cd_fanin_result_t runs[CD_FANIN_NMETHODS][99];
    int p = t->producers[row];
    for (int rep = 0; rep < a->reps; rep++)
        for (int k = 0; k < a->nmethods; k++) {
            int m = a->methods[k];
            if (is_task_method(m) && p > CD_FANIN_MAX_TASKS)
                continue;
            progress(cd_fanin_method_name(m), ++*done, total, p, t0);
            cd_fanin_cfg_t cfg = { .method = m, .producers = p,
                                   .messages = a->messages / p > 0
                                       ? a->messages / p : 1,
                                   .capacity = a->capacity, .sink = a->sink };
            int rc = cd_fanin_run(&cfg, &runs[m][rep]);
            if (rc != 0) {
                fprintf(stderr, "%sconcdemo: bench: %s with %d producers "
                        "could not run: %s\n", isatty(2) ? "\n" : "",
                        cd_fanin_method_name(m), p, strerror(-rc));
                return -1;
            }
        }
    for (int k = 0; k < a->nmethods; k++) {
        int m = a->methods[k];
        cell_t *c = &t->cells[row][m];
        if (is_task_method(m) && p > CD_FANIN_MAX_TASKS)
            continue;
        c->ran = 1;
        qsort(runs[m], (size_t)a->reps, sizeof runs[m][0], cmp_wall);
        c->r = runs[m][a->reps / 2];
        for (int rep = 0; rep < a->reps; rep++)
            if (!runs[m][rep].ok)
                c->r = runs[m][rep];
        t->failed += !c->r.ok;
    }
    return 0;
}

static int run_all(const bench_args_t *a, table_t *t)
{
    int total = 0, done = 0;
    t->np = 0;
    for (int p = 2; p <= a->max_producers && t->np < MAX_ROWS; p *= 2)
        t->producers[t->np++] = p;
    for (int r = 0; r < t->np; r++)
        for (int k = 0; k < a->nmethods; k++)
            if (!is_task_method(a->methods[k]) ||
                t->producers[r] <= CD_FANIN_MAX_TASKS)
                total += a->reps;
    int64_t t0 = cd_now_ns();
    for (int r = 0; r < t->np; r++)
        if (run_row(a, t, r, &done, total, t0) != 0)
            return -1;
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\r%90s\r", "");
    return 0;
}

/* ================================ printing =============================== */

/* 2.91M, 845k, 12.0 */
static const char *rate(double v, char *buf, size_t len)
{
    if (v >= 1e6)
        snprintf(buf, len, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, len, "%.0fk", v / 1e3);
    else
        snprintf(buf, len, "%.1f", v);
    return buf;
}

static const char *bytes(size_t v, char *buf, size_t len)
{
    if (v >= 1 << 20)
        snprintf(buf, len, "%.1f MiB", v / 1048576.0);
    else if (v >= 1 << 10)
        snprintf(buf, len, "%.1f KiB", v / 1024.0);
    else
        snprintf(buf, len, "%zu B", v);
    return buf;
}

static void print_table(const bench_args_t *a, const table_t *t)
{
    char r1[32], b1[32];
    printf("fan-in: P producers -> one consumer -> %s; %d messages a row, "
           "split evenly; median of %d run%s a cell; %ld CPUs online\n\n",
           a->sink == CD_FANIN_TCP ? "loopback TCP" : "a pipe", a->messages,
           a->reps, a->reps == 1 ? "" : "s", sysconf(_SC_NPROCESSORS_ONLN));
    printf("%9s  %-12s %9s %9s %10s %9s %11s  %s\n", "producers", "method",
           "wall ms", "msgs/s", "mean batch", "max batch", "peak memory",
           "check");
    for (int r = 0; r < t->np; r++)
        for (int k = 0; k < a->nmethods; k++) {
            int m = a->methods[k];
            const cell_t *c = &t->cells[r][m];
            if (!c->ran) {
                printf("%9d  %-12s %9s   (skipped: tasks stop at %d)\n",
                       t->producers[r], cd_fanin_method_name(m), "-",
                       CD_FANIN_MAX_TASKS);
                continue;
            }
            printf("%9d  %-12s %9.1f %9s %10.1f %9llu %11s  %s\n",
                   t->producers[r], cd_fanin_method_name(m),
                   c->r.wall_ns / 1e6, rate(c->r.msgs_per_s, r1, sizeof r1),
                   c->r.mean_batch, (unsigned long long)c->r.max_batch,
                   bytes(c->r.peak_bytes, b1, sizeof b1),
                   c->r.ok ? "ok" : "FAILED");
        }
}

/* A method's letter in the chart: c u s l, m and a for the task ones. */
static char mark_of(int m)
{
    return cd_fanin_method_name(m)[m >= CD_FANIN_TASK_MUTEX ? 5 : 0];
}

/* The chart: messages/s on a log scale (rows) against producers (one
 * column each), every method its own letter at its own place in the
 * column, so that methods close in speed stay apart. */
static void print_chart(const bench_args_t *a, const table_t *t)
{
    double lo = INFINITY, hi = 0;
    for (int r = 0; r < t->np; r++)
        for (int k = 0; k < a->nmethods; k++) {
            const cell_t *c = &t->cells[r][a->methods[k]];
            if (c->ran && c->r.msgs_per_s > 0) {
                lo = fmin(lo, c->r.msgs_per_s);
                hi = fmax(hi, c->r.msgs_per_s);
            }
        }
    if (hi <= 0)
        return;
    double l0 = floor(log10(lo)), l1 = ceil(log10(hi));
    if (l1 <= l0)
        l1 = l0 + 1;
    int w = a->nmethods + 2 > 6 ? a->nmethods + 2 : 6;
    char grid[CHART_ROWS][MAX_ROWS * (CD_FANIN_NMETHODS + 2) + 1];
    memset(grid, ' ', sizeof grid);
    for (int r = 0; r < t->np; r++)
        for (int k = 0; k < a->nmethods; k++) {
            const cell_t *c = &t->cells[r][a->methods[k]];
            if (!c->ran || c->r.msgs_per_s <= 0)
                continue;
            double f = (log10(c->r.msgs_per_s) - l0) / (l1 - l0);
            int y = (int)lround(f * (CHART_ROWS - 1));
            grid[y][r * w + 1 + k] = mark_of(a->methods[k]);
        }
    printf("\nmessages/s (log scale)\n");
    for (int y = CHART_ROWS - 1; y >= 0; y--) {
        double v = pow(10, l0 + (l1 - l0) * y / (CHART_ROWS - 1));
        char lab[32];
        int len = t->np * w;
        while (len > 0 && grid[y][len - 1] == ' ')
            len--;
        printf("%8s |%.*s\n", rate(v, lab, sizeof lab), len, grid[y]);
    }
    printf("%8s +", "");
    for (int r = 0; r < t->np * w; r++)
        putchar('-');
    printf("\n%8s  ", "");
    for (int r = 0; r < t->np; r++)
        printf("%-*d", w, t->producers[r]);
    printf("producers\n%8s  ", "");
    for (int k = 0; k < a->nmethods; k++)
        printf("%c %s%s", mark_of(a->methods[k]),
               cd_fanin_method_name(a->methods[k]),
               k + 1 < a->nmethods ? ", " : "\n");
}

static int has(const bench_args_t *a, int m)
{
    for (int k = 0; k < a->nmethods; k++)
        if (a->methods[k] == m)
            return 1;
    return 0;
}

/* Which of the bounded channel and the swap buffer was ahead where: the
 * crossover when there is one clean change, else every count where the
 * channel was ahead (noise shows as a lone exception). */
static void print_crossover(const bench_args_t *a, const table_t *t)
{
    char r1[32], r2[32], list[MAX_ROWS * 8] = "";
    if (!has(a, CD_FANIN_CHAN) || !has(a, CD_FANIN_SWAP))
        return;
    int chan_ahead[MAX_ROWS], nchan = 0, first_swap = -1, clean = 1;
    for (int r = 0; r < t->np; r++) {
        chan_ahead[r] = t->cells[r][CD_FANIN_CHAN].r.msgs_per_s >=
                        t->cells[r][CD_FANIN_SWAP].r.msgs_per_s;
        nchan += chan_ahead[r];
        if (!chan_ahead[r] && first_swap < 0)
            first_swap = r;
        if (chan_ahead[r] && first_swap >= 0)
            clean = 0; /* the channel ahead again after the swap buffer */
        if (chan_ahead[r])
            snprintf(list + strlen(list), sizeof list - strlen(list),
                     "%s%d", nchan > 1 ? ", " : "", t->producers[r]);
    }
    printf("crossover: ");
    if (nchan == 0)
        printf("the swap buffer was ahead of the bounded channel at every "
               "count measured\n");
    else if (nchan == t->np)
        printf("the bounded channel was ahead of the swap buffer at every "
               "count measured\n");
    else if (clean)
        printf("the swap buffer overtakes the bounded channel at %d "
               "producers and stays ahead (%s against %s messages/s)\n",
               t->producers[first_swap],
               rate(t->cells[first_swap][CD_FANIN_SWAP].r.msgs_per_s, r1,
                    sizeof r1),
               rate(t->cells[first_swap][CD_FANIN_CHAN].r.msgs_per_s, r2,
                    sizeof r2));
    else
        printf("no clean one: the swap buffer was ahead at %d of %d counts, "
               "the bounded channel at %s producers\n", t->np - nchan,
               t->np, list);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The awaitable mutex's time over the plain one's, producers being tasks
 * in both. */
static void print_async_ratio(const bench_args_t *a, const table_t *t)
{
    double ratios[MAX_ROWS];
    int n = 0, last = -1;
    if (!has(a, CD_FANIN_TASK_MUTEX) || !has(a, CD_FANIN_TASK_AMUTEX))
        return;
    for (int r = 0; r < t->np; r++) {
        const cell_t *m = &t->cells[r][CD_FANIN_TASK_MUTEX];
        const cell_t *am = &t->cells[r][CD_FANIN_TASK_AMUTEX];
        if (m->ran && am->ran && m->r.wall_ns > 0) {
            ratios[n++] = (double)am->r.wall_ns / m->r.wall_ns;
            last = r;
        }
    }
    if (n == 0)
        return;
    double at_last = ratios[n - 1];
    qsort(ratios, (size_t)n, sizeof ratios[0], cmp_double);
    printf("async mutex: tasks behind cd_amutex took %.1fx the time of tasks "
           "behind cd_mutex (median over %d counts; %.1fx at %d producers); "
           "the published figure is about %.0fx\n", ratios[n / 2], n,
           at_last, t->producers[last], PUBLISHED_ASYNC_RATIO);
}

static int write_csv(const bench_args_t *a, const table_t *t)
{
    FILE *f = fopen(a->csv, "w");
    if (!f) {
        fprintf(stderr, "concdemo: bench: cannot write %s: %s\n", a->csv,
                strerror(errno));
        return -1;
    }
    fprintf(f, "producers,method,wall_ms,msgs_per_s,mean_batch,max_batch,"
               "peak_bytes,check\n");
    for (int r = 0; r < t->np; r++)
        for (int k = 0; k < a->nmethods; k++) {
            const cell_t *c = &t->cells[r][a->methods[k]];
            if (c->ran)
                fprintf(f, "%d,%s,%.3f,%.0f,%.2f,%llu,%zu,%s\n",
                        t->producers[r], cd_fanin_method_name(a->methods[k]),
                        c->r.wall_ns / 1e6, c->r.msgs_per_s, c->r.mean_batch,
                        (unsigned long long)c->r.max_batch, c->r.peak_bytes,
                        c->r.ok ? "ok" : "failed");
        }
    if (fclose(f) != 0) {
        fprintf(stderr, "concdemo: bench: cannot write %s: %s\n", a->csv,
                strerror(errno));
        return -1;
    }
    return 0;
}

static void print_failures(const bench_args_t *a, const table_t *t)
{
    for (int r = 0; r < t->np; r++)
        for (int k = 0; k < a->nmethods; k++) {
            const cell_t *c = &t->cells[r][a->methods[k]];
            if (c->ran && !c->r.ok)
                printf("FAILED: %s with %d producers: %s\n",
                       cd_fanin_method_name(a->methods[k]), t->producers[r],
                       c->r.why);
        }
}

/* ================================= command =============================== */

int cd_cmd_bench(int argc, char **argv)
{
    if (argc < 3)
        return cd_cmd_usage_error("bench needs a benchmark: %s", "fanin");
    if (cd_cmd_is_help_flag(argv[2])) {
        bench_usage(stdout);
        return 0;
    }
    if (strcmp(argv[2], "fanin") != 0)
        return cd_cmd_usage_error("bench: unknown benchmark '%s' (there is "
                                  "fanin)", argv[2]);
    if (cd_cmd_wants_help(argc, argv)) {
        bench_usage(stdout);
        return 0;
    }
    bench_args_t a;
    if (parse_args(&a, argc, argv) != 0)
        return CD_EXIT_USAGE;
    table_t *t = calloc(1, sizeof *t);
    if (!t)
        return CD_EXIT_USAGE;
    int rc = run_all(&a, t) != 0 ? 1 : 0;
    if (rc == 0) {
        print_table(&a, t);
        print_chart(&a, t);
        printf("\n");
        print_crossover(&a, t);
        print_async_ratio(&a, t);
        print_failures(&a, t);
        if (!t->failed)
            printf("check: every row's messages arrived, each producer's in "
                   "order\n");
        rc = t->failed ? 1 : 0;
        if (a.csv && write_csv(&a, t) != 0)
            rc = CD_EXIT_USAGE;
    }
    free(t);
    return rc;
}
