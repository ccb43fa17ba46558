/*
 * deadlock.c - the harness of the exercise deadlock (the learner's part:
 * lessons/exercises/deadlock.c, its interface: deadlock.h).
 *
 * N tellers transfer round a ring of N accounts (A->B, B->C, ..., ->A),
 * and the invariant. Everything here but move(), fraud_check() and
 * cd_exercise is static: the learner's file cannot reach it, and the
 * build refuses a learner's file that defines a name beyond deadlock.h.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/exercise.h"
#include "harness/deadlock.h"

#define AMOUNT 10
#define START_BALANCE 1000
#define FRAUD_CHECK_USEC 2000 /* the fraud check takes 2 ms */

void move(account_t *from, account_t *to)
{
    from->balance -= AMOUNT;
    to->balance += AMOUNT;
}

void fraud_check(void)
{
    cd_latency("fraud-check", FRAUD_CHECK_USEC);
}

typedef struct teller_ctx {
    bank_t *bank;
    int naccounts;
    account_t *acct;
    int iterations;
    atomic_int done; /* transfers completed */
} teller_ctx_t;

static void teller(void *ctx, int index)
{
    teller_ctx_t *t = ctx;
    account_t *from = &t->acct[index];
    account_t *to = &t->acct[(index + 1) % t->naccounts];

    for (int i = 0; i < t->iterations; i++) {
        transfer(t->bank, from, to);
        atomic_fetch_add_explicit(&t->done, 1, memory_order_relaxed);
    }
}

/* Invariant: every transfer completes and the bank's total is kept. */
static void check(teller_ctx_t *t, cd_verdict_t *v)
{
    long total = 0, want_total = (long)START_BALANCE * t->naccounts;
    int want = t->naccounts * t->iterations;
    int done = atomic_load(&t->done);
    for (int i = 0; i < t->naccounts; i++)
        total += t->acct[i].balance;

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
    teller_ctx_t t = { .naccounts = p->threads,
                       .iterations = p->iterations };
    int ready = 0;
    (void)variant;

    atomic_init(&t.done, 0);
    t.acct = calloc((size_t)t.naccounts, sizeof *t.acct);
    for (; t.acct && ready < t.naccounts; ready++) {
        account_t *a = &t.acct[ready];
        a->id = ready;
        a->balance = START_BALANCE;
        snprintf(a->name, sizeof a->name, "acct-%c", 'A' + ready % 26);
        if (cd_mutex_init(&a->lock, a->name) != 0)
            break;
    }
    if (ready < t.naccounts || !(t.bank = bank_create(t.naccounts))) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the bank");
    } else {
        if (cd_team_run(t.naccounts, "transfer", teller, &t) < 0)
            cd_verdict_observe(v, CD_ERROR, "could not start %d threads",
                               t.naccounts);
        else
            check(&t, v);
        bank_destroy(t.bank);
    }
    for (int i = 0; i < ready; i++)
        cd_mutex_destroy(&t.acct[i].lock);
    free(t.acct);
}

EX_SCENARIO("deadlock", run,
            .defaults = { .threads = 2, .iterations = 10 },
            .min = { .threads = 2, .iterations = 1 },
            .max = { .threads = 26, .iterations = 1000 });
