/*
 * counter.c - the harness of the exercise counter (the learner's part:
 * lessons/exercises/counter.c, its interface: counter.h).
 *
 * The handlers, the renderer and the scenario concdemo check runs. The
 * renderer writes each render's start and end into the run's books
 * (cli/ledger.h), the handlers each view's page and the visitor number
 * it showed, and the run's end each page's count; the invariant is
 * judged from them, by this program and again by the checker. Everything
 * here but render_page() and cd_exercise is static.
 */
#include <stdlib.h>

#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/counter.h"
#include "harness/exercise.h"
#include "../../cli/ledger.h"

#define RENDER_USEC 2000 /* rendering a page takes 2 ms */

/* The renderer: a render in flight is in the books (its start and end),
 * the service's own count of its parallelism. */
void render_page(int page, long visitor)
{
    (void)visitor;
    cd_ledger_put(CD_EFF_CALL, page, 0, 0, 0);
    cd_latency("render-page", RENDER_USEC);
    cd_ledger_put(CD_EFF_CALL_END, page, 0, 0, 0);
}

typedef struct site {
    views_t *views;
    int per_handler, pages;
} site_t;

/* A handler serves its views; the k-th is of page k % pages, so handlers
 * show the same page at the same time. */
static void handler(void *ctx, int index)
{
    site_t *s = ctx;
    for (int k = 0; k < s->per_handler; k++) {
        int page = k % s->pages;
        long n = count_view(s->views, page);
        cd_ledger_put(CD_EFF_RETURNED, index, page, 0, n);
    }
}

/* The invariant (cli/ledger.c): every view counted, each visitor of a
 * page a number of its own. */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    site_t s = { 0 };

    s.per_handler = plan->per_handler;
    s.pages = plan->pages;
    if (cd_ledger_begin("counter", p) != 0 ||
        !(s.views = views_create(plan->pages))) {
        cd_ledger_end_error(v, 1, "could not set up the counts");
        return;
    }
    int rc = cd_team_run(p->threads, "handler", handler, &s);
    if (rc >= 0)
        for (int page = 0; page < plan->pages; page++)
            cd_ledger_put(CD_EFF_BALANCE, page, 0, 0,
                          views_count(s.views, page));
    cd_ledger_end_error(v, rc < 0, "could not start %d threads",
                        p->threads);
    views_destroy(s.views);
}

EX_SCENARIO("counter", run,
            .defaults = { .threads = 4, .iterations = 6 },
            .min = { .threads = 1, .iterations = 1 },
            .max = { .threads = 64, .iterations = 100 });
