/*
 * spawn.h - running a program that concdemo does not trust to end: make
 * and the compiler, or an exercise program built from a learner's file.
 *
 * Each program runs in a session and process group of its own (an
 * interactive one: a group in concdemo's session, to use its terminal),
 * under a small supervisor process that leads the group. The caller
 * waits with a time limit; at the limit, when the program's memory grows
 * past its limit, when the caller's watch says so, or when concdemo
 * itself gets SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 or
 * SIGALRM, the whole group is stopped (SIGTERM, a grace period, then
 * SIGKILL; a program that need not clean up, SIGKILL at once), so a
 * compiler that make started goes down with make. Those signals are
 * ignored when they come from the group itself: what concdemo runs
 * cannot stop it. If concdemo dies without a chance to stop the group
 * (SIGKILL), the supervisor is told by the kernel (PR_SET_PDEATHSIG) and
 * kills its group itself. A process that left the group (setsid) is
 * still concdemo's descendant: concdemo is their subreaper, so they come
 * back to it when their parents end, and are killed with the rest.
 * A program that is not interactive has no terminal, and its stdin is a
 * socket whose other end is closed: reading it ends at once, and opening
 * it again (/dev/stdin, /proc/self/fd/0) fails, so nothing can wait for
 * input nobody will type. Linux only, like the rest of concdemo.
 */
#ifndef CD_SPAWN_H
#define CD_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/* What cd_spawn_wait returns instead of a wait status. */
#define CD_SPAWN_TIMEOUT (-1)   /* stopped at the time limit */
#define CD_SPAWN_SIGNALLED (-2) /* stopped: concdemo got a signal */
#define CD_SPAWN_FAILED (-3)    /* could not be started */
#define CD_SPAWN_MEMORY (-4)    /* stopped: it used more than rss_limit */
#define CD_SPAWN_STOPPED (-5)   /* stopped: the caller's watch said so */

/* Resource limits of the program (soft and hard); 0: left as they are. */
typedef struct cd_spawn_limits {
    unsigned long long as;     /* address space, bytes */
    unsigned long long fsize;  /* the largest file it may write, bytes */
    unsigned long long nofile; /* open files */
    int no_core;               /* no core files */
} cd_spawn_limits_t;

typedef struct cd_spawn_opts {
    int out_fd, err_fd;  /* the program's stdout / stderr; -1: ours */
    int keep_fd[2];      /* fds it keeps open across exec, or -1 */
    const char *env[2];  /* "NAME=VALUE" added to its environment, or NULL */
    int interactive;     /* stdin is ours (not a closed socket); if that is
                            our terminal, its group gets the foreground */
    const cd_spawn_limits_t *limits; /* or NULL */
    /* How many copies of the program run side by side in its group (0 or
     * 1: one). Copy K (0 ..) finds K in $CONCDEMO_COPY; they share every
     * fd. The group ends as the first copy that failed (a signal, or an
     * exit code not 0) did, at once; else when all have exited 0. Up to
     * CD_SPAWN_MAX_COPIES. */
    int copies;
} cd_spawn_opts_t;

#define CD_SPAWN_MAX_COPIES 16
#define CD_SPAWN_COPY_ENV "CONCDEMO_COPY"

/* A read end drained while waiting (non-blocking: cd_spawn_pipe). What
 * is read goes to pass(arg, ...) as it comes if pass is set; otherwise
 * it is kept in buf, NUL-terminated, within size bytes (the rest is
 * dropped). */
typedef struct cd_spawn_input {
    int fd;
    char *buf;
    size_t size, len;
    void (*pass)(void *arg, const char *data, size_t n);
    int eof; /* (the other end closed) */
} cd_spawn_input_t;

typedef struct cd_child {
    pid_t pid;           /* the supervisor, leader of the program's group */
    cd_spawn_input_t in[3]; /* in[0 .. nin-1] are drained while waiting */
    int nin;
    /* Called about every 20 ms while the program runs, with the seconds
     * since it started: 0 goes on, anything else stops the group
     * (CD_SPAWN_STOPPED). NULL: none. */
    int (*watch)(struct cd_child *ch, double elapsed_s, void *arg);
    void *arg;           /* for watch and the inputs' pass */
    unsigned long long rss_limit; /* bytes of memory it may use (0: any) */
    int kill_at_once;    /* a stop is SIGKILL, without a grace period */
    int took_tty;        /* the group was given the terminal */
    pid_t program;       /* (the program itself, once known) */
} cd_child_t;

/* From now on the signals above (unless ignored) stop the running
 * program's group and are remembered: cd_spawn_wait returns
 * CD_SPAWN_SIGNALLED, and the caller cleans up and calls
 * cd_spawn_reraise(). */
void cd_spawn_catch_signals(void);

/* The signal concdemo got (0: none yet). */
int cd_spawn_signalled(void);

/* Ends concdemo by the signal it got, as it would have without the
 * handler. Call only when cd_spawn_signalled() is not 0. */
void cd_spawn_reraise(void);

/* A pipe whose ends are both close-on-exec, its read end non-blocking
 * (for cd_spawn_input_t). Returns 0 or -errno. */
int cd_spawn_pipe(int fds[2]);

/* Starts argv (argv[0] with a '/' as is, else found in PATH) under a
 * supervisor; fills ch->pid once the program's group exists. make's own
 * variables are removed from its environment (a make that runs concdemo
 * must not hand its jobserver on). Returns 0, or -errno (-EINTR:
 * concdemo was signalled already). */
int cd_spawn(cd_child_t *ch, char *const argv[], const cd_spawn_opts_t *o);

/* Waits for the program at most limit_s seconds, draining ch's inputs
 * meanwhile. When it ended, whatever is left of its group is killed.
 * Returns its wait status, or one of the CD_SPAWN_ codes above once the
 * group was stopped. */
int cd_spawn_wait(cd_child_t *ch, double limit_s);

/* Seconds the supervisor and the program have spent runnable but waiting
 * for a CPU so far (0 where the kernel does not say). A start limit that
 * leaves this out judges the program, not a busy machine: on a CI runner
 * beside other work, exec and the dynamic loader alone can take longer
 * than a second of wall time. For a watch function. */
double cd_spawn_queued_s(cd_child_t *ch);

#endif /* CD_SPAWN_H */
