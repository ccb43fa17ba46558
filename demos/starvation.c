/*
 * starvation.c - the starving writer: readers that never all leave at once.
 *
 * The pitfall: a rate limiter keeps its sliding window of recent requests
 * behind a reader-writer lock. Every request checks the window under the
 * read lock (walking it takes 3 ms); once every 20 ms the limiter's trimmer
 * needs the write lock to drop expired entries. Requests arrive one per
 * millisecond, so about three of them are always inside. glibc's default
 * rwlock prefers readers: a new reader walks in whenever no writer is
 * inside - even while a writer waits. The read lock is never free, so the
 * trimmer waits until the request storm is over.
 *
 * Symptom: hundreds of reads go in ahead of the waiting trimmer, whose wait
 *          lasts as long as the storm (300 ms instead of ~3); the window
 *          goes stale. Nothing is wrong with any single read or write: the
 *          lock's policy, not a data race, starves one thread.
 * Run:     concdemo starvation                       the reader-preferring lock
 *          concdemo starvation --fixed=writer-pref   a waiting writer stops new
 *                                                    readers (recommended)
 *          concdemo starvation --fixed=fair          first come, first served
 * Lesson:  lessons/03-starvation.md
 *
 * The load is a timetable, not luck: request k starts at k ms (on the
 * first request thread free to take it) and holds the read lock 3 ms, so
 * at every instant two or three reads overlap. --threads sets N (the
 * request threads), --iterations the number of requests. Late threads
 * (held up by a waiting writer) go at once. A busy machine can still run
 * a request thread late enough to leave the lock empty for a moment, so a
 * check also ends only once a later request is inside or waits at the
 * lock: the storm has no gap on any machine. A machine that runs one side
 * late holds the other to the timetable too: no request goes ahead of a
 * trim due before it, and no trim ahead of the requests due before it.
 * Then only the lock's policy decides who goes in.
 *
 * The invariant counts reads, not milliseconds: a writer is starved when
 * others keep going in while it waits at the lock (the textbook "bounded
 * waiting"). A wall-clock bound would also fail a fair lock on a machine
 * that stalls the whole process for 100 ms, which shared machines do.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/cd_registry.h"
#include "../lib/cd_rwlock.h"
#include "../lib/cd_thread.h"
#include "support.h" /* scenario.h, and how a run is driven */

#define REQUEST_EVERY_USEC 1000 /* a request arrives every 1 ms */
#define CHECK_USEC 3000         /* walking the window takes 3 ms */
#define TRIM_FIRST_USEC 10500   /* the first trim: 10 ms in, half a beat
                                   off the requests, so that it never asks
                                   at the very instant a request does */
#define TRIM_EVERY_USEC 20000   /* then one every 20 ms */
#define TRIM_USEC 500           /* dropping expired entries takes 0.5 ms */
#define MAX_PAST 3              /* reads allowed past the waiting trimmer:
                                   none really, but one that came as it
                                   asked may be counted */
#define START_LEAD_USEC 2000    /* time for the other request threads to
                                   start once the first one has */
#define HANDOVER_USEC 250       /* how often a finished check looks for the
                                   next request (only on a late machine) */
#define MAX_READERS 16

/* The window of recent requests: plain memory, guarded by the lock. */
typedef struct window {
    int64_t trimmed_at_us; /* when expired entries were last dropped */
} window_t;

typedef struct limiter {
    int variant;
    int nreaders, requests;
    int trims_due;          /* the trimmer's quota: one per 20 ms of load */
    int scale;              /* latency scale, thousandths */
    _Atomic int64_t t0_ns;  /* the timetable's zero: set by the first
                               request thread to run; 0 before */
    cd_rwlock_t lock;       /* guards window */
    window_t window;

    /* Measurements. The shared ones are relaxed atomics: they must not
     * order the threads. Each request thread has its own slot in the
     * arrays, read after the join. */
    atomic_int next_request;          /* the next request to hand out */
    atomic_int reads;                 /* reads that went in */
    atomic_uint trims_in;             /* times the trimmer got in */
    atomic_int past_now;              /* reads past the current wait */
    _Atomic int64_t asked_ns;         /* the trimmer's wait began; 0: none */
    int reads_of[MAX_READERS];
    int past_of[MAX_READERS];         /* reads that overtook the trimmer */
    int64_t stalest_us[MAX_READERS];  /* oldest trim a check relied on */
    int writes;                       /* the trimmer's own from here */
    int writes_in_storm;              /* made while requests still came */
    int64_t longest_wait_ns;
    int most_past;                    /* most reads in during one wait */
    int64_t most_past_wait_ns;        /* how long that wait was */
    /* Live figures for concdemo --view (registry gauges). */
    int g_reads, g_past, g_trims, g_wait, g_longest;
} limiter_t;

/* ======================= the lock, side by side ========================== */

/* The variants differ only by the policy the window's lock is made with. */
static const cd_rw_policy_t policy[] = {
    CD_RW_PREFER_READER, /* BUG: new readers walk past the waiting trimmer */
    CD_RW_PREFER_WRITER, /* FIX: a waiting writer holds new readers back */
    CD_RW_FAIR,          /* FIX: first come, first served, readers included */
};

/* ============================= the threads =============================== */

static int64_t t0_ns(limiter_t *lm)
{
    return atomic_load_explicit(&lm->t0_ns, memory_order_relaxed);
}

static int64_t since_t0_us(limiter_t *lm)
{
    return (cd_reg_elapsed_ns() - t0_ns(lm)) / 1000;
}

/* The storm begins when the first request thread runs, however late a
 * busy machine starts it: the timetable counts from there, for the trimmer
 * too. (Counted from the spawn, a slow start would put every trim before
 * the first request, and nothing would wait.) */
static void storm_begins(limiter_t *lm)
{
    int64_t none = 0;
    atomic_compare_exchange_strong_explicit(
        &lm->t0_ns, &none,
        cd_reg_elapsed_ns() + (int64_t)START_LEAD_USEC * lm->scale,
        memory_order_relaxed, memory_order_relaxed);
}

/* Sleeps until at_us (timetable time, scaled like every latency) after
 * t0; returns at once when that moment has passed. */
static void wait_until(limiter_t *lm, const char *what, int64_t at_us)
{
    int64_t due = t0_ns(lm) + at_us * lm->scale;
    int64_t left_ns = due - cd_reg_elapsed_ns();
    if (left_ns > 0 && lm->scale > 0)
        cd_latency(what, left_ns / lm->scale);
}

/* The storm has no gap: a check leaves only once a later request is
 * inside (so the lock is never empty while requests come), or waits at the
 * lock (the policy holds new readers back: leaving is what lets the writer
 * in), or was the last. Only a late machine ever waits here; with latency
 * scaled to 0 there is no timetable to keep. */
static void hand_over(limiter_t *lm, int ticket)
{
    while (lm->scale > 0 && ticket + 1 < lm->requests &&
           atomic_load_explicit(&lm->reads, memory_order_relaxed) <=
               ticket + 1 &&
           cd_rwlock_waiting(&lm->lock, 0) == 0)
        cd_latency("next-request", HANDOVER_USEC);
}

/* One request: is this client under its limit? Only reads the window. */
static void check_request(limiter_t *lm, int index)
{
    /* Did it come while the trimmer waited at the lock (not merely on its
     * way there)? Then getting in before the trimmer is overtaking it. */
    unsigned trims = atomic_load_explicit(&lm->trims_in, memory_order_relaxed);
    int trimmer_waits = cd_rwlock_waiting(&lm->lock, 1) > 0;
    cd_rwlock_rdlock(&lm->lock);
    int ticket = atomic_fetch_add_explicit(&lm->reads, 1, memory_order_relaxed);
    lm->reads_of[index]++;
    if (trimmer_waits &&
        atomic_load_explicit(&lm->trims_in, memory_order_relaxed) == trims) {
        atomic_fetch_add_explicit(&lm->past_now, 1, memory_order_relaxed);
        lm->past_of[index]++;
    }
    cd_point("walk window");
    int64_t age = since_t0_us(lm) - lm->window.trimmed_at_us;
    if (age > lm->stalest_us[index])
        lm->stalest_us[index] = age;
    cd_latency("walk-window", CHECK_USEC);
    /* A blocked trimmer cannot show its own wait: the reads do, from inside
     * the lock, where a wait begun is still on (the trimmer ends it inside). */
    int64_t since = atomic_load_explicit(&lm->asked_ns, memory_order_relaxed);
    if (since)
        cd_reg_gauge_set(lm->g_wait, (cd_reg_elapsed_ns() - since) / 1000000);
    hand_over(lm, ticket);
    cd_rwlock_unlock(&lm->lock);
}

/* The trimmer's own measurements of one wait for the write lock. */
static void record_wait(limiter_t *lm, int64_t waited_ns, int past)
{
    if (waited_ns > lm->longest_wait_ns)
        lm->longest_wait_ns = waited_ns;
    if (past > lm->most_past ||
        (past == lm->most_past && waited_ns > lm->most_past_wait_ns)) {
        lm->most_past = past;
        lm->most_past_wait_ns = waited_ns;
    }
}

/* One trim: drop the expired entries. Needs the window to itself. */
static void trim_window(limiter_t *lm)
{
    int64_t asked = cd_reg_elapsed_ns();

    atomic_store_explicit(&lm->past_now, 0, memory_order_relaxed);
    atomic_store_explicit(&lm->asked_ns, asked, memory_order_relaxed);
    cd_rwlock_wrlock(&lm->lock);
    atomic_fetch_add_explicit(&lm->trims_in, 1, memory_order_relaxed);
    atomic_store_explicit(&lm->asked_ns, 0, memory_order_relaxed);
    record_wait(lm, cd_reg_elapsed_ns() - asked,
                atomic_load_explicit(&lm->past_now, memory_order_relaxed));
    cd_reg_gauge_set(lm->g_wait, 0); /* the live figures: the wait is over */
    cd_reg_gauge_set(lm->g_longest, (lm->longest_wait_ns + 500000) / 1000000);
    if (atomic_load_explicit(&lm->reads, memory_order_relaxed) < lm->requests)
        lm->writes_in_storm++;
    cd_point("trim window");
    lm->window.trimmed_at_us = since_t0_us(lm);
    cd_latency("trim-window", TRIM_USEC);
    cd_rwlock_unlock(&lm->lock);
    lm->writes++;
    cd_reg_gauge_add(lm->g_trims, 1);
}

/* How many requests the timetable has let in by trim j: those due a beat
 * before it (the mirror of trims_due_before below). */
static int reads_due_before_trim(limiter_t *lm, int j)
{
    int64_t at_us = TRIM_FIRST_USEC + (int64_t)j * TRIM_EVERY_USEC;
    int n = (int)(at_us / REQUEST_EVERY_USEC);
    return n < lm->requests ? n : lm->requests;
}

/* A machine that runs the request threads late must not let the trimmer
 * pass them by (on a starved machine every request can start after the
 * last trim, and an empty lock keeps nobody waiting): trim j waits until
 * the requests due before it have gone in, as on an idle machine. One of
 * them is still inside then (hand_over), so the trimmer meets the storm. */
static void wait_for_the_storm(limiter_t *lm, int j)
{
    int due = reads_due_before_trim(lm, j);
    while (lm->scale > 0 &&
           atomic_load_explicit(&lm->reads, memory_order_relaxed) < due)
        cd_latency("requests-late", HANDOVER_USEC);
}

static void trimmer_thread(void *ctx)
{
    limiter_t *lm = ctx;
    /* With latency scaled to 0 there is no timetable to wait for. */
    while (lm->scale > 0 && t0_ns(lm) == 0)
        cd_latency("storm-to-begin", HANDOVER_USEC);
    for (int k = 0; k < lm->trims_due; k++) {
        wait_until(lm, "next-trim",
                   TRIM_FIRST_USEC + (int64_t)k * TRIM_EVERY_USEC);
        wait_for_the_storm(lm, k);
        trim_window(lm);
    }
}

/* How many trims the timetable has asked for by the time request k
 * arrives, a beat before it (a trim due at the same instant races it). */
static int trims_due_before(limiter_t *lm, int k)
{
    int64_t at_us = (int64_t)(k - 1) * REQUEST_EVERY_USEC - TRIM_FIRST_USEC;
    if (at_us < 0)
        return 0;
    int n = (int)(at_us / TRIM_EVERY_USEC) + 1;
    return n < lm->trims_due ? n : lm->trims_due;
}

/* A machine that runs the trimmer late must not let the storm pass it
 * by (on a starved machine the trimmer can wake long after its time, and
 * a storm already over has nobody left to overtake it): request k waits
 * until the trimmer is at the lock or has made every trim due before k,
 * as on an idle machine. Then only the lock's policy decides who goes in
 * first. */
static void keep_the_timetable(limiter_t *lm, int k)
{
    int due = trims_due_before(lm, k);
    while (lm->scale > 0 && cd_rwlock_waiting(&lm->lock, 1) == 0 &&
           (int)atomic_load_explicit(&lm->trims_in, memory_order_relaxed) <
               due)
        cd_latency("trimmer-late", HANDOVER_USEC);
}

static void request_thread(void *ctx, int index)
{
    limiter_t *lm = ctx;
    storm_begins(lm);
    /* Requests go to whichever request thread is free, as a server's pool
     * hands them out: a thread that the machine runs late holds up only
     * its own request, never the ones after it. */
    for (;;) {
        int k = atomic_fetch_add_explicit(&lm->next_request, 1,
                                          memory_order_relaxed);
        if (k >= lm->requests)
            break;
        wait_until(lm, "next-request", (int64_t)k * REQUEST_EVERY_USEC);
        keep_the_timetable(lm, k);
        int past = lm->past_of[index];
        check_request(lm, index);
        /* The live figures (relaxed): this thread's own counts moved. */
        cd_reg_gauge_add(lm->g_reads, 1);
        cd_reg_gauge_add(lm->g_past, lm->past_of[index] - past);
    }
}

/* ================================ harness ================================ */

/* "no read", "1 read", "2 reads". */
static const char *count_reads(char *buf, size_t size, int n)
{
    if (n == 0)
        snprintf(buf, size, "no read");
    else
        snprintf(buf, size, "%d read%s", n, n == 1 ? "" : "s");
    return buf;
}

/* Invariant: bounded waiting - hardly any read goes in after the trimmer
 * asked for the write lock - and the whole quota of trims made. */
static void check(limiter_t *lm, cd_verdict_t *v)
{
    char shares[96], past_of[96], counted[32];
    int reads = atomic_load(&lm->reads), past = 0;
    int64_t stalest = 0;

    for (int i = 0; i < lm->nreaders; i++) {
        past += lm->past_of[i];
        if (lm->stalest_us[i] > stalest)
            stalest = lm->stalest_us[i];
    }
    cd_demo_join(shares, sizeof shares, lm->reads_of, lm->nreaders);
    cd_demo_join(past_of, sizeof past_of, lm->past_of, lm->nreaders);

    cd_verdict_expect(v, "at most %d reads go in ahead of the trimmer while "
                      "it waits for the write lock, and it makes its %d "
                      "%s (one per %d ms) while %d requests read the "
                      "window", MAX_PAST, lm->trims_due,
                      cd_plural(lm->trims_due, "trim", "trims"),
                      TRIM_EVERY_USEC / 1000, lm->requests);
    cd_verdict_str(v, "policy", "%s", cd_rw_policy_name(policy[lm->variant]));
    cd_verdict_num(v, "request_threads", lm->nreaders);
    cd_verdict_num(v, "reads", reads);
    cd_verdict_str(v, "reads_per_thread", "%s", shares);
    cd_verdict_num(v, "writes", lm->writes);
    cd_verdict_num(v, "write_quota", lm->trims_due);
    cd_verdict_num(v, "writes_while_requests_ran", lm->writes_in_storm);
    cd_verdict_num(v, "longest_write_wait_us", lm->longest_wait_ns / 1000);
    cd_verdict_num(v, "most_reads_past_writer", lm->most_past);
    cd_verdict_num(v, "reads_past_writer_bound", MAX_PAST);
    cd_verdict_num(v, "reads_past_waiting_writer", past);
    cd_verdict_str(v, "reads_past_writer_per_thread", "%s", past_of);
    cd_verdict_num(v, "stalest_window_us", stalest);

    if (lm->most_past > MAX_PAST || lm->writes < lm->trims_due)
        cd_verdict_observe(v, CD_VIOLATED,
                           "the trimmer waited %.0f ms for the write lock "
                           "while %d reads went in ahead of it (request-1..%d: "
                           "%s); requests were checked against a window up "
                           "to %.0f ms stale, and %d of the %d %s came "
                           "while the requests ran",
                           (double)lm->most_past_wait_ns / 1e6, lm->most_past,
                           lm->nreaders, past_of, (double)stalest / 1000,
                           lm->writes_in_storm, lm->trims_due,
                           cd_plural(lm->trims_due, "trim", "trims"));
    else
        cd_verdict_observe(v, CD_HELD,
                           "%s went in ahead of the waiting trimmer (longest "
                           "wait %.1f ms); %d of %d %s made, %d while the "
                           "requests ran, the window never more than %.0f ms "
                           "stale; lock share: %d reads (request-1..%d: %s), "
                           "%d %s",
                           count_reads(counted, sizeof counted, lm->most_past),
                           (double)lm->longest_wait_ns / 1e6, lm->writes,
                           lm->trims_due,
                           cd_plural(lm->trims_due, "trim", "trims"),
                           lm->writes_in_storm, (double)stalest / 1000, reads,
                           lm->nreaders, shares, lm->writes,
                           cd_plural(lm->writes, "write", "writes"));
}

void cd_starvation_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    limiter_t *lm = calloc(1, sizeof *lm);

    if (!lm || cd_rwlock_init(&lm->lock, "window-lock", policy[variant])) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the limiter");
        free(lm);
        return;
    }
    lm->variant = variant;
    lm->nreaders = p->threads;
    lm->requests = p->iterations;
    /* One trim per 20 ms of the request storm (requests arrive 1 per ms). */
    lm->trims_due = (int)(((int64_t)lm->requests * REQUEST_EVERY_USEC -
                           TRIM_FIRST_USEC + TRIM_EVERY_USEC - 1) /
                          TRIM_EVERY_USEC);
    lm->scale = cd_reg_latency_scale();
    atomic_init(&lm->next_request, 0);
    atomic_init(&lm->reads, 0);
    atomic_init(&lm->trims_in, 0);
    atomic_init(&lm->past_now, 0);
    atomic_init(&lm->asked_ns, 0);
    cd_demo_figures("requests", lm->requests, "reads", &lm->g_reads,
                    "reads past trimmer", &lm->g_past, "trims", &lm->g_trims,
                    "trimmer waiting ms", &lm->g_wait, "longest wait ms",
                    &lm->g_longest, NULL);
    atomic_init(&lm->t0_ns, 0);

    if (cd_demo_beside(&(cd_demo_beside_t){
            .name = "trimmer", .fn = trimmer_thread, .n = lm->nreaders,
            .prefix = "request", .team = request_thread, .ctx = lm }, v) == 0)
        check(lm, v);
    cd_rwlock_destroy(&lm->lock);
    free(lm);
}

/* Its arrays hold as many readers as its entry in demos/scenarios.c
 * allows (.max.threads). */
_Static_assert(MAX_READERS == CD_STARVATION_READERS,
               "MAX_READERS is not CD_STARVATION_READERS (demos/scenario.h)");
