/*
 * test_cli.c - the concdemo command as a user meets it: help, list,
 * verdict lines, JSON, exit codes, and one-line errors for bad input.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* suite: cli */

#define LIMIT_MS 20000

static void run_bin(cmd_out_t *o, const char *a1, const char *a2,
                    const char *a3, const char *a4)
{
    const char *argv[] = { concdemo_bin(), a1, a2, a3, a4, NULL };
    /* Under a TSan build a report turns the exit code into 1 as well: a
     * fixed variant that exits 1 fails its test either way. */
    run_cmd(o, argv, "TSAN_OPTIONS=exitcode=1", LIMIT_MS);
}

static cmd_out_t out;

/* Bad input: exit 2, nothing on stdout, exactly one line on stderr that
 * names the culprit. args: the words after the program, NULL-ended; line:
 * the caller's, to name the case that failed. */
static void expect_usage_error_argv(const char *const args[],
                                    const char *culprit, int line)
{
    const char *argv[12] = { concdemo_bin() };
    for (int i = 0; args[i] && i < 10; i++)
        argv[i + 1] = args[i];
    unsigned failed = CU_get_number_of_failures();
    run_cmd(&out, argv, "TSAN_OPTIONS=exitcode=1", LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 2);
    ASSERT_INT_EQ(count_lines(out.err), 1);
    ASSERT_INT_EQ((long long)strlen(out.out), 0);
    ASSERT_STR_HAS(out.err, culprit);
    if (CU_get_number_of_failures() != failed)
        fprintf(stderr, "\n  ^ the case at %s:%d\n", __FILE__, line);
}

#define USAGE_ERROR(culprit, ...)                                            \
    expect_usage_error_argv((const char *const[]){ __VA_ARGS__, NULL },      \
                            culprit, __LINE__)

/* A command and what it must do: its exit code, and strings it prints (on
 * stdout; on stderr for a usage error, exit 2). */
typedef struct out_case {
    const char *args[5]; /* the words after the program, NULL-ended */
    int exit_code;
    const char *has[13]; /* NULL-ended */
} out_case_t;

/* Runs each of the n cases; a failing one is named by its words. */
static void expect_cases(const out_case_t *cases, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const out_case_t *c = &cases[k];
        unsigned failed = CU_get_number_of_failures();
        run_bin(&out, c->args[0], c->args[1], c->args[2], c->args[3]);
        ASSERT_INT_EQ(out.exit_code, c->exit_code);
        for (int i = 0; c->has[i]; i++)
            ASSERT_STR_HAS(c->exit_code == 2 ? out.err : out.out, c->has[i]);
        if (CU_get_number_of_failures() != failed)
            fprintf(stderr, "\n  ^ concdemo %s %s %s %s\n",
                    c->args[0] ? c->args[0] : "", c->args[1] ? c->args[1] : "",
                    c->args[2] ? c->args[2] : "", c->args[3] ? c->args[3] : "");
    }
}

#define EXPECT_CASES(c) expect_cases((c), sizeof(c) / sizeof((c)[0]))

/* test: help lists commands and exit codes */
static void help_lists_commands_and_exit_codes(void)
{
    static const out_case_t c[] = {
        { { "--help" }, 0, { "usage: concdemo SCENARIO", "exit codes:",
                             "the run deadlocked, livelocked or timed",
                             "--fixed[=HOW]" } },
    };
    EXPECT_CASES(c);
}

/* test: no arguments prints usage and fails */
static void no_arguments_prints_usage_and_fails(void)
{
    static const out_case_t c[] = { { { NULL }, 2, { "usage:" } } };
    EXPECT_CASES(c);
}

/* test: version prints a version */
static void version_prints_a_version(void)
{
    static const out_case_t c[] = { { { "--version" }, 0, { "concdemo " } } };
    EXPECT_CASES(c);
}

/* test: list names every scenario and its fixes */
static void list_names_every_scenario_and_its_fixes(void)
{
    static const out_case_t c[] = {
        { { "list" }, 0, { "race", "--fixed=keyed (recommended)", "deadlock",
                           "--fixed=ordering (recommended)", "publication ",
                           " the early flag: ",
                           "--fixed=release-acquire (recommended)",
                           "livelock ", " the polite transfers: ",
                           "--fixed=backoff" } },
        { { "list", "--json" }, 0, { "\"name\":\"race\"" } },
    };
    EXPECT_CASES(c);
}

/* test: scenario help shows variants and ranges */
static void scenario_help_shows_variants_and_ranges(void)
{
    static const out_case_t c[] = {
        { { "race", "--help" }, 0, { "cas", "--threads N      1..256" } },
        { { "help", "deadlock" }, 0, { "timeout" } },
    };
    EXPECT_CASES(c);
}

/* test: broken race: VIOLATED verdict, exit 1 */
static void broken_race_ends_with_a_violated_verdict_and_exit_1(void)
{
    static const out_case_t c[] = {
        /* Controlled: a free run's overlap is the machine's to give. */
        { { "race", "--sched=random:1" }, 1, { "race [broken]: VIOLATED",
                           "expected each of 8 orders charged once" } },
    };
    EXPECT_CASES(c);
}

/* test: plain --fixed runs the recommended fix, exit 0 */
static void plain_fixed_runs_the_recommended_fix_and_exits_0(void)
{
    static const out_case_t c[] = {
        { { "race", "--fixed" }, 0, { "race [keyed]: HELD" } },
        { { "deadlock", "--fixed" }, 0, { "deadlock [ordering]: HELD" } },
    };
    EXPECT_CASES(c);
}

/* test: deadlock verdict spells out the cycle */
static void deadlock_verdict_spells_out_the_cycle(void)
{
    static const out_case_t c[] = {
        /* Controlled: a starved free run may be lucky (no cycle). */
        { { "deadlock", "--sched=random:1" }, 1,
                             { "deadlock [broken]: DEADLOCK",
                               "transfer-1 holds acct-A, waits acct-B",
                               "lock-order: potential deadlock: acct-" } },
    };
    EXPECT_CASES(c);
}

/* test: --json is one object with status and figures */
static void json_is_one_object_with_status_and_figures(void)
{
    run_bin(&out, "race", "--fixed=cas", "--json", NULL);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_INT_EQ(count_lines(out.out), 1);
    CU_ASSERT_EQUAL(out.out[0], '{');
    ASSERT_STR_HAS(out.out, "\"status\":\"HELD\"");
    ASSERT_STR_HAS(out.out, "\"variant\":\"cas\"");
    ASSERT_STR_HAS(out.out, "\"charges\":8");
    /* Controlled: a starved free run may let one transfer finish before
     * the other starts, a lucky run that is only a potential deadlock. */
    run_bin(&out, "deadlock", "--json", "--sched=random:1", NULL);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "\"deadlock\":[{\"thread\":\"transfer-1\","
                            "\"holds\":\"acct-A\",\"waits\":\"acct-B\"}");
}

/* test: --trace shows each operation */
static void trace_shows_each_operation(void)
{
    static const out_case_t c[] = {
        { { "deadlock", "--fixed=ordering", "--trace", "--iterations=1" }, 0,
          { "trace: ", "acquired", "fraud-check", "demos/deadlock.c:" } },
    };
    EXPECT_CASES(c);
}

/* test: options accept --flag=V and --flag V */
static void options_accept_both_spellings(void)
{
    run_bin(&out, "race", "--fixed=mutex", "--threads=2", "--iterations 3");
    /* "--iterations 3" as one word is not an option: rejected. */
    ASSERT_INT_EQ(out.exit_code, 2);
    const char *argv[] = { concdemo_bin(), "race", "--fixed=mutex",
                           "--threads", "2", "--iterations=3", NULL };
    run_cmd(&out, argv, "TSAN_OPTIONS=exitcode=1", LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "2 threads, 3 iterations");
}

/* `concdemo run SCENARIO` is the run command by its name in the command
 * table; `concdemo SCENARIO` stays its short form. */
/* test: concdemo run SCENARIO runs it */
static void run_word_runs_the_scenario(void)
{
    static const out_case_t c[] = {
        { { "run", "race", "--fixed=mutex", "--iterations=2" }, 0,
          { "race [mutex]: HELD", "4 threads, 2 iterations" } },
        { { "run", "deadlock", "--help" }, 0, { "concdemo deadlock - " } },
    };
    EXPECT_CASES(c);
    USAGE_ERROR("run needs a scenario", "run");
    USAGE_ERROR("unknown scenario 'nosuch'", "run", "nosuch");
    USAGE_ERROR("unknown option '--colour' (see concdemo help race)", "run",
                "race", "--colour");
}

/* Bad input, each with the culprit its one line must name. */
/* test: error: bad input names the culprit */
static void bad_input_names_the_culprit(void)
{
    USAGE_ERROR("unknown scenario 'nosuch'", "nosuch");
    USAGE_ERROR("no fix called 'magic'", "race", "--fixed=magic");
    USAGE_ERROR("no fix called 'broken'", "race", "--fixed=broken");
    USAGE_ERROR("unknown option '--colour'", "race", "--colour");
    USAGE_ERROR("'many' is not a whole number", "race", "--threads", "many");
    /* Out of range. */
    USAGE_ERROR("between 2 and 64", "deadlock", "--threads", "1");
    USAGE_ERROR("between 1 and 256", "race", "--threads=100000");
    USAGE_ERROR("between 1 and 5000", "race", "--iterations=-3");
    USAGE_ERROR("--threads must be between", "race",
                "--threads=99999999999999999999");
    USAGE_ERROR("between 16 and 1048576", "backpressure", "--memory-budget",
                "8");
    USAGE_ERROR("race does not take --memory-budget", "race",
                "--memory-budget", "96");
    /* A number missing, a bad timeout or latency scale. */
    USAGE_ERROR("--threads needs a number", "race", "--threads");
    USAGE_ERROR("--timeout needs a number", "race", "--timeout=");
    USAGE_ERROR("between 100 and 600000", "race", "--timeout", "5");
    USAGE_ERROR("--latency-scale must be", "race", "--latency-scale", "fast");
    USAGE_ERROR("--latency-scale must be", "race", "--latency-scale=-1");
    USAGE_ERROR("--latency-scale must be", "race", "--latency-scale=nan");
    /* A flag without value given one; a stray argument. */
    USAGE_ERROR("--json takes no value", "race", "--json=yes");
    USAGE_ERROR("unexpected argument 'extra'", "race", "extra");
}

/* Each command names the word it does not take, not a word it does. */
/* test: error: extra words are named */
static void extra_words_are_named(void)
{
    USAGE_ERROR("not 'extra'", "list", "--json", "extra");
    USAGE_ERROR("not 'extra'", "list", "extra", "--json");
    USAGE_ERROR("not 'extra'", "help", "race", "extra");
    USAGE_ERROR("not 'extra'", "--version", "extra");
    USAGE_ERROR("unexpected argument 'extra'", "explore", "race", "extra");
    USAGE_ERROR("unexpected argument 'extra'", "race", "--json", "extra");
}

/* replay:@FILE says what is wrong with the file, not "the schedule is
 * empty": a directory, a missing file and an empty file differ. */
/* test: error: unreadable schedule files say why */
static void unreadable_schedule_files_say_why(void)
{
    char dir[] = "/tmp/concdemo-cli-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    char spec[128], empty[96], missing[96];

    snprintf(spec, sizeof spec, "--sched=replay:@%s", dir);
    USAGE_ERROR("Is a directory", "race", spec);
    ASSERT_STR_HAS(out.err, "cannot read schedule file");

    snprintf(missing, sizeof missing, "%s/none", dir);
    snprintf(spec, sizeof spec, "--sched=replay:@%s", missing);
    USAGE_ERROR("No such file or directory", "race", spec);

    snprintf(empty, sizeof empty, "%s/empty", dir);
    FILE *f = fopen(empty, "w");
    CU_ASSERT_FATAL(f != NULL);
    fputs(" \n", f); /* whitespace only: nothing to replay */
    fclose(f);
    snprintf(spec, sizeof spec, "--sched=replay:@%s", empty);
    USAGE_ERROR("is empty", "race", spec);
    ASSERT_STR_HAS(out.err, empty);
    USAGE_ERROR("needs a file name", "race", "--sched=replay:@");

    unlink(empty);
    rmdir(dir);
}

/* --view and --view=text both refuse --json, whether or not stdout is a
 * terminal (the check comes before the view looks for one). */
/* test: error: --view and --view=text both refuse --json */
static void view_refuses_json_either_way(void)
{
    USAGE_ERROR("--json", "race", "--view", "--json");
    ASSERT_STR_HAS(out.err, "--view and --json");
    USAGE_ERROR("--json", "race", "--json", "--view");
    USAGE_ERROR("--view=text and --json", "race", "--view=text", "--json");
    USAGE_ERROR("--view is for single runs", "explore", "race", "--view");
}

/* Usage errors found after --sched=replay was parsed free the schedule:
 * under the ASan build (make test-asan) a leak report turns exit 2 into
 * LeakSanitizer's code. */
/* test: error: usage errors after a schedule exit 2 (no leak) */
static void usage_errors_after_a_schedule_exit_2(void)
{
    USAGE_ERROR("--json", "race", "--sched=replay:1.2", "--view=text", "--json");
    USAGE_ERROR("--view", "race", "--sched=replay:1.2", "--view");
    USAGE_ERROR("'--colour'", "race", "--sched=replay:1.2", "--colour");
    USAGE_ERROR("drop --json", "race", "--sched=replay:1.2", "--json",
                "--sched=step");
    USAGE_ERROR("'--colour'", "explore", "race", "--runs=1", "--colour");
    /* A free run chooses no wake-ups: --spurious needs a scheduler. */
    USAGE_ERROR("--spurious needs --sched", "race", "--spurious");
}

/* A run with spurious wake-ups is replayed with them: the replay command
 * says --spurious, and repeats the run. */
/* test: --spurious runs replay with --spurious */
static void a_spurious_run_replays_with_spurious(void)
{
    char replay[4096], cmd[4200];
    run_bin(&out, "race", "--sched=random:4", "--spurious", NULL);
    ASSERT_INT_EQ(out.exit_code, 1);
    const char *at = strstr(out.out, "replay: ");
    CU_ASSERT_FATAL(at != NULL);
    snprintf(replay, sizeof replay, "%.*s", (int)strcspn(at + 8, "\n"),
             at + 8);
    ASSERT_STR_HAS(replay, " --spurious --sched=replay:");
    const char *verdict = strstr(out.out, "race [broken]: ");
    CU_ASSERT_FATAL(verdict != NULL);
    char first[512];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(verdict, "\n"),
             verdict);
    snprintf(cmd, sizeof cmd, "%s", replay);
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    run_cmd(&out, argv, "TSAN_OPTIONS=exitcode=1", LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, first);
    /* Without --spurious, its replay does without it too. */
    run_bin(&out, "race", "--sched=random:4", NULL, NULL);
    at = strstr(out.out, "replay: ");
    CU_ASSERT_FATAL(at != NULL);
    CU_ASSERT_PTR_NULL(strstr(at, "--spurious"));
}

/* Output that could not be written (a full disk) is an error: exit 2 and
 * one line, for every command that prints. */
/* test: error: a write error on stdout exits 2 */
static void write_errors_on_stdout_exit_2(void)
{
    /* Fixed variants: under the TSan build a race report would set the
     * exit code itself. */
    static const char *const cmds[][6] = {
        { "race", "--fixed", "--json" },
        { "race", "--fixed", "--sched=random:1", "--iterations=2" },
        { "list" },
        { "list", "--json" },
        { "help" },
        { "help", "race" },
        { "--version" },
        { "explore", "race", "--fixed", "--runs=2", "--json" },
    };
    CU_ASSERT_FATAL(access("/dev/full", W_OK) == 0);
    for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++) {
        const char *argv[10] = { "/bin/sh", "-c", "exec \"$0\" \"$@\" >/dev/full",
                                 concdemo_bin() };
        for (int i = 0; i < 6 && cmds[k][i]; i++)
            argv[4 + i] = cmds[k][i];
        run_cmd(&out, argv, "TSAN_OPTIONS=exitcode=1", LIMIT_MS);
        if (out.exit_code != 2)
            fprintf(stderr, "\n  concdemo %s %s ... > /dev/full\n",
                    cmds[k][0], cmds[k][1] ? cmds[k][1] : "");
        ASSERT_INT_EQ(out.exit_code, 2);
        ASSERT_INT_EQ(count_lines(out.err), 1);
        ASSERT_STR_HAS(out.err,
                       "concdemo: cannot write output: No space left on device");
    }
}

/* Numbers are digits (a count) or plain decimals (the scale): no sign,
 * space, exponent, hex, nan or inf; a flag's value is never the next
 * option. */
/* test: error: numbers are plain, values present */
static void numbers_are_plain_and_values_present(void)
{
    USAGE_ERROR("' 3' is not a whole number", "race", "--threads", " 3");
    USAGE_ERROR("'+3' is not a whole number", "race", "--threads=+3");
    USAGE_ERROR("'1e3' is not a whole number", "explore", "race", "--runs=1e3");
    USAGE_ERROR("--seed must be between 0 and", "explore", "race", "--seed=-0");
    USAGE_ERROR("'4x' is not a whole number", "race", "--iterations=4x");
    USAGE_ERROR("--max-steps needs a number", "race", "--max-steps");
    USAGE_ERROR("--budget needs a number", "explore", "race", "--budget=");
    USAGE_ERROR("(got 1e1)", "race", "--latency-scale=1e1");
    USAGE_ERROR("(got -0)", "race", "--latency-scale=-0");
    USAGE_ERROR("(got 0x10)", "race", "--latency-scale=0x10");
    USAGE_ERROR("(got inf)", "race", "--latency-scale=inf");
    USAGE_ERROR("--threads needs a number", "race", "--threads", "--json");
    USAGE_ERROR("--save-schedule needs a file name", "race",
                "--sched=random:1", "--save-schedule", "--json");
    USAGE_ERROR("--strategy needs", "explore", "race", "--strategy");
    USAGE_ERROR("--runs is for concdemo explore", "race", "--runs=5");
}

/* The forms the help and the replay commands use still work. */
/* test: plain numbers still work */
static void plain_numbers_still_work(void)
{
    const char *argv[] = { concdemo_bin(), "race", "--fixed=mutex",
                           "--latency-scale", "0.5", "--iterations=2",
                           "--threads", "2", "--timeout=100000", NULL };
    run_cmd(&out, argv, "TSAN_OPTIONS=exitcode=1", LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "2 threads, 2 iterations");
    const char *neg[] = { concdemo_bin(), "race", "--iterations", "-3", NULL };
    run_cmd(&out, neg, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 2);
    ASSERT_STR_HAS(out.err, "between 1 and 5000");
}

/* ============================== progress ================================ */

/* The frames "\r<prefix>N schedules, R/s..." in err: how many, and whether
 * the counts never went down. */
static int schedule_frames(const char *err, const char *prefix, int *rising)
{
    int frames = 0;
    long last = -1;
    *rising = 1;
    for (const char *p = strstr(err, prefix); p; p = strstr(p + 1, prefix)) {
        char *end;
        long n = strtol(p + strlen(prefix), &end, 10);
        if (strncmp(end, " schedules, ", 12) != 0)
            continue;
        frames++;
        *rising &= n >= last;
        last = n;
    }
    return frames;
}

/* explore searching for 2 s (the fix holds: the budget ends it): on a
 * terminal, one line on stderr counts schedules in place - with their
 * rate and the time left - from the first second, and is erased before
 * the report; off a terminal, stderr stays empty. */
/* test: explore shows a progress line on a terminal only */
static void explore_shows_a_progress_line_on_a_terminal_only(void)
{
    const char *argv[] = { concdemo_bin(), "explore", "race", "--fixed",
                           "--strategy", "random", "--runs", "1000000",
                           "--budget", "2", NULL };
    run_cmd_err_tty(&out, argv, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 0);
    int rising;
    CU_ASSERT_TRUE(schedule_frames(out.err, "\rexplore race [keyed] random: ",
                                   &rising) >= 2);
    CU_ASSERT_TRUE(rising);
    ASSERT_STR_HAS(out.err, " s left");
    /* Erased at the end: blanks between two returns, nothing after. */
    size_t n = strlen(out.err);
    CU_ASSERT_TRUE(n > 2 && out.err[n - 1] == '\r' && out.err[n - 2] == ' ');
    CU_ASSERT_PTR_NULL(strchr(out.out, '\r'));
    ASSERT_STR_HAS(out.out, "no violation");
    run_cmd(&out, argv, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_INT_EQ((long long)strlen(out.err), 0);
}
