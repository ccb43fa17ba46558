/*
 * bench_cond.c - what cd_cond and cd_sem cost, next to pthread_cond_t +
 * pthread_mutex_t and sem_t measured in the same run.
 *
 * Ping-pong: two threads hand a turn back and forth ROUNDS times. With a
 * condition variable each waits, under the mutex, for the turn to be its
 * own, takes it and signals the other; with semaphores each waits on its
 * own and posts the other's. Every hand-off is a real wake-up of a
 * sleeping thread, so this measures the wait and signal paths (the
 * choke point, the registry, the waiter queue), not an uncontended fast
 * path. The threads are plain pthreads that register with libconc on
 * their first operation; tracing is off, no scheduler.
 *
 * Both threads are pinned to one CPU: a wake-up across the cores of the
 * project's small VMs costs ~30 us and swings widely (MEASURED.md),
 * which would drown what the primitives themselves cost. Runs of the two
 * kinds alternate, each figure is the median of RUNS, with the spread
 * (min..max) beside it: compare the two columns of one run.
 *
 * Usage: bench_cond [ROUNDS]   (default 100000)
 */
#define _GNU_SOURCE /* pthread_setaffinity_np, sched_getcpu */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cd_cond.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "bench_args.h"
#include "../lib/cd_sem.h"

#define RUNS 7

enum kind { RAW_COND, CD_COND, RAW_SEM, CD_SEM, KINDS };

static const char *const kind_name[KINDS] = {
    [RAW_COND] = "pthread cond+mutex", [CD_COND] = "cd_cond+cd_mutex",
    [RAW_SEM] = "sem_t", [CD_SEM] = "cd_sem",
};

typedef struct run {
    int kind;
    long rounds;
    int turn; /* whose turn it is: 0 or 1 (the condition variables) */
    pthread_mutex_t raw_m;
    pthread_cond_t raw_cv;
    cd_mutex_t m;
    cd_cond_t cv;
    sem_t raw_sem[2];
    cd_sem_t sem[2];
    pthread_barrier_t start;
} run_t;

typedef struct player {
    run_t *r;
    int me;
} player_t;

/* One side of the condition variables' ping-pong. */
static void cond_side(run_t *r, int me)
{
    for (long i = 0; i < r->rounds; i++) {
        if (r->kind == RAW_COND) {
            CD_CHECK(pthread_mutex_lock(&r->raw_m));
            while (r->turn != me)
                CD_CHECK(pthread_cond_wait(&r->raw_cv, &r->raw_m));
            r->turn = !me;
            CD_CHECK(pthread_cond_signal(&r->raw_cv));
            CD_CHECK(pthread_mutex_unlock(&r->raw_m));
        } else {
            cd_mutex_lock(&r->m);
            while (r->turn != me)
                if (cd_cond_wait(&r->cv, &r->m) != 0)
                    abort(); /* no abort in a bench: a bug */
            r->turn = !me;
            cd_cond_signal(&r->cv);
            cd_mutex_unlock(&r->m);
        }
    }
}

/* One side of the semaphores' ping-pong: wait for mine, post the other. */
static void sem_side(run_t *r, int me)
{
    for (long i = 0; i < r->rounds; i++) {
        if (r->kind == RAW_SEM) {
            while (sem_wait(&r->raw_sem[me]) != 0)
                if (errno != EINTR)
                    abort();
            CD_CHECK(sem_post(&r->raw_sem[!me]) ? errno : 0);
        } else {
            if (cd_sem_wait(&r->sem[me]) != 0 || cd_sem_post(&r->sem[!me]))
                abort();
        }
    }
}

static void *play(void *p)
{
    player_t *pl = p;
    pthread_barrier_wait(&pl->r->start);
    if (pl->r->kind == RAW_COND || pl->r->kind == CD_COND)
        cond_side(pl->r, pl->me);
    else
        sem_side(pl->r, pl->me);
    return NULL;
}

static void setup(run_t *r)
{
    switch (r->kind) {
    case RAW_COND:
        CD_CHECK(pthread_mutex_init(&r->raw_m, NULL));
        CD_CHECK(pthread_cond_init(&r->raw_cv, NULL));
        break;
    case CD_COND:
        if (cd_mutex_init(&r->m, "turn-lock") || cd_cond_init(&r->cv, "turn"))
            abort();
        break;
    case RAW_SEM:
        /* player 0 starts: its semaphore holds one */
        for (int i = 0; i < 2; i++)
            CD_CHECK(sem_init(&r->raw_sem[i], 0, i == 0) ? errno : 0);
        break;
    case CD_SEM:
        if (cd_sem_init(&r->sem[0], "ping", 1) ||
            cd_sem_init(&r->sem[1], "pong", 0))
            abort();
        break;
    }
}

static void teardown(run_t *r)
{
    switch (r->kind) {
    case RAW_COND:
        CD_CHECK(pthread_cond_destroy(&r->raw_cv));
        CD_CHECK(pthread_mutex_destroy(&r->raw_m));
        break;
    case CD_COND:
        cd_cond_destroy(&r->cv);
        cd_mutex_destroy(&r->m);
        break;
    case RAW_SEM:
        for (int i = 0; i < 2; i++)
            CD_CHECK(sem_destroy(&r->raw_sem[i]) ? errno : 0);
        break;
    case CD_SEM:
        cd_sem_destroy(&r->sem[0]);
        cd_sem_destroy(&r->sem[1]);
        break;
    }
}

/* Nanoseconds per hand-off (one wake-up of the other thread). */
static double one_run(int kind, long rounds, const cpu_set_t *cpu)
{
    static run_t r;
    pthread_t t[2];
    player_t pl[2];

    /* A fresh registry each run: threads register again, never run out
     * of slots (an unregistered thread would skip the bookkeeping). */
    cd_reg_reset();
    memset(&r, 0, sizeof r);
    r.kind = kind;
    r.rounds = rounds;
    setup(&r);
    CD_CHECK(pthread_barrier_init(&r.start, NULL, 3));
    for (int i = 0; i < 2; i++) {
        pl[i] = (player_t){ &r, i };
        CD_CHECK(pthread_create(&t[i], NULL, play, &pl[i]));
        CD_CHECK(pthread_setaffinity_np(t[i], sizeof *cpu, cpu));
    }
    pthread_barrier_wait(&r.start);
    int64_t t0 = cd_now_ns();
    for (int i = 0; i < 2; i++)
        CD_CHECK(pthread_join(t[i], NULL));
    int64_t ns = cd_now_ns() - t0;
    CD_CHECK(pthread_barrier_destroy(&r.start));
    teardown(&r);
    return (double)ns / (double)(2 * rounds);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long rounds = 100000;
    cpu_set_t cpu;

    if (bench_count_arg(argc, argv, "bench_cond", "ROUNDS", 1000, 100000000,
                        &rounds) != 0)
        return 2;
    int here = sched_getcpu();
    CPU_ZERO(&cpu);
    CPU_SET(here >= 0 ? here : 0, &cpu);
    printf("bench_cond: ns per hand-off, two threads ping-ponging a turn on "
           "one CPU;\n  %ld rounds per run, median of %d runs\n", rounds,
           RUNS);
    printf("  %-20s %-22s %-20s %-22s %s\n", "libconc", "ns (min..max)",
           "raw", "ns (min..max)", "libconc/raw");
    for (int k = RAW_COND; k < KINDS; k += 2) {
        double raw[RUNS], cd[RUNS];
        for (int i = 0; i < RUNS; i++) {
            raw[i] = one_run(k, rounds, &cpu);
            cd[i] = one_run(k + 1, rounds, &cpu);
        }
        qsort(raw, RUNS, sizeof *raw, cmp_double);
        qsort(cd, RUNS, sizeof *cd, cmp_double);
        double c = cd[RUNS / 2], w = raw[RUNS / 2];
        printf("  %-20s %6.0f (%5.0f..%5.0f)   %-20s %6.0f (%5.0f..%5.0f)   "
               "%.2f\n", kind_name[k + 1], c, cd[0], cd[RUNS - 1],
               kind_name[k], w, raw[0], raw[RUNS - 1], c / w);
    }
    return 0;
}
