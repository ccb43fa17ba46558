/*
 * lost_wakeup.c - the lost wake-up: a signal that comes before the wait.
 *
 * The pitfall: a job runner starts a worker, finishes its own setup
 * (20 ms), then waits on a condition variable for the worker's "done"
 * signal. The worker's job is shorter (2 ms): it signals while nobody
 * waits yet. A condition variable does not remember a signal - it wakes
 * whoever waits at that moment, and nobody did - so the runner then waits
 * for a signal that has already come and gone: for ever.
 *
 * Symptom: the run stops moving; concdemo finds that the runner waits and
 *          nothing can wake it, ends the run with STUCK and names the
 *          signal that came first.
 * Run:     concdemo lost-wakeup                 the broken runner
 *          concdemo lost-wakeup --fixed=state   a done flag, checked under
 *                                               the lock (recommended)
 *          concdemo lost-wakeup --fixed=sem     a semaphore keeps the post
 * Lesson:  lessons/07-lost-wakeup.md
 *
 * The runner runs --iterations jobs one after the other, each on a worker
 * thread of its own (worker-1, worker-2, ...).
 */
#include <stdatomic.h>
#include <stdio.h>

#include "../lib/cd_cond.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_sem.h"
#include "../lib/cd_thread.h"
#include "support.h"

#define SETUP_USEC 20000 /* the runner's own setup: 20 ms */
#define JOB_USEC 2000    /* the worker's job: 2 ms, done long before */

typedef struct runner {
    int variant;
    int jobs;
    int started;                  /* jobs started (by the runner) */
    cd_thread_t worker;           /* the latest worker, and whether it */
    int unjoined;                 /* still needs joining (runner aborted) */
    /* Jobs done, and seen done. Relaxed: counting must not order the
     * worker and the runner for them. */
    atomic_int finished, heard;
    cd_mutex_t lock;
    cd_cond_t done_cv;  /* broken, fix "state": the worker's signal */
    int done;           /* fix "state": the job is done (under lock) */
    cd_sem_t done_sem;  /* fix "sem": a post the runner cannot miss */
    int g_finished, g_heard; /* live figures for concdemo --view */
} runner_t;

/* ================= waiting for the worker, side by side ================== */

/* Broken: the worker signals, the runner waits - and nothing says which
 * comes first. */
static void tell_done_broken(runner_t *r)
{
    cd_mutex_lock(&r->lock);
    cd_cond_signal(&r->done_cv);          /* BUG: nobody may wait yet */
    cd_mutex_unlock(&r->lock);
}

static void await_done_broken(runner_t *r)
{
    cd_mutex_lock(&r->lock);
    cd_cond_wait(&r->done_cv, &r->lock);  /* BUG: the signal came already */
    cd_mutex_unlock(&r->lock);
}

/* Fix "state": the fact lives in a variable, under the lock; the signal
 * only says "look again". A runner that comes late sees done and does not
 * wait at all. */
static void tell_done_state(runner_t *r)
{
    cd_mutex_lock(&r->lock);
    r->done = 1;                          /* FIX: record it, then signal */
    cd_cond_signal(&r->done_cv);
    cd_mutex_unlock(&r->lock);
}

static void await_done_state(runner_t *r)
{
    cd_mutex_lock(&r->lock);
    while (!r->done)                      /* FIX: wait only while not done */
        cd_cond_wait(&r->done_cv, &r->lock);
    r->done = 0;                          /* FIX: ready for the next job */
    cd_mutex_unlock(&r->lock);
}

/* Fix "sem": a semaphore counts its posts, so a post made before the wait
 * is still there when the runner comes to take it. */
static void tell_done_sem(runner_t *r)
{
    cd_sem_post(&r->done_sem);            /* FIX: the count keeps it */
}

static void await_done_sem(runner_t *r)
{
    cd_sem_wait(&r->done_sem);            /* FIX: takes a post made earlier */
}

static void (*const tell_done[])(runner_t *) = {
    tell_done_broken, tell_done_state, tell_done_sem,
};
static void (*const await_done[])(runner_t *) = {
    await_done_broken, await_done_state, await_done_sem,
};

/* ================================ harness ================================ */

/* The worker: a short job, then "done". */
static void worker(void *arg)
{
    runner_t *r = arg;
    cd_latency("job", JOB_USEC);
    atomic_fetch_add_explicit(&r->finished, 1, memory_order_relaxed);
    cd_reg_gauge_add(r->g_finished, 1);
    tell_done[r->variant](r);
}

/* The runner: for each job, start a worker, do the setup meanwhile, then
 * wait to hear that the job is done. */
static void run_jobs(void *arg)
{
    runner_t *r = arg;
    for (int i = 0; i < r->jobs; i++) {
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "worker-%d", i + 1);
        if (cd_thread_spawn(&r->worker, name, worker, r) != 0)
            break;
        r->started++;
        r->unjoined = 1;
        cd_latency("setup", SETUP_USEC);
        await_done[r->variant](r);
        atomic_fetch_add_explicit(&r->heard, 1, memory_order_relaxed);
        cd_reg_gauge_add(r->g_heard, 1);
        cd_thread_join(&r->worker);
        r->unjoined = 0;
    }
}

void cd_lost_wakeup_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    runner_t r = { .variant = variant, .jobs = p->iterations };
    atomic_init(&r.finished, 0);
    atomic_init(&r.heard, 0);
    int have_lock = cd_mutex_init(&r.lock, "job-lock") == 0;
    int ok = have_lock, have_cv = 0, have_sem = 0;
    if (ok && variant == 2)
        ok = have_sem = cd_sem_init(&r.done_sem, "job-done", 0) == 0;
    else if (ok)
        ok = have_cv = cd_cond_init(&r.done_cv, "job-done") == 0;
    if (!ok) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the runner");
        goto out;
    }
    cd_demo_figures("jobs", r.jobs, "jobs finished", &r.g_finished,
                    "jobs heard done", &r.g_heard, NULL);

    cd_thread_t runner;
    if (cd_thread_spawn(&runner, "runner", run_jobs, &r) != 0) {
        cd_verdict_observe(v, CD_ERROR, "could not start the runner");
        goto out;
    }
    cd_thread_join(&runner); /* orders what the runner and workers wrote */
    if (r.unjoined) /* the run ended the runner while it waited */
        cd_thread_join(&r.worker);

    int started = r.started, finished = atomic_load(&r.finished);
    int heard = atomic_load(&r.heard);
    if (r.jobs == 1)
        cd_verdict_expect(v, "the runner hears that its job finished");
    else
        cd_verdict_expect(v, "the runner hears that each of its %d jobs "
                          "finished", r.jobs);
    cd_verdict_num(v, "jobs", r.jobs);
    cd_verdict_num(v, "finished", finished);
    cd_verdict_num(v, "heard", heard);
    if (started < r.jobs && heard == started)
        cd_verdict_observe(v, CD_ERROR, "could not start worker-%d",
                           started + 1);
    else if (heard < r.jobs)
        cd_verdict_observe(v, CD_VIOLATED, "%d of %d %s finished, the runner "
                           "heard of %d", finished, r.jobs,
                           cd_plural(r.jobs, "job", "jobs"), heard);
    else if (r.jobs == 1)
        cd_verdict_observe(v, CD_HELD, "the job finished and was heard done");
    else
        cd_verdict_observe(v, CD_HELD, "all %d jobs finished and were heard "
                           "done", r.jobs);
out:
    if (have_sem)
        cd_sem_destroy(&r.done_sem);
    if (have_cv)
        cd_cond_destroy(&r.done_cv);
    if (have_lock)
        cd_mutex_destroy(&r.lock);
}
