/*
 * bench_args.h - the one argument a benchmark program takes: how much
 * work a run does (messages, rounds). Header only: each bench_*.c is a
 * program of its own, linked with the library alone.
 */
#ifndef CD_BENCH_ARGS_H
#define CD_BENCH_ARGS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* Reads argv[1], if there is one, into *n (left at its default if not).
 * Returns 0, or 2 - the program's exit code - after a line on stderr
 * ("prog: WHAT must be a number from min to max") when it is not a whole
 * number in that range. */
static inline int bench_count_arg(int argc, char **argv, const char *prog,
                                  const char *what, long min, long max,
                                  long *n)
{
    if (argc < 2)
        return 0;
    char *end;
    errno = 0;
    *n = strtol(argv[1], &end, 10);
    if (*end || errno || *n < min || *n > max) {
        fprintf(stderr, "%s: %s must be a number from %ld to %ld (got %s)\n",
                prog, what, min, max, argv[1]);
        return 2;
    }
    return 0;
}

#endif /* CD_BENCH_ARGS_H */
