/*
 * bank.h - the bank that the exercises deadlock and livelock share: its
 * accounts, and (for their harnesses only) the run of its tellers.
 *
 * Both exercises have N tellers transfer round a ring of N accounts
 * (A->B, B->C, ..., ->A), through the learner's transfer(); what differs
 * is the harness's services (move(), fraud_check() and, in livelock, the
 * conflict log and retry timer), which stay in each harness. The
 * learner's interface (deadlock.h, livelock.h) includes this file for
 * account_t.
 */
#ifndef EX_BANK_H
#define EX_BANK_H

#include "cd_mutex.h"
#include "scenario.h"

/* One account. The harness made it and its lock. */
typedef struct account {
    int id;            /* 0, 1, 2, ...: every account has its own */
    char name[16];     /* "acct-A" */
    long balance;      /* guarded by lock */
    cd_mutex_t lock;
} account_t;

/* ---- the harnesses' (lessons/harness/bank.c), not the learner's ---- */

struct cd_ex_plan; /* cli/ledger.h */

/* The learner's functions the tellers call, which the exercise's harness
 * passes in (bank.c is linked with every exercise, so it names none). */
typedef struct ex_bank_ops {
    struct bank *(*create)(int naccounts);
    void (*destroy)(struct bank *b);
    void (*transfer)(struct bank *b, account_t *from, account_t *to);
} ex_bank_ops_t;

/* The teller this thread is (-1: none): whose attempt a fraud check, a
 * conflict or a move belongs to, in the books. */
int ex_bank_teller(void);

/* One run of the exercise `name`: its books opened (cli/ledger.h), the
 * accounts of its plan (cd_ex_plan_t, cli/ledger.h) made, the learner's
 * bank created, every teller's transfers made, every balance put in the
 * books, then the books closed into v and everything freed. A set-up
 * that fails is CD_ERROR in v. */
void ex_bank_run(const char *name, const ex_bank_ops_t *ops,
                 const cd_params_t *p, const struct cd_ex_plan *plan,
                 cd_verdict_t *v);

#endif /* EX_BANK_H */
