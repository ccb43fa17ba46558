/*
 * bench_keyed.c - what the keyed lock (cd_keyed.h) costs, how it scales
 * across keys, and what an idle key keeps.
 *
 *   uncontended   one thread locks and unlocks one key in a loop (its
 *                 entry is made and freed every time: nobody else wants
 *                 it), against cd_mutex_lock/unlock; CPU time per pair,
 *                 median of REPS.
 *   keys 1/8/64   THREADS threads each take a key HOLDS times and hold it
 *                 for HOLD_US (a sleep standing for the work done under
 *                 the lock); thread i uses key i % K. The same work for
 *                 every K: with one key it is all one after another, with
 *                 K keys K holds can overlap, so the wall time should be
 *                 about 1/K of one key's (the target; judged
 *                 as at least K/2 times faster, sleeps being coarse).
 *   idle keys     NKEYS distinct keys locked and unlocked once each: the
 *                 table's bytes and live keys after (target: 0), and the
 *                 process's resident memory before and after.
 *
 * Always exits 0: it measures; the lines say OK or UNDER TARGET.
 * Run: make bench    (or ./build/bench_keyed)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../lib/cd_keyed.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"

#define REPS 5
#define PAIRS 200000L
#define THREADS 64
#define HOLDS 20
#define HOLD_US 200
#define NKEYS 1000000UL

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t median(int64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    return v[n / 2];
}

/* ============================== uncontended ============================== */

static double mutex_pair_ns(void)
{
    cd_mutex_t m;
    int64_t t[REPS];
    CD_CHECK(cd_mutex_init(&m, "bench-mutex") != 0);
    for (int r = 0; r < REPS; r++) {
        int64_t t0 = cpu_ns();
        for (long i = 0; i < PAIRS; i++) {
            cd_mutex_lock(&m);
            cd_mutex_unlock(&m);
        }
        t[r] = cpu_ns() - t0;
    }
    cd_mutex_destroy(&m);
    return (double)median(t, REPS) / PAIRS;
}

static double keyed_pair_ns(void)
{
    cd_keyed_t k;
    int64_t t[REPS];
    CD_CHECK(cd_keyed_init(&k, "bench-key", 4) != 0);
    for (int r = 0; r < REPS; r++) {
        int64_t t0 = cpu_ns();
        for (long i = 0; i < PAIRS; i++) {
            cd_keyed_lock(&k, 42);
            cd_keyed_unlock(&k, 42);
        }
        t[r] = cpu_ns() - t0;
    }
    cd_keyed_destroy(&k);
    return (double)median(t, REPS) / PAIRS;
}

/* ============================ across keys ================================ */

static cd_keyed_t shared;
static pthread_barrier_t go;

typedef struct worker {
    int index, nkeys;
} worker_t;

static void *work(void *arg)
{
    worker_t *w = arg;
    unsigned long key = (unsigned long)(w->index % w->nkeys);
    struct timespec hold = { 0, HOLD_US * 1000 };
    pthread_barrier_wait(&go);
    for (int i = 0; i < HOLDS; i++) {
        cd_keyed_lock(&shared, key);
        nanosleep(&hold, NULL); /* the work done under the key */
        cd_keyed_unlock(&shared, key);
    }
    return NULL;
}

/* Wall time of THREADS * HOLDS holds spread over nkeys keys. */
static int64_t run_keys(int nkeys)
{
    pthread_t th[THREADS];
    worker_t w[THREADS];

    cd_reg_reset();
    CD_CHECK(cd_keyed_init(&shared, "customer", nkeys) != 0);
    CD_CHECK(pthread_barrier_init(&go, NULL, THREADS + 1));
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_t){ i, nkeys };
        CD_CHECK(pthread_create(&th[i], NULL, work, &w[i]));
    }
    pthread_barrier_wait(&go);
    int64_t t0 = cd_now_ns();
    for (int i = 0; i < THREADS; i++)
        CD_CHECK(pthread_join(th[i], NULL));
    int64_t ns = cd_now_ns() - t0;
    CD_CHECK(pthread_barrier_destroy(&go));
    cd_keyed_destroy(&shared);
    return ns;
}

/* =============================== idle keys =============================== */

static long rss_kib(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = -1;
    fclose(f);
    return rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void idle_keys(void)
{
    cd_keyed_t k;
    cd_keytab_stats_t st;

    cd_reg_reset();
    CD_CHECK(cd_keyed_init(&k, "customer", 16) != 0);
    /* A live key's entry, for scale: 1,000 held at once. */
    for (unsigned long key = 0; key < 1000; key++)
        cd_keyed_lock(&k, key);
    cd_keyed_stats(&k, &st);
    long live_bytes = st.bytes / (st.live_keys ? st.live_keys : 1);
    for (unsigned long key = 0; key < 1000; key++)
        cd_keyed_unlock(&k, key);

    long rss0 = rss_kib();
    int64_t t0 = cd_now_ns();
    for (unsigned long key = 0; key < NKEYS; key++) {
        cd_keyed_lock(&k, key * 2654435761UL);
        cd_keyed_unlock(&k, key * 2654435761UL);
    }
    int64_t ns = cd_now_ns() - t0;
    long rss1 = rss_kib();
    cd_keyed_stats(&k, &st);
    printf("  idle keys: %lu distinct keys locked once each in %.2f s "
           "(%.0f ns a key)\n", NKEYS, (double)ns / 1e9, (double)ns / NKEYS);
    printf("    after release: %ld live keys, %ld bytes held, %.3f bytes "
           "per idle key (target 0): %s\n", st.live_keys, st.bytes,
           (double)st.bytes / NKEYS,
           st.bytes == 0 && st.live_keys == 0 ? "OK" : "UNDER TARGET");
    printf("    a live key's entry: %ld bytes; registry records taken: %ld; "
           "resident memory %ld KiB before, %ld KiB after (%+ld)\n",
           live_bytes, st.records, rss0, rss1, rss1 - rss0);
    cd_keyed_destroy(&k);
}

int main(void)
{
    cd_reg_reset();
    printf("== keyed lock (cd_keyed): cost, keys in parallel, idle keys\n");
    double m = mutex_pair_ns(), k = keyed_pair_ns();
    printf("  uncontended lock+unlock: cd_mutex %.1f ns, cd_keyed %.1f ns "
           "(%.1fx; median of %d x %ld pairs, CPU time)\n", m, k,
           m > 0 ? k / m : 0, REPS, PAIRS);

    int keys[] = { 1, 8, 64 };
    int64_t one = 0;
    for (int i = 0; i < 3; i++) {
        int64_t ns = run_keys(keys[i]);
        if (keys[i] == 1)
            one = ns;
        double speedup = ns > 0 ? (double)one / (double)ns : 0;
        printf("  %2d key%s: %d threads x %d holds of %d us: %.1f ms, "
               "%.0f holds/s, %.1fx one key's speed (target about %dx): "
               "%s\n", keys[i], keys[i] == 1 ? " " : "s", THREADS, HOLDS,
               HOLD_US, (double)ns / 1e6,
               (double)THREADS * HOLDS * 1e9 / (double)ns, speedup, keys[i],
               speedup >= keys[i] / 2.0 ? "OK" : "UNDER TARGET");
    }
    idle_keys();
    return 0;
}
