/*
 * harness.c - forked runs, forked test bodies, CUnit tests run in a forked
 * child, and command runs, all with time limits; waiting for registry
 * conditions.
 */
#define _XOPEN_SOURCE 700 /* putenv */

#include "harness.h"
#include "../lib/cd_detect.h"
#include "../lib/cd_exec.h"
#include "../lib/cd_sched.h"
#include "../lib/cd_trace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ======================= limits on a busy machine ======================== */

/* A test's time limit is a hang bound, not a speed target, and on a
 * machine whose runnable threads wait for a CPU (a CI runner beside other
 * jobs, busy loops, the suites' own runs at once) a correct child can need
 * several times its limit: beside three ASan suites in a loop and two busy
 * loops, two offload tests of the ASan runner hit their 15 s and 20 s. So at
 * its limit a child gets the limit again - at most MAX_STRETCH times - when
 * the machine was starved since the last look: the kernel's CPU pressure
 * (/proc/pressure/cpu, "some": time in which a runnable thread waited for
 * a CPU) grew by at least half the wall-clock time, or, without that file,
 * the load average was at least the number of CPUs. On a machine that
 * was not starved a hang is still reported at the limit. */
#define MAX_STRETCH 3

typedef struct limit {
    long long step_ms;   /* the test's limit */
    long long deadline;  /* now_ms() at which the child is killed */
    long long mark_ms;   /* the last look at the machine: when */
    long long mark_psi;  /* and its CPU pressure then (us), or -1 */
    int stretched;       /* times the limit was given again */
} limit_t;

/* Set while run_concdemo_until runs a command that is to be killed. */
static int kill_meant;

/* The "some" total of the CPU pressure, in microseconds; -1 without it. */
static long long cpu_pressure_us(void)
{
    char line[256];
    long long total = -1;
    FILE *f = fopen("/proc/pressure/cpu", "r");
    if (!f)
        return -1;
    if (fgets(line, sizeof line, f) && strncmp(line, "some ", 5) == 0) {
        const char *t = strstr(line, "total=");
        if (t)
            total = atoll(t + strlen("total="));
    }
    fclose(f);
    return total;
}

/* Without pressure figures: the 1-minute load average against the CPUs. */
static int loadavg_starved(void)
{
    double load = 0;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f)
        return 0;
    int ok = fscanf(f, "%lf", &load) == 1;
    fclose(f);
    return ok && load >= (double)(cpus > 0 ? cpus : 1);
}

static limit_t limit_begin(int limit_ms)
{
    long long now = now_ms();
    return (limit_t){ .step_ms = limit_ms, .deadline = now + limit_ms,
                      .mark_ms = now, .mark_psi = cpu_pressure_us() };
}

/* At the deadline: 1 if the child gets the limit again (above). */
static int limit_stretch(limit_t *l)
{
    if (kill_meant || l->stretched >= MAX_STRETCH)
        return 0;
    long long now = now_ms(), psi = cpu_pressure_us();
    int starved = l->mark_psi >= 0 && psi >= 0
                      ? (psi - l->mark_psi) / 1000 * 2 >= now - l->mark_ms
                      : loadavg_starved();
    l->mark_ms = now;
    l->mark_psi = psi;
    if (!starved)
        return 0;
    l->stretched++;
    l->deadline = now + l->step_ms;
    return 1;
}

/* Reads fds until both close or the limit passes; returns 0 on EOF of
 * both, -1 on timeout. */
static int drain(int fds[2], char *bufs[2], size_t caps[2], size_t lens[2],
                 limit_t *l)
{
    int open_fds = (fds[0] >= 0) + (fds[1] >= 0);
    while (open_fds > 0) {
        struct pollfd p[2];
        int n = 0, which[2];
        for (int i = 0; i < 2; i++)
            if (fds[i] >= 0) {
                p[n] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
                which[n++] = i;
            }
        long long left = l->deadline - now_ms();
        if (left <= 0 && !limit_stretch(l))
            return -1;
        if (left <= 0)
            continue;
        int rc = poll(p, (nfds_t)n, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return -1;
        if (rc == 0)
            continue; /* the deadline: stretched, or the end */
        for (int k = 0; k < n; k++) {
            if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int i = which[k];
            char tmp[4096];
            ssize_t got = read(fds[i], tmp, sizeof tmp);
            if (got <= 0) {
                close(fds[i]);
                fds[i] = -1;
                open_fds--;
                continue;
            }
            size_t room = caps[i] - lens[i];
            size_t take = (size_t)got < room ? (size_t)got : room;
            memcpy(bufs[i] + lens[i], tmp, take);
            lens[i] += take;
        }
    }
    return 0;
}

/* What a child killed at its limit had: "" or " (given 3 times: the
 * machine was busy)", for the message that says it was killed. */
static const char *stretch_note(const limit_t *l, char *buf, size_t size)
{
    buf[0] = '\0';
    if (l->stretched)
        snprintf(buf, size, " (given %d times: the machine was busy)",
                 l->stretched + 1);
    return buf;
}

/* A child about to be killed at its limit: where each of its threads is,
 * on stderr, when gdb is installed - so that the log of a rare hang (a CI
 * run's) says where it hung. Best effort: gdb gets GDB_LIMIT_S, a missing
 * gdb prints nothing, and the kill follows either way. */
#define GDB_LIMIT_S "30"

static void show_stacks(pid_t pid)
{
    char spid[24];
    snprintf(spid, sizeof spid, "%d", (int)pid);
    fflush(NULL);
    pid_t g = fork();
    if (g == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, STDIN_FILENO);
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execl("/bin/sh", "sh", "-c",
              "command -v gdb >/dev/null 2>&1 || exit 0; "
              "echo; echo \"  the threads of process $0 at its limit:\"; "
              "exec timeout " GDB_LIMIT_S " gdb -p \"$0\" -batch -nx -q "
              "-ex 'thread apply all bt 40' 2>&1",
              spid, (char *)NULL);
        _exit(127);
    }
    if (g > 0)
        while (waitpid(g, NULL, 0) < 0 && errno == EINTR)
            ;
}

/* Waits for pid; kills it first if it outlived the deadline. Returns the
 * wait status, or -1 if it had to be killed. */
static int reap(pid_t pid, int timed_out)
{
    int status = 0;
    if (timed_out) {
        if (!kill_meant)
            show_stacks(pid);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -1;
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

/* ======================= forked children, one shape ====================== */

/* What a forked child wrote back, and how it ended. */
typedef struct fork_out {
    char *buf;     /* what the child wrote to its pipe, up to cap bytes */
    size_t cap;    /* (more is read and dropped, so the child never blocks) */
    size_t len;
    int timed_out; /* killed at the limit */
    char note[64]; /* stretch_note's, when timed_out */
    int status;    /* its wait status; -1 if timed_out */
} fork_out_t;

/* Runs fn(arg, fd) in a forked child that ends with exit(fn's result), so
 * that a sanitizer judges the child alone (TSan exits 66 after a report,
 * ASan 1 after an error or a leak, LSan alone 23). What the child writes to fd is collected in o until
 * the child closes it; at limit_ms it is killed. Returns 0, or -1 if no
 * child could be started. */
static int fork_with_limit(int (*fn)(void *arg, int fd), void *arg,
                           fork_out_t *o, int limit_ms)
{
    int fd[2];
    o->len = 0;
    o->timed_out = 0;
    o->status = -1;
    if (pipe(fd) != 0)
        return -1;
    /* A command the child runs must not hold the pipe open after it. */
    fcntl(fd[0], F_SETFD, FD_CLOEXEC);
    fcntl(fd[1], F_SETFD, FD_CLOEXEC);
    fflush(NULL); /* or the child's exit() writes the buffers out again */
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        close(fd[0]);
        exit(fn(arg, fd[1]));
    }
    close(fd[1]);
    int fds[2] = { fd[0], -1 };
    char *bufs[2] = { o->buf, NULL };
    size_t caps[2] = { o->cap, 0 }, lens[2] = { 0, 0 };
    limit_t l = limit_begin(limit_ms);
    o->timed_out = drain(fds, bufs, caps, lens, &l) != 0;
    stretch_note(&l, o->note, sizeof o->note);
    if (fds[0] >= 0)
        close(fds[0]);
    o->len = lens[0];
    o->status = reap(pid, o->timed_out);
    return 0;
}

/* Writes all of buf to fd; 0, or -1 if the pipe broke. */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ============================== demo runs ================================ */

typedef struct demo_job {
    const cd_scenario_t *s;
    int variant;
    const cd_run_opts_t *opts;
} demo_job_t;

/* Child side of run_forked_opts: the run, its result down the pipe. */
static int demo_child(void *arg, int fd)
{
    const demo_job_t *j = arg;
    cd_run_result_t r;
    cd_run(j->s, j->variant, j->opts, &r);
    return write_all(fd, &r, sizeof r) == 0 ? 0 : 3;
}

void run_forked_many(const char *name, const char *variant,
                     const cd_run_opts_t *opts, int n, int limit_ms,
                     child_run_t *res)
{
    enum { MAX_AT_ONCE = 16 };
    const cd_scenario_t *s = cd_scenario_find(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    int v = cd_scenario_variant(s, variant);
    CU_ASSERT_FATAL(v >= 0);
    CU_ASSERT_FATAL(n > 0 && n <= MAX_AT_ONCE);
    demo_job_t job = { s, v, opts };
    pid_t pids[MAX_AT_ONCE];
    int fds[MAX_AT_ONCE];
    limit_t l = limit_begin(limit_ms); /* for all of them */
    char note[64];

    fflush(NULL); /* or each child's exit() writes the buffers out again */
    for (int i = 0; i < n; i++) {
        int fd[2];
        memset(&res[i], 0, sizeof res[i]);
        pids[i] = -1;
        fds[i] = -1;
        if (pipe(fd) != 0)
            continue;
        fcntl(fd[0], F_SETFD, FD_CLOEXEC);
        fcntl(fd[1], F_SETFD, FD_CLOEXEC);
        pids[i] = fork();
        if (pids[i] == 0) {
            /* The earlier children's read ends are this one's to close. */
            for (int k = 0; k <= i; k++)
                if (fds[k] >= 0)
                    close(fds[k]);
            close(fd[0]);
            exit(demo_child(&job, fd[1]));
        }
        close(fd[1]);
        if (pids[i] < 0)
            close(fd[0]);
        else
            fds[i] = fd[0];
    }
    /* A result is one write of a few KiB, under a pipe's buffer: no child
     * waits on this loop to end, so reading them in turn is fine. */
    for (int i = 0; i < n; i++) {
        CU_ASSERT_FATAL(pids[i] > 0);
        int one[2] = { fds[i], -1 };
        char *bufs[2] = { (char *)&res[i].r, NULL };
        size_t caps[2] = { sizeof res[i].r, 0 }, lens[2] = { 0, 0 };
        int timed_out = drain(one, bufs, caps, lens, &l) != 0;
        if (one[0] >= 0)
            close(one[0]);
        int status = reap(pids[i], timed_out);
        res[i].finished = !timed_out && lens[0] == sizeof res[i].r &&
                          status >= 0 && WIFEXITED(status);
        res[i].exit_code = res[i].finished ? WEXITSTATUS(status) : -1;
        if (!res[i].finished)
            fprintf(stderr, "\n  %s [%s]%s: the child %s%s\n", name,
                    variant, n > 1 ? ", one of the runs at once" : "",
                    timed_out ? "hit the time limit"
                              : "did not finish cleanly",
                    timed_out ? stretch_note(&l, note, sizeof note) : "");
    }
}

child_run_t run_forked_opts(const char *name, const char *variant,
                            const cd_run_opts_t *opts, int limit_ms)
{
    child_run_t res;
    run_forked_many(name, variant, opts, 1, limit_ms, &res);
    return res;
}

/* run_forked's options: the scenario's defaults but for threads and
 * iterations (0: the default), latency as written, and the run's own
 * limit half a second inside the child's. */
static cd_run_opts_t forked_opts(const char *name, int threads,
                                 int iterations, int limit_ms)
{
    const cd_scenario_t *s = cd_scenario_find(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    cd_run_opts_t o = {
        .params = s->defaults,
        .timeout_ms = limit_ms > 1000 ? limit_ms - 500 : limit_ms,
        .latency_permille = 1000,
    };
    if (threads)
        o.params.threads = threads;
    if (iterations)
        o.params.iterations = iterations;
    return o;
}

child_run_t run_forked(const char *name, const char *variant, int threads,
                       int iterations, int limit_ms)
{
    cd_run_opts_t o = forked_opts(name, threads, iterations, limit_ms);
    return run_forked_opts(name, variant, &o, limit_ms);
}

cd_run_opts_t scenario_opts(const char *name, int iterations, int workers,
                            int permille, int limit_ms)
{
    const cd_scenario_t *s = cd_scenario_find(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    cd_run_opts_t o = {
        .params = s->defaults,
        .timeout_ms = limit_ms - 2000,
        .latency_permille = permille,
    };
    if (iterations)
        o.params.iterations = iterations;
    if (workers)
        o.params.workers = workers;
    return o;
}

child_run_t expect_broken_without_latency(const char *name, int threads,
                                          int iterations, int one, int other,
                                          int limit_ms)
{
    cd_run_opts_t o = { .params = { .threads = threads,
                                    .iterations = iterations },
                        .timeout_ms = 5000, .latency_permille = 0 };
    child_run_t c = run_forked_opts(name, "broken", &o, limit_ms);
    CU_ASSERT_TRUE_FATAL(c.finished);
    if (c.r.verdict.status != one && c.r.verdict.status != other)
        fprintf(stderr, "\n  %s without latency: status %d, want %d or %d\n",
                name, c.r.verdict.status, one, other);
    CU_ASSERT_TRUE(c.r.verdict.status == one || c.r.verdict.status == other);
    return c;
}

child_run_t run_workers_forked(const char *name, const char *variant,
                               int workers, int permille, int limit_ms)
{
    cd_run_opts_t o = scenario_opts(name, 0, workers, permille, limit_ms);
    return run_forked_opts(name, variant, &o, limit_ms);
}

child_run_t expect_broken_on_one_worker_without_latency(const char *name,
                                                        int limit_ms)
{
    child_run_t c = run_workers_forked(name, "broken", 1, 0, limit_ms);
    CU_ASSERT_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, CD_VIOLATED);
    return c;
}

cd_sched_cfg_t sched_cfg(int strategy, uint64_t seed)
{
    cd_sched_cfg_t cfg = { .strategy = strategy, .seed = seed, .depth = 3,
                           .max_steps = CD_SCHED_DEFAULT_STEPS };
    return cfg;
}

child_run_t run_controlled_forked(const char *name, const char *variant,
                                  const cd_sched_cfg_t *cfg,
                                  cd_params_t params, int limit_ms)
{
    cd_run_opts_t o = { .params = params, .timeout_ms = limit_ms - 2000,
                        .latency_permille = 1000, .sched = cfg };
    return run_forked_opts(name, variant, &o, limit_ms);
}

child_run_t run_seeded_forked(const char *name, const char *variant,
                              int strategy, uint64_t seed, int limit_ms)
{
    const cd_scenario_t *s = cd_scenario_find(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    cd_sched_cfg_t cfg = sched_cfg(strategy, seed);
    return run_controlled_forked(name, variant, &cfg, s->defaults, limit_ms);
}

void expect_same_run_twice(const child_run_t *a, const child_run_t *b,
                           int status)
{
    CU_ASSERT_TRUE_FATAL(a->finished && b->finished);
    ASSERT_INT_EQ(a->r.verdict.status, status);
    CU_ASSERT_TRUE(a->r.schedule[0] != '\0');
    CU_ASSERT_STRING_EQUAL(a->r.schedule, b->r.schedule);
    CU_ASSERT_STRING_EQUAL(a->r.verdict.observed, b->r.verdict.observed);
}

child_run_t expect_seeded_run_repeats(const char *name, const char *variant,
                                      int strategy, uint64_t seed,
                                      int status, int limit_ms)
{
    child_run_t a = run_seeded_forked(name, variant, strategy, seed, limit_ms);
    child_run_t b = run_seeded_forked(name, variant, strategy, seed, limit_ms);
    expect_same_run_twice(&a, &b, status);
    return a;
}

/* ================== bodies that run in a forked child ==================== */

/* What the failing check in a child said; sent to the parent. */
static char why[512];

int fail(int line, const char *what, const char *detail)
{
    snprintf(why, sizeof why, "line %d: %s%s", line, what, detail);
    return 1;
}

typedef struct body_job {
    int (*body)(void);
} body_job_t;

/* Child side of passes_in_child: the body, and why it failed if it did. */
static int body_child(void *arg, int fd)
{
    int rc = ((const body_job_t *)arg)->body();
    if (rc != 0 && write_all(fd, why, strlen(why)) != 0)
        return 2;
    return rc == 0 ? 0 : 1;
}

int passes_in_child(const char *name, int (*body)(void), int limit_ms)
{
    char msg[sizeof why];
    body_job_t job = { body };
    fork_out_t o = { .buf = msg, .cap = sizeof msg - 1 };

    if (fork_with_limit(body_child, &job, &o, limit_ms) != 0)
        return 0;
    msg[o.len] = '\0';
    if (o.timed_out)
        fprintf(stderr, "\n  %s: hung, killed at the %d ms limit%s\n", name,
                limit_ms, o.note);
    else if (WIFSIGNALED(o.status))
        fprintf(stderr, "\n  %s: child died of signal %d\n", name,
                WTERMSIG(o.status));
    else if (WEXITSTATUS(o.status) != 0)
        fprintf(stderr, "\n  %s: %s (child exit %d)\n", name,
                o.len ? msg : "failed", WEXITSTATUS(o.status));
    return !o.timed_out && WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0;
}

/* ================= CUnit tests whose body runs in a child ================ */

/*
 * The parent registers one function, forked_test, for every such test and
 * finds the real body by the test CUnit is running. The child runs the
 * body with CUnit's assertions as usual, then reports on its pipe, one
 * record a line:
 *   F<line>\t<file>\t<condition>   an assertion of this test that failed
 *   P<count>                       how many of its assertions passed
 *   E                              the body ended (returned, or a _FATAL
 *                                  assertion ended it)
 * and the parent raises each failure again as its own, so the named test
 * fails with the child's file:line.
 */
#define FORKED_MAX 128     /* tests registered this way, in all suites */
#define REPORT_MAX 100     /* failure records one child sends in full */

static struct {
    CU_pTest test;
    CU_TestFunc body;
} forked[FORKED_MAX];
static int nforked;

static char report[128 * 1024]; /* REPORT_MAX lines of at most ~1 KiB */

/* One line for the pipe: tabs and newlines in s become spaces. */
static void flatten(char *dst, size_t cap, const char *s)
{
    size_t n = 0;
    for (; s && *s && n + 1 < cap; s++)
        dst[n++] = (*s == '\t' || *s == '\n') ? ' ' : *s;
    dst[n] = '\0';
}

typedef struct forked_job {
    CU_TestFunc body;
} forked_job_t;

/* Child side of forked_test: the body under CUnit, then the report. */
static int forked_child(void *arg, int fd)
{
    CU_pTest t = CU_get_current_test();
    unsigned before = CU_get_number_of_asserts();
    jmp_buf jb;
    char line[1200], file[256], cond[900];

    /* A _FATAL assertion jumps to the test's jump buffer. CUnit's points
     * into its own runner, which the child must not go back into (it
     * would run the rest of the suite): point it here instead. */
    t->pJumpBuf = &jb;
    if (setjmp(jb) == 0)
        ((const forked_job_t *)arg)->body();
    t->pJumpBuf = NULL;

    unsigned failed = 0;
    for (CU_pFailureRecord f = CU_get_failure_list(); f; f = f->pNext) {
        if (f->pTest != t)
            continue; /* earlier tests' records, copied from the parent */
        if (++failed > REPORT_MAX)
            continue;
        flatten(file, sizeof file, f->strFileName);
        flatten(cond, sizeof cond, f->strCondition);
        int n = snprintf(line, sizeof line, "F%u\t%s\t%s\n", f->uiLineNumber,
                         file, cond);
        if (write_all(fd, line, (size_t)n) != 0)
            return 2;
    }
    int n = 0;
    if (failed > REPORT_MAX)
        n = snprintf(line, sizeof line, "F%d\t%s\t%u more failures not sent\n",
                     __LINE__, __FILE__, failed - REPORT_MAX);
    n += snprintf(line + n, sizeof line - (size_t)n, "P%u\nE\n",
                  CU_get_number_of_asserts() - before - failed);
    return write_all(fd, line, (size_t)n) == 0 ? 0 : 2;
}

/* Raises the child's report as this test's own assertions; returns 1 if
 * the report says the body ended. */
static int raise_report(char *text)
{
    unsigned long passed = 0;
    int ended = 0;
    for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = '\0';
        char *file = strchr(line, '\t');
        char *cond = file ? strchr(file + 1, '\t') : NULL;
        if (line[0] == 'F' && cond) {
            *file++ = '\0';
            *cond++ = '\0';
            CU_assertImplementation(CU_FALSE,
                                    (unsigned)strtoul(line + 1, NULL, 10),
                                    cond, file, "", CU_FALSE);
        } else if (line[0] == 'P') {
            passed = strtoul(line + 1, NULL, 10);
        } else if (line[0] == 'E') {
            ended = 1;
        }
    }
    /* The child's passing assertions count here too, as they did when
     * these tests ran in this process. */
    for (unsigned long i = 0; i < passed; i++)
        CU_assertImplementation(CU_TRUE, __LINE__, "", __FILE__, "", CU_FALSE);
    return ended;
}

/* The one function CUnit calls for every test add_forked_test added. */
static void forked_test(void)
{
    CU_pTest t = CU_get_current_test();
    forked_job_t job = { NULL };
    for (int i = 0; i < nforked; i++)
        if (forked[i].test == t)
            job.body = forked[i].body;
    CU_ASSERT_PTR_NOT_NULL_FATAL(job.body);

    fork_out_t o = { .buf = report, .cap = sizeof report - 1 };
    CU_ASSERT_FATAL(fork_with_limit(forked_child, &job, &o,
                                    FORKED_LIMIT_MS) == 0);
    report[o.len] = '\0';
    int ended = raise_report(report);

    char what[200];
    int code = o.status >= 0 && WIFEXITED(o.status) ? WEXITSTATUS(o.status)
                                                    : -1;
    if (o.timed_out)
        snprintf(what, sizeof what, "timed out after %d ms (killed)%s",
                 FORKED_LIMIT_MS, o.note);
    else if (WIFSIGNALED(o.status))
        snprintf(what, sizeof what, "the child died of signal %d (%s)",
                 WTERMSIG(o.status), strsignal(WTERMSIG(o.status)));
    else if (code != 0)
        snprintf(what, sizeof what, "the child exited with %d%s", code,
                 code == 66 ? " (ThreadSanitizer's code: a report above)"
                            : " (a sanitizer's report, if any, is above)");
    else if (!ended)
        snprintf(what, sizeof what, "the child exited before the test ended");
    else
        return;
    fprintf(stderr, "\n  %s: %s\n", t->pName, what);
    CU_assertImplementation(CU_FALSE, __LINE__, what, __FILE__, "", CU_FALSE);
}

CU_pTest add_forked_test(CU_pSuite s, const char *name, CU_TestFunc body)
{
    if (nforked == FORKED_MAX) {
        fprintf(stderr, "harness: over %d forked tests (FORKED_MAX)\n",
                FORKED_MAX);
        abort(); /* a runner that cannot run its suites as written */
    }
    CU_pTest t = CU_add_test(s, name, forked_test);
    if (t) {
        forked[nforked].test = t;
        forked[nforked++].body = body;
    }
    return t;
}

/* ======================= watching the registry =========================== */

cd_snapshot_t *snap(void)
{
    static cd_snapshot_t *s;
    if (!s)
        s = malloc(sizeof *s);
    if (!s)
        abort();
    return s;
}

cd_snapshot_t *take_snapshot(void)
{
    cd_reg_snapshot(snap());
    return snap();
}

int trace_events(const cd_trace_event_t **ev)
{
    static cd_trace_event_t *buf;
    uint64_t total;

    if (!buf && !(buf = malloc(CD_TRACE_CAP * sizeof *buf)))
        abort();
    *ev = buf;
    int n = cd_trace_read(buf, CD_TRACE_CAP, &total);
    if (n < 0)
        abort();
    return n;
}

const cd_thread_info_t *tinfo(const cd_snapshot_t *s, int id)
{
    return (id > 0 && id <= s->nthreads) ? &s->threads[id - 1] : NULL;
}

const cd_obj_info_t *oinfo(const cd_snapshot_t *s, int id)
{
    return (id > 0 && id <= s->nobjs) ? &s->objs[id - 1] : NULL;
}

int await(snap_cond ok, int a, int b)
{
    int64_t end = cd_now_ns() + (int64_t)POLL_LIMIT_MS * 1000000;
    for (;;) {
        if (ok(take_snapshot(), a, b))
            return 1;
        if (cd_now_ns() > end)
            return 0;
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    }
}

int is_blocked_on(const cd_snapshot_t *s, int thread, int obj)
{
    const cd_thread_info_t *t = tinfo(s, thread);
    return t && t->state == CD_T_BLOCKED && t->waiting_on == obj;
}

int is_in_state(const cd_snapshot_t *s, int thread, int state)
{
    const cd_thread_info_t *t = tinfo(s, thread);
    return t && t->state == state;
}

static void *plain_call_main(void *p)
{
    plain_call_t *c = p;
    c->rc = c->call(c->arg);
    return NULL;
}

int plain_call_start(plain_call_t *c, int (*call)(void *arg), void *arg)
{
    c->call = call;
    c->arg = arg;
    c->rc = -1;
    return pthread_create(&c->t, NULL, plain_call_main, c);
}

int plain_call_join(plain_call_t *c)
{
    return pthread_join(c->t, NULL);
}

int start_blocked_on_held(cd_mutex_t *lock, const char *lock_name,
                          cd_thread_t *t, const char *who, cd_thread_fn fn,
                          void *arg)
{
    EXPECT_EQ(cd_mutex_init(lock, lock_name), 0);
    EXPECT_EQ(cd_mutex_lock(lock), 0);
    EXPECT_EQ(cd_thread_spawn(t, who, fn, arg), 0);
    EXPECT(await(is_blocked_on, t->id, lock->id));
    return 0;
}

int fds_open_in(pid_t pid)
{
    char path[64], target[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        ssize_t len = readlinkat(dirfd(d), e->d_name, target,
                                 sizeof target - 1);
        /* Gone since the listing: closed, so not held. The watchdog opens
         * and closes /proc files many times a second, so this happens. */
        if (len <= 0)
            continue;
        target[len] = '\0';
        n += strncmp(target, "/proc/", 6) != 0; /* this directory too */
    }
    closedir(d);
    return n;
}

int open_fds(void)
{
    return fds_open_in(getpid());
}

int live_tasks(void)
{
    cd_snapshot_t *snapshot = snap();
    cd_reg_snapshot(snapshot);
    int live = 0;
    for (int i = 0; i < snapshot->nthreads; i++) {
        int st = snapshot->threads[i].state;
        live += st == CD_T_PARKED || st == CD_T_READY || st == CD_T_BLOCKED;
    }
    return live;
}

/* ========================== running the binary =========================== */

/* The end of a command run: its stdout and stderr read from out_fd and
 * err_fd (closed after) until both end or limit_ms passes, then its exit
 * code; name says which command was killed at the limit. */
static void collect(cmd_out_t *o, int out_fd, int err_fd, pid_t pid,
                    const char *name, int limit_ms)
{
    int fds[2] = { out_fd, err_fd };
    char *bufs[2] = { o->out, o->err };
    size_t caps[2] = { sizeof o->out - 1, sizeof o->err - 1 };
    size_t lens[2] = { 0, 0 };
    limit_t l = limit_begin(limit_ms);
    char note[64];
    int timed_out = drain(fds, bufs, caps, lens, &l) != 0;
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    o->out[lens[0]] = '\0';
    o->err[lens[1]] = '\0';
    int status = reap(pid, timed_out);
    if (status >= 0 && WIFEXITED(status))
        o->exit_code = WEXITSTATUS(status);
    if (timed_out && !kill_meant)
        fprintf(stderr, "\n  %s: killed at the %d ms limit%s\n", name,
                limit_ms, stretch_note(&l, note, sizeof note));
}

void run_cmd(cmd_out_t *o, const char *const argv[], const char *env,
             int limit_ms)
{
    run_cmd_input(o, argv, env, NULL, limit_ms);
}

void run_cmd_input(cmd_out_t *o, const char *const argv[], const char *env,
                   const char *input, int limit_ms)
{
    int out[2], err[2], in[2] = { -1, -1 };
    memset(o, 0, sizeof *o);
    o->exit_code = -1;
    if (pipe(out) != 0 || pipe(err) != 0 || (input && pipe(in) != 0))
        return;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return;
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]);
        close(err[0]);
        close(out[1]);
        close(err[1]);
        if (input) {
            dup2(in[0], 0);
            close(in[0]);
            close(in[1]);
        } else {
            int devnull = open("/dev/null", O_RDONLY);
            if (devnull >= 0)
                dup2(devnull, 0);
        }
        if (env) {
            char name[128];
            const char *eq = strchr(env, '=');
            size_t n = eq ? (size_t)(eq - env) : 0;
            if (eq && n < sizeof name) {
                memcpy(name, env, n);
                name[n] = '\0';
                setenv(name, eq + 1, 1);
            }
        }
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    o->pid = (int)pid;
    close(out[1]);
    close(err[1]);
    if (input) {
        /* Small scripts fit in the pipe buffer: write all, then EOF. */
        close(in[0]);
        size_t left = strlen(input);
        while (left > 0) {
            ssize_t n = write(in[1], input, left);
            if (n <= 0)
                break;
            input += n;
            left -= (size_t)n;
        }
        close(in[1]);
    }
    collect(o, out[0], err[0], pid, argv[0], limit_ms);
}

int judged_on_the_clock(const char *scenario)
{
    return strcmp(scenario, "offload") == 0;
}

/* One command of run_cmds, run by a worker process of its own: run_cmd's
 * output goes to `fd` (an unlinked file of the caller's) as the exit code
 * and the two streams, each NUL-terminated. */
static void cmds_worker(const cmd_spec_t *c, int limit_ms, int fd)
{
    static cmd_out_t o;
    run_cmd(&o, c->argv, c->env, limit_ms);
    FILE *f = fdopen(fd, "w");
    int ok = f && fwrite(&o.exit_code, sizeof o.exit_code, 1, f) == 1 &&
             fwrite(o.out, 1, strlen(o.out) + 1, f) == strlen(o.out) + 1 &&
             fwrite(o.err, 1, strlen(o.err) + 1, f) == strlen(o.err) + 1;
    _exit(f && fclose(f) == 0 && ok ? 0 : 1);
}

/* Reads back what cmds_worker wrote to fd into o (exit -1 when the worker
 * could not say). */
static void cmds_read(int fd, int status, cmd_out_t *o)
{
    memset(o, 0, sizeof *o);
    o->exit_code = -1;
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return;
    }
    rewind(f);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
        fread(&o->exit_code, sizeof o->exit_code, 1, f) == 1) {
        char *bufs[2] = { o->out, o->err };
        size_t caps[2] = { sizeof o->out, sizeof o->err };
        for (int s = 0; s < 2; s++) {
            size_t n = 0;
            int ch;
            while ((ch = getc(f)) != EOF && ch != '\0' && n + 1 < caps[s])
                bufs[s][n++] = (char)ch;
            bufs[s][n] = '\0';
        }
    }
    fclose(f);
}

/* Waits until one of the running workers ends; returns its slot. Each
 * holds the write end of a pipe of its slot until it exits, so the read
 * ends say which ended without waiting for children that are not ours. */
typedef struct cmds_slot {
    pid_t pid;
    int fd, i, ended; /* ended: the read end of the worker's pipe */
} cmds_slot_t;

static int cmds_wait(cmds_slot_t *live, int jobs, int *status)
{
    struct pollfd p[64];
    int at[64], np = 0;
    for (int k = 0; k < jobs && np < 64; k++)
        if (live[k].pid > 0) {
            p[np] = (struct pollfd){ .fd = live[k].ended, .events = POLLIN };
            at[np++] = k;
        }
    for (;;) {
        if (poll(p, (nfds_t)np, -1) < 0 && errno != EINTR)
            return -1;
        for (int j = 0; j < np; j++)
            if (p[j].revents) {
                int k = at[j];
                while (waitpid(live[k].pid, status, 0) < 0 && errno == EINTR)
                    ;
                close(live[k].ended);
                return k;
            }
    }
}

int run_cmds(const cmd_spec_t *cmds, int n, int jobs, int limit_ms,
             cmd_done_fn done, void *arg)
{
    jobs = jobs < 1 ? 1 : jobs > 64 ? 64 : jobs; /* cmds_wait polls 64 */
    cmds_slot_t *live = calloc((size_t)jobs, sizeof *live);
    cmd_out_t *o = malloc(sizeof *o);
    int next = 0, running = 0, rc = 0;
    if (!live || !o) {
        free(live);
        free(o);
        return -ENOMEM;
    }
    while (next < n || running > 0) {
        for (int k = 0; k < jobs && next < n; k++) {
            if (live[k].pid > 0)
                continue;
            char path[] = "/tmp/concdemo-cmds-XXXXXX";
            int fd = mkstemp(path), ended[2] = { -1, -1 };
            pid_t pid = -1;
            if (fd >= 0 && pipe(ended) == 0) {
                unlink(path);
                fflush(NULL);
                pid = fork();
            }
            if (pid == 0) {
                /* The command must not hold the pipe: a process it leaves
                 * behind would keep its worker looking alive. */
                close(ended[0]);
                fcntl(ended[1], F_SETFD, FD_CLOEXEC);
                fcntl(fd, F_SETFD, FD_CLOEXEC);
                cmds_worker(&cmds[next], limit_ms, fd);
            }
            if (ended[1] >= 0)
                close(ended[1]);
            if (pid < 0) {
                rc = errno ? -errno : -EIO;
                if (fd >= 0) {
                    unlink(path);
                    close(fd);
                }
                if (ended[0] >= 0)
                    close(ended[0]);
                next = n; /* start no more; wait for those running */
                break;
            }
            live[k] = (cmds_slot_t){ pid, fd, next++, ended[0] };
            running++;
        }
        if (running == 0)
            break;
        int status = 0, k = cmds_wait(live, jobs, &status);
        if (k < 0)
            break;
        cmds_read(live[k].fd, status, o);
        done(live[k].i, o, arg);
        live[k].pid = 0;
        running--;
    }
    free(live);
    free(o);
    return rc;
}

void run_cmd_err_tty(cmd_out_t *o, const char *const argv[], int limit_ms)
{
    int out[2], master, slave;
    struct termios t;
    memset(o, 0, sizeof *o);
    o->exit_code = -1;
    if (openpty(&master, &slave, NULL, NULL, NULL) != 0)
        return;
    /* "\n" stays "\n": what the program wrote, byte for byte. */
    if (tcgetattr(slave, &t) == 0) {
        t.c_oflag &= ~(tcflag_t)OPOST;
        tcsetattr(slave, TCSANOW, &t);
    }
    if (pipe(out) != 0) {
        close(master);
        close(slave);
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(slave, 2);
        close(out[0]);
        close(out[1]);
        close(master);
        close(slave);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    close(slave);
    if (pid < 0) {
        close(out[0]);
        close(master);
        return;
    }
    o->pid = (int)pid;
    /* The master reads EIO once the program's side is closed: its end. */
    collect(o, out[0], master, pid, argv[0], limit_ms);
}

/* Each loop dies with the runner, should the runner itself be killed
 * before it can kill them. */
int start_busy_loops(pid_t *pids, int max)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus < 1 ? 1 : cpus > max ? max : (int)cpus;
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            for (volatile unsigned long k = 0;; k++)
                ;
        }
        if (pids[i] < 0)
            return i;
    }
    return n;
}

/* A starved run: at nice STARVED_NICE beside one busy loop per CPU at the
 * runner's own, whose weight is about ten times its own - on an idle
 * machine it waits for a CPU most of the time. Not lower: a loaded
 * machine (CI's runners) adds loops and suites at the runner's nice, and
 * a run at 19 (a weight 70 times smaller) then got almost nothing, so
 * that an ASan run did not end within a minute. */
#define STARVED_NICE "10"

enum { STARVED_MAX_ARGS = 64 };

/* argv run at a lower priority: "nice -n NICE argv..." into wrapped (at
 * least STARVED_MAX_ARGS + 4 words). nice: STARVED_NICE or BUSY_NICE. */
#define BUSY_NICE "5"
static void at_nice(const char *nice, const char *const argv[],
                    const char **wrapped)
{
    int n = 0;
    wrapped[0] = "nice";
    wrapped[1] = "-n";
    wrapped[2] = nice;
    while (argv[n] && n < STARVED_MAX_ARGS) {
        wrapped[3 + n] = argv[n];
        n++;
    }
    wrapped[3 + n] = NULL;
}

void run_cmd_starved(cmd_out_t *o, const char *const argv[], const char *env,
                     int limit_ms)
{
    enum { MAX_LOOPS = 64 };
    const char *wrapped[STARVED_MAX_ARGS + 4];
    pid_t loops[MAX_LOOPS];

    at_nice(STARVED_NICE, argv, wrapped);
    int busy = start_busy_loops(loops, MAX_LOOPS);
    run_cmd(o, wrapped, env, limit_ms);
    stop_busy_loops(loops, busy);
}

/* cmds all at once, each at nice `nice`, beside one busy loop per CPU
 * at the runner's nice. */
static int run_cmds_beside_loops(const char *nice, const cmd_spec_t *cmds,
                                 int n, int limit_ms, cmd_done_fn done,
                                 void *arg)
{
    enum { MAX_LOOPS = 64, MAX_CMDS = 16 };
    static const char *wrapped[MAX_CMDS][STARVED_MAX_ARGS + 4];
    cmd_spec_t niced[MAX_CMDS];
    pid_t loops[MAX_LOOPS];

    if (n > MAX_CMDS)
        return -EINVAL;
    for (int i = 0; i < n; i++) {
        at_nice(nice, cmds[i].argv, wrapped[i]);
        niced[i] = (cmd_spec_t){ wrapped[i], cmds[i].env };
    }
    int busy = start_busy_loops(loops, MAX_LOOPS);
    int rc = run_cmds(niced, n, n, limit_ms, done, arg);
    stop_busy_loops(loops, busy);
    return rc;
}

int run_cmds_starved(const cmd_spec_t *cmds, int n, int limit_ms,
                     cmd_done_fn done, void *arg)
{
    return run_cmds_beside_loops(STARVED_NICE, cmds, n, limit_ms, done,
                                 arg);
}

int run_cmds_busy(const cmd_spec_t *cmds, int n, int limit_ms,
                  cmd_done_fn done, void *arg)
{
    return run_cmds_beside_loops(BUSY_NICE, cmds, n, limit_ms, done, arg);
}

void stop_busy_loops(const pid_t *pids, int n)
{
    for (int i = 0; i < n; i++) {
        kill(pids[i], SIGKILL);
        waitpid(pids[i], NULL, 0);
    }
}

const char *concdemo_bin(void)
{
    const char *p = getenv("CONCDEMO");
    return p && *p ? p : "build/concdemo";
}

const char *concdemo_tsan_bin(void)
{
    const char *p = getenv("CONCDEMO_TSAN");
    return p && *p ? p : "build/tsan/concdemo";
}

void twice_in_both_builds(both_builds_t *b, const char *const args[],
                          const char *env)
{
    const char *bins[] = { concdemo_bin(), concdemo_tsan_bin() };
    for (int i = 0; i < 4; i++) {
        const char *bin = bins[i / 2];
        if (access(bin, X_OK) != 0)
            fprintf(stderr, "\n  no binary at %s\n", bin);
        CU_ASSERT_TRUE_FATAL(access(bin, X_OK) == 0);
        int n = 0;
        b->argv[i][n++] = bin;
        for (int k = 0; args[k]; k++) {
            CU_ASSERT_FATAL(k < BOTH_MAX_ARGS);
            b->argv[i][n++] = args[k];
        }
        b->argv[i][n] = NULL;
        b->cmds[i] = (cmd_spec_t){ b->argv[i], env };
    }
}

int count_lines(const char *s)
{
    int n = 0;
    for (const char *p = s; *p; p++)
        if (*p == '\n' || p[1] == '\0')
            n++;
    return n;
}

void require_tsan_bin(void)
{
    if (access(concdemo_tsan_bin(), X_OK) != 0)
        fprintf(stderr, "\n  no TSan binary at %s (make tsan-bin)\n",
                concdemo_tsan_bin());
    CU_ASSERT_TRUE_FATAL(access(concdemo_tsan_bin(), X_OK) == 0);
}

void expect_no_tsan_report(const cmd_out_t *o, const char *what,
                           int exit_code)
{
    if (strstr(o->err, "ThreadSanitizer"))
        fprintf(stderr, "\n  %s:\n%.3000s\n", what, o->err);
    CU_ASSERT_PTR_NULL(strstr(o->err, "ThreadSanitizer"));
    ASSERT_INT_EQ(o->exit_code, exit_code);
}

void run_concdemo(cmd_out_t *o, const char *const args[], const char *env,
                  int limit_ms)
{
    const char *argv[16] = { concdemo_bin() };
    for (int i = 0; args[i] && i < 14; i++)
        argv[i + 1] = args[i];
    run_cmd(o, argv, env, limit_ms);
}

void run_concdemo_until(cmd_out_t *o, const char *const args[], int stop_ms)
{
    kill_meant = 1;
    run_concdemo(o, args, NULL, stop_ms);
    kill_meant = 0;
}

void expect_concdemo(cmd_out_t *o, const char *const args[], int exit_code,
                     const char *out_has, const char *err_has, int limit_ms)
{
    run_concdemo(o, args, NULL, limit_ms);
    int ok = o->exit_code == exit_code &&
             (!out_has || strstr(o->out, out_has)) &&
             (!err_has || strstr(o->err, err_has));
    if (!ok) {
        fprintf(stderr, "\n  concdemo");
        for (int i = 0; args[i]; i++)
            fprintf(stderr, " %s", args[i]);
        fprintf(stderr, ":");
    }
    ASSERT_INT_EQ(o->exit_code, exit_code);
    if (out_has)
        ASSERT_STR_HAS(o->out, out_has);
    if (err_has)
        ASSERT_STR_HAS(o->err, err_has);
}

const char *line_after(const char *text, const char *prefix, char *buf,
                       size_t size)
{
    const char *p = strstr(text, prefix);
    if (!p)
        return NULL;
    p += strlen(prefix);
    snprintf(buf, size, "%.*s", (int)strcspn(p, "\n"), p);
    return buf;
}

void expect_printed_run_repeats(cmd_out_t *o, char *line, const char *extra,
                                const char *verdict, const char *env,
                                int limit_ms)
{
    /* Run as a learner pastes it: the program too, word for word. */
    const char *argv[16];
    int argc = 0;
    for (char *tok = strtok(line, " "); tok && argc < 14;
         tok = strtok(NULL, " "))
        argv[argc++] = tok;
    if (extra)
        argv[argc++] = extra;
    argv[argc] = NULL;
    run_cmd(o, argv, env, limit_ms);
    ASSERT_INT_EQ(o->exit_code, 1);
    ASSERT_STR_HAS(o->out, verdict);
}

void expect_explore_found(const cmd_out_t *o, const char *verdict_prefix,
                          explore_found_t *f)
{
    ASSERT_INT_EQ(o->exit_code, 1);
    ASSERT_STR_HAS(o->out, "violation found after");
    CU_ASSERT_PTR_NOT_NULL_FATAL(line_after(o->out, verdict_prefix,
                                            f->verdict, sizeof f->verdict));
    CU_ASSERT_PTR_NOT_NULL_FATAL(line_after(o->out, "replay: ", f->replay,
                                            sizeof f->replay));
}

void expect_each_fix_explores_clean(const char *scenario,
                                    const char *const fixes[],
                                    const char *const args[],
                                    const char *held, const char *env,
                                    int limit_ms)
{
    cmd_out_t *o = malloc(sizeof *o); /* half a MiB: not on the stack */
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    for (int i = 0; fixes[i]; i++) {
        const char *argv[14] = { "explore", scenario, fixes[i] };
        int n = 3, budgeted = 0;
        for (int k = 0; args[k] && n < 12; k++) {
            argv[n++] = args[k];
            budgeted |= !strncmp(args[k], "--budget", 8);
        }
        /* An exhaustive search must not end on explore's 30 s default:
         * under TSan on a busy machine it runs a few dozen schedules a
         * second. It gets the test's own limit, less time to report. */
        char budget[32];
        snprintf(budget, sizeof budget, "--budget=%d",
                 limit_ms > 10000 ? limit_ms / 1000 - 5 : 5);
        if (!budgeted)
            argv[n++] = budget;
        run_concdemo(o, argv, env, limit_ms);
        if (o->exit_code != 0 || !strstr(o->out, held)) {
            fprintf(stderr, "\n  explore %s %s", scenario, fixes[i]);
            for (int k = 0; args[k]; k++)
                fprintf(stderr, " %s", args[k]);
            fprintf(stderr, ":\n%.1500s\n", o->out);
        }
        ASSERT_INT_EQ(o->exit_code, 0);
        ASSERT_STR_HAS(o->out, held);
    }
    free(o);
}

void dfs_tried(char *buf, size_t size, int bound)
{
    snprintf(buf, size, "every schedule with at most %d preemption%s tried",
             bound, bound == 1 ? "" : "s");
}

void expect_fixes_hold_under_explore(const char *scenario,
                                     const char *const fixes[], int pct_runs,
                                     int bound, const char *env,
                                     int limit_ms)
{
    char runs[32], preempt[32], tried[96];
    pct_runs = TSAN_SMALLER(pct_runs, 20);
    bound = TSAN_SMALLER(bound, 1);
    snprintf(runs, sizeof runs, "--runs=%d", pct_runs);
    snprintf(preempt, sizeof preempt, "--bound=%d", bound);
    dfs_tried(tried, sizeof tried, bound);
    const char *pct[] = { runs, NULL };
    const char *dfs[] = { "--strategy=dfs", preempt, NULL };
    expect_each_fix_explores_clean(scenario, fixes, pct, "no violation in",
                                   env, limit_ms);
    expect_each_fix_explores_clean(scenario, fixes, dfs, tried, env,
                                   limit_ms);
}

const explore_found_t *expect_explore_finds_and_replays(
    cmd_out_t *o, cmd_out_t *again, const char *const args[],
    const char *const verdict_has[], const char *extra, const char *env,
    int limit_ms)
{
    static explore_found_t f;
    char prefix[128];
    const char *argv[14] = { "explore" };
    for (int i = 0; args[i] && i < 12; i++)
        argv[i + 1] = args[i];
    snprintf(prefix, sizeof prefix, "%s [broken]: ", args[0]);
    run_concdemo(o, argv, env, limit_ms);
    expect_explore_found(o, prefix, &f);
    for (int i = 0; verdict_has && verdict_has[i]; i++)
        ASSERT_STR_HAS(f.verdict, verdict_has[i]);
    /* The replay cuts its line up: keep f's copy whole for the caller. */
    char line[sizeof f.replay];
    snprintf(line, sizeof line, "%s", f.replay);
    expect_printed_run_repeats(again, line, extra, f.verdict, env, limit_ms);
    return &f;
}

int64_t fig(const child_run_t *c, const char *key)
{
    const cd_verdict_t *v = &c->r.verdict;
    for (int i = 0; i < v->nfigs; i++)
        if (v->figs[i].is_num && strcmp(v->figs[i].key, key) == 0)
            return v->figs[i].num;
    fprintf(stderr, "\n  no figure %s\n", key);
    return -1;
}

/* Run `run` (0, 1, ...) of name's variant at its defaults: a run expected
 * to hold is free - a fix holds however its threads are scheduled - while
 * one expected to show a bug runs on the controlled scheduler's virtual
 * clock, seed run + 1, where the window is open by construction: a free
 * run's window is open only as long as the machine lets every thread
 * reach it in time, and a starved CI runner does not. */
static child_run_t run_nth(const char *name, const char *variant, int run,
                           int status, int limit_ms)
{
    if (status == CD_HELD)
        return run_forked(name, variant, 0, 0, limit_ms);
    return run_seeded_forked(name, variant, CD_SCHED_RANDOM,
                             (uint64_t)run + 1, limit_ms);
}

child_run_t expect_status(const char *name, const char *variant, int status,
                          int limit_ms)
{
    child_run_t c = run_nth(name, variant, 0, status, limit_ms);
    CU_ASSERT_TRUE_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, status);
    return c;
}

void expect_every_run(const char *name, const char *variant, int runs,
                      int status, void (*check)(const child_run_t *c),
                      int limit_ms)
{
    for (int i = 0; i < runs; i++) {
        child_run_t c = run_nth(name, variant, i, status, limit_ms);
        CU_ASSERT_TRUE_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, status);
        if (check)
            check(&c);
    }
}

void expect_every_free_run(const char *name, const char *variant, int runs,
                           int status, void (*check)(const child_run_t *c),
                           int limit_ms)
{
    for (int i = 0; i < runs; i++) {
        child_run_t c = run_forked(name, variant, 0, 0, limit_ms);
        CU_ASSERT_TRUE_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, status);
        if (check)
            check(&c);
    }
}

child_run_t expect_status_every_run(const char *name, const char *variant,
                                    int runs, int status, int limit_ms)
{
    child_run_t c = { 0 };
    for (int i = 0; i < runs; i++) {
        c = run_nth(name, variant, i, status, limit_ms);
        CU_ASSERT_TRUE_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, status);
    }
    return c;
}

child_run_t expect_deadlock_cycle(const char *name, int threads, int runs,
                                  int links, const char *observed,
                                  int limit_ms)
{
    const cd_scenario_t *s = cd_scenario_find(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    cd_params_t p = s->defaults;
    if (threads > 0)
        p.threads = threads;
    child_run_t c = { 0 };
    for (int i = 0; i < runs; i++) {
        /* Controlled: a free run on a starved machine may let one thread
         * finish before the next takes its first lock (a lucky run, only
         * a potential deadlock); on the virtual clock each one takes its
         * first lock before any latency passes. */
        cd_sched_cfg_t cfg = sched_cfg(CD_SCHED_RANDOM, (uint64_t)i + 1);
        c = run_controlled_forked(name, "broken", &cfg, p, limit_ms);
        CU_ASSERT_TRUE_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_DEADLOCK);
        CU_ASSERT_TRUE_FATAL(c.r.has_cycle);
        ASSERT_INT_EQ(c.r.cycle.len, links);
        if (observed)
            ASSERT_STR_HAS(c.r.verdict.observed, observed);
    }
    return c;
}

void expect_fix_holds_every_run(const char *name, const char *fix,
                                int threads, int iterations, int runs,
                                void (*figures)(const child_run_t *c),
                                int limit_ms)
{
    /* The runs at once: their waits (simulated latency) overlap, and
     * each is load for the others. */
    static child_run_t c[16];
    cd_run_opts_t o = forked_opts(name, threads, iterations, limit_ms);
    for (int done = 0; done < runs; done += 16) {
        int n = runs - done < 16 ? runs - done : 16;
        run_forked_many(name, fix, &o, n, limit_ms, c);
        for (int i = 0; i < n; i++) {
            CU_ASSERT_TRUE_FATAL(c[i].finished);
            ASSERT_INT_EQ(c[i].r.verdict.status, CD_HELD);
            ASSERT_CLEAN_EXIT(c[i]);
            ASSERT_INT_EQ(c[i].r.ninv, 0);
            if (figures)
                figures(&c[i]);
        }
    }
}

void add_tests(CU_pSuite s, const suite_test_t *tests, int all_forked)
{
    const char *tier = getenv(QUICK_ENV);
    int quick = tier && strcmp(tier, "quick") == 0;
    for (int i = 0; tests[i].name; i++) {
        if (quick && tests[i].is_long)
            continue;
        if (all_forked || tests[i].forked)
            add_forked_test(s, tests[i].name, tests[i].fn);
        else
            CU_add_test(s, tests[i].name, tests[i].fn);
    }
}

/* ====================== controlled runs in this process ==================== */

void expect_seeds_repeat_and_replay(cd_sched_cfg_t base, controlled_run_fn run,
                                    int all)
{
    static char first[4096], again[4096], replayed[4096], before[4096];
    static uint16_t prefix[4096];
    int distinct = 0;
    before[0] = '\0';
    for (uint64_t seed = 1; seed <= 20; seed++) {
        cd_sched_cfg_t cfg = base;
        cfg.seed = seed;
        ASSERT_INT_EQ(run(&cfg, first, sizeof first), all);
        ASSERT_INT_EQ(run(&cfg, again, sizeof again), all);
        CU_ASSERT_STRING_EQUAL(first, again);

        char err[128];
        int n = cd_sched_parse_schedule(first, prefix, 4096, err, sizeof err);
        CU_ASSERT_FATAL(n > 0);
        cd_sched_cfg_t rp = { .strategy = CD_SCHED_REPLAY, .prefix = prefix,
                              .nprefix = n };
        ASSERT_INT_EQ(run(&rp, replayed, sizeof replayed), all);
        CU_ASSERT_STRING_EQUAL(first, replayed);
        CU_ASSERT_PTR_NULL(cd_sched_misfit());
        /* Seeds differ: the runs are not all one schedule. */
        distinct += strcmp(first, before) != 0;
        memcpy(before, first, sizeof before);
    }
    CU_ASSERT_TRUE(distinct > 10);
}

/* ========================= the trace of this process ===================== */

/* The trace's first event op on obj with arg (any arg if !match_arg). */
static int find_traced(int op, int obj, int match_arg, int64_t arg)
{
    const cd_trace_event_t *ev;
    int n = trace_events(&ev);
    for (int i = 0; i < n; i++)
        if (ev[i].op == op && ev[i].obj == obj &&
            (!match_arg || ev[i].arg == arg))
            return 1;
    return 0;
}

int traced(int op, int obj, int64_t arg)
{
    return find_traced(op, obj, 1, arg);
}

int traced_any(int op, int obj)
{
    return find_traced(op, obj, 0, 0);
}

void expect_trace_line(int op, int obj, int64_t arg, const char *text)
{
    char line[256];
    cd_trace_event_t e = { .op = op, .obj = obj, .arg = arg,
                           .thread = cd_self() };
    cd_trace_format(&e, line, sizeof line);
    ASSERT_STR_HAS(line, text);
}

void expect_op_names(const int ops[], const char *const names[], int n)
{
    for (int i = 0; i < n; i++)
        CU_ASSERT_STRING_EQUAL(cd_op_name(ops[i]), names[i]);
}

/* ========================= a run under a watchdog ======================== */

static cd_watchdog_t *watched_dog;
static const char *watched_who = "test";

static void watched_stuck(int reason)
{
    fprintf(stderr, "\n  %s: tasks ignored the abort (reason %d)\n",
            watched_who, reason);
    _exit(3);
}

void watched_begin(const char *who, int timeout_ms)
{
    watched_who = who;
    watched_log[0] = '\0';
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_watchdog_start(&watched_dog, timeout_ms, 10, 5000,
                                      watched_stuck) == 0);
}

void watched_end(void)
{
    cd_watchdog_stop(watched_dog);
    watched_dog = NULL;
}

char watched_log[1024];
static pthread_mutex_t watched_log_lk = PTHREAD_MUTEX_INITIALIZER;

void watched_say(const char *word)
{
    pthread_mutex_lock(&watched_log_lk);
    strncat(watched_log, word, sizeof watched_log - strlen(watched_log) - 2);
    strcat(watched_log, " ");
    pthread_mutex_unlock(&watched_log_lk);
}

int said_at(const char *word)
{
    char key[64];
    snprintf(key, sizeof key, "%s ", word);
    const char *p = strstr(watched_log, key);
    return p ? (int)(p - watched_log) : -1;
}

where_t where_is(int id)
{
    const cd_thread_info_t *t = tinfo(take_snapshot(), id);
    CU_ASSERT_PTR_NOT_NULL(t); /* no _FATAL: a task calls it */
    if (!t)
        return (where_t){ .state = -1, .waiting_on = -1 };
    return (where_t){ .state = t->state, .waiting_on = t->waiting_on };
}

void run_two_tasks_on_one_worker(const char *first_name, void (*first)(void *),
                                 const char *second_name,
                                 void (*second)(void *))
{
    cd_exec_t *e;
    static int first_id; /* second's argument */
    watched_log[0] = '\0';
    CU_ASSERT_FATAL(cd_exec_create(&e, 1) == 0);
    first_id = cd_exec_spawn(e, first_name, first, NULL);
    CU_ASSERT_FATAL(first_id > 0);
    CU_ASSERT_FATAL(cd_exec_spawn(e, second_name, second, &first_id) > 0);
    ASSERT_INT_EQ(cd_exec_run(e), 0);
    cd_exec_destroy(e);
}
