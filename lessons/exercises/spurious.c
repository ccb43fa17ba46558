/*
 * Exercise: spurious - the cook who trusts a wake-up (worksheet:
 * lessons/08-spurious.md).
 *
 * Task:  next_ticket() below looks at the rail once: if it is empty, the
 *        cook waits, and when the wait returns it takes a ticket, sure
 *        that one is there. It is not always: the till's "order up!"
 *        wakes every cook for one ticket, the till's own news wakes the
 *        cooks too (one condition variable for both), and a wait may
 *        return for no reason at all. Make every cook take only a ticket
 *        that is there, however its wait ended.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules - with wake-ups for nothing -, timing,
 *        ThreadSanitizer).
 * Check: concdemo check spurious        or: make check-exercise EX=spurious
 *
 * This file is yours, all of it: lessons/harness/spurious.h says what it
 * must define and what it may call; the harness (the rail, the till, the
 * cooks, the invariant) is built by the project. You may need
 * lib/cd_cond.h and lib/cd_mutex.h.
 */
#include <stdlib.h>

#include "cd_cond.h"
#include "cd_mutex.h"
#include "harness/spurious.h"

/* The kitchen. Add what your fix needs. */
struct kitchen {
    rail_t *rail;       /* the harness's: look at it under the lock */
    int ncooks;
    cd_mutex_t lock;    /* guards the rail and everything below */
    cd_cond_t changed;  /* the cooks and the till both wait here */
    int asleep;         /* cooks that went to sleep since the last
                           "order up!" (the kitchen's rule, below) */
};

kitchen_t *kitchen_create(rail_t *rail, int ncooks)
{
    kitchen_t *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->rail = rail;
    k->ncooks = ncooks;
    if (cd_mutex_init(&k->lock, "rail-lock") != 0) {
        free(k);
        return NULL;
    }
    if (cd_cond_init(&k->changed, "rail-changed") != 0) {
        cd_mutex_destroy(&k->lock);
        free(k);
        return NULL;
    }
    return k;
}

void kitchen_destroy(kitchen_t *k)
{
    cd_cond_destroy(&k->changed);
    cd_mutex_destroy(&k->lock);
    free(k);
}

/* The kitchen's rule: the till posts the next ticket only when every cook
 * is free and waiting. A cook going to sleep counts itself, and the last
 * one tells the till - on the condition variable the cooks wait on too,
 * so the broadcast wakes them as well. Caller holds k->lock. */
static void falls_asleep(kitchen_t *k)
{
    if (++k->asleep == k->ncooks)
        cd_cond_broadcast(&k->changed);
}

/* A cook waits for a ticket and takes it. */
int next_ticket(kitchen_t *k)
{
    cd_mutex_lock(&k->lock);
    if (rail_count(k->rail) == 0 && !rail_closed(k->rail)) { /* looks once */
        falls_asleep(k);
        cd_cond_wait(&k->changed, &k->lock);
    }
    int t = rail_take(k->rail);     /* sure that a ticket is there */
    cd_mutex_unlock(&k->lock);
    return t;
}

/* The till posts a ticket, or closes the rail (ticket == CLOSED). */
void post_ticket(kitchen_t *k, int ticket)
{
    cd_mutex_lock(&k->lock);
    while (k->asleep < k->ncooks)   /* the kitchen's rule */
        cd_cond_wait(&k->changed, &k->lock);
    if (ticket == CLOSED)
        rail_close(k->rail);
    else
        rail_put(k->rail, ticket);
    k->asleep = 0;                  /* every cook is about to wake */
    cd_cond_broadcast(&k->changed); /* "order up!" */
    cd_mutex_unlock(&k->lock);
}
