/*
 * ledger.c - the books of an exercise's runs, and the judges that read
 * them (see ledger.h). One judge per exercise, each a pair of functions:
 * book one record, then say whether the run did what it was asked.
 */
#define _GNU_SOURCE /* PIPE_BUF */

#include "ledger.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Static_assert(sizeof(cd_effect_t) == 24, "a record has no padding");
_Static_assert(sizeof(cd_effect_t) <= PIPE_BUF, "a record is written whole");

static const char *const stage_names[] = {
    [CD_STAGE_FREE] = "free", [CD_STAGE_EXPLORE] = "explore",
    [CD_STAGE_PARALLEL] = "parallel", [CD_STAGE_TIMING] = "timing",
};

const char *cd_stage_name(int stage)
{
    return stage >= CD_STAGE_FREE && stage <= CD_STAGES ? stage_names[stage]
                                                        : "run";
}

/* ================================ the plans ============================== */

/* Records a run of n units of work may need: each unit a few records, and
 * room for retries (a timed lock that backs off, a declined card) before
 * "far too many" is a fault of its own. */
static size_t room_for(long units, int per_unit, long fixed)
{
    return (size_t)(units * per_unit * 4 + fixed + 64);
}

int cd_ex_plan(const char *name, const cd_params_t *p, cd_ex_plan_t *out)
{
    memset(out, 0, sizeof *out);
    if (!name || p->threads < 0 || p->threads > 64 || p->iterations < 1 ||
        p->iterations > 100000 || p->workers < 0 || p->workers > 8)
        return -1;
    if (strcmp(name, "race") == 0) {
        out->orders = p->iterations;
        out->customers = p->threads / CD_EX_SUBMITS > 0
                             ? p->threads / CD_EX_SUBMITS : 1;
        out->max_records = room_for(out->orders * CD_EX_SUBMITS, 3, 0);
    } else if (strcmp(name, "async-race") == 0) {
        out->orders = p->iterations;
        out->customers = p->iterations / 2 > 0 ? p->iterations / 2 : 1;
        out->max_records = room_for(out->orders * CD_EX_SUBMITS, 3, 0);
    } else if (strcmp(name, "deadlock") == 0 ||
               strcmp(name, "livelock") == 0) {
        out->accounts = p->threads;
        out->transfers = p->iterations;
        /* A transfer that backs off checks again: allow many tries. */
        out->max_records = room_for((long)p->threads * p->iterations, 16,
                                    p->threads);
        if (p->threads < 2)
            return -1;
    } else if (strcmp(name, "starvation") == 0) {
        out->readers = p->threads;
        out->requests = p->iterations;
        out->trims = (int)(((int64_t)p->iterations * CD_EX_REQUEST_EVERY_USEC -
                            CD_EX_TRIM_FIRST_USEC + CD_EX_TRIM_EVERY_USEC - 1) /
                           CD_EX_TRIM_EVERY_USEC);
        if (out->trims < 0)
            out->trims = 0;
        out->max_records = room_for(out->requests + out->trims, 2, 0);
        if (p->threads < 1 || p->threads > 16)
            return -1;
    } else if (strcmp(name, "backpressure") == 0) {
        out->workers = p->threads;
        out->lines = p->iterations;
        /* One record per line at worst (workers' lines interleaved). */
        out->max_records = (size_t)p->threads * (size_t)p->iterations + 64;
        if (p->threads < 1 || p->threads > 8)
            return -1;
    } else if (strcmp(name, "await") == 0) {
        out->users = p->iterations;
        out->clicks = CD_EX_SUBMITS;
        out->max_records = room_for(out->users + out->clicks, 4, out->users);
        if (p->workers < 1 || p->iterations > 64)
            return -1;
    } else if (strcmp(name, "lost-wakeup") == 0) {
        out->jobs = p->iterations;
        out->max_records = room_for(out->jobs, 3, 0);
    } else if (strcmp(name, "spurious") == 0) {
        out->cooks = p->threads;
        out->tickets = p->iterations;
        /* Each ticket posted and taken, and room for takes from an empty
         * rail (every cook, for every ticket) before "far too many". */
        out->max_records = room_for(out->tickets, p->threads + 2,
                                    p->threads + 1);
        if (p->threads < 1 || p->threads > 16)
            return -1;
    } else if (strcmp(name, "order-violation") == 0) {
        out->handlers = p->threads;
        out->per_handler = p->iterations;
        /* Each request one record, and room for a few connects. */
        out->max_records = room_for((long)p->threads * p->iterations, 1,
                                    p->threads + 1);
        if (p->threads < 1 || p->threads > 16 || p->iterations > 1000)
            return -1;
    } else if (strcmp(name, "philosophers") == 0) {
        out->diners = p->threads;
        out->meals = p->iterations;
        /* A meal's begin and end, and its meal() returning. */
        out->max_records = room_for((long)p->threads * p->iterations, 3,
                                    p->threads);
        if (p->threads < 2 || p->threads > 26)
            return -1;
    } else if (strcmp(name, "publication") == 0) {
        out->handlers = p->threads;
        out->conns = p->iterations;
        /* A record per read and one per connection opened. */
        out->max_records = room_for((long)p->threads * p->iterations +
                                    p->iterations, 1, 0);
        if (p->threads < 1 || p->iterations > 1000)
            return -1;
    } else if (strcmp(name, "stampede") == 0) {
        out->keys = CD_EX_KEYS;
        out->per_key = p->iterations;
        /* A query's begin and end, and each lookup() returning. */
        out->max_records = room_for((long)out->keys * out->per_key, 3, 0);
        if (p->workers < 1 || p->iterations > 150)
            return -1;
    } else if (strcmp(name, "webhook") == 0) {
        out->events = p->iterations;
        /* A fulfilment's call, its end and its shipment per delivery. */
        out->max_records = room_for((long)out->events * CD_EX_DELIVERIES, 3,
                                    0);
        if (p->workers < 1 || p->iterations > 200)
            return -1;
    } else if (strcmp(name, "counter") == 0) {
        out->handlers = p->threads;
        out->per_handler = p->iterations;
        out->pages = CD_EX_PAGES;
        /* A render's start and end and a return per view; a count per
         * page. */
        out->max_records = room_for((long)p->threads * p->iterations, 3,
                                    out->pages);
        if (p->threads < 1 || p->iterations > 100)
            return -1;
    } else if (strcmp(name, "holdtime") == 0) {
        out->handlers = p->threads;
        out->per_handler = p->iterations;
        out->products = CD_EX_BOARD_PRODUCTS;
        out->sales = p->iterations * CD_EX_SALES_PER_REPORT;
        /* A render's start and end, a show and a return per refresh; a
         * record per sale; the board's count per product. */
        out->max_records = room_for((long)p->threads * p->iterations, 4,
                                    out->sales + out->products);
        if (p->threads < 2 || p->threads > 16 || p->iterations > 20)
            return -1;
    } else if (strcmp(name, "orphans") == 0) {
        out->orders = p->iterations;
        /* Three subtasks (a start and an act each), a report and a return
         * per order; room for a learner's subtasks spawned twice. */
        out->max_records = room_for(out->orders, 16, 0);
        if (p->workers < 1 || p->iterations > 64)
            return -1;
    } else if (strcmp(name, "offload") == 0) {
        out->others = p->iterations;
        /* A record per request answered; the hash's start and end and the
         * login's return, a few times over for a learner who hashes
         * twice. */
        out->max_records = room_for(out->others, 1, 16);
        if (p->workers < 1 || p->iterations < 10 || p->iterations > 200)
            return -1;
    } else if (strcmp(name, "inventory") == 0) {
        out->products = CD_EX_PRODUCTS;
        out->buyers = p->iterations;
        out->stock = p->iterations / 4 > 0 ? p->iterations / 4 : 1;
        /* A payment's start, its charge and its end; a stock per product. */
        out->max_records = room_for((long)out->products * out->buyers, 3,
                                    out->products);
        if (p->workers < 1 || p->iterations > 100)
            return -1;
    } else {
        return -1;
    }
    if ((strcmp(name, "race") == 0 && p->threads < 1) ||
        (strcmp(name, "async-race") == 0 &&
         (p->workers < 1 || p->iterations > 200)))
        return -1;
    return 0;
}

/* =============================== the judges ============================== */

/* A slow call: who made it and when it began and ended (records'
 * numbers: under the controlled scheduler they are the order of events). */
typedef struct span {
    long begin, end;
} span_t;

typedef struct rules rules_t;

struct cd_judge {
    const rules_t *r;
    cd_params_t p;
    cd_ex_plan_t plan;
    long seq;        /* records booked */
    int now, most;   /* slow calls in flight now, and at most */
    char fault[192]; /* the first record that does not fit the run */

    /* Counters by key (order, account or teller, reader, worker, user). */
    long *count;     /* race: charges; async-race: attempts; deadlock:
                        moves by teller; backpressure: lines stored;
                        await: saves with the whole cart */
    long *count2;    /* deadlock: transfers returned; backpressure: the
                        next line expected; await: requests finished */
    long *money;     /* deadlock: balances in the books */
    long *said;      /* deadlock: balances the bank holds; await: items */
    long *said2;     /* await: items said saved */
    int nkeys;

    /* deadlock: each teller's last fraud check, whether one came since
     * its last move, and the checks that moves followed. */
    span_t *check;
    int *checked;
    span_t *used;
    long nused, cap_used;

    /* starvation */
    int waiting, past, most_past, trims, in_storm, reads;
    int64_t wait_ns, longest_ns, most_past_ns, stalest_us;

    /* backpressure */
    long dropped, gave_up, refused, peak_lines, peak_bytes;
    long kill_depth, kill_produced, kill_bytes;
    int killed, queue_told;

    /* livelock: attempts (fraud checks) since the last move, all tellers,
     * and the most; conflicts logged; whether the bank called the run a
     * livelock; each teller's attempt that has neither moved nor logged
     * its conflict yet */
    long tries, most_tries, conflicts;
    int called;
    int *unlogged;

    /* spurious (count: takes by ticket, count2: posts by ticket, home:
     * returns by cook) */
    long *home;
    long empty, first_empty_cook, early_home, late_post;
    int closed;

    /* philosophers (count: meals eaten by diner, count2: meal()s
     * returned, said: the record of the meal it is eating now, or
     * LONG_MIN): the first meal eaten without both forks, and the first
     * two neighbours who ate at once (-1: none). */
    long bare_diner, bare_forks, shared_diner, shared_with;
    /* order-violation (count: requests by handler; what they found) */
    long connects, found[4], first_bad[4][2];
    /* publication (count: records written by connection, count2: reads
     * by handler): the records used that were not whole, by outcome, and
     * the first of them. */
    long bad[CD_READ_WRONG + 1];
    int bad_handler, bad_conn, bad_what;
    /* stampede (count: queries by key, count2: lookups returned by key):
     * lookups that returned a value the database does not hold */
    long wrong_values;
    /* counter (count: visitor numbers returned, by page * views + number
     * - 1; count2: views returned by page; home: by handler; said: the
     * count each page ended with): renders begun, and the first visitor
     * number handed out twice (-1: none) */
    long page_renders, twice_page, twice_number, twice_n;
    /* holdtime (count: refreshes returned by handler, count2: sales by
     * product, said: the board's sales by product): renders begun, the
     * newest report shown, and the first time the dashboard went back */
    long renders, shown_max, back_from, back_to, went_back;
    /* offload (count: answers by request, said: its latency in ns):
     * hashes begun and finished, login()s returned, and of them those
     * that returned before their password was hashed */
    long hashes, hashed, logins, unhashed;
    /* orphans (count: acts by order, as bits 1 << subtask; count2:
     * checkout()s returned; said: when its failure was reported, or
     * LONG_MIN): acts after a failure report, acts after the checkout
     * returned, failures reported after the card was charged (in
     * controlled runs, where deadlines order the services exactly), checkouts
     * that returned with neither all done nor a failure reported; the
     * first order of each */
    long acts_after_report, acts_after_return, charged_then_failed, silent;
    long first_after_report, first_after_return, first_charged,
        first_silent;
};

struct rules {
    const char *name;
    int (*keys)(const cd_ex_plan_t *plan);
    void (*book)(cd_judge_t *j, const cd_effect_t *e);
    void (*finish)(cd_judge_t *j, cd_verdict_t *v);
};

static void fault(cd_judge_t *j, const char *fmt, long a, long b)
{
    if (!j->fault[0])
        snprintf(j->fault, sizeof j->fault, fmt, a, b);
}

/* A slow call begins or ends: the service's count of calls in flight. */
static void book_call(cd_judge_t *j, const cd_effect_t *e)
{
    if (e->kind == CD_EFF_CALL && ++j->now > j->most)
        j->most = j->now;
    else if (e->kind == CD_EFF_CALL_END && j->now > 0)
        j->now--;
}

static int key_ok(cd_judge_t *j, long key, const char *what)
{
    if (key >= 0 && key < j->nkeys)
        return 1;
    if (!j->fault[0])
        snprintf(j->fault, sizeof j->fault, "the service was told of %s %ld, "
                 "which this run does not have", what, key);
    return 0;
}

/* ---- race and async-race: charges per order ---- */

static int keys_orders(const cd_ex_plan_t *plan)
{
    return plan->orders;
}

static void book_pay(cd_judge_t *j, const cd_effect_t *e)
{
    book_call(j, e);
    if (e->kind != CD_EFF_PAY)
        return;
    if (!key_ok(j, e->a, "order"))
        return;
    if (e->b != e->a % j->plan.customers)
        fault(j, "the gateway was asked to charge order %ld to customer "
              "%ld, who did not place it", e->a, e->b);
    else
        j->count[e->a]++;
}

/* async-race: the gateway declines the first attempt of every third
 * order; what it charged is the attempts less that. */
static long charged(const cd_judge_t *j, int order)
{
    long n = j->count[order];
    int declines = strcmp(j->r->name, "async-race") == 0 &&
                   order % CD_EX_DECLINE_EVERY == CD_EX_DECLINE_EVERY - 1;
    return declines && n > 0 ? n - 1 : n;
}

static void finish_race(cd_judge_t *j, cd_verdict_t *v)
{
    int async = strcmp(j->r->name, "async-race") == 0;
    long total = 0, twice = 0, unpaid = 0, declined = 0, lowest = 0;
    long *balance = j->money; /* per customer */

    for (int c = 0; c < j->plan.customers; c++)
        balance[c] = 0;
    for (int i = 0; i < j->plan.orders; i++) {
        long c = charged(j, i);
        total += c;
        twice += c > 1;
        unpaid += c == 0;
        declined += async && i % CD_EX_DECLINE_EVERY ==
                                 CD_EX_DECLINE_EVERY - 1;
        balance[i % j->plan.customers] += CD_EX_PRICE * (1 - c);
    }
    for (int c = 0; c < j->plan.customers; c++)
        if (balance[c] < lowest)
            lowest = balance[c];
    if (async)
        cd_verdict_expect(v, "each of %d orders charged once (a declined "
                          "card retried by the other checkout), every "
                          "balance ending at 0", j->plan.orders);
    else
        cd_verdict_expect(v, "each of %d orders charged once, every balance "
                          "ending at 0", j->plan.orders);
    cd_verdict_num(v, "charges", total);
    cd_verdict_num(v, "double_charged", twice);
    cd_verdict_num(v, "unpaid", unpaid);
    if (twice || unpaid) {
        if (async)
            cd_verdict_observe(v, CD_VIOLATED, "%ld charges for %d orders: "
                               "%ld charged twice or more, %ld never charged "
                               "(%ld of the orders had their first attempt "
                               "declined)", total, j->plan.orders, twice,
                               unpaid, declined);
        else
            cd_verdict_observe(v, CD_VIOLATED, "%ld charges for %d orders "
                               "(%ld charged twice or more, %ld unpaid); "
                               "lowest balance %ld", total, j->plan.orders,
                               twice, unpaid, lowest);
    } else if (async) {
        cd_verdict_observe(v, CD_HELD, "%ld charges for %d orders, all "
                           "balances 0; %ld declined card%s retried", total,
                           j->plan.orders, declined,
                           cd_plural(declined, "", "s"));
    } else {
        cd_verdict_observe(v, CD_HELD, "%ld charges for %d orders, all "
                           "balances 0", total, j->plan.orders);
    }
}

/* ---- deadlock: transfers applied, money conserved ---- */

static int keys_accounts(const cd_ex_plan_t *plan)
{
    return plan->accounts;
}

static void book_transfer(cd_judge_t *j, const cd_effect_t *e)
{
    int n = j->plan.accounts;
    switch (e->kind) {
    case CD_EFF_CALL:
    case CD_EFF_CALL_END:
        if (!key_ok(j, e->a, "teller"))
            return;
        /* A fraud check: the one that counts for the next move is the
         * teller's last (a transfer that backs off checks again). */
        if (e->kind == CD_EFF_CALL)
            j->check[e->a].begin = j->seq;
        else
            j->check[e->a].end = j->seq, j->checked[e->a] = 1;
        return;
    case CD_EFF_MOVE:
        if (!key_ok(j, e->a, "teller") || !key_ok(j, e->b, "account") ||
            !key_ok(j, e->c, "account"))
            return;
        if (e->b != e->a || e->c != (e->a + 1) % n) {
            fault(j, "a transfer moved money from account %ld to account "
                  "%ld, which no teller asked for", e->b, e->c);
            return;
        }
        if (!j->checked[e->a])
            fault(j, "teller %ld moved the money of transfer %ld without "
                  "its fraud check", e->a + 1, j->count[e->a] + 1);
        j->checked[e->a] = 0;
        if (j->nused < j->cap_used)
            j->used[j->nused++] = j->check[e->a];
        j->count[e->a]++;
        j->money[e->b] -= CD_EX_AMOUNT;
        j->money[e->c] += CD_EX_AMOUNT;
        return;
    case CD_EFF_RETURNED:
        if (key_ok(j, e->a, "teller"))
            j->count2[e->a]++;
        return;
    case CD_EFF_BALANCE:
        if (key_ok(j, e->a, "account"))
            j->said[e->a] = (long)e->d;
        return;
    default:
        fault(j, "a record (kind %ld) this exercise does not make",
              e->kind, 0);
    }
}

static int by_position(const void *x, const void *y)
{
    long a = *(const long *)x, b = *(const long *)y;
    return (a > b) - (a < b);
}

/* The most fraud checks in flight at once, of those a move followed:
 * a check made again and again outside the locks is no transfer. */
static int most_used_at_once(cd_judge_t *j)
{
    long n = j->nused, *ends = malloc(sizeof *ends * (size_t)(2 * n + 1));
    int now = 0, most = 0;
    if (!ends)
        return 0;
    /* A begin is 2*seq+1 and an end 2*seq: at one position, ends first. */
    for (long i = 0; i < n; i++) {
        ends[2 * i] = 2 * j->used[i].begin + 1;
        ends[2 * i + 1] = 2 * j->used[i].end;
    }
    qsort(ends, (size_t)(2 * n), sizeof *ends, by_position);
    for (long i = 0; i < 2 * n; i++) {
        now += ends[i] & 1 ? 1 : -1;
        if (now > most)
            most = now;
    }
    free(ends);
    return most;
}

static void finish_transfer(cd_judge_t *j, cd_verdict_t *v)
{
    int n = j->plan.accounts, each = j->plan.transfers;
    long want = (long)n * each, moved = 0, returned = 0, total = 0;
    long want_total = (long)CD_EX_START_BALANCE * n;
    int lost_at = -1, told = 1;

    j->most = most_used_at_once(j);
    for (int t = 0; t < n; t++) {
        moved += j->count[t];
        returned += j->count2[t];
        told &= j->said[t] != LONG_MIN;
        total += j->said[t] == LONG_MIN ? 0 : j->said[t];
        if (lost_at < 0 && j->said[t] != LONG_MIN && j->said[t] != j->money[t])
            lost_at = t;
    }
    cd_verdict_expect(v, "all %ld transfers applied (the money moved) and "
                      "the %ld in the bank stays %ld", want, want_total,
                      want_total);
    cd_verdict_num(v, "applied", moved);
    cd_verdict_num(v, "returned", returned);
    cd_verdict_num(v, "total", total);
    if (moved < want && returned >= want)
        cd_verdict_observe(v, CD_VIOLATED, "%ld of %ld transfers applied: "
                           "every transfer() returned, but %ld of them "
                           "without moving the money - transfers were "
                           "skipped", moved, want, want - moved);
    else if (moved != want)
        cd_verdict_observe(v, CD_VIOLATED, "%ld of %ld transfers applied, "
                           "total %ld", moved, want, total);
    else if (!told)
        cd_verdict_observe(v, CD_VIOLATED, "all %ld transfers applied, but "
                           "the bank's balances were never read", moved);
    else if (lost_at >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "account acct-%c holds %ld, but "
                           "the transfers applied leave it %ld: an update "
                           "was lost (two moves of one account at once)",
                           'A' + lost_at % 26, j->said[lost_at],
                           j->money[lost_at]);
    else if (total != want_total)
        cd_verdict_observe(v, CD_VIOLATED, "all %ld transfers applied, but "
                           "the bank holds %ld, not %ld", moved, total,
                           want_total);
    else
        cd_verdict_observe(v, CD_HELD, "all %ld transfers applied, total "
                           "%ld kept", moved, total);
}

/* ---- livelock: the transfers of deadlock, and progress between tries ---- */

/* The bank's measures on top of deadlock's books: an attempt is a fraud
 * check; one that moved no money must log its conflict before the next
 * attempt of its teller (the bank's rule, and the conflict's cost); and
 * attempts in a row, all tellers together, without a move are counted
 * against CD_EX_LIVELOCK_TRIES. */
static void book_livelock(cd_judge_t *j, const cd_effect_t *e)
{
    switch (e->kind) {
    case CD_EFF_CALL:
        if (!key_ok(j, e->a, "teller"))
            return;
        if (j->unlogged[e->a])
            fault(j, "teller %ld tried transfer %ld again without logging "
                  "its conflict: the bank logs every failed attempt "
                  "(log_conflict) before it lets go", e->a + 1,
                  j->count[e->a] + 1);
        j->unlogged[e->a] = 1;
        if (++j->tries > j->most_tries)
            j->most_tries = j->tries;
        break;
    case CD_EFF_MOVE:
        j->tries = 0;
        if (key_ok(j, e->a, "teller"))
            j->unlogged[e->a] = 0;
        break;
    case CD_EFF_CONFLICT:
        if (key_ok(j, e->a, "teller"))
            j->unlogged[e->a] = 0;
        j->conflicts++;
        return;
    case CD_EFF_LIVELOCK:
        j->called = 1;
        return;
    default:
        break;
    }
    book_transfer(j, e);
}

static void finish_livelock(cd_judge_t *j, cd_verdict_t *v)
{
    long want = (long)j->plan.accounts * j->plan.transfers;
    long applied = 0;

    for (int t = 0; t < j->plan.accounts; t++)
        applied += j->count[t];
    finish_transfer(j, v);
    cd_verdict_expect(v, "all %ld transfers applied (the money moved), "
                      "never %d tries in a row without one, and the %ld in "
                      "the bank stays %ld", want, CD_EX_LIVELOCK_TRIES,
                      (long)CD_EX_START_BALANCE * j->plan.accounts,
                      (long)CD_EX_START_BALANCE * j->plan.accounts);
    cd_verdict_num(v, "conflicts", j->conflicts);
    cd_verdict_num(v, "most_tries_in_a_row", j->most_tries);
    if (j->called || j->most_tries >= CD_EX_LIVELOCK_TRIES)
        cd_verdict_observe(v, CD_LIVELOCK, "%ld tries in a row and not one "
                           "transfer between them (%ld conflicts logged): "
                           "the tellers stepped back and came back in step, "
                           "busy, never done; %ld of %ld transfers applied",
                           j->most_tries, j->conflicts, applied, want);
    else if (v->status == CD_HELD)
        cd_verdict_observe(v, CD_HELD, "all %ld transfers applied, total "
                           "%ld kept; %ld conflict%s, at most %ld tries in a "
                           "row", applied,
                           (long)CD_EX_START_BALANCE * j->plan.accounts,
                           j->conflicts, cd_plural(j->conflicts, "", "s"),
                           j->most_tries);
}

/* ---- starvation: reads share, the trimmer gets in, no work skipped ---- */

static int keys_readers(const cd_ex_plan_t *plan)
{
    return plan->readers;
}

static void book_window(cd_judge_t *j, const cd_effect_t *e)
{
    switch (e->kind) {
    case CD_EFF_CALL:
        if (!key_ok(j, e->a, "reader"))
            return;
        book_call(j, e);
        j->reads++;
        /* Came while the trimmer waited, and went in ahead of it. */
        if (j->waiting && e->b)
            j->past++;
        if (e->d > j->stalest_us)
            j->stalest_us = e->d;
        return;
    case CD_EFF_CALL_END:
        book_call(j, e);
        return;
    case CD_EFF_ASK:
        j->waiting = 1;
        j->past = 0;
        return;
    case CD_EFF_TRIM:
        if (j->waiting && j->past > j->most_past) {
            j->most_past = j->past;
            j->most_past_ns = e->d;
        }
        if (e->d > j->longest_ns)
            j->longest_ns = e->d;
        j->waiting = 0;
        j->trims++;
        j->in_storm += e->c != 0;
        return;
    default:
        fault(j, "a record (kind %ld) the starvation exercise does not "
              "make", e->kind, 0);
    }
}

static void finish_window(cd_judge_t *j, cd_verdict_t *v)
{
    const cd_ex_plan_t *pl = &j->plan;
    cd_verdict_expect(v, "at most %d reads go in ahead of the trimmer while "
                      "it waits for the write lock, and it makes its %d "
                      "trims while %d requests read the window",
                      CD_EX_MAX_PAST, pl->trims, pl->requests);
    cd_verdict_num(v, "reads", j->reads);
    cd_verdict_num(v, "writes", j->trims);
    cd_verdict_num(v, "most_reads_past_writer", j->most_past);
    cd_verdict_num(v, "longest_write_wait_us", j->longest_ns / 1000);
    cd_verdict_num(v, "most_reads_at_once", j->most);
    if (j->most_past > CD_EX_MAX_PAST)
        cd_verdict_observe(v, CD_VIOLATED, "the trimmer waited %.0f ms for "
                           "the write lock while %d reads went in ahead of "
                           "it; %d of %d trims came while the requests ran; "
                           "requests read a window up to %.0f ms stale",
                           (double)j->most_past_ns / 1e6, j->most_past,
                           j->in_storm, pl->trims,
                           (double)j->stalest_us / 1000);
    else if (j->trims != pl->trims || j->reads != pl->requests)
        cd_verdict_observe(v, CD_VIOLATED, "%d of %d trims made and %d of %d "
                           "requests read the window: work was %s", j->trims,
                           pl->trims, j->reads, pl->requests,
                           j->trims > pl->trims || j->reads > pl->requests
                               ? "done twice" : "skipped");
    else
        cd_verdict_observe(v, CD_HELD, "at most %d read%s went in ahead of "
                           "the waiting trimmer (longest wait %.1f ms); all "
                           "%d trims made, %d while the requests ran",
                           j->most_past, cd_plural(j->most_past, "", "s"),
                           (double)j->longest_ns / 1e6, j->trims,
                           j->in_storm);
}

/* ---- backpressure: lines delivered, or dropped and given up, counted ---- */

static int keys_workers(const cd_ex_plan_t *plan)
{
    return plan->workers;
}

static void book_lines(cd_judge_t *j, const cd_effect_t *e)
{
    switch (e->kind) {
    case CD_EFF_STORE:
        if (!key_ok(j, e->a, "worker"))
            return;
        /* Each worker's lines reach the store once, in order. */
        if (e->b < j->count2[e->a] || e->c < 1 ||
            (long)e->b + e->c > j->plan.lines)
            fault(j, "worker %ld's line %ld reached the store twice, out of "
                  "order, or without being logged", e->a + 1, e->b);
        else
            j->count[e->a] += e->c, j->count2[e->a] = (long)e->b + e->c;
        return;
    case CD_EFF_QUEUE:
        j->dropped = e->a;
        j->gave_up = e->b;
        j->refused = e->c;
        j->queue_told = 1;
        return;
    case CD_EFF_PEAK:
        j->peak_lines = e->a;
        j->peak_bytes = (long)e->d;
        return;
    case CD_EFF_KILLED:
        j->killed = 1;
        j->kill_depth = e->a;
        j->kill_produced = e->b;
        j->kill_bytes = (long)e->d;
        return;
    default:
        fault(j, "a record (kind %ld) the backpressure exercise does not "
              "make", e->kind, 0);
    }
}

static void finish_lines(cd_judge_t *j, cd_verdict_t *v)
{
    long asked = (long)j->plan.workers * j->plan.lines, delivered = 0;
    for (int w = 0; w < j->plan.workers; w++)
        delivered += j->count[w];
    long lost = asked - delivered - j->dropped - j->gave_up;

    cd_verdict_expect(v, "the log queue to stay within its 1 MiB budget and "
                      "every line to be delivered, dropped (counted) or "
                      "given up (counted)");
    cd_verdict_num(v, "produced", j->killed ? j->kill_produced : asked);
    cd_verdict_num(v, "delivered", delivered);
    cd_verdict_num(v, "dropped", j->dropped);
    cd_verdict_num(v, "given_up", j->gave_up);
    cd_verdict_num(v, "peak_depth", j->peak_lines);
    if (j->killed || j->peak_bytes > CD_EX_MEMORY_BUDGET)
        cd_verdict_observe(v, CD_VIOLATED, "the queue held %ld lines in a "
                           "buffer of %ld KiB, past the %ld KiB budget: the "
                           "process was killed and the lines still queued "
                           "were lost (%ld produced, %ld delivered)",
                           j->killed ? j->kill_depth : j->peak_lines,
                           (j->killed ? j->kill_bytes : j->peak_bytes) / 1024,
                           CD_EX_MEMORY_BUDGET / 1024,
                           j->killed ? j->kill_produced : asked, delivered);
    else if (!j->queue_told)
        cd_verdict_observe(v, CD_VIOLATED, "the run ended without its "
                           "queue's account (%ld of %ld lines delivered)",
                           delivered, asked);
    else if (lost != 0)
        cd_verdict_observe(v, CD_VIOLATED, "%ld of %ld lines unaccounted for: "
                           "%ld delivered, %ld dropped, %ld given up - lost "
                           "without a trace", lost, asked, delivered,
                           j->dropped, j->gave_up);
    else if (j->gave_up > j->refused)
        cd_verdict_observe(v, CD_VIOLATED, "%ld lines given up, but the queue "
                           "refused only %ld sends: a line is given up only "
                           "when the full queue says no (a timed send that "
                           "timed out, a try send that found it full)",
                           j->gave_up, j->refused);
    else if (delivered == 0)
        cd_verdict_observe(v, CD_VIOLATED, "none of the %ld lines reached the "
                           "log store (%ld dropped, %ld given up): nothing "
                           "was logged", asked, j->dropped, j->gave_up);
    else
        cd_verdict_observe(v, CD_HELD, "all %ld lines accounted for: %ld "
                           "delivered, %ld dropped, %ld given up; the queue "
                           "peaked at %ld lines (%ld KiB)", asked, delivered,
                           j->dropped, j->gave_up, j->peak_lines,
                           j->peak_bytes / 1024);
}

/* ---- await: every request finished, every cart saved whole ---- */

static int keys_users(const cd_ex_plan_t *plan)
{
    return plan->users;
}

static int sent_by(const cd_judge_t *j, int user)
{
    return user == 0 ? j->plan.clicks : 1;
}

static void book_carts(cd_judge_t *j, const cd_effect_t *e)
{
    switch (e->kind) {
    case CD_EFF_CALL:
    case CD_EFF_CALL_END:
        if (key_ok(j, e->a, "user"))
            book_call(j, e);
        return;
    case CD_EFF_SAVE:
        /* What the database holds: a save of the whole cart landed. */
        if (key_ok(j, e->a, "user") && e->b == sent_by(j, e->a))
            j->count[e->a]++;
        return;
    case CD_EFF_RETURNED:
        if (key_ok(j, e->a, "user"))
            j->count2[e->a]++;
        return;
    case CD_EFF_CART:
        if (key_ok(j, e->a, "user"))
            j->said[e->a] = e->b, j->said2[e->a] = e->c;
        return;
    default:
        fault(j, "a record (kind %ld) the await exercise does not make",
              e->kind, 0);
    }
}

static void finish_carts(cd_judge_t *j, cd_verdict_t *v)
{
    int users = j->plan.users, requests = users + j->plan.clicks - 1;
    long done = 0;
    int wrong = 0, first = -1, unsaved = -1;

    for (int u = 0; u < users; u++) {
        done += j->count2[u] < sent_by(j, u) ? j->count2[u] : sent_by(j, u);
        if (j->said[u] != sent_by(j, u) || j->said2[u] != j->said[u]) {
            wrong++;
            if (first < 0)
                first = u;
        } else if (unsaved < 0 && j->count[u] == 0) {
            unsaved = u;
        }
    }
    cd_verdict_expect(v, "all %d requests finish, every cart saved with all "
                      "its items", requests);
    cd_verdict_num(v, "completed", done);
    cd_verdict_num(v, "carts_wrong", wrong);
    if (done < requests) {
        cd_verdict_observe(v, CD_VIOLATED, "%ld of %d requests finished: a "
                           "worker stalled", done, requests);
    } else if (wrong) {
        long items = j->said[first] == LONG_MIN ? 0 : j->said[first];
        cd_verdict_observe(v, CD_VIOLATED, "%d cart%s wrong: user %d sent %d "
                           "request%s, the cart holds %ld item%s and the "
                           "database %ld", wrong, cd_plural(wrong, "", "s"),
                           first + 1, sent_by(j, first),
                           cd_plural(sent_by(j, first), "", "s"), items,
                           cd_plural(items, "", "s"),
                           j->said2[first] == LONG_MIN ? 0 : j->said2[first]);
    } else if (unsaved >= 0) {
        cd_verdict_observe(v, CD_VIOLATED, "user %d's cart says its %d "
                           "item%s were saved, but no save of the whole cart "
                           "reached the database", unsaved + 1,
                           sent_by(j, unsaved),
                           cd_plural(sent_by(j, unsaved), "", "s"));
    } else {
        cd_verdict_observe(v, CD_HELD, "all %ld requests finished on %d "
                           "worker%s, every cart saved", done, j->p.workers,
                           cd_plural(j->p.workers, "", "s"));
    }
}

/* ---- lost-wakeup: the runner goes on after each job ended ---- */

static int keys_jobs(const cd_ex_plan_t *plan)
{
    return plan->jobs;
}

/* Where in the books each job began (said), ended (count) and the
 * runner's await_done() for it returned (count2): records' numbers, so
 * that "returned before the job ended" is read from their order. The
 * worker's end and the runner's return are ordered by the hand-off
 * itself when it works (the index the books take is one atomic), and
 * under the controlled scheduler by the schedule. */
static void book_jobs(cd_judge_t *j, const cd_effect_t *e)
{
    switch (e->kind) {
    case CD_EFF_CALL:
        if (!key_ok(j, e->a, "job"))
            return;
        if (j->said[e->a] != LONG_MIN)
            fault(j, "job %ld began twice", e->a + 1, 0);
        j->said[e->a] = j->seq;
        return;
    case CD_EFF_CALL_END:
        if (!key_ok(j, e->a, "job"))
            return;
        if (j->said[e->a] == LONG_MIN || j->count[e->a])
            fault(j, "job %ld ended twice, or without beginning", e->a + 1,
                  0);
        j->count[e->a] = j->seq;
        return;
    case CD_EFF_RETURNED:
        if (!key_ok(j, e->a, "job"))
            return;
        if (j->count2[e->a])
            fault(j, "the runner went on twice after job %ld", e->a + 1, 0);
        j->count2[e->a] = j->seq;
        return;
    default:
        fault(j, "a record (kind %ld) the lost-wakeup exercise does not "
              "make", e->kind, 0);
    }
}

static void finish_jobs(cd_judge_t *j, cd_verdict_t *v)
{
    int n = j->plan.jobs, ended = 0, heard = 0, early = -1, waited = -1;

    for (int k = 0; k < n; k++) {
        long end = j->count[k], back = j->count2[k];
        ended += end != 0;
        heard += end && back > end;
        if (early < 0 && back && (!end || back < end))
            early = k;
        if (waited < 0 && end && !back)
            waited = k;
    }
    if (n == 1)
        cd_verdict_expect(v, "the runner's await_done() returns after its "
                          "job ended");
    else
        cd_verdict_expect(v, "the runner's await_done() returns after each "
                          "of its %d jobs ended", n);
    cd_verdict_num(v, "jobs", n);
    cd_verdict_num(v, "ended", ended);
    cd_verdict_num(v, "heard_done", heard);
    if (early >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "await_done() returned before "
                           "job %d had ended%s: the runner went on without "
                           "its result (%d of %d jobs heard done)",
                           early + 1,
                           j->count[early] ? "" : " (it never did)", heard,
                           n);
    else if (waited >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "job %d ended, but the runner's "
                           "await_done() never returned (%d of %d jobs "
                           "heard done)", waited + 1, heard, n);
    else if (ended < n)
        cd_verdict_observe(v, CD_VIOLATED, "%d of %d jobs ran: the runner "
                           "stopped before the rest", ended, n);
    else if (n == 1)
        cd_verdict_observe(v, CD_HELD, "the job ended, and the runner went "
                           "on after it");
    else
        cd_verdict_observe(v, CD_HELD, "all %d jobs ended, and the runner "
                           "went on after each", n);
}

/* ---- spurious: every ticket taken once, never from an empty rail ---- */

static int keys_rail(const cd_ex_plan_t *plan)
{
    return plan->tickets > plan->cooks ? plan->tickets : plan->cooks;
}

/* key names a ticket (or a cook) of this run: below `limit`. */
static int in_run(cd_judge_t *j, long key, int limit, const char *what)
{
    if (key >= 0 && key < limit)
        return 1;
    fault(j, what, key, 0);
    return 0;
}

static void book_rail(cd_judge_t *j, const cd_effect_t *e)
{
    switch (e->kind) {
    case CD_EFF_POST:
        if (!in_run(j, e->a, j->plan.tickets, "the rail was given ticket "
                    "%ld, which the till never had"))
            return;
        j->count2[e->a]++;
        j->late_post += j->closed;
        return;
    case CD_EFF_TAKE:
        if (!in_run(j, e->a, j->plan.cooks, "a take from the rail by a "
                    "thread that is no cook (%ld)"))
            return;
        if (e->b == -1) {
            /* The rail's own count said empty: nothing was there. */
            if (j->empty++ == 0)
                j->first_empty_cook = e->a;
        } else if (in_run(j, e->b, j->plan.tickets, "a take of ticket %ld, "
                          "which this run does not have")) {
            j->count[e->b]++;
        }
        return;
    case CD_EFF_CLOSE:
        j->closed = 1;
        return;
    case CD_EFF_RETURNED:
        if (!in_run(j, e->a, j->plan.cooks, "cook %ld went home, but this "
                    "run has no such cook"))
            return;
        j->home[e->a]++;
        j->early_home += !j->closed;
        return;
    default:
        fault(j, "a record (kind %ld) the spurious exercise does not make",
              e->kind, 0);
    }
}

static void finish_rail(cd_judge_t *j, cd_verdict_t *v)
{
    int tickets = j->plan.tickets, cooks = j->plan.cooks;
    long taken = 0, once = 0, unposted = 0, never = 0, twice = 0, home = 0;
    int not_home = -1, first_unposted = -1;

    for (int t = 0; t < tickets; t++) {
        taken += j->count[t];
        once += j->count[t] == 1;
        never += j->count[t] == 0;
        twice += j->count[t] > 1;
        if (j->count2[t] != 1 && unposted++ == 0)
            first_unposted = t;
    }
    for (int c = 0; c < cooks; c++) {
        home += j->home[c] == 1;
        if (j->home[c] != 1 && not_home < 0)
            not_home = c;
    }
    if (tickets == 1)
        cd_verdict_expect(v, "the ticket posted and taken once, no take from "
                          "an empty rail, all %d cook%s home at closing time",
                          cooks, cd_plural(cooks, "", "s"));
    else
        cd_verdict_expect(v, "%d tickets posted and taken once each, no take "
                          "from an empty rail, all %d cook%s home at closing "
                          "time", tickets, cooks, cd_plural(cooks, "", "s"));
    cd_verdict_num(v, "tickets", tickets);
    cd_verdict_num(v, "taken", taken);
    cd_verdict_num(v, "takes_from_empty", j->empty);
    cd_verdict_num(v, "cooks_home", home);
    if (j->empty)
        cd_verdict_observe(v, CD_VIOLATED, "%ld take%s from an empty rail "
                           "(cook-%ld first): a cook took with no ticket "
                           "there; %ld of %d ticket%s taken once", j->empty,
                           cd_plural(j->empty, "", "s"),
                           j->first_empty_cook + 1, once, tickets,
                           cd_plural(tickets, "", "s"));
    else if (unposted)
        cd_verdict_observe(v, CD_VIOLATED, "ticket %d reached the rail %ld "
                           "time%s: the till posts each ticket once",
                           first_unposted, j->count2[first_unposted],
                           cd_plural(j->count2[first_unposted], "", "s"));
    else if (j->late_post)
        cd_verdict_observe(v, CD_VIOLATED, "%ld ticket%s reached the rail "
                           "after closing time", j->late_post,
                           cd_plural(j->late_post, "", "s"));
    else if (never || twice)
        cd_verdict_observe(v, CD_VIOLATED, "%ld of %d ticket%s taken once "
                           "(%ld never, %ld twice or more)", once, tickets,
                           cd_plural(tickets, "", "s"), never, twice);
    else if (j->early_home)
        cd_verdict_observe(v, CD_VIOLATED, "%ld cook%s went home before "
                           "closing time: next_ticket() said the rail was "
                           "closed while it was open", j->early_home,
                           cd_plural(j->early_home, "", "s"));
    else if (home < cooks)
        cd_verdict_observe(v, CD_VIOLATED, "%ld of %d cooks went home at "
                           "closing time: cook %d %s", home, cooks,
                           not_home + 1, j->home[not_home] ? "was sent home "
                           "twice" : "never did (still waiting?)");
    else
        cd_verdict_observe(v, CD_HELD, "%d ticket%s taken once each by %d "
                           "cook%s, no take from an empty rail; every cook "
                           "home at closing time", tickets,
                           cd_plural(tickets, "", "s"), cooks,
                           cd_plural(cooks, "", "s"));
}

/* ---- order-violation: every request finds the one open connection ---- */

static int keys_handlers(const cd_ex_plan_t *plan)
{
    return plan->handlers;
}

/* found[] and first_bad[] by outcome: CD_EX_CONN_... + 2 (0..3). */
static void book_conn(cd_judge_t *j, const cd_effect_t *e)
{
    switch (e->kind) {
    case CD_EFF_CONNECT:
        j->connects++;
        return;
    case CD_EFF_USE:
        if (!key_ok(j, e->a, "handler"))
            return;
        if (e->b != j->count[e->a] || e->c < CD_EX_CONN_FOREIGN ||
            e->c > CD_EX_CONN_OPEN) {
            fault(j, "handler-%ld's request %ld is no request of this run",
                  e->a + 1, e->b + 1);
            return;
        }
        j->count[e->a]++;
        if (j->found[e->c + 2]++ == 0) {
            j->first_bad[e->c + 2][0] = e->a;
            j->first_bad[e->c + 2][1] = e->b;
        }
        return;
    default:
        fault(j, "a record (kind %ld) the order-violation exercise does "
              "not make", e->kind, 0);
    }
}

/* "N of M requests found X (handler-H's request R first)". */
static void observe_found(cd_judge_t *j, cd_verdict_t *v, int outcome,
                          int want, const char *what, const char *why)
{
    long n = j->found[outcome + 2];
    cd_verdict_observe(v, CD_VIOLATED, "%ld of %d request%s found %s "
                       "(handler-%ld's request %ld first): %s", n, want,
                       cd_plural(want, "", "s"), what,
                       j->first_bad[outcome + 2][0] + 1,
                       j->first_bad[outcome + 2][1] + 1, why);
}

static void finish_conn(cd_judge_t *j, cd_verdict_t *v)
{
    int want = j->plan.handlers * j->plan.per_handler, short_of = -1;
    long made = 0;

    for (int h = 0; h < j->plan.handlers; h++) {
        made += j->count[h];
        if (short_of < 0 && j->count[h] < j->plan.per_handler)
            short_of = h;
    }
    cd_verdict_expect(v, "each of %d request%s finds the database "
                      "connection open, made once", want,
                      cd_plural(want, "", "s"));
    cd_verdict_num(v, "requests", want);
    cd_verdict_num(v, "served", j->found[CD_EX_CONN_OPEN + 2]);
    cd_verdict_num(v, "used_before_creation", j->found[CD_EX_CONN_NONE + 2]);
    cd_verdict_num(v, "connects", j->connects);
    if (j->found[CD_EX_CONN_NONE + 2])
        observe_found(j, v, CD_EX_CONN_NONE, want, "no connection",
                      "get_conn() returned before start-up had made it");
    else if (j->found[CD_EX_CONN_HALF + 2])
        observe_found(j, v, CD_EX_CONN_HALF, want, "a connection still in "
                      "its handshake", "db_connect() had not returned it yet");
    else if (j->found[CD_EX_CONN_FOREIGN + 2])
        observe_found(j, v, CD_EX_CONN_FOREIGN, want, "a connection the "
                      "database never made", "only db_connect() makes one");
    else if (j->connects == 0)
        cd_verdict_observe(v, CD_VIOLATED, "the database was never "
                           "connected: start-up must call db_connect()");
    else if (j->connects > 1)
        cd_verdict_observe(v, CD_VIOLATED, "the database was connected %ld "
                           "times: the service makes its one connection "
                           "once", j->connects);
    else if (made < want)
        cd_verdict_observe(v, CD_VIOLATED, "only %ld of %d requests were "
                           "made: handler-%d made %ld of its %d", made, want,
                           short_of + 1, j->count[short_of],
                           j->plan.per_handler);
    else
        cd_verdict_observe(v, CD_HELD, "%s%d request%s served on the one "
                           "connection", want > 1 ? "all " : "", want,
                           cd_plural(want, "", "s"));
}

/* ---- philosophers: every meal eaten, with both forks, no fork shared ---- */

static int keys_diners(const cd_ex_plan_t *plan)
{
    return plan->diners;
}

/* The neighbour of diner d eating now (d's left, then its right), or -1. */
static long eating_neighbour(const cd_judge_t *j, long d)
{
    int n = j->plan.diners;
    long left = (d + n - 1) % n, right = (d + 1) % n;
    if (j->said[left] != LONG_MIN)
        return left;
    return j->said[right] != LONG_MIN ? right : -1;
}

static void book_meals(cd_judge_t *j, const cd_effect_t *e)
{
    switch (e->kind) {
    case CD_EFF_CALL:
        if (!key_ok(j, e->a, "diner"))
            return;
        book_call(j, e);
        if (j->said[e->a] != LONG_MIN)
            fault(j, "diner-%ld began a meal while still eating one (meal "
                  "%ld)", e->a + 1, j->count[e->a] + 1);
        if (e->b < 2 && j->bare_diner < 0)
            j->bare_diner = e->a, j->bare_forks = e->b;
        long other = eating_neighbour(j, e->a);
        if (other >= 0 && j->shared_diner < 0)
            j->shared_diner = e->a, j->shared_with = other;
        j->said[e->a] = j->seq;
        j->count[e->a]++;
        return;
    case CD_EFF_CALL_END:
        if (!key_ok(j, e->a, "diner"))
            return;
        book_call(j, e);
        if (j->said[e->a] == LONG_MIN)
            fault(j, "diner-%ld finished a meal it never began (meal %ld)",
                  e->a + 1, j->count[e->a]);
        j->said[e->a] = LONG_MIN;
        return;
    case CD_EFF_RETURNED:
        if (key_ok(j, e->a, "diner"))
            j->count2[e->a]++;
        return;
    default:
        fault(j, "a record (kind %ld) the philosophers exercise does not "
              "make", e->kind, 0);
    }
}

/* The fork diners a and b (neighbours) share, 1-based as named. */
static int shared_fork(int n, long a, long b)
{
    long right_of = (a + 1) % n == b ? a : b; /* b is a's right neighbour */
    if (n == 2)
        right_of = a; /* two diners share both forks: name a's right one */
    return (int)((right_of + 1) % n) + 1;
}

static void finish_meals(cd_judge_t *j, cd_verdict_t *v)
{
    int n = j->plan.diners, each = j->plan.meals;
    long want = (long)n * each, eaten = 0;
    int hungriest = 0, skipped = -1, greedy = -1;

    for (int d = 0; d < n; d++) {
        eaten += j->count[d];
        if (j->count[d] < j->count[hungriest])
            hungriest = d;
        if (skipped < 0 && j->count2[d] > j->count[d])
            skipped = d;
        if (greedy < 0 && j->count[d] > each)
            greedy = d;
    }
    cd_verdict_expect(v, "each of %d diners eats %d %s (%ld in all), "
                      "holding both its forks, never while a neighbour eats",
                      n, each, cd_plural(each, "meal", "meals"), want);
    cd_verdict_num(v, "meals", want);
    cd_verdict_num(v, "eaten", eaten);
    cd_verdict_num(v, "fewest_eaten", j->count[hungriest]);
    cd_verdict_num(v, "most_at_once", j->most);
    if (j->bare_diner >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "diner-%ld ate holding %ld of its "
                           "two forks: a meal needs both, held from before "
                           "it begins until it ends", j->bare_diner + 1,
                           j->bare_forks);
    else if (j->shared_diner >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "diner-%ld began to eat while "
                           "diner-%ld, its neighbour, was eating: fork-%d was "
                           "in two hands at once", j->shared_diner + 1,
                           j->shared_with + 1,
                           shared_fork(n, j->shared_diner, j->shared_with));
    else if (skipped >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "diner-%d ate %ld of %d %s, but "
                           "its meal() returned %ld %s: meals were skipped "
                           "and diner-%d went hungry (starved)", skipped + 1,
                           j->count[skipped], each,
                           cd_plural(each, "meal", "meals"),
                           j->count2[skipped],
                           cd_plural(j->count2[skipped], "time", "times"),
                           skipped + 1);
    else if (greedy >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "diner-%d ate %ld meals, not %d: "
                           "one meal() ate more than once", greedy + 1,
                           j->count[greedy], each);
    else if (eaten < want)
        cd_verdict_observe(v, CD_VIOLATED, "%ld of %ld meals eaten; the "
                           "hungriest diner, diner-%d, ate %ld", eaten, want,
                           hungriest + 1, j->count[hungriest]);
    else
        cd_verdict_observe(v, CD_HELD, "all %ld meals eaten, %d by each "
                           "diner, each with both forks; no fork in two "
                           "hands; up to %d meals at once", eaten, each,
                           j->most);
}

/* ---- publication: every record used was whole ---- */

static int keys_pool(const cd_ex_plan_t *plan)
{
    return plan->conns > plan->handlers ? plan->conns : plan->handlers;
}

static void book_pool(cd_judge_t *j, const cd_effect_t *e)
{
    switch (e->kind) {
    case CD_EFF_WRITTEN:
        if (in_run(j, e->a, j->plan.conns, "a record written for connection "
                   "%ld, which this run does not have"))
            j->count[e->a]++;
        return;
    case CD_EFF_READ:
        if (!in_run(j, e->a, j->plan.handlers, "a read by a thread that is "
                    "no handler (%ld)") ||
            !in_run(j, e->b, j->plan.conns, "a read of connection %ld, "
                    "which this run does not have"))
            return;
        if (e->c < CD_READ_WHOLE || e->c > CD_READ_WRONG) {
            fault(j, "a read whose record held what no read can (%ld)", e->c,
                  0);
            return;
        }
        j->count2[e->a]++;
        if (e->c == CD_READ_WHOLE)
            return;
        if (j->bad[CD_READ_STALE] + j->bad[CD_READ_TORN] +
            j->bad[CD_READ_WRONG] == 0) {
            j->bad_handler = e->a;
            j->bad_conn = e->b;
            j->bad_what = e->c;
        }
        j->bad[e->c]++;
        return;
    default:
        fault(j, "a record (kind %ld) the publication exercise does not make",
              e->kind, 0);
    }
}

static void finish_pool(cd_judge_t *j, cd_verdict_t *v)
{
    int handlers = j->plan.handlers, conns = j->plan.conns;
    long want = (long)handlers * conns, reads = 0;
    long stale = j->bad[CD_READ_STALE], torn = j->bad[CD_READ_TORN];
    long wrong = j->bad[CD_READ_WRONG];
    int short_of = -1, opened = -1;
    static const char *const held[] = {
        [CD_READ_STALE] = "before the handshake had written it (session 0): "
                          "the ready flag came before the data",
        [CD_READ_TORN] = "half written (one field of two): the ready flag "
                         "came before the whole record",
        [CD_READ_WRONG] = "with values its handshake never gave it: "
                          "take_ready() copies that connection's own record",
    };

    for (int h = 0; h < handlers; h++) {
        reads += j->count2[h];
        if (j->count2[h] != conns && short_of < 0)
            short_of = h;
    }
    for (int c = 0; c < conns; c++)
        if (j->count[c] != 1 && opened < 0)
            opened = c;
    cd_verdict_expect(v, "each of %d %s uses each of %d %s once, only once "
                      "its whole record is written: %ld %s, none stale or "
                      "torn", handlers, cd_plural(handlers, "handler",
                                                  "handlers"),
                      conns, cd_plural(conns, "connection", "connections"),
                      want, cd_plural(want, "read", "reads"));
    cd_verdict_num(v, "readers", handlers);
    cd_verdict_num(v, "connections", conns);
    cd_verdict_num(v, "reads", reads);
    cd_verdict_num(v, "stale_reads", stale);
    cd_verdict_num(v, "torn_reads", torn);
    if (stale + torn + wrong)
        cd_verdict_observe(v, CD_VIOLATED, "handler-%d was told connection "
                           "%d was ready and read its record %s (%ld of %ld "
                           "reads stale, %ld torn%s)", j->bad_handler + 1,
                           j->bad_conn + 1, held[j->bad_what], stale, reads,
                           torn, wrong ? ", some wrong" : "");
    else if (opened >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "connection %d was opened %ld "
                           "time%s: publish() opens each connection once, "
                           "with handshake()", opened + 1, j->count[opened],
                           cd_plural(j->count[opened], "", "s"));
    else if (short_of >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "handler-%d used %ld of the %d "
                           "connections (%ld of %ld reads)", short_of + 1,
                           j->count2[short_of], conns, reads, want);
    else
        cd_verdict_observe(v, CD_HELD, "%ld %s, each found the whole record "
                           "the handshake wrote; 0 stale, 0 torn", reads,
                           cd_plural(reads, "read", "reads"));
}

/* ---- stampede: database queries per key ---- */

static int keys_cache(const cd_ex_plan_t *plan)
{
    return plan->keys;
}

static void book_cache(cd_judge_t *j, const cd_effect_t *e)
{
    switch (e->kind) {
    case CD_EFF_CALL:
    case CD_EFF_CALL_END:
        if (!key_ok(j, e->a, "key"))
            return;
        book_call(j, e);
        if (e->kind == CD_EFF_CALL)
            j->count[e->a]++;
        return;
    case CD_EFF_RETURNED:
        if (!key_ok(j, e->a, "key"))
            return;
        j->count2[e->a]++;
        j->wrong_values += e->b != 1;
        return;
    default:
        fault(j, "a record (kind %ld) this exercise does not make",
              e->kind, 0);
    }
}

static void finish_cache(cd_judge_t *j, cd_verdict_t *v)
{
    int keys = j->plan.keys, each = j->plan.per_key;
    long queries = 0, most = 0, returned = 0, short_key = -1, unasked = -1;

    for (int k = 0; k < keys; k++) {
        queries += j->count[k];
        most = j->count[k] > most ? j->count[k] : most;
        if (unasked < 0 && j->count[k] == 0)
            unasked = k;
        returned += j->count2[k];
        if (short_key < 0 && j->count2[k] != each)
            short_key = k;
    }
    cd_verdict_expect(v, "one database query per key (%d keys, %d requests "
                      "each), every request served the stored value", keys,
                      each);
    cd_verdict_num(v, "queries", queries);
    cd_verdict_num(v, "max_queries_per_key", most);
    cd_verdict_num(v, "wrong_values", j->wrong_values);
    if (most > 1)
        cd_verdict_observe(v, CD_VIOLATED, "%ld database queries for %d "
                           "keys (up to %ld for one key): a cache stampede",
                           queries, keys, most);
    else if (j->wrong_values)
        cd_verdict_observe(v, CD_VIOLATED, "%ld of %d requests were served "
                           "a value the database does not hold",
                           j->wrong_values, keys * each);
    else if (unasked >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "key %ld was never asked of the "
                           "database: its value came from somewhere else",
                           unasked);
    else if (short_key >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "key %ld: %ld of its %d lookups "
                           "returned (%ld of %d in all)", short_key,
                           j->count2[short_key], each, returned,
                           keys * each);
    else
        cd_verdict_observe(v, CD_HELD, "%ld %s for %d keys, %ld requests "
                           "served the stored value", queries,
                           cd_plural(queries, "query", "queries"), keys,
                           returned);
}

/* ---- webhook: fulfilments per event ---- */

static int keys_events(const cd_ex_plan_t *plan)
{
    return plan->events;
}

static void book_ship(cd_judge_t *j, const cd_effect_t *e)
{
    book_call(j, e);
    if (e->kind == CD_EFF_SHIP && key_ok(j, e->a, "event"))
        j->count[e->a]++;
}

/* "(8 fulfilled 3 times, 1 never fulfilled)": the events fulfilled other
 * than once, the most often first. */
static void describe_shipments(const cd_judge_t *j, char *buf, size_t len)
{
    size_t at = 0;
    long most = 0, never = 0;
    buf[0] = '\0';
    for (int i = 0; i < j->plan.events; i++) {
        most = j->count[i] > most ? j->count[i] : most;
        never += j->count[i] == 0;
    }
    for (long times = most; times > 1 && at < len; times--) {
        long n = 0;
        for (int i = 0; i < j->plan.events; i++)
            n += j->count[i] == times;
        if (n == 0)
            continue;
        char how[32] = "twice";
        if (times > 2)
            snprintf(how, sizeof how, "%ld times", times);
        int w = snprintf(buf + at, len - at, "%s%ld fulfilled %s",
                         at ? ", " : "", n, how);
        at += w > 0 ? (size_t)w : 0;
    }
    if (never && at < len)
        snprintf(buf + at, len - at, "%s%ld never fulfilled",
                 at ? ", " : "", never);
}

static void finish_ship(cd_judge_t *j, cd_verdict_t *v)
{
    long total = 0, dup = 0, never = 0;
    char how[160];
    for (int i = 0; i < j->plan.events; i++) {
        total += j->count[i];
        dup += j->count[i] > 1;
        never += j->count[i] == 0;
    }
    describe_shipments(j, how, sizeof how);
    cd_verdict_expect(v, "each of %d %s fulfilled once, whatever the "
                      "retries", j->plan.events,
                      cd_plural(j->plan.events, "event", "events"));
    cd_verdict_num(v, "fulfilments", total);
    cd_verdict_num(v, "fulfilled_twice_or_more", dup);
    cd_verdict_num(v, "unfulfilled", never);
    if (dup || never)
        cd_verdict_observe(v, CD_VIOLATED, "%ld fulfilments for %d %s (%s)",
                           total, j->plan.events,
                           cd_plural(j->plan.events, "event", "events"), how);
    else
        cd_verdict_observe(v, CD_HELD, "%ld fulfilments for %d %s, each "
                           "once; %d deliveries", total, j->plan.events,
                           cd_plural(j->plan.events, "event", "events"),
                           j->plan.events * CD_EX_DELIVERIES);
}

/* ---- inventory: units sold per product, against its stock ---- */

/* One key per buyer: product p's buyer n (1-based) is p * buyers + n-1. */
static int keys_buyers(const cd_ex_plan_t *plan)
{
    return plan->products * plan->buyers;
}

/* count: payments per buyer; count2: units sold per product; home: cards
 * declined per product; said: each product's stock at the end. */
static void book_stock(cd_judge_t *j, const cd_effect_t *e)
{
    book_call(j, e);
    if (e->kind == CD_EFF_BALANCE && e->a >= 0 && e->a < j->plan.products) {
        j->said[e->a] = (long)e->d;
        return;
    }
    if (e->kind != CD_EFF_PAY)
        return;
    if (e->a < 0 || e->a >= j->plan.products || e->b < 1 ||
        e->b > j->plan.buyers) {
        fault(j, "the payment provider was asked to charge buyer %ld of "
              "product %ld, which this run does not have", e->b, e->a);
        return;
    }
    long k = (long)e->a * j->plan.buyers + e->b - 1;
    if (++j->count[k] > 1)
        fault(j, "buyer %ld of product %ld paid twice", e->b, e->a + 1);
    else if ((e->b - 1) % CD_EX_SALE_DECLINE_EVERY == 0)
        j->home[e->a]++;
    else
        j->count2[e->a]++;
}

static void finish_stock(cd_judge_t *j, cd_verdict_t *v)
{
    int stock = j->plan.stock;
    long sold = 0, declined = 0, left = 0, oversold = 0;
    int over = -1, lost = -1, unsold = -1, missing = -1;

    for (int p = 0; p < j->plan.products; p++) {
        long shelf = j->said[p];
        sold += j->count2[p];
        declined += j->home[p];
        if (shelf == LONG_MIN) {
            missing = missing < 0 ? p : missing;
            continue;
        }
        left += shelf > 0 ? shelf : 0;
        if (j->count2[p] > stock) {
            oversold += j->count2[p] - stock;
            over = over < 0 ? p : over;
        } else if (shelf != stock - j->count2[p]) {
            lost = lost < 0 ? p : lost;
        } else if (shelf > j->home[p]) {
            unsold = unsold < 0 ? p : unsold;
        }
    }
    cd_verdict_expect(v, "at most %d sold of %d in stock per product (%d "
                      "products, %d buyers each), every unsold unit back in "
                      "stock", stock, stock, j->plan.products,
                      j->plan.buyers);
    cd_verdict_num(v, "sold", sold);
    cd_verdict_num(v, "oversold", oversold);
    cd_verdict_num(v, "declined", declined);
    cd_verdict_num(v, "left_in_stock", left);
    if (missing >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "product %d's stock was never "
                           "counted: the run did not end", missing + 1);
    else if (over >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "product %d: %ld sold of %d in "
                           "stock, its stock %ld (%ld oversold in all)",
                           over + 1, j->count2[over], stock, j->said[over],
                           oversold);
    else if (lost >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "product %d: %ld sold of %d, but "
                           "%ld left in stock: %ld %s %s (%ld declined)",
                           lost + 1, j->count2[lost], stock, j->said[lost],
                           labs(stock - j->count2[lost] - j->said[lost]),
                           cd_plural(labs(stock - j->count2[lost] -
                                          j->said[lost]), "unit", "units"),
                           j->said[lost] < stock - j->count2[lost]
                               ? "lost" : "made up", j->home[lost]);
    else if (unsold >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "product %d: %ld of %d sold, %ld "
                           "left in stock with %ld %s declined: buyers left "
                           "while units were there to sell", unsold + 1,
                           j->count2[unsold], stock, j->said[unsold],
                           j->home[unsold],
                           cd_plural(j->home[unsold], "card", "cards"));
    else
        cd_verdict_observe(v, CD_HELD, "%ld sold of %d in stock across %d "
                           "products, none oversold; %ld declined, %ld left "
                           "in stock", sold, stock * j->plan.products,
                           j->plan.products, declined, left);
}

/* ---- counter and holdtime: what was kept, who came back short ---- */

/* Over keys 0..n-1 (counter's pages, holdtime's products): adds up what
 * was done to each (count2) into *done and what the service said it kept
 * (said) into *kept; *missing is the first key it said nothing of, or -1. */
static void tally_said(const cd_judge_t *j, int n, long *done, long *kept,
                       int *missing)
{
    *done = *kept = 0;
    *missing = -1;
    for (int k = 0; k < n; k++) {
        *done += j->count2[k];
        if (j->said[k] != LONG_MIN)
            *kept += j->said[k];
        else if (*missing < 0)
            *missing = k;
    }
}

/* The first handler whose count of calls returned is not the plan's
 * per_handler, or -1 when every one returned each time. */
static int first_short(const cd_judge_t *j, const long *returned)
{
    for (int h = 0; h < j->plan.handlers; h++)
        if (returned[h] != j->plan.per_handler)
            return h;
    return -1;
}

/* ---- counter: every view counted, each visitor a number of its own ---- */

/* The largest visitor number a page can see: every view of the run. */
static long views_in_run(const cd_ex_plan_t *plan)
{
    return (long)plan->handlers * plan->per_handler;
}

static int keys_views(const cd_ex_plan_t *plan)
{
    return (int)(plan->pages * views_in_run(plan));
}

static void book_view(cd_judge_t *j, const cd_effect_t *e)
{
    long views = views_in_run(&j->plan);
    book_call(j, e);
    switch (e->kind) {
    case CD_EFF_CALL:
        j->page_renders++;
        break;
    case CD_EFF_RETURNED:
        if (e->a < 0 || e->a >= j->plan.handlers || e->b < 0 ||
            e->b >= j->plan.pages) {
            fault(j, "handler %ld viewed page %ld, which this run does "
                  "not have", e->a, e->b);
            break;
        }
        j->home[e->a]++;
        j->count2[e->b]++;
        if (e->d < 1 || e->d > views) {
            fault(j, "a view of page %ld showed visitor number %ld, which "
                  "no view of this run can be", e->b + 1, (long)e->d);
            break;
        }
        if (j->count[e->b * views + e->d - 1]++ == 1) {
            if (j->twice_n++ == 0) {
                j->twice_page = e->b;
                j->twice_number = (long)e->d;
            }
        }
        break;
    case CD_EFF_BALANCE:
        if (e->a >= 0 && e->a < j->plan.pages)
            j->said[e->a] = (long)e->d;
        break;
    }
}

static void finish_views(cd_judge_t *j, cd_verdict_t *v)
{
    long served, counted;
    int missing;
    tally_said(j, j->plan.pages, &served, &counted, &missing);
    int short_handler = first_short(j, j->home);
    cd_verdict_expect(v, "every page view counted (%d handlers, %d %s "
                      "each, %d pages), each visitor of a page shown a "
                      "number of its own", j->plan.handlers,
                      j->plan.per_handler,
                      cd_plural(j->plan.per_handler, "view", "views"),
                      j->plan.pages);
    cd_verdict_num(v, "served", served);
    cd_verdict_num(v, "counted", counted);
    cd_verdict_num(v, "renders", j->page_renders);
    cd_verdict_num(v, "same_number_shown", j->twice_n);
    if (missing >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "page %d's count was never read: "
                           "the run did not end", missing + 1);
    else if (counted != served)
        cd_verdict_observe(v, CD_VIOLATED, "%ld views served, %ld counted: "
                           "%ld %s (a handler stored a count it had read "
                           "before another handler stored its own)", served,
                           counted, labs(served - counted),
                           counted < served ? "lost" : "made up");
    else if (j->twice_n)
        cd_verdict_observe(v, CD_VIOLATED, "visitor number %ld of page %ld "
                           "was shown to two visitors (%ld %s shown twice)",
                           j->twice_number, j->twice_page + 1, j->twice_n,
                           cd_plural(j->twice_n, "number", "numbers"));
    else if (short_handler >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "handler %d's count_view() "
                           "returned %ld of %d times", short_handler + 1,
                           j->home[short_handler], j->plan.per_handler);
    else if (j->page_renders < served)
        cd_verdict_observe(v, CD_VIOLATED, "%ld views, but only %ld pages "
                           "rendered: a view must render its page", served,
                           j->page_renders);
    else
        cd_verdict_observe(v, CD_HELD, "%ld views served, %ld counted, each "
                           "visitor a number of its own", served, counted);
}

/* ---- holdtime: sales kept, reports rendered, the dashboard ---- */

static int keys_board(const cd_ex_plan_t *plan)
{
    return plan->handlers > plan->products ? plan->handlers : plan->products;
}

static void book_board(cd_judge_t *j, const cd_effect_t *e)
{
    book_call(j, e);
    switch (e->kind) {
    case CD_EFF_CALL:
        j->renders++;
        break;
    case CD_EFF_PAY:
        if (e->a >= 0 && e->a < j->plan.products)
            j->count2[e->a]++;
        else
            fault(j, "the till sold product %ld, which the board does not "
                  "have (sale %ld)", e->a, e->b);
        break;
    case CD_EFF_BALANCE:
        if (e->a >= 0 && e->a < j->plan.products)
            j->said[e->a] = (long)e->d;
        break;
    case CD_EFF_RETURNED:
        if (key_ok(j, e->a, "handler") && e->a < j->plan.handlers)
            j->count[e->a]++;
        break;
    case CD_EFF_SAVE:
        if (e->a < j->shown_max && j->went_back++ == 0) {
            j->back_from = j->shown_max;
            j->back_to = e->a;
        }
        if (e->a > j->shown_max)
            j->shown_max = e->a;
        break;
    }
}

static void finish_board(cd_judge_t *j, cd_verdict_t *v)
{
    long sold, kept, refreshed = 0;
    int missing;
    tally_said(j, j->plan.products, &sold, &kept, &missing);
    for (int h = 0; h < j->plan.handlers; h++)
        refreshed += j->count[h];
    int short_handler = first_short(j, j->count);
    cd_verdict_expect(v, "every sale in the board's totals (%d sales), "
                      "every refresh rendered (%d handlers, %d each), the "
                      "dashboard never back to an older report",
                      j->plan.sales, j->plan.handlers, j->plan.per_handler);
    cd_verdict_num(v, "sales", sold);
    cd_verdict_num(v, "sales_in_totals", kept);
    cd_verdict_num(v, "renders", j->renders);
    cd_verdict_num(v, "went_back", j->went_back);
    if (missing >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "the board's sales of product "
                           "%d were never counted: the run did not end",
                           missing + 1);
    else if (kept != sold)
        cd_verdict_observe(v, CD_VIOLATED, "%ld of %ld sales %s the board's "
                           "totals (%ld counted): %s", labs(sold - kept),
                           sold, kept < sold ? "lost from" : "made up in",
                           kept, kept < sold
                               ? "a store put back a copy of the board over "
                                 "sales the till recorded meanwhile"
                               : "sales nobody made");
    else if (j->went_back)
        cd_verdict_observe(v, CD_VIOLATED, "the dashboard went back from a "
                           "report of version %ld to one of version %ld (%ld "
                           "%s): a report rendered from an older copy was "
                           "stored over a newer one", j->back_from,
                           j->back_to, j->went_back,
                           cd_plural(j->went_back, "time", "times"));
    else if (short_handler >= 0)
        cd_verdict_observe(v, CD_VIOLATED, "handler %d's refresh returned %ld "
                           "of %d times", short_handler + 1,
                           j->count[short_handler], j->plan.per_handler);
    else if (j->renders < refreshed)
        cd_verdict_observe(v, CD_VIOLATED, "%ld refreshes, but only %ld "
                           "%s rendered: a refresh must render", refreshed,
                           j->renders, cd_plural(j->renders, "report",
                                                 "reports"));
    else
        cd_verdict_observe(v, CD_HELD, "every sale in the totals (%ld), %ld "
                           "refreshes with %ld renders, the dashboard never "
                           "went back", kept, refreshed, j->renders);
}

/* ---- offload: the other requests' latency while a login hashes ---- */

static int keys_requests(const cd_ex_plan_t *plan)
{
    return plan->others;
}

static void book_latency(cd_judge_t *j, const cd_effect_t *e)
{
    book_call(j, e);
    if (e->kind == CD_EFF_CALL)
        j->hashes++;
    else if (e->kind == CD_EFF_CALL_END)
        j->hashed++;
    else if (e->kind == CD_EFF_RETURNED && e->a == -1) {
        j->logins++;
        j->unhashed += e->b != 1;
    } else if (e->kind == CD_EFF_RETURNED && key_ok(j, e->a, "request")) {
        j->count[e->a]++;
        j->said[e->a] = (long)e->d;
    }
}

static int by_long(const void *x, const void *y)
{
    long a = *(const long *)x, b = *(const long *)y;
    return (a > b) - (a < b);
}

static void finish_latency(cd_judge_t *j, cd_verdict_t *v)
{
    int n = j->plan.others, answered = 0, twice = 0;
    long *lat = malloc((size_t)n * sizeof *lat);
    for (int i = 0; lat && i < n; i++) {
        answered += j->count[i] > 0;
        twice += j->count[i] > 1;
        lat[i] = j->said[i];
    }
    cd_verdict_expect(v, "the login returns with its password hashed, and "
                      "the other %d requests are answered with p99 latency "
                      "within %d ms", n, CD_EX_OFFLOAD_P99_US / 1000);
    cd_verdict_num(v, "answered", answered);
    cd_verdict_num(v, "hashes", j->hashed);
    if (!lat) {
        cd_verdict_observe(v, CD_ERROR, "no memory to sort %d latencies", n);
        return;
    }
    qsort(lat, (size_t)n, sizeof *lat, by_long);
    long p50 = lat[(n * 50 + 99) / 100 - 1], p99 = lat[(n * 99 + 99) / 100 - 1];
    free(lat);
    cd_verdict_num(v, "p50_us", p50 / 1000);
    cd_verdict_num(v, "p99_us", p99 / 1000);
    if (j->logins != 1)
        cd_verdict_observe(v, CD_VIOLATED, "login() returned %ld times, not "
                           "once: the run did not end", j->logins);
    else if (j->unhashed)
        cd_verdict_observe(v, CD_VIOLATED, "login() returned before the "
                           "password was hashed (%ld of %ld hashes finished "
                           "by then)", j->hashed, j->hashes);
    else if (answered < n || twice)
        cd_verdict_observe(v, CD_VIOLATED, "%d of %d requests answered%s",
                           answered, n, twice ? ", some twice" : "");
    else if (p99 > (long)CD_EX_OFFLOAD_P99_US * 1000)
        cd_verdict_observe(v, CD_VIOLATED, "while the login ran, the other "
                           "requests waited: latency p50 %.1f ms, p99 %.1f "
                           "ms, over the %d ms objective: the event loop "
                           "answered nobody while the password was hashed",
                           p50 / 1e6, p99 / 1e6, CD_EX_OFFLOAD_P99_US / 1000);
    else
        cd_verdict_observe(v, CD_HELD, "the login returned with its password "
                           "hashed; the other %d requests: latency p50 %.3f "
                           "ms, p99 %.3f ms, within the %d ms objective", n,
                           p50 / 1e6, p99 / 1e6, CD_EX_OFFLOAD_P99_US / 1000);
}

/* ---- orphans: what a checkout's subtasks did after it gave up ---- */

#define ALL_ACTED 7 /* reserve, charge and email: bits 0, 1, 2 */

static void book_checkout(cd_judge_t *j, const cd_effect_t *e)
{
    book_call(j, e);
    if ((e->kind != CD_EFF_CALL_END && e->kind != CD_EFF_RETURNED) ||
        !key_ok(j, e->a, "order"))
        return;
    long a = e->a;
    if (e->kind == CD_EFF_CALL_END) {
        if (e->b >= 0 && e->b < 3)
            j->count[a] |= 1L << e->b;
        if (j->said[a] != LONG_MIN && j->acts_after_report++ == 0)
            j->first_after_report = a;
        if (j->count2[a] > 0 && j->acts_after_return++ == 0)
            j->first_after_return = a;
    } else if (e->b == 1 && j->said[a] == LONG_MIN) {
        j->said[a] = (long)e->d;
        if (e->c == 1 && (j->count[a] & 2) && j->charged_then_failed++ == 0)
            j->first_charged = a;
    } else if (e->b == 0) {
        j->count2[a]++;
        if (j->said[a] == LONG_MIN && j->count[a] != ALL_ACTED &&
            j->silent++ == 0)
            j->first_silent = a;
    }
}

static void finish_checkout(cd_judge_t *j, cd_verdict_t *v)
{
    long failed = 0, returned = 0, charged = 0;
    for (int i = 0; i < j->plan.orders; i++) {
        failed += j->said[i] != LONG_MIN;
        returned += j->count2[i] > 0;
        charged += (j->count[i] & 2) != 0;
    }
    cd_verdict_expect(v, "each of %d checkouts answers within %d ms; nothing "
                      "acts after a failure is reported or after its "
                      "checkout returned", j->plan.orders,
                      CD_EX_CHECKOUT_MS);
    cd_verdict_num(v, "failed", failed);
    cd_verdict_num(v, "charged", charged);
    cd_verdict_num(v, "after_failure", j->acts_after_report);
    cd_verdict_num(v, "after_return", j->acts_after_return);
    if (returned < j->plan.orders)
        cd_verdict_observe(v, CD_VIOLATED, "%ld of %d checkouts returned: "
                           "the run did not end", returned, j->plan.orders);
    else if (j->acts_after_report)
        cd_verdict_observe(v, CD_VIOLATED, "%ld subtask%s acted after the "
                           "failure was reported (order %ld first): the "
                           "timeout stopped the waiting, not the work",
                           j->acts_after_report,
                           j->acts_after_report == 1 ? "" : "s",
                           j->first_after_report + 1);
    else if (j->acts_after_return)
        cd_verdict_observe(v, CD_VIOLATED, "%ld subtask%s acted after %s "
                           "checkout had returned (order %ld first): a "
                           "subtask outlived its request",
                           j->acts_after_return,
                           j->acts_after_return == 1 ? "" : "s",
                           j->acts_after_return == 1 ? "its" : "their",
                           j->first_after_return + 1);
    else if (j->charged_then_failed)
        cd_verdict_observe(v, CD_VIOLATED, "order %ld's card was charged, "
                           "then its failure reported (%ld ms after the "
                           "checkout began): the timeout was checked, not "
                           "enforced", j->first_charged + 1,
                           j->said[j->first_charged] / 1000000);
    else if (j->silent)
        cd_verdict_observe(v, CD_VIOLATED, "order %ld's checkout returned "
                           "with its subtasks not all done and no failure "
                           "reported", j->first_silent + 1);
    else
        cd_verdict_observe(v, CD_HELD, "%ld of %d checkouts failed on time; "
                           "nothing acted after a failure was reported or a "
                           "checkout returned", failed, j->plan.orders);
}

static const rules_t rules[] = {
    { "race", keys_orders, book_pay, finish_race },
    { "deadlock", keys_accounts, book_transfer, finish_transfer },
    { "starvation", keys_readers, book_window, finish_window },
    { "backpressure", keys_workers, book_lines, finish_lines },
    { "await", keys_users, book_carts, finish_carts },
    { "async-race", keys_orders, book_pay, finish_race },
    { "lost-wakeup", keys_jobs, book_jobs, finish_jobs },
    { "spurious", keys_rail, book_rail, finish_rail },
    { "order-violation", keys_handlers, book_conn, finish_conn },
    { "philosophers", keys_diners, book_meals, finish_meals },
    { "publication", keys_pool, book_pool, finish_pool },
    { "livelock", keys_accounts, book_livelock, finish_livelock },
    { "stampede", keys_cache, book_cache, finish_cache },
    { "webhook", keys_events, book_ship, finish_ship },
    { "inventory", keys_buyers, book_stock, finish_stock },
    { "counter", keys_views, book_view, finish_views },
    { "holdtime", keys_board, book_board, finish_board },
    { "orphans", keys_orders, book_checkout, finish_checkout },
    { "offload", keys_requests, book_latency, finish_latency },
};

/* ============================== the judge's life ========================= */

static long *longs(int n, long value)
{
    long *a = malloc(sizeof *a * (size_t)(n > 0 ? n : 1));
    for (int i = 0; a && i < n; i++)
        a[i] = value;
    return a;
}

cd_judge_t *cd_judge_new(const char *name, const cd_params_t *p)
{
    const rules_t *r = NULL;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (name && strcmp(rules[i].name, name) == 0)
            r = &rules[i];
    cd_judge_t *j = r ? calloc(1, sizeof *j) : NULL;
    if (!j)
        return NULL;
    j->r = r;
    j->p = *p;
    if (cd_ex_plan(name, p, &j->plan) != 0) {
        free(j);
        return NULL;
    }
    j->nkeys = r->keys(&j->plan);
    int money = j->plan.customers > j->nkeys ? j->plan.customers : j->nkeys;
    j->count = longs(j->nkeys, 0);
    j->count2 = longs(j->nkeys, 0);
    j->money = longs(money, CD_EX_START_BALANCE);
    j->said = longs(j->nkeys, LONG_MIN);
    j->said2 = longs(j->nkeys, LONG_MIN);
    j->check = calloc((size_t)j->nkeys + 1, sizeof *j->check);
    j->checked = calloc((size_t)j->nkeys + 1, sizeof *j->checked);
    j->cap_used = (long)j->plan.accounts * j->plan.transfers;
    j->used = calloc((size_t)j->cap_used + 1, sizeof *j->used);
    j->home = longs(j->nkeys, 0);
    j->bare_diner = j->shared_diner = -1;
    j->unlogged = calloc((size_t)j->nkeys + 1, sizeof *j->unlogged);
    if (!j->unlogged || !j->count || !j->count2 || !j->money || !j->said || !j->said2 ||
        !j->check || !j->checked || !j->used || !j->home) {
        cd_judge_free(j);
        return NULL;
    }
    return j;
}

void cd_judge_apply(cd_judge_t *j, const cd_effect_t *e)
{
    j->seq++;
    if (e->kind == CD_EFF_RUN || e->kind == CD_EFF_RUN_END ||
        (e->kind >= CD_EFF_STAGE && e->kind <= CD_EFF_REFUSED))
        return;
    if (e->kind < CD_EFF_CALL || e->kind >= CD_EFF_KINDS) {
        fault(j, "a record of no known kind (%ld)", e->kind, 0);
        return;
    }
    j->r->book(j, e);
}

void cd_judge_finish(cd_judge_t *j, long lost, cd_verdict_t *v, int *most)
{
    memset(v, 0, sizeof *v);
    j->r->finish(j, v);
    /* A fault outweighs whatever the counts say. */
    if (lost > 0)
        cd_verdict_observe(v, CD_VIOLATED, "the run made %ld more calls to "
                           "the services than its books have room for (%zu "
                           "records): far more than the work needs", lost,
                           j->plan.max_records);
    else if (j->fault[0])
        cd_verdict_observe(v, CD_VIOLATED, "%s", j->fault);
    if (most)
        *most = j->most;
}

void cd_judge_free(cd_judge_t *j)
{
    if (!j)
        return;
    free(j->count);
    free(j->count2);
    free(j->money);
    free(j->said);
    free(j->said2);
    free(j->check);
    free(j->checked);
    free(j->used);
    free(j->home);
    free(j->unlogged);
    free(j);
}

/* ======================= the books of the run in progress ================ */

/* One run at a time in the exercise's program. The index is atomic and
 * relaxed: the books must not order the threads that write in them. */
static struct {
    int fd;
    cd_effect_t *buf;  /* room for cap records and the run's end */
    size_t cap, size;
    atomic_long n;     /* records put (past cap: counted, not kept) */
    const char *name;
    cd_params_t params;
    int open, last_most;
} led = { .fd = -1 };

void cd_ledger_set_fd(int fd)
{
    led.fd = fd;
}

/* Writes len bytes to the checker; after an error, writes nothing more
 * (the checker counts what is missing). */
static void send_bytes(const void *data, size_t len)
{
    const char *p = data;
    while (led.fd >= 0 && len > 0) {
        ssize_t w = write(led.fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            led.fd = -1;
            break;
        }
        p += w;
        len -= (size_t)w;
    }
}

void cd_ledger_send(int kind, int a, int b)
{
    cd_effect_t e = { .kind = kind, .a = a, .b = b };
    if (led.fd >= 0 && write(led.fd, &e, sizeof e) != (ssize_t)sizeof e)
        led.fd = -1; /* one write: a pipe takes it whole or not at all */
}

int cd_ledger_begin(const char *name, const cd_params_t *p)
{
    cd_ex_plan_t plan;
    led.open = 0;
    led.name = name;
    led.params = *p;
    atomic_store_explicit(&led.n, 0, memory_order_relaxed);
    if (cd_ex_plan(name, p, &plan) != 0)
        return -1;
    if (plan.max_records + 2 > led.size) {
        cd_effect_t *bigger = realloc(led.buf, sizeof *bigger *
                                                   (plan.max_records + 2));
        if (!bigger)
            return -1;
        led.buf = bigger;
        led.size = plan.max_records + 2;
    }
    led.cap = plan.max_records;
    led.open = 1;
    cd_ledger_put(CD_EFF_RUN, p->threads, p->iterations, p->workers, 0);
    return 0;
}

void cd_ledger_put(int kind, int a, int b, int c, int64_t d)
{
    long i = atomic_fetch_add_explicit(&led.n, 1, memory_order_relaxed);
    if (led.open && (size_t)i < led.cap)
        led.buf[i] = (cd_effect_t){ .kind = kind, .a = a, .b = b, .c = c,
                                    .d = d };
}

void cd_ledger_end(cd_verdict_t *v)
{
    long n = atomic_load_explicit(&led.n, memory_order_relaxed);
    size_t kept = led.open ? ((size_t)n < led.cap ? (size_t)n : led.cap) : 0;
    long lost = (long)(n - (long)kept);
    cd_judge_t *j = led.open ? cd_judge_new(led.name, &led.params) : NULL;

    led.last_most = 0;
    if (!j) {
        memset(v, 0, sizeof *v);
        cd_verdict_observe(v, CD_ERROR, "could not open the run's books");
        led.open = 0;
        return;
    }
    led.buf[kept] = (cd_effect_t){ .kind = CD_EFF_RUN_END,
                                   .a = lost > INT32_MAX ? INT32_MAX
                                                         : (int32_t)lost };
    for (size_t i = 0; i < kept; i++)
        cd_judge_apply(j, &led.buf[i]);
    cd_judge_finish(j, lost, v, &led.last_most);
    cd_judge_free(j);
    send_bytes(led.buf, sizeof *led.buf * (kept + 1));
    led.open = 0;
}

void cd_ledger_end_error(cd_verdict_t *v, int failed, const char *fmt, ...)
{
    cd_ledger_end(v);
    if (!failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    cd_verdict_vobserve(v, CD_ERROR, fmt, ap);
    va_end(ap);
}

int cd_ledger_last_most(void)
{
    return led.last_most;
}
