/*
 * spawn.h - running a program that concdemo does not trust to end: make
 * and the compiler, or an exercise program built from a learner's file.
 *
 * Each program runs in a process group of its own, under a small
 * supervisor process that leads the group. The caller waits with a time
 * limit; at the limit, or when concdemo itself gets SIGINT, SIGTERM or
 * SIGHUP, the whole group is stopped (SIGTERM, a grace period, then
 * SIGKILL), so a compiler that make started goes down with make. If
 * concdemo dies without a chance to do that (SIGKILL), the supervisor is
 * told by the kernel (PR_SET_PDEATHSIG) and kills its group itself.
 * Stdin is /dev/null unless the program is interactive, so nothing can
 * wait for input nobody will type. Linux only, like the rest of concdemo.
 */
#ifndef CD_SPAWN_H
#define CD_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/* What cd_spawn_wait returns instead of a wait status. */
#define CD_SPAWN_TIMEOUT (-1)   /* stopped at the time limit */
#define CD_SPAWN_SIGNALLED (-2) /* stopped: concdemo got a signal */
#define CD_SPAWN_FAILED (-3)    /* could not be started */

typedef struct cd_spawn_opts {
    int out_fd, err_fd; /* the program's stdout / stderr; -1: ours */
    int keep_fd;        /* one more fd it keeps open across exec, or -1 */
    const char *env;    /* "NAME=VALUE" added to its environment, or NULL */
    int interactive;    /* stdin is ours (not /dev/null); if that is our
                           terminal, its group gets the foreground */
} cd_spawn_opts_t;

typedef struct cd_child {
    pid_t pid;          /* the supervisor, leader of the program's group */
    int collect_fd;     /* a read end drained while waiting, or -1 */
    char *buf;          /* what was read from it, NUL-terminated ... */
    size_t size, len;   /* ... within size bytes; the rest is dropped */
    /* Or, when set, every piece read goes here instead, all of it (a
     * stream with no end to its size: an exercise's records). */
    void (*sink)(void *arg, const void *data, size_t len);
    void *sink_arg;
    int took_tty;       /* the group was given the terminal */
} cd_child_t;

/* From now on SIGINT, SIGTERM and SIGHUP (unless ignored) stop the
 * running program's group and are remembered: cd_spawn_wait returns
 * CD_SPAWN_SIGNALLED, and the caller cleans up and calls
 * cd_spawn_reraise(). */
void cd_spawn_catch_signals(void);

/* The signal concdemo got (0: none yet). */
int cd_spawn_signalled(void);

/* Ends concdemo by the signal it got, as it would have without the
 * handler. Call only when cd_spawn_signalled() is not 0. */
void cd_spawn_reraise(void);

/* A pipe whose ends are both close-on-exec, its read end non-blocking
 * (for collect_fd). Returns 0 or -errno. */
int cd_spawn_pipe(int fds[2]);

/* Starts argv (argv[0] with a '/' as is, else found in PATH) under a
 * supervisor; fills ch->pid. make's own variables are removed from its
 * environment (a make that runs concdemo must not hand its jobserver on).
 * Returns 0, or -errno (-EINTR: concdemo was signalled already). */
int cd_spawn(cd_child_t *ch, char *const argv[], const cd_spawn_opts_t *o);

/* Waits for the program at most limit_s seconds, collecting from
 * ch->collect_fd meanwhile. When it ended, whatever is left of its group
 * is killed. Returns its wait status, or CD_SPAWN_TIMEOUT or
 * CD_SPAWN_SIGNALLED once the group was stopped. */
int cd_spawn_wait(cd_child_t *ch, double limit_s);

#endif /* CD_SPAWN_H */
