/*
 * philosophers.h - the exercise philosophers: what the learner's file
 * defines, and what the harness (lessons/harness/philosophers.c) gives it.
 *
 * The harness lays the table (a fork between each two neighbours), seats
 * the diners (one thread each), owns the kitchen's books, the invariant
 * and the verdict; it is compiled by the project, so nothing the learner's
 * file does (a #define, a static of the same name) reaches it. The
 * learner's file defines exactly the functions under "yours", and keeps
 * its state (a waiter, say) in its own struct table, which the harness
 * only passes around by pointer, or in statics. Any other global it
 * defines fails the build.
 *
 * exercise-defines: table_create table_destroy meal
 */
#ifndef EX_PHILOSOPHERS_H
#define EX_PHILOSOPHERS_H

#include "cd_mutex.h"
#include "harness/state.h"

/* One fork. The harness made it and its lock: a diner holds the fork
 * while it holds the lock. */
typedef struct table_fork {
    int id;            /* 0, 1, 2, ...: fork i lies between diner i and
                          diner i+1, and the last fork next to diner 0 */
    char name[16];     /* "fork-1" */
    cd_mutex_t lock;
} fork_t;

/* One diner, seated by the harness. */
typedef struct diner {
    int index;         /* 0, 1, ..., ndiners - 1: its seat */
    int ndiners;       /* how many sit at the table */
    fork_t *left;      /* fork `index` */
    fork_t *right;     /* fork `index + 1`, or fork 0 for the last diner */
} diner_t;

/* ---- the harness's: call them, do not define them ---- */

/* Reaches for the second fork: slow (5 ms). Call it between picking up
 * the first fork and the second, as a diner does. */
void reach(diner_t *d);

/* Eats one meal (1 ms). The caller holds both of d's forks: the kitchen
 * writes down which forks it held, and who else was eating meanwhile. */
void eat(diner_t *d);

/* ---- yours: define these in lessons/exercises/philosophers.c ---- */

typedef struct table table_t; /* define struct table: what your fix needs */

/* table_create() makes the table of ndiners diners before they sit down:
 * NULL on failure. table_destroy() frees it after every diner has left.
 * EX_STATE, in your file, defines both (lessons/harness/state.h). */
EX_STATE_DECLARE(table, ndiners);

/* One meal of diner d: pick up both forks, eat(), put them down. Every
 * diner calls it at the same time, meal after meal. */
void meal(table_t *t, diner_t *d);

#endif /* EX_PHILOSOPHERS_H */
