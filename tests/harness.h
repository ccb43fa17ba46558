/*
 * harness.h - what every suite shares: running a scenario in a forked
 * child with a time limit, and running the concdemo binary.
 *
 * A demo run inside a test happens in a child process, so a hang fails the
 * test (the child is killed at the limit) instead of stalling CI, and a
 * crash in a demo cannot take the runner down.
 */
#ifndef CD_TEST_HARNESS_H
#define CD_TEST_HARNESS_H

#include <CUnit/CUnit.h>
#include <stdio.h>

#include "../cli/run.h"

/* Outcome of a forked run. */
typedef struct child_run {
    int finished;          /* 0: killed at the time limit or crashed */
    int exit_code;         /* the child's exit: 0, or a sanitizer's code
                              (TSan 66 on a report, LSan 23 on a leak) */
    cd_run_result_t r;     /* valid when finished */
} child_run_t;

/* A fixed variant must leave no sanitizer report: exit code 0. */
#define ASSERT_CLEAN_EXIT(c) ASSERT_INT_EQ((c).exit_code, 0)

/* Runs scenario `name`, variant `variant` ("broken", "mutex", ...) with the
 * given threads/iterations (0: the scenario's default) in a child, killed
 * after limit_ms. The child ends with exit(), so that a sanitizer build
 * reports (and sets the exit code) for that run alone. Fails the current
 * test if the names are unknown. */
child_run_t run_forked(const char *name, const char *variant, int threads,
                       int iterations, int limit_ms);
/* Same, with full options (latency scale, trace, timeout). */
child_run_t run_forked_opts(const char *name, const char *variant,
                            const cd_run_opts_t *opts, int limit_ms);

/* Runs fn() in a child killed after limit_ms; the child exits with what
 * fn returns (through exit(), so sanitizers judge it). Returns that exit
 * code, or -1 if the child hit the limit or crashed. For tests of the
 * library that need threads and must not hang the runner. */
int run_forked_fn(int (*fn)(void), int limit_ms);

/* Output of a command run by the shell. */
typedef struct cmd_out {
    int exit_code;     /* -1 if killed or not run */
    char out[65536];   /* stdout, NUL-terminated (truncated) */
    char err[65536];   /* stderr, NUL-terminated (truncated) */
} cmd_out_t;

/* Runs argv (argv[0] searched in PATH only if it has no slash) with an
 * environment addition env ("NAME=VALUE" or NULL), killed after limit_ms. */
void run_cmd(cmd_out_t *o, const char *const argv[], const char *env,
             int limit_ms);

/* The binaries under test, from $CONCDEMO / $CONCDEMO_TSAN (defaults:
 * build/concdemo, build/tsan/concdemo). */
const char *concdemo_bin(void);
const char *concdemo_tsan_bin(void);

/* Number of lines in s (a trailing newline does not start a new line). */
int count_lines(const char *s);

/* Asserts that print both values, as libuv's do. */
#define ASSERT_INT_EQ(a, b)                                                  \
    do {                                                                     \
        long long cd_a_ = (a), cd_b_ = (b);                                  \
        if (cd_a_ != cd_b_)                                                  \
            fprintf(stderr, "\n  %s:%d: %s == %lld, expected %s == %lld\n", \
                    __FILE__, __LINE__, #a, cd_a_, #b, cd_b_);               \
        CU_ASSERT_EQUAL(cd_a_, cd_b_);                                       \
    } while (0)

#define ASSERT_STR_HAS(hay, needle)                                          \
    do {                                                                     \
        const char *cd_h_ = (hay);                                           \
        int cd_ok_ = cd_h_ && strstr(cd_h_, (needle)) != NULL;               \
        if (!cd_ok_)                                                         \
            fprintf(stderr, "\n  %s:%d: expected \"%s\" in: %.600s\n",     \
                    __FILE__, __LINE__, (needle), cd_h_ ? cd_h_ : "(null)"); \
        CU_ASSERT_TRUE(cd_ok_);                                              \
    } while (0)

/* Suites register themselves through one function each, listed in main.c. */
/* (one declaration per suite) */
void suite_race(void);
void suite_deadlock(void);
void suite_cli(void);
void suite_tsan(void);
void suite_view(void);

#endif /* CD_TEST_HARNESS_H */
