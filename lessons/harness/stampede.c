/*
 * stampede.c - the harness of the exercise stampede (the learner's part:
 * lessons/exercises/stampede.c, its interface: stampede.h).
 *
 * Every request for every key, spawned one after the other (the keys
 * interleaved) and spread round-robin over the workers; the cache and
 * the database and its books; then the invariant, judged from them.
 * Everything here but cache_get(), cache_set(), db_query() and
 * cd_exercise is static: the learner's file cannot reach it, and the
 * build refuses a learner's file that defines a name beyond stampede.h.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd_exec.h"
#include "cd_registry.h"
#include "harness/exercise.h"
#include "harness/stampede.h"
#include "harness/tasks.h"
#include "../../cli/ledger.h"

#define QUERY_USEC 20000 /* the database takes 20 ms per query */

/* The cache: one run at a time in the exercise's program. Atomic per
 * operation, as a real cache server is. */
static atomic_int cache[CD_EX_KEYS];

/* What the database holds for key: never 0 (0 is "not cached"). */
static int stored_value(int key) { return 1000 + key; }

static int key_in_range(int key) { return key >= 0 && key < CD_EX_KEYS; }

int cache_get(int key)
{
    return key_in_range(key)
               ? atomic_load_explicit(&cache[key], memory_order_acquire)
               : 0;
}

void cache_set(int key, int value)
{
    if (key_in_range(key))
        atomic_store_explicit(&cache[key], value, memory_order_release);
}

/* The database is another system: every query is in the books
 * (cli/ledger.h), its start and its end. */
int db_query(int key)
{
    cd_ledger_put(CD_EFF_CALL, key, 0, 0, 0);
    cd_await_latency("database", QUERY_USEC);
    cd_ledger_put(CD_EFF_CALL_END, key, 0, 0, 0);
    return key_in_range(key) ? stored_value(key) : 0;
}

typedef struct job {
    int request, key;
} job_t;

/* One request to the front (ctx): the value it was served goes in the
 * books, right or not. */
static void request_task(void *front, void *job)
{
    job_t *j = job;
    int v = lookup(front, j->request, j->key);
    cd_ledger_put(CD_EFF_RETURNED, j->key, v == stored_value(j->key), 0, 0);
}

/* Job k: request k + 1, for key k % CD_EX_KEYS (the keys interleaved). */
static void make_request(void *ctx, int k, void *job, char *name,
                         size_t size)
{
    (void)ctx; /* every request goes to the same front */
    snprintf(name, size, "request-%d", k + 1);
    *(job_t *)job = (job_t){ k + 1, k % CD_EX_KEYS };
}

/* The invariant (cli/ledger.c): one database query per key, every request
 * served the stored value. */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    front_t *f = NULL;

    for (int k = 0; k < CD_EX_KEYS; k++)
        atomic_store(&cache[k], 0); /* every key cold */
    if (cd_ledger_begin("stampede", p) != 0 ||
        !(f = front_create(plan->keys))) {
        cd_ledger_end_error(v, 1, "could not set up the front");
        return;
    }
    int rc = ex_run_tasks(plan->keys * plan->per_key, sizeof(job_t),
                          p->workers, request_task, make_request, f);
    cd_ledger_end_error(v, rc != 0, "could not run the requests");
    front_destroy(f);
}

EX_SCENARIO("stampede", run,
            .defaults = { .iterations = 50, .workers = 1 },
            .min = { .iterations = 2, .workers = 1 },
            .max = { .iterations = 150, .workers = 4 });
