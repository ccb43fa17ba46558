/*
 * backpressure.c - the harness of the exercise backpressure (the
 * learner's part: lessons/exercises/backpressure.c, its interface:
 * backpressure.h).
 *
 * N web workers, one shipper, a memory budget that stops the run the way
 * an out-of-memory kill stops a process; the log store's books and the
 * invariant judged from them. Everything
 * here but cd_exercise is static: the learner's file cannot reach it, and
 * the build refuses a learner's file that defines a name beyond
 * backpressure.h.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cd_chan.h"
#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/exercise.h"
#include "harness/backpressure.h"
#include "harness/team.h"
#include "../../cli/ledger.h"

#define LINES_PER_REQUEST 10 /* a request logs 10 lines... */
#define REQUEST_USEC 100     /* ...and takes a worker 0.1 ms */
#define WRITE_USEC 50        /* the store writes a line in 0.05 ms, */
#define FLUSH_EVERY 50       /* and after every 50 lines */
#define FLUSH_USEC 2500      /* flushes for 2.5 ms: 0.1 ms a line on average */

typedef struct app {
    int nworkers, lines;
    cd_chan_t queue;
    worker_t *w;
    atomic_int killed;     /* the queue passed the memory budget */
    cd_chan_stats_t at_kill;
} app_t;

/* Once the queue holds more memory than the budget, the process is
 * "killed": the run stops. Returns 1 then. */
static int over_budget(app_t *a)
{
    cd_chan_stats_t st;
    cd_chan_stats(&a->queue, &st);
    if (st.bytes <= (size_t)CD_EX_MEMORY_BUDGET)
        return atomic_load(&a->killed);
    if (atomic_exchange(&a->killed, 1) == 0)
        a->at_kill = st;
    return 1;
}

static void web_worker(void *ctx, int index)
{
    app_t *a = ctx;
    worker_t *w = &a->w[index];
    log_line_t line;

    memset(&line, 0, sizeof line);
    for (int i = 0; i < a->lines && !over_budget(a); i++) {
        if (i % LINES_PER_REQUEST == 0)
            cd_latency("request", REQUEST_USEC);
        line.seq = (uint64_t)i;
        line.worker = index;
        snprintf(line.text, sizeof line.text, "web-%d: GET /cart/%d 200",
                 index + 1, i / LINES_PER_REQUEST);
        w->produced++;
        log_line(&a->queue, w, &line);
    }
}

/* Lines the store wrote since the books last heard: worker's lines
 * first .. first+count-1 (one record for a stretch of one worker's). */
typedef struct stored {
    int worker, first, count;
} stored_t;

static void tell_books(stored_t *s)
{
    if (s->count)
        cd_ledger_put(CD_EFF_STORE, s->worker, s->first, s->count, 0);
    s->count = 0;
}

/* Writes lines to the slow store until the queue is closed and drained,
 * or the process was "killed". What the store wrote goes into the books
 * (cli/ledger.h): a line counts as delivered there, and nowhere else. */
static void shipper(void *ctx)
{
    app_t *a = ctx;
    log_line_t line;
    stored_t s = { 0 };
    long written = 0;

    while (!atomic_load(&a->killed) && cd_chan_recv(&a->queue, &line) == 0) {
        cd_latency("log-store write", WRITE_USEC);
        if (s.count && (line.worker != s.worker ||
                        (long)line.seq != (long)s.first + s.count))
            tell_books(&s);
        if (!s.count)
            s = (stored_t){ line.worker, (int)line.seq, 0 };
        s.count++;
        if (++written % FLUSH_EVERY == 0) {
            cd_latency("log-store flush", FLUSH_USEC);
            tell_books(&s);
        }
    }
    tell_books(&s);
}

/* The queue's own account, into the books: what it dropped and refused,
 * what the workers say they gave up, how big it grew. */
static void account(void *ctx)
{
    app_t *a = ctx;
    long produced = 0, gave_up = 0;
    cd_chan_stats_t q;

    for (int i = 0; i < a->nworkers; i++) {
        produced += a->w[i].produced;
        gave_up += a->w[i].gave_up;
    }
    cd_chan_stats(&a->queue, &q);
    cd_ledger_put(CD_EFF_QUEUE, (int)q.drops, (int)gave_up, (int)q.refused,
                  0);
    cd_ledger_put(CD_EFF_PEAK, (int)q.high_water, 0, 0, (int64_t)q.bytes);
    if (atomic_load(&a->killed))
        cd_ledger_put(CD_EFF_KILLED, (int)a->at_kill.depth, (int)produced, 0,
                      (int64_t)a->at_kill.bytes);
}

/* No more lines: the shipper drains the queue, then sees it closed. */
static void no_more_lines(void *ctx)
{
    app_t *a = ctx;
    (void)cd_chan_close(&a->queue);
}

/* The invariant (cli/ledger.c): the queue stays within the budget, and
 * every line is delivered (the store's books), dropped (the queue's
 * count) or given up (the workers' count, never more than the sends the
 * full queue refused). */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    app_t a = { 0 };

    a.nworkers = plan->workers;
    a.lines = plan->lines;
    atomic_init(&a.killed, 0);
    a.w = calloc((size_t)a.nworkers, sizeof *a.w);
    if (cd_ledger_begin("backpressure", p) != 0 || !a.w ||
        queue_init(&a.queue) != 0) {
        cd_ledger_end_error(v, 1, "could not set up the log queue");
        free(a.w);
        return;
    }
    ex_run_beside(&(ex_beside_t){ .name = "log-shipper", .fn = shipper,
                                  .n = a.nworkers, .team = "web",
                                  .members = "workers", .member = web_worker,
                                  .team_done = no_more_lines,
                                  .books = account, .ctx = &a }, v);
    cd_chan_destroy(&a.queue);
    free(a.w);
}

EX_SCENARIO("backpressure", run,
            .defaults = { .threads = 1, .iterations = 3000 },
            .min = { .threads = 1, .iterations = 10 },
            .max = { .threads = 8, .iterations = 100000 });
