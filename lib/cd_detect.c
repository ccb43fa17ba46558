/*
 * cd_detect.c - the watchdog thread: deadlocks (through the wait-for
 * graph's cycle search, cd_waitfor.c), stuck runs (its stuck check), the
 * hard time limit and a starved machine.
 */
#include "cd_detect.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cd_internal.h"
#include "cd_load.h"
#include "cd_waitfor.h"

struct cd_watchdog {
    pthread_t pt;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    int idle;              /* between two runs it watches: it only waits */
    int timeout_ms, period_ms, grace_ms;
    cd_stuck_fn on_stuck;
    int64_t aborted_at_ns; /* when the watchdog first saw the abort */
    int64_t start_ns;      /* real time: the hard limit is wall-clock */
    int64_t limit_ns;      /* of unpaused time; grows on a starved machine */
    int extensions;        /* how often it grew */
    int grace_extensions;  /* how often the grace after the abort grew */
    int64_t next_load_ns;  /* when to sample the load next (run time) */
    int load_on;           /* the load has a baseline */
    cd_load_t load;
    cd_snapshot_t snap;
    cd_cycle_t last;       /* the cycle seen by the previous scan */
    unsigned last_seq[CD_MAX_CYCLE];
    int have_last;
    /* The stuck check: how many scans in a row saw the run stuck with the
     * very same waits, since when, and those waits (each thread's state
     * and wait_seq at the first of them). */
    int stuck_scans;
    int64_t stuck_since_ns;
    int stuck_nthreads;
    unsigned stuck_seq[CD_MAX_THREADS];
    unsigned char stuck_state[CD_MAX_THREADS];
    /* The spin check of a controlled run: its step count and the clock of
     * the thread with the turn at the last look, and that thread's CPU
     * time when either last changed. */
    int spin_known;
    long spin_steps;
    clockid_t spin_clock;
    int64_t spin_cpu_ns;
    int spun;              /* the run was stopped for that spin */
};

/* Which wait a thread of the snapshot is in (ids from a found cycle). */
static unsigned wait_seq(const cd_snapshot_t *s, int id)
{
    return s->threads[id - 1].wait_seq;
}

/* Same threads, same objects, same waits (wait_seq) as the last scan. */
static int same_as_last(cd_watchdog_t *w, const cd_cycle_t *c)
{
    if (!w->have_last || w->last.len != c->len)
        return 0;
    for (int k = 0; k < c->len; k++) {
        const cd_cycle_link_t *a = &w->last.link[k], *b = &c->link[k];
        if (a->thread != b->thread || a->waits != b->waits ||
            a->holds != b->holds ||
            w->last_seq[k] != wait_seq(&w->snap, b->thread))
            return 0;
    }
    return 1;
}

/* A run is called stuck only once it has stayed stuck, with the same
 * waits, over this many scans and this long. A thread that was let go
 * (signalled, its lock released) still shows blocked until it runs, and
 * on a busy machine that can take a while: when its object shows that it
 * can go, the check already says "not stuck"; the time is there for what
 * the snapshot cannot show, such as a waiter woken by a thread that has
 * since blocked again, or a record read halfway through its update. */
#define STUCK_SCANS 3
#define STUCK_FOR_NS (200 * 1000 * 1000LL)

/* Every thread in the same state and the same wait as when the stuck
 * streak began. */
static int same_waits(const cd_watchdog_t *w)
{
    if (w->snap.nthreads != w->stuck_nthreads)
        return 0;
    for (int i = 0; i < w->snap.nthreads; i++)
        if (w->snap.threads[i].wait_seq != w->stuck_seq[i] ||
            w->snap.threads[i].state != w->stuck_state[i])
            return 0;
    return 1;
}

static void begin_stuck_streak(cd_watchdog_t *w, int64_t now)
{
    w->stuck_scans = 1;
    w->stuck_since_ns = now;
    w->stuck_nthreads = w->snap.nthreads;
    for (int i = 0; i < w->snap.nthreads; i++) {
        w->stuck_seq[i] = w->snap.threads[i].wait_seq;
        w->stuck_state[i] = (unsigned char)w->snap.threads[i].state;
    }
}

/* The snapshot has no cycle: is the run stuck, and has it been, with the
 * same waits, long enough to say so? Then record what each thread waits
 * for and abort the run. */
static void check_stuck(cd_watchdog_t *w)
{
    int64_t now = cd_now_ns();
    if (!cd_waitfor_stuck(&w->snap)) {
        w->stuck_scans = 0;
        return;
    }
    if (w->stuck_scans == 0 || !same_waits(w)) {
        begin_stuck_streak(w, now);
        return;
    }
    if (++w->stuck_scans < STUCK_SCANS ||
        now - w->stuck_since_ns < STUCK_FOR_NS)
        return;
    cd_stuck_t st;
    cd_waitfor_describe(&w->snap, &st);
    cd__reg_set_stuck(&st);
    cd_reg_abort(CD_ABORT_STUCK);
}

static void scan(cd_watchdog_t *w)
{
    cd_cycle_t c;

    cd_reg_snapshot(&w->snap);
    if (!cd_waitfor_find_cycle(&w->snap, &c)) {
        w->have_last = 0;
        check_stuck(w);
        return;
    }
    /* A cycle is a deadlock, reported as such (below), never as stuck. */
    w->stuck_scans = 0;
    if (same_as_last(w, &c)) {
        cd__reg_set_deadlock(&c);
        cd_reg_abort(CD_ABORT_DEADLOCK);
        return;
    }
    w->last = c;
    for (int k = 0; k < c.len; k++)
        w->last_seq[k] = wait_seq(&w->snap, c.link[k].thread);
    w->have_last = 1;
}

/* The load is sampled every LOAD_EVERY_NS from the first one on, and the
 * first waits as long: a short run (explore runs thousands a second)
 * never reads /proc. */
#define LOAD_EVERY_NS (100 * 1000 * 1000LL)
#define MAX_EXTENSIONS 2

static void track_load(cd_watchdog_t *w)
{
    int64_t now = cd_now_ns() - w->start_ns;
    if (now < w->next_load_ns)
        return;
    w->next_load_ns = now + LOAD_EVERY_NS;
    if (w->load_on) {
        cd_load_sample(&w->load);
    } else {
        cd_load_begin(&w->load);
        w->load_on = 1;
    }
}

/* At the limit: was the machine the bottleneck, and may the run have more
 * time? A controlled run too: one thread runs at a time there, and each
 * hand-off to the next waits for a CPU on a starved machine (a worksheet's
 * --sched run under TSan, eight commands at once beside the other suites,
 * ran 1 s and waited 10.6 s for a CPU in its 10 s limit). */
static int starved_now(cd_watchdog_t *w)
{
    if (w->extensions >= MAX_EXTENSIONS)
        return 0;
    /* The watchdog itself ran too late to take a first look before the
     * limit (a starved machine does that; so does a limit under 100 ms):
     * measure from now, over one more limit, before judging. */
    if (!w->load_on) {
        cd_load_begin(&w->load);
        w->load_on = 1;
        w->next_load_ns = cd_now_ns() - w->start_ns + LOAD_EVERY_NS;
        return 1;
    }
    cd_load_sample(&w->load);
    return cd_load_starved(&w->load);
}

/* After the abort: have the run's threads had their grace to stop? A
 * thread that gets no CPU cannot notice the abort, so on a starved
 * machine the grace starts again (a few times) before the threads are
 * called stuck. */
#define MAX_GRACE_EXTENSIONS 3

static int grace_over(cd_watchdog_t *w, int64_t now)
{
    if (now - w->aborted_at_ns < (int64_t)w->grace_ms * 1000000)
        return 0;
    if (w->grace_extensions < MAX_GRACE_EXTENSIONS && !cd_sched_active()) {
        int starved;
        if (!w->load_on) {
            /* Never measured: measure over one more grace, then judge. */
            cd_load_begin(&w->load);
            w->load_on = 1;
            starved = 1;
        } else {
            cd_load_sample(&w->load);
            starved = cd_load_starved(&w->load);
        }
        if (starved) {
            w->grace_extensions++;
            w->aborted_at_ns = now;
            return 0;
        }
    }
    return 1;
}

/* Under the controlled scheduler only the thread whose turn it is runs,
 * and each of its library calls is a step. A turn that spent SPIN_CPU_NS
 * of its thread's CPU time with no step is spinning outside the library
 * (a loop on a plain flag, which the others, never given the turn, can
 * never set): the run is stopped then, not at its limit (seconds later).
 * That thread's CPU time, not the wall's nor the process's: a turn that
 * waits (for the learner's choice in step mode, on a paused view, on a
 * socket) spends none, whatever the view or the watchdog spend, and a
 * controlled run's own work between two steps is microseconds. */
#define SPIN_CPU_NS (1000 * 1000 * 1000LL)

/* The CPU time of the thread with the turn, or -1 if unknown (it ended). */
static int64_t turn_cpu_ns(clockid_t clock)
{
    struct timespec ts;
    if (!clock || clock_gettime(clock, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int spinning(cd_watchdog_t *w)
{
    long steps = cd_sched_steps();
    clockid_t clock = cd__sched_turn_clock();
    int64_t cpu = turn_cpu_ns(clock);
    if (cpu < 0)
        return 0;
    if (!w->spin_known || steps != w->spin_steps ||
        clock != w->spin_clock) {
        w->spin_known = 1;
        w->spin_steps = steps;
        w->spin_clock = clock;
        w->spin_cpu_ns = cpu;
        return 0;
    }
    return cpu - w->spin_cpu_ns >= SPIN_CPU_NS;
}

/* After a spin stopped a controlled run, the drained threads unwind in
 * milliseconds; the spinner, if it keeps spinning, is the loop that never
 * calls the library. Once it has spun this much more CPU time since the
 * abort, it is called stuck then, not after the whole grace (seconds of
 * every spinning thread's CPU). Its own CPU time: a starved machine that
 * does not run it does not count. */
#define SPIN_AGAIN_NS (250 * 1000 * 1000LL)

static int still_spinning(cd_watchdog_t *w)
{
    int64_t cpu = w->spun ? turn_cpu_ns(w->spin_clock) : -1;
    return cpu >= 0 && cpu - w->spin_cpu_ns >= SPIN_CPU_NS + SPIN_AGAIN_NS;
}

static void *watchdog_main(void *p)
{
    cd_watchdog_t *w = p;

    CD_CHECK(pthread_mutex_lock(&w->lock));
    while (!w->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long ns = ts.tv_nsec + (long)w->period_ms * 1000000L;
        ts.tv_sec += ns / 1000000000L;
        ts.tv_nsec = ns % 1000000000L;
        int rc = pthread_cond_timedwait(&w->wake, &w->lock, &ts);
        if (rc != 0 && rc != ETIMEDOUT)
            CD_CHECK(rc);
        if (w->stop || w->idle)
            continue;
        if (cd_reg_aborted()) {
            int64_t now = cd_now_ns() - w->start_ns;
            if (!w->aborted_at_ns)
                w->aborted_at_ns = now;
            else if (w->on_stuck && (still_spinning(w) || grace_over(w, now)))
                w->on_stuck(cd_reg_aborted());
            continue;
        }
        /* Time spent paused (the live view's `p`) does not count. */
        if (w->timeout_ms > 0 && cd_reg_active_ns() >= w->limit_ns) {
            if (starved_now(w)) {
                w->extensions++;
                w->limit_ns += (int64_t)w->timeout_ms * 1000000;
                continue;
            }
            cd_reg_abort(CD_ABORT_TIMEOUT);
            cd__sched_drain();
            continue;
        }
        if (cd_sched_active() && spinning(w)) {
            w->spun = 1;
            cd_reg_abort(CD_ABORT_TIMEOUT);
            cd__sched_drain();
            continue;
        }
        track_load(w);
        /* A controlled run finds its deadlocks itself, deterministically. */
        if (!cd_sched_active())
            scan(w);
    }
    CD_CHECK(pthread_mutex_unlock(&w->lock));
    return NULL;
}

/* Everything it knew about the run it watched: it watches one from now
 * on. Caller holds w->lock, or has the watchdog to itself. */
static void begin_run(cd_watchdog_t *w)
{
    w->idle = 0;
    w->aborted_at_ns = 0;
    w->start_ns = cd_now_ns();
    w->limit_ns = (int64_t)w->timeout_ms * 1000000;
    w->extensions = 0;
    w->grace_extensions = 0;
    w->next_load_ns = LOAD_EVERY_NS;
    w->load_on = 0;
    w->have_last = 0;
    w->stuck_scans = 0;
    w->spin_known = 0;
    w->spun = 0;
}

int cd_watchdog_start(cd_watchdog_t **out, int timeout_ms, int period_ms,
                      int grace_ms, cd_stuck_fn on_stuck)
{
    cd_watchdog_t *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    CD_CHECK(pthread_mutex_init(&w->lock, NULL));
    CD_CHECK(pthread_cond_init(&w->wake, NULL));
    w->timeout_ms = timeout_ms;
    w->period_ms = period_ms > 0 ? period_ms : 10;
    w->grace_ms = grace_ms;
    w->on_stuck = on_stuck;
    begin_run(w);
    int rc = pthread_create(&w->pt, NULL, watchdog_main, w);
    if (rc != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return -rc;
    }
    *out = w;
    return 0;
}

void cd_watchdog_rearm(cd_watchdog_t *w)
{
    CD_CHECK(pthread_mutex_lock(&w->lock));
    begin_run(w);
    CD_CHECK(pthread_mutex_unlock(&w->lock));
}

void cd_watchdog_idle(cd_watchdog_t *w)
{
    CD_CHECK(pthread_mutex_lock(&w->lock));
    w->idle = 1;
    CD_CHECK(pthread_mutex_unlock(&w->lock));
}

void cd_watchdog_load(cd_watchdog_t *w, cd_run_load_t *out)
{
    memset(out, 0, sizeof *out);
    CD_CHECK(pthread_mutex_lock(&w->lock));
    out->limit_ms = (int)(w->limit_ns / 1000000);
    out->more_graces = w->grace_extensions;
    if (w->load_on) {
        cd_load_sample(&w->load);
        out->measured = 1;
        out->starved = cd_load_starved(&w->load);
        out->wall_ns = w->load.wall_ns;
        out->cpu_ns = w->load.cpu_ns;
        out->queued_ns = w->load.queued_ns;
    }
    CD_CHECK(pthread_mutex_unlock(&w->lock));
}

void cd_watchdog_stop(cd_watchdog_t *w)
{
    if (!w)
        return;
    CD_CHECK(pthread_mutex_lock(&w->lock));
    w->stop = 1;
    CD_CHECK(pthread_cond_signal(&w->wake));
    CD_CHECK(pthread_mutex_unlock(&w->lock));
    CD_CHECK(pthread_join(w->pt, NULL));
    CD_CHECK(pthread_cond_destroy(&w->wake));
    CD_CHECK(pthread_mutex_destroy(&w->lock));
    free(w);
}
