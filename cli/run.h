/*
 * run.h - running one scenario variant under the library's supervision.
 *
 * cd_run() resets the registry, applies the options (trace, latency
 * scale), starts the watchdog with the hard time limit, runs the variant,
 * and merges what the detectors found (deadlock cycle, lock-order
 * inversions, a stuck run) into the verdict. It prints nothing.
 */
#ifndef CD_RUN_H
#define CD_RUN_H

#include <stdint.h>

#include "../demos/scenario.h"
#include "../lib/cd_detect.h"
#include "../lib/cd_lockorder.h"
#include "../lib/cd_waitfor.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_sched.h"

typedef struct cd_run_opts {
    cd_params_t params;
    int timeout_ms;        /* hard limit for the whole run */
    int trace;             /* record the event trace */
    int latency_permille;  /* simulated latency scale, 1000 = as written */
    cd_stuck_fn on_stuck;  /* threads ignored the abort: report and exit */
    const cd_sched_cfg_t *sched; /* controlled run, or NULL: free threads */
    /* Called on the running thread once the registry was reset and set
     * up, before the scenario starts: from then on an observer may read
     * it (the live view waits for this). NULL: not called. */
    void (*on_ready)(void *arg);
    void *ready_arg;
    /* A watchdog kept for many runs (cd_run_watchdog_start): rearmed for
     * this run and idled after it. NULL: the run starts its own. */
    cd_watchdog_t *watchdog;
} cd_run_opts_t;

#define CD_SCHEDULE_MAX 4096

typedef struct cd_run_result {
    const cd_scenario_t *scenario;
    int variant;
    cd_params_t params;
    cd_verdict_t verdict;
    int64_t duration_ns;
    int has_cycle;
    cd_cycle_t cycle;
    int has_stuck;         /* no thread could run: what each waited for */
    cd_stuck_t stuck;
    int ninv;
    cd_inversion_t inv[CD_MAX_INVERSIONS];
    /* Controlled runs: the choices made, as a replayable schedule string
     * ("" when it did not fit), how many, and the operations taken. */
    int controlled;
    int spurious;    /* it allowed spurious wake-ups (cfg.spurious): its
                        replay must too */
    int ndecisions;
    long steps;
    char schedule[CD_SCHEDULE_MAX];
    char replay[CD_SCHEDULE_MAX + 256]; /* the command that replays it */
    /* What the machine gave the run: CPU used, time waiting for a CPU,
     * and the limit in force (longer than asked on a starved machine). */
    cd_run_load_t load;
} cd_run_result_t;

/* Runs variant of s. Returns 0, or -errno when the watchdog could not be
 * started (r->verdict then says so with CD_ERROR). */
int cd_run(const cd_scenario_t *s, int variant, const cd_run_opts_t *o,
           cd_run_result_t *r);

/* Starts a watchdog with the settings cd_run gives its own, for o's
 * timeout and stuck handler, idle until a run rearms it; sets
 * o->watchdog. Returns 0 or -errno. cd_run_watchdog_stop stops it and
 * clears o->watchdog (safe when none was started). */
int cd_run_watchdog_start(cd_run_opts_t *o);
void cd_run_watchdog_stop(cd_run_opts_t *o);

/* 0 held, 1 violated / deadlocked / stuck / livelocked / timed out /
 * potential deadlock / stopped, 2 error. */
int cd_exit_code(int status);

#endif /* CD_RUN_H */
