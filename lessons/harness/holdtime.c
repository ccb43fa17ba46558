/*
 * holdtime.c - the harness of the exercise holdtime (the learner's part:
 * lessons/exercises/holdtime.c, its interface: holdtime.h).
 *
 * The dashboard of the demo (demos/holdtime.c): `threads` handlers each
 * refresh the report `iterations` times, all starting together, while
 * the till sells one unit every 1 ms (the first at 0.5 ms), five sales a
 * report. Handler 1 asks for the full report, which takes 12 ms: it
 * comes back after the others have shown reports of newer copies. The
 * till writes each sale into the run's books, the renderer
 * each render's start and end (the measure of parallelism), the dashboard
 * each report it shows; the board's totals are counted into them once
 * everyone has gone, and the invariant is judged from them
 * (cli/ledger.c). Everything here but render_report(), show_report() and
 * cd_exercise is static: the learner's file cannot reach it, and the
 * build refuses a learner's file that defines a name beyond holdtime.h.
 */
#include <stdlib.h>

#include "cd_thread.h"
#include "harness/exercise.h"
#include "harness/holdtime.h"
#include "harness/team.h"
#include "../../cli/ledger.h"

#define REPORT_USEC 5000     /* a report takes 5 ms to render, */
#define FULL_USEC 12000      /* handler 1's full report 12 ms */
#define SALE_FIRST_USEC 500  /* the till's first sale, mid-report */
#define SALE_EVERY_USEC 1000 /* then one every 1 ms */

_Static_assert(BOARD_PRODUCTS == CD_EX_BOARD_PRODUCTS,
               "the judge counts the products the board has");

/* Whether the calling handler renders the full report (handler 1). */
static _Thread_local int full_report;

void render_report(const board_t *b, report_t *out)
{
    report_t r = { .version = b->version };
    cd_ledger_put(CD_EFF_CALL, 0, 0, 0, 0);
    cd_latency("report", full_report ? FULL_USEC : REPORT_USEC);
    /* Read after the work, as a real renderer reads as it goes: a board
     * that changed meanwhile gives a report of no one version. */
    for (int i = 0; i < BOARD_PRODUCTS; i++) {
        r.total += b->sales[i];
        if (b->sales[i] > b->sales[r.top])
            r.top = i;
    }
    cd_ledger_put(CD_EFF_CALL_END, 0, 0, 0, 0);
    *out = r;
}

void show_report(board_t *b, const report_t *r)
{
    cd_ledger_put(CD_EFF_SAVE, (int)r->version, (int)r->total, 0, 0);
    b->report = *r;
}

typedef struct shop {
    dash_t *dash;
    board_t board;
    int requests, nsales;
} shop_t;

static void handler(void *ctx, int index)
{
    shop_t *s = ctx;
    full_report = index == 0;
    for (int i = 0; i < s->requests; i++) {
        refresh(s->dash, &s->board);
        cd_ledger_put(CD_EFF_RETURNED, index, 0, 0, 0);
    }
}

/* The till sells on its own clock, the products in turn; its books are
 * the sales made, whatever the board ends up saying. */
static void till(void *arg)
{
    shop_t *s = arg;
    for (int i = 0; i < s->nsales; i++) {
        cd_latency("next sale", i == 0 ? SALE_FIRST_USEC : SALE_EVERY_USEC);
        cd_ledger_put(CD_EFF_PAY, i % BOARD_PRODUCTS, i + 1, 0, 0);
        record_sale(s->dash, &s->board, i % BOARD_PRODUCTS);
    }
}

/* The board's totals, counted once everyone has gone. */
static void count_board(void *ctx)
{
    shop_t *s = ctx;
    for (int i = 0; i < BOARD_PRODUCTS; i++)
        cd_ledger_put(CD_EFF_BALANCE, i, 0, 0, s->board.sales[i]);
}

/* The invariant (cli/ledger.c): every sale in the board's totals, every
 * request refreshed with a render, the dashboard never back to an older
 * report; the parallel stage counts renders at once. */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    shop_t s = { 0 };

    s.requests = plan->per_handler;
    s.nsales = plan->sales;
    if (cd_ledger_begin("holdtime", p) != 0 || !(s.dash = dash_create())) {
        cd_ledger_end_error(v, 1, "could not set up the dashboard");
        return;
    }
    ex_run_beside(&(ex_beside_t){ .name = "till", .fn = till,
                                  .n = plan->handlers, .team = "handler",
                                  .members = "handlers", .member = handler,
                                  .books = count_board, .ctx = &s }, v);
    dash_destroy(s.dash);
}

EX_SCENARIO("holdtime", run,
            .defaults = { .threads = 4, .iterations = 2 },
            .min = { .threads = 2, .iterations = 1 },
            .max = { .threads = 16, .iterations = 20 });
