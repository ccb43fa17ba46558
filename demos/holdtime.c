/*
 * holdtime.c - the report rendered under the lock: eight handlers, one at
 * a time.
 *
 * The pitfall: a shop's sales dashboard. The till records each sale on a
 * shared board (units sold per product, and a version that every sale
 * bumps) under the board's lock. Eight handlers serve dashboard requests:
 * each renders a report of the board (5 ms of work) and puts it up. The
 * handler takes the lock, renders, stores and lets go - so the lock is
 * held for the whole 5 ms. Nothing is lost and nothing races; but eight
 * handlers render one at a time, with the throughput of one, and the till
 * waits behind every report to record a sale.
 *
 * Symptom: the lock held >90% of the run; never two reports at once; the
 *          till waits tens of ms to record a sale.
 * Run:     concdemo holdtime                    the broken handler
 *          concdemo holdtime --fixed=copy-out   copy the board under the
 *              lock, let go, render the copy, take the lock again to store
 *              the report - only if it is newer than the one shown
 *              (recommended)
 *          concdemo holdtime --fixed=no-check   a wrong fix: copy out and
 *              render the same, then put the whole copy back with no
 *              version check - the sales the till recorded meanwhile are
 *              lost (exits 1)
 * Lesson:  lessons/17-holdtime.md
 *
 * The handlers (handler-1..N, --threads) each serve --iterations requests,
 * all starting together; the till records one sale every 1 ms (the first
 * at 0.5 ms, so that sales fall inside the reports' 5 ms, not between
 * them), five per report round, spread over the products in turn.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "support.h"

#define PRODUCTS 4
#define REPORT_USEC 5000    /* rendering a report takes 5 ms */
#define SALE_FIRST_USEC 500 /* the till's first sale, mid-report */
#define SALE_EVERY_USEC 1000 /* then one every 1 ms */

/* What the dashboard shows: a report of the board as it was at `version`. */
typedef struct report {
    long version; /* the board's version it was rendered from */
    long total;   /* units sold, all products */
    int top;      /* the best-selling product */
} report_t;

/* The shared board; every field under dash_t.lock. */
typedef struct board {
    long sales[PRODUCTS]; /* units sold per product: the till's */
    long version;         /* bumped by every sale */
    report_t report;      /* the report the dashboard shows */
} board_t;

typedef struct dash {
    int variant;
    int nhandlers, requests, nsales;
    cd_mutex_t lock; /* the board's lock */
    int lock_ready;
    board_t board;

    /* The measure of the lock, under it: how long it was held, and the
     * newest report the dashboard ever showed (to see it go back). */
    int64_t t0_ns, held_ns, locked_at_ns;
    int64_t span_ns, span_held_ns; /* the handlers' run: its length, and
                                      the lock's time within it */
    long shown_max;
    int went_back;
    long sold;            /* the till's own count of its sales */
    int64_t till_wait_ns; /* the longest the till waited for the lock */
    /* The renders: in progress now and at most; under the lock; done. */
    atomic_int rendering, max_rendering, under_lock, reports;
    /* Live figures for --view. */
    int g_reports, g_rendering, g_held, g_sales, g_lost, g_till_wait;
} dash_t;

static void raise_max(atomic_int *max, int value)
{
    int m = atomic_load(max);
    while (value > m && !atomic_compare_exchange_weak(max, &m, value))
        ;
}

/* ====================== the board's lock, measured ======================= */

/* Takes the board's lock and starts its hold clock. A macro, so that the
 * trace shows the caller's line. */
#define lock_board(d) lock_board_at((d), CD_HERE)
static void lock_board_at(dash_t *d, cd_site_t site)
{
    cd_mutex_lock_at(&d->lock, site);
    d->locked_at_ns = cd_reg_elapsed_ns();
}

/* Ends the hold: adds it to the lock's time, notes whether the dashboard
 * went back to an older report, updates the live figures, lets go.
 * Caller holds d->lock. */
#define unlock_board(d) unlock_board_at((d), CD_HERE)
static void unlock_board_at(dash_t *d, cd_site_t site)
{
    int64_t now = cd_reg_elapsed_ns();
    long total = 0;
    d->held_ns += now - d->locked_at_ns;
    if (d->board.report.version < d->shown_max)
        d->went_back++;
    else
        d->shown_max = d->board.report.version;
    for (int i = 0; i < PRODUCTS; i++)
        total += d->board.sales[i];
    cd_reg_gauge_set(d->g_lost, d->sold - total);
    if (now > d->t0_ns && d->span_ns == 0) /* the handlers' run only */
        cd_reg_gauge_set(d->g_held, d->held_ns * 100 / (now - d->t0_ns));
    cd_mutex_unlock_at(&d->lock, site);
}

/* Whether the calling thread holds lock m, by its own registry record
 * (which only it writes: reading it orders nothing). */
static int i_hold(const cd_mutex_t *m)
{
    cd_thread_rec_t *me = cd_reg_thread(cd_self());
    int n = me ? atomic_load_explicit(&me->nheld, memory_order_relaxed) : 0;
    for (int i = 0; i < n && i < CD_MAX_HELD; i++)
        if (atomic_load_explicit(&me->held[i], memory_order_relaxed) == m->id)
            return 1;
    return 0;
}

/* Renders a report of board b (5 ms of work) into *out. Counts whether
 * the caller holds the board's lock meanwhile, and how many render at
 * once. */
static void render(dash_t *d, const board_t *b, report_t *out)
{
    report_t r = { .version = b->version };
    for (int i = 0; i < PRODUCTS; i++) {
        r.total += b->sales[i];
        if (b->sales[i] > b->sales[r.top])
            r.top = i;
    }
    if (i_hold(&d->lock))
        atomic_fetch_add(&d->under_lock, 1);
    raise_max(&d->max_rendering, atomic_fetch_add(&d->rendering, 1) + 1);
    cd_reg_gauge_add(d->g_rendering, 1);
    cd_latency("report", REPORT_USEC);
    cd_reg_gauge_add(d->g_rendering, -1);
    atomic_fetch_sub(&d->rendering, 1);
    *out = r;
}

/* ===================== the handlers, side by side ======================== */

/* Broken: the lock is held for the whole render. Correct, and one
 * handler at a time; the till waits behind every report. */
static void refresh_broken(dash_t *d)
{
    report_t r;
    lock_board(d);
    cd_point("render");
    render(d, &d->board, &r);      /* BUG: 5 ms with the board locked: */
    cd_point("store");
    d->board.report = r;           /* every other handler and the till */
    unlock_board(d);               /* wait for it */
}

/* Fix "copy-out": hold the lock only to copy and to store. The report is
 * stored only if it is newer than the one shown: a handler that rendered
 * an older copy and comes back late must not replace it. Only the report
 * is stored: the till's sales since the copy stay. */
static void refresh_copy_out(dash_t *d)
{
    report_t r;
    lock_board(d);
    board_t copy = d->board;                 /* FIX: copy under the lock, */
    unlock_board(d);                         /* FIX: let go, */
    cd_point("render");
    render(d, &copy, &r);                    /* render the copy, */
    lock_board(d);                           /* FIX: reacquire to store */
    cd_point("store");
    if (r.version > d->board.report.version) /* FIX: a newer report only, */
        d->board.report = r;                 /* FIX: and only the report */
    unlock_board(d);
}

/* Wrong fix "no-check": the same copy and render, then the whole copy
 * goes back with no version check. */
static void refresh_no_check(dash_t *d)
{
    lock_board(d);
    board_t copy = d->board;
    unlock_board(d);
    cd_point("render");
    render(d, &copy, &copy.report);
    lock_board(d);
    cd_point("store");
    d->board = copy;               /* BUG: no version check: puts back the */
    unlock_board(d);               /* sales as they were at the copy */
}

static void (*const refresh[])(dash_t *) = {
    refresh_broken, refresh_copy_out, refresh_no_check,
};

/* ================================ harness ================================ */

static void handler(void *ctx, int index)
{
    dash_t *d = ctx;
    (void)index;
    for (int i = 0; i < d->requests; i++) {
        refresh[d->variant](d);
        atomic_fetch_add(&d->reports, 1);
        cd_reg_gauge_add(d->g_reports, 1);
    }
}

/* The till: a sale every 1 ms, on the products in turn, each recorded
 * under the board's lock; it measures how long it waited for it. */
static void till(void *arg)
{
    dash_t *d = arg;
    for (int i = 0; i < d->nsales; i++) {
        cd_latency("next sale", i == 0 ? SALE_FIRST_USEC : SALE_EVERY_USEC);
        int64_t asked = cd_reg_elapsed_ns();
        lock_board(d);
        if (d->locked_at_ns - asked > d->till_wait_ns)
            d->till_wait_ns = d->locked_at_ns - asked;
        cd_point("record sale");
        d->board.sales[i % PRODUCTS]++;
        d->board.version++;
        d->sold++;
        cd_reg_gauge_set(d->g_sales, d->sold);
        cd_reg_gauge_set(d->g_till_wait, d->till_wait_ns / 1000000);
        unlock_board(d);
    }
}

static int setup(dash_t *d, const cd_params_t *p, int variant)
{
    d->variant = variant;
    d->nhandlers = p->threads;
    d->requests = p->iterations;
    /* Five sales a report round: the till sells while the reports render. */
    d->nsales = p->iterations * REPORT_USEC / SALE_EVERY_USEC;
    atomic_init(&d->rendering, 0);
    atomic_init(&d->max_rendering, 0);
    atomic_init(&d->under_lock, 0);
    atomic_init(&d->reports, 0);
    cd_demo_figures("handlers", d->nhandlers, "reports done", &d->g_reports,
                    "rendering now", &d->g_rendering, "lock held %",
                    &d->g_held, "sales", &d->g_sales, "sales lost",
                    &d->g_lost, "till waited ms", &d->g_till_wait, NULL);
    if (cd_mutex_init(&d->lock, "board") != 0)
        return -1;
    d->lock_ready = 1;
    return 0;
}

/* Invariant: no report rendered holding the board's lock, every sale in
 * the totals, and the dashboard never back to an older report. */
static void check(dash_t *d, cd_verdict_t *v)
{
    int64_t elapsed = d->span_ns;
    long total = 0;
    for (int i = 0; i < PRODUCTS; i++)
        total += d->board.sales[i];
    long lost = d->sold - total;
    int reports = atomic_load(&d->reports);
    int under = atomic_load(&d->under_lock);
    int most = atomic_load(&d->max_rendering);
    int held = elapsed > 0 ? (int)(d->span_held_ns * 1000 / elapsed) : 0;
    double ms = (double)elapsed / 1e6;
    double serial_ms = reports * (REPORT_USEC / 1000.0) *
                       cd_reg_latency_scale() / 1000.0;
    double wait_ms = (double)d->till_wait_ns / 1e6;
    char held_text[160];

    snprintf(held_text, sizeof held_text, "the lock held %d.%d%% of the "
             "run, up to %d %s at once; the till waited up to %.1f ms for "
             "it", held / 10, held % 10, most,
             cd_plural(most, "report", "reports"), wait_ms);
    cd_verdict_expect(v, "no report rendered holding the board's lock, "
                      "every sale in the totals, the dashboard never back "
                      "to an older report (%d handlers, %d %s each, %d "
                      "sales)", d->nhandlers, d->requests,
                      cd_plural(d->requests, "report", "reports"), d->nsales);
    cd_verdict_num(v, "handlers", d->nhandlers);
    cd_verdict_num(v, "reports", reports);
    cd_verdict_num(v, "rendered_under_lock", under);
    cd_verdict_num(v, "max_rendering_at_once", most);
    cd_verdict_num(v, "lock_held_permille", held);
    cd_verdict_num(v, "sales", d->sold);
    cd_verdict_num(v, "sales_in_totals", total);
    cd_verdict_num(v, "sales_lost", lost);
    cd_verdict_num(v, "went_back", d->went_back);
    cd_verdict_num(v, "till_wait_us", d->till_wait_ns / 1000);
    cd_verdict_num(v, "elapsed_us", elapsed / 1000);
    cd_verdict_num(v, "serial_us", (int64_t)(serial_ms * 1000));
    if (lost > 0 || total > d->sold)
        cd_verdict_observe(v, CD_VIOLATED, "%ld of %ld sales lost from the "
                           "totals (%ld counted): a handler put its copy of "
                           "the board back over the sales the till recorded "
                           "while it rendered%s", lost, d->sold, total,
                           d->went_back ? "; the dashboard went back to an "
                                          "older report too" : "");
    else if (d->went_back)
        cd_verdict_observe(v, CD_VIOLATED, "the dashboard went back to an "
                           "older report %d %s: a handler stored a report "
                           "rendered before the one shown", d->went_back,
                           cd_plural(d->went_back, "time", "times"));
    else if (under)
        cd_verdict_observe(v, CD_VIOLATED, "%d of %d reports rendered "
                           "holding the board's lock: %s; %.1f ms, as long "
                           "as one report at a time (%.1f ms)", under,
                           reports, held_text, ms, serial_ms);
    else
        cd_verdict_observe(v, CD_HELD, "no report rendered under the lock: "
                           "%s; every sale in the totals (%ld), the "
                           "dashboard never went back; %.1f ms where one "
                           "report at a time takes %.1f ms", held_text,
                           total, ms, serial_ms);
}

/* The measure ends with the last report (the till may still sell): how
 * long the handlers took, and how much of it the lock was held. Runs
 * between the team and the till's join (cd_demo_beside). */
static void end_span(void *dash)
{
    dash_t *d = dash;
    if (cd_mutex_lock(&d->lock) != 0)
        return; /* the run was aborted: there is no span to measure */
    d->span_ns = cd_reg_elapsed_ns() - d->t0_ns;
    d->span_held_ns = d->held_ns;
    cd_mutex_unlock(&d->lock);
}

void cd_holdtime_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    dash_t d = { 0 };
    if (setup(&d, p, variant) != 0) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the board");
        goto out;
    }
    d.t0_ns = cd_reg_elapsed_ns(); /* the virtual clock under --sched */
    if (cd_demo_beside(&(cd_demo_beside_t){
            .name = "till", .fn = till, .who = "the till", .n = d.nhandlers,
            .prefix = "handler", .team = handler, .what = "handlers",
            .ctx = &d, .between = end_span }, v) == 0)
        check(&d, v);
out:
    if (d.lock_ready)
        cd_mutex_destroy(&d.lock);
}
