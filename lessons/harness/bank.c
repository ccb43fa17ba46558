/*
 * bank.c - the run of the tellers of the exercises deadlock and livelock
 * (bank.h): the accounts, the teller threads, the balances put in the
 * books. Linked with every exercise, so it calls the learner's functions
 * only through the ex_bank_ops_t its harness hands it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cd_thread.h"
#include "harness/bank.h"
#include "../../cli/ledger.h"

static _Thread_local int teller_no = -1;

int ex_bank_teller(void) { return teller_no; }

typedef struct teller_ctx {
    const ex_bank_ops_t *ops;
    struct bank *bank;
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
        t->ops->transfer(t->bank, from, to);
        cd_ledger_put(CD_EFF_RETURNED, index, 0, 0, 0);
    }
}

void ex_bank_run(const char *name, const ex_bank_ops_t *ops,
                 const cd_params_t *p, const cd_ex_plan_t *plan,
                 cd_verdict_t *v)
{
    teller_ctx_t t = { .ops = ops };
    int ready = 0, books = cd_ledger_begin(name, p);

    t.naccounts = plan->accounts;
    t.iterations = plan->transfers;
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
        !(t.bank = ops->create(t.naccounts))) {
        cd_ledger_end_error(v, 1, "could not set up the bank");
    } else {
        int rc = cd_team_run(t.naccounts, "transfer", teller, &t);
        for (int i = 0; i < t.naccounts; i++)
            cd_ledger_put(CD_EFF_BALANCE, i, 0, 0, t.acct[i].balance);
        cd_ledger_end_error(v, rc < 0, "could not start %d threads",
                            t.naccounts);
        ops->destroy(t.bank);
    }
    for (int i = 0; i < ready; i++)
        cd_mutex_destroy(&t.acct[i].lock);
    free(t.acct);
}
