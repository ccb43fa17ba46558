/*
 * explore.c - `concdemo explore`: many controlled schedules of one variant.
 *
 * random and pct give every run a new seed; dfs enumerates the schedules
 * with at most BOUND preemptions, depth first, by giving each run the
 * prefix of choices to follow and letting the default policy (no
 * preemption) finish it. The first run whose verdict is not HELD stops the
 * exploration and is printed with the command that replays it.
 */
#include "explore.h"

#include "../lib/cd_thread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DFS_MAX CD_SCHED_MAX_CHOICES

/* One decision on the dfs stack. */
typedef struct frame {
    uint64_t runnable, ontime, tried;
    uint16_t prev, chosen;
} frame_t;

typedef struct dfs {
    frame_t *stack;
    int depth;
    uint16_t *prefix;
    /* The scenario's bug is made of time (explore_on_time): no sleep ends
     * before its time, as in random's and pct's runs of it. */
    int on_time;
} dfs_t;

/* ============================== schedules seen =========================== */

/* A small open-addressing set of schedule hashes, to count distinct ones. */
typedef struct seen {
    uint64_t *slot;
    size_t cap, n;
} seen_t;

/* FNV-1a over the chosen ids of the last run's decisions: the schedule
 * itself, even when it is too long to print. */
static uint64_t hash_last_schedule(void)
{
    const cd_sched_decision_t *d;
    int n = cd_sched_decisions(&d);
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < n; i++) {
        h = (h ^ (d[i].chosen & 0xff)) * 1099511628211ULL;
        h = (h ^ (d[i].chosen >> 8)) * 1099511628211ULL;
    }
    return h ? h : 1;
}

static void seen_add(seen_t *set)
{
    if (set->n * 2 >= set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 1024;
        uint64_t *slot = calloc(cap, sizeof *slot);
        if (!slot)
            return;
        for (size_t i = 0; i < set->cap; i++) {
            if (!set->slot[i])
                continue;
            size_t j = set->slot[i] & (cap - 1);
            while (slot[j])
                j = (j + 1) & (cap - 1);
            slot[j] = set->slot[i];
        }
        free(set->slot);
        set->slot = slot;
        set->cap = cap;
    }
    uint64_t h = hash_last_schedule();
    size_t j = h & (set->cap - 1);
    while (set->slot[j] && set->slot[j] != h)
        j = (j + 1) & (set->cap - 1);
    if (!set->slot[j]) {
        set->slot[j] = h;
        set->n++;
    }
}

/* =================================== dfs ================================= */

/* What choosing c at f costs against the bound: 1 for a preemption (the
 * thread that ran could go on, on time, and c is another) and 1 for a
 * sleep ended before its time (c is not on time: cd_sched.h), else 0. So
 * the default policy's run costs nothing, and each way a schedule departs
 * from what deadlines alone would do costs one. */
static int cost(const frame_t *f, int c)
{
    int prev_on = f->prev && (f->ontime >> (f->prev - 1) & 1);
    int c_on = (int)(f->ontime >> (c - 1) & 1);
    return !c_on || (prev_on && c != f->prev);
}

/* Appends the decisions of the last run from index `from` on. Returns -1
 * if a decision involved a thread id above 64 (dfs keeps masks). */
static int dfs_push_run(dfs_t *d, int from)
{
    const cd_sched_decision_t *dec;
    int n = cd_sched_decisions(&dec);
    if (n > DFS_MAX)
        n = DFS_MAX;
    d->depth = from;
    for (int i = from; i < n; i++) {
        if (dec[i].wide)
            return -1;
        d->stack[d->depth++] = (frame_t){
            .runnable = dec[i].runnable, .ontime = dec[i].ontime,
            .prev = dec[i].prev,
            .chosen = dec[i].chosen,
            .tried = 1ULL << (dec[i].chosen - 1),
        };
    }
    return 0;
}

/* Finds the deepest decision with an untried choice within the bound,
 * takes it, and writes the prefix that leads there. Returns the prefix
 * length, or 0 when the space is exhausted. */
static int dfs_next(dfs_t *d, int bound)
{
    while (d->depth > 0) {
        int i = d->depth - 1, before = 0;
        frame_t *f = &d->stack[i];
        for (int j = 0; j < i; j++)
            before += cost(&d->stack[j], d->stack[j].chosen);
        uint64_t left = f->runnable & ~f->tried;
        while (left) {
            int c = __builtin_ctzll(left) + 1;
            left &= left - 1;
            int early = !(f->ontime >> (c - 1) & 1);
            if ((d->on_time && early) || before + cost(f, c) > bound) {
                f->tried |= 1ULL << (c - 1);
                continue;
            }
            f->tried |= 1ULL << (c - 1);
            f->chosen = (uint16_t)c;
            for (int j = 0; j <= i; j++)
                d->prefix[j] = d->stack[j].chosen;
            return i + 1;
        }
        d->depth--;
    }
    return 0;
}

/* ================================ the loop =============================== */

static double seconds_since(int64_t t0)
{
    return (double)(cd_now_ns() - t0) / 1e9;
}

static int64_t cpu_now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The progress line (e->progress: stderr is a terminal): from the first
 * second on, rewritten in place - schedules tried, their rate, and the
 * time left when a budget or a run limit bounds it - and erased at the
 * end (last), so that the report below is all that stays. A search of
 * under a second draws nothing. width: what the line last took. */
static void progress(const cd_explore_t *e, long runs, int64_t t0, int last,
                     int *width)
{
    double s = seconds_since(t0);
    if (!e->progress || (!last && s < 1.0))
        return;
    if (last) {
        if (*width > 0)
            fprintf(stderr, "\r%*s\r", *width, "");
        *width = 0;
        fflush(stderr);
        return;
    }
    double rate = runs / s, left = -1;
    if (e->budget_s > 0)
        left = e->budget_s - s;
    if (e->runs > 0 && rate > 0 && (left < 0 || (e->runs - runs) / rate < left))
        left = (e->runs - runs) / rate;
    char tail[48] = "";
    if (left >= 0)
        snprintf(tail, sizeof tail, ", %.0f s left", left);
    int n = fprintf(stderr, "\rexplore %s [%s] %s: %ld schedules, %.0f/s%s",
                    e->scenario->name, e->scenario->variants[e->variant].name,
                    e->strategy_name, runs, rate, tail);
    /* Blanks over what a longer line before left. */
    if (n - 1 < *width)
        fprintf(stderr, "%*s", *width - (n - 1), "");
    if (n - 1 > *width)
        *width = n - 1;
    fflush(stderr);
}

int cd_explore(const cd_explore_t *e, cd_explore_result_t *out,
               cd_run_result_t *found)
{
    /* A sleep may end at any decision: time must not order events in the
     * search (cd_sched.h) - unless time is the scenario's bug (threads that
     * retry on one clock), which a search that stops time cannot show. */
    cd_sched_cfg_t cfg = { .strategy = e->strategy, .depth = e->depth,
                           .bound = e->bound, .pct_steps = 64,
                           .max_steps = e->max_steps,
                           .anyorder = !e->scenario->explore_on_time,
                           .spurious = e->spurious,
                           .fibers = e->fibers, .stay_pinned = 1 };
    cd_run_opts_t o = { .params = e->params, .timeout_ms = e->timeout_ms,
                        .latency_permille = e->latency_permille,
                        .on_stuck = e->on_stuck, .sched = &cfg };
    dfs_t d = { .on_time = e->scenario->explore_on_time };
    seen_t seen = { 0 };
    /* A run that held but took locks in opposite orders is a warning, not
     * yet the bug: keep looking for a real failure, and report the first
     * warning only if none turns up. */
    cd_run_result_t *potential = NULL;
    int64_t t0 = cd_now_ns(), last_note = t0, cpu0 = cpu_now_ns();
    int rc = 0, width = 0;

    memset(out, 0, sizeof *out);
    /* Thousands of runs a second: one watchdog for all of them, and, when
     * the code allows it, the threads of each run parked for the next
     * instead of made anew. */
    if (cd_run_watchdog_start(&o) != 0) {
        rc = -EAGAIN;
        goto done;
    }
    if (e->keep_threads)
        cd_thread_pool_begin();
    if (e->strategy == CD_SCHED_DFS) {
        d.stack = malloc(DFS_MAX * sizeof *d.stack);
        d.prefix = malloc(DFS_MAX * sizeof *d.prefix);
        if (!d.stack || !d.prefix) {
            rc = -ENOMEM;
            goto done;
        }
        cfg.prefix = d.prefix;
    }
    for (long run = 0; e->runs == 0 || run < e->runs; run++) {
        cfg.seed = e->seed + (uint64_t)run;
        if (cd_run(e->scenario, e->variant, &o, found) != 0) {
            rc = -EAGAIN;
            break;
        }
        out->runs++;
        seen_add(&seen);
        if (found->steps > cfg.pct_steps)
            cfg.pct_steps = (int)found->steps;
        if (found->verdict.status == CD_POTENTIAL) {
            if (!potential && (potential = malloc(sizeof *potential)))
                *potential = *found;
        } else if (found->verdict.status != CD_HELD) {
            out->found = 1;
            break;
        }
        if (e->strategy == CD_SCHED_DFS) {
            /* The run replayed the prefix; keep the frames above it and
             * what was tried at its last step, push what came after. */
            int from = cfg.nprefix ? cfg.nprefix - 1 : 0;
            uint64_t tried = cfg.nprefix ? d.stack[from].tried : 0;
            if (dfs_push_run(&d, from) != 0) {
                rc = -E2BIG;
                break;
            }
            d.stack[from].tried |= tried;
            cfg.nprefix = dfs_next(&d, e->bound);
            if (cfg.nprefix == 0) {
                out->exhausted = 1;
                break;
            }
        }
        if (e->budget_s > 0 && seconds_since(t0) >= e->budget_s)
            break;
        if (cd_now_ns() - last_note > 250000000) {
            progress(e, out->runs, t0, 0, &width);
            last_note = cd_now_ns();
        }
    }
    progress(e, out->runs, t0, 1, &width);
    if (!out->found && potential) {
        *found = *potential;
        out->found = 1;
    }
done:
    if (e->keep_threads)
        cd_thread_pool_end();
    cd_sched_unpin();
    cd_run_watchdog_stop(&o);
    free(potential);
    out->distinct = (long)seen.n;
    out->seconds = seconds_since(t0);
    out->cpu_seconds = (double)(cpu_now_ns() - cpu0) / 1e9;
    free(seen.slot);
    free(d.stack);
    free(d.prefix);
    return rc;
}
