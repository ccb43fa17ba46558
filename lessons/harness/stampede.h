/*
 * stampede.h - the exercise stampede: what the learner's file defines,
 * and what the harness (lessons/harness/stampede.c) gives it.
 *
 * The harness owns the cache, the database, the executor, the invariant
 * and the verdict, compiled by the project: nothing in the learner's file
 * (a #define, a static of the same name) reaches it. The learner's file
 * defines exactly the functions under "yours"; its state goes in its own
 * struct front, which the harness only passes around by pointer. Any other
 * global it defines fails the build.
 *
 * exercise-defines: front_create front_destroy lookup
 */
#ifndef EX_STAMPEDE_H
#define EX_STAMPEDE_H

#include "harness/state.h"

/* ---- the harness's: call them, do not define them ---- */

/* The cache, another system (a Redis): each get and set is atomic on its
 * own. cache_get returns key's value, or 0 when it is not cached. Keys
 * are 0 .. nkeys-1. */
int cache_get(int key);
void cache_set(int key, int value);

/* The database: awaits 20 ms (the task parks, its worker runs others),
 * then returns key's value (never 0). Every query is in its books. Call
 * it from a task only. */
int db_query(int key);

/* ---- yours: define these in lessons/exercises/stampede.c ---- */

typedef struct front front_t; /* define struct front: your locks go there */

/* front_create() makes the service's front before the requests start (keys
 * are numbered 0 .. nkeys-1): NULL on failure. front_destroy() frees it
 * after every request has ended. EX_STATE, in your file, defines both
 * (lessons/harness/state.h). */
EX_STATE_DECLARE(front, nkeys);

/* Request number `request` (1, 2, ...) asks for key's value: an async
 * task. Returns the value the database holds for key. Many requests for
 * each key arrive at once, spread over the workers. */
int lookup(front_t *f, int request, int key);

#endif /* EX_STAMPEDE_H */
