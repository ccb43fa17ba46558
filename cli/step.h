/*
 * step.h - step mode in the terminal: the learner plays the scheduler.
 *
 * At every decision with two or more runnable threads, the chooser shows
 * each thread's next operation and reads the learner's pick from a stream
 * (the keyboard, or a script in tests). An empty line lets the thread that
 * ran last go on; "a" (auto) or end of input lets the default policy play
 * the rest of the run.
 */
#ifndef CD_STEP_H
#define CD_STEP_H

#include <stdio.h>

typedef struct cd_step {
    FILE *in, *out;
    int step;
    int automatic;
} cd_step_t;

/* A cd_sched_chooser; arg is a cd_step_t. */
int cd_step_chooser(const int *runnable, int n, int prev, void *arg);

#endif /* CD_STEP_H */
