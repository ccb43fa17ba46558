/*
 * test_options.c - the one parser of run options (cli/options.h): both
 * spellings of every value, missing values, bad numbers, options that are
 * not there or not the command's, and the table itself. Nothing here
 * starts a thread, so the tests run in the runner.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/options.h"
#include "harness.h"

/* suite: options; at the end: clean */

static cd_runargs_t args;
static char err[512];
static int consumed; /* words the last parse() took */

/* Parses the words (ending with NULL) for command cmd into `args`, set
 * up for scenario name ("" for none) as a command would, until the first
 * word that is not an option or is bad. Returns what cd_opt_parse
 * returned for the last word it saw: 1 all taken, 0 or -1 at a word. */
static int parse_words(int cmd, const char *name, const char *const words[])
{
    char *argv[16];
    int argc = 0, rc = 1;

    cd_runargs_free(&args);
    args = (cd_runargs_t){ .scenario = *name ? cd_scenario_find(name) : NULL,
                           .latency_permille = -1 };
    if (args.scenario)
        args.params = args.scenario->defaults;
    for (; words[argc] && argc < 15; argc++)
        argv[argc] = (char *)words[argc];
    argv[argc] = NULL;
    err[0] = '\0';
    int i;
    for (i = 0; i < argc; i++)
        if ((rc = cd_opt_parse(&args, cmd, argc, argv, &i, err,
                               sizeof err)) != 1)
            break;
    consumed = i;
    return rc;
}

#define PARSE(cmd, name, ...)                                                \
    parse_words(cmd, name, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN(...) PARSE(CD_OPT_RUN, "race", __VA_ARGS__)
#define EXPLORE(...) PARSE(CD_OPT_EXPLORE, "race", __VA_ARGS__)

/* A one-line error that names the culprit. */
#define ASSERT_ERROR(call, culprit)                                          \
    do {                                                                     \
        ASSERT_INT_EQ(call, -1);                                             \
        ASSERT_STR_HAS(err, culprit);                                        \
        CU_ASSERT_PTR_NULL(strchr(err, '\n'));                               \
    } while (0)

/* test: --flag V and --flag=V fill the same field */
static void both_spellings_fill_the_same_field(void)
{
    ASSERT_INT_EQ(RUN("--threads", "3", "--iterations=7"), 1);
    ASSERT_INT_EQ(args.params.threads, 3);
    ASSERT_INT_EQ(args.params.iterations, 7);
    ASSERT_INT_EQ(RUN("--threads=5", "--iterations", "9"), 1);
    ASSERT_INT_EQ(args.params.threads, 5);
    ASSERT_INT_EQ(args.params.iterations, 9);

    ASSERT_INT_EQ(RUN("--timeout=250", "--latency-scale", "0.5"), 1);
    ASSERT_INT_EQ(args.timeout_ms, 250);
    ASSERT_INT_EQ(args.latency_permille, 500);
    ASSERT_INT_EQ(RUN("--timeout", "300", "--latency-scale=.25"), 1);
    ASSERT_INT_EQ(args.timeout_ms, 300);
    ASSERT_INT_EQ(args.latency_permille, 250);

    ASSERT_INT_EQ(RUN("--save-schedule", "a.sch", "--max-steps=40"), 1);
    CU_ASSERT_STRING_EQUAL(args.save_path, "a.sch");
    ASSERT_INT_EQ(args.max_steps, 40);
    ASSERT_INT_EQ(RUN("--save-schedule=b.sch", "--max-steps", "50"), 1);
    CU_ASSERT_STRING_EQUAL(args.save_path, "b.sch");
    ASSERT_INT_EQ(args.max_steps, 50);

    ASSERT_INT_EQ(RUN("--sched", "random:7"), 1);
    ASSERT_INT_EQ(args.has_sched, 1);
    ASSERT_INT_EQ(args.sched.strategy, CD_SCHED_RANDOM);
    ASSERT_INT_EQ(RUN("--sched=dfs:1"), 1);
    ASSERT_INT_EQ(args.sched.strategy, CD_SCHED_DFS);

    ASSERT_INT_EQ(EXPLORE("--strategy", "dfs", "--runs=4", "--seed", "0"), 1);
    ASSERT_INT_EQ(args.strategy, CD_SCHED_DFS);
    ASSERT_INT_EQ(args.runs, 4);
    ASSERT_INT_EQ(args.seed, 0);
    ASSERT_INT_EQ(EXPLORE("--strategy=random", "--runs", "6", "--depth=2",
                          "--bound", "0", "--budget=9"), 1);
    ASSERT_INT_EQ(args.strategy, CD_SCHED_RANDOM);
    ASSERT_INT_EQ(args.runs, 6);
    ASSERT_INT_EQ(args.depth, 2);
    ASSERT_INT_EQ(args.bound, 0);
    ASSERT_INT_EQ(args.budget_s, 9);
    CU_ASSERT_STRING_EQUAL(cd_opt_strategy_name(args.strategy), "random");

    ASSERT_INT_EQ(RUN("--sched=random:1", "--spurious"), 1);
    ASSERT_INT_EQ(args.spurious, 1);
    ASSERT_INT_EQ(EXPLORE("--spurious", "--runs=2"), 1);
    ASSERT_INT_EQ(args.spurious, 1);
    ASSERT_ERROR(RUN("--spurious=yes"), "--spurious takes no value");
}

/* --fixed and --view take a value only after "=": the next word is the
 * next word. */
/* test: optional values come only after = */
static void optional_values_come_only_after_an_equals_sign(void)
{
    const cd_scenario_t *race = cd_scenario_find("race");
    ASSERT_INT_EQ(RUN("--fixed", "--view"), 1);
    ASSERT_INT_EQ(args.variant, race->recommended);
    ASSERT_INT_EQ(args.view, CD_VIEW_TTY);
    ASSERT_INT_EQ(RUN("--fixed=cas", "--view=text"), 1);
    ASSERT_INT_EQ(args.variant, cd_scenario_variant(race, "cas"));
    ASSERT_INT_EQ(args.view, CD_VIEW_TEXT);
    ASSERT_INT_EQ(RUN("--fixed", "mutex"), 0); /* "mutex" is no option */
    ASSERT_INT_EQ(consumed, 1);
    ASSERT_INT_EQ(args.variant, race->recommended);
    ASSERT_INT_EQ(RUN("--json", "--trace"), 1);
    ASSERT_INT_EQ(args.json, 1);
    ASSERT_INT_EQ(args.trace, 1);
}

/* test: error: missing values are named */
static void missing_values_are_named(void)
{
    ASSERT_ERROR(RUN("--threads"), "--threads needs a number");
    ASSERT_ERROR(RUN("--threads="), "--threads needs a number");
    ASSERT_ERROR(RUN("--timeout", "--json"), "--timeout needs a number");
    ASSERT_INT_EQ(consumed, 0); /* --json was not eaten as the value */
    ASSERT_ERROR(RUN("--latency-scale="), "--latency-scale needs a number");
    ASSERT_ERROR(RUN("--save-schedule", "--json"),
                 "--save-schedule needs a file name");
    ASSERT_ERROR(RUN("--save-schedule="), "--save-schedule needs a file name");
    ASSERT_ERROR(RUN("--sched"), "--sched needs a strategy");
    ASSERT_ERROR(EXPLORE("--strategy"), "--strategy needs pct, random or dfs");
    ASSERT_ERROR(EXPLORE("--runs="), "--runs needs a number");
}

/* test: error: bad numbers say what is wrong */
static void bad_numbers_say_what_is_wrong(void)
{
    ASSERT_ERROR(RUN("--threads", "many"), "--threads: 'many' is not a whole number");
    ASSERT_ERROR(RUN("--threads=+3"), "'+3' is not a whole number");
    ASSERT_ERROR(RUN("--threads", " 3"), "' 3' is not a whole number");
    ASSERT_ERROR(RUN("--iterations=4x"), "'4x' is not a whole number");
    ASSERT_ERROR(EXPLORE("--runs=1e3"), "'1e3' is not a whole number");
    ASSERT_ERROR(RUN("--iterations", "-3"), "between 1 and 5000 (got -3)");
    ASSERT_ERROR(EXPLORE("--seed=-0"), "--seed must be between 0 and 2000000000");
    ASSERT_ERROR(RUN("--threads=99999999999999999999"),
                 "--threads must be between 1 and 256");
    ASSERT_ERROR(RUN("--timeout=99"), "--timeout must be between 100 and 600000");
    ASSERT_ERROR(RUN("--max-steps=0"), "--max-steps must be between 1 and");
    ASSERT_ERROR(EXPLORE("--depth", "17"), "--depth must be between 1 and 16");
    ASSERT_ERROR(RUN("--latency-scale=1e1"), "must be a number from 0 to 100 (got 1e1)");
    ASSERT_ERROR(RUN("--latency-scale", "-1"), "(got -1)");
    ASSERT_ERROR(RUN("--latency-scale=nan"), "(got nan)");
    ASSERT_ERROR(RUN("--latency-scale=100.5"), "(got 100.5)");
    ASSERT_ERROR(EXPLORE("--strategy=chaos"),
                 "--strategy: unknown strategy 'chaos' (pct, random, dfs)");
    ASSERT_ERROR(RUN("--sched=chaos:1"), "--sched: unknown strategy 'chaos'");
    ASSERT_ERROR(RUN("--view=fancy"), "--view takes no value or =text (got '--view=fancy')");
    ASSERT_ERROR(RUN("--fixed=broken"), "race has no fix called 'broken' (fixes: mutex keyed cas)");
    ASSERT_ERROR(RUN("--json=yes"), "--json takes no value");
    ASSERT_ERROR(RUN("--trace=1"), "--trace takes no value");
}

/* Sizes come from the scenario: its range, or a line for a size it does
 * not have; without a scenario any whole number passes (the program that
 * knows the scenario checks it). */
/* test: sizes follow the scenario */
static void sizes_follow_the_scenario(void)
{
    ASSERT_ERROR(PARSE(CD_OPT_RUN, "deadlock", "--threads", "1"),
                 "--threads must be between 2 and 64 (got 1)");
    ASSERT_ERROR(RUN("--workers=2"), "race runs threads, not async tasks: "
                 "--workers is for");
    ASSERT_STR_HAS(err, "await");
    ASSERT_ERROR(PARSE(CD_OPT_RUN, "await", "--threads=2"),
                 "await runs async tasks, not threads: use --workers N");
    ASSERT_ERROR(PARSE(CD_OPT_RUN, "lost-wakeup", "--threads=2"),
                 "lost-wakeup takes no --threads: its threads are set by "
                 "the story");
    ASSERT_ERROR(PARSE(CD_OPT_EXPLORE, "lost-wakeup", "--workers", "2"),
                 "lost-wakeup takes no --workers");
    ASSERT_INT_EQ(PARSE(CD_OPT_RUN, "await", "--workers=2"), 1);
    ASSERT_INT_EQ(args.params.workers, 2);
    ASSERT_INT_EQ(PARSE(CD_OPT_RUN, "", "--threads=1000", "--workers", "0"), 1);
    ASSERT_INT_EQ(args.params.threads, 1000);
    ASSERT_INT_EQ(args.params.workers, 0);
    ASSERT_ERROR(PARSE(CD_OPT_RUN, "", "--threads=-1"),
                 "--threads must be a whole number (got -1)");
    ASSERT_ERROR(PARSE(CD_OPT_RUN, "", "--fixed"), "--fixed needs a scenario");
}

/* test: unknown words are left to the command */
static void unknown_words_are_left_to_the_command(void)
{
    ASSERT_INT_EQ(RUN("--colour"), 0);
    ASSERT_INT_EQ(RUN("extra"), 0);
    ASSERT_INT_EQ(RUN("--threadsx=3"), 0); /* a longer word is no match */
    ASSERT_INT_EQ(RUN("--fixedx"), 0);
    ASSERT_INT_EQ(RUN("-h, --help"), 0);   /* help rows only document */
    ASSERT_INT_EQ(RUN("--json", "--colour"), 0);
    ASSERT_INT_EQ(consumed, 1);
    ASSERT_INT_EQ(args.json, 1);
}

/* An option of the table that the command does not take: the command's
 * line when it has one, else left to the command as unknown. */
/* test: another command's option says whose it is */
static void another_commands_option_says_whose_it_is(void)
{
    ASSERT_ERROR(RUN("--runs=5"), "--runs is for concdemo explore");
    ASSERT_ERROR(RUN("--strategy", "dfs"), "--strategy is for concdemo explore");
    ASSERT_ERROR(EXPLORE("--sched=dfs"), "explore chooses the schedules itself; "
                 "--sched is for single runs");
    ASSERT_ERROR(EXPLORE("--trace"), "--trace is for single runs");
    ASSERT_ERROR(EXPLORE("--view=text"), "watches none; --view is for single runs");
    ASSERT_INT_EQ(PARSE(CD_OPT_CHECK, "", "--view"), 0);
}

/* The last of a repeated option counts; a second --sched frees the
 * first's schedule (the ASan build would report a leak). */
/* test: a repeated option replaces the first */
static void a_repeated_option_replaces_the_first(void)
{
    ASSERT_INT_EQ(RUN("--sched=replay:1.2.1", "--threads=2",
                      "--sched=replay:2*3", "--threads", "4"), 1);
    ASSERT_INT_EQ(args.params.threads, 4);
    ASSERT_INT_EQ(args.sched.strategy, CD_SCHED_REPLAY);
    ASSERT_INT_EQ(args.sched.nprefix, 3);
    ASSERT_ERROR(RUN("--sched=replay:1.2", "--sched=replay:x"),
                 "--sched: bad schedule step 'x'");
    ASSERT_INT_EQ(args.has_sched, 0);
    cd_runargs_free(&args);
    cd_runargs_free(&args); /* twice is harmless */
}

/* Every row can be parsed as it says, and says how. */
/* test: the table is whole */
static void the_table_is_whole(void)
{
    for (const cd_opt_t *o = cd_run_options; o->name; o++) {
        if (o->kind == CD_OPT_DOC) {
            CU_ASSERT_PTR_NOT_NULL(o->help);
            continue;
        }
        CU_ASSERT_EQUAL(strncmp(o->name, "--", 2), 0);
        CU_ASSERT_PTR_NULL(strchr(o->name, '='));
        CU_ASSERT_NOT_EQUAL(o->commands, 0u);
        if (o->kind == CD_OPT_CUSTOM)
            CU_ASSERT_PTR_NOT_NULL(o->set);
        if (o->kind == CD_OPT_ENUM)
            CU_ASSERT_TRUE(o->choices && o->choices[0].name && o->what);
        if (o->kind == CD_OPT_STRING)
            CU_ASSERT_PTR_NOT_NULL(o->what);
        if (o->kind == CD_OPT_INT || o->kind == CD_OPT_SCALE)
            CU_ASSERT_TRUE(o->lo >= 0 && o->lo <= o->hi && o->hi <= INT_MAX);
        if (o->kind == CD_OPT_FLAG)
            CU_ASSERT_EQUAL(o->arity, CD_OPT_NO_VALUE);
        /* The command line says what run's help says. */
        if (o->commands & CD_OPT_FOR(CD_OPT_RUN))
            CU_ASSERT_PTR_NOT_NULL(o->help);
        /* One row per name and command. */
        for (const cd_opt_t *p = o + 1; p->name; p++)
            if (strcmp(p->name, o->name) == 0)
                CU_ASSERT_EQUAL(p->commands & o->commands, 0u);
    }
}

/* Run's help lists each of its options once, its text in one column. */
/* test: help lists every run option */
static void help_lists_every_run_option(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    CU_ASSERT_FATAL(mem != NULL);
    cd_opt_help(mem, CD_OPT_RUN);
    fclose(mem);
    for (const cd_opt_t *o = cd_run_options; o->name; o++) {
        char label[64];
        int listed = 0;
        snprintf(label, sizeof label, "  %s%s ", o->name, o->arg ? o->arg : "");
        for (const char *line = text; *line; line += strcspn(line, "\n") + 1)
            listed += strncmp(line, label, strlen(label)) == 0;
        ASSERT_INT_EQ(listed, (o->commands & CD_OPT_FOR(CD_OPT_RUN)) ? 1 : 0);
    }
    ASSERT_STR_HAS(text, "  --threads N         worker threads");
    ASSERT_STR_HAS(text, "for scenarios\n                      that run tasks");
    /* Each line is an option's, or goes on with its help at column 23. */
    for (const char *line = text; *line; line += strcspn(line, "\n") + 1)
        CU_ASSERT_TRUE(strncmp(line, "  -", 3) == 0 ||
                       (strspn(line, " ") == 22 && line[22] != '\n'));
    free(text);
}

static int clean(void)
{
    cd_runargs_free(&args);
    return 0;
}
