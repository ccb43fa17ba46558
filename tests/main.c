/*
 * main.c - the CUnit runner: every suite, basic mode, non-zero exit on
 * any failure. `test_runner SUITE...` runs only the named suites.
 */
#include <CUnit/Basic.h>
#include <signal.h>
#include <string.h>

#include "harness.h"

static const struct {
    const char *name;
    void (*add)(void);
} suites[] = {
    /* one line per suite: { "name", suite_name }, */
    { "registry", suite_registry },
    { "mutex", suite_mutex },
    { "wait", suite_wait },
    { "detect", suite_detect },
    { "stuck", suite_stuck },
    { "race", suite_race },
    { "deadlock", suite_deadlock },
    { "cli", suite_cli },
    { "options", suite_options },
    { "tsan", suite_tsan },
    { "sched", suite_sched },
    { "chan", suite_chan },
    { "cond", suite_cond },
    { "sem", suite_sem },
    { "backpressure", suite_backpressure },
    { "rwlock", suite_rwlock },
    { "starvation", suite_starvation },
    { "exec", suite_exec },
    { "await", suite_await },
    { "async-race", suite_async_race },
    { "lost-wakeup", suite_lost_wakeup },
    { "spurious", suite_spurious },
    { "order-violation", suite_order_violation },
    { "philosophers", suite_philosophers },
    { "publication", suite_publication },
    { "livelock", suite_livelock },
    { "inventory", suite_inventory },
    { "view", suite_view },
    { "step", suite_step },
    { "lessons", suite_lessons },
    { "ledger", suite_ledger },
    { "check", suite_check },
    { "hostile", suite_hostile },
};

static int wanted(int argc, char **argv, const char *name)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    /* A command that exits before reading its scripted input must not
     * take the runner down with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (wanted(argc, argv, suites[i].name))
            suites[i].add();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() +
                      CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    return (failed == 0 && ran > 0) ? 0 : 1;
}
