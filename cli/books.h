/*
 * books.h - the checker's books of one `concdemo check`: the records the
 * exercise's program sends through the result pipe (cli/ledger.h), read
 * as they come, and what they prove about each stage.
 *
 * The program says which stage runs and whether it passed it; its
 * harness sends each run's effects. The checker trusts the first only to
 * fail: a stage the program passed counts as passed when the books agree
 * - every run the stage makes was seen, at the sizes the stage asks for,
 * and the checker's own judge (the same rules, cli/ledger.c) finds each
 * one held; the parallel run's slow calls overlapped at the service. A
 * program that prints PASS, writes "end" and leaves early has no runs in
 * the books. Nothing here prints; cli/check.c says what the books found.
 */
#ifndef CD_BOOKS_H
#define CD_BOOKS_H

#include <stddef.h>

#include "grade.h"
#include "ledger.h"

/* What the books hold about one stage. */
typedef struct cd_stage_books {
    int begun, ended, passed; /* as the program said */
    int runs, held;           /* runs booked, and those the judge passed */
    int by_size[CD_GRADE_MAX_SIZES]; /* free: runs of each size */
    int wrong_size;           /* runs of a size the stage does not make */
    int first_bad;            /* the first run that did not hold (1-based) */
    char why[CD_TEXT_MAX];    /* what the judge observed in it */
    int most;                 /* the most slow calls at once (parallel) */
} cd_stage_books_t;

typedef struct cd_books {
    const cd_exercise_spec_t *spec;
    unsigned char part[sizeof(cd_effect_t)]; /* a record cut by a read */
    size_t npart;
    int stage;          /* the stage running now (0: none) */
    int ended, refused; /* the program's END, REFUSED */
    int tsan_run;       /* its TSAN_RUN: the TSan build's run began */
    char failed[128];   /* the stages the program failed, by name */
    char fault[160];    /* the first record out of place, in words */
    cd_judge_t *run;    /* the run being booked, if any */
    int run_size;       /* its index in spec->free (free stage) */
    int in_run;         /* a RUN came and its RUN_END not yet */
    cd_stage_books_t st[CD_STAGES + 1];
} cd_books_t;

/* Empty books for a check of spec's exercise. */
void cd_books_init(cd_books_t *b, const cd_exercise_spec_t *spec);

/* Books len bytes of the record stream (any split of it). */
void cd_books_feed(cd_books_t *b, const void *data, size_t len);

/* The stage the program began and did not end, or NULL. */
const char *cd_books_running(const cd_books_t *b);

/* Whether the books bear out a stage the program passed: 1, or 0 with
 * the reason in why (one sentence). */
int cd_books_confirm(const cd_books_t *b, int stage, char *why, size_t size);

/* Frees what the books hold (a run left open). */
void cd_books_free(cd_books_t *b);

#endif /* CD_BOOKS_H */
