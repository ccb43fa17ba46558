/*
 * starvation.c - the harness of the exercise starvation (the learner's
 * part: lessons/exercises/starvation.c, its interface: starvation.h).
 *
 * The window of recent requests and what is measured about the waits for
 * it, the request storm, the trimmer; every read and trim goes into the
 * run's books, and the invariant is judged from them. Everything here but
 * read_window(), drop_expired() and cd_exercise is static: the learner's
 * file cannot reach it, and the build refuses a learner's file that
 * defines a name beyond starvation.h.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/exercise.h"
#include "harness/starvation.h"
#include "../../cli/ledger.h"

#define CHECK_USEC 3000         /* reading the window takes 3 ms */
#define TRIM_USEC 500           /* dropping expired entries takes 0.5 ms */
#define START_LEAD_USEC 2000    /* time for the threads to start */
#define MAX_READERS 16

/* The window of recent requests, and what the harness measures about the
 * waits for it. The request threads and the trimmer use it only through
 * read_window() and drop_expired(), under the lock. What the reads and
 * trims did goes into the run's books (cli/ledger.h). */
typedef struct window {
    int64_t trimmed_at_us;           /* the data: the last trim */
    int64_t t0_ns;                   /* the timetable's zero */
    int scale;                       /* latency scale, thousandths */
    int requests;
    atomic_int reads;                /* reads made */
    atomic_uint wait_no;             /* odd while the trimmer waits */
    unsigned came[MAX_READERS];      /* wait_no when each request came */
    int64_t asked_ns;
} window_t;

/* The run's window: one run at a time in the exercise's program. */
static window_t *window_now;

static int64_t since_t0_us(const window_t *w)
{
    return (cd_reg_elapsed_ns() - w->t0_ns) / 1000;
}

/* A read, in the books: who, whether it came while the trimmer waited
 * and got in ahead of it, how old the window was; and its start and end,
 * so that the books see readers share. */
void read_window(int index)
{
    window_t *w = window_now;
    atomic_fetch_add_explicit(&w->reads, 1, memory_order_relaxed);
    int past = (w->came[index] & 1) &&
               atomic_load_explicit(&w->wait_no, memory_order_relaxed) ==
                   w->came[index];
    cd_point("read window");
    int64_t age = since_t0_us(w) - w->trimmed_at_us;
    cd_ledger_put(CD_EFF_CALL, index, past, 0, age);
    cd_latency("walk-window", CHECK_USEC);
    cd_ledger_put(CD_EFF_CALL_END, index, 0, 0, 0);
}

void drop_expired(void)
{
    window_t *w = window_now;
    int64_t waited = cd_reg_elapsed_ns() - w->asked_ns;
    int in_storm = atomic_load_explicit(&w->reads, memory_order_relaxed) <
                   w->requests;

    /* In the books before the wait ends: a read the books count ahead
     * of the trimmer came before this. */
    cd_ledger_put(CD_EFF_TRIM, 0, 0, in_storm, waited);
    atomic_fetch_add_explicit(&w->wait_no, 1, memory_order_relaxed);
    cd_point("trim window");
    w->trimmed_at_us = since_t0_us(w);
    cd_latency("trim-window", TRIM_USEC);
}

/* Request k starts at k ms on request thread k mod N; the trimmer asks
 * every 20 ms; then the invariant. */

typedef struct storm {
    limiter_t *lm;
    window_t window;
    int nreaders, trims_due;
    int trimmer_id; /* its registry id, set before the requests start */
} storm_t;

/* The trimmer is at the lock: blocked there, not merely on its way. A
 * read that gets in before a writer that has not queued yet overtook
 * nobody (a loaded machine can hold the trimmer between its ask and the
 * lock for milliseconds, and a fair lock would be blamed for it). */
static int trimmer_at_the_lock(const storm_t *st)
{
    cd_thread_rec_t *t = cd_reg_thread(st->trimmer_id);
    return t && atomic_load(&t->state) == CD_T_BLOCKED;
}

/* Sleeps until at_us of the timetable (scaled like every latency). */
static void wait_until(window_t *w, const char *what, int64_t at_us)
{
    int64_t left_ns = w->t0_ns + at_us * w->scale - cd_reg_elapsed_ns();
    if (left_ns > 0 && w->scale > 0)
        cd_latency(what, left_ns / w->scale);
}

static void request_thread(void *ctx, int index)
{
    storm_t *st = ctx;
    window_t *w = &st->window;
    for (int k = index; k < w->requests; k += st->nreaders) {
        wait_until(w, "next-request",
                   (int64_t)k * CD_EX_REQUEST_EVERY_USEC);
        unsigned no = atomic_load_explicit(&w->wait_no, memory_order_relaxed);
        w->came[index] = (no & 1) && trimmer_at_the_lock(st) ? no : 0;
        check_request(st->lm, index);
    }
}

static void trimmer_thread(void *ctx)
{
    storm_t *st = ctx;
    window_t *w = &st->window;
    for (int k = 0; k < st->trims_due; k++) {
        wait_until(w, "next-trim", CD_EX_TRIM_FIRST_USEC +
                                       (int64_t)k * CD_EX_TRIM_EVERY_USEC);
        w->asked_ns = cd_reg_elapsed_ns();
        /* In the books before the wait begins: a read that sees it began
         * comes after this. */
        cd_ledger_put(CD_EFF_ASK, 0, 0, 0, 0);
        atomic_fetch_add_explicit(&w->wait_no, 1, memory_order_relaxed);
        trim_window(st->lm);
        /* A trim that never got to drop_expired() ends its wait here. */
        if (atomic_load_explicit(&w->wait_no, memory_order_relaxed) & 1)
            atomic_fetch_add_explicit(&w->wait_no, 1, memory_order_relaxed);
    }
}

/* The invariant (cli/ledger.c): bounded waiting - hardly any read goes
 * in after the trimmer asked for the write lock - every trim made, every
 * request read, and the reads overlapping (the parallel stage). */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    storm_t *st = calloc(1, sizeof *st);
    cd_thread_t trimmer;

    if (cd_ledger_begin("starvation", p) != 0 || !st ||
        !(st->lm = limiter_create())) {
        cd_ledger_end_error(v, 1, "could not set up the limiter");
        free(st);
        return;
    }
    window_t *w = &st->window;
    window_now = w;
    st->nreaders = plan->readers;
    w->requests = plan->requests;
    st->trims_due = plan->trims;
    w->scale = cd_reg_latency_scale();
    atomic_init(&w->reads, 0);
    atomic_init(&w->wait_no, 0);
    w->t0_ns = cd_reg_elapsed_ns() + (int64_t)START_LEAD_USEC * w->scale;

    int rc = cd_thread_spawn(&trimmer, "trimmer", trimmer_thread, st);
    if (rc == 0) {
        st->trimmer_id = trimmer.id;
        rc = cd_team_run(st->nreaders, "request", request_thread, st);
        cd_thread_join(&trimmer);
    }
    cd_ledger_end_error(v, rc < 0, "could not start %d threads",
                        st->nreaders + 1);
    limiter_destroy(st->lm);
    window_now = NULL;
    free(st);
}

EX_SCENARIO("starvation", run,
            .defaults = { .threads = 6, .iterations = 300 },
            .min = { .threads = 4, .iterations = 100 },
            .max = { .threads = MAX_READERS, .iterations = 100000 });
