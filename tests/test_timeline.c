/*
 * test_timeline.c - the pictures of a run: --timeline F.svg and
 * --trace-out F.json.
 *
 * Each picture is drawn by the real binary. The SVG must be well-formed
 * XML (xmllint, when installed: SKIPPED otherwise) and name every thread
 * and every lock of its run, which the same run's --json --trace lists;
 * the JSON must parse (python3's json.tool, when installed, else a check
 * of its shape) and hold a slice per lock hold. Broken runs are made
 * certain by their scenarios' wide windows, or by a controlled schedule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli/spans.h"
#include "../lib/cd_internal.h"
#include "../lib/cd_trace.h"
#include "harness.h"

/* suite: timeline */

/* Under a TSan build a broken run's report exits 1, as its verdict does:
 * the pictures are what these tests look at. */
#define TSAN_EXIT_1 "TSAN_OPTIONS=halt_on_error=0 exitcode=1"

#define LIMIT_MS 60000

static cmd_out_t out;
static char dir[64];

static void make_dir(void)
{
    if (dir[0])
        return;
    snprintf(dir, sizeof dir, "/tmp/concdemo-timeline-XXXXXX");
    if (!mkdtemp(dir))
        CU_FAIL_FATAL("cannot make a temporary directory");
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[4 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *copy = malloc(n + 1);
    if (copy)
        memcpy(copy, buf, n + 1);
    return copy;
}

static int tool_exists(const char *name)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* xmllint says the file is well-formed; SKIPPED (once) without it. */
static void expect_well_formed(const char *path)
{
    static int said;
    if (!tool_exists("xmllint")) {
        if (!said++)
            fprintf(stderr, "\n  SKIPPED: xmllint is not installed "
                    "(libxml2-utils), so the SVG was not parsed\n");
        return;
    }
    const char *argv[] = { "xmllint", "--noout", path, NULL };
    cmd_out_t *o = malloc(sizeof *o);
    run_cmd(o, argv, NULL, LIMIT_MS);
    ASSERT_INT_EQ(o->exit_code, 0);
    ASSERT_INT_EQ((long long)strlen(o->err), 0);
    free(o);
}

/* The JSON parses: python3's json.tool, or else at least its shape. */
static void expect_json(const char *path, const char *text)
{
    if (tool_exists("python3")) {
        const char *argv[] = { "python3", "-m", "json.tool", path, NULL };
        cmd_out_t *o = malloc(sizeof *o);
        run_cmd(o, argv, NULL, LIMIT_MS);
        ASSERT_INT_EQ(o->exit_code, 0);
        free(o);
        return;
    }
    ASSERT_STR_HAS(text, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
    size_t n = strlen(text);
    CU_ASSERT(n > 3 && strcmp(text + n - 3, "}}\n") == 0);
}

/* Every "key":"value" of the run's --json --trace, for key: the threads
 * and objects the run used. Calls fn for each distinct value. */
static void each_value(const char *json, const char *key,
                       const char *only_after_op, const char *svg)
{
    char want[160], seen[8192] = "|";
    snprintf(want, sizeof want, "\"%s\":\"", key);
    for (const char *p = strstr(json, want); p; p = strstr(p + 1, want)) {
        const char *v = p + strlen(want), *e = strchr(v, '"');
        if (!e || e - v > 100)
            continue;
        if (only_after_op) { /* the op field comes just before object */
            const char *op = p;
            while (op > json && strncmp(op, "\"op\":\"", 6) != 0)
                op--;
            if (strncmp(op + 6, only_after_op, strlen(only_after_op)) != 0)
                continue;
        }
        char name[128], bar[132];
        snprintf(name, sizeof name, "%.*s", (int)(e - v), v);
        snprintf(bar, sizeof bar, "|%s|", name);
        if (strstr(seen, bar))
            continue;
        if (strlen(seen) + strlen(bar) < sizeof seen)
            strcat(seen, bar + 1);
        /* The SVG names it as text of its own (a lane, a bar, the
         * legend), escaped as XML escapes it. */
        char tag[160];
        snprintf(tag, sizeof tag, ">%s<", name);
        ASSERT_STR_HAS(svg, tag);
    }
}

typedef struct drawn {
    int exit_code;
    char *svg, *json, *run_json;
    char svg_path[160], json_path[160];
} drawn_t;

/* Runs concdemo with args plus --timeline=DIR/NAME.svg --trace-out
 * DIR/NAME.json --json --trace (both forms of a value), and reads what
 * it wrote. */
static drawn_t draw(const char *name, const char *const args[])
{
    drawn_t d = { 0 };
    const char *argv[24];
    char timeline[200];
    int n = 0;

    make_dir();
    snprintf(d.svg_path, sizeof d.svg_path, "%s/%s.svg", dir, name);
    snprintf(d.json_path, sizeof d.json_path, "%s/%s.json", dir, name);
    snprintf(timeline, sizeof timeline, "--timeline=%s", d.svg_path);
    for (; args[n]; n++)
        argv[n] = args[n];
    argv[n++] = timeline;
    argv[n++] = "--trace-out";
    argv[n++] = d.json_path;
    argv[n++] = "--json";
    argv[n++] = "--trace";
    argv[n] = NULL;
    run_concdemo(&out, argv, TSAN_EXIT_1, LIMIT_MS);
    d.exit_code = out.exit_code;
    d.run_json = strdup(out.out);
    d.svg = slurp(d.svg_path);
    d.json = slurp(d.json_path);
    return d;
}

/* Frees what draw read and removes what it wrote (and the directory,
 * once empty: the next draw makes another). */
static void drawn_free(drawn_t *d)
{
    free(d->svg);
    free(d->json);
    free(d->run_json);
    if (d->svg_path[0])
        unlink(d->svg_path);
    if (d->json_path[0])
        unlink(d->json_path);
    if (dir[0] && rmdir(dir) == 0)
        dir[0] = '\0';
}

/* What every picture must be: well-formed, naming every thread and lock
 * of its run, the verdict its title, holds as slices when any lock was
 * taken. */
static void expect_pictures(drawn_t *d, const char *status)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(d->svg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d->json);
    expect_well_formed(d->svg_path);
    expect_json(d->json_path, d->json);
    char title[64];
    snprintf(title, sizeof title, "<title>%s: ", status);
    ASSERT_STR_HAS(d->svg, title);
    each_value(d->run_json, "thread", NULL, d->svg);
    each_value(d->run_json, "object", "acquired", d->svg);
    each_value(d->run_json, "object", "blocked", d->svg);
    if (strstr(d->run_json, "\"op\":\"acquired\""))
        ASSERT_STR_HAS(d->json, "\"cat\":\"hold\"");
    ASSERT_STR_HAS(d->json, "\"name\":\"thread_name\"");
}

/* ================================ the runs =============================== */

/* test: the race is drawn with its verdict */
static void test_the_race_is_drawn_with_its_verdict(void)
{
    const char *args[] = { "race", NULL };
    drawn_t d = draw("race", args);
    ASSERT_INT_EQ(d.exit_code, 1);
    expect_pictures(&d, "VIOLATED");
    ASSERT_STR_HAS(d.svg, ">checkout-1<");
    ASSERT_STR_HAS(d.svg, "payment-gateway"); /* a latency */
    ASSERT_STR_HAS(d.svg, "check status");    /* a named point */
    drawn_free(&d);
}

/* test: the deadlock cycle is drawn in red */
static void test_the_deadlock_cycle_is_drawn_in_red(void)
{
    const char *args[] = { "deadlock", NULL };
    drawn_t d = draw("deadlock", args);
    ASSERT_INT_EQ(d.exit_code, 1);
    expect_pictures(&d, "DEADLOCK");
    ASSERT_STR_HAS(d.svg, ">acct-A<");
    ASSERT_STR_HAS(d.svg, ">acct-B<");
    ASSERT_STR_HAS(d.svg, "url(#hatchred)");  /* the cycle's waits */
    ASSERT_STR_HAS(d.svg, "url(#arrowred)");  /* to their holders */
    ASSERT_STR_HAS(d.json, "\"cat\":\"wait\"");
    ASSERT_STR_HAS(d.json, "\"ph\":\"f\"");   /* a wait's flow */
    ASSERT_STR_HAS(d.json, "\"cname\":\"terrible\"");
    drawn_free(&d);
}

/* test: a fixed run is drawn without red */
static void test_a_fixed_run_is_drawn_without_red(void)
{
    const char *args[] = { "race", "--fixed=mutex", NULL };
    drawn_t d = draw("fixed", args);
    ASSERT_INT_EQ(d.exit_code, 0);
    expect_pictures(&d, "HELD");
    ASSERT_STR_HAS(d.svg, ">shop-lock<");
    /* No red bar (the legend's red swatch has no stroke width), no red
     * verdict line. */
    CU_ASSERT_PTR_NULL(strstr(d.svg, "stroke=\"#d62728\" stroke-width"));
    CU_ASSERT_PTR_NULL(strstr(d.json, "\"cname\""));
    drawn_free(&d);
}

/* test: a controlled deadlock gets a tail for its endless waits */
static void test_a_controlled_deadlock_gets_a_tail_for_its_endless_waits(void)
{
    const char *args[] = { "philosophers", "--sched=pct:3", NULL };
    drawn_t d = draw("philosophers", args);
    ASSERT_INT_EQ(d.exit_code, 1);
    expect_pictures(&d, "DEADLOCK");
    ASSERT_STR_HAS(d.svg, "never ends");
    ASSERT_STR_HAS(d.svg, "virtual clock");
    drawn_free(&d);
}

/* Every scenario, broken, in one controlled run each: the pictures exist
 * and are well-formed whatever the primitives (channels, condition
 * variables, semaphores, rwlocks, tasks). Not one whose instances are
 * processes (db-race): no controlled run schedules those. */
/* long test: every scenario is drawn */
static void test_every_scenario_is_drawn(void)
{
    int n;
    const cd_scenario_t *const *all = cd_scenarios(&n);
    for (int i = 0; i < n; i++) {
        if (all[i]->instance_main)
            continue;
        const char *args[] = { all[i]->name, "--sched=random:1",
                               "--max-steps", "20000", NULL };
        drawn_t d = draw(all[i]->name, args);
        if (d.exit_code != 0 && d.exit_code != 1)
            fprintf(stderr, "\n  %s exited %d: %s\n", all[i]->name,
                    d.exit_code, out.err);
        CU_ASSERT(d.exit_code == 0 || d.exit_code == 1);
        CU_ASSERT_PTR_NOT_NULL(d.svg);
        CU_ASSERT_PTR_NOT_NULL(d.json);
        if (d.svg && d.json) {
            expect_well_formed(d.svg_path);
            expect_json(d.json_path, d.json);
            each_value(d.run_json, "thread", NULL, d.svg);
        }
        drawn_free(&d);
    }
}

/* test: explore draws the schedule it found */
static void test_explore_draws_the_schedule_it_found(void)
{
    const char *args[] = { "explore", "deadlock", "--runs", "200", NULL };
    drawn_t d = { 0 };
    const char *argv[12];
    char svg[160], json[160];
    make_dir();
    snprintf(svg, sizeof svg, "%s/explore.svg", dir);
    snprintf(json, sizeof json, "%s/explore.json", dir);
    int k = 0;
    for (; args[k]; k++)
        argv[k] = args[k];
    argv[k++] = "--timeline";
    argv[k++] = svg;
    argv[k++] = "--trace-out=";
    argv[k] = NULL;
    /* "--trace-out=" with no file: a one-line error, nothing run. */
    run_concdemo(&out, argv, TSAN_EXIT_1, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 2);
    ASSERT_STR_HAS(out.err, "--trace-out needs a file name");
    char trace_out[200];
    snprintf(trace_out, sizeof trace_out, "--trace-out=%s", json);
    argv[k - 1] = trace_out;
    run_concdemo(&out, argv, TSAN_EXIT_1, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "violation found");
    d.svg = slurp(svg);
    d.json = slurp(json);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d.svg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d.json);
    expect_well_formed(svg);
    expect_json(json, d.json);
    ASSERT_STR_HAS(d.svg, "<title>DEADLOCK: ");
    ASSERT_STR_HAS(d.svg, ">transfer-1<");
    snprintf(d.svg_path, sizeof d.svg_path, "%s", svg);
    snprintf(d.json_path, sizeof d.json_path, "%s", json);
    drawn_free(&d);
}

/* A schedule with no choice open (every step had one thread to run) is
 * drawn too, and explore without the flags replays nothing. */
/* test: explore draws a schedule without choices */
static void test_explore_draws_a_schedule_without_choices(void)
{
    char svg[160];
    make_dir();
    snprintf(svg, sizeof svg, "%s/await.svg", dir);
    const char *args[] = { "explore", "await", "--timeline", svg, NULL };
    run_concdemo(&out, args, TSAN_EXIT_1, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "no choices");
    drawn_t d = { .svg = slurp(svg) };
    CU_ASSERT_PTR_NOT_NULL_FATAL(d.svg);
    expect_well_formed(svg);
    ASSERT_STR_HAS(d.svg, "<title>DEADLOCK: ");
    snprintf(d.svg_path, sizeof d.svg_path, "%s", svg);
    drawn_free(&d);
    const char *plain[] = { "explore", "await", NULL };
    run_concdemo(&out, plain, TSAN_EXIT_1, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_INT_EQ((long long)strlen(out.err), 0);
}

/* test: a file that cannot be written is one line and exit 2 */
static void test_a_file_that_cannot_be_written_is_one_line_and_exit_2(void)
{
    const char *args[] = { "race", "--timeline",
                           "/nonexistent-dir/race.svg", NULL };
    run_concdemo(&out, args, TSAN_EXIT_1, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 2);
    ASSERT_STR_HAS(out.err, "--timeline: cannot write "
                   "/nonexistent-dir/race.svg");
    ASSERT_INT_EQ(count_lines(out.err), 1);
    /* Refused before the run: nothing was run, no verdict printed. */
    CU_ASSERT_PTR_NULL(strstr(out.out, "VIOLATED"));
    const char *args2[] = { "race", "--trace-out", "/nonexistent-dir/x.json",
                            NULL };
    run_concdemo(&out, args2, TSAN_EXIT_1, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 2);
    ASSERT_STR_HAS(out.err, "--trace-out: cannot write");
}

/* ============================ reading the trace ========================== */

/* A lock taken at once may one day leave no "acquired" event of its own
 * (a cheaper trace): the hold is read from the request and the unlock. */
/* test: a hold without an acquired event is still a hold */
static void test_a_hold_without_an_acquired_event_is_still_a_hold(void)
{
    cd_reg_reset();
    cd_reg_set_trace(1);
    cd_site_t here = CD_HERE;
    cd__trace_emit(1, CD_OP_LOCK, 3, 0, NULL, here);
    cd__trace_emit(1, CD_OP_POINT, 0, 0, "inside", here);
    cd__trace_emit(2, CD_OP_LOCK, 3, 0, NULL, here);
    cd__trace_emit(2, CD_OP_BLOCK, 3, 0, NULL, here);
    cd__trace_emit(1, CD_OP_UNLOCK, 3, 0, NULL, here);
    cd__trace_emit(2, CD_OP_ACQUIRED, 3, 0, NULL, here);
    cd__trace_emit(2, CD_OP_UNLOCK, 3, 0, NULL, here);
    /* Thread 3 waits and never gets its lock: a wait, no hold. */
    cd__trace_emit(3, CD_OP_LOCK, 5, 0, NULL, here);
    cd__trace_emit(3, CD_OP_BLOCK, 5, 0, NULL, here);
    cd_spans_t s;
    ASSERT_INT_EQ(cd_spans_read(&s), 0);
    int holds = 0, waits = 0, points = 0;
    for (int i = 0; i < s.n; i++) {
        const cd_span_t *sp = &s.v[i];
        holds += sp->kind == CD_SPAN_HOLD && sp->obj == 3 && !sp->open;
        CU_ASSERT(!(sp->kind == CD_SPAN_HOLD && sp->obj == 5));
        if (sp->kind == CD_SPAN_WAIT && sp->obj == 5) {
            CU_ASSERT(sp->open);
        } else if (sp->kind == CD_SPAN_WAIT) {
            waits++;
            ASSERT_INT_EQ(sp->thread, 2);
            ASSERT_INT_EQ(sp->holder, 1); /* the arrow's end */
        }
        points += sp->kind == CD_SPAN_POINT;
    }
    ASSERT_INT_EQ(holds, 2);
    ASSERT_INT_EQ(waits, 1);
    ASSERT_INT_EQ(points, 1);
    ASSERT_INT_EQ(s.nlanes, 3);
    cd_spans_free(&s);
    cd_reg_set_trace(0);
    cd_reg_reset();
}
