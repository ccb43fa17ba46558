/*
 * starvation.c - the harness of the exercise starvation (the learner's
 * part: lessons/exercises/starvation.c, its interface: starvation.h).
 *
 * The window of recent requests and what is measured about the waits for
 * it, the request storm, the trimmer, the invariant. Everything here but
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

#define REQUEST_EVERY_USEC 1000 /* a request arrives every 1 ms */
#define CHECK_USEC 3000         /* reading the window takes 3 ms */
#define TRIM_FIRST_USEC 10500   /* the first trim: half a beat off the
                                   requests, never at the same instant */
#define TRIM_EVERY_USEC 20000   /* then one every 20 ms */
#define TRIM_USEC 500           /* dropping expired entries takes 0.5 ms */
#define MAX_PAST 3              /* reads allowed in after the trimmer asked
                                   (one that came as it asked may count) */
#define START_LEAD_USEC 2000    /* time for the threads to start */
#define MAX_READERS 16

/* The window of recent requests, and what the harness measures about the
 * waits for it. The request threads and the trimmer use it only through
 * read_window() and drop_expired(), under the lock. */
typedef struct window {
    int64_t trimmed_at_us;           /* the data: the last trim */
    int64_t t0_ns;                   /* the timetable's zero */
    int scale;                       /* latency scale, thousandths */
    int requests;
    atomic_int reads;                /* reads made */
    atomic_uint wait_no;             /* odd while the trimmer waits */
    atomic_int past_now;             /* reads in since it asked */
    unsigned came[MAX_READERS];      /* wait_no when each request came */
    int reads_of[MAX_READERS], past_of[MAX_READERS];
    int64_t stalest_us[MAX_READERS]; /* oldest trim a check relied on */
    int64_t asked_ns, longest_wait_ns, most_past_wait_ns;
    int most_past, writes, writes_in_storm;
} window_t;

/* The run's window: one run at a time in the exercise's program. */
static window_t *window_now;

static int64_t since_t0_us(const window_t *w)
{
    return (cd_reg_elapsed_ns() - w->t0_ns) / 1000;
}

void read_window(int index)
{
    window_t *w = window_now;
    atomic_fetch_add_explicit(&w->reads, 1, memory_order_relaxed);
    w->reads_of[index]++;
    /* Came while the trimmer was waiting, and got in before it did. */
    if ((w->came[index] & 1) &&
        atomic_load_explicit(&w->wait_no, memory_order_relaxed) ==
            w->came[index]) {
        atomic_fetch_add_explicit(&w->past_now, 1, memory_order_relaxed);
        w->past_of[index]++;
    }
    cd_point("read window");
    int64_t age = since_t0_us(w) - w->trimmed_at_us;
    if (age > w->stalest_us[index])
        w->stalest_us[index] = age;
    cd_latency("walk-window", CHECK_USEC);
}

void drop_expired(void)
{
    window_t *w = window_now;
    int64_t waited = cd_reg_elapsed_ns() - w->asked_ns;
    int past = atomic_load_explicit(&w->past_now, memory_order_relaxed);

    atomic_fetch_add_explicit(&w->wait_no, 1, memory_order_relaxed);
    if (waited > w->longest_wait_ns)
        w->longest_wait_ns = waited;
    if (past > w->most_past) {
        w->most_past = past;
        w->most_past_wait_ns = waited;
    }
    if (atomic_load_explicit(&w->reads, memory_order_relaxed) < w->requests)
        w->writes_in_storm++;
    cd_point("trim window");
    w->trimmed_at_us = since_t0_us(w);
    cd_latency("trim-window", TRIM_USEC);
    w->writes++;
}

/* Request k starts at k ms on request thread k mod N; the trimmer asks
 * every 20 ms; then the invariant. */

typedef struct storm {
    limiter_t *lm;
    window_t window;
    int nreaders, trims_due;
} storm_t;

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
        wait_until(w, "next-request", (int64_t)k * REQUEST_EVERY_USEC);
        w->came[index] = atomic_load_explicit(&w->wait_no,
                                              memory_order_relaxed);
        check_request(st->lm, index);
    }
}

static void trimmer_thread(void *ctx)
{
    storm_t *st = ctx;
    window_t *w = &st->window;
    for (int k = 0; k < st->trims_due; k++) {
        wait_until(w, "next-trim",
                   TRIM_FIRST_USEC + (int64_t)k * TRIM_EVERY_USEC);
        w->asked_ns = cd_reg_elapsed_ns();
        atomic_store_explicit(&w->past_now, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&w->wait_no, 1, memory_order_relaxed);
        trim_window(st->lm);
        /* A trim that never got to drop_expired() ends its wait here. */
        if (atomic_load_explicit(&w->wait_no, memory_order_relaxed) & 1)
            atomic_fetch_add_explicit(&w->wait_no, 1, memory_order_relaxed);
    }
}

/* Invariant: bounded waiting - hardly any read goes in after the trimmer
 * asked for the write lock - and every trim made. */
static void check(storm_t *st, cd_verdict_t *v)
{
    window_t *w = &st->window;
    int reads = atomic_load(&w->reads);
    int64_t stalest = 0;
    for (int i = 0; i < st->nreaders; i++)
        if (w->stalest_us[i] > stalest)
            stalest = w->stalest_us[i];

    cd_verdict_expect(v, "at most %d reads go in ahead of the trimmer while "
                      "it waits for the write lock, and it makes its %d "
                      "trims while %d requests read the window", MAX_PAST,
                      st->trims_due, w->requests);
    cd_verdict_num(v, "reads", reads);
    cd_verdict_num(v, "writes", w->writes);
    cd_verdict_num(v, "most_reads_past_writer", w->most_past);
    cd_verdict_num(v, "longest_write_wait_us", w->longest_wait_ns / 1000);
    if (w->most_past > MAX_PAST)
        cd_verdict_observe(v, CD_VIOLATED, "the trimmer waited %.0f ms for "
                           "the write lock while %d reads went in ahead of "
                           "it; %d of %d trims came while the requests ran; "
                           "requests read a window up to %.0f ms stale",
                           (double)w->most_past_wait_ns / 1e6, w->most_past,
                           w->writes_in_storm, st->trims_due,
                           (double)stalest / 1000);
    else if (w->writes < st->trims_due || reads < w->requests)
        cd_verdict_observe(v, CD_VIOLATED, "%d of %d trims made and %d of %d "
                           "requests read the window: work was skipped",
                           w->writes, st->trims_due, reads, w->requests);
    else
        cd_verdict_observe(v, CD_HELD, "at most %d read%s went in ahead of "
                           "the waiting trimmer (longest wait %.1f ms); all "
                           "%d trims made, %d while the requests ran",
                           w->most_past, w->most_past == 1 ? "" : "s",
                           (double)w->longest_wait_ns / 1e6, w->writes,
                           w->writes_in_storm);
}

static void run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    storm_t *st = calloc(1, sizeof *st);
    cd_thread_t trimmer;
    (void)variant;

    if (!st || !(st->lm = limiter_create())) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the limiter");
        free(st);
        return;
    }
    window_t *w = &st->window;
    window_now = w;
    st->nreaders = p->threads;
    w->requests = p->iterations;
    /* One trim per 20 ms of the storm (requests arrive 1 per ms). */
    st->trims_due = (int)(((int64_t)w->requests * REQUEST_EVERY_USEC -
                           TRIM_FIRST_USEC + TRIM_EVERY_USEC - 1) /
                          TRIM_EVERY_USEC);
    w->scale = cd_reg_latency_scale();
    atomic_init(&w->reads, 0);
    atomic_init(&w->wait_no, 0);
    atomic_init(&w->past_now, 0);
    w->t0_ns = cd_reg_elapsed_ns() + (int64_t)START_LEAD_USEC * w->scale;

    int rc = cd_thread_spawn(&trimmer, "trimmer", trimmer_thread, st);
    if (rc == 0) {
        rc = cd_team_run(st->nreaders, "request", request_thread, st);
        cd_thread_join(&trimmer);
    }
    if (rc < 0)
        cd_verdict_observe(v, CD_ERROR, "could not start %d threads",
                           st->nreaders + 1);
    else
        check(st, v);
    limiter_destroy(st->lm);
    window_now = NULL;
    free(st);
}

EX_SCENARIO("starvation", run,
            .defaults = { .threads = 6, .iterations = 300 },
            .min = { .threads = 4, .iterations = 100 },
            .max = { .threads = MAX_READERS, .iterations = 100000 });
