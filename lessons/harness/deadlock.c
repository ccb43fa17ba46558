/*
 * deadlock.c - the harness of the exercise deadlock (the learner's part:
 * lessons/exercises/deadlock.c, its interface: deadlock.h).
 *
 * N tellers transfer round a ring of N accounts (A->B, B->C, ..., ->A):
 * the run of the tellers is bank.c's, shared with livelock. Here: the
 * bank's books (every move, every fraud check) and the invariant judged
 * from them. Everything here but move(), fraud_check() and
 * cd_exercise is static: the learner's file cannot reach it, and the
 * build refuses a learner's file that defines a name beyond deadlock.h.
 */
#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/exercise.h"
#include "harness/deadlock.h"
#include "../../cli/ledger.h"

#define FRAUD_CHECK_USEC 2000 /* the fraud check takes 2 ms */

/* The bank's books (cli/ledger.h) record every move, where the learner's
 * code cannot write: a transfer that returns without moving the money
 * is a transfer skipped, whatever it returned. */
void move(account_t *from, account_t *to)
{
    from->balance -= CD_EX_AMOUNT;
    to->balance += CD_EX_AMOUNT;
    cd_ledger_put(CD_EFF_MOVE, ex_bank_teller(), from->id, to->id, 0);
}

void fraud_check(void)
{
    cd_ledger_put(CD_EFF_CALL, ex_bank_teller(), 0, 0, 0);
    cd_latency("fraud-check", FRAUD_CHECK_USEC);
    cd_ledger_put(CD_EFF_CALL_END, ex_bank_teller(), 0, 0, 0);
}

/* The learner's functions, which the tellers call. */
static const ex_bank_ops_t ops = { bank_create, bank_destroy, transfer };

/* The invariant (cli/ledger.c): every transfer applied - the money
 * moved, after its fraud check - and every balance what the moves leave,
 * so that the bank's total is kept. */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    ex_bank_run("deadlock", &ops, p, plan, v);
}

EX_SCENARIO("deadlock", run,
            .defaults = { .threads = 2, .iterations = 10 },
            .min = { .threads = 2, .iterations = 1 },
            .max = { .threads = 26, .iterations = 1000 });
