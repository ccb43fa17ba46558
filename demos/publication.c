/*
 * publication.c - the early flag: a record is used before it is written.
 *
 * The pitfall: a pool warmer opens connections to the database one by one
 * and publishes each in a slot of the pool: a `ready` flag, and the record
 * it guards (the session the handshake returned). Request handlers poll a
 * slot's flag and, once it is up, use the session. The broken warmer raises
 * the flag first and fills the record after the handshake (2 ms): every
 * handler that polls in between sees "ready" and reads a session that is
 * not there yet.
 *
 * Writing the flag first is what a plain or a relaxed atomic flag lets the
 * compiler and the processor do to the right order in the source: nothing
 * makes the record visible before the flag. Here the early flag is written
 * out, with the slow handshake between the two writes, so that every run
 * shows what reordering shows only now and then.
 *
 * Symptom: handlers read sessions that are still 0 ("stale reads");
 *          ThreadSanitizer reports a data race on the session.
 * Run:     concdemo publication                          the early flag
 *          concdemo publication --fixed=release-acquire  record first, then a
 *                                     release store; acquire loads (recommended)
 *          concdemo publication --fixed=mutex            both under one lock
 * Lesson:  lessons/11-publication.md
 *
 * --iterations sets the connections the warmer opens, --threads the
 * handlers; every handler reads every connection, in the warmer's order.
 * Handlers poll every 0.25 ms: each poll is a named point, so that a
 * controlled run can put any of them anywhere between the two writes.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "support.h" /* scenario.h, and how a run is driven */

#define HANDSHAKE_USEC 2000 /* the database's handshake takes 2 ms */
#define POLL_USEC 250       /* a handler looks at the flag every 0.25 ms */
#define MAX_HANDLERS 64

/* What the handshake returns for connection id: never 0, so that a session
 * of 0 is one nobody has written yet. */
#define SESSION_OF(id) (7001L + 13L * (id))

typedef struct conn {
    int id;
    atomic_int ready; /* the flag: an atomic, in every variant */
    long session;     /* the record it guards: plain memory */
    atomic_int readers; /* handlers done with it: relaxed, a count */
    int pace;           /* the handlers its handshake waits for (below) */
} conn_t;

typedef struct pool {
    int variant;
    int nconns, nhandlers;
    conn_t *conns;
    cd_mutex_t lock;  /* fix "mutex": guards every slot */
    atomic_int started; /* handlers that have begun: relaxed, a count */
    /* Each handler's own counts, read after the join. */
    int reads_of[MAX_HANDLERS];
    int stale_of[MAX_HANDLERS];
    /* Live figures for concdemo --view (registry gauges). */
    int g_open, g_reads, g_stale;
} pool_t;

/* The handshake: slow; the session it returns is the record's content.
 * On an idle machine every handler polls eight times in its 2 ms; a busy
 * one can run them later than that. So a handshake that begins with the
 * flag already up lasts until every handler has read the slot: the early
 * flag is seen early in every run, not now and then. (The count is
 * relaxed: it orders nothing. With latency scaled to 0, pace is 0.) */
static long handshake(conn_t *c)
{
    cd_latency("handshake", HANDSHAKE_USEC);
    while (atomic_load_explicit(&c->ready, memory_order_relaxed) &&
           atomic_load_explicit(&c->readers, memory_order_relaxed) < c->pace)
        cd_latency("handlers-to-read", POLL_USEC);
    return SESSION_OF(c->id);
}

/* ==================== the warmer and the handlers, side by side ======== */

/* Broken: the flag goes up before the record is written. */
static void publish_broken(pool_t *p, conn_t *c)
{
    (void)p;
    cd_point("raise ready");
    atomic_store_explicit(&c->ready, 1, memory_order_relaxed); /* BUG: the flag first, */
    long session = handshake(c);                               /* BUG: ...2 ms... */
    cd_point("write session");
    c->session = session;                                      /* BUG: ...then the record */
}

/* Broken: a relaxed load says the flag is up, and orders nothing. */
static long await_broken(pool_t *p, conn_t *c)
{
    (void)p;
    for (;;) {
        cd_point("poll ready");
        if (atomic_load_explicit(&c->ready, memory_order_relaxed)) /* BUG: relaxed */
            return c->session;
        cd_latency("poll", POLL_USEC);
    }
}

/* Fix "release-acquire": the record first; then the flag, with a release
 * store: whoever sees the flag with an acquire load sees the record too. */
static void publish_release(pool_t *p, conn_t *c)
{
    (void)p;
    long session = handshake(c);
    cd_point("write session");
    c->session = session;                                      /* FIX: the record first, */
    cd_point("raise ready");
    atomic_store_explicit(&c->ready, 1, memory_order_release); /* FIX: then release */
}

static long await_acquire(pool_t *p, conn_t *c)
{
    (void)p;
    for (;;) {
        cd_point("poll ready");
        if (atomic_load_explicit(&c->ready, memory_order_acquire)) /* FIX: acquire */
            return c->session;
        cd_latency("poll", POLL_USEC);
    }
}

/* Fix "mutex": record and flag are written, and read, under one lock; the
 * slow handshake stays outside it. */
static void publish_mutex(pool_t *p, conn_t *c)
{
    long session = handshake(c);
    cd_mutex_lock(&p->lock);                                   /* FIX: one lock */
    cd_point("write session");
    c->session = session;
    cd_point("raise ready");
    atomic_store_explicit(&c->ready, 1, memory_order_relaxed); /* the lock orders */
    cd_mutex_unlock(&p->lock);                                 /* FIX */
}

static long await_mutex(pool_t *p, conn_t *c)
{
    for (;;) {
        cd_mutex_lock(&p->lock);                               /* FIX: the same lock */
        cd_point("poll ready");
        int ready = atomic_load_explicit(&c->ready, memory_order_relaxed);
        long session = c->session;
        cd_mutex_unlock(&p->lock);                             /* FIX */
        if (ready)
            return session;
        cd_latency("poll", POLL_USEC);
    }
}

static void (*const publish[])(pool_t *, conn_t *) = {
    publish_broken, publish_release, publish_mutex,
};
static long (*const await_ready[])(pool_t *, conn_t *) = {
    await_broken, await_acquire, await_mutex,
};

/* ================================ harness ================================ */

static void warmer(void *ctx)
{
    pool_t *p = ctx;
    /* The pool is warmed while requests come in: the warmer begins once
     * every handler has, however late a busy machine (or a sanitizer)
     * starts them. */
    while (atomic_load_explicit(&p->started, memory_order_relaxed) <
           p->nhandlers)
        cd_latency("handlers-to-start", POLL_USEC);
    for (int i = 0; i < p->nconns; i++) {
        publish[p->variant](p, &p->conns[i]);
        cd_reg_gauge_add(p->g_open, 1); /* relaxed: orders nothing */
    }
}

/* A handler uses every connection in turn, once the warmer says it is
 * ready: a session of 0 is a stale read, a request sent on nothing. */
static void handler(void *ctx, int index)
{
    pool_t *p = ctx;
    atomic_fetch_add_explicit(&p->started, 1, memory_order_relaxed);
    for (int i = 0; i < p->nconns; i++) {
        conn_t *c = &p->conns[i];
        long session = await_ready[p->variant](p, c);
        cd_point("use session");
        atomic_fetch_add_explicit(&c->readers, 1, memory_order_relaxed);
        p->reads_of[index]++;
        cd_reg_gauge_add(p->g_reads, 1);
        if (session != SESSION_OF(c->id)) {
            p->stale_of[index]++;
            cd_reg_gauge_add(p->g_stale, 1);
        }
    }
}

/* Invariant: no handler ever reads a connection's record before it is
 * written - every session read is the one the handshake returned. */
static void check(pool_t *p, cd_verdict_t *v)
{
    char stale_of[96];
    int reads = 0, stale = 0;
    for (int i = 0; i < p->nhandlers; i++) {
        reads += p->reads_of[i];
        stale += p->stale_of[i];
    }
    cd_demo_join(stale_of, sizeof stale_of, p->stale_of, p->nhandlers);

    int want = p->nhandlers * p->nconns;
    cd_verdict_expect(v, "each of %d %s reads each of %d %s only once its "
                      "session is written: %d %s, none stale",
                      p->nhandlers, cd_plural(p->nhandlers, "handler",
                                              "handlers"),
                      p->nconns, cd_plural(p->nconns, "connection",
                                           "connections"),
                      want, cd_plural(want, "read", "reads"));
    cd_verdict_num(v, "readers", p->nhandlers);
    cd_verdict_num(v, "connections", p->nconns);
    cd_verdict_num(v, "reads", reads);
    cd_verdict_num(v, "stale_reads", stale);
    cd_verdict_str(v, "stale_reads_per_reader", "%s", stale_of);
    if (stale > 0 || reads != want)
        cd_verdict_observe(v, CD_VIOLATED,
                           "%d of %d reads saw the ready flag before the "
                           "session was written and used session 0 "
                           "(stale reads per handler: %s)", stale, reads,
                           stale_of);
    else
        cd_verdict_observe(v, CD_HELD,
                           "%d %s, each found the session the handshake "
                           "returned; 0 stale", reads,
                           cd_plural(reads, "read", "reads"));
}

void cd_publication_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    pool_t *pl = calloc(1, sizeof *pl);

    if (!pl || !(pl->conns = calloc((size_t)p->iterations,
                                    sizeof *pl->conns)) ||
        cd_mutex_init(&pl->lock, "pool-lock") != 0) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the pool");
        if (pl)
            free(pl->conns);
        free(pl);
        return;
    }
    pl->variant = variant;
    pl->nconns = p->iterations;
    pl->nhandlers = p->threads;
    atomic_init(&pl->started, 0);
    for (int i = 0; i < pl->nconns; i++) {
        pl->conns[i].id = i;
        atomic_init(&pl->conns[i].ready, 0);
        atomic_init(&pl->conns[i].readers, 0);
        pl->conns[i].pace = cd_reg_latency_scale() > 0 ? pl->nhandlers : 0;
    }
    cd_demo_figures("connections", pl->nconns, "published", &pl->g_open,
                    "reads", &pl->g_reads, "stale reads", &pl->g_stale, NULL);

    if (cd_demo_beside(&(cd_demo_beside_t){
            .name = "warmer", .fn = warmer, .n = pl->nhandlers,
            .prefix = "handler", .team = handler, .ctx = pl }, v) == 0)
        check(pl, v);
    cd_mutex_destroy(&pl->lock);
    free(pl->conns);
    free(pl);
}

/* Its arrays hold as many handlers as its entry in demos/scenarios.c
 * allows (.max.threads). */
_Static_assert(MAX_HANDLERS == CD_PUBLICATION_HANDLERS,
               "MAX_HANDLERS is not CD_PUBLICATION_HANDLERS (demos/scenario.h)");
