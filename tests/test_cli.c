/*
 * test_cli.c - the concdemo command as a user meets it: help, list,
 * verdict lines, JSON, exit codes, and one-line errors for bad input.
 */
#include <string.h>

#include "harness.h"

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
 * names the culprit. */
static void expect_usage_error(const char *a1, const char *a2,
                               const char *a3, const char *culprit)
{
    run_bin(&out, a1, a2, a3, NULL);
    ASSERT_INT_EQ(out.exit_code, 2);
    ASSERT_INT_EQ(count_lines(out.err), 1);
    ASSERT_INT_EQ((long long)strlen(out.out), 0);
    ASSERT_STR_HAS(out.err, culprit);
}

static void help_lists_commands_and_exit_codes(void)
{
    run_bin(&out, "--help", NULL, NULL, NULL);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "usage: concdemo SCENARIO");
    ASSERT_STR_HAS(out.out, "exit codes:");
    ASSERT_STR_HAS(out.out, "--fixed[=HOW]");
}

static void no_arguments_prints_usage_and_fails(void)
{
    run_bin(&out, NULL, NULL, NULL, NULL);
    ASSERT_INT_EQ(out.exit_code, 2);
    ASSERT_STR_HAS(out.err, "usage:");
}

static void version_prints_a_version(void)
{
    run_bin(&out, "--version", NULL, NULL, NULL);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "concdemo ");
}

static void list_names_every_scenario_and_its_fixes(void)
{
    run_bin(&out, "list", NULL, NULL, NULL);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "race");
    ASSERT_STR_HAS(out.out, "--fixed=keyed (recommended)");
    ASSERT_STR_HAS(out.out, "deadlock");
    ASSERT_STR_HAS(out.out, "--fixed=ordering (recommended)");
    run_bin(&out, "list", "--json", NULL, NULL);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "\"name\":\"race\"");
}

static void scenario_help_shows_variants_and_ranges(void)
{
    run_bin(&out, "race", "--help", NULL, NULL);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "cas");
    ASSERT_STR_HAS(out.out, "--threads N      1..256");
    run_bin(&out, "help", "deadlock", NULL, NULL);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "timeout");
}

static void broken_race_ends_with_a_violated_verdict_and_exit_1(void)
{
    run_bin(&out, "race", NULL, NULL, NULL);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "race [broken]: VIOLATED");
    ASSERT_STR_HAS(out.out, "expected each of 8 orders charged once");
}

static void plain_fixed_runs_the_recommended_fix_and_exits_0(void)
{
    run_bin(&out, "race", "--fixed", NULL, NULL);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "race [keyed]: HELD");
    run_bin(&out, "deadlock", "--fixed", NULL, NULL);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "deadlock [ordering]: HELD");
}

static void deadlock_verdict_spells_out_the_cycle(void)
{
    run_bin(&out, "deadlock", NULL, NULL, NULL);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "deadlock [broken]: DEADLOCK");
    ASSERT_STR_HAS(out.out, "transfer-1 holds acct-A, waits acct-B");
    ASSERT_STR_HAS(out.out, "lock-order: potential deadlock: acct-");
}

static void json_is_one_object_with_status_and_figures(void)
{
    run_bin(&out, "race", "--fixed=cas", "--json", NULL);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_INT_EQ(count_lines(out.out), 1);
    CU_ASSERT_EQUAL(out.out[0], '{');
    ASSERT_STR_HAS(out.out, "\"status\":\"HELD\"");
    ASSERT_STR_HAS(out.out, "\"variant\":\"cas\"");
    ASSERT_STR_HAS(out.out, "\"charges\":8");
    run_bin(&out, "deadlock", "--json", NULL, NULL);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "\"deadlock\":[{\"thread\":\"transfer-1\","
                            "\"holds\":\"acct-A\",\"waits\":\"acct-B\"}");
}

static void trace_shows_each_operation(void)
{
    run_bin(&out, "deadlock", "--fixed=ordering", "--trace", "--iterations=1");
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "trace: ");
    ASSERT_STR_HAS(out.out, "acquired");
    ASSERT_STR_HAS(out.out, "fraud-check");
    ASSERT_STR_HAS(out.out, "demos/deadlock.c:");
}

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

static void unknown_scenario(void)
{
    expect_usage_error("nosuch", NULL, NULL, "unknown scenario 'nosuch'");
}

static void unknown_fix(void)
{
    expect_usage_error("race", "--fixed=magic", NULL, "no fix called 'magic'");
}

static void broken_is_not_a_fix(void)
{
    expect_usage_error("race", "--fixed=broken", NULL, "no fix called 'broken'");
}

static void unknown_flag(void)
{
    expect_usage_error("race", "--colour", NULL, "unknown option '--colour'");
}

static void non_numeric_threads(void)
{
    expect_usage_error("race", "--threads", "many", "'many' is not a whole number");
}

static void out_of_range_threads(void)
{
    expect_usage_error("deadlock", "--threads", "1", "between 2 and 64");
    expect_usage_error("race", "--threads=100000", NULL, "between 1 and 256");
    expect_usage_error("race", "--iterations=-3", NULL, "between 1 and 5000");
    expect_usage_error("race", "--threads=99999999999999999999", NULL,
                       "--threads must be between");
}

static void missing_number(void)
{
    expect_usage_error("race", "--threads", NULL, "--threads needs a number");
    expect_usage_error("race", "--timeout=", NULL, "--timeout needs a number");
}

static void bad_timeout_and_scale(void)
{
    expect_usage_error("race", "--timeout", "5", "between 100 and 600000");
    expect_usage_error("race", "--latency-scale", "fast", "--latency-scale must be");
    expect_usage_error("race", "--latency-scale=-1", NULL, "--latency-scale must be");
    expect_usage_error("race", "--latency-scale=nan", NULL, "--latency-scale must be");
}

static void flag_without_value_rejects_a_value(void)
{
    expect_usage_error("race", "--json=yes", NULL, "--json takes no value");
}

static void stray_argument(void)
{
    expect_usage_error("race", "extra", NULL, "unexpected argument 'extra'");
}

void suite_cli(void)
{
    CU_pSuite s = CU_add_suite("cli", NULL, NULL);
    CU_add_test(s, "help lists commands and exit codes", help_lists_commands_and_exit_codes);
    CU_add_test(s, "no arguments prints usage and fails", no_arguments_prints_usage_and_fails);
    CU_add_test(s, "version prints a version", version_prints_a_version);
    CU_add_test(s, "list names every scenario and its fixes", list_names_every_scenario_and_its_fixes);
    CU_add_test(s, "scenario help shows variants and ranges", scenario_help_shows_variants_and_ranges);
    CU_add_test(s, "broken race: VIOLATED verdict, exit 1", broken_race_ends_with_a_violated_verdict_and_exit_1);
    CU_add_test(s, "plain --fixed runs the recommended fix, exit 0", plain_fixed_runs_the_recommended_fix_and_exits_0);
    CU_add_test(s, "deadlock verdict spells out the cycle", deadlock_verdict_spells_out_the_cycle);
    CU_add_test(s, "--json is one object with status and figures", json_is_one_object_with_status_and_figures);
    CU_add_test(s, "--trace shows each operation", trace_shows_each_operation);
    CU_add_test(s, "options accept --flag=V and --flag V", options_accept_both_spellings);
    CU_add_test(s, "error: unknown scenario", unknown_scenario);
    CU_add_test(s, "error: unknown fix", unknown_fix);
    CU_add_test(s, "error: broken is not a fix", broken_is_not_a_fix);
    CU_add_test(s, "error: unknown flag", unknown_flag);
    CU_add_test(s, "error: non-numeric threads", non_numeric_threads);
    CU_add_test(s, "error: out-of-range numbers", out_of_range_threads);
    CU_add_test(s, "error: missing number", missing_number);
    CU_add_test(s, "error: bad timeout and latency scale", bad_timeout_and_scale);
    CU_add_test(s, "error: a flag without value given one", flag_without_value_rejects_a_value);
    CU_add_test(s, "error: stray argument", stray_argument);
}
