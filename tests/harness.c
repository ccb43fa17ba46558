/*
 * harness.c - forked runs, forked test bodies and command runs with time
 * limits; waiting for registry conditions.
 */
#define _XOPEN_SOURCE 700 /* putenv */

#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads fds until both close or the deadline passes; returns 0 on EOF of
 * both, -1 on timeout. */
static int drain(int fds[2], char *bufs[2], size_t caps[2], size_t lens[2],
                 long long deadline)
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
        long long left = deadline - now_ms();
        if (left <= 0)
            return -1;
        int rc = poll(p, (nfds_t)n, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return -1;
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

/* Waits for pid; kills it first if it outlived the deadline. Returns the
 * wait status, or -1 if it had to be killed. */
static int reap(pid_t pid, int timed_out)
{
    int status = 0;
    if (timed_out) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -1;
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

child_run_t run_forked_opts(const char *name, const char *variant,
                            const cd_run_opts_t *opts, int limit_ms)
{
    child_run_t res;
    memset(&res, 0, sizeof res);
    const cd_scenario_t *s = cd_scenario_find(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    int v = cd_scenario_variant(s, variant);
    CU_ASSERT_FATAL(v >= 0);

    int fd[2];
    CU_ASSERT_FATAL(pipe(fd) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        cd_run_result_t r;
        cd_run(s, v, opts, &r);
        const char *p = (const char *)&r;
        size_t left = sizeof r;
        while (left > 0) {
            ssize_t n = write(fd[1], p, left);
            if (n <= 0)
                _exit(3);
            p += n;
            left -= (size_t)n;
        }
        exit(0);
    }
    close(fd[1]);
    int fds[2] = { fd[0], -1 };
    char *bufs[2] = { (char *)&res.r, NULL };
    size_t caps[2] = { sizeof res.r, 0 }, lens[2] = { 0, 0 };
    int timed_out = drain(fds, bufs, caps, lens, now_ms() + limit_ms) != 0;
    if (fds[0] >= 0)
        close(fds[0]);
    int status = reap(pid, timed_out);
    res.finished = !timed_out && lens[0] == sizeof res.r && status >= 0 &&
                   WIFEXITED(status);
    res.exit_code = res.finished ? WEXITSTATUS(status) : -1;
    if (!res.finished)
        fprintf(stderr, "\n  %s [%s]: the child %s\n", name, variant,
                timed_out ? "hit the time limit" : "did not finish cleanly");
    return res;
}

child_run_t run_forked(const char *name, const char *variant, int threads,
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
    return run_forked_opts(name, variant, &o, limit_ms);
}

/* ================== bodies that run in a forked child ==================== */

/* What the failing check in a child said; sent to the parent. */
static char why[512];

int fail(int line, const char *what, const char *detail)
{
    snprintf(why, sizeof why, "line %d: %s%s", line, what, detail);
    return 1;
}

int passes_in_child(const char *name, int (*body)(void), int limit_ms)
{
    char msg[sizeof why];
    int fd[2];

    if (pipe(fd) != 0)
        return 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        close(fd[0]);
        int rc = body();
        if (rc != 0 && write(fd[1], why, strlen(why)) < 0)
            rc = 2;
        /* exit(), not _exit(): a sanitizer then judges this child alone
         * (TSan exits 66 after a report, LSan 23 on a leak). */
        exit(rc == 0 ? 0 : 1);
    }
    close(fd[1]);
    int fds[2] = { fd[0], -1 };
    char *bufs[2] = { msg, NULL };
    size_t caps[2] = { sizeof msg - 1, 0 }, lens[2] = { 0, 0 };
    int timed_out = drain(fds, bufs, caps, lens, now_ms() + limit_ms) != 0;
    if (fds[0] >= 0)
        close(fds[0]);
    int status = reap(pid, timed_out);
    msg[lens[0]] = '\0';
    if (timed_out)
        fprintf(stderr, "\n  %s: hung, killed at the %d ms limit\n", name,
                limit_ms);
    else if (WIFSIGNALED(status))
        fprintf(stderr, "\n  %s: child died of signal %d\n", name,
                WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0)
        fprintf(stderr, "\n  %s: %s (child exit %d)\n", name,
                lens[0] ? msg : "failed", WEXITSTATUS(status));
    return !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
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

/* ========================== running the binary =========================== */

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
    int fds[2] = { out[0], err[0] };
    char *bufs[2] = { o->out, o->err };
    size_t caps[2] = { sizeof o->out - 1, sizeof o->err - 1 };
    size_t lens[2] = { 0, 0 };
    int timed_out = drain(fds, bufs, caps, lens, now_ms() + limit_ms) != 0;
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    o->out[lens[0]] = '\0';
    o->err[lens[1]] = '\0';
    int status = reap(pid, timed_out);
    if (status >= 0 && WIFEXITED(status))
        o->exit_code = WEXITSTATUS(status);
    if (timed_out)
        fprintf(stderr, "\n  %s: killed at the %d ms limit\n", argv[0],
                limit_ms);
}

/* One busy loop per online CPU; each dies with the runner, should the
 * runner itself be killed before it can kill them. */
static int start_busy_loops(pid_t *pids, int max)
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

void run_cmd_starved(cmd_out_t *o, const char *const argv[], const char *env,
                     int limit_ms)
{
    enum { MAX_LOOPS = 64, MAX_ARGS = 64 };
    const char *wrapped[MAX_ARGS + 4] = { "chrt", "-i", "0" };
    pid_t loops[MAX_LOOPS];
    int n = 0;

    while (argv[n] && n < MAX_ARGS) {
        wrapped[3 + n] = argv[n];
        n++;
    }
    wrapped[3 + n] = NULL;
    int busy = start_busy_loops(loops, MAX_LOOPS);
    run_cmd(o, wrapped, env, limit_ms);
    for (int i = 0; i < busy; i++) {
        kill(loops[i], SIGKILL);
        waitpid(loops[i], NULL, 0);
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

int count_lines(const char *s)
{
    int n = 0;
    for (const char *p = s; *p; p++)
        if (*p == '\n' || p[1] == '\0')
            n++;
    return n;
}
