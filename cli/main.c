/*
 * main.c - the concdemo command: the table of commands, the choice of one
 * by the first word, and the end of every command (flushing its output).
 * Each command lives in its own cli/cmd_<name>.c (see cmd.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cmd.h"
#include "report.h"

/* The commands, in the order concdemo --help lists them. A new command is
 * its file and one entry here. */
static const cd_cmd_t commands[] = {
    { .name = "run", .exec = cd_cmd_run,
      .usage = "concdemo SCENARIO [--fixed[=HOW]] [options]",
      .summary = "run a scenario" },
    { .name = "explore", .exec = cd_cmd_explore,
      .usage = "concdemo explore SCENARIO [--fixed[=HOW]] ...",
      .summary = "search schedules for a bug" },
    { .name = "check", .exec = cd_check_main,
      .usage = "concdemo check EXERCISE [--file PATH]",
      .summary = "grade your fix of an exercise" },
    { .name = "bench", .exec = cd_cmd_bench,
      .usage = "concdemo bench fanin [options]",
      .summary = "measure fan-in: channel, swap, locks" },
    { .name = "watch", .exec = cd_cmd_watch,
      .usage = "concdemo watch [--json] -- PROG [ARGS...]",
      .summary = "watch your own pthread program" },
    { .name = "list", .exec = cd_cmd_list,
      .usage = "concdemo list [--json]", .summary = "list scenarios" },
    { .name = "help", .alias = { "--help", "-h" }, .exec = cd_cmd_help,
      .usage = "concdemo help [SCENARIO]",
      .summary = "this text, or a scenario's" },
    { .name = "--version", .exec = cd_cmd_version,
      .usage = "concdemo --version" },
};

const cd_cmd_t *cd_cmds(int *count)
{
    *count = (int)(sizeof commands / sizeof commands[0]);
    return commands;
}

/* The command whose name or alias is word, or NULL. */
static const cd_cmd_t *find_command(const char *word)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const cd_cmd_t *c = &commands[i];
        if (strcmp(word, c->name) == 0 ||
            (c->alias[0] && strcmp(word, c->alias[0]) == 0) ||
            (c->alias[1] && strcmp(word, c->alias[1]) == 0))
            return c;
    }
    return NULL;
}

/* Everything is printed through stdio: a full disk or a closed stdout
 * shows only when the buffer is flushed, so every command ends here.
 * Returns rc, or CD_EXIT_USAGE after one line on stderr if any output was
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
    return CD_EXIT_USAGE;
}

static int dispatch(int argc, char **argv)
{
    cd_report_set_program(argv[0]); /* replay commands run as we were run */
    if (argc < 2) {
        cd_cmd_usage(stderr);
        return CD_EXIT_USAGE;
    }
    const cd_cmd_t *c = find_command(argv[1]);
    /* `concdemo run SCENARIO` is `concdemo SCENARIO`: the scenario becomes
     * the word that picked the command. */
    if (c && c->exec == cd_cmd_run)
        return c->exec(argc - 1, argv + 1);
    if (c)
        return c->exec(argc, argv);
    if (argv[1][0] == '-')
        return cd_cmd_usage_error("unknown option '%s'", argv[1]);
    return cd_cmd_run(argc, argv); /* a scenario, or an unknown word */
}

int main(int argc, char **argv)
{
    return finish_output(dispatch(argc, argv));
}
