/*
 * Another answer: deadlock - the ABBA transfer (worksheet:
 * lessons/02-deadlock.md). For teachers: the starter
 * lessons/exercises/deadlock.c with another fix that holds (a timed lock on
 * the second account; on a timeout, let go of the first, back off a random
 * while and try again; the lines marked FIX). `concdemo check deadlock --file
 * lessons/answers/deadlock-timeout.c` passes.
 *
 * Task:  transfer() below locks the account it takes money from, runs a
 *        fraud check, then locks the account it pays into. Two transfers in
 *        opposite directions each hold one account and wait for the other
 *        forever. Make every transfer complete, whatever the schedule, while
 *        transfers between different accounts still run side by side.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, parallelism, timing, ThreadSanitizer).
 * Check: concdemo check deadlock    or: make check-exercise EX=deadlock
 *
 * Edit only the part between the "your code" lines. You may need
 * lib/cd_mutex.h (lock, trylock, timedlock).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd_mutex.h"
#include "cd_registry.h"
#include "cd_thread.h"
#include "scenario.h"

#define AMOUNT 10
#define START_BALANCE 1000
#define FRAUD_CHECK_USEC 2000 /* the fraud check takes 2 ms */

typedef struct account {
    int id;            /* 0, 1, 2, ...: every account has its own */
    char name[16];     /* "acct-A" */
    long balance;      /* guarded by lock */
    cd_mutex_t lock;
} account_t;

/* Moves the money. The caller holds both accounts' locks. */
static void move(account_t *from, account_t *to)
{
    from->balance -= AMOUNT;
    to->balance += AMOUNT;
}

/* The fraud check of the paying account: slow. */
static void fraud_check(void)
{
    cd_latency("fraud-check", FRAUD_CHECK_USEC);
}

/* =============================== your code =============================== */

/* The bank. Add what your fix needs. */
typedef struct bank {
    int naccounts;
    account_t *acct;
} bank_t;

/* Sets up what you added, before the transfers start: 0, or -1. */
static int bank_extra_init(bank_t *b)
{
    (void)b;
    return 0;
}

/* Frees it after every transfer has ended. */
static void bank_extra_destroy(bank_t *b)
{
    (void)b;
}

/* One transfer of AMOUNT from `from` to `to`. */
static void transfer(bank_t *b, account_t *from, account_t *to)
{
    unsigned seed = (unsigned)(from->id * 7919 + to->id);
    (void)b;
    for (;;) {
        cd_mutex_lock(&from->lock);
        fraud_check();
        if (cd_mutex_timedlock(&to->lock, 5) == 0) /* FIX: a bounded wait */
            break;
        cd_mutex_unlock(&from->lock);              /* FIX: let go, */
        cd_latency("back-off", 500 + rand_r(&seed) % 5000); /* FIX: retry */
    }
    move(from, to);
    cd_mutex_unlock(&to->lock);
    cd_mutex_unlock(&from->lock);
}

/* ============================ end of your code =========================== */

/* The harness: N tellers transfer round a ring of N accounts (A->B, B->C,
 * ..., ->A), and the invariant. Nothing below needs to change. */

typedef struct teller_ctx {
    bank_t bank;
    int iterations;
    atomic_int done; /* transfers completed */
} teller_ctx_t;

static void teller(void *ctx, int index)
{
    teller_ctx_t *t = ctx;
    account_t *from = &t->bank.acct[index];
    account_t *to = &t->bank.acct[(index + 1) % t->bank.naccounts];

    for (int i = 0; i < t->iterations; i++) {
        transfer(&t->bank, from, to);
        atomic_fetch_add_explicit(&t->done, 1, memory_order_relaxed);
    }
}

/* Invariant: every transfer completes and the bank's total is kept. */
static void check(teller_ctx_t *t, cd_verdict_t *v)
{
    long total = 0, want_total = (long)START_BALANCE * t->bank.naccounts;
    int want = t->bank.naccounts * t->iterations;
    int done = atomic_load(&t->done);
    for (int i = 0; i < t->bank.naccounts; i++)
        total += t->bank.acct[i].balance;

    cd_verdict_expect(v, "all %d transfers complete and the %ld in the bank "
                      "stays %ld", want, want_total, want_total);
    cd_verdict_num(v, "completed", done);
    cd_verdict_num(v, "total", total);
    if (done < want || total != want_total)
        cd_verdict_observe(v, CD_VIOLATED, "%d of %d transfers completed, "
                           "total %ld", done, want, total);
    else
        cd_verdict_observe(v, CD_HELD, "all %d transfers completed, total "
                           "%ld kept", done, total);
}

static void run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    teller_ctx_t t = { .bank.naccounts = p->threads,
                       .iterations = p->iterations };
    bank_t *b = &t.bank;
    int ready = 0;
    (void)variant;

    atomic_init(&t.done, 0);
    b->acct = calloc((size_t)b->naccounts, sizeof *b->acct);
    for (; b->acct && ready < b->naccounts; ready++) {
        account_t *a = &b->acct[ready];
        a->id = ready;
        a->balance = START_BALANCE;
        snprintf(a->name, sizeof a->name, "acct-%c", 'A' + ready % 26);
        if (cd_mutex_init(&a->lock, a->name) != 0)
            break;
    }
    if (ready < b->naccounts || bank_extra_init(b) != 0) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the bank");
    } else {
        if (cd_team_run(b->naccounts, "transfer", teller, &t) < 0)
            cd_verdict_observe(v, CD_ERROR, "could not start %d threads",
                               b->naccounts);
        else
            check(&t, v);
        bank_extra_destroy(b);
    }
    for (int i = 0; i < ready; i++)
        cd_mutex_destroy(&b->acct[i].lock);
    free(b->acct);
}

static const cd_variant_t variants[] = {
    { "yours", "your transfer (lessons/exercises/deadlock.c)" },
};

const cd_scenario_t cd_exercise = {
    .name = "deadlock",
    .title = "the ABBA deadlock (exercise)",
    .pitfall = "two transfers lock the same two accounts in opposite order",
    .lesson = "lessons/02-deadlock.md",
    .variants = variants,
    .nvariants = 1,
    .defaults = { .threads = 2, .iterations = 10 },
    .min = { .threads = 2, .iterations = 1 },
    .max = { .threads = 26, .iterations = 1000 },
    .run = run,
};
