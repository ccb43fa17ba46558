/*
 * cd_detect.c - cycle search and the watchdog thread.
 */
#include "cd_detect.h"

#include "cd_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ============================ wait-for graph ============================= */

static const cd_thread_info_t *thread_at(const cd_snapshot_t *s, int id)
{
    return (id > 0 && id <= s->nthreads) ? &s->threads[id - 1] : NULL;
}

static const cd_obj_info_t *obj_at(const cd_snapshot_t *s, int id)
{
    return (id > 0 && id <= s->nobjs) ? &s->objs[id - 1] : NULL;
}

/* A task that waits for nothing but its worker: it is ready, or parked on
 * a timer. A timer always fires, and then only the worker can run the task
 * on; whether it fired already makes no difference when the worker is held
 * by somebody who waits for this very task. */
static int wants_worker(const cd_thread_info_t *t)
{
    if (!t->worker)
        return 0;
    return t->state == CD_T_READY ||
           (t->state == CD_T_PARKED && t->waiting_on == 0);
}

/* The object t waits for: what it is blocked or parked on, or its worker
 * when it only waits to be run. 0 if none. */
static int waited_object(const cd_thread_info_t *t)
{
    if (wants_worker(t))
        return t->worker;
    return t->waiting_on;
}

/* The thread that `t` waits for, or 0 if t is not in an endless wait. A
 * thread blocked in a lock, or a task parked on an awaitable lock, waits
 * for the owner. A task that only waits for its worker waits endlessly
 * when the task occupying the worker is blocked: a blocked thread never
 * returns to its executor, so it cannot run anything else. */
static int waits_for(const cd_snapshot_t *s, const cd_thread_info_t *t)
{
    if (wants_worker(t)) {
        const cd_obj_info_t *w = obj_at(s, t->worker);
        const cd_thread_info_t *occupant = w ? thread_at(s, w->owner) : NULL;
        if (!occupant || occupant->id == t->id ||
            occupant->state != CD_T_BLOCKED)
            return 0;
        return occupant->id;
    }
    if ((t->state != CD_T_BLOCKED && t->state != CD_T_PARKED) ||
        t->wait_timed || !obj_at(s, t->waiting_on))
        return 0;
    return s->objs[t->waiting_on - 1].owner;
}

static void fill_cycle(const cd_snapshot_t *s, const int *path, int len,
                       cd_cycle_t *out)
{
    int start = 0;
    for (int i = 1; i < len; i++)
        if (path[i] < path[start])
            start = i;
    out->len = len < CD_MAX_CYCLE ? len : CD_MAX_CYCLE;
    for (int k = 0; k < out->len; k++) {
        int cur = path[(start + k) % len];
        int prev = path[(start + k + len - 1) % len];
        out->link[k] = (cd_cycle_link_t){
            .thread = cur,
            .holds = waited_object(thread_at(s, prev)),
            .waits = waited_object(thread_at(s, cur)),
        };
    }
}

int cd_waitfor_find_cycle(const cd_snapshot_t *s, cd_cycle_t *out)
{
    /* Each thread waits for at most one other, so following the chain from
     * every thread finds any cycle; a colour per thread keeps it linear. */
    unsigned char *colour = calloc((size_t)s->nthreads + 1, 1);
    int *path = malloc(((size_t)s->nthreads + 1) * sizeof *path);
    int found = 0;

    if (!colour || !path)
        goto out;
    for (int first = 1; first <= s->nthreads && !found; first++) {
        int len = 0, id = first;
        /* colour: 0 unseen, 1 on the current chain, 2 finished */
        while (id && colour[id] == 0) {
            colour[id] = 1;
            path[len++] = id;
            id = waits_for(s, thread_at(s, id));
            if (id > s->nthreads)
                id = 0;
        }
        if (id && colour[id] == 1) {
            int from = 0;
            while (path[from] != id)
                from++;
            fill_cycle(s, path + from, len - from, out);
            found = 1;
        }
        for (int i = 0; i < len; i++)
            colour[path[i]] = 2;
    }
out:
    free(colour);
    free(path);
    return found;
}

static int is_worker(int obj)
{
    cd_obj_rec_t *o = cd_reg_object(obj);
    return o && atomic_load(&o->kind) == CD_OBJ_WORKER;
}

int cd_cycle_format(const cd_cycle_t *c, char *buf, size_t size)
{
    size_t at = 0;
    if (size)
        buf[0] = '\0';
    for (int k = 0; k < c->len; k++) {
        const cd_cycle_link_t *l = &c->link[k];
        const char *who = cd_reg_thread_name(l->thread);
        const char *holds = cd_reg_object_name(l->holds);
        const char *waits = cd_reg_object_name(l->waits);
        const char *sep = k ? "; " : "";
        /* A worker is not a lock a learner took: say what it means. */
        if (is_worker(l->holds))
            cd__appendf(buf, size, &at, "%stask %s blocks %s (its thread "
                        "waits in a blocking lock of %s)", sep, who, holds,
                        waits);
        else if (is_worker(l->waits))
            cd__appendf(buf, size, &at, "%stask %s holds %s but can only go "
                        "on when %s runs it again", sep, who, holds, waits);
        else
            cd__appendf(buf, size, &at, "%s%s holds %s, waits %s", sep, who,
                        holds, waits);
    }
    return (int)at;
}

/* =============================== watchdog ================================ */

struct cd_watchdog {
    pthread_t pt;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    int timeout_ms, period_ms, grace_ms;
    cd_stuck_fn on_stuck;
    int64_t aborted_at_ns; /* when the watchdog first saw the abort */
    int64_t start_ns;      /* real time: the hard limit is wall-clock */
    int64_t limit_ns;      /* of unpaused time; grows on a starved machine */
    int extensions;        /* how often it grew */
    int64_t next_load_ns;  /* when to sample the load next (run time) */
    int load_on;           /* the load has a baseline */
    cd_load_t load;
    cd_snapshot_t snap;
    cd_cycle_t last;       /* the cycle seen by the previous scan */
    unsigned last_seq[CD_MAX_CYCLE];
    int have_last;
};

/* Same threads, same objects, same waits (wait_seq) as the last scan. */
static int same_as_last(cd_watchdog_t *w, const cd_cycle_t *c)
{
    if (!w->have_last || w->last.len != c->len)
        return 0;
    for (int k = 0; k < c->len; k++) {
        const cd_cycle_link_t *a = &w->last.link[k], *b = &c->link[k];
        if (a->thread != b->thread || a->waits != b->waits ||
            a->holds != b->holds ||
            w->last_seq[k] != thread_at(&w->snap, b->thread)->wait_seq)
            return 0;
    }
    return 1;
}

static void scan(cd_watchdog_t *w)
{
    cd_cycle_t c;

    cd_reg_snapshot(&w->snap);
    if (!cd_waitfor_find_cycle(&w->snap, &c)) {
        w->have_last = 0;
        return;
    }
    if (same_as_last(w, &c)) {
        cd__reg_set_deadlock(&c);
        cd_reg_abort(CD_ABORT_DEADLOCK);
        return;
    }
    w->last = c;
    for (int k = 0; k < c.len; k++)
        w->last_seq[k] = thread_at(&w->snap, c.link[k].thread)->wait_seq;
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
 * time? A controlled run's limit is never extended: one thread runs at a
 * time there by design. */
static int starved_now(cd_watchdog_t *w)
{
    if (!w->load_on || w->extensions >= MAX_EXTENSIONS || cd_sched_active())
        return 0;
    cd_load_sample(&w->load);
    return cd_load_starved(&w->load);
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
        if (w->stop)
            continue;
        if (cd_reg_aborted()) {
            int64_t now = cd_now_ns() - w->start_ns;
            if (!w->aborted_at_ns)
                w->aborted_at_ns = now;
            else if (w->on_stuck &&
                     now - w->aborted_at_ns >= (int64_t)w->grace_ms * 1000000)
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
        track_load(w);
        /* A controlled run finds its deadlocks itself, deterministically. */
        if (!cd_sched_active())
            scan(w);
    }
    CD_CHECK(pthread_mutex_unlock(&w->lock));
    return NULL;
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
    w->start_ns = cd_now_ns();
    w->limit_ns = (int64_t)timeout_ms * 1000000;
    w->next_load_ns = LOAD_EVERY_NS;
    w->on_stuck = on_stuck;
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

void cd_watchdog_load(cd_watchdog_t *w, cd_run_load_t *out)
{
    memset(out, 0, sizeof *out);
    CD_CHECK(pthread_mutex_lock(&w->lock));
    out->limit_ms = (int)(w->limit_ns / 1000000);
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
