/*
 * cmd.h - the commands of concdemo, one file each, and what they share.
 *
 * A command is one cli/cmd_<name>.c exporting its function, cd_cmd_<name>,
 * and one entry in the table in main.c (its word, its line in `concdemo
 * --help`, its function), which picks the command from the first word; a
 * scenario's name there means `run`. Commands that run a scenario read
 * their options through cli/options.h, so they all take "--flag value"
 * and "--flag=value" and say the same about bad input.
 * Every command prints through stdio and returns its exit code; main
 * flushes stdout afterwards and turns output that could not be written
 * into an error.
 */
#ifndef CD_CMD_H
#define CD_CMD_H

#include <stdio.h>

#include "../demos/scenario.h"
#include "options.h"

#define CD_EXIT_USAGE 2

typedef struct cd_cmd {
    const char *name;     /* the word that picks it: "explore" */
    const char *alias[2]; /* other words for it ("--help", "-h"), or NULL */
    const char *usage;    /* its synopsis in concdemo --help */
    const char *summary;  /* what it does, a few words; NULL: none */
    /* Runs the command. argv[1] is the word that picked it (its name, an
     * alias, or for `run` the scenario), argv[0] what came before (the
     * program, or "run"); argv[argc] is NULL. Returns the exit code. */
    int (*exec)(int argc, char **argv);
} cd_cmd_t;

/* The commands (one file each; check's is cd_check_main in check.h).
 * Each is a cd_cmd_t's exec. */
int cd_cmd_run(int argc, char **argv);
int cd_cmd_explore(int argc, char **argv);
int cd_cmd_bench(int argc, char **argv);
int cd_cmd_watch(int argc, char **argv);
int cd_cmd_list(int argc, char **argv);
int cd_cmd_help(int argc, char **argv);
int cd_cmd_version(int argc, char **argv);

/* The table in main.c, in the order --help lists them. */
const cd_cmd_t *cd_cmds(int *count);

/* ------------------------- shared by the commands ------------------------ */

/* "concdemo: <fmt with arg> (see concdemo --help)" on stderr; returns
 * CD_EXIT_USAGE. */
int cd_cmd_usage_error(const char *fmt, const char *arg);

/* -h or --help; and whether any of argv[1..argc-1] is one. */
int cd_cmd_is_help_flag(const char *arg);
int cd_cmd_wants_help(int argc, char **argv);

/* The general help (every command, the run options, the exit codes), and
 * one scenario's (variants, parameters, lesson). */
void cd_cmd_usage(FILE *out);
void cd_cmd_scenario_help(const cd_scenario_t *s);

/* Parses argv[first..] as options of cmd (enum cd_opt_command) into a,
 * whose scenario is set. 0, or -1 after one line on stderr: a bad option
 * (cd_opt_parse's line), or a word it is not. */
int cd_cmd_parse_options(cd_runargs_t *a, int cmd, int argc, char **argv,
                         int first);

/* Names the run in progress (scenario, variant) for cd_cmd_on_stuck. */
void cd_cmd_running(const cd_scenario_t *s, int variant);
/* The stuck handler of run and explore (cd_run_opts_t.on_stuck): threads
 * ignored the abort, so it gives the terminal back, prints a verdict line
 * for the run in progress and exits (1; 2 if stdout cannot be written). */
void cd_cmd_on_stuck(int reason);

#endif /* CD_CMD_H */
