/*
 * run.c - one supervised run of a scenario variant.
 */
#include "run.h"

#include <stdio.h>
#include <string.h>

/* The watchdog looks this often; a deadlock is reported within ~2 scans. */
#define SCAN_MS 10
/* After an abort, threads get this long to stop before on_stuck fires. */
#define GRACE_MS 2000

/* A run stopped at its limit: say what the machine gave it, so that a
 * starved machine is not taken for a hung or spinning run. */
static void timed_out(cd_run_result_t *r, int timeout_ms, const char *was)
{
    const cd_run_load_t *l = &r->load;
    cd_verdict_t *v = &r->verdict;
    double cpu = (double)l->cpu_ns / 1e9, queued = (double)l->queued_ns / 1e9;
    double wall = (double)l->wall_ns / 1e9;
    char when[128];

    /* The limit may have been extended once only to measure the load. */
    if (l->limit_ms > timeout_ms)
        snprintf(when, sizeof when, "%d ms (the %d ms limit, extended once "
                 "to measure the machine)", l->limit_ms, timeout_ms);
    else
        snprintf(when, sizeof when, "the %d ms limit", timeout_ms);

    if (l->measured) {
        cd_verdict_num(v, "cpu_ms", l->cpu_ns / 1000000);
        cd_verdict_num(v, "waited_for_cpu_ms", l->queued_ns / 1000000);
        cd_verdict_num(v, "starved", l->starved);
    }
    if (l->measured && l->starved)
        cd_verdict_observe(v, CD_TIMEOUT, "still running after %d ms (the "
                           "%d ms limit, extended while the machine was "
                           "starved), stopped: its threads waited %.1f s "
                           "for a CPU and ran %.2f s, so a busy machine, not "
                           "the run, is the likely cause; run it again on a "
                           "quieter one (%s)", l->limit_ms, timeout_ms,
                           queued, cpu, was);
    else if (l->measured && cpu >= wall / 2)
        cd_verdict_observe(v, CD_TIMEOUT, "still running after %s, "
                           "stopped: it kept %.1f CPUs busy (a livelock or "
                           "a spin loop?) (%s)", when,
                           wall > 0 ? cpu / wall : 0, was);
    else if (l->measured)
        cd_verdict_observe(v, CD_TIMEOUT, "still running after %s, "
                           "stopped: it waited rather than ran (%.2f s of "
                           "CPU in %.1f s, with CPUs to spare): a hang, or "
                           "a run longer than the limit (%s)", when, cpu,
                           wall, was);
    else
        cd_verdict_observe(v, CD_TIMEOUT, "still running after the %d ms "
                           "limit, stopped (%s)", timeout_ms, was);
}

static void merge_findings(cd_run_result_t *r, int timeout_ms)
{
    cd_verdict_t *v = &r->verdict;
    char was[CD_TEXT_MAX], finding[CD_TEXT_MAX];
    int reason = cd_reg_aborted();

    r->has_cycle = cd_reg_deadlock(&r->cycle);
    r->has_stuck = cd_reg_stuck(&r->stuck);
    r->ninv = cd_reg_inversions(r->inv, CD_MAX_INVERSIONS);
    if (v->status == CD_ERROR)
        return;
    memcpy(was, v->observed, sizeof was);
    if (r->has_cycle) {
        cd_cycle_format(&r->cycle, finding, sizeof finding);
        cd_verdict_observe(v, CD_DEADLOCK, "%s (%s)", finding, was);
    } else if (reason == CD_ABORT_STUCK) {
        if (r->has_stuck)
            cd_stuck_format(&r->stuck, NULL, finding, sizeof finding);
        else /* the scheduler found no memory for its snapshot */
            snprintf(finding, sizeof finding, "what the threads wait for "
                     "could not be read");
        cd_verdict_observe(v, CD_STUCK, "no thread can run: %s (%s)",
                           finding, was);
    } else if (reason == CD_ABORT_MISFIT) {
        cd_verdict_observe(v, CD_ERROR, "%s", cd_sched_misfit());
    } else if (reason == CD_ABORT_STEPS) {
        cd_verdict_observe(v, CD_TIMEOUT, "still running after %ld "
                           "operations, stopped (a livelock or a spin loop?) (%s)",
                           r->steps, was);
    } else if (reason == CD_ABORT_TIMEOUT) {
        timed_out(r, timeout_ms, was);
    } else if (reason == CD_ABORT_USER) {
        cd_verdict_observe(v, CD_STOPPED, "the run stopped by the user "
                           "before its end: nothing is proven (%s)", was);
    } else if (v->status == CD_HELD && r->ninv > 0) {
        cd_verdict_observe(v, CD_POTENTIAL, "%s, but the lock-order check "
                           "saw locks taken in opposite orders: this can "
                           "deadlock on another run", was);
    }
}

/* Keeps what a controlled run decided, then returns to free running. */
static void end_controlled(cd_run_result_t *r)
{
    const cd_sched_decision_t *d;
    int n = cd_sched_decisions(&d);

    r->controlled = 1;
    r->ndecisions = n;
    r->steps = cd_sched_steps();
    if (cd_sched_format_schedule(d, n, r->schedule, sizeof r->schedule) >=
        (int)sizeof r->schedule)
        r->schedule[0] = '\0';
    cd_sched_end();
}

/* The run is over for its watchdog: a kept one idles, its own stops. */
static void put_watchdog(const cd_run_opts_t *o, cd_watchdog_t *w)
{
    if (o->watchdog)
        cd_watchdog_idle(w);
    else
        cd_watchdog_stop(w);
}

int cd_run_watchdog_start(cd_run_opts_t *o)
{
    int rc = cd_watchdog_start(&o->watchdog, o->timeout_ms, SCAN_MS,
                               GRACE_MS, o->on_stuck);
    if (rc == 0)
        cd_watchdog_idle(o->watchdog);
    else
        o->watchdog = NULL;
    return rc;
}

void cd_run_watchdog_stop(cd_run_opts_t *o)
{
    cd_watchdog_stop(o->watchdog);
    o->watchdog = NULL;
}

int cd_run(const cd_scenario_t *s, int variant, const cd_run_opts_t *o,
           cd_run_result_t *r)
{
    cd_watchdog_t *w = NULL;

    memset(r, 0, sizeof *r);
    r->scenario = s;
    r->variant = variant;
    r->params = o->params;
    cd_reg_reset();
    cd_reg_set_trace(o->trace);
    cd_reg_set_latency_scale(o->latency_permille);
    if (o->on_ready)
        o->on_ready(o->ready_arg);
    int rc = 0;
    if (o->watchdog)
        cd_watchdog_rearm(w = o->watchdog);
    else
        rc = cd_watchdog_start(&w, o->timeout_ms, SCAN_MS, GRACE_MS,
                               o->on_stuck);
    if (rc != 0) {
        cd_verdict_observe(&r->verdict, CD_ERROR,
                           "could not start the watchdog");
        return rc;
    }
    if (o->sched && (rc = cd_sched_begin(o->sched)) != 0) {
        put_watchdog(o, w);
        cd_verdict_observe(&r->verdict, CD_ERROR,
                           "could not start the controlled scheduler");
        return rc;
    }
    int64_t t0 = cd_reg_elapsed_ns();
    s->run(&o->params, variant, &r->verdict);
    r->duration_ns = cd_reg_elapsed_ns() - t0;
    if (o->sched) {
        end_controlled(r);
        r->spurious = o->sched->spurious;
    }
    cd_watchdog_load(w, &r->load);
    put_watchdog(o, w);
    merge_findings(r, o->timeout_ms);
    return 0;
}

int cd_exit_code(int status)
{
    switch (status) {
    case CD_HELD: return 0;
    case CD_ERROR: return 2;
    default: return 1;
    }
}
