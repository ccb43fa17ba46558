/*
 * cmd_help.c - `concdemo help [SCENARIO]` (also --help, -h): the commands
 * from the command table, the run options from the option table, the exit
 * codes; or one scenario's variants and parameters.
 */
#include "cmd.h"

static const char about_text[] =
    "\n"
    "concdemo runs a concurrency bug on real threads, then its fixes, and\n"
    "ends with one verdict line: what was expected, what was observed.\n"
    "\n"
    "options:\n";

static const char exit_text[] =
    "\n"
    "exit codes:\n"
    "  0  the invariant held\n"
    "  1  the invariant was violated, the run deadlocked, livelocked or timed\n"
    "     out, or a potential deadlock (lock-order inversion) was seen, or the\n"
    "     run was stopped (q in the view)\n"
    "  2  usage or environment error\n";

void cd_cmd_usage(FILE *out)
{
    int n;
    const cd_cmd_t *cmds = cd_cmds(&n);
    for (int i = 0; i < n; i++) {
        const char *lead = i == 0 ? "usage: " : "       ";
        if (cmds[i].summary)
            fprintf(out, "%s%-45s  %s\n", lead, cmds[i].usage,
                    cmds[i].summary);
        else
            fprintf(out, "%s%s\n", lead, cmds[i].usage);
    }
    fputs(about_text, out);
    cd_opt_help(out, CD_OPT_RUN);
    fputs(exit_text, out);
}

void cd_cmd_scenario_help(const cd_scenario_t *s)
{
    printf("concdemo %s - %s\n\n  %s\n\nvariants:\n", s->name, s->title,
           s->pitfall);
    for (int v = 0; v < s->nvariants; v++)
        printf("  %-22s %s%s\n",
               v == 0 ? "(default)" : s->variants[v].name,
               s->variants[v].summary,
               v == s->recommended ? " [--fixed]"
               : s->wrong_fixes & (1u << v) ? " [a wrong fix: exits 1]"
                                            : "");
    printf("\nparameters:\n");
    if (s->max.threads > 0)
        printf("  --threads N      %d..%d (default %d)\n", s->min.threads,
               s->max.threads, s->defaults.threads);
    if (s->max.workers > 0)
        printf("  --workers N      %d..%d (default %d): executor worker threads\n",
               s->min.workers, s->max.workers, s->defaults.workers);
    if (s->max.instances > 0)
        printf("  --instances N    %d..%d (default %d): processes sharing "
               "the database\n  --db URL         sqlite:PATH or "
               "postgresql://... (default: a temporary SQLite file)\n"
               "  --kill-one       SIGKILL one instance inside a checkout\n",
               s->min.instances, s->max.instances, s->defaults.instances);
    if (s->serves)
        printf("  --serve [PORT]   keep a real server up on 127.0.0.1 until "
               "Ctrl-C;\n                   connect with nc 127.0.0.1 PORT "
               "(0 or none: any free port)\n"
               "  --slow-policy P  with --fixed: drop (default) or "
               "disconnect a slow client\n");
    if (s->max.budget_kib > 0)
        printf("  --memory-budget KIB\n                   %d..%d (default "
               "%d): KiB the queue may use\n",
               s->min.budget_kib, s->max.budget_kib, s->defaults.budget_kib);
    printf("  --iterations N   %d..%d (default %d)\n\n"
           "try:\n  concdemo %s\n  concdemo %s --fixed\n\nlesson: %s\n",
           s->min.iterations, s->max.iterations, s->defaults.iterations,
           s->name, s->name, s->lesson);
}

/* help [SCENARIO], --help [SCENARIO]: a help flag among the words is
 * only asking for help again; anything past the scenario is refused. */
int cd_cmd_help(int argc, char **argv)
{
    const cd_scenario_t *s = NULL;
    for (int i = 2; i < argc; i++) {
        if (cd_cmd_is_help_flag(argv[i]))
            continue;
        if (s)
            return cd_cmd_usage_error("help takes one scenario, not '%s'",
                                      argv[i]);
        s = cd_scenario_find(argv[i]);
        if (!s)
            return cd_cmd_usage_error("unknown scenario '%s' (concdemo list "
                                      "shows them)", argv[i]);
    }
    if (s)
        cd_cmd_scenario_help(s);
    else
        cd_cmd_usage(stdout);
    return 0;
}
