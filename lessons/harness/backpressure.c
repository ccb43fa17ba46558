/*
 * backpressure.c - the harness of the exercise backpressure (the
 * learner's part: lessons/exercises/backpressure.c, its interface:
 * backpressure.h).
 *
 * N web workers, one shipper, a memory budget that stops the run the way
 * an out-of-memory kill stops a process, and the invariant. Everything
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

#define LINES_PER_REQUEST 10 /* a request logs 10 lines... */
#define REQUEST_USEC 100     /* ...and takes a worker 0.1 ms */
#define WRITE_USEC 50        /* the store writes a line in 0.05 ms, */
#define FLUSH_EVERY 50       /* and after every 50 lines */
#define FLUSH_USEC 2500      /* flushes for 2.5 ms: 0.1 ms a line on average */
#define MEMORY_BUDGET (1L << 20) /* what the process may spend on the queue */

typedef struct app {
    int nworkers, lines;
    cd_chan_t queue;
    worker_t *w;
    long delivered;        /* the shipper's count */
    atomic_int killed;     /* the queue passed the memory budget */
    cd_chan_stats_t at_kill;
} app_t;

/* Once the queue holds more memory than the budget, the process is
 * "killed": the run stops. Returns 1 then. */
static int over_budget(app_t *a)
{
    cd_chan_stats_t st;
    cd_chan_stats(&a->queue, &st);
    if (st.bytes <= (size_t)MEMORY_BUDGET)
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
    }
}

/* Invariant: the queue stays within the budget, and every line produced
 * is delivered, dropped (counted by the channel) or given up (counted). */
static void check(app_t *a, cd_verdict_t *v)
{
    long produced = 0, sent = 0, gave_up = 0;
    cd_chan_stats_t q;

    for (int i = 0; i < a->nworkers; i++) {
        produced += a->w[i].produced;
        sent += a->w[i].sent;
        gave_up += a->w[i].gave_up;
    }
    cd_chan_stats(&a->queue, &q);
    long lost = produced - a->delivered - (long)q.drops - gave_up;

    cd_verdict_expect(v, "the log queue to stay within its 1 MiB budget and "
                      "every line to be delivered, dropped (counted) or "
                      "given up (counted)");
    cd_verdict_num(v, "produced", produced);
    cd_verdict_num(v, "delivered", a->delivered);
    cd_verdict_num(v, "dropped", (int64_t)q.drops);
    cd_verdict_num(v, "given_up", gave_up);
    cd_verdict_num(v, "peak_depth", (int64_t)q.high_water);
    if (atomic_load(&a->killed))
        cd_verdict_observe(v, CD_VIOLATED, "the queue held %zu lines in a "
                           "buffer of %zu KiB, past the %ld KiB budget: the "
                           "process was killed and the lines still queued "
                           "were lost (%ld produced, %ld delivered)",
                           a->at_kill.depth, a->at_kill.bytes / 1024,
                           MEMORY_BUDGET / 1024, produced, a->delivered);
    else if (lost != 0)
        cd_verdict_observe(v, CD_VIOLATED, "%ld of %ld lines unaccounted for: "
                           "%ld delivered, %llu dropped, %ld given up - lost "
                           "without a trace", lost, produced, a->delivered,
                           (unsigned long long)q.drops, gave_up);
    else
        cd_verdict_observe(v, CD_HELD, "all %ld lines accounted for: %ld "
                           "delivered, %llu dropped, %ld given up; the queue "
                           "peaked at %zu lines (%zu KiB)", produced,
                           a->delivered, (unsigned long long)q.drops, gave_up,
                           q.high_water, q.bytes / 1024);
}

static void run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    app_t a = { .nworkers = p->threads, .lines = p->iterations };
    cd_thread_t ship;
    (void)variant;

    atomic_init(&a.killed, 0);
    a.w = calloc((size_t)a.nworkers, sizeof *a.w);
    if (!a.w || queue_init(&a.queue) != 0) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the log queue");
        free(a.w);
        return;
    }
    if (cd_thread_spawn(&ship, "log-shipper", shipper, &a) != 0) {
        cd_verdict_observe(v, CD_ERROR, "could not start the shipper");
    } else {
        int rc = cd_team_run(a.nworkers, "web", web_worker, &a);
        /* No more lines: the shipper drains the queue, then sees it closed. */
        (void)cd_chan_close(&a.queue);
        cd_thread_join(&ship);
        if (rc < 0)
            cd_verdict_observe(v, CD_ERROR, "could not start %d workers",
                               a.nworkers);
        else
            check(&a, v);
    }
    cd_chan_destroy(&a.queue);
    free(a.w);
}

EX_SCENARIO("backpressure", run,
            .defaults = { .threads = 1, .iterations = 3000 },
            .min = { .threads = 1, .iterations = 10 },
            .max = { .threads = 8, .iterations = 100000 });
