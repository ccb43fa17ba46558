/*
 * bench_chan.c - messages per second through cd_chan, next to a plain
 * mutex + two condition variables bounded queue measured in the same run.
 *
 * Both queues hold 1024 messages of 8 bytes; P producers (1, then 8) send
 * MESSAGES in all to one consumer. The threads are plain pthreads that
 * register with libconc on their first channel operation, so cd_chan pays
 * its full bookkeeping (registry record, choke point; tracing off). Runs
 * of the two queues alternate, and each figure is the median of RUNS, so
 * that drift on a shared machine hits both alike. Cross-core wake-ups are
 * slow and erratic on small VMs (see MEASURED.md): compare the two columns
 * of one run, not figures from different machines, and look at the
 * spread (min..max) printed beside each median before trusting a ratio.
 *
 * Usage: bench_chan [MESSAGES]   (default 2000000)
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cd_chan.h"
#include "../lib/cd_registry.h"
#include "bench_args.h"

#define CAPACITY 1024
#define RUNS 7
#define MAX_PRODUCERS 8

/* ============== the reference: mutex + two condvars, a ring =============== */

typedef struct raw_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    uint64_t buf[CAPACITY];
    size_t head, depth;
} raw_queue_t;

static void raw_init(raw_queue_t *q)
{
    memset(q, 0, sizeof *q);
    CD_CHECK(pthread_mutex_init(&q->lock, NULL));
    CD_CHECK(pthread_cond_init(&q->not_empty, NULL));
    CD_CHECK(pthread_cond_init(&q->not_full, NULL));
}

static void raw_destroy(raw_queue_t *q)
{
    CD_CHECK(pthread_cond_destroy(&q->not_full));
    CD_CHECK(pthread_cond_destroy(&q->not_empty));
    CD_CHECK(pthread_mutex_destroy(&q->lock));
}

static void raw_send(raw_queue_t *q, uint64_t v)
{
    CD_CHECK(pthread_mutex_lock(&q->lock));
    while (q->depth == CAPACITY)
        CD_CHECK(pthread_cond_wait(&q->not_full, &q->lock));
    q->buf[(q->head + q->depth) % CAPACITY] = v;
    q->depth++;
    CD_CHECK(pthread_cond_signal(&q->not_empty));
    CD_CHECK(pthread_mutex_unlock(&q->lock));
}

static uint64_t raw_recv(raw_queue_t *q)
{
    CD_CHECK(pthread_mutex_lock(&q->lock));
    while (q->depth == 0)
        CD_CHECK(pthread_cond_wait(&q->not_empty, &q->lock));
    uint64_t v = q->buf[q->head];
    q->head = (q->head + 1) % CAPACITY;
    q->depth--;
    CD_CHECK(pthread_cond_signal(&q->not_full));
    CD_CHECK(pthread_mutex_unlock(&q->lock));
    return v;
}

/* ================================ one run ================================ */

typedef struct run {
    int use_chan;
    cd_chan_t chan;
    raw_queue_t raw;
    long per_producer, total;
    pthread_barrier_t start;
    uint64_t sum;     /* what the consumer received, to check the run */
} run_t;

typedef struct producer_arg {
    run_t *r;
    int index;
} producer_arg_t;

static void *producer(void *p)
{
    producer_arg_t *a = p;
    run_t *r = a->r;
    uint64_t base = (uint64_t)a->index * (uint64_t)r->per_producer;

    pthread_barrier_wait(&r->start);
    for (long i = 0; i < r->per_producer; i++) {
        uint64_t v = base + (uint64_t)i + 1;
        if (r->use_chan) {
            if (cd_chan_send(&r->chan, &v) != 0)
                abort(); /* a bounded channel that is never closed */
        } else {
            raw_send(&r->raw, v);
        }
    }
    return NULL;
}

static void *consumer(void *p)
{
    run_t *r = p;
    uint64_t sum = 0, v;

    pthread_barrier_wait(&r->start);
    for (long i = 0; i < r->total; i++) {
        if (r->use_chan) {
            if (cd_chan_recv(&r->chan, &v) != 0)
                abort();
        } else {
            v = raw_recv(&r->raw);
        }
        sum += v;
    }
    r->sum = sum;
    return NULL;
}

/* Messages per second for one run of `producers` producers. */
static double one_run(int use_chan, int producers, long messages)
{
    static run_t r; /* the raw ring is 8 KiB: keep it off the stack */
    pthread_t pt[MAX_PRODUCERS], ct;
    producer_arg_t args[MAX_PRODUCERS];

    /* A fresh registry each run: threads register again, never run out
     * of slots (an unregistered thread would skip the bookkeeping). */
    cd_reg_reset();
    memset(&r, 0, sizeof r);
    r.use_chan = use_chan;
    r.per_producer = messages / producers;
    r.total = r.per_producer * producers;
    if (use_chan) {
        if (cd_chan_init(&r.chan, "bench", sizeof(uint64_t), CAPACITY) != 0)
            abort();
    } else {
        raw_init(&r.raw);
    }
    CD_CHECK(pthread_barrier_init(&r.start, NULL, (unsigned)producers + 2));
    for (int i = 0; i < producers; i++) {
        args[i] = (producer_arg_t){ &r, i };
        CD_CHECK(pthread_create(&pt[i], NULL, producer, &args[i]));
    }
    CD_CHECK(pthread_create(&ct, NULL, consumer, &r));
    pthread_barrier_wait(&r.start);
    int64_t t0 = cd_now_ns();
    for (int i = 0; i < producers; i++)
        CD_CHECK(pthread_join(pt[i], NULL));
    CD_CHECK(pthread_join(ct, NULL));
    int64_t ns = cd_now_ns() - t0;

    uint64_t n = (uint64_t)r.total;
    if (r.sum != n * (n + 1) / 2) {
        fprintf(stderr, "bench_chan: wrong sum (%s, %d producers)\n",
                use_chan ? "cd_chan" : "raw", producers);
        exit(1);
    }
    CD_CHECK(pthread_barrier_destroy(&r.start));
    if (use_chan)
        cd_chan_destroy(&r.chan);
    else
        raw_destroy(&r.raw);
    return (double)r.total / ((double)ns / 1e9);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long messages = 2000000;
    static const int producer_counts[] = { 1, 8 };

    if (bench_count_arg(argc, argv, "bench_chan", "MESSAGES", 1000,
                        1000000000, &messages) != 0)
        return 2;
    printf("bench_chan: messages/s, bounded queue of %d x 8-byte messages, "
           "one consumer;\n  %ld messages per run, median of %d runs\n",
           CAPACITY, messages, RUNS);
    printf("  %-10s %-24s %-24s %s\n", "producers", "cd_chan M/s (min..max)",
           "mutex+2 condvars M/s", "cd_chan/raw");
    for (size_t k = 0; k < sizeof producer_counts / sizeof *producer_counts;
         k++) {
        int p = producer_counts[k];
        double chan[RUNS], raw[RUNS];
        for (int i = 0; i < RUNS; i++) {
            raw[i] = one_run(0, p, messages);
            chan[i] = one_run(1, p, messages);
        }
        qsort(chan, RUNS, sizeof *chan, cmp_double);
        qsort(raw, RUNS, sizeof *raw, cmp_double);
        double c = chan[RUNS / 2], r = raw[RUNS / 2];
        printf("  %-10d %6.2f (%5.2f..%5.2f)    %6.2f (%5.2f..%5.2f)    %.2f\n",
               p, c / 1e6, chan[0] / 1e6, chan[RUNS - 1] / 1e6, r / 1e6,
               raw[0] / 1e6, raw[RUNS - 1] / 1e6, c / r);
    }
    return 0;
}
