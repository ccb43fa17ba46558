/*
 * spawn.c - programs in process groups of their own, stopped together.
 *
 * Shape: concdemo forks a supervisor, which makes itself the leader of a
 * new process group and forks the program; everything the program starts
 * (make's compilers) stays in that group. concdemo signals the group as
 * a whole. The supervisor does nothing but wait: it reports the program's
 * end as its own (same exit code, same signal), and if concdemo dies it
 * kills the group - the one thing concdemo cannot do once it is dead.
 */
#define _GNU_SOURCE /* pipe2, waitid's WNOWAIT */

#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GRACE_S 3.0   /* from SIGTERM to SIGKILL: make deletes half-built files */
#define NAP_MS 20     /* how often a wait looks at the program */
#define FD_SCAN 1024  /* fds the supervisor closes, as exec would */

static volatile sig_atomic_t signalled; /* the signal concdemo got */
static volatile sig_atomic_t group;     /* the running program's group */

/* ================================ signals ================================ */

/* Async-signal-safe: remember, and pass the news on to the group. */
static void on_signal(int sig)
{
    if (!signalled)
        signalled = sig;
    if (group > 0)
        kill(-(pid_t)group, SIGTERM);
}

void cd_spawn_catch_signals(void)
{
    const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    /* No SA_RESTART: a wait in progress returns and sees the flag. */
    struct sigaction sa = { .sa_handler = on_signal }, old;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(sigs[i], &sa, NULL);
}

int cd_spawn_signalled(void)
{
    return signalled;
}

/* Ends this process by sig with its default action, unblocked first;
 * exits 128 + sig should the signal not end it. */
static _Noreturn void die_by(int sig)
{
    sigset_t one;
    signal(sig, SIG_DFL);
    sigemptyset(&one);
    sigaddset(&one, sig);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    raise(sig);
    _exit(128 + sig);
}

void cd_spawn_reraise(void)
{
    die_by(signalled);
}

/* The signals the supervisor waits for (blocked from fork on, so none is
 * lost before it waits), and SIGTTOU so that it may hand the terminal
 * over from outside the foreground. */
static void supervisor_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGTTOU);
}

/* ============================== the child ================================ */

int cd_spawn_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -errno;
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    return 0;
}

/* In the program's process, just before it becomes the program. */
static void exec_program(char *const argv[], const cd_spawn_opts_t *o)
{
    sigset_t none;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (!o->interactive) {
        int null = open("/dev/null", O_RDONLY);
        if (null > 0) {
            dup2(null, 0);
            close(null);
        }
    }
    if (o->out_fd >= 0)
        dup2(o->out_fd, 1);
    if (o->err_fd >= 0)
        dup2(o->err_fd, 2);
    if (o->keep_fd >= 0)
        fcntl(o->keep_fd, F_SETFD, 0);
    unsetenv("MAKEFLAGS");
    unsetenv("MFLAGS");
    unsetenv("MAKELEVEL");
    if (o->env) {
        char name[128];
        const char *eq = strchr(o->env, '=');
        size_t n = eq ? (size_t)(eq - o->env) : 0;
        if (eq && n < sizeof name) {
            memcpy(name, o->env, n);
            name[n] = '\0';
            setenv(name, eq + 1, 1);
        }
    }
    if (strchr(argv[0], '/'))
        execv(argv[0], argv); /* never a shell: a half-written file fails */
    else
        execvp(argv[0], argv);
    fprintf(stderr, "concdemo: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* The supervisor ends as the program ended: its exit code, or its signal
 * (without a core file of its own). */
static void end_like(int status)
{
    if (WIFEXITED(status))
        _exit(WEXITSTATUS(status));
    struct rlimit no_core = { 0, 0 };
    setrlimit(RLIMIT_CORE, &no_core);
    die_by(WTERMSIG(status));
}

/* The supervisor (never returns). Its fds that concdemo marked
 * close-on-exec are closed here as exec would, so that it holds no pipe
 * end or lock open. */
static void supervise(char *const argv[], const cd_spawn_opts_t *o,
                      pid_t concdemo, int take_tty)
{
    sigset_t set;
    supervisor_signals(&set);
    setpgid(0, 0);
    /* concdemo's death, even by SIGKILL, sends us SIGTERM. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != concdemo)
        _exit(127); /* it died before we could be told */
    for (int fd = 3; fd < FD_SCAN; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0 && (flags & FD_CLOEXEC) && fd != o->out_fd &&
            fd != o->err_fd && fd != o->keep_fd)
            close(fd);
    }
    if (take_tty)
        tcsetpgrp(0, getpid());
    pid_t pid = fork();
    if (pid == 0)
        exec_program(argv, o);
    if (pid < 0)
        _exit(127);
    for (;;) {
        int sig = sigwaitinfo(&set, NULL), status;
        if (sig == SIGCHLD && waitpid(pid, &status, WNOHANG) == pid)
            end_like(status);
        /* A SIGTERM with concdemo alive was sent to the whole group, and
         * concdemo takes care of the rest; with concdemo gone, nobody
         * else will. */
        if (sig > 0 && sig != SIGCHLD && getppid() != concdemo)
            kill(0, SIGKILL);
    }
}

int cd_spawn(cd_child_t *ch, char *const argv[], const cd_spawn_opts_t *o)
{
    sigset_t set, old;
    int take_tty = o->interactive && isatty(0) && tcgetpgrp(0) == getpgrp();
    pid_t concdemo = getpid();

    if (signalled)
        return -EINTR;
    supervisor_signals(&set);
    fflush(NULL);
    sigprocmask(SIG_BLOCK, &set, &old);
    pid_t pid = fork();
    if (pid == 0)
        supervise(argv, o, concdemo, take_tty);
    int err = errno;
    if (pid > 0) {
        setpgid(pid, pid); /* also here: the group exists before we signal it */
        group = pid;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0)
        return -err;
    ch->pid = pid;
    ch->took_tty = take_tty;
    ch->len = 0;
    if (ch->buf && ch->size)
        ch->buf[0] = '\0';
    return 0;
}

/* ================================ waiting ================================ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads what ch->collect_fd has now: into ch->sink, or into ch->buf,
 * past whose size it is dropped. */
static void collect(cd_child_t *ch)
{
    char sink[4096];
    if (ch->collect_fd < 0)
        return;
    for (;;) {
        size_t room = !ch->sink && ch->buf && ch->size > ch->len + 1
                          ? ch->size - 1 - ch->len : 0;
        char *to = room ? ch->buf + ch->len : sink;
        ssize_t got = read(ch->collect_fd, to, room ? room : sizeof sink);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (ch->sink)
            ch->sink(ch->sink_arg, to, (size_t)got);
        else if (room) {
            ch->len += (size_t)got;
            ch->buf[ch->len] = '\0';
        }
    }
}

/* Waits up to ms for output or the end, whichever comes first. */
static void nap(cd_child_t *ch, int ms)
{
    if (ch->collect_fd >= 0) {
        struct pollfd p = { .fd = ch->collect_fd, .events = POLLIN };
        if (poll(&p, 1, ms) > 0 && !(p.revents & POLLIN))
            ms = NAP_MS; /* the other end closed: poll returns at once */
        else
            return;
    }
    struct timespec t = { 0, (long)ms * 1000000L };
    nanosleep(&t, NULL);
}

/* Has the supervisor ended? It is left a zombie, so that its pid - the
 * group's id - cannot be reused before we kill the group. */
static int ended(const cd_child_t *ch)
{
    siginfo_t si;
    si.si_pid = 0;
    if (waitid(P_PID, (id_t)ch->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        return errno != EINTR;
    return si.si_pid == ch->pid;
}

/* Kills what is left of the group, reaps the supervisor, takes the
 * terminal back. Returns the wait status. */
static int reap(cd_child_t *ch)
{
    int status = CD_SPAWN_FAILED;
    kill(-ch->pid, SIGKILL);
    group = 0;
    while (waitpid(ch->pid, &status, 0) < 0)
        if (errno != EINTR)
            break;
    collect(ch);
    if (ch->took_tty) {
        sigset_t ttou, old;
        sigemptyset(&ttou);
        sigaddset(&ttou, SIGTTOU);
        sigprocmask(SIG_BLOCK, &ttou, &old);
        tcsetpgrp(0, getpgrp());
        sigprocmask(SIG_SETMASK, &old, NULL);
    }
    return status;
}

/* SIGTERM to the group, a grace period, then reap (SIGKILL). */
static void stop(cd_child_t *ch)
{
    kill(-ch->pid, SIGTERM);
    for (double until = now_s() + GRACE_S; !ended(ch) && now_s() < until;)
        nap(ch, NAP_MS);
    reap(ch);
}

int cd_spawn_wait(cd_child_t *ch, double limit_s)
{
    double deadline = now_s() + limit_s;
    for (;;) {
        collect(ch);
        if (ended(ch))
            return reap(ch);
        if (signalled) {
            stop(ch);
            return CD_SPAWN_SIGNALLED;
        }
        if (now_s() >= deadline) {
            stop(ch);
            return CD_SPAWN_TIMEOUT;
        }
        nap(ch, NAP_MS);
    }
}
