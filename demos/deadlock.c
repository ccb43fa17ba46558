/*
 * deadlock.c - ABBA: two transfers lock the same accounts in opposite order.
 *
 * The pitfall: a transfer locks the account it takes money from, runs a
 * fraud check (2 ms), then locks the account it pays into. Transfer A->B
 * and transfer B->A start together: each holds its first account and waits
 * for the other's. Neither lets go, so neither ever finishes.
 *
 * Symptom: the run stops moving; the watchdog finds the cycle
 *          "transfer-1 holds acct-A, waits acct-B; transfer-2 holds acct-B,
 *          waits acct-A" and ends the run.
 * Run:     concdemo deadlock                    the broken transfer
 *          concdemo deadlock --fixed=ordering   lock the lower id first
 *          concdemo deadlock --fixed=timeout    give up, back off, retry
 *          concdemo deadlock --latency-scale 0  no fraud-check window: the
 *              threads may get lucky, the lock-order check still reports it
 * Lesson:  lessons/02-deadlock.md
 *
 * With --threads N the N transfers go round a ring of N accounts
 * (A->B, B->C, ..., ->A), so the cycle has N links.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "support.h"

#define AMOUNT 10
#define START_BALANCE 1000
#define FRAUD_CHECK_USEC 2000 /* held the first lock this long */
#define WAIT_MS 5             /* fix "timeout": how long to wait for the second */

typedef struct account {
    int id;
    char name[16];
    long balance;
    cd_mutex_t lock;
} account_t;

typedef struct bank {
    int variant;
    int naccounts, iterations;
    account_t *acct;
    atomic_int done;      /* transfers completed */
    atomic_long retries;  /* fix "timeout": attempts given up */
    int g_done, g_retries; /* live figures for concdemo --view */
} bank_t;

static void move(account_t *from, account_t *to)
{
    from->balance -= AMOUNT;
    to->balance += AMOUNT;
}

/* ====================== the transfers, side by side ====================== */

/* Broken: the lock order follows the direction of the transfer. */
static void transfer_broken(bank_t *b, account_t *from, account_t *to)
{
    (void)b;
    cd_mutex_lock(&from->lock);     /* BUG: A->B takes A first, B->A takes B */
    cd_latency("fraud-check", FRAUD_CHECK_USEC);
    cd_mutex_lock(&to->lock);       /* BUG: ...then each waits for the other */
    move(from, to);
    cd_mutex_unlock(&to->lock);
    cd_mutex_unlock(&from->lock);
}

/* Fix "ordering": every transfer locks the lower account id first, so no
 * two transfers can each hold what the other wants. */
static void transfer_ordering(bank_t *b, account_t *from, account_t *to)
{
    account_t *first = from->id < to->id ? from : to;   /* FIX: one global */
    account_t *second = from->id < to->id ? to : from;  /* FIX: lock order */
    (void)b;
    cd_mutex_lock(&first->lock);
    cd_latency("fraud-check", FRAUD_CHECK_USEC);
    cd_mutex_lock(&second->lock);
    move(from, to);
    cd_mutex_unlock(&second->lock);
    cd_mutex_unlock(&first->lock);
}

/* Fix "timeout": wait a bounded time for the second account; on failure
 * give the first one back, wait a random while and try again. */
static void transfer_timeout(bank_t *b, account_t *from, account_t *to)
{
    unsigned seed = (unsigned)(from->id * 7919 + to->id);
    for (;;) {
        cd_mutex_lock(&from->lock);
        cd_latency("fraud-check", FRAUD_CHECK_USEC);
        if (cd_mutex_timedlock(&to->lock, WAIT_MS) == 0)    /* FIX: bounded wait */
            break;
        cd_mutex_unlock(&from->lock);                       /* FIX: let go, */
        atomic_fetch_add_explicit(&b->retries, 1, memory_order_relaxed);
        cd_latency("back-off", 500 + rand_r(&seed) % 5000); /* FIX: jitter, retry */
    }
    move(from, to);
    cd_mutex_unlock(&to->lock);
    cd_mutex_unlock(&from->lock);
}

static void (*const transfer[])(bank_t *, account_t *, account_t *) = {
    transfer_broken, transfer_ordering, transfer_timeout,
};

/* ================================ harness ================================ */

static void teller(void *ctx, int index)
{
    bank_t *b = ctx;
    account_t *from = &b->acct[index];
    account_t *to = &b->acct[(index + 1) % b->naccounts];

    for (int i = 0; i < b->iterations; i++) {
        transfer[b->variant](b, from, to);
        atomic_fetch_add_explicit(&b->done, 1, memory_order_relaxed);
        /* The live figures (relaxed as well): they change nothing here. */
        cd_reg_gauge_add(b->g_done, 1);
        cd_reg_gauge_set(b->g_retries, atomic_load_explicit(
                                           &b->retries, memory_order_relaxed));
    }
}

/* Account names: A..Z, then A1, B1, ... */
static void account_name(char *buf, size_t size, int i)
{
    if (i < 26)
        snprintf(buf, size, "acct-%c", 'A' + i);
    else
        snprintf(buf, size, "acct-%c%d", 'A' + i % 26, i / 26);
}

void cd_deadlock_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    bank_t b = { .variant = variant, .naccounts = p->threads,
                 .iterations = p->iterations };
    int ready = 0;

    atomic_init(&b.done, 0);
    atomic_init(&b.retries, 0);
    b.acct = calloc((size_t)b.naccounts, sizeof *b.acct);
    for (; b.acct && ready < b.naccounts; ready++) {
        account_t *a = &b.acct[ready];
        a->id = ready;
        a->balance = START_BALANCE;
        account_name(a->name, sizeof a->name, ready);
        if (cd_mutex_init(&a->lock, a->name) != 0)
            break;
    }
    if (ready < b.naccounts) {
        cd_verdict_observe(v, CD_ERROR, "could not set up %d accounts",
                           b.naccounts);
        goto out;
    }

    cd_demo_figures("transfers", b.naccounts * b.iterations, "transfers done",
                    &b.g_done, "retries", &b.g_retries, NULL);
    int rc = cd_team_run(b.naccounts, "transfer", teller, &b);
    long total = 0;
    for (int i = 0; i < b.naccounts; i++)
        total += b.acct[i].balance;
    int want = b.naccounts * b.iterations, done = atomic_load(&b.done);
    long retries = atomic_load(&b.retries);

    cd_verdict_expect(v, "all %d transfers complete and the %ld in the bank "
                      "stays %ld", want, (long)START_BALANCE * b.naccounts,
                      (long)START_BALANCE * b.naccounts);
    cd_verdict_num(v, "transfers", want);
    cd_verdict_num(v, "completed", done);
    cd_verdict_num(v, "total", total);
    cd_verdict_num(v, "retries", retries);
    if (rc < 0)
        cd_verdict_observe(v, CD_ERROR, "could not start %d threads",
                           b.naccounts);
    else if (done < want || total != (long)START_BALANCE * b.naccounts)
        cd_verdict_observe(v, CD_VIOLATED, "%d of %d transfers completed, "
                           "total %ld", done, want, total);
    else
        cd_verdict_observe(v, CD_HELD, "all %d transfers completed, total "
                           "%ld conserved, %ld %s", done, total, retries,
                           cd_plural(retries, "retry", "retries"));
out:
    for (int i = 0; i < ready; i++)
        cd_mutex_destroy(&b.acct[i].lock);
    free(b.acct);
}
