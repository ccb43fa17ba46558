/*
 * cmd.c - what the command files share: usage errors, help flags, the
 * option loop of the commands that run a scenario, the stuck handler.
 */
#include "cmd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "view.h"

int cd_cmd_usage_error(const char *fmt, const char *arg)
{
    fputs("concdemo: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs(" (see concdemo --help)\n", stderr);
    return CD_EXIT_USAGE;
}

int cd_cmd_is_help_flag(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int cd_cmd_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (cd_cmd_is_help_flag(argv[i]))
            return 1;
    return 0;
}

int cd_cmd_parse_options(cd_runargs_t *a, int cmd, int argc, char **argv,
                         int first)
{
    char err[512];

    for (int i = first; i < argc; i++) {
        int rc = cd_opt_parse(a, cmd, argc, argv, &i, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "concdemo: %s\n", err);
            return -1;
        }
        if (rc == 0) {
            fprintf(stderr, "concdemo: %s '%s' (see concdemo help %s)\n",
                    argv[i][0] == '-' ? "unknown option"
                                      : "unexpected argument",
                    argv[i], a->scenario->name);
            return -1;
        }
    }
    return 0;
}

/* ============================== stuck runs =============================== */

/* The run in progress, for the stuck handler: the one way out that cannot
 * return through main. */
static const cd_scenario_t *running;
static int running_variant;

void cd_cmd_running(const cd_scenario_t *s, int variant)
{
    running = s;
    running_variant = variant;
}

void cd_cmd_on_stuck(int reason)
{
    /* Threads ignored the abort (spinning outside libconc): report what we
     * know and leave; exit kills them. */
    cd_verdict_t v = { .status = reason == CD_ABORT_DEADLOCK ? CD_DEADLOCK
                           : reason == CD_ABORT_STUCK       ? CD_STUCK
                           : reason == CD_ABORT_USER        ? CD_STOPPED
                           : reason == CD_ABORT_LIVELOCK    ? CD_LIVELOCK
                                                             : CD_TIMEOUT };
    snprintf(v.expected, sizeof v.expected, "the run to end");
    snprintf(v.observed, sizeof v.observed,
             "threads did not stop after the run was aborted");
    cd_view_restore(); /* this way out too gives the terminal back */
    fflush(stdout);
    cd_report_verdict_line(stdout, running->name,
                           running->variants[running_variant].name, &v);
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "concdemo: cannot write output: %s\n",
                errno ? strerror(errno) : "an earlier write failed");
        _exit(CD_EXIT_USAGE);
    }
    _exit(1);
}
