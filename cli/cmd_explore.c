/*
 * cmd_explore.c - `concdemo explore SCENARIO [options]`: many controlled
 * runs of one variant until one breaks the invariant; prints that run and
 * the command that replays it, or how much was searched.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "explore.h"
#include "report.h"

#define TIMEOUT_DEFAULT_MS 10000

static const char explore_usage[] =
    "usage: concdemo explore SCENARIO [--fixed[=HOW]] [--strategy pct|random|dfs]\n"
    "                        [--runs N] [--budget S] [--seed N] [--depth D]\n"
    "                        [--bound B] [--threads N] [--iterations N]\n"
    "                        [--memory-budget KIB] [--latency-scale F]\n"
    "                        [--spurious] [--save-schedule F] [--json]\n"
    "                        [--timeline F.svg] [--trace-out F.json]\n"
    "\n"
    "Runs the variant under many controlled schedules (one thread at a time)\n"
    "until one breaks the invariant, then prints that run and the command\n"
    "that replays it exactly (--timeline and --trace-out draw that run).\n"
    "dfs tries every schedule with at most B preemptions (default 2) and\n"
    "says when it has tried them all.\n"
    "Defaults: pct (depth 3), 1000 runs for pct/random, no run limit for dfs,\n"
    "a 30 s budget, the scenario's small explore size (threads, iterations;\n"
    "backpressure: --memory-budget 96 too).\n"
    "Exit: 0 no violation found, 1 violation found, 2 usage error.\n";

static void report_text(const cd_explore_t *e, const cd_explore_result_t *x,
                        const cd_run_result_t *r)
{
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

static void report_json(const cd_explore_t *e, const cd_explore_result_t *x,
                        cd_run_result_t *r)
{
    printf("{\"explore\":\"%s\",\"variant\":\"%s\",\"strategy\":\"%s\","
           "\"threads\":%d,\"iterations\":%d,\"runs\":%ld,\"distinct\":%ld,"
           "\"found\":%s,\"exhausted\":%s,\"seconds\":%.3f,"
           "\"cpu_seconds\":%.3f,\"schedules_per_sec\":%.0f,\"violation\":",
           e->scenario->name, e->scenario->variants[e->variant].name,
           e->strategy_name, e->params.threads, e->params.iterations, x->runs,
           x->distinct, x->found ? "true" : "false",
           x->exhausted ? "true" : "false", x->seconds, x->cpu_seconds,
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

/* The pictures of the failing schedule, or of the last one tried when
 * none failed (--timeline, --trace-out): the exploration's runs are not
 * traced, so that schedule is replayed once more with tracing on and
 * drawn. The replay's own verdict is the one
 * drawn (the same as the run found: a replay repeats it). 0, or -1 with
 * one line in err. */
static int draw_run(const cd_explore_t *e, const cd_run_result_t *found,
                      cd_pictures_t *pic, char *err, size_t errlen)
{
    static cd_run_result_t again; /* large: keep it off the stack */
    static char spec[CD_SCHEDULE_MAX + 64];
    char tmp[] = "/tmp/concdemo-schedule-XXXXXX";
    cd_sched_cfg_t cfg = { 0 };
    int fd = -1, rc;

    if (!pic->svg && !pic->json)
        return 0;
    if (found->ndecisions == 0) {
        /* No choice was open: any strategy makes the same run. */
        snprintf(spec, sizeof spec, "random:1");
    } else if (found->schedule[0]) {
        snprintf(spec, sizeof spec, "replay:%s", found->schedule);
    } else { /* too long for the result: the whole one, through a file */
        if ((fd = mkstemp(tmp)) < 0 ||
            cd_report_save_schedule(tmp, err, errlen) != 0) {
            if (fd >= 0) {
                close(fd);
                unlink(tmp);
            } else {
                snprintf(err, errlen, "cannot save the schedule to draw: %s",
                         strerror(errno));
            }
            cd_report_pictures_close(pic);
            return -1;
        }
        snprintf(spec, sizeof spec, "replay:@%s", tmp);
    }
    rc = cd_sched_parse(spec, &cfg, err, errlen);
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    if (rc != 0) {
        cd_report_pictures_close(pic);
        return -1;
    }
    cfg.max_steps = e->max_steps;
    cfg.spurious = found->spurious;
    cd_run_opts_t o = { .params = e->params, .timeout_ms = e->timeout_ms,
                        .latency_permille = e->latency_permille,
                        .on_stuck = e->on_stuck, .sched = &cfg, .trace = 1 };
    rc = cd_run(e->scenario, e->variant, &o, &again);
    cd_sched_cfg_free(&cfg);
    if (rc != 0) {
        snprintf(err, errlen, "could not replay the schedule to draw it");
        cd_report_pictures_close(pic);
        return -1;
    }
    return cd_report_pictures_write(pic, &again, err, errlen);
}

/* The exploration the command line asked for (defaults for the rest). */
static cd_explore_t exploration(const cd_runargs_t *a)
{
    cd_explore_t e = {
        .scenario = a->scenario, .variant = a->variant, .params = a->params,
        .strategy = a->strategy,
        .strategy_name = cd_opt_strategy_name(a->strategy),
        .seed = (uint64_t)a->seed, .depth = a->depth, .bound = a->bound,
        .runs = a->runs, .budget_s = a->budget_s,
        .max_steps = a->max_steps ? a->max_steps : CD_SCHED_DEFAULT_STEPS,
        .timeout_ms = a->timeout_ms ? a->timeout_ms : TIMEOUT_DEFAULT_MS,
        .latency_permille = a->latency_permille >= 0 ? a->latency_permille
                                                     : 1000,
        .spurious = a->spurious,
        .progress = !a->json && isatty(2),
        .on_stuck = cd_cmd_on_stuck, /* a run that spins outside libconc
                                        still ends */
        .keep_threads = 1, /* the scenarios keep nothing thread-local */
        .fibers = a->scenario->fibers,
    };
    if (e.runs == 0 && e.strategy != CD_SCHED_DFS)
        e.runs = 1000;
    return e;
}

static int explore(const cd_runargs_t *a)
{
    static cd_run_result_t r; /* large: keep it off the stack */
    cd_explore_result_t x;
    char why[512];

    cd_pictures_t pic = { .svg_path = a->timeline_path,
                          .json_path = a->trace_out_path };

    cd_explore_t e = exploration(a);
    cd_cmd_running(e.scenario, e.variant);
    if (cd_report_pictures_open(&pic, why, sizeof why) != 0) {
        fprintf(stderr, "concdemo: %s\n", why);
        return CD_EXIT_USAGE;
    }
    int rc = cd_explore(&e, &x, &r);
    if (rc != 0)
        cd_report_pictures_close(&pic);
    if (rc == -E2BIG) {
        fprintf(stderr, "concdemo: dfs keeps at most 64 threads; use "
                "--threads to make the case smaller\n");
        return CD_EXIT_USAGE;
    }
    if (rc != 0) {
        fprintf(stderr, "concdemo: explore could not run: %s\n",
                strerror(-rc));
        return CD_EXIT_USAGE;
    }
    if (x.found && cd_report_replay(&r, e.latency_permille, a->save_path,
                                    why, sizeof why) != 0) {
        cd_report_pictures_close(&pic);
        fprintf(stderr, "concdemo: %s\n", why);
        return CD_EXIT_USAGE;
    }
    /* Nothing found: the last schedule tried is drawn (r holds it). */
    if (draw_run(&e, &r, &pic, why, sizeof why) != 0) {
        fprintf(stderr, "concdemo: %s\n", why);
        return CD_EXIT_USAGE;
    }
    if (a->json)
        report_json(&e, &x, &r);
    else
        report_text(&e, &x, &r);
    if (x.found && r.verdict.status == CD_ERROR)
        return CD_EXIT_USAGE;
    return x.found ? 1 : 0;
}

int cd_cmd_explore(int argc, char **argv)
{
    if (argc < 3 || argv[2][0] == '-') {
        if (cd_cmd_wants_help(argc, argv)) {
            fputs(explore_usage, stdout);
            return 0;
        }
        fputs("concdemo: explore needs a scenario (concdemo explore --help)\n",
              stderr);
        return CD_EXIT_USAGE;
    }
    const cd_scenario_t *s = cd_scenario_find(argv[2]);
    if (!s)
        return cd_cmd_usage_error("unknown scenario '%s' (concdemo list "
                                  "shows them)", argv[2]);
    if (cd_cmd_wants_help(argc, argv)) {
        fputs(explore_usage, stdout);
        return 0;
    }
    if (s->instance_main)
        return cd_cmd_usage_error("%s runs processes: explore schedules the "
                                  "threads of one process (run it with "
                                  "concdemo SCENARIO)", s->name);
    /* The scenario's small size for exploring, else its smallest. */
    cd_runargs_t a = { .scenario = s, .params = s->explore,
                       .latency_permille = -1, .strategy = CD_SCHED_PCT,
                       .depth = 3, .bound = 2, .budget_s = 30, .seed = 1 };
    if (a.params.threads == 0)
        a.params = s->min;
    int rc = cd_cmd_parse_options(&a, CD_OPT_EXPLORE, argc, argv, 3) != 0
                 ? CD_EXIT_USAGE
                 : explore(&a);
    cd_runargs_free(&a);
    return rc;
}
