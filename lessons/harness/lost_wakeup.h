/*
 * lost_wakeup.h - the exercise lost-wakeup: what the learner's file
 * defines, and what the harness (lessons/harness/lost_wakeup.c) gives it.
 *
 * The harness owns the runner thread, the workers, the jobs, the
 * invariant and the verdict; it is compiled by the project, so nothing
 * the learner's file does (a #define, a static of the same name) reaches
 * it. For each job the runner starts a worker, does its own setup (20 ms)
 * and then calls await_done(); the worker does the job (2 ms) and then
 * calls tell_done(). The learner's file defines exactly the functions
 * under "yours", and keeps what the hand-off needs in its own struct
 * runner (which the harness only passes around by pointer) or in
 * statics. Any other global it defines fails the build.
 *
 * exercise-defines: runner_create runner_destroy tell_done await_done
 */
#ifndef EX_LOST_WAKEUP_H
#define EX_LOST_WAKEUP_H

/* ---- yours: define these in lessons/exercises/lost_wakeup.c ---- */

typedef struct runner runner_t; /* define struct runner: the hand-off */

/* Makes the runner's hand-off before the first job starts: NULL on
 * failure. One runner_t serves every job of the run, one after another. */
runner_t *runner_create(void);

/* Frees it after the last job (the runner and every worker have ended). */
void runner_destroy(runner_t *r);

/* Called by the worker, once, when its job is done. */
void tell_done(runner_t *r);

/* Called by the runner, once per job, after its setup: must return once
 * that job is done - never before, and whether or not tell_done() was
 * called already. The next job's worker starts only after it returns. */
void await_done(runner_t *r);

#endif /* EX_LOST_WAKEUP_H */
