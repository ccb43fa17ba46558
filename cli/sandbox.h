/*
 * sandbox.h - what an exercise's program may do, and how it tells the
 * grader what it was stopped for.
 *
 * Two halves. The grader's (cli/sandbox.c, part of concdemo) opens a
 * channel to each run of a learner's program - a socket pair, one end
 * passed on by number in $CONCDEMO_SANDBOX - and reads back what the
 * program says. The program's
 * (cli/exsandbox.c, linked into every exercise program and nowhere else)
 * runs before any code of the learner's file: it installs a seccomp
 * filter and reports on the channel, one line each:
 *
 *   filter on | filter off WHY   the seccomp filter's state
 *   main                         main() was reached: nothing before it
 *                                (the learner's constructors) hangs
 *   denied NAME A0 A1 A2         the filter stopped system call NAME
 *                                (its first arguments); the program
 *                                ended with CD_SANDBOX_EXIT
 *
 * The filter denies what an exercise never needs: new processes (threads
 * are allowed), running programs, signals to any process but itself,
 * tracing, leaving its process group, raising its limits, one mapping
 * larger than a run's memory, and what root could do to the machine.
 * The channel carries no secret to prove the program's records genuine:
 * the checker grades from the books of the runs (cli/books.h), which a
 * forged record cannot turn into a pass.
 */
#ifndef CD_SANDBOX_H
#define CD_SANDBOX_H

#include <stddef.h>

#define CD_SANDBOX_ENV "CONCDEMO_SANDBOX" /* "FD MAP_LIMIT [off]" */
#define CD_SANDBOX_EXIT 125               /* exit code after a denial */

/* ============================ the program's half ========================= */

/* The program's main, reached through the sandbox (make links the
 * exercise with --wrap=main): it reports "main", then runs it. */
int __wrap_main(int argc, char **argv, char **envp);
int __real_main(int argc, char **argv, char **envp);

/* ============================= the grader's half ========================= */

typedef struct cd_sandbox {
    int fds[2];     /* [0] the grader's end, [1] the program's, or -1 */
    char env[64];   /* "CONCDEMO_SANDBOX=FD LIMIT" for the program */
    char said[2048]; /* what the program sent (see cd_spawn_wait) */
} cd_sandbox_t;

/* What the program said on the channel. */
typedef struct cd_sandbox_report {
    int filter;          /* 1 on, 0 off, -1 it never said */
    char filter_why[96]; /* why off */
    int reached_main;
    char denied[32];     /* the denied call's name, or "" */
    long long arg[3];
} cd_sandbox_report_t;

/* Opens a channel for one run whose mappings may each be at most
 * map_limit bytes; filter 0
 * runs the program without its seccomp filter (to test what holds
 * without it). Both ends are close-on-exec; the program's end must be
 * kept open across exec (cd_spawn_opts_t.keep_fd). Returns 0 or
 * -errno. */
int cd_sandbox_open(cd_sandbox_t *sb, unsigned long long map_limit,
                    int filter);

/* Closes what is left open of the channel. */
void cd_sandbox_close(cd_sandbox_t *sb);

/* Parses what the program said (sb->said). */
void cd_sandbox_report(const cd_sandbox_t *sb, cd_sandbox_report_t *r);

/* Says in buf what a denial means for the learner ("tried to start a
 * process (fork): ..."). */
void cd_sandbox_explain(const cd_sandbox_report_t *r, char *buf,
                        size_t size);

#endif /* CD_SANDBOX_H */
