/*
 * harness.c - forked runs and command runs with time limits.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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

int run_forked_fn(int (*fn)(void), int limit_ms)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fd[0]);
        int rc = fn();
        exit(rc); /* the pipe closes with the process */
    }
    close(fd[1]);
    /* The pipe reaches EOF when the child ends: that is the wait. */
    char scratch[64];
    int fds[2] = { fd[0], -1 };
    char *bufs[2] = { scratch, NULL };
    size_t caps[2] = { sizeof scratch, 0 }, lens[2] = { 0, 0 };
    int timed_out = drain(fds, bufs, caps, lens, now_ms() + limit_ms) != 0;
    if (fds[0] >= 0)
        close(fds[0]);
    int status = reap(pid, timed_out);
    if (timed_out)
        fprintf(stderr, "\n  forked test: the child hit the %d ms limit\n",
                limit_ms);
    return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void run_cmd(cmd_out_t *o, const char *const argv[], const char *env,
             int limit_ms)
{
    int out[2], err[2];
    memset(o, 0, sizeof *o);
    o->exit_code = -1;
    if (pipe(out) != 0 || pipe(err) != 0)
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
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
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
