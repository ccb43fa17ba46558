/*
 * cd_sched.h - the controlled scheduler: one thread at a time, every pass
 * through the choke point a scheduling decision.
 *
 * In the free mode (the default) threads run in parallel and the choke
 * point only records. In a controlled run exactly one thread is allowed to
 * run; at each operation (lock, unlock, latency, point, spawn, join, ...)
 * the strategy picks which thread goes next. A blocking operation never
 * really blocks: the thread is parked with a condition ("the lock is
 * free", "the thread ended", "the sleep is over") and another is chosen.
 * When no thread can run and none sleeps, that is a deadlock, found
 * deterministically.
 *
 * Time orders nothing unless a run asks it to. A sleeper (a latency, an
 * await's timer, a timed wait's timeout) may end at any decision, before
 * or after any other sleeper: it is one of the choices there, recorded in
 * the schedule like any other, so that only synchronisation orders events.
 * "On time" names the choices that deadlines alone would allow: what can
 * go on without a sleep ending early (a sleeper past its deadline
 * included), or, when nothing can, the sleepers with the earliest
 * deadline. A virtual clock runs for the reports: a sleeper ends at its
 * deadline or later (the clock moves to the deadline of one that ends
 * early, so those that end after it are late), and never goes back.
 *
 * Who ends sleeps early: exploration (`anyorder`, which cd_explore sets)
 * lets random and pct do it, and the learner in step mode may pick a
 * sleeper. A single run of random or pct, the default policy (dfs after
 * its prefix, Enter in step mode) and replay's own choices keep to what
 * is on time, so that a single run's clock measures (how long, how much
 * overlapped) as the deadlines say. Every run records the same kind of
 * schedule: a replay repeats an explored run, early ends included.
 *
 * Strategies (cd_sched_parse):
 *   random:SEED        uniform choice among everything that may go on,
 *                      sleepers included
 *   pct:SEED[:DEPTH]   probabilistic concurrency testing: random priorities,
 *                      DEPTH-1 priority change points; a sleep ends only
 *                      when no thread can go on otherwise, and then any
 *                      sleeper at random (so a poller never starves one)
 *   dfs[:BOUND]        exhaustive within BOUND preemptions (driven by an
 *                      explorer, which gives each run a prefix to follow);
 *                      ending a sleep before its time counts as one
 *   replay:SCHEDULE    follow the choices a failing run printed
 *   replay:@FILE       the same, from a file written by --save-schedule
 *   step               ask a chooser callback (the learner) at each choice
 *
 * A decision is recorded only where two or more choices were open; the
 * schedule string lists the chosen ids of those decisions (a thread, or
 * the task whose await ends), with runs of the same id written as
 * ID*COUNT, e.g. "2.3*4.2.1".
 */
#ifndef CD_SCHED_H
#define CD_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "cd_common.h"

enum cd_sched_strategy {
    CD_SCHED_FREE = 0,
    CD_SCHED_RANDOM,
    CD_SCHED_PCT,
    CD_SCHED_DFS,
    CD_SCHED_REPLAY,
    CD_SCHED_STEP
};

/* A run records this many decisions at most. A decision comes with an
 * operation, a park or an exit, so this holds every decision of a run
 * stopped at the default step bound (a livelock's too), and its replay
 * repeats it to the end. */
#define CD_SCHED_MAX_CHOICES (1 << 18)
#define CD_SCHED_DEFAULT_STEPS 100000

/* A chooser for step mode: given the ids that may go on (n >= 2; a
 * sleeper among them ends its sleep if chosen) and the thread that ran
 * last, returns the id to run, or 0 to let the default policy choose this
 * once. Called on the thread that reached the decision. */
typedef int (*cd_sched_chooser)(const int *runnable, int n, int prev,
                                 void *arg);

typedef struct cd_sched_cfg {
    int strategy;
    uint64_t seed;
    int depth;      /* pct: number of priority change points + 1 */
    int pct_steps;  /* pct: how many decisions a run is expected to have */
    int bound;      /* dfs: preemption bound */
    long max_steps; /* operations before the run is stopped */
    int nprefix;    /* replay / dfs: choices to follow first */
    uint16_t *prefix;
    cd_sched_chooser chooser; /* step */
    void *chooser_arg;
    /* random, pct: a sleep may end at any decision (exploration). 0:
     * they choose what is on time, and sleepers end in the order of their
     * deadlines - for a run that shows or measures time, never for a
     * search, where a sleep would then order events. */
    int anyorder;
    /* A condition variable's waiter (cd_cond.h) may wake without a signal,
     * as POSIX allows: while it waits without a deadline, waking it is one
     * more choice at every decision (like a sleep that may end early: not
     * on time, one against dfs's bound), recorded in the schedule so that
     * a replay with the same setting repeats it. random takes it at 1
     * decision in 4, pct at its priority change points and when no thread
     * can go on otherwise, the default policy never; a step chooser may. It is offered only beside a choice
     * that could go on without it: when nothing else can, the run is
     * deadlocked or stuck. 0: no spurious wake-ups (a timed wait may still end
     * early under anyorder, as a timeout). */
    int spurious;
    /* 1: the threads the run spawns (cd_thread_spawn, cd_team_run) are
     * coroutines on the thread that began it, not OS threads (cd_fiber.h:
     * for programs whose threads only do lib operations). Ignored in the
     * sanitizer builds. */
    int fibers;
    /* 1: cd_sched_end leaves the caller on its one CPU, for the next run
     * of a series (an exploration), which then calls cd_sched_unpin. */
    int stay_pinned;
} cd_sched_cfg_t;

/* One recorded decision: what could go on, who ran before, what was
 * chosen. */
typedef struct cd_sched_decision {
    uint64_t runnable; /* bit (id-1) for ids 1..64; see `wide` */
    uint64_t ontime;   /* the part of runnable that is on time (above) */
    uint16_t prev;     /* thread that reached the decision point */
    uint16_t chosen;
    uint8_t wide;      /* some runnable id was above 64 (not in the mask) */
    uint8_t nrunnable;
} cd_sched_decision_t;

/* Parses "random:7", "pct:3:2", "dfs", "dfs:2", "replay:1.2*3",
 * "replay:@FILE", "step".
 * On success fills *cfg (prefix memory from malloc: cd_sched_cfg_free) and
 * returns 0; on error writes a one-line reason naming the bad part into
 * err and returns -EINVAL. */
int cd_sched_parse(const char *spec, cd_sched_cfg_t *cfg, char *err,
                   size_t errlen);
void cd_sched_cfg_free(cd_sched_cfg_t *cfg);

/* Parses / formats a schedule string (ids 1..65535). parse returns the
 * number of choices, or -EINVAL with a reason in err. */
int cd_sched_parse_schedule(const char *s, uint16_t *out, int max, char *err,
                            size_t errlen);
int cd_sched_format_schedule(const cd_sched_decision_t *d, int n, char *buf,
                             size_t size);

/* Starts controlled mode for the run about to begin, on the calling thread
 * (which becomes the first participant). Call after cd_reg_reset() and
 * before any thread is spawned; pins the calling thread (and so the
 * threads it starts) to one CPU so hand-offs stay cheap. Returns 0 or
 * -errno. */
int cd_sched_begin(const cd_sched_cfg_t *cfg);
/* Ends it, once every participant but the caller has been joined, and
 * gives the caller back the CPUs it had (unless cfg.stay_pinned). */
void cd_sched_end(void);
/* Gives the calling thread back the CPUs it had before a run pinned it;
 * nothing if it is not pinned. */
void cd_sched_unpin(void);
int cd_sched_active(void);

/* What the run did: decisions made, steps taken, and why the schedule
 * failed to fit when it did (NULL when it fitted). */
int cd_sched_decisions(const cd_sched_decision_t **out);
long cd_sched_steps(void);
const char *cd_sched_misfit(void);

/* While a step chooser is asked: the id the default policy would choose
 * (what Enter does), which is not always the thread that ran last; 0 when
 * the scheduler is asking nothing. */
int cd_sched_fallback(void);

/* The next operation a parked thread will perform (for step mode and the
 * view): op, object, label and site as passed to the choke point. For a
 * task whose await the scheduler may end: CD_OP_AWAIT and what it awaits. */
void cd_sched_pending(int id, int *op, int *obj, const char **label,
                      cd_site_t *site);

#endif /* CD_SCHED_H */
