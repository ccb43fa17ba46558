/*
 * bench_mutex.c - what the instrumented cd_mutex costs next to a raw
 * pthread_mutex_t.
 *
 * The design promise is that the choke point costs close to nothing while
 * tracing is off: the target is an uncontended lock+unlock at most 1.3
 * times the raw one. The registry and the lock-order graph stay on (they
 * always are in a real run); only tracing is off. Rows:
 *
 *   uncontended  one thread locks and unlocks in a loop. A second, idle
 *                thread is alive throughout: glibc takes a cheaper path
 *                while a process has a single thread, which would flatter
 *                the raw mutex. Timed with the thread's CPU clock, so that
 *                other work on this small shared machine counts only by
 *                what it does to the caches.
 *   nested       the same while holding another lock of the same kind: the
 *                lock-order check runs on every lock (information).
 *   contended    two threads hammer the same mutex. Wall time: a thread
 *                that sleeps waiting for the lock is part of the cost.
 *   tracing ON   the uncontended loop with the trace ring on (information).
 *
 * Each timing lasts about TARGET_NS; raw and instrumented timings
 * alternate, REPS times, and the table shows the median with [min..max].
 * Always exits 0: it measures, it does not judge a build (the last line
 * says OK or OVER TARGET).
 *
 * Run: make bench    (or ./build/bench_mutex)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"

#define REPS 7
#define TARGET_NS (150 * 1000 * 1000) /* each timing lasts about this */
#define MIN_ITERS 100000L
#define TARGET_RATIO 1.30

enum kind { RAW, CD };

/* The measured mutex of each kind, and an outer one for the nested row. */
typedef struct subject {
    pthread_mutex_t raw, raw_outer;
    cd_mutex_t cd, cd_outer;
} subject_t;

typedef int64_t (*timing_fn)(subject_t *s, enum kind k, long n);

/* ============================ the timed loops ============================ */

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* n lock+unlock pairs on one mutex. */
static void pairs(subject_t *s, enum kind k, long n)
{
    if (k == RAW) {
        for (long i = 0; i < n; i++) {
            CD_CHECK(pthread_mutex_lock(&s->raw));
            CD_CHECK(pthread_mutex_unlock(&s->raw));
        }
    } else {
        for (long i = 0; i < n; i++) {
            cd_mutex_lock(&s->cd);
            cd_mutex_unlock(&s->cd);
        }
    }
}

/* Uncontended: returns the CPU time of n pairs. */
static int64_t uncontended(subject_t *s, enum kind k, long n)
{
    int64_t t0 = cpu_ns();
    pairs(s, k, n);
    return cpu_ns() - t0;
}

/* Nested: the same pairs while the thread holds the outer mutex. */
static int64_t nested(subject_t *s, enum kind k, long n)
{
    if (k == RAW)
        CD_CHECK(pthread_mutex_lock(&s->raw_outer));
    else
        cd_mutex_lock(&s->cd_outer);
    int64_t ns = uncontended(s, k, n);
    if (k == RAW)
        CD_CHECK(pthread_mutex_unlock(&s->raw_outer));
    else
        cd_mutex_unlock(&s->cd_outer);
    return ns;
}

/* ============================ the idle thread ============================ */

/* Sleeps on a condition variable until told to stop: it only has to be
 * alive, and must not take CPU time from the measured threads. */
static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;
static int idle_stop;

static void *idle_main(void *arg)
{
    (void)arg;
    CD_CHECK(pthread_mutex_lock(&idle_lock));
    while (!idle_stop)
        CD_CHECK(pthread_cond_wait(&idle_cond, &idle_lock));
    CD_CHECK(pthread_mutex_unlock(&idle_lock));
    return NULL;
}

static void idle_end(pthread_t t)
{
    CD_CHECK(pthread_mutex_lock(&idle_lock));
    idle_stop = 1;
    CD_CHECK(pthread_cond_signal(&idle_cond));
    CD_CHECK(pthread_mutex_unlock(&idle_lock));
    CD_CHECK(pthread_join(t, NULL));
}

/* ============================== contention =============================== */

typedef struct hammer {
    subject_t *s;
    enum kind k;
    long n;
    pthread_barrier_t *go;
} hammer_t;

static void *hammer_main(void *p)
{
    hammer_t *h = p;
    pthread_barrier_wait(h->go);
    pairs(h->s, h->k, h->n);
    return NULL;
}

/* Two threads do n pairs each on the same mutex; returns the wall time
 * from the moment both are released until both are done. Thread creation
 * is outside the timing. */
static int64_t contended(subject_t *s, enum kind k, long n)
{
    pthread_barrier_t go;
    pthread_t t[2];
    hammer_t h = { s, k, n, &go };

    CD_CHECK(pthread_barrier_init(&go, NULL, 3));
    for (int i = 0; i < 2; i++)
        CD_CHECK(pthread_create(&t[i], NULL, hammer_main, &h));
    pthread_barrier_wait(&go);
    int64_t t0 = cd_now_ns();
    for (int i = 0; i < 2; i++)
        CD_CHECK(pthread_join(t[i], NULL));
    int64_t ns = cd_now_ns() - t0;
    CD_CHECK(pthread_barrier_destroy(&go));
    return ns;
}

/* =============================== statistics ============================== */

typedef struct stats {
    double med, min, max;
} stats_t;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static stats_t stats_of(const double *v)
{
    double s[REPS];
    for (int i = 0; i < REPS; i++)
        s[i] = v[i];
    qsort(s, REPS, sizeof s[0], cmp_double);
    return (stats_t){ s[REPS / 2], s[0], s[REPS - 1] };
}

typedef struct result {
    long iters;      /* lock+unlock pairs per thread and timing */
    stats_t raw, cd; /* ns per pair */
    stats_t ratio;   /* each repetition's cd / raw */
} result_t;

/* Iterations so that one raw timing of fn lasts about TARGET_NS. */
static long calibrate(subject_t *s, timing_fn fn)
{
    long n = 1L << 20;
    fn(s, RAW, n); /* warm up */
    int64_t ns = fn(s, RAW, n);
    long want = (long)((double)n * TARGET_NS / (double)(ns > 0 ? ns : 1));
    return want < MIN_ITERS ? MIN_ITERS : want;
}

/* Times fn REPS times for each kind, alternating raw and cd so that a
 * burst of load from elsewhere hits both alike. `threads` pairs run per
 * iteration. */
static result_t measure(subject_t *s, timing_fn fn, int threads)
{
    long n = calibrate(s, fn);
    double ops = (double)n * threads;
    double raw[REPS], cd[REPS], ratio[REPS];

    for (int r = 0; r < REPS; r++) {
        raw[r] = (double)fn(s, RAW, n) / ops;
        cd[r] = (double)fn(s, CD, n) / ops;
        ratio[r] = cd[r] / raw[r];
    }
    return (result_t){ n, stats_of(raw), stats_of(cd), stats_of(ratio) };
}

/* ================================= report ================================ */

static void row(const char *what, const result_t *r)
{
    printf("%-26s %10ld   %5.1f [%5.1f..%5.1f]   %5.1f [%5.1f..%5.1f]"
           "   %4.2f [%4.2f..%4.2f]\n",
           what, r->iters, r->raw.med, r->raw.min, r->raw.max, r->cd.med,
           r->cd.min, r->cd.max, r->cd.med / r->raw.med, r->ratio.min,
           r->ratio.max);
}

static uint64_t acquisitions(const cd_mutex_t *m)
{
    cd_obj_rec_t *o = cd_reg_object(m->id);
    return o ? atomic_load_explicit(&o->acquisitions, memory_order_relaxed)
             : 0;
}

static void init(subject_t *s)
{
    CD_CHECK(pthread_mutex_init(&s->raw, NULL));
    CD_CHECK(pthread_mutex_init(&s->raw_outer, NULL));
    if (cd_mutex_init(&s->cd, "bench-lock") != 0 ||
        cd_mutex_init(&s->cd_outer, "bench-outer") != 0) {
        fprintf(stderr, "bench_mutex: could not register the mutexes\n");
        exit(2);
    }
}

int main(void)
{
    static subject_t s;
    pthread_t idle;

    cd_reg_reset();
    cd_reg_set_trace(0);
    init(&s);
    CD_CHECK(pthread_create(&idle, NULL, idle_main, NULL));

    printf("cd_mutex vs pthread_mutex_t, ns per lock+unlock pair: "
           "median [min..max] of %d\n", REPS);
    printf("registry on, lock-order graph on, tracing off; %ld CPUs "
           "online; ratio = cd median / raw median [min..max of the "
           "repetitions' ratios]\n\n", sysconf(_SC_NPROCESSORS_ONLN));
    printf("%-26s %10s   %-19s   %-19s   %s\n", "", "iterations", "raw",
           "cd_mutex", "ratio");

    result_t un = measure(&s, uncontended, 1);
    row("uncontended (CPU time)", &un);
    result_t ne = measure(&s, nested, 1);
    row("nested, info (CPU time)", &ne);
    result_t co = measure(&s, contended, 2);
    row("contended, 2 thr (wall)", &co);

    cd_reg_set_trace(1);
    double traced[REPS];
    long nt = un.iters / 4; /* the ring overwrites itself: any n is fine */
    for (int r = 0; r < REPS; r++)
        traced[r] = (double)uncontended(&s, CD, nt) / (double)nt;
    cd_reg_set_trace(0);
    stats_t tr = stats_of(traced);
    printf("%-26s %10ld   %-19s   %5.1f [%5.1f..%5.1f]   %4.2f\n",
           "tracing ON, info (CPU)", nt, "", tr.med, tr.min, tr.max,
           tr.med / un.raw.med);

    /* Proof that the instrumented loops were recorded: the registry must
     * have counted every one of their acquisitions. */
    uint64_t want = (uint64_t)REPS * (uint64_t)(un.iters + ne.iters +
                                                2 * co.iters + nt);
    uint64_t got = acquisitions(&s.cd);
    printf("\nregistry: bench-lock acquired %llu times, %s\n",
           (unsigned long long)got,
           got == want ? "as many as the loops made"
                       : "NOT as many as the loops made");

    double ratio = un.cd.med / un.raw.med;
    printf("uncontended: raw %.1f ns, cd_mutex %.1f ns, ratio %.2f "
           "(target <= %.2f): %s\n",
           un.raw.med, un.cd.med, ratio, TARGET_RATIO,
           ratio <= TARGET_RATIO ? "OK" : "OVER TARGET");

    idle_end(idle);
    cd_mutex_destroy(&s.cd_outer);
    cd_mutex_destroy(&s.cd);
    CD_CHECK(pthread_mutex_destroy(&s.raw_outer));
    CD_CHECK(pthread_mutex_destroy(&s.raw));
    return 0;
}
