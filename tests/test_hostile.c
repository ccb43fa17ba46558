/*
 * test_hostile.c - `concdemo check` against submissions that attack the
 * grader instead of fixing the exercise (tests/hostile/, described in its
 * README.md): a forged result, a #define of the verdict codes, an
 * #include of /dev/stdin, an endless constructor, 50 children, 20 GiB of
 * memory, a kill of the parent; and a forgery with the run's secret, an
 * early exit of the ThreadSanitizer build. Each must fail with a one-line reason
 * that names what it did, the check must end by itself with its own exit
 * code (not be killed, not be stopped at the test's limit), and nothing
 * it started may be left running. The sandbox's fallbacks are tested too:
 * with its seccomp filter turned off (CONCDEMO_SANDBOX_FILTER=off),
 * children that left the process group are still ended and signals from
 * the program do not stop the check. And the progress line: on a
 * terminal it counts the seconds in place.
 *
 * Each file is copied to build/check-tests/hostile-NAME/race.c, so that
 * its build is its own and what its check starts can be found by that
 * path, or by this check's directory of programs (build/exercises/
 * .check-PID-...), among the processes working in this directory.
 */
#define _GNU_SOURCE /* forkpty */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* suite: hostile; long */

/* A first check builds the libraries (minutes); the hostile files fail
 * in seconds (the reasons themselves name the limits that apply). */
#define LIMIT_MS 240000

static cmd_out_t out;

/* Copies tests/hostile/NAME.c to build/check-tests/hostile-NAME/race.c;
 * returns that path, or NULL. */
static const char *hostile(const char *name)
{
    static char path[128];
    char from[96], dir[96], buf[8192];
    snprintf(from, sizeof from, "tests/hostile/%s.c", name);
    snprintf(dir, sizeof dir, "build/check-tests/hostile-%s", name);
    snprintf(path, sizeof path, "%s/race.c", dir);
    mkdir("build", 0755);
    mkdir("build/check-tests", 0755);
    mkdir(dir, 0755);
    FILE *in = fopen(from, "r");
    size_t n = in ? fread(buf, 1, sizeof buf, in) : 0;
    if (in)
        fclose(in);
    FILE *to = n ? fopen(path, "w") : NULL;
    int ok = to && fwrite(buf, 1, n, to) == n;
    if (to && fclose(to) != 0)
        ok = 0;
    return ok ? path : NULL;
}

/* Processes working in this directory whose command line mentions the
 * hostile file's directory or the copies of programs in the directory of
 * the check `pid` (build/exercises/.check-PID-...): what that check
 * started, and nothing another suite's checks run meanwhile. Those left
 * are killed (after a failure, nothing may go on running); returns how
 * many there were. */
static int leftovers(const char *name, int pid)
{
    char here[PATH_MAX], mark[96], own[64];
    int n = 0;
    if (!getcwd(here, sizeof here))
        return -1;
    snprintf(mark, sizeof mark, "check-tests/hostile-%s/", name);
    snprintf(own, sizeof own, "exercises/.check-%d-", pid);
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[320], cmd[4096], cwd[PATH_MAX];
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/cwd", e->d_name);
        ssize_t len = readlink(path, cwd, sizeof cwd - 1);
        if (len <= 0)
            continue;
        cwd[len] = '\0';
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(path, "r");
        size_t got = f ? fread(cmd, 1, sizeof cmd - 1, f) : 0;
        if (f)
            fclose(f);
        for (size_t i = 0; i < got; i++)
            if (cmd[i] == '\0')
                cmd[i] = ' ';
        cmd[got] = '\0';
        if (strcmp(cwd, here) != 0 || (!strstr(cmd, mark) &&
                                       !strstr(cmd, own)))
            continue;
        fprintf(stderr, "\n  left behind: %s %.200s", e->d_name, cmd);
        kill(atoi(e->d_name), SIGKILL);
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

/* concdemo check race --file (the copy of) NAME [--no-tsan], with env
 * ("NAME=VALUE" or NULL) added. */
static void check_hostile(const char *name, int tsan, const char *env)
{
    const char *path = hostile(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    const char *argv[] = { concdemo_bin(), "check", "race", "--file", path,
                           tsan ? NULL : "--no-tsan", NULL };
    run_cmd(&out, argv, env, LIMIT_MS);
}

/* The lines of out.out that hold `what`. */
static int lines_with(const char *what)
{
    int n = 0;
    for (const char *p = strstr(out.out, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

/* Fails the test, showing the output, unless ok. */
static void expect(int ok)
{
    if (!ok)
        fprintf(stderr, "\n  output:\n%.4000s\n  stderr:\n%.1000s\n",
                out.out, out.err);
    CU_ASSERT_TRUE(ok);
}

/* The check ended by itself with exit code `code` (not by a signal, not
 * at the test's limit), did not pass, and left no process behind. */
static void expect_clean_end(const char *name, int code)
{
    ASSERT_INT_EQ(out.exit_code, code);
    CU_ASSERT_PTR_NULL(strstr(out.out, "PASS race"));
    ASSERT_INT_EQ(leftovers(name, out.pid), 0);
}

/* Checks NAME (with TSan or not, env added) and fails the test, showing
 * the output, unless the check ended by itself with exit code `code`,
 * did not pass and left nothing behind (expect_clean_end). */
static void check_ends(const char *name, int tsan, const char *env, int code)
{
    check_hostile(name, tsan, env);
    expect(out.exit_code == code);
    expect_clean_end(name, code);
}

/* ============================ the submissions ============================ */

/* "end" written to every fd, then exit 0, before any stage: no record
 * the checker reads, and no run in its books. (Before the sandbox and
 * the books: PASS.) */
/* test: a forged result does not pass */
static void a_forged_result_does_not_pass(void)
{
    check_ends("forge-result", 1, NULL, 1);
    ASSERT_STR_HAS(out.out, "run       FAIL  the exercise's program ended "
                            "with exit code 0 before its verdict\n");
    ASSERT_STR_HAS(out.out, "FAIL race: failed: run");
    /* The TSan build's run left as early, with as little to show. */
    ASSERT_STR_HAS(out.out, "tsan      FAIL  the ThreadSanitizer run ended "
                            "with exit code 0 before its verdict\n");
}

/* The program's real main run again with stages of the file's choosing:
 * the build refuses a file that uses the grader's functions. */
/* test: a file that runs main again does not build */
static void a_file_that_runs_main_again_does_not_build(void)
{
    check_ends("rerun-main", 1, NULL, 2);
    ASSERT_STR_HAS(out.out, "build     FAIL");
    ASSERT_STR_HAS(out.out, "    your file uses __real_main, which "
                            "belongs to the grader\n");
}

/* No run under ThreadSanitizer means no report, and no pass either.
 * (Before: "tsan PASS no report in a free run".) */
/* test: leaving early under TSan does not pass it */
static void leaving_early_under_tsan_does_not_pass_it(void)
{
    check_ends("skip-tsan", 1, NULL, 1);
    ASSERT_STR_HAS(out.out, "  tsan      FAIL  the ThreadSanitizer run ended "
                            "with exit code 0 before its verdict\n");
    ASSERT_STR_HAS(out.out, "FAIL race: failed: free explore tsan.");
}

/* The verdict codes renamed in the learner's own unit reach nothing of
 * the harness: the starter's bug is found as ever - by explore, whose
 * schedules do not depend on the machine. (Not by the first free run
 * without fail: a starved machine can run one cashier alone through a
 * whole run, and then no order is charged twice. A loaded CI run saw
 * "run 2 of 6".) */
/* test: a #define of the verdict codes changes nothing */
static void a_define_of_the_verdict_codes_changes_nothing(void)
{
    check_ends("define-verdict", 0, NULL, 1);
    ASSERT_STR_HAS(out.out, "explore   FAIL  pct found a schedule that "
                            "breaks it");
    ASSERT_STR_HAS(out.out, "FAIL race: failed: ");
}

/* An #include of /dev/stdin is refused before the build; through a
 * macro, the build's stdin cannot be opened: either way the build fails
 * at once, in one line, exit 2. (Before: it built, reading nothing.) */
/* test: an #include of /dev/stdin fails at once */
static void an_include_of_dev_stdin_fails_at_once(void)
{
    check_ends("dev-stdin", 1, NULL, 2);
    ASSERT_STR_HAS(out.out, "  build     FAIL  your file includes "
                            "\"/dev/stdin\": an exercise includes the "
                            "project's headers and the system's by name, "
                            "not a file by a path of its own\n");
    check_ends("dev-stdin-macro", 1, NULL, 2);
    ASSERT_STR_HAS(out.out, "build     FAIL");
    ASSERT_STR_HAS(out.out, "fatal error: /dev/stdin: No such device or "
                            "address");
}

/* An endless constructor: stopped at the start limit, the TSan stage
 * skipped (it would hang the same way). (Before: 8 minutes, silent.) The
 * limit is set to 2 s here: the loop spins, and the default 10 s, with
 * the line a log gets meanwhile, is waited out asleep below
 * (hostile-wait). */
/* test: an endless constructor is stopped */
static void an_endless_constructor_is_stopped(void)
{
    check_ends("ctor-loop", 1, "CONCDEMO_START_LIMIT=2", 1);
    ASSERT_STR_HAS(out.out, "  run       FAIL  code of yours that runs "
                            "before main (a constructor?) did not finish "
                            "within 2 s: stopped\n");
    ASSERT_STR_HAS(out.out, "  tsan      -     skipped: the program did not "
                            "start (above)\n");
}

/* Output without end, from a constructor, in writes of a whole pipe: cut
 * at its limit, and stopped at the start limit all the same. A supervisor
 * that read until the pipe was empty could be kept reading by a writer as
 * fast as itself, away from its limits (cli/spawn.c, collect). */
/* test: a flood of output is cut and stopped */
static void a_flood_of_output_is_cut_and_stopped(void)
{
    check_ends("flood-output", 0, "CONCDEMO_START_LIMIT=1", 1);
    ASSERT_STR_HAS(out.out, "(the program's output was cut at 256 KiB)\n");
    ASSERT_STR_HAS(out.out, "  run       FAIL  code of yours that runs "
                            "before main (a constructor?) did not finish "
                            "within 1 s: stopped\n");
}

/* 50 children that leave the group: the first fork ends the program, in
 * both stages, and none is left. (Before: 50 processes outlived it.) */
/* test: 50 children are refused and none is left */
static void fifty_children_are_refused_and_none_is_left(void)
{
    check_ends("fork50", 1, NULL, 1);
    ASSERT_STR_HAS(out.out, "  run       FAIL  your code tried to start a "
                            "process (clone): an exercise runs in one "
                            "process; threads are the way (see cd_thread.h)\n");
    ASSERT_STR_HAS(out.out, "  tsan      FAIL  your code tried to start a "
                            "process (clone)");
    /* From .preinit_array, the earliest an executable runs: the filter's
     * own entry comes first (cli/exsandbox.o is linked first). */
    check_ends("preinit-fork", 0, NULL, 1);
    ASSERT_STR_HAS(out.out, "  run       FAIL  your code tried to start a "
                            "process (clone)");
}

/* 20 GiB at once: the filter refuses the mapping, in both stages. 1 MiB
 * at a time: the memory watch stops it, in both stages - at a lowered
 * limit, as a small machine's grader would set it (filling the default
 * 1 GiB page by page, twice, one under TSan, took 8 s of CPU). */
/* test: 20 GiB fail in every stage */
static void twenty_gib_fail_in_every_stage(void)
{
    check_ends("alloc20g", 1, NULL, 1);
    expect(lines_with("FAIL  your code asked for 20.0 GiB of memory at once "
                      "(mmap): more than a run may use\n") == 2);
    check_ends("alloc-chunks", 1, "CONCDEMO_MEMORY_LIMIT=192", 1);
    expect(lines_with("FAIL  your code used more than 192 MiB of memory, "
                      "the most a run may use: stopped\n") == 2);
}

/* Signals to the check and a kill of its parent: the first one ends the
 * program; the check goes on to its own verdict. (Before: SIGTERM from
 * the program stopped the check.) */
/* test: a kill of the parent leaves the check standing */
static void a_kill_of_the_parent_leaves_the_check_standing(void)
{
    check_ends("kill-parent", 1, NULL, 1);
    expect(lines_with("FAIL  your code sent a signal (kill, signal 15) to "
                      "another process (") == 2);
    ASSERT_STR_HAS(out.out, "an exercise may signal only itself\n");
}

/* ==================== without the filter: the fallbacks ================== */

/* The children leave the group and outlive the program; the check is
 * their subreaper and ends them. The check says the filter is off. */
/* test: without the filter no child is left */
static void without_the_filter_no_child_is_left(void)
{
    check_ends("fork50", 0, "CONCDEMO_SANDBOX_FILTER=off", 1);
    ASSERT_STR_HAS(out.out, "  sandbox   -     no seccomp filter: turned off "
                            "(CONCDEMO_SANDBOX_FILTER=off)\n");
}

/* SIGTERM and SIGINT from the program are ignored; its parent (the
 * supervisor) dies, and the check still ends with its own verdict. */
/* test: without the filter signals from the program are ignored */
static void without_the_filter_signals_from_the_program_are_ignored(void)
{
    check_ends("kill-parent", 0, "CONCDEMO_SANDBOX_FILTER=off", 1);
    ASSERT_STR_HAS(out.out, "FAIL race: failed:");
}

/* ============================== the progress ============================= */

/* The next tests wait out the start limit, or sleep past it: they run in
 * a suite that the runner counts among those that mostly wait. */
/* suite: hostile-wait; long */

/* The TSan build's run outlasts the start limit (its first checkout sleeps
 * 6 s, the limit is 3 s), having started at once: the stage judges the run
 * it made - the starter's race - and does not call it "not started".
 * (Before: a TSan run longer than the limit failed as one that never
 * reached its first stage, a slow decoy's at the default 10 s.) */
/* test: a TSan run longer than the start limit is judged */
static void a_tsan_run_longer_than_the_start_limit_is_judged(void)
{
    check_ends("slow-tsan-run", 1, "CONCDEMO_START_LIMIT=3", 1);
    expect(strstr(out.out, "  tsan      FAIL  ThreadSanitizer: data race") !=
           NULL);
    expect(strstr(out.out, "did not start") == NULL);
}

/* A constructor that never returns, at the default start limit, in a
 * log (not a terminal): a line of its own after 10 s, then the stop. */
/* test: in a log a slow start is stopped at 10 s, with a line */
static void in_a_log_a_slow_start_is_stopped_at_ten_seconds(void)
{
    check_ends("ctor-wait", 0, NULL, 1);
    ASSERT_STR_HAS(out.out, "  run       ... still running after 10 s\n");
    ASSERT_STR_HAS(out.out, "  run       FAIL  code of yours that runs "
                            "before main (a constructor?) did not finish "
                            "within 10 s: stopped\n");
}

/* On a terminal the line counts seconds in place ("\r  run  ... 3 s")
 * and is erased before the stage's verdict is printed. (The constructor
 * sleeps: the 10 s are waited out, not spent.) */
/* test: on a terminal the progress line counts in place */
static void on_a_terminal_the_progress_line_counts_in_place(void)
{
    const char *path = hostile("ctor-wait");
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    int master;
    fflush(NULL);
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        execl(concdemo_bin(), concdemo_bin(), "check", "race", "--file", path,
              "--no-tsan", (char *)NULL);
        _exit(127);
    }
    size_t len = 0;
    for (;;) {
        struct pollfd p = { .fd = master, .events = POLLIN };
        if (poll(&p, 1, LIMIT_MS) <= 0)
            break;
        ssize_t got = read(master, out.out + len, sizeof out.out - 1 - len);
        if (got <= 0)
            break; /* EIO: the terminal's last process ended */
        len += (size_t)got;
    }
    out.out[len] = '\0';
    close(master);
    int status;
    waitpid(pid, &status, 0);
    out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    out.pid = (int)pid;
    expect(out.exit_code == 1);
    expect_clean_end("ctor-wait", 1);
    /* A frame a second, each one "\r  run       ... N s " over the last
     * (counted, not matched by second: a loaded machine may skip one). */
    int frames = 0;
    const char *frame = "\r  run       ... ";
    for (const char *p = strstr(out.out, frame); p;
         p = strstr(p + 1, frame)) {
        char *end;
        long secs = strtol(p + strlen(frame), &end, 10);
        frames += secs >= 1 && secs <= 10 && strncmp(end, " s ", 3) == 0;
    }
    expect(frames >= 5);
    /* Erased (40 spaces between two returns) before the verdict. */
    ASSERT_STR_HAS(out.out, "\r                                        \r"
                            "  run       FAIL  code of yours");
    CU_ASSERT_PTR_NULL(strstr(out.out, "still running after"));
}

/* suite: hostile */

/* The explore stage on a terminal: the line is on stderr (stdout, a pipe
 * here, gets none of it) and counts the schedules the books hold, their
 * rate and the time left. philosophers' dfs outlasts a 6 s budget: with
 * 3 s, a loaded ASan run's supervisor once drew no frame of the stage. */
/* test: on a terminal the explore stage counts its schedules */
static void on_a_terminal_the_explore_stage_counts_its_schedules(void)
{
    const char *argv[] = { concdemo_bin(), "check", "philosophers", "--file",
                           "lessons/answers/philosophers.patch", "--no-tsan",
                           "--budget", "6", NULL };
    run_cmd_err_tty(&out, argv, LIMIT_MS);
    expect(out.exit_code == 0);
    const char *frame = "\r  explore   ... ";
    int frames = 0;
    for (const char *p = strstr(out.err, frame); p;
         p = strstr(p + 1, frame)) {
        char *end;
        long secs = strtol(p + strlen(frame), &end, 10), runs;
        if (secs < 1 || strncmp(end, " s, ", 4) != 0)
            continue;
        runs = strtol(end + 4, &end, 10);
        frames += runs > 0 && strncmp(end, " schedules, ", 12) == 0;
    }
    expect(frames >= 1);
    ASSERT_STR_HAS(out.err, "/s, up to ");
    CU_ASSERT_PTR_NULL(strchr(out.out, '\r'));
    CU_ASSERT_PTR_NULL(strstr(out.out, "still running after"));
    ASSERT_STR_HAS(out.out, "  explore   PASS");
}
