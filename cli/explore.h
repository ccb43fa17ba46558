/*
 * explore.h - running many controlled schedules of one scenario variant
 * until one breaks the invariant, the space is exhausted (dfs), or the
 * run/time budget is spent. Prints only the progress line (to stderr,
 * when asked); the caller reports the outcome.
 */
#ifndef CD_EXPLORE_H
#define CD_EXPLORE_H

#include "run.h"

typedef struct cd_explore {
    const cd_scenario_t *scenario;
    int variant;
    cd_params_t params;
    int strategy;               /* CD_SCHED_RANDOM, _PCT or _DFS */
    const char *strategy_name;
    uint64_t seed;              /* first seed; run i uses seed + i */
    int depth;                  /* pct */
    int bound;                  /* dfs */
    long runs;                  /* 0: no limit but the budget */
    double budget_s;            /* 0: no time limit */
    long max_steps;
    int timeout_ms;             /* per run */
    int latency_permille;
    int spurious;               /* condition variables may wake without a
                                   signal (cd_sched_cfg_t.spurious) */
    int progress;               /* draw a progress line on stderr */
    cd_stuck_fn on_stuck;       /* a run's threads ignored its abort (see
                                   cd_run_opts_t); NULL: nobody is told */
    /* Park each run's threads for the next run (cd_thread_pool_begin)
     * rather than make them anew: several times faster, and only for code
     * that keeps nothing in thread-local variables (the scenarios here).
     * A learner's `static _Thread_local` would carry over from one run to
     * the next, and the run found would not be the one its replay, on
     * fresh threads, repeats. */
    int keep_threads;
    /* Run each run's threads as coroutines on the exploring thread
     * (cd_sched_cfg_t.fibers): for a scenario whose threads only do lib
     * operations (cd_scenario_t.fibers). */
    int fibers;
} cd_explore_t;

typedef struct cd_explore_result {
    long runs;
    long distinct;   /* different schedule strings seen */
    int found;       /* a run broke the invariant: it is in *found */
    int exhausted;   /* dfs: every schedule within the bound was tried */
    double seconds;
    double cpu_seconds; /* the process's CPU time meanwhile, every thread's:
                           with seconds, how much of the machine it had */
} cd_explore_result_t;

/* Explores; *found holds the last run (the failing one when out->found).
 * Returns 0, or -E2BIG (dfs with more than 64 threads), -ENOMEM, -EAGAIN
 * (a run could not start). */
int cd_explore(const cd_explore_t *e, cd_explore_result_t *out,
               cd_run_result_t *found);

#endif /* CD_EXPLORE_H */
