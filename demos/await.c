/*
 * await.c - a blocking lock held across an await: the executor stalls.
 *
 * The pitfall: on an async runtime, a request handler locks the user's
 * session with an ordinary blocking mutex, adds an item to the cart, and
 * awaits the database save (5 ms) while still holding the lock. The user
 * double-clicks "add": the second request runs on the same worker while
 * the first one waits for its save, tries the session lock, and blocks -
 * not the task, the worker thread itself. The save completes, but the only
 * thread that could resume the first request is stuck waiting for the lock
 * that request holds. Nothing on that worker runs again.
 *
 * Symptom: the run stops moving; the watchdog finds "task request-1 holds
 *          session-1 but can only go on when worker-1 runs it again; task
 *          request-2 blocks worker-1 (its thread waits in a blocking lock of
 *          session-1)" and ends the run.
 * Run:     concdemo await                      one worker: everything stops
 *          concdemo await --workers 4          only worker-1 stalls; the
 *              requests on the other workers finish, those on worker-1 never
 *          concdemo await --fixed=async-mutex  an awaitable lock: waiting
 *              parks the task, the worker runs others (recommended)
 *          concdemo await --fixed=scope        no lock across the await: copy
 *              under the lock, let go, save, come back to write back
 * Lesson:  lessons/05-await.md
 *
 * Requests are routed to workers by user (like a load balancer with sticky
 * sessions): user u's requests run on worker (u-1) % N. User 1 sends two
 * requests (the double click), every other user one.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/cd_amutex.h"
#include "../lib/cd_exec.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "support.h" /* scenario.h, and how a run is driven */

#define SAVE_USEC 5000 /* the database save takes 5 ms */
#define DOUBLE_CLICKS 2

typedef struct session {
    int user;              /* 1-based */
    char name[CD_NAME_MAX]; /* "session-3" */
    int requests;          /* how many requests this user sends */
    int items;             /* the cart in memory */
    int saved_items;       /* the cart as the database last stored it */
    cd_mutex_t lock;       /* broken and "scope": a blocking lock */
    cd_amutex_t alock;     /* "async-mutex": an awaitable lock */
} session_t;

typedef struct app app_t;

typedef struct request {
    app_t *app;
    session_t *s;
    int worker;            /* index it was routed to */
    atomic_int done;
} request_t;

struct app {
    int variant, nusers, nrequests, nworkers;
    session_t *sessions;
    request_t *reqs;
    atomic_int completed, saving, max_saving; /* saving: saves in flight */
    int g_done, g_saving; /* live figures (registry gauges) */
};

/* The database: slow to write. Counts how many saves overlap. */
static void db_save(app_t *a)
{
    int now = atomic_fetch_add(&a->saving, 1) + 1;
    cd_reg_gauge_add(a->g_saving, 1); /* live figure; see show_saves() */
    int max = atomic_load(&a->max_saving);
    while (now > max && !atomic_compare_exchange_weak(&a->max_saving, &max, now))
        ;
    cd_await_latency("db-save", SAVE_USEC);
    atomic_fetch_sub(&a->saving, 1);
}

/* ===================== the request handlers, side by side ================ */

/* Broken: a blocking lock, held across the await. */
static void add_item_broken(app_t *a, session_t *s)
{
    cd_mutex_lock(&s->lock);          /* BUG: a blocking lock... */
    int copy = ++s->items;
    db_save(a);                       /* BUG: ...held across an await */
    s->saved_items = copy;
    cd_mutex_unlock(&s->lock);
}

/* Fix "async-mutex": the same shape with an awaitable lock. A request that
 * finds the session taken parks; its worker runs other requests. */
static void add_item_async_mutex(app_t *a, session_t *s)
{
    cd_amutex_lock(&s->alock);        /* FIX: waiting parks the task */
    int copy = ++s->items;
    db_save(a);
    s->saved_items = copy;
    cd_amutex_unlock(&s->alock);      /* FIX */
}

/* Fix "scope": hold the blocking lock only where no await happens. What
 * the save needs is copied out; the write-back takes the lock again and
 * checks that nobody saved a newer cart meanwhile. */
static void add_item_scope(app_t *a, session_t *s)
{
    cd_mutex_lock(&s->lock);
    int copy = ++s->items;
    cd_mutex_unlock(&s->lock);        /* FIX: let go before the await */
    db_save(a);
    cd_mutex_lock(&s->lock);          /* FIX: back in to write back, */
    if (copy > s->saved_items)        /* FIX: the cart may have moved on */
        s->saved_items = copy;
    cd_mutex_unlock(&s->lock);
}

static void (*const add_item[])(app_t *, session_t *) = {
    add_item_broken, add_item_async_mutex, add_item_scope,
};

/* ================================ harness ================================ */

/* The live figure "saves in flight" for --view (a registry gauge), read
 * with a relaxed load: watching orders nothing between the requests.
 * db_save() counts a save in as it starts; the saves still out are set
 * again here from `saving`, after each request (nothing awaits between
 * its save's end and there) and after the run, which is exact where the
 * figure lagged a moment on another worker. */
static void show_saves(void *app)
{
    app_t *a = app;
    cd_reg_gauge_set(a->g_saving, atomic_load_explicit(&a->saving,
                                                       memory_order_relaxed));
}

static void request_task(void *arg)
{
    request_t *r = arg;
    add_item[r->app->variant](r->app, r->s);
    atomic_store(&r->done, 1);
    atomic_fetch_add(&r->app->completed, 1);
    cd_reg_gauge_add(r->app->g_done, 1);
    show_saves(r->app);
}

/* Request 0 and 1 are user 1's double click, then one per other user. */
static session_t *session_of(app_t *a, int request)
{
    return &a->sessions[request < DOUBLE_CLICKS ? 0 : request - 1];
}

static int setup(void *state, const cd_params_t *p, int variant)
{
    app_t *a = state;
    a->variant = variant;
    a->nusers = p->iterations;
    a->nrequests = p->iterations + DOUBLE_CLICKS - 1;
    a->nworkers = p->workers;
    atomic_init(&a->completed, 0);
    atomic_init(&a->saving, 0);
    atomic_init(&a->max_saving, 0);
    cd_demo_figures("requests", a->nrequests, "finished", &a->g_done,
                    "saves in flight", &a->g_saving, NULL);
    a->sessions = calloc((size_t)a->nusers, sizeof *a->sessions);
    a->reqs = calloc((size_t)a->nrequests, sizeof *a->reqs);
    if (!a->sessions || !a->reqs)
        return -1;
    for (int u = 0; u < a->nusers; u++) {
        session_t *s = &a->sessions[u];
        s->user = u + 1;
        snprintf(s->name, sizeof s->name, "session-%d", u + 1);
        s->requests = u == 0 ? DOUBLE_CLICKS : 1;
        /* One session lock: the awaitable kind for that fix only. */
        int rc = variant == 1 ? cd_amutex_init(&s->alock, s->name)
                              : cd_mutex_init(&s->lock, s->name);
        if (rc != 0)
            return -1;
    }
    for (int i = 0; i < a->nrequests; i++) {
        request_t *r = &a->reqs[i];
        r->app = a;
        r->s = session_of(a, i);
        r->worker = (r->s->user - 1) % a->nworkers; /* sticky by user */
        atomic_init(&r->done, 0);
    }
    return 0;
}

static void teardown(void *state)
{
    app_t *a = state;
    for (int u = 0; a->sessions && u < a->nusers; u++) {
        /* Only what setup got to: ids are 1-based, 0 = never created. */
        if (a->sessions[u].lock.id > 0)
            cd_mutex_destroy(&a->sessions[u].lock);
        if (a->sessions[u].alock.id > 0)
            cd_amutex_destroy(&a->sessions[u].alock);
    }
    free(a->sessions);
    free(a->reqs);
}

/* The worker setup routed a request to. */
static int worker_of(const void *arg, int k)
{
    (void)k;
    return ((const request_t *)arg)->worker;
}

/* Runs every request on an executor. Returns 0, or -1 (could not start). */
static int serve(void *state, cd_verdict_t *v)
{
    app_t *a = state;
    if (cd_demo_run_batch(&(cd_demo_batch_t){
            .n = a->nrequests, .nworkers = a->nworkers, .prefix = "request",
            .worker = worker_of, .fn = request_task, .args = a->reqs,
            .size = sizeof *a->reqs, .after = show_saves, .ctx = a }, v) == 0)
        return 0;
    cd_verdict_observe(v, CD_ERROR, "could not start the executor with %d "
                       "workers and %d tasks", a->nworkers, a->nrequests);
    return -1;
}

/* Where the requests ended up: those on the double click's worker (the
 * one that can stall) and those on the others. */
typedef struct tally {
    int on_stalled, done_on_stalled; /* worker of user 1 */
    int on_others, done_on_others;
} tally_t;

static tally_t count(app_t *a)
{
    tally_t t = { 0 };
    int stalled = 0; /* user 1's requests are routed to worker index 0 */
    for (int i = 0; i < a->nrequests; i++) {
        int done = atomic_load(&a->reqs[i].done);
        if (a->reqs[i].worker == stalled) {
            t.on_stalled++;
            t.done_on_stalled += done;
        } else {
            t.on_others++;
            t.done_on_others += done;
        }
    }
    return t;
}

/* Invariant: every request finishes; every cart holds its user's items and
 * the database holds that cart. */
static void check(void *state, int64_t ns, cd_verdict_t *v)
{
    app_t *a = state;
    double ms = (double)ns / 1e6;
    tally_t t = count(a);
    int done = t.done_on_stalled + t.done_on_others;
    int stuck = a->nrequests - done, wrong = 0;
    for (int u = 0; u < a->nusers; u++) {
        session_t *s = &a->sessions[u];
        wrong += s->items != s->requests || s->saved_items != s->items;
    }

    cd_verdict_expect(v, "all %d requests finish, every cart saved with all "
                      "its items", a->nrequests);
    cd_verdict_num(v, "requests", a->nrequests);
    cd_verdict_num(v, "completed", done);
    cd_verdict_num(v, "stuck", stuck);
    cd_verdict_num(v, "on_worker1", t.on_stalled);
    cd_verdict_num(v, "completed_on_worker1", t.done_on_stalled);
    cd_verdict_num(v, "completed_elsewhere", t.done_on_others);
    cd_verdict_num(v, "workers", a->nworkers);
    cd_verdict_num(v, "carts_wrong", wrong);
    cd_verdict_num(v, "max_saves_at_once", atomic_load(&a->max_saving));
    cd_verdict_num(v, "elapsed_us", (int64_t)(ms * 1000));
    if (stuck && a->nworkers == 1)
        cd_verdict_observe(v, CD_VIOLATED, "the executor stalled: %d of %d "
                           "requests finished; a task blocked the only worker "
                           "in a lock that another task holds across an "
                           "await, so that task can never be resumed", done,
                           a->nrequests);
    else if (stuck && t.done_on_stalled < t.on_stalled && t.on_others == 0)
        cd_verdict_observe(v, CD_VIOLATED, "worker-1 stalled: %d of the %d "
                           "requests routed to it finished (no request went "
                           "to the other worker%s); a task blocked worker-1 "
                           "in a lock held across an await",
                           t.done_on_stalled, t.on_stalled,
                           a->nworkers == 2 ? "" : "s");
    else if (stuck && t.done_on_stalled < t.on_stalled)
        cd_verdict_observe(v, CD_VIOLATED, "worker-1 stalled: %d of the %d "
                           "requests routed to it finished, while the other "
                           "worker%s finished %d of %d%s; a task blocked "
                           "worker-1 in a lock held across an await",
                           t.done_on_stalled, t.on_stalled,
                           a->nworkers == 2 ? "" : "s", t.done_on_others,
                           t.on_others,
                           t.done_on_others < t.on_others
                               ? " before the run was ended" : "");
    else if (stuck || wrong)
        cd_verdict_observe(v, CD_VIOLATED, "%d of %d requests finished, %d "
                           "carts wrong", done, a->nrequests, wrong);
    else
        cd_verdict_observe(v, CD_HELD, "all %d requests finished in %.1f ms "
                           "on %d worker%s, every cart saved; up to %d saves "
                           "at once", done, ms, a->nworkers,
                           a->nworkers == 1 ? "" : "s",
                           atomic_load(&a->max_saving));
}

void cd_await_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    app_t a = { 0 };
    char sessions[32];
    snprintf(sessions, sizeof sessions, "%d sessions", p->iterations);
    cd_demo_run(&(cd_demo_steps_t){ setup, serve, check, teardown,
                                    sessions }, &a, p, variant, v);
}
