/*
 * webhook.c - the retried webhook: one payment event, three deliveries.
 *
 * The pitfall: a payment provider calls the shop's webhook when an order is
 * paid, and retries when it gets no acknowledgement in time. Fulfilment is
 * slow (the warehouse takes 3 ms), so the retries arrive while the first
 * delivery is still at work: three deliveries of the same event are handled
 * at once. The handler does what looks careful - look the event up in the
 * processed-events record, fulfil the order if it is new, record the event -
 * but the await at the warehouse lets the retries in between the look-up
 * and the record: each sees "new", and the order ships three times. Like
 * async-race, it happens on one worker thread, on every run, and even with
 * --latency-scale 0: the switch is the await, not the time.
 *
 * Symptom: three fulfilments per event; a clean ThreadSanitizer run on one
 *          worker.
 * Run:     concdemo webhook                    the broken handler
 *          concdemo webhook --fixed=keyed      an awaitable lock per event
 *              id around the look-up, the fulfilment and the record: one
 *              event's deliveries in turn, the retries find it recorded,
 *              different events overlap at the warehouse (recommended)
 *          concdemo webhook --fixed=idempotency   claim the event id
 *              first, as an insert into a table keyed by the event id:
 *              only the delivery whose insert succeeds fulfils
 * Lesson:  lessons/14-webhook.md
 *
 * Each of E events (--iterations) is delivered three times: the tasks
 * evtK-try1 for every event, then every event's try2, then try3, spawned in
 * that order and spread round-robin over the workers (one by default).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/cd_amutex.h"
#include "../lib/cd_exec.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "support.h" /* scenario.h, and how a run is driven */

#define FULFIL_USEC 3000 /* the warehouse takes 3 ms to ship an order */
#define DELIVERIES 3     /* the first delivery and two retries */

typedef struct event {
    int id;
    int processed; /* the handler's processed-events record: plain memory */
} event_t;

typedef struct hook {
    int variant;
    int nevents, nworkers;
    event_t *events;
    cd_akeyed_t event_lock;  /* fix "keyed": one lock per event id */
    int event_lock_ready;    /* event_lock was set up (for teardown) */
    /* Fix "idempotency": the database's table of handled events, whose key
     * is the event id; an insert fails when the id is there already. */
    atomic_int *claimed;
    /* The warehouse is another system; its books are right. */
    atomic_int *shipped;
    atomic_int acknowledged;  /* deliveries answered without fulfilling */
    /* Fulfilments in flight: in all, per event; the most at once. */
    atomic_int in_flight, *event_in_flight, max_in_flight, max_same_event;
    int g_done, g_shipped, g_dup, g_flight; /* live figures */
} hook_t;

static void raise_max(atomic_int *max, int value)
{
    int m = atomic_load(max);
    while (value > m && !atomic_compare_exchange_weak(max, &m, value))
        ;
}

/* The warehouse: slow, and it ships whatever it is asked to. */
static void fulfil(hook_t *h, event_t *e)
{
    raise_max(&h->max_in_flight, atomic_fetch_add(&h->in_flight, 1) + 1);
    raise_max(&h->max_same_event,
              atomic_fetch_add(&h->event_in_flight[e->id], 1) + 1);
    cd_reg_gauge_add(h->g_flight, 1); /* live figure; see show_books() */
    cd_await_latency("warehouse", FULFIL_USEC);
    atomic_fetch_sub(&h->event_in_flight[e->id], 1);
    atomic_fetch_sub(&h->in_flight, 1);
    atomic_fetch_add_explicit(&h->shipped[e->id], 1, memory_order_relaxed);
}

/* The database's unique key: inserts the event id, or fails because it is
 * there already. One atomic step, as the database's own. Returns 1 when
 * this caller's insert made the row, 0 when it was there. */
static int claim(hook_t *h, const event_t *e)
{
    int none = 0;
    return atomic_compare_exchange_strong(&h->claimed[e->id], &none, 1);
}

/* ====================== the handlers, side by side ====================== */

/* Broken: look up, await, record - and the await lets the retries in. */
static void handle_broken(hook_t *h, event_t *e)
{
    cd_point("check processed");
    if (!e->processed) {         /* BUG: every delivery sees "new"... */
        fulfil(h, e);            /* ...because this await runs the retries */
        e->processed = 1;        /* ...before any of them records it. */
    } else {
        atomic_fetch_add(&h->acknowledged, 1);
    }
}

/* Fix "keyed": look up, fulfil and record under the event's awaitable
 * lock. A retry parks until the first delivery is done, then finds the
 * event recorded; other events' deliveries go on. */
static void handle_keyed(hook_t *h, event_t *e)
{
    cd_akeyed_lock(&h->event_lock, e->id);    /* FIX: per event id */
    cd_point("check processed");
    if (!e->processed) {
        fulfil(h, e);
        e->processed = 1;
    } else {
        atomic_fetch_add(&h->acknowledged, 1);
    }
    cd_akeyed_unlock(&h->event_lock, e->id);  /* FIX */
}

/* Fix "idempotency": claim the event id before the work, in one atomic
 * step; a retry's claim fails, so it acknowledges without fulfilling. */
static void handle_idempotency(hook_t *h, event_t *e)
{
    cd_point("check processed");
    if (claim(h, e)) {           /* FIX: the insert, not a look-up */
        fulfil(h, e);
        e->processed = 1;
    } else {
        atomic_fetch_add(&h->acknowledged, 1);
    }
}

static void (*const handle[])(hook_t *, event_t *) = {
    handle_broken, handle_keyed, handle_idempotency,
};

/* ================================ harness ================================ */

/* The live figures for --view (registry gauges), read from the books with
 * relaxed loads: watching orders nothing between the deliveries. fulfil()
 * counts a fulfilment in as it starts; the ones still out are set again
 * here from in_flight, after a delivery and after the run. With more than
 * one worker a figure may lag a moment; the last call is exact. */
static void show_books(void *hook)
{
    hook_t *h = hook;
    cd_demo_show_tally(h->shipped, h->nevents, h->g_shipped, h->g_dup);
    cd_reg_gauge_set(h->g_flight, atomic_load_explicit(&h->in_flight,
                                                       memory_order_relaxed));
}

/* Delivery k brings event k % nevents: every event DELIVERIES times. */
static void delivery_task(void *hook, int k)
{
    hook_t *h = hook;
    handle[h->variant](h, &h->events[k % h->nevents]);
    cd_reg_gauge_add(h->g_done, 1);
    show_books(h);
}

/* Names the live figures. Call once the books are set up. */
static void register_figures(hook_t *h)
{
    cd_demo_figures("events", h->nevents, "deliveries done", &h->g_done,
                    "fulfilments", &h->g_shipped, "fulfilled twice+", &h->g_dup,
                    "at the warehouse", &h->g_flight, NULL);
    show_books(h);
}

static int setup(void *state, const cd_params_t *p, int variant)
{
    hook_t *h = state;
    h->variant = variant;
    h->nevents = p->iterations;
    h->nworkers = p->workers;
    atomic_init(&h->acknowledged, 0);
    atomic_init(&h->in_flight, 0);
    atomic_init(&h->max_in_flight, 0);
    atomic_init(&h->max_same_event, 0);
    h->events = calloc((size_t)h->nevents, sizeof *h->events);
    h->claimed = calloc((size_t)h->nevents, sizeof *h->claimed);
    h->shipped = calloc((size_t)h->nevents, sizeof *h->shipped);
    h->event_in_flight = calloc((size_t)h->nevents,
                                sizeof *h->event_in_flight);
    if (!h->events || !h->claimed || !h->shipped || !h->event_in_flight)
        return -1;
    for (int i = 0; i < h->nevents; i++) {
        h->events[i] = (event_t){ .id = i, .processed = 0 };
        atomic_init(&h->claimed[i], 0);
        atomic_init(&h->shipped[i], 0);
        atomic_init(&h->event_in_flight[i], 0);
    }
    register_figures(h);
    if (cd_akeyed_init(&h->event_lock, "event", h->nevents) != 0)
        return -1;
    h->event_lock_ready = 1;
    return 0;
}

static void teardown(void *state)
{
    hook_t *h = state;
    if (h->event_lock_ready)
        cd_akeyed_destroy(&h->event_lock);
    free(h->events);
    free(h->claimed);
    free(h->shipped);
    free(h->event_in_flight);
}

/* Delivery k of event e: "evt<e>-try<t>", all first tries, then the
 * retries. */
static void delivery_name(const void *hook, int k, char *buf, size_t len)
{
    const hook_t *h = hook;
    snprintf(buf, len, "evt%d-try%d", h->events[k % h->nevents].id + 1,
             k / h->nevents + 1);
}

/* Spawns every delivery - all first tries, then the retries - and runs
 * them. Returns 0 or -1. */
static int serve(void *state, cd_verdict_t *v)
{
    hook_t *h = state;
    return cd_demo_run_batch(&(cd_demo_batch_t){
        .n = h->nevents * DELIVERIES, .nworkers = h->nworkers,
        .what = "delivery", .name = delivery_name, .each = delivery_task,
        .after = show_books, .ctx = h }, v);
}

/* "8 fulfilled 3 times" or "5 fulfilled 3 times, 3 fulfilled twice": the
 * events fulfilled more than once, by how often, most first; then the
 * events never fulfilled, if any. */
static void describe_dups(const hook_t *h, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int times = DELIVERIES; times > 1; times--) {
        int count = 0;
        for (int i = 0; i < h->nevents; i++)
            count += atomic_load(&h->shipped[i]) == times;
        if (count == 0)
            continue;
        char how[16] = "twice";
        if (times > 2)
            snprintf(how, sizeof how, "%d times", times);
        at = cd_demo_append(buf, len, at, "%s%d fulfilled %s",
                            at ? ", " : "", count, how);
    }
    int missed = cd_demo_tally(h->shipped, h->nevents,
                               memory_order_seq_cst).never;
    if (missed)
        cd_demo_append(buf, len, at, "%s%d never fulfilled", at ? ", " : "",
                       missed);
}

/* Invariant: every event fulfilled exactly once, however often delivered. */
static void check(void *state, int64_t ns, cd_verdict_t *v)
{
    hook_t *h = state;
    double ms = (double)ns / 1e6;
    cd_demo_tally_t t = cd_demo_tally(h->shipped, h->nevents,
                                      memory_order_seq_cst);
    int total = t.total, dup = t.twice, missed = t.never;
    int max = atomic_load(&h->max_in_flight);
    int acked = atomic_load(&h->acknowledged);
    char dups[128];
    describe_dups(h, dups, sizeof dups);

    cd_verdict_expect(v, "each of %d %s fulfilled once, whatever the "
                      "retries", h->nevents,
                      cd_plural(h->nevents, "event", "events"));
    cd_verdict_num(v, "events", h->nevents);
    cd_verdict_num(v, "deliveries", h->nevents * DELIVERIES);
    cd_verdict_num(v, "fulfilments", total);
    cd_verdict_num(v, "fulfilled_twice_or_more", dup);
    cd_verdict_num(v, "unfulfilled", missed);
    cd_verdict_num(v, "acknowledged_retries", acked);
    cd_verdict_num(v, "workers", h->nworkers);
    cd_verdict_num(v, "max_fulfilling_at_once", max);
    cd_verdict_num(v, "max_same_event_at_once",
                   atomic_load(&h->max_same_event));
    cd_verdict_num(v, "elapsed_us", (int64_t)(ms * 1000));
    if (dup || missed)
        cd_verdict_observe(v, CD_VIOLATED,
                           "%d fulfilments for %d %s (%s)%s",
                           total, h->nevents,
                           cd_plural(h->nevents, "event", "events"), dups,
                           !dup ? ""
                           : h->nworkers == 1
                               ? "; one worker thread: the retries interleave "
                                 "at the await, no data race"
                               : "; the retries interleave at the await, on "
                                 "several threads now");
    else
        cd_verdict_observe(v, CD_HELD,
                           "%d fulfilments for %d %s, %d %s acknowledged "
                           "without fulfilling; up to %d %s at the "
                           "warehouse at once, %.1f ms",
                           total, h->nevents,
                           cd_plural(h->nevents, "event", "events"), acked,
                           cd_plural(acked, "retry", "retries"), max,
                           cd_plural(max, "event", "events"), ms);
}

void cd_webhook_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    hook_t h = { 0 };
    cd_demo_run(&(cd_demo_steps_t){ setup, serve, check, teardown,
                                    "the webhook" }, &h, p, variant, v);
}
