/*
 * starvation.h - the exercise starvation: what the learner's file
 * defines, and what the harness (lessons/harness/starvation.c) gives it.
 *
 * The harness owns the window, the request threads, the trimmer, the
 * invariant and the verdict, compiled by the project: nothing in the
 * learner's file (a #define, a static of the same name) reaches it. The
 * learner's file defines exactly the functions under "yours"; its state
 * goes in its own struct limiter, which the harness only passes around
 * by pointer. Any other global it defines fails the build.
 *
 * exercise-defines: limiter_create limiter_destroy check_request trim_window
 */
#ifndef EX_STARVATION_H
#define EX_STARVATION_H

/* ---- the harness's: call them, do not define them ---- */

/* A request checks its client against the window (3 ms). The caller
 * holds the lock to read; index is the request thread's number. */
void read_window(int index);

/* The trimmer drops the expired entries (0.5 ms). The caller holds the
 * lock to write. */
void drop_expired(void);

/* ---- yours: define these in lessons/exercises/starvation.c ---- */

typedef struct limiter limiter_t; /* define struct limiter: your lock */

/* Makes the limiter before the threads start: NULL on failure. */
limiter_t *limiter_create(void);

/* Frees it after every thread has ended. */
void limiter_destroy(limiter_t *lm);

/* One request (request threads call it, one request per ms, each 3 ms
 * long): it only reads the window. */
void check_request(limiter_t *lm, int index);

/* One trim (the trimmer thread, every 20 ms): needs the window to
 * itself. */
void trim_window(limiter_t *lm);

#endif /* EX_STARVATION_H */
