/*
 * lost_wakeup.c - the harness of the exercise lost-wakeup (the learner's
 * part: lessons/exercises/lost_wakeup.c, its interface: lost_wakeup.h).
 *
 * A job runner: for each job it starts a worker, does its own setup
 * meanwhile, then waits in the learner's await_done() for the worker's
 * tell_done(). The jobs write into the run's books (cli/ledger.h) when
 * they begin and end, and the runner when await_done() returned: the
 * invariant - the runner goes on only after its job ended - is judged
 * from them, by this program and again by the checker. A runner that
 * never returns is a run that cannot move: the library ends it as STUCK.
 * Everything here but cd_exercise is static: the learner's file cannot
 * reach it, and the build refuses a learner's file that defines a name
 * of its own beyond lost_wakeup.h.
 */
#include <stdatomic.h>
#include <stdio.h>

#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/exercise.h"
#include "harness/lost_wakeup.h"
#include "../../cli/ledger.h"

#define SETUP_USEC 20000 /* the runner's own setup: 20 ms */
#define JOB_USEC 2000    /* the worker's job: 2 ms, done long before */

typedef struct jobs {
    runner_t *runner;  /* the learner's hand-off */
    int count;         /* jobs to run, one after another */
    int current;       /* the job being started (written before its spawn) */
    cd_thread_t worker;
    int unjoined;      /* the worker still needs joining (runner aborted) */
    int no_worker;     /* the job whose worker could not start, + 1 */
    /* Jobs ended, for the checker's explanation alone: relaxed, so that
     * it orders nothing the learner's hand-off must order. */
    atomic_int ended;
} jobs_t;

/* The worker: the job, whose beginning and end the books keep where the
 * learner's code cannot write, then "done". */
static void worker(void *arg)
{
    jobs_t *j = arg;
    int job = j->current;
    cd_ledger_put(CD_EFF_CALL, job, 0, 0, 0);
    cd_latency("job", JOB_USEC);
    cd_ledger_put(CD_EFF_CALL_END, job, 0, 0, 0);
    atomic_fetch_add_explicit(&j->ended, 1, memory_order_relaxed);
    tell_done(j->runner);
}

/* The runner: for each job, start a worker, do the setup meanwhile, then
 * wait to hear that the job is done. */
static void run_jobs(void *arg)
{
    jobs_t *j = arg;
    for (int i = 0; i < j->count; i++) {
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "worker-%d", i + 1);
        j->current = i;
        if (cd_thread_spawn(&j->worker, name, worker, j) != 0) {
            j->no_worker = i + 1;
            break;
        }
        j->unjoined = 1;
        cd_latency("setup", SETUP_USEC);
        await_done(j->runner);
        if (atomic_load_explicit(&j->ended, memory_order_relaxed) <= i)
            cd_point("job not done"); /* where the checker looks back */
        cd_ledger_put(CD_EFF_RETURNED, i, 0, 0, 0);
        cd_thread_join(&j->worker);
        j->unjoined = 0;
    }
}

/* The invariant (cli/ledger.c): every job ended, and the runner returned
 * from await_done() after it ended, every time. */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    jobs_t j = { 0 };
    cd_thread_t runner;

    j.count = plan->jobs;
    if (cd_ledger_begin("lost-wakeup", p) != 0 ||
        !(j.runner = runner_create())) {
        cd_ledger_end_error(v, 1, "could not set up the runner");
        return;
    }
    int spawned = cd_thread_spawn(&runner, "runner", run_jobs, &j) == 0;
    if (spawned) {
        cd_thread_join(&runner); /* orders what the runner wrote */
        if (j.unjoined) /* the run ended the runner while it waited */
            cd_thread_join(&j.worker);
    }
    cd_ledger_end(v);
    if (!spawned)
        cd_verdict_observe(v, CD_ERROR, "could not start the runner");
    else if (j.no_worker)
        cd_verdict_observe(v, CD_ERROR, "could not start worker-%d",
                           j.no_worker);
    runner_destroy(j.runner);
}

EX_SCENARIO("lost-wakeup", run,
            .defaults = { .iterations = 3 },
            .min = { .iterations = 1 },
            .max = { .iterations = 1000 });
