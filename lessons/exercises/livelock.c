/*
 * Exercise: livelock - the polite transfers (worksheet:
 * lessons/12-livelock.md).
 *
 * Task:  transfer() below locks the account it pays from, runs a fraud
 *        check, then only *tries* the account it pays into. When that one
 *        is busy it logs the conflict, lets go and retries on the next
 *        tick of the bank's retry timer. Transfers A->B and B->A do all of
 *        that at the same moments: each holds what the other tries, each
 *        steps back, each comes back on the same tick - for ever. Make
 *        every transfer complete, whatever the schedule, while transfers
 *        between different accounts still run side by side.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, parallelism, timing, ThreadSanitizer).
 * Check: concdemo check livelock    or: make check-exercise EX=livelock
 *
 * This file is yours, all of it: lessons/harness/livelock.h says what it
 * must define and what it may call; the harness (accounts, tellers, the
 * retry timer, the invariant) is built by the project. You may need
 * lib/cd_mutex.h (lock, trylock) and lib/cd_thread.h (cd_latency).
 */
#include <stdlib.h>

#include "cd_mutex.h"
#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/livelock.h"
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
    for (;;) {
        cd_mutex_lock(&from->lock);
        fraud_check();
        if (cd_mutex_trylock(&to->lock) == 0) /* polite: never wait holding */
            break;
        log_conflict();                 /* the bank logs every conflict, */
        cd_mutex_unlock(&from->lock);   /* ...lets go, */
        retry_timer();                  /* ...and retries on the next tick */
    }
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
