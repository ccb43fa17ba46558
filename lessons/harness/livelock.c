/*
 * livelock.c - the harness of the exercise livelock (the learner's part:
 * lessons/exercises/livelock.c, its interface: livelock.h).
 *
 * N tellers transfer round a ring of N accounts (A->B, B->C, ..., ->A),
 * as in demos/livelock.c (the run of the tellers is bank.c's, shared
 * with deadlock): a transfer locks the account it pays from,
 * makes its fraud check (15 ms), then only tries the account it pays
 * into; a busy one is a conflict, logged (15 ms, still holding the first
 * account) before the teller lets go and retries. The bank's books
 * record every fraud check (an attempt), every conflict logged and every
 * move, where the learner's code cannot write; the invariant is judged
 * from them (cli/ledger.c). Everything here but move(), fraud_check(),
 * log_conflict(), retry_timer() and cd_exercise is static: the learner's
 * file cannot reach it, and the build refuses a learner's file that
 * defines a name beyond livelock.h.
 *
 * The lockstep is the retry timer's, as in the demo: it ticks on the
 * run's clock (the virtual one under the controlled scheduler, where
 * the exercise keeps time's order: explore_on_time), so tellers that
 * step back together come back together, in every schedule. A run
 * whose tellers made CD_EX_LIVELOCK_TRIES attempts in a row, all of
 * them together, without one transfer between them is a livelock: the
 * bank says so in its books and aborts the run (CD_ABORT_LIVELOCK), so
 * that a livelocked program ends, with its verdict, at the next wait of
 * each teller.
 */
#include <stdatomic.h>

#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/exercise.h"
#include "harness/livelock.h"
#include "../../cli/ledger.h"

#define FRAUD_CHECK_USEC 15000  /* the first account is held this long */
#define LOG_CONFLICT_USEC 15000 /* a failed try is logged, still holding it */
#define RETRY_EVERY_USEC 50000  /* the retry timer ticks every 50 ms */
#define TICK_LATE_USEC 10000    /* a tick missed by less is taken at once */

/* Attempts since the last move, all tellers together, and whether the
 * bank called the run a livelock: relaxed atomics, so that counting
 * orders no teller after another for ThreadSanitizer. Reset per run. */
static atomic_int tries_in_a_row;
static atomic_int called_livelock;

void move(account_t *from, account_t *to)
{
    from->balance -= CD_EX_AMOUNT;
    to->balance += CD_EX_AMOUNT;
    atomic_store_explicit(&tries_in_a_row, 0, memory_order_relaxed);
    cd_ledger_put(CD_EFF_MOVE, ex_bank_teller(), from->id, to->id, 0);
}

/* One more attempt without a transfer: past the bound, the bank calls
 * the run a livelock (once) and aborts it, so that the tellers' next
 * wait - this fraud check's included - ends them. */
static void count_attempt(void)
{
    int n = atomic_fetch_add_explicit(&tries_in_a_row, 1,
                                      memory_order_relaxed) + 1;
    if (n >= CD_EX_LIVELOCK_TRIES &&
        !atomic_exchange_explicit(&called_livelock, 1, memory_order_relaxed)) {
        cd_ledger_put(CD_EFF_LIVELOCK, n, 0, 0, 0);
        cd_reg_abort(CD_ABORT_LIVELOCK);
    }
}

void fraud_check(void)
{
    cd_ledger_put(CD_EFF_CALL, ex_bank_teller(), 0, 0, 0);
    count_attempt();
    cd_latency("fraud-check", FRAUD_CHECK_USEC);
    cd_ledger_put(CD_EFF_CALL_END, ex_bank_teller(), 0, 0, 0);
}

void log_conflict(void)
{
    cd_ledger_put(CD_EFF_CONFLICT, ex_bank_teller(), 0, 0, 0);
    cd_latency("log-conflict", LOG_CONFLICT_USEC);
}

/* The retry timer: it ticks every RETRY_EVERY_USEC on the run's clock,
 * which every teller shares. A retry waits for the next tick; one that
 * comes less than TICK_LATE_USEC after a tick (a busy machine ran it
 * late) takes that tick at once, as a periodic timer that fired while
 * its handler still ran. Nothing but the clock decides the tick. */
void retry_timer(void)
{
    int scale = cd_reg_latency_scale();
    int64_t every = (int64_t)RETRY_EVERY_USEC * scale; /* ns */
    int64_t late = (int64_t)TICK_LATE_USEC * scale;
    if (every <= 0)
        return;
    int64_t now = cd_reg_elapsed_ns();
    int64_t tick = (now - late + every - 1) / every * every;
    if (tick > now)
        cd_latency("retry-timer", (tick - now) / scale);
}

/* The learner's functions, which the tellers call. */
static const ex_bank_ops_t ops = { bank_create, bank_destroy, transfer };

/* The invariant (cli/ledger.c): every transfer applied - the money
 * moved, after its fraud check -, every balance what the moves leave,
 * every failed attempt logged, and never CD_EX_LIVELOCK_TRIES attempts
 * in a row without a transfer. */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    atomic_store(&tries_in_a_row, 0);
    atomic_store(&called_livelock, 0);
    ex_bank_run("livelock", &ops, p, plan, v);
}

/* The bug is made of timing - tellers that retry on one clock - so the
 * exploration keeps time's order (as the demo's does). */
EX_SCENARIO("livelock", run,
            .defaults = { .threads = 2, .iterations = 10 },
            .min = { .threads = 2, .iterations = 1 },
            .max = { .threads = 26, .iterations = 1000 },
            .explore_on_time = 1);
