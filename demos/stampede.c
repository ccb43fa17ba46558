/*
 * stampede.c - a cache stampede: every request for a cold key queries the
 * database.
 *
 * The pitfall: a read-through cache in front of a slow database (a query
 * takes 20 ms). A request checks the cache; on a miss it queries the
 * database and fills the cache, so that the next request is a hit. Then a
 * cold key gets 50 requests at once (a deploy emptied the cache, a popular
 * page went live): each checks, each misses - the first query is still
 * out, the cache still empty - and each queries. 50 identical queries for
 * one key; with a few hot keys the database "falls over". It happens on
 * one worker thread too: the await of the query lets the next request in
 * between its check and the fill. There is no data race: the cache's gets
 * and sets are each atomic (it is another system, like a Redis), so
 * ThreadSanitizer rightly reports nothing. The bug is check-then-fill.
 *
 * Symptom: queries per key = requests per key; the database saw them all
 *          in flight at once; a clean ThreadSanitizer run.
 * Run:     concdemo stampede                  the broken read-through
 *          concdemo stampede --fixed=keyed    an awaitable lock per cache
 *              key, and a second check under it: one query per key, the
 *              other requests of that key wait and then hit (recommended)
 *          concdemo stampede --fixed=singleflight  the first caller for a
 *              key starts the query; later callers await its result
 * Lesson:  lessons/13-stampede.md
 *
 * Request r (1-based) asks for key (r-1) % KEYS, so the keys' requests
 * arrive interleaved; tasks are spread round-robin over the workers (one
 * by default). --iterations is the number of requests per key.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/cd_amutex.h"
#include "../lib/cd_exec.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "support.h" /* scenario.h, and how a run is driven */

#define KEYS 3
#define QUERY_USEC 20000 /* the database takes 20 ms per query */

/* A flight: one key's query under way, and its result (singleflight). */
typedef struct flight {
    int started;        /* a caller leads this key's query (under calls) */
    cd_amutex_t landed; /* held by the leader until value is set */
    int value;          /* the leader's result; read after landed */
} flight_t;

typedef struct app {
    int variant, per_key, nrequests, nworkers;
    /* The cache is another system (a Redis): each get and set is atomic;
     * 0 means "not cached". What it cannot do is make check-then-fill one
     * step. */
    atomic_int cache[KEYS];
    cd_akeyed_t key_lock;      /* fix "keyed": one lock per cache key */
    int key_lock_ready;
    cd_amutex_t calls;         /* fix "singleflight": guards started */
    flight_t flights[KEYS];
    /* The database's own books: queries per key, in flight, the most. */
    atomic_int queries[KEYS], in_flight, max_in_flight;
    atomic_int wrong;          /* requests that got a wrong value */
    int g_done, g_queries, g_in_flight; /* live figures (gauges) */
} app_t;

/* What the database holds for key: never 0 (0 is "not cached"). */
static int stored_value(int key) { return 1000 + key; }

static void raise_max(atomic_int *max, int value)
{
    int m = atomic_load(max);
    while (value > m && !atomic_compare_exchange_weak(max, &m, value))
        ;
}

/* The slow database: every query costs it 20 ms, however many it gets. */
static int db_query(app_t *a, int key)
{
    atomic_fetch_add(&a->queries[key], 1);
    raise_max(&a->max_in_flight, atomic_fetch_add(&a->in_flight, 1) + 1);
    cd_reg_gauge_add(a->g_queries, 1);
    cd_reg_gauge_add(a->g_in_flight, 1);
    cd_await_latency("database", QUERY_USEC);
    atomic_fetch_sub(&a->in_flight, 1);
    cd_reg_gauge_add(a->g_in_flight, -1);
    return stored_value(key);
}

static int cache_get(app_t *a, int key)
{
    return atomic_load_explicit(&a->cache[key], memory_order_acquire);
}

static void cache_set(app_t *a, int key, int value)
{
    atomic_store_explicit(&a->cache[key], value, memory_order_release);
}

/* ===================== the read-through, side by side ===================== */

/* Broken: check, miss, query, fill - and the query's await lets every
 * other request for the key check the still empty cache. */
static int get_broken(app_t *a, int key)
{
    cd_point("check cache");
    int v = cache_get(a, key);
    if (!v) {                    /* BUG: all of the key's requests miss... */
        v = db_query(a, key);    /* ...because this await lets them in */
        cache_set(a, key, v);    /* ...before the first one fills it. */
    }
    return v;
}

/* Fix "keyed": on a miss, take the key's awaitable lock and check again.
 * The first request queries and fills while the others park on the lock;
 * they find the value when their turn comes. Other keys go on. */
static int get_keyed(app_t *a, int key)
{
    cd_point("check cache");
    int v = cache_get(a, key);
    if (!v) {
        cd_akeyed_lock(&a->key_lock, key);    /* FIX: one query per key */
        cd_point("check again");
        v = cache_get(a, key);                /* FIX: filled meanwhile? */
        if (!v) {
            v = db_query(a, key);
            cache_set(a, key, v);
        }
        cd_akeyed_unlock(&a->key_lock, key);  /* FIX */
    }
    return v;
}

/* Fix "singleflight": on a miss, the first caller for the key leads: it
 * holds the key's flight while it queries; later callers await the
 * flight and take the leader's result. The claim (calls) is short: no
 * await inside it. */
static int get_singleflight(app_t *a, int key)
{
    flight_t *f = &a->flights[key];
    cd_point("check cache");
    int v = cache_get(a, key);
    if (!v) {
        cd_amutex_lock(&a->calls);            /* FIX: who is first? */
        int first = !f->started;
        if (first) {
            f->started = 1;
            cd_amutex_lock(&f->landed);       /* FIX: the leader's flight */
        }
        cd_amutex_unlock(&a->calls);
        if (first) {
            f->value = db_query(a, key);
            cache_set(a, key, f->value);
        } else {
            cd_amutex_lock(&f->landed);       /* FIX: await the leader */
        }
        v = f->value;
        cd_amutex_unlock(&f->landed);
    }
    return v;
}

static int (*const get[])(app_t *, int) = {
    get_broken, get_keyed, get_singleflight,
};

/* ================================ harness ================================ */

/* Request k asks for key k % KEYS: every key is asked for per_key times. */
static void request_task(void *app, int k)
{
    app_t *a = app;
    int key = k % KEYS;
    if (get[a->variant](a, key) != stored_value(key))
        atomic_fetch_add(&a->wrong, 1);
    cd_reg_gauge_add(a->g_done, 1);
}

static void register_figures(app_t *a)
{
    cd_reg_gauge_set(cd_reg_gauge("keys"), KEYS);
    cd_demo_figures("requests", a->nrequests, "requests done", &a->g_done,
                    "database queries", &a->g_queries, "queries in flight",
                    &a->g_in_flight, NULL);
}

static int setup(void *state, const cd_params_t *p, int variant)
{
    app_t *a = state;
    a->variant = variant;
    a->per_key = p->iterations;
    a->nrequests = KEYS * p->iterations;
    a->nworkers = p->workers;
    atomic_init(&a->in_flight, 0);
    atomic_init(&a->max_in_flight, 0);
    atomic_init(&a->wrong, 0);
    for (int k = 0; k < KEYS; k++) {
        atomic_init(&a->cache[k], 0);
        atomic_init(&a->queries[k], 0);
    }
    register_figures(a);
    if (cd_akeyed_init(&a->key_lock, "cache-key", KEYS) != 0)
        return -1;
    a->key_lock_ready = 1;
    if (cd_amutex_init(&a->calls, "calls") != 0)
        return -1;
    for (int k = 0; k < KEYS; k++) {
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "flight[%d]", k);
        if (cd_amutex_init(&a->flights[k].landed, name) != 0)
            return -1;
    }
    return 0;
}

static void teardown(void *state)
{
    app_t *a = state;
    for (int k = 0; k < KEYS; k++)
        if (a->flights[k].landed.id > 0)
            cd_amutex_destroy(&a->flights[k].landed);
    if (a->calls.id > 0)
        cd_amutex_destroy(&a->calls);
    if (a->key_lock_ready)
        cd_akeyed_destroy(&a->key_lock);
}

/* Spawns every request and runs them. Returns 0 or -1. */
static int serve(void *state, cd_verdict_t *v)
{
    app_t *a = state;
    return cd_demo_run_batch(&(cd_demo_batch_t){
        .n = a->nrequests, .nworkers = a->nworkers, .what = "request",
        .prefix = "request", .each = request_task, .ctx = a }, v);
}

/* Invariant: one database query per key, and every request served the
 * database's value. */
static void check(void *state, int64_t ns, cd_verdict_t *v)
{
    app_t *a = state;
    double ms = (double)ns / 1e6;
    int total = 0, most = 0;
    for (int k = 0; k < KEYS; k++) {
        int q = atomic_load(&a->queries[k]);
        total += q;
        most = q > most ? q : most;
    }
    int wrong = atomic_load(&a->wrong);
    int max = atomic_load(&a->max_in_flight);

    cd_verdict_expect(v, "one database query per key (%d keys, %d requests "
                      "each), every request served the stored value", KEYS,
                      a->per_key);
    cd_verdict_num(v, "keys", KEYS);
    cd_verdict_num(v, "requests", a->nrequests);
    cd_verdict_num(v, "queries", total);
    cd_verdict_num(v, "max_queries_per_key", most);
    cd_verdict_num(v, "max_queries_at_once", max);
    cd_verdict_num(v, "wrong_values", wrong);
    cd_verdict_num(v, "workers", a->nworkers);
    cd_verdict_num(v, "elapsed_us", (int64_t)(ms * 1000));
    char per_key[48], wrongs[64] = "";
    snprintf(per_key, sizeof per_key, total == most * KEYS ? "%d per key"
             : "up to %d per key", most);
    if (wrong)
        snprintf(wrongs, sizeof wrongs, "; %d of %d requests served a wrong "
                 "value", wrong, a->nrequests);
    if (total > KEYS || wrong)
        cd_verdict_observe(v, CD_VIOLATED,
                           "%d database %s for %d keys (%s), up to %d at "
                           "once%s%s", total, cd_plural(total, "query",
                           "queries"), KEYS, per_key, max, wrongs,
                           total <= KEYS ? ""
                           : a->nworkers == 1
                               ? "; no data race: one thread, every request "
                                 "checked before the first query returned "
                                 "(the await)"
                               : "; no data race: each cache get and set is "
                                 "atomic, check-then-fill is not");
    else
        cd_verdict_observe(v, CD_HELD,
                           "%d queries for %d keys, %d requests served; the "
                           "keys' queries overlapped (up to %d at once), "
                           "%.1f ms", total, KEYS, a->nrequests, max, ms);
}

void cd_stampede_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    app_t a = { 0 };
    cd_demo_run(&(cd_demo_steps_t){ setup, serve, check, teardown,
                                    "the cache" }, &a, p, variant, v);
}
