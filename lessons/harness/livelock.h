/*
 * livelock.h - the exercise livelock: what the learner's file defines,
 * and what the harness (lessons/harness/livelock.c) gives it.
 *
 * The harness owns the accounts, the teller threads, the bank's retry
 * timer, the invariant and the verdict, compiled by the project: nothing
 * in the learner's file (a #define, a static of the same name) reaches
 * it. The learner's file defines exactly the functions under "yours";
 * its state goes in its own struct bank, which the harness only passes
 * around by pointer. Any other global it defines fails the build.
 *
 * exercise-defines: bank_create bank_destroy transfer
 */
#ifndef EX_LIVELOCK_H
#define EX_LIVELOCK_H

#include "harness/bank.h" /* account_t: one account, and its lock */
#include "harness/state.h"

/* ---- the harness's: call them, do not define them ---- */

/* Moves the money. The caller holds both accounts' locks. */
void move(account_t *from, account_t *to);

/* The fraud check of the paying account: slow (15 ms). Every attempt at
 * a transfer makes one, holding the paying account; the bank counts
 * them. */
void fraud_check(void);

/* Logs a conflict: the account to pay into was busy (15 ms). The bank's
 * rule: every failed attempt is logged before it lets go of the paying
 * account. */
void log_conflict(void);

/* Waits for the next tick of the bank's retry timer (every 50 ms, one
 * timer for every teller). */
void retry_timer(void);

/* ---- yours: define these in lessons/exercises/livelock.c ---- */

typedef struct bank bank_t; /* define struct bank: what your fix needs */

/* bank_create() makes the bank of naccounts accounts before the transfers
 * start: NULL on failure. bank_destroy() frees it after every transfer has
 * ended. EX_STATE, in your file, defines both (lessons/harness/state.h). */
EX_STATE_DECLARE(bank, naccounts);

/* One transfer from `from` to `to`: tellers call it at the same time,
 * round a ring of accounts (A->B, B->C, ..., ->A). */
void transfer(bank_t *b, account_t *from, account_t *to);

#endif /* EX_LIVELOCK_H */
