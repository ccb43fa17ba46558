/*
 * livelock.c - the polite transfers: both step back, both come back on
 * the same beat, for ever.
 *
 * The pitfall: a transfer locks the account it takes money from, runs a
 * fraud check (15 ms), then only *tries* the account it pays into. Waiting
 * for it is how deadlocks happen, so when it is busy the transfer is
 * polite: it logs the conflict (15 ms, still holding its first account),
 * lets go, and retries on the next tick of its retry timer (every 50 ms).
 * Transfer A->B and transfer B->A do all of that at the same moments: each
 * holds what the other tries, each steps back, each comes back on the same
 * tick. Both are busy, and nothing gets done.
 *
 * Symptom: retries climb, transfers stay at 0; 40 retries in a row
 *          without a transfer, and the run is called a LIVELOCK.
 * Run:     concdemo livelock                     the fixed retry interval
 *          concdemo livelock --fixed=ordering    lock the lower id first,
 *                                                and wait (recommended)
 *          concdemo livelock --fixed=backoff     a random pause, doubling,
 *                                                before a retry
 * Lesson:  lessons/12-livelock.md
 *
 * The lockstep is the timer's, not luck's: every teller retries on the
 * ticks of one clock (the run's), so two tellers that failed together
 * come back together. A teller that a busy machine runs a little late
 * for a tick (under 10 ms) retries at once, as a periodic timer that fired
 * while its handler still ran, which keeps it in step. A round that slips
 * anyway lets one transfer through, and only starts the count of retries
 * in a row again.
 *
 * With --threads N the N transfers go round a ring of N accounts
 * (A->B, B->C, ..., ->A), as in the deadlock scenario.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "support.h" /* scenario.h, and how a run is driven */

#define AMOUNT 10
#define START_BALANCE 1000
#define FRAUD_CHECK_USEC 15000  /* the first account is held this long */
#define LOG_CONFLICT_USEC 15000 /* a failed try is logged, still holding it */
#define RETRY_EVERY_USEC 50000  /* the retry timer ticks every 50 ms */
#define TICK_LATE_USEC 10000    /* a tick missed by less is taken at once */
#define BACKOFF_MIN_USEC 1000   /* fix "backoff": 1 ms, plus a random part */
#define BACKOFF_USEC 20000      /* ...up to 20 ms, doubling with each retry */
#define BACKOFF_DOUBLINGS 4     /* ...up to 320 ms */
#define LIVELOCK_RETRIES 40     /* retries in a row, no transfer: livelock */
#define MAX_TELLERS 16

typedef struct account {
    int id;
    char name[16];
    long balance;
    cd_mutex_t lock;
} account_t;

/* One teller's own state: written by its thread only, read after joins. */
typedef struct teller {
    unsigned seed;   /* fix "backoff": the same pauses on every run */
    long retries;
} teller_t;

typedef struct bank {
    int variant;
    int naccounts, iterations;
    int scale;             /* latency scale, thousandths */
    account_t *acct;
    teller_t tellers[MAX_TELLERS];
    /* Shared counts: relaxed atomics, so that counting orders nothing. */
    atomic_int done;       /* transfers completed */
    atomic_int streak;     /* retries since the last transfer, all tellers */
    atomic_int most;       /* the longest streak */
    atomic_int livelocked; /* the streak reached LIVELOCK_RETRIES */
    /* Live figures for concdemo --view (registry gauges). */
    int g_done, g_retries, g_streak;
} bank_t;

static void move(account_t *from, account_t *to)
{
    from->balance -= AMOUNT;
    to->balance += AMOUNT;
}

/* The retry timer: it ticks every RETRY_EVERY_USEC on the run's clock,
 * which every teller shares (the virtual one under --sched). A retry waits
 * for the next tick; one that comes less than TICK_LATE_USEC after a tick
 * (a busy machine ran it late) takes that tick at once, as a periodic
 * timer that fired while its handler still ran. Nothing but the clock
 * decides the tick, so two tellers that step back at about the same time
 * come back on the same one. Without latency (scale 0) there is no timer. */
static void next_tick(bank_t *b)
{
    int64_t every = (int64_t)RETRY_EVERY_USEC * b->scale; /* ns */
    int64_t late = (int64_t)TICK_LATE_USEC * b->scale;
    if (every <= 0)
        return;
    int64_t now = cd_reg_elapsed_ns();
    int64_t tick = (now - late + every - 1) / every * every;
    if (tick > now)
        cd_latency("retry-timer", (tick - now) / b->scale);
}

/* A failed try: log the conflict (the first account still held), let it
 * go, count the retry. */
static void step_back(bank_t *b, teller_t *t, account_t *from)
{
    cd_latency("log-conflict", LOG_CONFLICT_USEC);
    cd_mutex_unlock(&from->lock);
    t->retries++;
    int streak = atomic_fetch_add_explicit(&b->streak, 1,
                                           memory_order_relaxed) + 1;
    int most = atomic_load_explicit(&b->most, memory_order_relaxed);
    while (streak > most &&
           !atomic_compare_exchange_weak_explicit(&b->most, &most, streak,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
    /* The live figures (relaxed as well): they change nothing here. */
    cd_reg_gauge_add(b->g_retries, 1);
    cd_reg_gauge_set(b->g_streak, streak);
    if (streak >= LIVELOCK_RETRIES)
        atomic_store_explicit(&b->livelocked, 1, memory_order_relaxed);
}

/* 1 once the run is a livelock: the tellers' retries made
 * LIVELOCK_RETRIES in a row without a transfer. Retrying on would change
 * nothing, so the run ends there. */
static int livelock(bank_t *b)
{
    return atomic_load_explicit(&b->livelocked, memory_order_relaxed);
}

/* Fix "backoff": a random pause, from a window that doubles with each
 * retry of one transfer (exponential back-off with jitter): two tellers
 * that met are unlikely to meet again, and less likely each time. */
static int64_t backoff_usec(teller_t *t, int tries)
{
    int64_t window = (int64_t)BACKOFF_USEC
                     << (tries < BACKOFF_DOUBLINGS ? tries : BACKOFF_DOUBLINGS);
    return BACKOFF_MIN_USEC + rand_r(&t->seed) % window;
}

/* ====================== the transfers, side by side ====================== */

/* Broken: polite, and punctual. Returns -1 when the run is a livelock. */
static int transfer_broken(bank_t *b, teller_t *t, account_t *from,
                           account_t *to)
{
    for (;;) {
        cd_mutex_lock(&from->lock);
        cd_latency("fraud-check", FRAUD_CHECK_USEC);
        if (cd_mutex_trylock(&to->lock) == 0) /* polite: never wait holding */
            break;
        step_back(b, t, from);
        next_tick(b);      /* BUG: back on the timer's tick, in step */
        if (livelock(b))
            return -1;
    }
    move(from, to);
    cd_mutex_unlock(&to->lock);
    cd_mutex_unlock(&from->lock);
    return 0;
}

/* Fix "ordering": every transfer locks the lower account id first and
 * waits for the second: no two can each hold what the other wants, so
 * there is nothing to step back from. */
static int transfer_ordering(bank_t *b, teller_t *t, account_t *from,
                             account_t *to)
{
    account_t *first = from->id < to->id ? from : to;   /* FIX: one global */
    account_t *second = from->id < to->id ? to : from;  /* FIX: lock order */
    (void)b;
    (void)t;
    cd_mutex_lock(&first->lock);
    cd_latency("fraud-check", FRAUD_CHECK_USEC);
    cd_mutex_lock(&second->lock);                       /* FIX: and wait */
    move(from, to);
    cd_mutex_unlock(&second->lock);
    cd_mutex_unlock(&first->lock);
    return 0;
}

/* Fix "backoff": the same polite transfer, but a retry comes after a
 * random pause, so two tellers that failed together come back apart. */
static int transfer_backoff(bank_t *b, teller_t *t, account_t *from,
                            account_t *to)
{
    for (int tries = 0;; tries++) {
        cd_mutex_lock(&from->lock);
        cd_latency("fraud-check", FRAUD_CHECK_USEC);
        if (cd_mutex_trylock(&to->lock) == 0) /* polite: never wait holding */
            break;
        step_back(b, t, from);
        cd_latency("back-off", backoff_usec(t, tries)); /* FIX: a random pause */
        if (livelock(b))
            return -1;
    }
    move(from, to);
    cd_mutex_unlock(&to->lock);
    cd_mutex_unlock(&from->lock);
    return 0;
}

static int (*const transfer[])(bank_t *, teller_t *, account_t *,
                               account_t *) = {
    transfer_broken, transfer_ordering, transfer_backoff,
};

/* ================================ harness ================================ */

static void teller(void *ctx, int index)
{
    bank_t *b = ctx;
    teller_t *t = &b->tellers[index];
    account_t *from = &b->acct[index];
    account_t *to = &b->acct[(index + 1) % b->naccounts];

    /* A seed of its own, fixed, so that a controlled run replays. */
    t->seed = 7919u * (unsigned)(index + 1);
    for (int i = 0; i < b->iterations; i++) {
        if (transfer[b->variant](b, t, from, to) != 0)
            break; /* a livelock */
        atomic_fetch_add_explicit(&b->done, 1, memory_order_relaxed);
        atomic_store_explicit(&b->streak, 0, memory_order_relaxed);
        cd_reg_gauge_add(b->g_done, 1);
        cd_reg_gauge_set(b->g_streak, 0);
    }
}

/* Account names: A..Z, then A1, B1, ... */
static void account_name(char *buf, size_t size, int i)
{
    if (i < 26)
        snprintf(buf, size, "acct-%c", 'A' + i);
    else
        snprintf(buf, size, "acct-%c%d", 'A' + i % 26, i / 26);
}

/* "20/20": one count per teller. */
static void join_retries(char *buf, size_t size, const bank_t *b)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < b->naccounts; i++)
        at = cd_demo_append(buf, size, at, "%s%ld", i ? "/" : "",
                            b->tellers[i].retries);
}

/* Invariant: every transfer completes - never LIVELOCK_RETRIES retries in
 * a row without one - and the money in the bank is conserved. */
static void check(bank_t *b, cd_verdict_t *v)
{
    char per[96];
    long total = 0, retries = 0;
    for (int i = 0; i < b->naccounts; i++) {
        total += b->acct[i].balance;
        retries += b->tellers[i].retries;
    }
    join_retries(per, sizeof per, b);
    int want = b->naccounts * b->iterations, done = atomic_load(&b->done);
    int most = atomic_load(&b->most);
    long money = (long)START_BALANCE * b->naccounts;

    cd_verdict_expect(v, "all %d transfers complete, never %d retries in a "
                      "row without one, and the %ld in the bank stays %ld",
                      want, LIVELOCK_RETRIES, money, money);
    cd_verdict_num(v, "transfers", want);
    cd_verdict_num(v, "completed", done);
    cd_verdict_num(v, "total", total);
    cd_verdict_num(v, "retries", retries);
    cd_verdict_str(v, "retries_per_thread", "%s", per);
    cd_verdict_num(v, "most_retries_in_a_row", most);
    cd_verdict_num(v, "livelock_bound", LIVELOCK_RETRIES);
    if (atomic_load(&b->livelocked))
        cd_verdict_observe(v, CD_LIVELOCK,
                           "%d retries in a row and not one transfer between "
                           "them (transfer-1..%d retried %s times): busy, "
                           "never done; %d of %d transfers completed, "
                           "total %ld", most, b->naccounts, per, done, want,
                           total);
    else if (done < want || total != money)
        cd_verdict_observe(v, CD_VIOLATED, "%d of %d transfers completed, "
                           "total %ld", done, want, total);
    else
        cd_verdict_observe(v, CD_HELD, "all %d transfers completed, total "
                           "%ld conserved, %ld %s (at most %d in a row)",
                           done, total, retries,
                           cd_plural(retries, "retry", "retries"), most);
}

void cd_livelock_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    bank_t *b = calloc(1, sizeof *b);
    int ready = 0;

    if (!b) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the bank");
        return;
    }
    b->variant = variant;
    b->naccounts = p->threads;
    b->iterations = p->iterations;
    b->scale = cd_reg_latency_scale();
    atomic_init(&b->done, 0);
    atomic_init(&b->streak, 0);
    atomic_init(&b->most, 0);
    atomic_init(&b->livelocked, 0);
    b->acct = calloc((size_t)b->naccounts, sizeof *b->acct);
    for (; b->acct && ready < b->naccounts; ready++) {
        account_t *a = &b->acct[ready];
        a->id = ready;
        a->balance = START_BALANCE;
        account_name(a->name, sizeof a->name, ready);
        if (cd_mutex_init(&a->lock, a->name) != 0)
            break;
    }
    if (ready < b->naccounts) {
        cd_verdict_observe(v, CD_ERROR, "could not set up %d accounts",
                           b->naccounts);
        goto out;
    }

    cd_demo_figures("transfers", b->naccounts * b->iterations, "transfers done",
                    &b->g_done, "retries", &b->g_retries, "retries in a row",
                    &b->g_streak, NULL);
    int rc = cd_team_run(b->naccounts, "transfer", teller, b);
    if (rc < 0)
        cd_verdict_observe(v, CD_ERROR, "could not start %d threads",
                           b->naccounts);
    else
        check(b, v);
out:
    for (int i = 0; i < ready; i++)
        cd_mutex_destroy(&b->acct[i].lock);
    free(b->acct);
    free(b);
}

/* Its array holds as many tellers as its entry in demos/scenarios.c
 * allows (.max.threads). */
_Static_assert(MAX_TELLERS == CD_LIVELOCK_TELLERS,
               "MAX_TELLERS is not CD_LIVELOCK_TELLERS (demos/scenario.h)");
