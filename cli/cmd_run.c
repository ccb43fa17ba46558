/*
 * cmd_run.c - `concdemo SCENARIO [options]` (or `concdemo run SCENARIO`):
 * one run of a variant, free or controlled, plain or under the live view,
 * ending with its verdict.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "observer.h"
#include "report.h"
#include "run.h"
#include "step.h"
#include "view.h"

#define TIMEOUT_DEFAULT_MS 10000

/* Flags that each work but not together: one line and 1, else 0. Checked
 * before anything runs, so that the answer does not depend on whether
 * stdout is a terminal (--view checks that only when it starts). */
static int flags_conflict(const cd_runargs_t *a)
{
    if (a->scenario->instance_main && a->has_sched) {
        cd_cmd_usage_error("%s: a controlled run schedules the threads of "
                           "one process, and this scenario's instances are "
                           "processes", "--sched");
        return 1;
    }
    if (a->spurious && !a->has_sched) {
        cd_cmd_usage_error("%s needs --sched (a free run's waits wake as "
                           "the threads do; only a controlled run chooses "
                           "spurious wake-ups)", "--spurious");
        return 1;
    }
    if (a->save_path && !a->has_sched) {
        cd_cmd_usage_error("%s needs --sched (a free run has no schedule)",
                           "--save-schedule");
        return 1;
    }
    if (a->has_sched && a->sched.strategy == CD_SCHED_STEP && a->json) {
        cd_cmd_usage_error("%s: step mode talks to you on the terminal; "
                           "drop --json", "--sched=step");
        return 1;
    }
    if (a->params.serve && (a->has_sched || a->json)) {
        fprintf(stderr, "concdemo: --serve keeps a server up for people to "
                "connect to; it takes no %s\n",
                a->has_sched ? "--sched" : "--json");
        return 1;
    }
    if (a->params.slow_policy != CD_SLOW_DROP && a->variant == 0) {
        cd_cmd_usage_error("--slow-policy is a policy of the fix: add "
                           "--fixed=%s",
                           a->scenario->variants[a->scenario->recommended]
                               .name);
        return 1;
    }
    if (a->view && a->json) {
        fprintf(stderr, "concdemo: %s and --json both write to stdout; use "
                "one of them\n", a->view == CD_VIEW_TEXT ? "--view=text"
                                                          : "--view");
        return 1;
    }
    return 0;
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

/* --serve without the view: how to connect, once the server listens; and
 * Ctrl-C or SIGTERM end the run as q ends a view's (the tasks end at
 * their awaits, every socket is closed), instead of killing the process. */
static atomic_int serve_signal; /* atomic: handled on any thread's stack */

static void on_listen(int port)
{
    printf("listening on 127.0.0.1:%d - connect with:  nc 127.0.0.1 %d\n"
           "then /name NAME, /join ROOM, and type; Ctrl-Z in nc stops "
           "reading. Ctrl-C here ends the server.\n", port, port);
    fflush(stdout);
}

static void on_serve_signal(int sig)
{
    int saved = errno;
    serve_signal = sig;
    cd_reg_abort(CD_ABORT_USER); /* one atomic exchange: signal-safe */
    errno = saved;
}

/* Installs (on) or removes the serve handlers. */
static void serve_signals(int on)
{
    static struct sigaction old[2];
    static const int sigs[2] = { SIGINT, SIGTERM };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_serve_signal;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 2; i++) {
        if (on)
            sigaction(sigs[i], &sa, &old[i]);
        else
            sigaction(sigs[i], &old[i], NULL);
    }
}

/* Runs the variant, plain or under a view; returns cd_run's result, or
 * -1 after printing why the view could not start. */
static int run_it(const cd_runargs_t *a, const cd_run_opts_t *o,
                  cd_run_result_t *r, int *signo)
{
    *signo = 0;
    if (a->view == CD_VIEW_TEXT) {
        int w, h;
        text_size(&w, &h);
        return cd_view_text(stdin, stdout, a->scenario, a->variant, o, w, h,
                            r);
    }
    if (a->view == CD_VIEW_TTY) {
        cd_view_end_t end;
        if (cd_view_run(a->scenario, a->variant, o, r, &end) != 0) {
            fprintf(stderr, "concdemo: %s\n", end.why);
            return -1;
        }
        *signo = end.signo;
        return end.run_rc;
    }
    if (!o->params.serve)
        return cd_run(a->scenario, a->variant, o, r);
    cd_run_opts_t served = *o;
    served.params.on_listen = on_listen;
    serve_signal = 0;
    serve_signals(1);
    int rc = cd_run(a->scenario, a->variant, &served, r);
    serve_signals(0);
    *signo = serve_signal;
    return rc;
}

/* The run's options from the command line's, with what the command line
 * left out: watching needs time, so a view slows the simulated latencies
 * down and allows a longer run. A controlled run's latencies pass on a
 * virtual clock, so slowing them would only change the replay command. */
static cd_run_opts_t run_opts(cd_runargs_t *a, cd_step_t *step)
{
    /* A picture is drawn from the trace. */
    cd_run_opts_t o = { .params = a->params,
                        .trace = a->trace || a->timeline_path ||
                                 a->trace_out_path,
                        .on_stuck = cd_cmd_on_stuck };
    /* A server is up until the user ends it: no limit unless asked. */
    o.timeout_ms = a->timeout_ms     ? a->timeout_ms
                   : a->params.serve ? 0
                   : a->view         ? CD_VIEW_TIMEOUT_MS
                                     : TIMEOUT_DEFAULT_MS;
    int view_scale = a->scenario->view_permille ? a->scenario->view_permille
                                                : CD_VIEW_SCALE_PERMILLE;
    o.latency_permille = a->latency_permille >= 0 ? a->latency_permille
                         : a->view && !a->has_sched ? view_scale
                                                    : 1000;
    if (a->has_sched) {
        if (a->max_steps)
            a->sched.max_steps = a->max_steps;
        a->sched.spurious = a->spurious;
        /* Under a view the observer answers through its mailbox. */
        if (a->sched.strategy == CD_SCHED_STEP && a->view == CD_VIEW_OFF) {
            *step = (cd_step_t){ .in = stdin, .out = stdout };
            a->sched.chooser = cd_step_chooser;
            a->sched.chooser_arg = step;
        }
        o.sched = &a->sched;
    }
    return o;
}

static int run_scenario(cd_runargs_t *a)
{
    static cd_run_result_t r; /* large: keep it off the stack */
    cd_step_t step;
    char why[512];
    int signo;

    cd_pictures_t pic = { .svg_path = a->timeline_path,
                          .json_path = a->trace_out_path };

    cd_run_opts_t o = run_opts(a, &step);
    cd_cmd_running(a->scenario, a->variant);
    if (a->view == CD_VIEW_TTY && cd_view_check(why, sizeof why) != 0) {
        fprintf(stderr, "concdemo: %s\n", why);
        return CD_EXIT_USAGE;
    }
    if (cd_report_pictures_open(&pic, why, sizeof why) != 0) {
        fprintf(stderr, "concdemo: %s\n", why);
        return CD_EXIT_USAGE;
    }
    if (!a->json) {
        cd_report_intro(stdout, a->scenario, a->variant, &o.params);
        fflush(stdout);
    }
    int rc = run_it(a, &o, &r, &signo);
    if (rc != 0) {
        cd_report_pictures_close(&pic);
        if (rc != -1)
            fprintf(stderr, "concdemo: %s\n", r.verdict.observed);
        return CD_EXIT_USAGE;
    }
    if (cd_report_pictures_write(&pic, &r, why, sizeof why) != 0) {
        fprintf(stderr, "concdemo: %s\n", why);
        return CD_EXIT_USAGE;
    }
    if (r.controlled && cd_sched_misfit()) {
        /* A schedule that does not fit is bad input, not a verdict. */
        fprintf(stderr, "concdemo: --sched: %s\n", cd_sched_misfit());
        return CD_EXIT_USAGE;
    }
    if (r.controlled && cd_report_replay(&r, o.latency_permille,
                                         a->save_path, why, sizeof why) != 0) {
        fprintf(stderr, "concdemo: %s\n", why);
        return CD_EXIT_USAGE;
    }
    if (a->json) {
        cd_report_json(stdout, &r, a->trace);
    } else {
        if (a->trace)
            cd_report_trace(stdout);
        cd_report_text(stdout, &r);
    }
    /* Ended by Ctrl-C or SIGTERM (the view, a server): say so, as a shell
     * expects. */
    return signo ? 128 + signo : cd_exit_code(r.verdict.status);
}

int cd_cmd_run(int argc, char **argv)
{
    /* Only `concdemo run` can get here without a scenario. */
    if (argc < 2 || argv[1][0] == '-') {
        if (cd_cmd_wants_help(argc, argv)) {
            cd_cmd_usage(stdout);
            return 0;
        }
        return cd_cmd_usage_error("%s needs a scenario (concdemo list shows "
                                  "them)", "run");
    }
    const cd_scenario_t *s = cd_scenario_find(argv[1]);
    if (!s)
        return cd_cmd_usage_error("unknown scenario '%s' (concdemo list "
                                  "shows them)", argv[1]);
    /* One instance of a scenario of processes, started by its run. */
    if (s->instance_main && argc > 2 && strcmp(argv[2], "--instance") == 0)
        return s->instance_main(argc - 2, argv + 2);
    if (cd_cmd_wants_help(argc, argv)) {
        cd_cmd_scenario_help(s);
        return 0;
    }
    cd_runargs_t a = { .scenario = s, .params = s->defaults,
                       .latency_permille = -1 };
    /* a.sched is freed on every way out from here, usage errors too. */
    int rc = cd_cmd_parse_options(&a, CD_OPT_RUN, argc, argv, 2) != 0 ||
                     flags_conflict(&a)
                 ? CD_EXIT_USAGE
                 : run_scenario(&a);
    cd_runargs_free(&a);
    return rc;
}
