/*
 * broadcast.c - the config fan-out that one slow subscriber fills up.
 *
 * The pitfall: a config service pushes every update (rate limits, the
 * blocklist) to a fleet of edge servers. Each edge gets its own queue, and
 * the publisher appends every update to every queue. An operator script
 * pushes a burst of updates, one every 0.2 ms; the quick edges apply one
 * in 0.1 ms, but the last edge rebuilds its routing tables for each one
 * (2 ms). Its queue never says "you are behind": it holds every update
 * that edge has not read yet, so the memory held for one slow reader
 * grows with the number of updates sent, and the edge works through stale
 * configs one by one while the one that mattered - the last, newest one -
 * waits at the back.
 *
 * Symptom: the slow edge's queue depth and memory grow with every update
 *          published; long after the last update went out, that edge
 *          still runs an old config.
 * Run:     concdemo broadcast                  a queue per edge, unbounded
 *          concdemo broadcast --fixed=bounded  one broadcast ring of 16
 *              updates for all edges; an edge that falls further behind is
 *              told exactly how many it missed and skips to the newest
 *              config (recommended)
 * Lesson:  lessons/18-broadcast.md
 *
 * --threads N runs N edges (the last one is the slow one); --iterations N
 * is the number of updates published. Every update carries its version,
 * so each edge can tell whether it saw every version or was told about
 * each one it did not see.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cd_bcast.h"
#include "../lib/cd_chan.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "support.h" /* scenario.h, byte counts, the team beside */

#define PUBLISH_USEC 200     /* the script pushes an update every 0.2 ms */
#define APPLY_USEC 100       /* a quick edge applies one in 0.1 ms */
#define SLOW_APPLY_USEC 2000 /* the slow edge rebuilds its tables: 2 ms */
#define CAPACITY 16          /* the fix: the newest 16 updates are kept */

enum { BROKEN, BOUNDED };

/* One config update: a fixed-size record, copied to every edge. */
typedef struct config {
    uint64_t version;
    int rate_limit;     /* requests per second per client */
    char blocklist[244];
} config_t;

_Static_assert(sizeof(config_t) == 256, "a config update is 256 bytes");

/* One edge server; written by its own thread, read after the join. */
typedef struct edge {
    int slow;
    cd_chan_t queue;        /* broken: the edge's own queue */
    cd_bsub_t sub;          /* fix: the edge's cursor on the ring */
    int has_queue, has_sub;
    config_t running;       /* the config it serves with */
    uint64_t expect;        /* the version it should see next */
    long applied, skipped;  /* configs applied; read but superseded */
    long missed, lags;      /* reported lost, and in how many reports */
    long unexplained;       /* versions it did not see and was not told of */
    size_t peak_held;       /* the most updates held for it at once */
    int64_t latest_ns;      /* when it started serving the last version */
} edge_t;

typedef struct fleet {
    int variant, nedges, updates;
    edge_t *e;
    cd_bcast_t ring;        /* fix: one ring for every edge */
    int has_ring;
    int64_t last_sent_ns;   /* when the last update went out */
    int g_published, g_slow_version, g_slow_held, g_lags;
} fleet_t;

static void note_seen(edge_t *e, const config_t *c);
static void note_lag(fleet_t *f, edge_t *e, uint64_t missed);

/* ============== publishing and receiving, side by side ================== */

/* Broken: append the update to every edge's own queue. The queues are
 * unbounded, so the publisher never waits and nobody notices that one
 * edge reads ten times slower than updates arrive. */
static void publish_queues(fleet_t *f, const config_t *c)
{
    for (int i = 0; i < f->nedges; i++)
        if (cd_chan_send(&f->e[i].queue, c) != 0) /* BUG: kept for a slow */
            return;                               /* reader, however many */
}

/* Fix "bounded": one send into the ring that every edge reads. It never
 * waits either, but it keeps only the newest CAPACITY updates: a slow
 * edge costs no memory, it loses the oldest updates and is told so. */
static void publish_ring(fleet_t *f, const config_t *c)
{
    if (cd_bcast_send(&f->ring, c) != 0) /* FIX: the oldest is overwritten */
        return;
}

/* Broken: the next update from the edge's queue, however old it is. */
static int next_from_queue(fleet_t *f, edge_t *e, config_t *out)
{
    (void)f;
    return cd_chan_recv(&e->queue, out); /* BUG: every stale one, in turn */
}

/* Fix "bounded": the next update from the ring. An edge that fell more
 * than CAPACITY behind is told how many it missed; it then resyncs: a
 * config replaces the one before, so it skips to the newest kept one. */
static int next_from_ring(fleet_t *f, edge_t *e, config_t *out)
{
    uint64_t missed = 0;
    int rc, lagged = 0;
    while ((rc = cd_bcast_recv(&e->sub, out, &missed)) == CD_BCAST_LAGGED) {
        note_lag(f, e, missed);                   /* FIX: told how many */
        lagged = 1;
    }
    if (rc != 0 || !lagged)
        return rc;
    config_t newer;                               /* FIX: resync: skip */
    while ((rc = cd_bcast_try_recv(&e->sub, &newer, &missed)) == 0 ||
           rc == CD_BCAST_LAGGED) {               /* FIX: to the newest */
        if (rc == CD_BCAST_LAGGED) {  /* *out came before what it missed */
            if (lagged != 2) note_seen(e, out), e->skipped++; /* only once */
            lagged = 2, note_lag(f, e, missed);
            continue;
        }
        if (lagged != 2) note_seen(e, out), e->skipped++; /* FIX: superseded */
        lagged = 1, *out = newer;
    }
    return 0; /* -EAGAIN: *out is the newest; -EPIPE: and the last */
}

static void (*const publish[])(fleet_t *, const config_t *) = {
    [BROKEN] = publish_queues,
    [BOUNDED] = publish_ring,
};

static int (*const next_config[])(fleet_t *, edge_t *, config_t *) = {
    [BROKEN] = next_from_queue,
    [BOUNDED] = next_from_ring,
};

/* ================================ harness ================================ */

/* Every version an edge reads must be the one it expects: one past the
 * last it read, plus whatever a lag report told it it missed. Anything
 * else is a gap (or a repeat) nobody told it about. */
static void note_seen(edge_t *e, const config_t *c)
{
    if (c->version != e->expect)
        e->unexplained += c->version > e->expect
                              ? (long)(c->version - e->expect)
                              : (long)(e->expect - c->version);
    e->expect = c->version + 1;
}

static void note_lag(fleet_t *f, edge_t *e, uint64_t missed)
{
    e->lags++;
    e->missed += (long)missed;
    e->expect += missed;
    cd_reg_gauge_add(f->g_lags, 1);
}

/* How many updates are held for e right now: its queue's depth, or what
 * the ring keeps that it has not read (never more than the ring holds:
 * the rest were overwritten, and e will be told). */
static size_t held_for(fleet_t *f, edge_t *e)
{
    if (f->variant == BROKEN) {
        cd_chan_stats_t st;
        cd_chan_stats(&e->queue, &st);
        return st.depth;
    }
    cd_bsub_stats_t st;
    cd_bcast_sub_stats(&e->sub, &st);
    return st.behind < f->ring.capacity ? (size_t)st.behind
                                        : f->ring.capacity;
}

/* The edge starts serving with c: slow for the slow edge. */
static void apply(fleet_t *f, edge_t *e, const config_t *c)
{
    cd_point("apply config");
    if (e->slow)
        cd_latency("rebuild tables", SLOW_APPLY_USEC);
    else
        cd_latency("apply config", APPLY_USEC);
    e->running = *c;
    e->applied++;
    if (c->version == (uint64_t)f->updates)
        e->latest_ns = cd_reg_elapsed_ns();
    if (e->slow)
        cd_reg_gauge_set(f->g_slow_version, (int64_t)c->version);
}

static void edge_server(void *ctx, int index)
{
    fleet_t *f = ctx;
    edge_t *e = &f->e[index];
    config_t c;
    for (;;) {
        size_t held = held_for(f, e);
        if (held > e->peak_held)
            e->peak_held = held;
        if (e->slow)
            cd_reg_gauge_set(f->g_slow_held, (int64_t)held);
        memset(&c, 0, sizeof c);
        if (next_config[f->variant](f, e, &c) != 0)
            break; /* closed and read to the end */
        note_seen(e, &c);
        apply(f, e, &c);
    }
    if (e->has_queue) { /* the queue's own peak, between our samples too */
        cd_chan_stats_t st;
        cd_chan_stats(&e->queue, &st);
        if (st.high_water > e->peak_held)
            e->peak_held = st.high_water;
    }
}

/* The operator's script: updates 1..N, one every 0.2 ms, then the end. */
static void publisher(void *arg)
{
    fleet_t *f = arg;
    config_t c;
    memset(&c, 0, sizeof c);
    for (int v = 1; v <= f->updates; v++) {
        cd_latency("operator script", PUBLISH_USEC);
        c.version = (uint64_t)v;
        c.rate_limit = 100 + v % 50;
        snprintf(c.blocklist, sizeof c.blocklist, "block 203.0.113.%d",
                 v % 256);
        cd_point("publish");
        publish[f->variant](f, &c);
        cd_reg_gauge_add(f->g_published, 1);
    }
    f->last_sent_ns = cd_reg_elapsed_ns();
    if (f->variant == BROKEN)
        for (int i = 0; i < f->nedges; i++)
            (void)cd_chan_close(&f->e[i].queue);
    else
        (void)cd_bcast_close(&f->ring);
}

static int setup(fleet_t *f)
{
    char name[32];
    f->e = calloc((size_t)f->nedges, sizeof *f->e);
    if (!f->e)
        return -1;
    cd_demo_figures(NULL, 0, "published", &f->g_published,
                    "slow edge on version", &f->g_slow_version,
                    "held for slow edge", &f->g_slow_held, "lag reports",
                    &f->g_lags, NULL);
    if (f->variant == BOUNDED) {
        if (cd_bcast_init(&f->ring, "config-ring", sizeof(config_t),
                          CAPACITY) != 0)
            return -1;
        f->has_ring = 1;
    }
    for (int i = 0; i < f->nedges; i++) {
        edge_t *e = &f->e[i];
        e->slow = i == f->nedges - 1;
        e->expect = 1;
        if (f->variant == BROKEN) {
            snprintf(name, sizeof name, "edge-%d-queue", i + 1);
            if (cd_chan_init(&e->queue, name, sizeof(config_t),
                             CD_CHAN_UNBOUNDED) != 0)
                return -1;
            e->has_queue = 1;
        } else {
            /* Subscribed before the first send: it sees every update. */
            snprintf(name, sizeof name, "edge-%d-sub", i + 1);
            if (cd_bcast_subscribe(&f->ring, &e->sub, name) != 0)
                return -1;
            e->has_sub = 1;
        }
    }
    return 0;
}

static void teardown(fleet_t *f)
{
    for (int i = 0; f->e && i < f->nedges; i++) {
        if (f->e[i].has_queue)
            cd_chan_destroy(&f->e[i].queue);
        if (f->e[i].has_sub)
            cd_bcast_unsubscribe(&f->e[i].sub);
    }
    if (f->has_ring)
        cd_bcast_destroy(&f->ring);
    free(f->e);
}

/* The fleet's account: the worst edge on each count. */
typedef struct totals {
    size_t peak_held;     /* most updates held for one edge */
    long unexplained, missed, lags, skipped;
    int stale;            /* edges not on the last version */
    const edge_t *slow;   /* the last edge, slow by its apply time */
    const edge_t *worst;  /* the edge that had the most held for it */
} totals_t;

static void held_text(const fleet_t *f, const totals_t *t, cd_verdict_t *v);

static void add_up(const fleet_t *f, totals_t *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < f->nedges; i++) {
        const edge_t *e = &f->e[i];
        if (!t->worst || e->peak_held >= t->peak_held) { /* ties: the slow */
            t->peak_held = e->peak_held;
            t->worst = e;
        }
        /* Every version is read, skipped after a read, or reported. */
        long unaccounted = f->updates - e->applied - e->skipped - e->missed;
        t->unexplained += e->unexplained + (unaccounted > 0 ? unaccounted
                                                             : -unaccounted);
        t->missed += e->missed;
        t->lags += e->lags;
        t->skipped += e->skipped;
        t->stale += e->running.version != (uint64_t)f->updates;
    }
    t->slow = &f->e[f->nedges - 1];
}

/* From the last update's send to e serving it, in ms (-1: never). */
static double catch_up_ms(const fleet_t *f, const edge_t *e)
{
    return e->latest_ns ? (double)(e->latest_ns - f->last_sent_ns) / 1e6 : -1;
}

static void figures(const fleet_t *f, const totals_t *t, cd_verdict_t *v)
{
    cd_verdict_num(v, "updates", f->updates);
    cd_verdict_num(v, "edges", f->nedges);
    cd_verdict_num(v, "capacity", CAPACITY);
    cd_verdict_num(v, "peak_held", (int64_t)t->peak_held);
    cd_verdict_num(v, "peak_held_bytes",
                   (int64_t)(t->peak_held * sizeof(config_t)));
    cd_verdict_num(v, "slow_applied", t->slow->applied);
    cd_verdict_num(v, "slow_version", (int64_t)t->slow->running.version);
    cd_verdict_num(v, "lag_reports", t->lags);
    cd_verdict_num(v, "missed", t->missed);
    cd_verdict_num(v, "skipped", t->skipped);
    cd_verdict_num(v, "unexplained", t->unexplained);
    cd_verdict_num(v, "stale_edges", t->stale);
    cd_verdict_num(v, "catch_up_us",
                   (int64_t)(catch_up_ms(f, t->slow) * 1000));
}

/* Invariant: no edge has more than CAPACITY updates held for it (memory
 * bounded by the capacity, not by the updates sent), every version an
 * edge did not see was reported to it with its exact count, and every
 * edge ends on the last version. */
static void check(const fleet_t *f, cd_verdict_t *v)
{
    totals_t t;
    char b1[32], b2[32];
    const edge_t *s;

    add_up(f, &t);
    s = t.slow;
    figures(f, &t, v);
    cd_verdict_expect(v, "at most %d updates (%s) held for any edge, every "
                      "missed update reported with its exact count, and "
                      "every edge ending on v%d", CAPACITY,
                      cd_demo_bytes(b1, sizeof b1,
                                  (double)(CAPACITY * sizeof(config_t))),
                      f->updates);
    if (t.peak_held > CAPACITY) {
        cd_verdict_observe(v, CD_VIOLATED,
            "edge-%d%s fell %zu updates behind and its queue "
            "held them all (%s for one reader; it grows with every update "
            "sent: --iterations %d doubles it); it applied all %ld, stale "
            "ones included, one by one, and served v%d %.1f ms after it "
            "went out", (int)(t.worst - f->e) + 1,
            t.worst == s ? ", the slow one," : "", t.peak_held,
            cd_demo_bytes(b2, sizeof b2,
                        (double)(t.peak_held * sizeof(config_t))),
            2 * f->updates, t.worst->applied, f->updates,
            catch_up_ms(f, t.worst));
    } else if (t.unexplained) {
        cd_verdict_observe(v, CD_VIOLATED,
            "%ld updates went missing without a report: an edge could not "
            "tell that it had skipped them", t.unexplained);
    } else if (t.stale) {
        cd_verdict_observe(v, CD_VIOLATED,
            "%d %s ended on an old config, not v%d", t.stale,
            cd_plural(t.stale, "edge", "edges"), f->updates);
    } else {
        held_text(f, &t, v);
    }
}

/* The verdict of a run that held: where the updates were kept, who
 * lagged, how soon the slow edge served the last version. */
static void held_text(const fleet_t *f, const totals_t *t, cd_verdict_t *v)
{
    char where[160], lag[200], b[32];
    const edge_t *s = t->slow;
    if (f->variant == BROKEN)
        snprintf(where, sizeof where, "in its own queue (nothing bounds "
                 "it: more updates or a slower edge pass %d)", CAPACITY);
    else
        snprintf(where, sizeof where, "(one ring of %s for all %d)",
                 cd_demo_bytes(b, sizeof b,
                             (double)(CAPACITY * sizeof(config_t))),
                 f->nedges);
    if (s->lags)
        snprintf(lag, sizeof lag, "edge-%d lagged %ld %s, was told %s "
                 "how many it missed (%ld in all) and resynced to the "
                 "newest config", f->nedges, s->lags,
                 cd_plural(s->lags, "time", "times"),
                 s->lags == 1 ? "then" : "each time", s->missed);
    else
        snprintf(lag, sizeof lag, "no edge lagged");
    cd_verdict_observe(v, CD_HELD,
        "every edge ended on v%d; at most %zu %s held for any edge %s; %s; "
        "edge-%d served v%d %.1f ms after it went out", f->updates,
        t->peak_held, cd_plural((long)t->peak_held, "update was",
                                "updates were"),
        where, lag, f->nedges, f->updates, catch_up_ms(f, s));
}

void cd_broadcast_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    fleet_t f = { .variant = variant, .nedges = p->threads,
                  .updates = p->iterations };

    if (setup(&f) != 0) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the fleet");
        teardown(&f);
        return;
    }
    if (cd_demo_beside(&(cd_demo_beside_t){
            .name = "publisher", .fn = publisher, .who = "the publisher",
            .n = f.nedges, .prefix = "edge", .team = edge_server,
            .what = "edges", .ctx = &f }, v) == 0)
        check(&f, v);
    teardown(&f);
}
