/*
 * order_violation.c - the connection used before it exists.
 *
 * The pitfall: a service starts its request handlers and, on another
 * thread, connects to its database (slow: 20 ms), then stores the
 * connection where the handlers look for it. The code is written as if
 * start-up ran first; nothing makes it so. A handler that takes a request
 * in those 20 ms finds no connection: in C a NULL pointer, in a service a
 * crash or an error page.
 *
 * Symptom: the first requests after every start fail: "used before it
 *          was created"; later ones succeed, so it looks like a hiccup.
 * Run:     concdemo order-violation                the broken start-up
 *          concdemo order-violation --fixed=cond   handlers wait, on a
 *              condition variable, until start-up says "ready" (recommended)
 *          concdemo order-violation --fixed=join   handlers are started only
 *              once start-up has ended
 *          concdemo order-violation --fixed=once   whoever needs the
 *              connection first makes it, exactly once
 * Lesson:  lessons/09-order-violation.md
 *
 * --threads N starts N handlers; --iterations is the number of requests
 * each one serves. The thread "startup" makes the connection.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/cd_cond.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_sched.h"
#include "../lib/cd_thread.h"
#include "support.h"

#define CONNECT_USEC 20000 /* the database handshake takes 20 ms */
#define LOOK_POLL_USEC 1000     /* ...in the broken start-up, then more, */
#define LOOK_CAP_USEC 2000000   /* until a handler looks (2 s at most) */
#define QUERY_USEC 1000
#define REQUEST_GAP_USEC 10000 /* a handler's requests come 10 ms apart */

enum { BROKEN, COND, JOIN, ONCE };

typedef struct conn {
    int open;           /* the handshake has finished */
} conn_t;

typedef struct app {
    int variant;
    int nhandlers, requests;
    conn_t *conn;       /* what the handlers use: set by start-up */
    conn_t storage;     /* the one connection there is to make */
    cd_thread_t *handlers;
    int ready;          /* fix "cond": start-up has set conn (under lock) */
    cd_mutex_t lock;    /* fix "cond": guards ready; fix "once": conn */
    cd_cond_t ready_cv; /* fix "cond": signalled when ready is set */
    /* What happened, counted with relaxed atomics: the counters must not
     * order the threads for them. */
    atomic_int connects, served, too_early;
    atomic_int connected_by;   /* the thread that made the connection */
    atomic_int looks;          /* look-ups that have returned */
    int g_served, g_too_early; /* live figures for concdemo --view */
} app_t;

/* In the broken start-up the handshake goes on until a handler has
 * looked for the connection (2 s at most). A real service shows this bug
 * only when a request comes within the handshake; the demo must show it
 * on every run, and a loaded machine can start a handler later than 20 ms.
 * The fixes are right whenever the handlers look, so they keep the plain
 * 20 ms; so do controlled runs, where the schedule decides who goes first
 * (in step mode the learner may let start-up finish first). */
static void hold_handshake_for_a_look(app_t *a)
{
    if (a->variant != BROKEN || cd_sched_active())
        return;
    for (int64_t t = 0; t < LOOK_CAP_USEC &&
         !atomic_load_explicit(&a->looks, memory_order_relaxed);
         t += LOOK_POLL_USEC)
        cd_latency("db-connect", LOOK_POLL_USEC);
}

/* The database: a slow handshake, then an open connection. Called once
 * in a correct start-up; the invariant counts the calls. */
static conn_t *db_connect(app_t *a)
{
    conn_t *c = &a->storage;
    atomic_fetch_add_explicit(&a->connects, 1, memory_order_relaxed);
    atomic_store_explicit(&a->connected_by, cd_self(), memory_order_relaxed);
    cd_latency("db-connect", CONNECT_USEC);
    hold_handshake_for_a_look(a);
    c->open = 1;
    return c;
}

/* ============ start-up and the handler's look-up, side by side ============ */

/* Broken: start-up stores the connection; handlers take what is there. */
static void startup_broken(app_t *a)
{
    conn_t *c = db_connect(a);
    cd_point("publish conn");
    a->conn = c;                  /* BUG: nothing waits for this line... */
}

static conn_t *get_conn_broken(app_t *a)
{
    cd_point("read conn");
    return a->conn;               /* BUG: ...so this may run before it */
}

/* Fix "cond": start-up says "ready" under the lock and wakes the waiters;
 * a handler waits for it, in a loop, before it looks. */
static void startup_cond(app_t *a)
{
    conn_t *c = db_connect(a);
    cd_mutex_lock(&a->lock);                  /* FIX: under the lock */
    cd_point("publish conn");
    a->conn = c;
    a->ready = 1;                             /* FIX: say so, */
    cd_cond_broadcast(&a->ready_cv);          /* FIX: wake who waits */
    cd_mutex_unlock(&a->lock);
}

static conn_t *get_conn_cond(app_t *a)
{
    cd_mutex_lock(&a->lock);                  /* FIX: under the lock */
    while (!a->ready)                         /* FIX: while, not if */
        cd_cond_wait(&a->ready_cv, &a->lock); /* FIX: sleep until told */
    cd_point("read conn");
    conn_t *c = a->conn;
    cd_mutex_unlock(&a->lock);
    return c;
}

/* Fix "once": no start-up order at all. Whoever needs the connection
 * first makes it, under the lock, and everybody else waits for that.
 * (pthread_once does the same, but a thread waiting inside it waits
 * where concdemo's scheduler and detectors cannot see it: a cd_mutex
 * here.) */
static conn_t *get_conn_once(app_t *a)
{
    cd_mutex_lock(&a->lock);                  /* FIX: one at a time, */
    if (!a->conn)                             /* FIX: and only the first */
        a->conn = db_connect(a);              /* FIX: connects */
    cd_point("read conn");
    conn_t *c = a->conn;
    cd_mutex_unlock(&a->lock);
    return c;
}

static void startup_once(app_t *a)
{
    get_conn_once(a); /* warms it up, if no request came first */
}

/* Fix "join" keeps the broken start-up and look-up: what it changes is
 * when the handlers start (boot_join, below). */
static void (*const startup[])(app_t *) = {
    startup_broken, startup_cond, startup_broken, startup_once,
};

static conn_t *(*const get_conn[])(app_t *) = {
    get_conn_broken, get_conn_cond, get_conn_broken, get_conn_once,
};

/* ================================ harness ================================ */

static void startup_thread(void *arg)
{
    app_t *a = arg;
    startup[a->variant](a);
}

/* One handler serves its requests: each uses the connection for a query. */
static void handler(void *arg)
{
    app_t *a = arg;
    for (int i = 0; i < a->requests; i++) {
        if (i > 0)
            cd_latency("next request", REQUEST_GAP_USEC);
        conn_t *c = get_conn[a->variant](a);
        /* Relaxed: the database's wait for a look must not order the
         * threads (for ThreadSanitizer) where the service does not. */
        atomic_fetch_add_explicit(&a->looks, 1, memory_order_relaxed);
        if (!c || !c->open) {
            /* A real handler would crash here, or fail the request. (A
             * connection it found but cannot see open is as early: in the
             * broken start-up nothing orders the two stores for it.) */
            atomic_fetch_add_explicit(&a->too_early, 1, memory_order_relaxed);
            cd_reg_gauge_add(a->g_too_early, 1);
            continue;
        }
        cd_latency("query", QUERY_USEC);
        atomic_fetch_add_explicit(&a->served, 1, memory_order_relaxed);
        cd_reg_gauge_add(a->g_served, 1);
    }
}

/* Starts the handlers, each on its own thread as soon as it is made (no
 * start gate: a server takes requests as its threads come up). Returns
 * how many started; on a failure, the rest are not started. */
static int start_handlers(app_t *a)
{
    int n = 0;
    for (; n < a->nhandlers; n++) {
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "handler-%d", n + 1);
        if (cd_thread_spawn(&a->handlers[n], name, handler, a) != 0)
            break;
    }
    return n;
}

/* Joins the first n handlers. Returns how many the run's abort ended. */
static int join_handlers(app_t *a, int n)
{
    int aborted = 0;
    for (int i = 0; i < n; i++)
        aborted += cd_thread_join(&a->handlers[i]) != 0;
    return aborted;
}

/* Broken, cond, once: the handlers come up, then start-up connects in the
 * background. Returns how many threads the abort ended, or -EAGAIN. */
static int boot_together(app_t *a)
{
    cd_thread_t st;
    int n = start_handlers(a), rc = -EAGAIN;
    if (n == a->nhandlers)
        rc = cd_thread_spawn(&st, "startup", startup_thread, a);
    int aborted = join_handlers(a, n);
    if (rc == 0)
        aborted += cd_thread_join(&st) != 0;
    return rc < 0 ? rc : aborted;
}

/* Fix "join": start-up first, to its end; then the handlers. */
static int boot_join(app_t *a)
{
    cd_thread_t st;
    if (cd_thread_spawn(&st, "startup", startup_thread, a) != 0)
        return -EAGAIN;
    int aborted = cd_thread_join(&st) != 0;       /* FIX: start-up ends, */
    int n = start_handlers(a);                    /* FIX: then these start */
    aborted += join_handlers(a, n);
    return n < a->nhandlers ? -EAGAIN : aborted;
}

static void check(app_t *a, int rc, cd_verdict_t *v)
{
    int want = a->nhandlers * a->requests;
    int served = atomic_load(&a->served), early = atomic_load(&a->too_early);
    int connects = atomic_load(&a->connects);

    cd_verdict_expect(v, "each of %d %s finds the database connection "
                      "open, made once", want,
                      cd_plural(want, "request", "requests"));
    cd_verdict_num(v, "requests", want);
    cd_verdict_num(v, "served", served);
    cd_verdict_num(v, "used_before_creation", early);
    cd_verdict_num(v, "connects", connects);
    const char *by = cd_reg_thread_name(atomic_load(&a->connected_by));
    cd_verdict_str(v, "connected_by", "%s", by ? by : "nobody");
    if (rc < 0)
        cd_verdict_observe(v, CD_ERROR, "could not start the threads");
    else if (early || served < want || connects != 1)
        cd_verdict_observe(v, CD_VIOLATED, "%d of %d %s used the connection "
                           "before start-up had made it; %d served, %d %s",
                           early, want, cd_plural(want, "request", "requests"),
                           served, connects,
                           cd_plural(connects, "connect", "connects"));
    else
        cd_verdict_observe(v, CD_HELD, "%s%d %s served on the one "
                           "connection, made by %s", served > 1 ? "all " : "",
                           served, cd_plural(served, "request", "requests"),
                           by ? by : "nobody");
}

void cd_order_violation_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    app_t a = { .variant = variant, .nhandlers = p->threads,
                .requests = p->iterations };
    atomic_init(&a.connects, 0);
    atomic_init(&a.served, 0);
    atomic_init(&a.too_early, 0);
    atomic_init(&a.connected_by, 0);
    atomic_init(&a.looks, 0);
    a.handlers = calloc((size_t)a.nhandlers, sizeof *a.handlers);
    if (!a.handlers || cd_mutex_init(&a.lock, "conn-lock") != 0) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the service");
        free(a.handlers);
        return;
    }
    if (cd_cond_init(&a.ready_cv, "conn-ready") != 0) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the service");
        cd_mutex_destroy(&a.lock);
        free(a.handlers);
        return;
    }
    cd_demo_figures("requests", a.nhandlers * a.requests, "served", &a.g_served,
                    "used too early", &a.g_too_early, NULL);
    check(&a, variant == JOIN ? boot_join(&a) : boot_together(&a), v);
    cd_cond_destroy(&a.ready_cv);
    cd_mutex_destroy(&a.lock);
    free(a.handlers);
}
