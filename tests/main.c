/*
 * main.c - the CUnit runner: every suite, basic mode, non-zero exit on
 * any failure. `test_runner SUITE...` runs only the named suites;
 * `test_runner -j N [SUITE...]` runs each suite in a runner of its own, N
 * at once, and prints each suite's output whole when it ends;
 * `test_runner --list [SUITE...]` prints "SUITE<tab>TEST" for each test,
 * in run order, and runs nothing. `--quick` first (before any of those)
 * leaves the long tests out ("long test:" in tests/suites.awk): `make
 * test`; a suite with none left is not started.
 */
#define _DEFAULT_SOURCE /* wait4 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static const struct {
    const char *name;
    void (*add)(void);
} suites[] = {
    /* one line per suite: { "name", suite_name }, */
    { "registry", suite_registry },
    { "mutex", suite_mutex },
    { "keyed", suite_keyed },
    { "wait", suite_wait },
    { "detect", suite_detect },
    { "stuck", suite_stuck },
    { "race", suite_race },
    { "deadlock", suite_deadlock },
    { "cli", suite_cli },
    { "options", suite_options },
    { "tsan", suite_tsan },
    { "sched", suite_sched },
    { "sched-explore", suite_sched_explore },
    { "chan", suite_chan },
    { "cond", suite_cond },
    { "fanin", suite_fanin },
    { "sem", suite_sem },
    { "oneshot", suite_oneshot },
    { "bcast", suite_bcast },
    { "backpressure", suite_backpressure },
    { "rwlock", suite_rwlock },
    { "starvation", suite_starvation },
    { "exec", suite_exec },
    { "io", suite_io },
    { "scope", suite_scope },
    { "await", suite_await },
    { "async-race", suite_async_race },
    { "lost-wakeup", suite_lost_wakeup },
    { "spurious", suite_spurious },
    { "order-violation", suite_order_violation },
    { "philosophers", suite_philosophers },
    { "publication", suite_publication },
    { "livelock", suite_livelock },
    { "stampede", suite_stampede },
    { "webhook", suite_webhook },
    { "inventory", suite_inventory },
    { "counter", suite_counter },
    { "broadcast", suite_broadcast },
    { "db-race", suite_db_race },
    { "db-race-pg", suite_db_race_pg },
    { "holdtime", suite_holdtime },
    { "chat", suite_chat },
    { "orphans", suite_orphans },
    { "offload", suite_offload },
    { "view", suite_view },
    { "step", suite_step },
    { "timeline", suite_timeline },
    { "lessons", suite_lessons },
    { "ledger", suite_ledger },
    { "check", suite_check },
    { "check-answers", suite_check_answers },
    { "check-others", suite_check_others },
    { "check-decoys", suite_check_decoys },
    { "check-decoys-2", suite_check_decoys_2 },
    { "check-clock", suite_check_clock },
    { "install", suite_install },
    { "watch", suite_watch },
    { "hostile", suite_hostile },
    { "hostile-wait", suite_hostile_wait },
};

#define NSUITES (sizeof suites / sizeof suites[0])

/* The suites that take longest start first under -j, so that the run is not
 * left waiting on one long suite started last. */
static const char *const slow_first[] = {
    "hostile", "lessons", "check", "sched", "sched-explore", "livelock",
    "check-decoys", "check-decoys-2", "check-answers", "check-others",
    "view", "watch", "backpressure", "install", "db-race-pg", "db-race",
    "chat", "cli", "offload", "broadcast", "philosophers", "starvation",
};

/* Suites that run by themselves, last: check-clock's answers are judged
 * on a real-time objective, which other suites' load would miss for
 * them. (starvation, which starves its own runs on purpose, runs beside
 * the others: its storm keeps its shape however late the machine runs
 * its threads, demos/starvation.c.) */
static const char *const alone[] = { "check-clock" };

/* Suites that mostly wait (simulated latency, time limits, a database
 * server, a terminal being drawn): each used less than a third of a CPU
 * over its run. They run on top of -j's count, up to as many again, so
 * that their waits overlap the others' work instead of holding a slot. */
static const char *const waiting[] = {
    "view", "db-race-pg", "philosophers", "chat", "db-race", "broadcast",
    "watch", "order-violation", "deadlock", "counter", "scope", "holdtime",
    "exec", "lost-wakeup", "rwlock", "orphans", "hostile-wait",
};

/* Whether the suite is named in list (n names). */
static int named_in(size_t suite, const char *const *list, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(suites[suite].name, list[k]) == 0)
            return 1;
    return 0;
}

static int is_waiting(size_t suite)
{
    return named_in(suite, waiting, sizeof waiting / sizeof waiting[0]);
}

static int is_alone(size_t suite)
{
    return named_in(suite, alone, sizeof alone / sizeof alone[0]);
}

static int wanted(int argc, char **argv, const char *name)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

/* The last line a child runner prints (CD_RUNNER_TALLY set): what it ran
 * and what failed, for the parent's total. */
#define TALLY "cd-runner-tally"
/* A child runner's failure records, one line each, ahead of its tally:
 * the parent repeats them under its total, so that the last lines of a
 * long run (all a CI log may keep) say which tests failed. */
#define FAILURE "cd-runner-failure"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* No suite of those named has a test to run: said, and a failure (a
 * command that ran nothing must not pass). */
static int nothing_to_run(void)
{
    fprintf(stderr, "test_runner: no test to run: no suite of that name%s "
            "(test_runner --list names them)\n",
            getenv(QUICK_ENV) ? ", or only long tests, which --quick leaves "
                                "out" : "");
    return 1;
}

/* Whether the suite has a test to run (in a quick run, a suite of long
 * tests has none): asked of a registry of its own. */
static int has_tests(size_t suite)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1; /* its runner will say so */
    suites[suite].add();
    int n = (int)CU_get_registry()->uiNumberOfTests;
    CU_cleanup_registry();
    return n > 0;
}

/* The suites to run, slowest first and those that run alone last; returns
 * how many (into order[]). */
static int plan(int argc, char **argv, size_t *order)
{
    int n = 0;
    char out[NSUITES], taken[NSUITES];
    for (size_t i = 0; i < NSUITES; i++) {
        /* not named, or nothing to run in it: asked once, of those named */
        out[i] = (char)(!wanted(argc, argv, suites[i].name) || !has_tests(i));
        taken[i] = (char)(out[i] || is_alone(i));
    }
    for (size_t k = 0; k < sizeof slow_first / sizeof slow_first[0]; k++)
        for (size_t i = 0; i < NSUITES; i++)
            if (!taken[i] && strcmp(suites[i].name, slow_first[k]) == 0) {
                taken[i] = 1;
                order[n++] = i;
            }
    for (size_t i = 0; i < NSUITES; i++)
        if (!taken[i])
            order[n++] = i;
    for (size_t i = 0; i < NSUITES; i++)
        if (is_alone(i) && !out[i])
            order[n++] = i;
    return n;
}

typedef struct job {
    pid_t pid;
    size_t suite;
    FILE *out; /* the child's stdout and stderr, unlinked */
    double start;
} job_t;

static int start_job(job_t *j, const char *self, size_t suite)
{
    char path[] = "/tmp/concdemo-suite-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -errno;
    unlink(path);
    j->suite = suite;
    j->start = now_s();
    j->out = fdopen(fd, "w+");
    fflush(NULL);
    j->pid = fork();
    if (j->pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        setenv("CD_RUNNER_TALLY", "1", 1);
        if (getenv(QUICK_ENV))
            execl(self, self, "--quick", suites[suite].name, (char *)NULL);
        else
            execl(self, self, suites[suite].name, (char *)NULL);
        _exit(127);
    }
    return j->pid < 0 ? -errno : 0;
}

/* Prints an ended job's output (its tally line held back) and adds its
 * counts; a runner that died without its tally counts as one failure. */
static double finish_job(job_t *j, int status, const struct rusage *ru,
                         unsigned *ran, unsigned *failed, FILE *failures)
{
    char line[4096];
    unsigned r = 0, f = 0;
    int tallied = 0;
    /* CPU: the suite's runner and every process it waited for. */
    double cpu = (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
                 (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
    printf("\n==== suite %s (%.1f s, %.1f s of CPU) ====\n",
           suites[j->suite].name, now_s() - j->start, cpu);
    rewind(j->out);
    while (fgets(line, sizeof line, j->out)) {
        if (strncmp(line, TALLY, strlen(TALLY)) == 0 &&
            sscanf(line, TALLY " ran=%u failed=%u", &r, &f) == 2)
            tallied = 1;
        else if (strncmp(line, FAILURE " ", strlen(FAILURE) + 1) == 0)
            fputs(line + strlen(FAILURE) + 1, failures);
        else
            fputs(line, stdout);
    }
    fclose(j->out);
    if (!tallied || !WIFEXITED(status) ||
        (WEXITSTATUS(status) != 0 && f == 0)) {
        printf("suite %s: its runner ended without its tally (status "
               "0x%x): counted as a failure\n", suites[j->suite].name,
               (unsigned)status);
        fprintf(failures, "%s: the runner ended without its tally (status "
                "0x%x)\n", suites[j->suite].name, (unsigned)status);
        f += 1;
    }
    *ran += r;
    *failed += f;
    fflush(stdout);
    return cpu;
}

/* The failure records the suites sent, after every suite's output. */
static void print_failures(FILE *failures)
{
    char line[4096];
    int any = 0;
    rewind(failures);
    while (fgets(line, sizeof line, failures)) {
        if (!any++)
            printf("\nFailed:\n");
        printf("  %s", line);
    }
    fclose(failures);
}

/* Each suite in a runner process of its own (this program, one suite),
 * `jobs` at once, besides up to `jobs` of those that mostly wait (with
 * -j 1, none: one suite at a time). Every
 * test already runs what it starts in children of its own, so suites
 * share nothing but the machine. */
static int run_parallel(int jobs, const char *self, int argc, char **argv)
{
    size_t order[NSUITES];
    int n = plan(argc, argv, order), next = 0, live = 0, live_wait = 0;
    if (n == 0)
        return nothing_to_run();
    char started[NSUITES] = { 0 };
    /* jobs slots, and as many for the suites that mostly wait */
    job_t *run = calloc(2 * (size_t)jobs, sizeof *run);
    unsigned ran = 0, failed = 0;
    double t0 = now_s(), cpu = 0;
    FILE *failures = tmpfile();
    if (!run || !failures)
        return 2;
    while (next < n || live > 0) {
        /* The suites not started yet, in plan order: those that wait may
         * take a slot of their own; one that runs alone starts only when
         * nothing else runs (plan puts those last). */
        for (int i = next; i < n; i++) {
            size_t su = order[i];
            int w = is_waiting(su) && jobs > 1; /* -j 1: one at a time */
            if (started[i] || (is_alone(su) && live > 0) ||
                (w ? live_wait : live - live_wait) >= jobs)
                continue;
            int k = 0;
            while (run[k].pid != 0)
                k++;
            if (start_job(&run[k], self, su) != 0) {
                perror("test_runner: starting a suite");
                return 2;
            }
            started[i] = 1;
            live++;
            live_wait += w;
            if (is_alone(su))
                break;
        }
        while (next < n && started[next])
            next++;
        int status;
        struct rusage ru;
        pid_t pid = wait4(-1, &status, 0, &ru);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int k = 0; k < 2 * jobs; k++)
            if (run[k].pid == pid) {
                cpu += finish_job(&run[k], status, &ru, &ran, &failed,
                                  failures);
                run[k].pid = 0;
                live--;
                live_wait -= is_waiting(run[k].suite) && jobs > 1;
            }
    }
    free(run);
    print_failures(failures);
    printf("\n%d suites in %.1f s (%.1f s of CPU), %d at once (and %d that "
           "mostly wait): %u tests run, %u failed\n", n, now_s() - t0, cpu,
           jobs, jobs > 1 ? jobs : 0, ran, failed);
    return (failed == 0 && ran > 0) ? 0 : 1;
}

/* One FAILURE line per failure record, with the test's suite and name
 * and where the assert is; newlines in a condition become spaces. */
static void send_failures(void)
{
    for (CU_pFailureRecord r = CU_get_failure_list(); r; r = r->pNext) {
        char cond[512];
        snprintf(cond, sizeof cond, "%s",
                 r->strCondition ? r->strCondition : "");
        for (char *c = cond; *c; c++)
            if (*c == '\n')
                *c = ' ';
        /* The tests are compiled from build/gen: name the source. */
        const char *file = r->strFileName ? r->strFileName : "?";
        const char *up = strstr(file, "../tests/");
        while (up && strstr(up + 1, "../tests/"))
            up = strstr(up + 1, "../tests/");
        printf(FAILURE " %s / %s: %s:%u: %s\n",
               r->pSuite ? r->pSuite->pName : "?",
               r->pTest ? r->pTest->pName : "(outside any test)",
               up ? up + 3 : file, r->uiLineNumber, cond);
    }
}

/* --list: every test CUnit was given, suite by suite, in run order. */
static int list_tests(void)
{
    for (CU_pSuite s = CU_get_registry()->pSuite; s; s = s->pNext)
        for (CU_pTest t = s->pTest; t; t = t->pNext)
            printf("%s\t%s\n", s->pName, t->pName);
    CU_cleanup_registry();
    return 0;
}

int main(int argc, char **argv)
{
    /* A command that exits before reading its scripted input must not
     * take the runner down with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    /* A scenario of processes run by a test (run_forked) starts its
     * instances as this program: hand them to the scenario, as concdemo
     * does (cli/cmd_run.c). */
    if (argc > 2 && strcmp(argv[2], "--instance") == 0) {
        const cd_scenario_t *s = cd_scenario_find(argv[1]);
        if (s && s->instance_main)
            return s->instance_main(argc - 2, argv + 2);
    }
    /* Only --quick makes a run quick, not what the environment holds. */
    unsetenv(QUICK_ENV);
    if (argc >= 2 && strcmp(argv[1], "--quick") == 0) {
        setenv(QUICK_ENV, "quick", 1); /* read by add_tests() */
        argv[1] = argv[0];
        argc--;
        argv++;
    }
    if (argc >= 3 && strcmp(argv[1], "-j") == 0) {
        char *end;
        long jobs = strtol(argv[2], &end, 10);
        if (*end || jobs < 1 || jobs > 64) {
            fprintf(stderr, "test_runner: -j wants a number of suites at "
                    "once (1-64), not \"%s\"\n", argv[2]);
            return 2;
        }
        argv[2] = argv[0];
        return run_parallel((int)jobs, "/proc/self/exe", argc - 2, argv + 2);
    }
    int list = argc >= 2 && strcmp(argv[1], "--list") == 0;
    if (list) {
        argv[1] = argv[0];
        argc--;
        argv++;
    }
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    for (size_t i = 0; i < NSUITES; i++)
        if (wanted(argc, argv, suites[i].name))
            suites[i].add();
    if (list)
        return list_tests();
    if (CU_get_registry()->uiNumberOfTests == 0) {
        CU_cleanup_registry();
        return nothing_to_run();
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    /* The tally counts tests, not failure records (a test that failed
     * four asserts is one failed test); a failure outside any test (a
     * suite that could not be set up) still counts as one. */
    unsigned failed = CU_get_number_of_tests_failed();
    if (failed == 0 && CU_get_number_of_failures() > 0)
        failed = 1;
    unsigned ran = CU_get_number_of_tests_run();
    if (getenv("CD_RUNNER_TALLY")) {
        send_failures();
        printf("\n" TALLY " ran=%u failed=%u\n", ran, failed);
    }
    CU_cleanup_registry();
    return (failed == 0 && ran > 0) ? 0 : 1;
}
