/*
 * Exercise: lost-wakeup - the lost wake-up (worksheet:
 * lessons/07-lost-wakeup.md).
 *
 * Task:  a job runner starts a worker, does its own setup (20 ms), then
 *        calls await_done() to wait for the worker's "done". The job is
 *        shorter (2 ms): the worker's tell_done() signals while nobody
 *        waits yet, the signal is lost, and the runner waits for ever. Make
 *        await_done() return once the job is done - never before - whether
 *        the worker or the runner comes first.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, timing, ThreadSanitizer).
 * Check: concdemo check lost-wakeup    or: make check-exercise EX=lost-wakeup
 *
 * This file is yours, all of it: lessons/harness/lost_wakeup.h says what
 * it must define and when the harness calls it; the harness (the runner,
 * the workers, the jobs, the invariant) is built by the project. You may
 * need lib/cd_mutex.h and lib/cd_cond.h (or lib/cd_sem.h).
 */
#include <stdlib.h>

#include "cd_cond.h"
#include "cd_mutex.h"
#include "harness/lost_wakeup.h"

/* The hand-off between the runner and its workers. Add what your fix
 * needs. */
struct runner {
    cd_mutex_t lock;
    cd_cond_t done_cv; /* the worker signals it when its job is done */
};

runner_t *runner_create(void)
{
    runner_t *r = calloc(1, sizeof *r);
    if (r && cd_mutex_init(&r->lock, "job-lock") != 0) {
        free(r);
        r = NULL;
    }
    if (r && cd_cond_init(&r->done_cv, "job-done") != 0) {
        cd_mutex_destroy(&r->lock);
        free(r);
        r = NULL;
    }
    return r;
}

void runner_destroy(runner_t *r)
{
    cd_cond_destroy(&r->done_cv);
    cd_mutex_destroy(&r->lock);
    free(r);
}

/* The worker's job is done: tell the runner. */
void tell_done(runner_t *r)
{
    cd_mutex_lock(&r->lock);
    cd_cond_signal(&r->done_cv);         /* nobody may be waiting yet... */
    cd_mutex_unlock(&r->lock);
}

/* The runner waits until the job is done. */
void await_done(runner_t *r)
{
    cd_mutex_lock(&r->lock);
    cd_cond_wait(&r->done_cv, &r->lock); /* ...so this waits for a signal */
    cd_mutex_unlock(&r->lock);           /* that has come and gone */
}
