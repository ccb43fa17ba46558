/*
 * backpressure.c - the async logger that eats all memory.
 *
 * The pitfall: web workers must not wait for the log store, so they hand
 * their log lines to an in-memory queue and a shipper thread writes them to
 * the store. Each request logs 10 lines; the store takes as long for one
 * line as a worker takes for a whole request (and it pauses to flush every
 * 50 lines). Lines arrive 10 times faster than they leave. An unbounded
 * queue never says "wait" or "no": it just holds the difference, in memory,
 * until the process is killed - and every line still queued dies with it.
 *
 * Symptom: queue depth and memory grow at a steady rate for as long as the
 *          load lasts; here the run stops when the queue passes a 1 MiB
 *          memory budget, as an out-of-memory kill would stop the process.
 * Run:     concdemo backpressure                   the unbounded queue
 *          concdemo backpressure --fixed=bounded   at most 128 lines; a full
 *              queue makes the worker wait (recommended)
 *          concdemo backpressure --fixed=drop      never wait: shed the line
 *              when the queue is full, and count it
 *          concdemo backpressure --fixed=timeout   wait at most 1 ms, then
 *              give the line up and report it
 * Lesson:  lessons/04-backpressure.md
 *
 * --threads N: web workers (one shipper); --iterations N: lines each one
 * logs; --memory-budget KIB: the budget. The invariant is an account:
 * every line produced is delivered, dropped (counted) or given up.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cd_chan.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "support.h" /* scenario.h, byte counts, the team beside */

#define LINES_PER_REQUEST 10 /* a request logs 10 lines... */
#define REQUEST_USEC 100     /* ...and takes a worker 0.1 ms */
#define WRITE_USEC 50        /* the store writes a line in 0.05 ms, */
#define FLUSH_EVERY 50       /* and after every 50 lines */
#define FLUSH_USEC 2500      /* flushes for 2.5 ms: 0.1 ms a line on average */
#define CAPACITY 128         /* the fixes: at most this many lines queued */
#define SEND_TIMEOUT_MS 1    /* fix "timeout": the longest a worker waits */
#define MEMORY_BUDGET (1L << 20) /* what the process may spend on the queue
                                    (--memory-budget, in KiB, sets another) */

enum { BROKEN, BOUNDED, DROP, TIMEOUT };

/* One log line: a fixed-size record, copied into and out of the queue. */
typedef struct log_line {
    uint64_t seq;
    int64_t t_ns;
    int worker;
    char text[492];
} log_line_t;

_Static_assert(sizeof(log_line_t) == 512, "a log line is 512 bytes");

/* One worker's own account; read by the harness after the join. */
typedef struct worker {
    long produced, sent, gave_up, gave_up_shown;
    int64_t waited_ns;  /* time spent inside the logging call */
    int64_t done_ns;    /* when it stopped producing */
} worker_t;

typedef struct app {
    int variant, nworkers, lines;
    long budget;            /* bytes the queue may use */
    int64_t t0_ns;
    cd_chan_t queue;
    worker_t *w;
    long delivered;         /* the shipper's count */
    int64_t shipper_done_ns;
    atomic_int killed;      /* the queue passed the memory budget */
    cd_chan_stats_t at_kill;
    int64_t kill_ns;
    int g_produced, g_delivered, g_dropped, g_given_up, g_queued, g_kib;
} app_t;

/* ================ the queue and the logging call, side by side ============ */

/* How many lines the queue may hold, per variant. */
static const size_t queue_capacity[] = {
    [BROKEN] = CD_CHAN_UNBOUNDED, /* BUG: no limit: the backlog lives in memory */
    [BOUNDED] = CAPACITY,         /* FIX: at most 128 lines wait, */
    [DROP] = CAPACITY,            /* FIX: whatever the fix does */
    [TIMEOUT] = CAPACITY,         /* FIX: when the queue is full */
};

/* Broken, and fix "bounded": send, waiting while the queue is full. The
 * unbounded queue is never full, so the worker never waits and never hears
 * that the shipper is behind. The bounded one makes the worker wait: the
 * shipper's pace pushes back on the workers - backpressure. */
static void log_send(app_t *a, worker_t *w, const log_line_t *line)
{
    if (cd_chan_send(&a->queue, line) == 0)
        w->sent++;
}

/* Fix "drop": never wait. A line that finds the queue full is shed, and
 * the channel counts the drop, so it is visible instead of silent. */
static void log_drop(app_t *a, worker_t *w, const log_line_t *line)
{
    if (cd_chan_try_send(&a->queue, line, CD_CHAN_SHED) == 0) /* FIX: full? */
        w->sent++;                   /* FIX: ...then shed, and counted */
}

/* Fix "timeout": wait for room at most 1 ms, then give the line up and
 * report it. A stalled store costs a worker 1 ms a line, never more. */
static void log_timeout(app_t *a, worker_t *w, const log_line_t *line)
{
    int rc = cd_chan_timed_send(&a->queue, line, SEND_TIMEOUT_MS); /* FIX */
    if (rc == 0)
        w->sent++;
    else if (rc == -ETIMEDOUT)
        w->gave_up++;                             /* FIX: given up, reported */
}

static void (*const log_line[])(app_t *, worker_t *, const log_line_t *) = {
    [BROKEN] = log_send,
    [BOUNDED] = log_send,
    [DROP] = log_drop,
    [TIMEOUT] = log_timeout,
};

/* ================================ harness ================================ */

static void show_figures(app_t *a, worker_t *w); /* the live figures, below */

/* The out-of-memory killer, in miniature: once the queue holds more than
 * the budget, the process is "killed" (the run stops). Returns 1 then. */
static int over_budget(app_t *a)
{
    cd_chan_stats_t st;
    cd_chan_stats(&a->queue, &st);
    if (st.bytes <= (size_t)a->budget)
        return atomic_load(&a->killed);
    if (atomic_exchange(&a->killed, 1) == 0) {
        a->at_kill = st;
        a->kill_ns = cd_reg_elapsed_ns();
    }
    return 1;
}

static void web_worker(void *ctx, int index)
{
    app_t *a = ctx;
    worker_t *w = &a->w[index];
    log_line_t line = { .worker = index };
    for (int i = 0; i < a->lines; i++) {
        if (i % LINES_PER_REQUEST == 0)
            cd_latency("request", REQUEST_USEC);
        line.seq = (uint64_t)i;
        line.t_ns = cd_reg_elapsed_ns();
        snprintf(line.text, sizeof line.text,
                 "web-%d: GET /cart/%d 200 (line %d of request %d)",
                 index + 1, i / LINES_PER_REQUEST,
                 i % LINES_PER_REQUEST + 1, i / LINES_PER_REQUEST);
        w->produced++;
        int64_t t = cd_reg_elapsed_ns();
        log_line[a->variant](a, w, &line);
        w->waited_ns += cd_reg_elapsed_ns() - t;
        show_figures(a, w);
        if (over_budget(a))
            break;
    }
    w->done_ns = cd_reg_elapsed_ns();
}

/* Writes lines to the slow store until the queue is closed and drained,
 * or the process was "killed". */
static void shipper(void *ctx)
{
    app_t *a = ctx;
    log_line_t line;

    while (!atomic_load(&a->killed) && cd_chan_recv(&a->queue, &line) == 0) {
        cd_latency("log-store write", WRITE_USEC);
        if (++a->delivered % FLUSH_EVERY == 0)
            cd_latency("log-store flush", FLUSH_USEC);
        show_figures(a, NULL);
    }
    a->shipper_done_ns = cd_reg_elapsed_ns();
}

/* Publishes the live figures. Each thread adds its own counts: a worker
 * (w) after each line it logged, the shipper (w NULL) its deliveries; the
 * queue's figures come from its registry record. Relaxed loads and stores:
 * watching orders nothing between the threads. The harness calls it once
 * more (w NULL) after the join, for the final figures. */
static void show_figures(app_t *a, worker_t *w)
{
    cd_obj_rec_t *q = cd_reg_object(a->queue.id);
    if (w) {
        cd_reg_gauge_add(a->g_produced, 1);
        cd_reg_gauge_add(a->g_given_up, w->gave_up - w->gave_up_shown);
        w->gave_up_shown = w->gave_up;
    } else {
        cd_reg_gauge_set(a->g_delivered, a->delivered);
    }
    if (!q)
        return;
    cd_reg_gauge_set(a->g_dropped, (int64_t)atomic_load_explicit(
                                       &q->chan_drops, memory_order_relaxed));
    cd_reg_gauge_set(a->g_queued, (int64_t)atomic_load_explicit(
                                      &q->chan_depth, memory_order_relaxed));
    cd_reg_gauge_set(a->g_kib, (int64_t)atomic_load_explicit(
                                   &q->chan_bytes, memory_order_relaxed) / 1024);
}

/* The whole account, added up over the workers. */
typedef struct totals {
    long produced, sent, gave_up, delivered, lost;
    double produce_s, wait_s, ship_s;
    cd_chan_stats_t q;
} totals_t;

static void add_up(app_t *a, totals_t *t)
{
    int64_t done = a->t0_ns;
    memset(t, 0, sizeof *t);
    for (int i = 0; i < a->nworkers; i++) {
        worker_t *w = &a->w[i];
        t->produced += w->produced;
        t->sent += w->sent;
        t->gave_up += w->gave_up;
        t->wait_s += (double)w->waited_ns / 1e9;
        if (w->done_ns > done)
            done = w->done_ns;
    }
    t->delivered = a->delivered;
    t->produce_s = (double)(done - a->t0_ns) / 1e9;
    t->ship_s = (double)(a->shipper_done_ns - a->t0_ns) / 1e9;
    cd_chan_stats(&a->queue, &t->q);
    /* The channel's own drop count is the one that matters: a drop it did
     * not see would be a silent loss, and shows up below as unaccounted. */
    t->lost = t->produced - t->delivered - (long)t->q.drops - t->gave_up;
}

static double per_s(double n, double s) { return s > 0 ? n / s : 0; }

static void figures(app_t *a, const totals_t *t, cd_verdict_t *v)
{
    const cd_chan_stats_t *k = &a->at_kill;
    double kill_s = (double)(a->kill_ns - a->t0_ns) / 1e9;
    int killed = atomic_load(&a->killed);

    cd_verdict_num(v, "produced", t->produced);
    cd_verdict_num(v, "sent", t->sent);
    cd_verdict_num(v, "delivered", t->delivered);
    cd_verdict_num(v, "dropped", (int64_t)t->q.drops);
    cd_verdict_num(v, "given_up", t->gave_up);
    cd_verdict_num(v, "lost", t->lost);
    cd_verdict_num(v, "capacity", (int64_t)t->q.capacity);
    cd_verdict_num(v, "peak_depth", (int64_t)t->q.high_water);
    cd_verdict_num(v, "peak_bytes", (int64_t)t->q.bytes);
    cd_verdict_num(v, "budget_bytes", a->budget);
    cd_verdict_num(v, "over_budget", killed);
    /* How fast the backlog grew until the kill (0 when there was none). */
    cd_verdict_num(v, "growth_lines_per_s",
                   killed ? (int64_t)per_s((double)k->depth, kill_s) : 0);
    cd_verdict_num(v, "growth_bytes_per_s",
                   killed ? (int64_t)per_s((double)k->depth *
                                           sizeof(log_line_t), kill_s) : 0);
    cd_verdict_num(v, "produced_per_s",
                   (int64_t)per_s((double)t->produced, t->produce_s));
    cd_verdict_num(v, "delivered_per_s",
                   (int64_t)per_s((double)t->delivered, t->ship_s));
    cd_verdict_num(v, "worker_wait_ms", (int64_t)(t->wait_s * 1000));
}

/* Invariant: the queue stays within the budget, and every line is
 * delivered, dropped (counted) or given up (reported). */
static void check(app_t *a, cd_verdict_t *v)
{
    totals_t t;
    char b1[32], b2[32], b3[32];

    add_up(a, &t);
    figures(a, &t, v);
    cd_verdict_expect(v, "the log queue to stay within its %s memory budget "
                      "and every line to be delivered, dropped (counted) or "
                      "given up (reported)",
                      cd_demo_bytes(b1, sizeof b1, (double)a->budget));
    if (atomic_load(&a->killed)) {
        const cd_chan_stats_t *k = &a->at_kill;
        double s = (double)(a->kill_ns - a->t0_ns) / 1e9;
        double rate = per_s((double)k->depth, s);
        cd_verdict_observe(v, CD_VIOLATED,
            "the backlog grew by %.0f lines/s (%s/s): after %.0f ms the "
            "queue held %zu line%s and its buffer had grown to %s, past the "
            "budget, so the run was stopped as an out-of-memory kill would "
            "stop the process, and the %ld lines still queued were lost "
            "(workers logged %.0f lines/s, the store wrote %.0f/s)",
            rate, cd_demo_bytes(b2, sizeof b2, rate * sizeof(log_line_t)),
            s * 1000, k->depth, k->depth == 1 ? "" : "s",
            cd_demo_bytes(b3, sizeof b3, (double)k->bytes),
            t.lost, per_s((double)t.produced, t.produce_s),
            per_s((double)t.delivered, t.ship_s));
    } else if (t.lost != 0) {
        cd_verdict_observe(v, CD_VIOLATED,
            "%ld of %ld lines unaccounted for: %ld delivered, %llu dropped, "
            "%ld given up", t.lost, t.produced, t.delivered,
            (unsigned long long)t.q.drops, t.gave_up);
    } else {
        cd_verdict_observe(v, CD_HELD,
            "all %ld lines accounted for: %ld delivered, %llu dropped, "
            "%ld given up; the queue peaked at %zu "
            "lines in %s; workers logged %.0f lines/s and waited %.0f ms "
            "for room%s", t.produced, t.delivered,
            (unsigned long long)t.q.drops, t.gave_up, t.q.high_water,
            cd_demo_bytes(b2, sizeof b2, (double)t.q.bytes),
            per_s((double)t.produced, t.produce_s), t.wait_s * 1000,
            t.q.capacity == 0 ? " - but nothing bounds this queue: a longer "
                                "burst (--iterations) passes the budget"
                              : "");
    }
}

/* No more lines: the shipper drains the queue, then sees it closed. Runs
 * between the web workers and the shipper's join (cd_demo_beside). */
static void no_more_lines(void *app)
{
    app_t *a = app;
    (void)cd_chan_close(&a->queue);
}

void cd_backpressure_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    app_t a = { .variant = variant, .nworkers = p->threads,
                .lines = p->iterations,
                .budget = p->budget_kib > 0 ? 1024L * p->budget_kib
                                            : MEMORY_BUDGET };

    atomic_init(&a.killed, 0);
    a.w = calloc((size_t)a.nworkers, sizeof *a.w);
    if (!a.w || cd_chan_init(&a.queue, "log-queue", sizeof(log_line_t),
                             queue_capacity[variant]) != 0) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the log queue");
        free(a.w);
        return;
    }
    cd_demo_figures("lines", (int64_t)a.nworkers * a.lines, "produced",
                    &a.g_produced, "delivered", &a.g_delivered, "dropped",
                    &a.g_dropped, "given up", &a.g_given_up, "queued",
                    &a.g_queued, "queue KiB", &a.g_kib, NULL);
    a.t0_ns = cd_reg_elapsed_ns();
    int rc = cd_demo_beside(&(cd_demo_beside_t){
        .name = "log-shipper", .fn = shipper, .who = "the shipper",
        .n = a.nworkers, .prefix = "web", .team = web_worker,
        .what = "web workers", .ctx = &a, .between = no_more_lines }, v);
    show_figures(&a, NULL);
    if (rc == 0)
        check(&a, v);
    cd_chan_destroy(&a.queue);
    free(a.w);
}
