/*
 * spawn.c - programs in process groups of their own, stopped together.
 *
 * Shape: concdemo forks a supervisor, which makes itself the leader of a
 * new process group and forks the program; everything the program starts
 * (make's compilers) stays in that group. concdemo signals the group as
 * a whole. The supervisor does nothing but wait: it reports the program's
 * end as its own (same exit code, same signal), and if concdemo dies it
 * kills the group - the one thing concdemo cannot do once it is dead.
 * A program that is not interactive gets a session of its own (setsid):
 * no terminal it could read, or stop on.
 */
#define _GNU_SOURCE /* pipe2, waitid's WNOWAIT, SOCK_CLOEXEC */

#include "spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/cd_load.h"

#define GRACE_S 3.0   /* from SIGTERM to SIGKILL: make deletes half-built files */
#define NAP_MS 20     /* how often a wait looks at the program */
#define READS_PER_TURN 16 /* of one input (64 KiB) before the wait looks
                             at the program again */
#define FD_SCAN 1024  /* fds the supervisor closes, as exec would */

static volatile sig_atomic_t signalled; /* the signal concdemo got */
static volatile sig_atomic_t group;     /* the running program's group */

/* ================================ signals ================================ */

/* The signals that stop a check: those a terminal or a user sends, and
 * the ones whose default would end concdemo without a word. */
static const int stop_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
                                 SIGUSR1, SIGUSR2, SIGALRM };

/* Sent by a process of the running group: the program (or the compiler)
 * itself. Async-signal-safe. */
static int from_group(const siginfo_t *si)
{
    if (!si || si->si_code > 0 || si->si_pid <= 0 || group <= 0)
        return 0; /* the kernel's (a terminal's ^C), or no group */
    return getpgid(si->si_pid) == (pid_t)group;
}

/* Async-signal-safe: remember, and pass the news on to the group. What
 * the group sends is ignored: a learner's program must not be able to
 * stop the grader that judges it. */
static void on_signal(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    if (from_group(si))
        return;
    if (!signalled)
        signalled = sig;
    if (group > 0)
        kill(-(pid_t)group, SIGTERM);
}

void cd_spawn_catch_signals(void)
{
    /* No SA_RESTART: a wait in progress returns and sees the flag. */
    struct sigaction sa = { .sa_sigaction = on_signal,
                            .sa_flags = SA_SIGINFO }, old;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof stop_sigs / sizeof stop_sigs[0]; i++)
        if (sigaction(stop_sigs[i], NULL, &old) == 0 &&
            old.sa_handler != SIG_IGN)
            sigaction(stop_sigs[i], &sa, NULL);
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
    for (size_t i = 0; i < sizeof stop_sigs / sizeof stop_sigs[0]; i++)
        sigaddset(set, stop_sigs[i]);
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

/* stdin for a program that must read nothing: a socket whose other end
 * is closed. A read ends at once; opening it by name (/dev/stdin, as
 * `#include "/dev/stdin"` does) fails at once (ENXIO), where /dev/null
 * would quietly read as empty. */
static void closed_stdin(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
        close(sv[1]);
        dup2(sv[0], 0);
        if (sv[0] != 0)
            close(sv[0]);
        return;
    }
    int null = open("/dev/null", O_RDONLY);
    if (null > 0) {
        dup2(null, 0);
        close(null);
    }
}

static void set_limit(int resource, unsigned long long value)
{
    struct rlimit r = { (rlim_t)value, (rlim_t)value };
    struct rlimit now;
    /* Never above the hard limit there is: that needs privileges. */
    if (getrlimit(resource, &now) == 0 && now.rlim_max != RLIM_INFINITY &&
        now.rlim_max < r.rlim_max)
        r.rlim_cur = r.rlim_max = now.rlim_max;
    setrlimit(resource, &r);
}

static void set_limits(const cd_spawn_limits_t *l)
{
    if (!l)
        return;
    if (l->as)
        set_limit(RLIMIT_AS, l->as);
    if (l->fsize)
        set_limit(RLIMIT_FSIZE, l->fsize);
    if (l->nofile)
        set_limit(RLIMIT_NOFILE, l->nofile);
    if (l->no_core)
        set_limit(RLIMIT_CORE, 0);
}

static int kept(const cd_spawn_opts_t *o, int fd)
{
    return fd == o->out_fd || fd == o->err_fd || fd == o->keep_fd[0] ||
           fd == o->keep_fd[1];
}

/* Closes every fd from 3 up but the ones the program keeps: it gets
 * nothing concdemo's own caller left open (a pipe of a test runner, of a
 * CI job), which it could write into. */
static void close_others(const cd_spawn_opts_t *o)
{
    DIR *d = opendir("/proc/self/fd");
    int mine = d ? dirfd(d) : -1;
    for (struct dirent *e; d && (e = readdir(d));) {
        int fd = atoi(e->d_name);
        if (fd >= 3 && fd != mine && fd != o->keep_fd[0] &&
            fd != o->keep_fd[1])
            close(fd);
    }
    if (d)
        closedir(d);
    else
        for (int fd = 3; fd < FD_SCAN; fd++)
            if (fd != o->keep_fd[0] && fd != o->keep_fd[1])
                close(fd);
}

/* In the program's process, just before it becomes the program. */
static void exec_program(char *const argv[], const cd_spawn_opts_t *o)
{
    sigset_t none;
    for (size_t i = 0; i < sizeof stop_sigs / sizeof stop_sigs[0]; i++)
        signal(stop_sigs[i], SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (!o->interactive)
        closed_stdin();
    if (o->out_fd >= 0)
        dup2(o->out_fd, 1);
    if (o->err_fd >= 0)
        dup2(o->err_fd, 2);
    close_others(o);
    for (int i = 0; i < 2; i++)
        if (o->keep_fd[i] >= 0)
            fcntl(o->keep_fd[i], F_SETFD, 0);
    unsetenv("MAKEFLAGS");
    unsetenv("MFLAGS");
    unsetenv("MAKELEVEL");
    for (int i = 0; i < 2; i++) {
        const char *env = o->env[i];
        const char *eq = env ? strchr(env, '=') : NULL;
        char name[128];
        size_t n = eq ? (size_t)(eq - env) : 0;
        if (eq && n < sizeof name) {
            memcpy(name, env, n);
            name[n] = '\0';
            setenv(name, eq + 1, 1);
        }
    }
    set_limits(o->limits);
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
 * end or lock open - the end of `ready` among them, which tells concdemo
 * that the group exists. */
static void supervise(char *const argv[], const cd_spawn_opts_t *o,
                      pid_t concdemo, int take_tty)
{
    sigset_t set;
    supervisor_signals(&set);
    if (o->interactive)
        setpgid(0, 0);
    else
        setsid(); /* a session: no terminal to read, or to stop on */
    /* concdemo's death, even by SIGKILL, sends us SIGTERM. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != concdemo)
        _exit(127); /* it died before we could be told */
    for (int fd = 3; fd < FD_SCAN; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0 && (flags & FD_CLOEXEC) && !kept(o, fd))
            close(fd);
    }
    if (take_tty)
        tcsetpgrp(0, getpid());
    int copies = o->copies > 1 ? o->copies : 1, left = copies;
    if (copies > CD_SPAWN_MAX_COPIES)
        _exit(127);
    for (int k = 0; k < copies; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            if (copies > 1) {
                char id[16];
                snprintf(id, sizeof id, "%d", k);
                setenv(CD_SPAWN_COPY_ENV, id, 1);
            }
            exec_program(argv, o);
        }
        if (pid < 0)
            _exit(127); /* the group, and the copies made, go with us */
    }
    for (;;) {
        int sig = sigwaitinfo(&set, NULL), status;
        /* Every child of ours is a copy: processes they leave behind go
         * to concdemo, the subreaper, not to us. */
        while (sig == SIGCHLD && waitpid(-1, &status, WNOHANG) > 0)
            if (--left == 0 || !WIFEXITED(status) || WEXITSTATUS(status))
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
    int ready[2];

    if (signalled)
        return -EINTR;
    /* Orphans of the program - processes that left its group - are
     * handed to us rather than to init, so that we can end them. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (pipe2(ready, O_CLOEXEC) != 0)
        return -errno;
    supervisor_signals(&set);
    fflush(NULL);
    sigprocmask(SIG_BLOCK, &set, &old);
    pid_t pid = fork();
    if (pid == 0)
        supervise(argv, o, concdemo, take_tty);
    int err = errno;
    close(ready[1]);
    if (pid > 0) {
        /* The group exists before we signal it: an interactive one made
         * here too, a session once the supervisor closed its end of
         * ready (setsid fails for a group leader, so not here). */
        if (o->interactive)
            setpgid(pid, pid);
        char c;
        while (read(ready[0], &c, 1) < 0 && errno == EINTR)
            ;
        group = pid;
    }
    close(ready[0]);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0)
        return -err;
    ch->pid = pid;
    ch->program = 0;
    ch->took_tty = take_tty;
    for (int i = 0; i < ch->nin; i++) {
        ch->in[i].len = 0;
        ch->in[i].eof = 0;
        if (ch->in[i].buf && ch->in[i].size)
            ch->in[i].buf[0] = '\0';
    }
    return 0;
}

/* ================================ waiting ================================ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads what the input has now: to its pass, or into its buf; past its
 * size, drops it. */
static void drain(cd_spawn_input_t *in, void *arg, int max_reads)
{
    char sink[4096];
    for (int n = 0; in->fd >= 0 && !in->eof && (!max_reads || n < max_reads);
         n++) {
        size_t room = !in->pass && in->buf && in->size > in->len + 1
                          ? in->size - 1 - in->len : 0;
        char *to = room ? in->buf + in->len : sink;
        ssize_t got = read(in->fd, to, room ? room : sizeof sink);
        if (got < 0 && errno == EINTR)
            continue;
        if (got == 0)
            in->eof = 1;
        if (got <= 0)
            break;
        if (in->pass) {
            in->pass(arg, sink, (size_t)got);
        } else if (room) {
            in->len += (size_t)got;
            in->buf[in->len] = '\0';
        }
    }
}

/* Reads what the inputs hold, at most max_reads reads of each (0: until
 * each is empty). While the program runs the bound matters: a program
 * that writes as fast as we read (a flood of output, or records that a
 * slow supervisor on a busy machine reads more slowly than they come)
 * would otherwise keep us here, away from the time limit, the memory
 * watch and the progress line. */
static void collect(cd_child_t *ch, int max_reads)
{
    for (int i = 0; i < ch->nin; i++)
        drain(&ch->in[i], ch->arg, max_reads);
}

/* Waits up to ms for input or the end, whichever comes first. */
static void nap(cd_child_t *ch, int ms)
{
    struct pollfd p[3];
    int n = 0;
    for (int i = 0; i < ch->nin && n < 3; i++)
        if (ch->in[i].fd >= 0 && !ch->in[i].eof)
            p[n++] = (struct pollfd){ .fd = ch->in[i].fd, .events = POLLIN };
    if (n > 0) {
        poll(p, (nfds_t)n, ms);
        return;
    }
    struct timespec t = { 0, (long)ms * 1000000L };
    nanosleep(&t, NULL);
}

/* Finds the program: the supervisor's one child. 0 if not yet known. */
static pid_t find_program(cd_child_t *ch)
{
    char path[64];
    if (ch->program <= 0) {
        snprintf(path, sizeof path, "/proc/%d/task/%d/children",
                 (int)ch->pid, (int)ch->pid);
        FILE *f = fopen(path, "r");
        int pid = 0;
        if (f && fscanf(f, "%d", &pid) == 1)
            ch->program = pid;
        if (f)
            fclose(f);
    }
    return ch->program > 0 ? ch->program : 0;
}

double cd_spawn_queued_s(cd_child_t *ch)
{
    int64_t sum = 0;
    pid_t who[2] = { ch->pid, find_program(ch) };
    for (int i = 0; i < 2; i++) {
        int64_t q = who[i] > 0 ? cd_load_queued_of(who[i]) : -1;
        if (q > 0)
            sum += q;
    }
    return (double)sum / 1e9;
}

/* The memory the program uses now (resident, bytes), or 0 if it cannot
 * be read. */
static unsigned long long program_rss(cd_child_t *ch)
{
    char path[64], text[64];
    if (find_program(ch) == 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%d/statm", (int)ch->program);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, text, sizeof text - 1) : -1;
    if (fd >= 0)
        close(fd);
    unsigned long long size, resident;
    if (got <= 0)
        return 0;
    text[got] = '\0';
    if (sscanf(text, "%llu %llu", &size, &resident) != 2)
        return 0;
    return resident * (unsigned long long)sysconf(_SC_PAGESIZE);
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

/* Our children now, into kids (at most max); their number. */
static int children(pid_t *kids, int max)
{
    char path[64];
    int n = 0, pid;
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)getpid(),
             (int)getpid());
    FILE *f = fopen(path, "r");
    while (f && n < max && fscanf(f, "%d", &pid) == 1)
        kids[n++] = pid;
    if (f)
        fclose(f);
    return n;
}

/* With the supervisor reaped, every child we still have is a leftover of
 * its group: the program on its way out, or a process that left the
 * group and was handed to us (we are their subreaper) when its parent
 * ended. Each is killed and reaped, until none is left - their own
 * children come to us as they die. Bounded, in case something keeps
 * making more faster than they die. */
static void kill_leftovers(void)
{
    pid_t kids[256];
    for (int round = 0; round < 500; round++) {
        int n = children(kids, 256);
        for (int i = 0; i < n; i++)
            kill(kids[i], SIGKILL);
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (n == 0)
            return;
        struct timespec t = { 0, 2 * 1000 * 1000 };
        nanosleep(&t, NULL);
    }
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
    kill_leftovers();
    collect(ch, 0); /* every writer is gone: each input ends */
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
    if (ch->kill_at_once) {
        reap(ch);
        return;
    }
    kill(-ch->pid, SIGTERM);
    for (double until = now_s() + GRACE_S; !ended(ch) && now_s() < until;)
        nap(ch, NAP_MS);
    reap(ch);
}

int cd_spawn_wait(cd_child_t *ch, double limit_s)
{
    double start = now_s(), deadline = start + limit_s;
    for (;;) {
        collect(ch, READS_PER_TURN);
        if (ended(ch))
            return reap(ch);
        int why = 0;
        if (signalled)
            why = CD_SPAWN_SIGNALLED;
        else if (now_s() >= deadline)
            why = CD_SPAWN_TIMEOUT;
        if (!why && ch->rss_limit) {
            if (program_rss(ch) > ch->rss_limit)
                why = CD_SPAWN_MEMORY;
        }
        if (!why && ch->watch && ch->watch(ch, now_s() - start, ch->arg))
            why = CD_SPAWN_STOPPED;
        if (why) {
            stop(ch);
            return why;
        }
        nap(ch, NAP_MS);
    }
}
