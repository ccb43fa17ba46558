/*
 * scenarios.c - the table of scenarios and the verdict helpers.
 *
 * Each scenario's name, title, pitfall, worksheet, variants and sizes live
 * here, in its entry; its behaviour lives in demos/NAME.c, which exports
 * only its run function (cd_NAME_run, declared in scenario.h).
 *
 * Adding a scenario: write demos/<name>.c exporting cd_<name>_run, declare
 * it in scenario.h, write its entry below and add it to the table. The
 * table is the one list of scenarios: its worksheet, exercise, answer and
 * decoys are found by the name (the checklist is in docs/ARCHITECTURE.md,
 * "Adding a scenario").
 */
#include "scenario.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ============================== the scenarios ============================
 *
 * One entry per scenario, its variants right above it. A variant's number
 * is its place in the array: [0] is broken, and a demo's tables of
 * functions (its enum of variants, where it has one) follow this order.
 */

static const cd_variant_t race_variants[] = {
    { "broken", "check status, charge (2 ms), then mark paid: no lock" },
    { "mutex", "one shop-wide lock around check, charge and mark" },
    { "keyed", "one lock per customer: other customers run in parallel" },
    { "cas", "atomic compare-and-swap pending -> charging claims the order" },
};

static const cd_scenario_t race = {
    .name = "race",
    .title = "the double charge",
    .pitfall = "check-then-act across a slow call charges a customer twice",
    .lesson = "lessons/01-race.md",
    CD_VARIANTS(race_variants),
    .recommended = 2,
    .defaults = { .threads = 4, .iterations = 8 },
    .min = { .threads = 1, .iterations = 1 },
    .max = { .threads = 256, .iterations = 5000 },
    .explore = { .threads = 2, .iterations = 1 },
    .fibers = 1,
    .run = cd_race_run,
};

static const cd_variant_t deadlock_variants[] = {
    { "broken", "lock from, fraud check (2 ms), lock to: opposite orders" },
    { "ordering", "lock the lower account id first, whatever the direction" },
    { "timeout", "timed lock on the second account; release, back off, retry" },
};

static const cd_scenario_t deadlock = {
    .name = "deadlock",
    .title = "the ABBA deadlock",
    .pitfall = "two transfers lock the same two accounts in opposite order",
    .lesson = "lessons/02-deadlock.md",
    CD_VARIANTS(deadlock_variants),
    .recommended = 1,
    /* Ten transfers each way: even if one thread starts late (a loaded
     * machine), the other is still transferring when it arrives. */
    .defaults = { .threads = 2, .iterations = 10 },
    .min = { .threads = 2, .iterations = 1 },
    .max = { .threads = 64, .iterations = 10000 },
    .explore = { .threads = 2, .iterations = 1 },
    .fibers = 1,
    .run = cd_deadlock_run,
};

static const cd_variant_t starvation_variants[] = {
    { "broken", "glibc's default rwlock: readers walk past a waiting writer" },
    { "writer-pref", "writer-preferring rwlock: a waiting writer stops new "
                     "readers" },
    { "fair", "first-come-first-served rwlock: nobody overtakes a waiter" },
};

static const cd_scenario_t starvation = {
    .name = "starvation",
    .title = "the starving writer",
    .pitfall = "a reader-preferring rwlock lets overlapping readers shut a "
               "writer out",
    .lesson = "lessons/03-starvation.md",
    CD_VARIANTS(starvation_variants),
    .recommended = 1,
    .defaults = { .threads = 6, .iterations = 300 },
    .min = { .threads = 4, .iterations = 20 },
    .max = { .threads = CD_STARVATION_READERS, .iterations = 100000 },
    /* Two trims, each with a storm of reads around it: enough for every
     * strategy to find the broken lock at its first schedule. */
    .explore = { .threads = 4, .iterations = 40 },
    .fibers = 1,
    .run = cd_starvation_run,
};

static const cd_variant_t backpressure_variants[] = {
    { "broken", "unbounded log queue: workers never wait, the backlog grows" },
    { "bounded", "at most 128 lines queued: a full queue makes workers wait" },
    { "drop", "try to send; when the queue is full, shed the line and count it" },
    { "timeout", "wait at most 1 ms for room, then give the line up and report it" },
};

static const cd_scenario_t backpressure = {
    .name = "backpressure",
    .title = "the logger that eats all memory",
    .pitfall = "an unbounded queue hides a consumer 10x slower than its "
               "producer, until memory runs out",
    .lesson = "lessons/04-backpressure.md",
    CD_VARIANTS(backpressure_variants),
    .recommended = 1, /* bounded */
    .defaults = { .threads = 1, .iterations = 3000, .budget_kib = 1024 },
    .min = { .threads = 1, .iterations = 10, .budget_kib = 16 },
    .max = { .threads = 8, .iterations = 100000, .budget_kib = 1 << 20 },
    /* The bug is growth past a budget: explore needs a burst that passes
     * it. A smaller machine, the same story: 300 lines against 96 KiB
     * (the fixes' 128 lines take 64 KiB; an unbounded queue passes the
     * budget at 129), so that each schedule is ten times shorter than at
     * the full size (1 MiB, 3,000 lines). */
    .explore = { .threads = 1, .iterations = 300, .budget_kib = 96 },
    .fibers = 1,
    .run = cd_backpressure_run,
};

static const cd_variant_t await_variants[] = {
    { "broken", "blocking session lock held across the 5 ms save await" },
    { "async-mutex", "awaitable session lock: a waiting task parks, the "
                     "worker runs others" },
    { "scope", "blocking lock only around the edits: copy, let go, await "
               "the save, lock again to write back" },
};

static const cd_scenario_t await = {
    .name = "await",
    .title = "the stalled executor",
    .pitfall = "a blocking lock held across an await blocks the worker that "
               "must resume its holder",
    .lesson = "lessons/05-await.md",
    CD_VARIANTS(await_variants),
    .recommended = 1,
    .defaults = { .iterations = 8, .workers = 1 },
    .min = { .iterations = 1, .workers = 1 },
    .max = { .iterations = 64, .workers = 8 },
    .run = cd_await_run,
};

static const cd_variant_t async_race_variants[] = {
    { "broken", "check status, await the gateway (2 ms), mark paid: no lock" },
    { "keyed", "an awaitable lock per customer: same customer in turn, "
               "others overlap" },
    { "mutex", "one awaitable lock for the shop: one checkout at a time" },
};

static const cd_scenario_t async_race = {
    .name = "async-race",
    .title = "the double charge without threads",
    .pitfall = "one thread is no protection: an await lets another task in "
               "between check and act",
    .lesson = "lessons/06-async-race.md",
    CD_VARIANTS(async_race_variants),
    .recommended = 1,
    .defaults = { .iterations = 6, .workers = 1 },
    .min = { .iterations = 1, .workers = 1 },
    .max = { .iterations = 200, .workers = 4 },
    .run = cd_async_race_run,
};

static const cd_variant_t lost_wakeup_variants[] = {
    { "broken", "start the worker, set up (20 ms), then wait for its signal" },
    { "state", "a done flag set and checked under the lock, waited in a while" },
    { "sem", "the worker posts a semaphore, which keeps the post for the wait" },
};

static const cd_scenario_t lost_wakeup = {
    .name = "lost-wakeup",
    .title = "the lost wake-up",
    .pitfall = "a signal sent before anyone waits is lost; the waiter sleeps "
               "for ever",
    .lesson = "lessons/07-lost-wakeup.md",
    CD_VARIANTS(lost_wakeup_variants),
    .recommended = 1,
    .defaults = { .iterations = 3 },
    .min = { .iterations = 1 },
    .max = { .iterations = 1000 },
    .explore = { .iterations = 1 },
    .fibers = 1,
    .run = cd_lost_wakeup_run,
};

static const cd_variant_t spurious_variants[] = {
    { "broken", "cooks wait with if on the till's condition variable" },
    { "while", "cooks look again after every wake-up (while, not if)" },
    { "two-conds", "cooks and till wait on their own condition variables, "
                   "cooks in a while" },
};

static const cd_scenario_t spurious = {
    .name = "spurious",
    .title = "if instead of while",
    .pitfall = "a cook trusts a wake-up (if, not while) and takes from an "
               "empty rail",
    .lesson = "lessons/08-spurious.md",
    CD_VARIANTS(spurious_variants),
    .recommended = 1,
    .defaults = { .threads = 2, .iterations = 4 },
    .min = { .threads = 1, .iterations = 1 },
    .max = { .threads = 16, .iterations = 1000 },
    .explore = { .threads = 2, .iterations = 2 },
    .fibers = 1,
    .run = cd_spurious_run,
};

static const cd_variant_t order_violation_variants[] = {
    { "broken", "start-up connects (20 ms), then stores it: "
                 "handlers do not wait" },
    { "cond", "handlers wait for \"ready\" on a condition variable" },
    { "join", "the handlers start after start-up is joined" },
    { "once", "the first to need it connects, under a lock, once" },
};

static const cd_scenario_t order_violation = {
    .name = "order-violation",
    .title = "the connection used before it exists",
    .pitfall = "a handler uses the connection before start-up has made it",
    .lesson = "lessons/09-order-violation.md",
    CD_VARIANTS(order_violation_variants),
    .recommended = 1, /* cond */
    .defaults = { .threads = 2, .iterations = 4 },
    .min = { .threads = 1, .iterations = 1 },
    .max = { .threads = 64, .iterations = 1000 },
    .explore = { .threads = 1, .iterations = 1 },
    .fibers = 1,
    .run = cd_order_violation_run,
};

static const cd_variant_t philosophers_variants[] = {
    { "broken", "left fork, reach (5 ms), right fork: the waits go round" },
    { "ordering", "the last diner takes the right fork first" },
    { "waiter", "a semaphore seats at most one diner fewer than there are" },
    { "timeout", "timed wait for the right fork; put the left back, retry" },
};

static const cd_scenario_t philosophers = {
    .name = "philosophers",
    .title = "the dining philosophers",
    .pitfall = "five diners each hold the left fork and wait for the right",
    .lesson = "lessons/10-philosophers.md",
    CD_VARIANTS(philosophers_variants),
    .recommended = 1,
    /* Ten meals each: a diner that starts late still finds the others
     * at the table, so the ring closes on a loaded machine too. */
    .defaults = { .threads = 5, .iterations = 10 },
    .min = { .threads = 2, .iterations = 1 },
    .max = { .threads = 64, .iterations = 1000 },
    .explore = { .threads = 2, .iterations = 1 },
    .fibers = 1,
    .run = cd_philosophers_run,
};

static const cd_variant_t publication_variants[] = {
    { "broken", "ready flag raised, handshake (2 ms), then the session "
                "written; relaxed flag" },
    { "release-acquire", "session written, then the flag with a release "
                         "store; handlers load it with acquire" },
    { "mutex", "session and flag written, and read, under one lock" },
};

static const cd_scenario_t publication = {
    .name = "publication",
    .title = "the early flag",
    .pitfall = "a ready flag raised before the record it guards is written "
               "hands readers stale data",
    .lesson = "lessons/11-publication.md",
    CD_VARIANTS(publication_variants),
    .recommended = 1,
    .defaults = { .threads = 4, .iterations = 8 },
    .min = { .threads = 1, .iterations = 1 },
    .max = { .threads = CD_PUBLICATION_HANDLERS, .iterations = 1000 },
    .explore = { .threads = 1, .iterations = 1 },
    .fibers = 1,
    .run = cd_publication_run,
};

static const cd_variant_t livelock_variants[] = {
    { "broken", "lock from, fraud check (15 ms), try to; on failure step back "
                "and retry on the next 50 ms tick" },
    { "ordering", "lock the lower account id first and wait for the second: "
                  "no retries" },
    { "backoff", "the same polite try; a retry waits a random pause that "
                 "doubles (20 ms, 40 ms, ... 320 ms at most)" },
};

static const cd_scenario_t livelock = {
    .name = "livelock",
    .title = "the polite transfers",
    .pitfall = "two transfers step back from each other and retry in "
               "lockstep: busy, never done",
    .lesson = "lessons/12-livelock.md",
    CD_VARIANTS(livelock_variants),
    .recommended = 1,
    /* Twenty transfers each way: a round that slips on a busy machine lets
     * one through, and the lockstep is back long before the work runs
     * out. */
    .defaults = { .threads = 2, .iterations = 20 },
    .min = { .threads = 2, .iterations = 1 },
    .max = { .threads = CD_LIVELOCK_TELLERS, .iterations = 10000 },
    .explore = { .threads = 2, .iterations = 1 },
    /* The bug is made of timing: tellers that retry on one clock. */
    .explore_on_time = 1,
    /* A round is 50 ms already: x10 makes the view's livelock 10 s. */
    .view_permille = 10000,
    .fibers = 1,
    .run = cd_livelock_run,
};

static const cd_variant_t stampede_variants[] = {
    { "broken", "check the cache, miss, query the database (20 ms), fill: "
                "every request of a cold key queries" },
    { "keyed", "an awaitable lock per cache key and a second check under "
               "it: one query per key, keys in parallel" },
    { "singleflight", "the first caller for a key queries; later callers "
                      "await its result" },
};

static const cd_scenario_t stampede = {
    .name = "stampede",
    .title = "the cache stampede",
    .pitfall = "check the cache, miss, query, fill: every request for a "
               "cold key queries the database at once",
    .lesson = "lessons/13-stampede.md",
    CD_VARIANTS(stampede_variants),
    .recommended = 1,
    .defaults = { .iterations = 50, .workers = 1 },
    /* Two requests per key are enough for two queries of one key. */
    .min = { .iterations = 2, .workers = 1 },
    .max = { .iterations = 150, .workers = 4 },
    .run = cd_stampede_run,
};

static const cd_variant_t webhook_variants[] = {
    { "broken", "check the processed record, await the fulfilment (3 ms), "
                "record the event: no lock" },
    { "keyed", "an awaitable lock per event id around check, fulfil and "
               "record: retries in turn, other events overlap" },
    { "idempotency", "claim the event id first (an insert that fails if "
                     "present); only the claim's winner fulfils" },
};

static const cd_scenario_t webhook = {
    .name = "webhook",
    .title = "the retried webhook",
    .pitfall = "a retry arrives while the first delivery awaits: check, "
               "await, record fulfils the order three times",
    .lesson = "lessons/14-webhook.md",
    CD_VARIANTS(webhook_variants),
    .recommended = 1,
    .defaults = { .iterations = 8, .workers = 1 },
    .min = { .iterations = 1, .workers = 1 },
    .max = { .iterations = 200, .workers = 4 },
    .run = cd_webhook_run,
};

static const cd_variant_t inventory_variants[] = {
    { "broken", "check stock, await the payment (2 ms), decrement: no lock" },
    { "keyed", "an awaitable lock per product: one buyer per product at a "
               "time, products in parallel" },
    { "reserve", "take the unit first (compare-and-swap, never below 0), "
                 "pay, give it back if declined" },
};

static const cd_scenario_t inventory = {
    .name = "inventory",
    .title = "the oversold stock",
    .pitfall = "check stock, await the payment, decrement: every buyer "
               "passes the check before anyone takes a unit",
    .lesson = "lessons/15-inventory.md",
    CD_VARIANTS(inventory_variants),
    .recommended = 1,
    .defaults = { .iterations = 40, .workers = 1 },
    .min = { .iterations = 4, .workers = 1 },
    .max = { .iterations = 100, .workers = 4 },
    .run = cd_inventory_run,
};

static const cd_variant_t counter_variants[] = {
    { "broken", "read the count, render (2 ms), store count+1: no lock" },
    { "mutex", "increment under a lock, render after letting go" },
    { "actor", "one thread owns the map: increments over a channel, the "
               "count back on a oneshot" },
    { "atomic", "atomic fetch-and-add per page" },
};

static const cd_scenario_t counter = {
    .name = "counter",
    .title = "lost page views",
    .pitfall = "an unlocked read-modify-write from many handlers loses counts",
    .lesson = "lessons/16-counter.md",
    CD_VARIANTS(counter_variants),
    .recommended = 2,
    .defaults = { .threads = 4, .iterations = 6 },
    .min = { .threads = 1, .iterations = 1 },
    .max = { .threads = 64, .iterations = 2000 },
    .explore = { .threads = 2, .iterations = 1 },
    .fibers = 1,
    .run = cd_counter_run,
};

static const cd_variant_t broadcast_variants[] = {
    { "broken", "a queue per edge, unbounded: a slow edge's backlog grows "
                "with every update" },
    { "bounded", "one broadcast ring of 16: a lagging edge is told how many "
                 "it missed and skips to the newest" },
};

static const cd_scenario_t broadcast = {
    .name = "broadcast",
    .title = "the config fan-out that one slow subscriber fills up",
    .pitfall = "a queue per subscriber holds every update a slow one has "
               "not read: memory grows with the updates sent",
    .lesson = "lessons/18-broadcast.md",
    CD_VARIANTS(broadcast_variants),
    .recommended = 1, /* bounded */
    .defaults = { .threads = 3, .iterations = 200 },
    .min = { .threads = 1, .iterations = 1 },
    .max = { .threads = 16, .iterations = 20000 },
    .explore = { .threads = 2, .iterations = 48 },
    /* The view's latencies x10: the slow edge's 200 updates take 4 s. */
    .view_permille = 10000,
    .fibers = 1,
    .run = cd_broadcast_run,
};

static const cd_variant_t db_race_variants[] = {
    { "broken", "SELECT status, gateway (2 ms), UPDATE, INSERT: autocommit" },
    { "local-mutex", "the race fix: a keyed lock per customer in each "
                     "instance (wrong: still double charges)" },
    { "cas", "UPDATE ... SET status='charging' WHERE status='pending'; "
             "charge only if one row changed" },
    { "tx", "one transaction that takes the write lock first (SQLite "
            "BEGIN IMMEDIATE, PostgreSQL SELECT ... FOR UPDATE)" },
    { "unique", "an idempotency key: a UNIQUE charge per order, inserted "
                "before the gateway is called" },
    { "advisory", "PostgreSQL only: pg_advisory_xact_lock on the customer, "
                  "a lock every instance shares" },
    { "deferred", "BEGIN (SQLite deferred, PostgreSQL REPEATABLE READ), "
                  "read, then write: fails without a retry loop" },
};

static const cd_scenario_t db_race = {
    .name = "db-race",
    .title = "the double charge across processes",
    .pitfall = "instances sharing a database: a lock in one process's "
               "memory does not reach the others",
    .lesson = "lessons/19-db-race.md",
    CD_VARIANTS(db_race_variants),
    .recommended = 2, /* cas */
    .defaults = { .instances = 4, .iterations = 16 },
    .min = { .instances = 1, .iterations = 1 },
    .max = { .instances = 64, .iterations = 5000 },
    .explore = { .instances = 2, .iterations = 1 },
    .run = cd_db_race_run,
    .instance_main = cd_db_race_instance_main,
};

static const cd_variant_t holdtime_variants[] = {
    { "broken", "render the report (5 ms) holding the board's lock: one "
                "handler at a time" },
    { "copy-out", "copy under the lock, render the copy unlocked, lock again "
                  "to store it only if newer" },
    { "no-check", "a wrong fix: copy out and render, then put the whole copy "
                  "back with no version check: sales lost" },
};

static const cd_scenario_t holdtime = {
    .name = "holdtime",
    .title = "the report rendered under the lock",
    .pitfall = "a 5 ms report computed holding the state's lock: eight "
               "handlers run one at a time",
    .lesson = "lessons/17-holdtime.md",
    CD_VARIANTS(holdtime_variants),
    .recommended = 1,
    .wrong_fixes = 1u << 2, /* no-check */
    .defaults = { .threads = 8, .iterations = 4 },
    .min = { .threads = 2, .iterations = 1 },
    .max = { .threads = 64, .iterations = 100 },
    .explore = { .threads = 2, .iterations = 1 },
    .fibers = 1,
    .run = cd_holdtime_run,
};

static const cd_variant_t chat_variants[] = {
    { "broken", "the broadcaster writes to every member with the room "
                "lock held" },
    { "outbox", "member list copied under the lock; a bounded outbox per "
                "client, drained by its own writer task; drop oldest "
                "(--slow-policy=disconnect: hang up after 16)" },
};

static const cd_scenario_t chat = {
    .name = "chat",
    .title = "the room that one slow reader froze",
    .pitfall = "a broadcaster holds the room lock while it writes to every "
               "member: a client that stops reading stalls the room",
    .lesson = "lessons/20-chat.md",
    CD_VARIANTS(chat_variants),
    .recommended = 1,
    .serves = 1,
    /* iterations: the lines each fast client says; 3 before the slow
     * client joins, so at least one after it. */
    .defaults = { .threads = 4, .iterations = 40, .workers = 1 },
    .min = { .threads = 1, .iterations = 4, .workers = 1 },
    .max = { .threads = CD_CHAT_CLIENTS - 1, .iterations = CD_CHAT_MSGS,
             .workers = 4 },
    /* Explore: one fast client, 5 lines - the stall comes with the 4th,
     * and a schedule is over in ~150 us on the in-memory network that
     * every controlled run has (lib/cd_io.h). */
    .explore = { .threads = 1, .iterations = 5, .workers = 1 },
    .run = cd_chat_run,
};

static const cd_variant_t orphans_variants[] = {
    { "broken", "subtasks spawned and forgotten; the 50 ms timeout only "
                "stops the waiting" },
    { "scope", "subtasks in a task scope with the 50 ms deadline: cancelled "
               "at their next await, awaited by the close" },
};

static const cd_scenario_t orphans = {
    .name = "orphans",
    .title = "the card charged after the checkout failed",
    .pitfall = "a request that gives up after a timeout leaves its subtasks "
               "running: they act after the failure was reported",
    .lesson = "lessons/21-orphans.md",
    CD_VARIANTS(orphans_variants),
    .recommended = 1,
    .defaults = { .iterations = 4, .workers = 1 },
    .min = { .iterations = 1, .workers = 1 },
    .max = { .iterations = 64, .workers = 8 },
    .run = cd_orphans_run,
};

static const cd_variant_t offload_variants[] = {
    { "broken", "the login hashes its password (200 ms of CPU) on the event "
                "loop: every request behind it waits" },
    { "offload", "the hash runs on the offload pool (cd_exec_offload): the "
                 "login awaits it, the loop keeps serving" },
};

static const cd_scenario_t offload = {
    .name = "offload",
    .title = "the frozen event loop",
    .pitfall = "CPU-heavy work in a task holds the event loop: every other "
               "request waits for it",
    .lesson = "lessons/22-offload.md",
    CD_VARIANTS(offload_variants),
    .recommended = 1,
    .defaults = { .iterations = 100, .workers = 1 },
    .min = { .iterations = 10, .workers = 1 },
    .max = { .iterations = 400, .workers = 8 },
    .explore = { .iterations = 10, .workers = 1 },
    /* The pitfall is made of time: a schedule search that ended the
     * hash's counted time early would measure nothing. */
    .explore_on_time = 1,
    .view_permille = 10000,
    .run = cd_offload_run,
};

/* In the order `concdemo list` shows them. */
static const cd_scenario_t *const table[] = {
    &race, &deadlock, &starvation, &backpressure, &await, &async_race,
    &lost_wakeup, &spurious, &order_violation, &philosophers, &publication,
    &livelock, &stampede, &webhook, &inventory, &counter, &broadcast,
    &db_race, &holdtime, &chat, &orphans, &offload,
};

/* ========================== finding, and verdicts ======================= */

const cd_scenario_t *const *cd_scenarios(int *count)
{
    *count = (int)(sizeof table / sizeof table[0]);
    return table;
}

const cd_scenario_t *cd_scenario_find(const char *name)
{
    int n;
    const cd_scenario_t *const *all = cd_scenarios(&n);
    for (int i = 0; i < n; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

int cd_scenario_variant(const cd_scenario_t *s, const char *name)
{
    for (int i = 0; i < s->nvariants; i++)
        if (strcmp(s->variants[i].name, name) == 0)
            return i;
    return -1;
}

void cd_verdict_expect(cd_verdict_t *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->expected, sizeof v->expected, fmt, ap);
    va_end(ap);
}

void cd_verdict_observe(cd_verdict_t *v, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cd_verdict_vobserve(v, status, fmt, ap);
    va_end(ap);
}

void cd_verdict_vobserve(cd_verdict_t *v, int status, const char *fmt,
                         va_list ap)
{
    vsnprintf(v->observed, sizeof v->observed, fmt, ap);
    v->status = status;
}

static cd_fig_t *new_fig(cd_verdict_t *v, const char *key)
{
    if (v->nfigs >= CD_MAX_FIGS)
        return NULL;
    cd_fig_t *f = &v->figs[v->nfigs++];
    memset(f, 0, sizeof *f);
    snprintf(f->key, sizeof f->key, "%s", key);
    return f;
}

void cd_verdict_num(cd_verdict_t *v, const char *key, int64_t value)
{
    cd_fig_t *f = new_fig(v, key);
    if (f) {
        f->is_num = 1;
        f->num = value;
    }
}

void cd_verdict_str(cd_verdict_t *v, const char *key, const char *fmt, ...)
{
    cd_fig_t *f = new_fig(v, key);
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->str, sizeof f->str, fmt, ap);
    va_end(ap);
}

int64_t cd_verdict_get_num(const cd_verdict_t *v, const char *key)
{
    for (int i = 0; i < v->nfigs; i++)
        if (v->figs[i].is_num && strcmp(v->figs[i].key, key) == 0)
            return v->figs[i].num;
    return -1;
}

const char *cd_verdict_get_str(const cd_verdict_t *v, const char *key)
{
    for (int i = 0; i < v->nfigs; i++)
        if (!v->figs[i].is_num && strcmp(v->figs[i].key, key) == 0)
            return v->figs[i].str;
    return NULL;
}

const char *cd_status_name(int status)
{
    switch (status) {
    case CD_HELD: return "HELD";
    case CD_VIOLATED: return "VIOLATED";
    case CD_DEADLOCK: return "DEADLOCK";
    case CD_TIMEOUT: return "TIMEOUT";
    case CD_POTENTIAL: return "POTENTIAL DEADLOCK";
    case CD_STOPPED: return "STOPPED";
    case CD_STUCK: return "STUCK";
    case CD_LIVELOCK: return "LIVELOCK";
    default: return "ERROR";
    }
}

const char *cd_plural(long n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}
