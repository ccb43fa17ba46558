/*
 * bench_mutex.c - what the instrumented cd_mutex costs next to a raw
 * pthread_mutex_t, with tracing off and on.
 *
 * The design promise: an uncontended lock+unlock at most 1.2 times the raw
 * one with tracing off, and at most 1.5 times with tracing on (the live
 * view and --trace always trace). The registry and the lock-order graph
 * stay on (they always are in a real run). Rows:
 *
 *   uncontended  one thread locks and unlocks in a loop: raw, cd_mutex
 *                untraced and cd_mutex traced, one timing of each in turn,
 *                REPS times. A second, idle thread is alive throughout:
 *                glibc takes a cheaper path while a process has a single
 *                thread, which would flatter the raw mutex. Timed with the
 *                thread's CPU clock, so that other work on this small
 *                shared machine counts only by what it does to the caches.
 *   nested       the same while holding another lock of the same kind: the
 *                lock-order check runs on every lock (information).
 *   contended    two threads hammer the same mutex, each pinned to a CPU of
 *                its own (when there are two), raw and cd in turn. Wall
 *                time: a thread that sleeps waiting for the lock is part
 *                of the cost (information).
 *
 * Each ratio is taken within one repetition (cd's timing over the raw
 * timing next to it), and a verdict is the median of the REPS ratios, with
 * their spread printed, so that one noisy timing cannot flip it. Always
 * exits 0: it measures, it does not judge a build (the last lines say OK
 * or OVER TARGET).
 *
 * Run: make bench    (or ./build/bench_mutex)
 */
#define _GNU_SOURCE /* pthread_setaffinity_np */
#include <pthread.h>
#include <sched.h>
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
#define TARGET_UNTRACED 1.20
#define TARGET_TRACED 1.50

enum kind { RAW, CD, CD_TRACED };

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
    /* CD_TRACED: the same loop; the caller turned tracing on. */
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

/* Uncontended: returns the CPU time of n pairs. Tracing is turned on and
 * off outside the timing. */
static int64_t uncontended(subject_t *s, enum kind k, long n)
{
    if (k == CD_TRACED)
        cd_reg_set_trace(1);
    int64_t t0 = cpu_ns();
    pairs(s, k, n);
    int64_t ns = cpu_ns() - t0;
    if (k == CD_TRACED)
        cd_reg_set_trace(0);
    return ns;
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
    int cpu; /* -1: not pinned */
    pthread_barrier_t *go;
} hammer_t;

/* The CPUs this process may run on, up to max; returns how many. */
static int usable_cpus(int *cpu, int max)
{
    cpu_set_t set;
    int n = 0;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 0;
    for (int i = 0; i < CPU_SETSIZE && n < max; i++)
        if (CPU_ISSET(i, &set))
            cpu[n++] = i;
    return n;
}

static void *hammer_main(void *p)
{
    hammer_t *h = p;
    if (h->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(h->cpu, &set);
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    }
    pthread_barrier_wait(h->go);
    pairs(h->s, h->k, h->n);
    return NULL;
}

/* Two threads do n pairs each on the same mutex, each on a CPU of its own
 * when there are two, so that the row measures the two contending and not
 * where the scheduler put them; returns the wall time from the moment both
 * are released until both are done. Thread creation is outside the
 * timing. */
static int64_t contended(subject_t *s, enum kind k, long n)
{
    pthread_barrier_t go;
    pthread_t t[2];
    hammer_t h[2];
    int cpu[2], ncpu = usable_cpus(cpu, 2);

    CD_CHECK(pthread_barrier_init(&go, NULL, 3));
    for (int i = 0; i < 2; i++) {
        h[i] = (hammer_t){ s, k, n, ncpu == 2 ? cpu[i] : -1, &go };
        CD_CHECK(pthread_create(&t[i], NULL, hammer_main, &h[i]));
    }
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

/* One kind's timings in ns per pair, and their ratios to the raw timing
 * of the same repetition. */
typedef struct timing {
    stats_t ns;
    stats_t ratio;
} timing_t;

typedef struct result {
    long iters;        /* lock+unlock pairs per thread and timing */
    int nkinds;        /* RAW, CD and, if timed, CD_TRACED */
    timing_t t[3];     /* by kind; t[RAW].ratio is 1 */
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

/* Times fn REPS times for each of the first nkinds kinds, one of each in
 * turn, so that a burst of load from elsewhere hits all of them alike.
 * `threads` pairs run per iteration. */
static result_t measure(subject_t *s, timing_fn fn, int threads, int nkinds)
{
    long n = calibrate(s, fn);
    double ops = (double)n * threads;
    double ns[3][REPS], ratio[3][REPS];
    result_t r = { .iters = n, .nkinds = nkinds };

    for (int rep = 0; rep < REPS; rep++) {
        for (int k = 0; k < nkinds; k++)
            ns[k][rep] = (double)fn(s, (enum kind)k, n) / ops;
        for (int k = 0; k < nkinds; k++)
            ratio[k][rep] = ns[k][rep] / ns[RAW][rep];
    }
    for (int k = 0; k < nkinds; k++)
        r.t[k] = (timing_t){ stats_of(ns[k]), stats_of(ratio[k]) };
    return r;
}

/* ================================= report ================================ */

/* One row per cd kind: ns per pair (median [min..max]) and the median of
 * the repetitions' ratios [min..max]. */
static void row(const char *what, const result_t *r, enum kind k)
{
    printf("%-26s %10ld   %5.1f [%5.1f..%5.1f]   %5.1f [%5.1f..%5.1f]"
           "   %4.2f [%4.2f..%4.2f]\n",
           what, r->iters, r->t[RAW].ns.med, r->t[RAW].ns.min,
           r->t[RAW].ns.max, r->t[k].ns.med, r->t[k].ns.min, r->t[k].ns.max,
           r->t[k].ratio.med, r->t[k].ratio.min, r->t[k].ratio.max);
}

static void verdict(const char *what, const timing_t *t, double target)
{
    printf("%s: median ratio %.2f [%.2f..%.2f over %d repetitions] "
           "(target <= %.2f): %s\n",
           what, t->ratio.med, t->ratio.min, t->ratio.max, REPS, target,
           t->ratio.med <= target ? "OK" : "OVER TARGET");
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
    printf("registry on, lock-order graph on; %ld CPUs online; ratio = "
           "median [min..max] of each repetition's cd / raw\n\n",
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("%-26s %10s   %-19s   %-19s   %s\n", "", "iterations", "raw",
           "cd_mutex", "ratio");

    result_t un = measure(&s, uncontended, 1, 3);
    row("uncontended (CPU time)", &un, CD);
    row("uncontended, traced (CPU)", &un, CD_TRACED);
    result_t ne = measure(&s, nested, 1, 2);
    row("nested, info (CPU time)", &ne, CD);
    result_t co = measure(&s, contended, 2, 2);
    row("contended, 2 thr (wall)", &co, CD);

    /* Proof that the instrumented loops were recorded: the registry must
     * have counted every one of their acquisitions. */
    uint64_t want = (uint64_t)REPS * (uint64_t)(2 * un.iters + ne.iters +
                                                2 * co.iters);
    uint64_t got = acquisitions(&s.cd);
    printf("\nregistry: bench-lock acquired %llu times, %s\n",
           (unsigned long long)got,
           got == want ? "as many as the loops made"
                       : "NOT as many as the loops made");

    verdict("uncontended, untraced", &un.t[CD], TARGET_UNTRACED);
    verdict("uncontended, traced", &un.t[CD_TRACED], TARGET_TRACED);

    idle_end(idle);
    cd_mutex_destroy(&s.cd_outer);
    cd_mutex_destroy(&s.cd);
    CD_CHECK(pthread_mutex_destroy(&s.raw_outer));
    CD_CHECK(pthread_mutex_destroy(&s.raw));
    return 0;
}
