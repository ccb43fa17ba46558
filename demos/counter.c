/*
 * counter.c - lost page views: read, render, write back.
 *
 * The pitfall: a web server counts page views in a map from page to
 * count that every request handler shares. A handler reads the page's
 * count, renders the page with "you are visitor #n+1" on it (slow: 2 ms),
 * then stores n+1. Two handlers that show the same page at once both
 * read n, both render, both store n+1: one view is lost. Nothing crashes,
 * nothing hangs; the numbers are just low - the quiet kind of race, found
 * weeks later when the counts disagree with the access log.
 *
 * Symptom: fewer views counted than were served; two visitors shown the
 *          same number.
 * Run:     concdemo counter                  the broken read-render-write
 *          concdemo counter --fixed=mutex    the increment under a lock,
 *              the render after it
 *          concdemo counter --fixed=actor    one thread owns the map;
 *              handlers send it "add a view" over a channel and get the
 *              new count back on a oneshot (recommended)
 *          concdemo counter --fixed=atomic   an atomic fetch-and-add per
 *              page
 * Lesson:  lessons/16-counter.md
 *
 * Every handler serves --iterations views; the k-th view of every handler
 * is of page k % PAGES, so that handlers show the same page at the same
 * time - which is what a popular page does to a real server.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/cd_chan.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_oneshot.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "scenario.h"

#define PAGES 3
#define RENDER_USEC 2000 /* rendering a page takes 2 ms */
#define INBOX 64         /* the actor's mailbox: bounded, many senders */

enum { BROKEN, MUTEX, ACTOR, ATOMIC };

/* A message to the actor. HIT: one more view of page; the new count comes
 * back on reply. GET: the count of page, on reply. */
typedef struct request {
    enum { HIT, GET } op;
    int page;
    cd_oneshot_t *reply;
} request_t;

typedef struct site {
    int variant, nhandlers, per_handler;
    long views[PAGES];          /* the shared map: plain memory */
    cd_mutex_t lock;            /* fix "mutex": guards views */
    atomic_long aviews[PAGES];  /* fix "atomic": the same map, atomic */
    /* Fix "actor": the counter thread owns its map; handlers reach it only
     * through the inbox, each with a oneshot of its own for the replies. */
    cd_chan_t inbox;
    cd_thread_t actor;
    long owned[PAGES];          /* the actor's own map */
    cd_oneshot_t *replies;      /* one per handler, rearmed per request */
    int nreplies;
    /* What was served: each handler's view of each page, counted per
     * handler (no sharing), and the visitor numbers handed out. */
    long *served;               /* [handler * PAGES + page] */
    long *shown;                /* [handler * per_handler + k]: the number
                                   the k-th view showed */
    int g_served, g_counted;
} site_t;

/* Rendering the page: slow, and what the visitor sees. */
static void render(long visitor)
{
    (void)visitor;
    cd_latency("render-page", RENDER_USEC);
}

/* ===================== the view counters, side by side ==================== */

/* Broken: read, render, write back - the write is of a stale read. */
static long count_view_broken(site_t *s, int h, int page)
{
    (void)h;
    cd_point("read count");
    long n = s->views[page] + 1;   /* BUG: others read the same n... */
    render(n);                     /* ...while this renders, */
    cd_point("store count");
    s->views[page] = n;            /* ...and each stores its n: one wins. */
    return n;
}

/* Fix "mutex": the increment is one step under the lock; the slow render
 * comes after, with the lock let go, so handlers still render in
 * parallel. */
static long count_view_mutex(site_t *s, int h, int page)
{
    (void)h;
    cd_mutex_lock(&s->lock);                  /* FIX: read and write */
    cd_point("read count");
    long n = ++s->views[page];                /* FIX: in one step */
    cd_point("store count");
    cd_mutex_unlock(&s->lock);                /* FIX */
    render(n);
    return n;
}

/* Fix "actor": the handler does not touch the map. It asks the owner to
 * add a view - a command, not a value computed from a read - and waits on
 * its oneshot for the count that view made. */
static long count_view_actor(site_t *s, int h, int page)
{
    cd_oneshot_t *reply = &s->replies[h];
    request_t rq = { HIT, page, reply };       /* FIX: "add one", not "set" */
    long n = 0;
    cd_point("read count");
    if (cd_oneshot_rearm(reply) != 0 ||
        cd_chan_call(&s->inbox, &rq, reply, &n) != 0) /* FIX: the owner */
        return 0;                                     /* counts it */
    cd_point("store count");
    render(n);
    return n;
}

/* Fix "atomic": fetch-and-add reads and writes the page's count in one
 * indivisible step. */
static long count_view_atomic(site_t *s, int h, int page)
{
    (void)h;
    cd_point("read count");
    long n = atomic_fetch_add(&s->aviews[page], 1) + 1; /* FIX */
    cd_point("store count");
    render(n);
    return n;
}

static long (*const count_view[])(site_t *, int, int) = {
    count_view_broken, count_view_mutex, count_view_actor, count_view_atomic,
};

/* =============================== the actor =============================== */

/* The counter thread: the only one that touches s->owned. It serves
 * requests in the order they arrive until the inbox is closed. */
static void counter_actor(void *arg)
{
    site_t *s = arg;
    request_t rq;
    while (cd_chan_recv(&s->inbox, &rq) == 0) {
        if (rq.op == HIT)
            s->owned[rq.page]++;
        long n = s->owned[rq.page];
        if (rq.reply && cd_oneshot_send(rq.reply, &n) != 0)
            continue; /* the requester gave up: nothing to answer */
    }
}

/* The count of page as the variant keeps it; for the actor, asked over
 * the inbox like any handler would (the caller's own oneshot). */
static long read_count(site_t *s, int page, cd_oneshot_t *mine)
{
    switch (s->variant) {
    case ACTOR: {
        request_t rq = { GET, page, mine };
        long n = -1;
        if (cd_oneshot_rearm(mine) != 0 ||
            cd_chan_call(&s->inbox, &rq, mine, &n) != 0)
            return -1;
        return n;
    }
    case ATOMIC:
        return atomic_load(&s->aviews[page]);
    default:
        return s->views[page]; /* the handlers have been joined */
    }
}

/* ================================ harness ================================ */

static void handler(void *ctx, int index)
{
    site_t *s = ctx;
    for (int k = 0; k < s->per_handler; k++) {
        int page = k % PAGES;
        long n = count_view[s->variant](s, index, page);
        s->served[index * PAGES + page]++;
        s->shown[index * s->per_handler + k] = n;
        cd_reg_gauge_add(s->g_served, 1);
    }
}

static int setup(site_t *s, const cd_params_t *p, int variant)
{
    s->variant = variant;
    s->nhandlers = p->threads;
    s->per_handler = p->iterations;
    for (int i = 0; i < PAGES; i++)
        atomic_init(&s->aviews[i], 0);
    s->served = calloc((size_t)s->nhandlers * PAGES, sizeof *s->served);
    s->shown = calloc((size_t)s->nhandlers * (size_t)s->per_handler,
                      sizeof *s->shown);
    if (!s->served || !s->shown)
        return -1;
    s->g_served = cd_reg_gauge("views served");
    s->g_counted = cd_reg_gauge("views counted");
    if (cd_mutex_init(&s->lock, "views-lock") != 0)
        return -1;
    if (variant != ACTOR)
        return 0;
    /* One oneshot per handler and one for the final reads. */
    s->replies = calloc((size_t)s->nhandlers + 1, sizeof *s->replies);
    if (!s->replies)
        return -1;
    for (; s->nreplies <= s->nhandlers; s->nreplies++) {
        char name[32];
        if (s->nreplies < s->nhandlers) /* handler-1's is reply-1 */
            snprintf(name, sizeof name, "reply-%d", s->nreplies + 1);
        else
            snprintf(name, sizeof name, "reply-final");
        if (cd_oneshot_init(&s->replies[s->nreplies], name,
                            sizeof(long)) != 0)
            return -1;
    }
    if (cd_chan_init(&s->inbox, "counter-inbox", sizeof(request_t),
                     INBOX) != 0)
        return -1;
    if (cd_thread_spawn(&s->actor, "counter", counter_actor, s) != 0) {
        cd_chan_destroy(&s->inbox);
        return -1;
    }
    return 0;
}

/* Ends the actor (after the final reads) and frees everything. */
static void teardown(site_t *s)
{
    if (s->variant == ACTOR && s->actor.id) {
        if (cd_chan_close(&s->inbox) == 0)
            cd_thread_join(&s->actor);
        cd_chan_destroy(&s->inbox);
    }
    for (int i = 0; i < s->nreplies; i++)
        cd_oneshot_destroy(&s->replies[i]);
    free(s->replies);
    cd_mutex_destroy(&s->lock);
    free(s->served);
    free(s->shown);
}

static int by_value(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Visitors shown a number another visitor of the same page was shown
 * too: the lost views, as the visitors saw them. */
static long shown_twice(const site_t *s, int page)
{
    long n = 0, dups = 0;
    long *seen = malloc((size_t)s->nhandlers * (size_t)s->per_handler *
                        sizeof *seen);
    if (!seen)
        return 0;
    for (int h = 0; h < s->nhandlers; h++)
        for (int k = page; k < s->per_handler; k += PAGES)
            seen[n++] = s->shown[h * s->per_handler + k];
    qsort(seen, (size_t)n, sizeof *seen, by_value);
    for (long i = 1; i < n; i++)
        dups += seen[i] == seen[i - 1];
    free(seen);
    return dups;
}

/* Invariant: every view served is counted - each page's count is the
 * number of times it was shown. */
static void check(site_t *s, double seconds, cd_verdict_t *v)
{
    long served = 0, counted = 0, lost = 0, twice = 0;
    int bad_pages = 0;
    cd_oneshot_t *mine = s->replies ? &s->replies[s->nhandlers] : NULL;
    for (int page = 0; page < PAGES; page++) {
        long want = 0;
        for (int h = 0; h < s->nhandlers; h++)
            want += s->served[h * PAGES + page];
        long got = read_count(s, page, mine);
        served += want;
        counted += got;
        lost += want - got;
        bad_pages += got != want;
        twice += shown_twice(s, page);
    }
    cd_reg_gauge_set(s->g_counted, counted);
    cd_verdict_expect(v, "all %ld page %s counted", served,
                      cd_plural(served, "view", "views"));
    cd_verdict_num(v, "served", served);
    cd_verdict_num(v, "counted", counted);
    cd_verdict_num(v, "lost", lost);
    cd_verdict_num(v, "same_number_shown", twice);
    cd_verdict_num(v, "pages", PAGES);
    cd_verdict_num(v, "views_per_sec",
                   seconds > 0 ? (int64_t)((double)served / seconds) : 0);
    if (bad_pages)
        cd_verdict_observe(v, CD_VIOLATED,
                           "%ld views served, %ld counted: %ld lost on %d "
                           "of %d pages (handlers stored counts they had "
                           "read before others stored theirs)",
                           served, counted, lost, bad_pages, PAGES);
    else
        cd_verdict_observe(v, CD_HELD,
                           "%ld views served, %ld counted, none lost; "
                           "%.0f views/s", served, counted,
                           seconds > 0 ? (double)served / seconds : 0.0);
}

void cd_counter_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    site_t s = { 0 };
    if (setup(&s, p, variant) != 0) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the site");
        teardown(&s);
        return;
    }
    int64_t t0 = cd_reg_elapsed_ns(); /* the virtual clock under --sched */
    int rc = cd_team_run(p->threads, "handler", handler, &s);
    double seconds = (double)(cd_reg_elapsed_ns() - t0) / 1e9;
    if (rc < 0)
        cd_verdict_observe(v, CD_ERROR, "could not start %d threads",
                           p->threads);
    else
        check(&s, seconds, v);
    teardown(&s);
}
