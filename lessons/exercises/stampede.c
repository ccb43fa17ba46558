/*
 * Exercise: stampede - the cache stampede
 * (worksheet: lessons/13-stampede.md).
 *
 * Task:  requests run as async tasks, on one worker thread by default.
 *        lookup() below checks the cache; on a miss it queries the
 *        database (20 ms, an await) and fills the cache. Many requests for
 *        the same cold key arrive at once: each checks before the first
 *        query has returned, each misses, each queries - the database gets
 *        one query per request instead of one per key. Make it one query
 *        per key, with a lock per cache key: the queries of different
 *        keys must still await the database together.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, parallelism, timing, ThreadSanitizer).
 * Check: concdemo check stampede  or: make check-exercise EX=stampede
 *
 * This file is yours, all of it: lessons/harness/stampede.h says what it
 * must define and what it may call; the harness (cache, database,
 * executor, the invariant) is built by the project. You may need
 * lib/cd_amutex.h (awaitable locks, plain and keyed).
 */
#include <stdlib.h>

#include "cd_amutex.h"
#include "cd_exec.h"
#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/stampede.h"
#include "harness/state.h"

/* The service's front. Add the lock(s) your fix needs (set up and freed at
 * the end of this file). */
struct front {
    int nkeys; /* keys are numbered 0 .. nkeys-1 */
};

/* Request `request` for key (an async task): the key's value. */
int lookup(front_t *f, int request, int key)
{
    (void)f;
    (void)request;
    cd_point("check cache");
    int v = cache_get(key);
    if (!v) {                 /* every request of a cold key misses: */
        v = db_query(key);    /* this await lets the others check */
        cd_point("fill cache");
        cache_set(key, v);
    }
    return v;
}

/* Sets up your lock(s) before the requests start: 0, or -1 on failure. */
static int front_locks_init(front_t *f) { (void)f; return 0; }

/* Frees them after every request has ended. */
static void front_locks_destroy(front_t *f) { (void)f; }

/* front_create() and front_destroy(), which the harness calls
 * (lessons/harness/state.h): front_create() hands front_locks_init() a
 * zeroed front with nkeys set; front_destroy() calls
 * front_locks_destroy(), then frees the front. */
EX_STATE(front, nkeys, front_locks_init, front_locks_destroy)
