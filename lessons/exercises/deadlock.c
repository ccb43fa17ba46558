/*
 * Exercise: deadlock - the ABBA transfer (worksheet: lessons/02-deadlock.md).
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
 * This file is yours, all of it: lessons/harness/deadlock.h says what it
 * must define and what it may call; the harness (accounts, tellers, the
 * invariant) is built by the project. You may need lib/cd_mutex.h (lock,
 * trylock, timedlock).
 */
#include <stdlib.h>

#include "cd_mutex.h"
#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/deadlock.h"
#include "harness/state.h"

/* The bank. Add what your fix needs (set up and freed at the end of this
 * file). */
struct bank {
    int naccounts;
};

/* One transfer from `from` to `to`. */
void transfer(bank_t *b, account_t *from, account_t *to)
{
    (void)b;
    cd_mutex_lock(&from->lock); /* A->B takes A first, B->A takes B first, */
    fraud_check();
    cd_mutex_lock(&to->lock);   /* ...then each waits for the other's */
    move(from, to);
    cd_mutex_unlock(&to->lock);
    cd_mutex_unlock(&from->lock);
}

/* Sets up what you added, before the transfers start: 0, or -1. */
static int bank_extra_init(bank_t *b) { (void)b; return 0; }

/* Frees it after every transfer has ended. */
static void bank_extra_destroy(bank_t *b) { (void)b; }

/* bank_create() and bank_destroy(), which the harness calls
 * (lessons/harness/state.h): bank_create() hands bank_extra_init() a
 * zeroed bank with naccounts set; bank_destroy() calls
 * bank_extra_destroy(), then frees the bank. */
EX_STATE(bank, naccounts, bank_extra_init, bank_extra_destroy)
