/*
 * deadlock.c - the harness of the exercise deadlock (the learner's part:
 * lessons/exercises/deadlock.c, its interface: deadlock.h).
 *
 * N tellers transfer round a ring of N accounts (A->B, B->C, ..., ->A);
 * the bank's books (every move, every fraud check) and the invariant
 * judged from them. Everything here but move(), fraud_check() and
 * cd_exercise is static: the learner's file cannot reach it, and the
 * build refuses a learner's file that defines a name beyond deadlock.h.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/exercise.h"
#include "harness/deadlock.h"
#include "../../cli/ledger.h"

#define FRAUD_CHECK_USEC 2000 /* the fraud check takes 2 ms */

/* The teller this thread is (-1: none): whose transfer a fraud check
 * or a move belongs to, in the books. */
static _Thread_local int teller_no = -1;

/* The bank's books (cli/ledger.h) record every move, where the learner's
 * code cannot write: a transfer that returns without moving the money
 * is a transfer skipped, whatever it returned. */
void move(account_t *from, account_t *to)
{
    from->balance -= CD_EX_AMOUNT;
    to->balance += CD_EX_AMOUNT;
    cd_ledger_put(CD_EFF_MOVE, teller_no, from->id, to->id, 0);
}

void fraud_check(void)
{
    cd_ledger_put(CD_EFF_CALL, teller_no, 0, 0, 0);
    cd_latency("fraud-check", FRAUD_CHECK_USEC);
    cd_ledger_put(CD_EFF_CALL_END, teller_no, 0, 0, 0);
}

typedef struct teller_ctx {
    bank_t *bank;
    int naccounts;
    account_t *acct;
    int iterations;
} teller_ctx_t;

static void teller(void *ctx, int index)
{
    teller_ctx_t *t = ctx;
    account_t *from = &t->acct[index];
    account_t *to = &t->acct[(index + 1) % t->naccounts];

    teller_no = index;
    for (int i = 0; i < t->iterations; i++) {
        transfer(t->bank, from, to);
        cd_ledger_put(CD_EFF_RETURNED, index, 0, 0, 0);
    }
}

/* The invariant (cli/ledger.c): every transfer applied - the money
 * moved, after its fraud check - and every balance what the moves leave,
 * so that the bank's total is kept. */
static void run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    cd_ex_plan_t plan;
    teller_ctx_t t = { 0 };
    int ready = 0, books = cd_ledger_begin("deadlock", p);
    (void)variant;

    cd_ex_plan("deadlock", p, &plan);
    t.naccounts = plan.accounts;
    t.iterations = plan.transfers;
    t.acct = calloc((size_t)t.naccounts, sizeof *t.acct);
    for (; t.acct && ready < t.naccounts; ready++) {
        account_t *a = &t.acct[ready];
        a->id = ready;
        a->balance = CD_EX_START_BALANCE;
        snprintf(a->name, sizeof a->name, "acct-%c", 'A' + ready % 26);
        if (cd_mutex_init(&a->lock, a->name) != 0)
            break;
    }
    if (books != 0 || ready < t.naccounts ||
        !(t.bank = bank_create(t.naccounts))) {
        cd_ledger_end(v);
        cd_verdict_observe(v, CD_ERROR, "could not set up the bank");
    } else {
        int rc = cd_team_run(t.naccounts, "transfer", teller, &t);
        for (int i = 0; i < t.naccounts; i++)
            cd_ledger_put(CD_EFF_BALANCE, i, 0, 0, t.acct[i].balance);
        cd_ledger_end(v);
        if (rc < 0)
            cd_verdict_observe(v, CD_ERROR, "could not start %d threads",
                               t.naccounts);
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
