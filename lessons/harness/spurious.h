/*
 * spurious.h - the exercise spurious: what the learner's file defines,
 * and what the harness (lessons/harness/spurious.c) gives it.
 *
 * The harness owns the rail (the tickets posted and not taken yet), the
 * till and the cooks (the threads), the till's pace, the invariant and
 * the verdict; it is compiled by the project, so nothing the learner's
 * file does (a #define, a static of the same name) reaches it. The
 * learner's file defines exactly the functions under "yours", and keeps
 * its state (its lock, its condition variables) in its own struct
 * kitchen, which the harness only passes around by pointer, or in
 * statics. Any other global it defines fails the build.
 *
 * exercise-defines: kitchen_create kitchen_destroy next_ticket post_ticket
 */
#ifndef EX_SPURIOUS_H
#define EX_SPURIOUS_H

enum {
    NO_TICKET = -1, /* rail_take() found the rail empty */
    CLOSED = -2     /* the rail is empty and the till has closed it */
};

/* ---- the harness's: call these, do not define them ---- */

/* The ticket rail. Its count and contents are plain memory, shared by the
 * till and the cooks: call the functions below holding your lock. */
typedef struct rail rail_t;

/* Tickets on the rail now. */
int rail_count(const rail_t *r);

/* 1 once the till has closed the rail (no more tickets come), else 0. */
int rail_closed(const rail_t *r);

/* Takes the oldest ticket from the rail and returns its number; CLOSED
 * when the rail is empty and closed. On an empty rail that is still open
 * there is nothing to take: it returns NO_TICKET, and the rail writes the
 * take down - a take from an empty rail is the bug this exercise is about
 * (in a real kitchen: a stale slot, a count below zero, a crash). */
int rail_take(rail_t *r);

/* Puts ticket on the rail. */
void rail_put(rail_t *r, int ticket);

/* Closes the rail: the cooks may go home once it is empty. */
void rail_close(rail_t *r);

/* ---- yours: define these in lessons/exercises/spurious.c ---- */

typedef struct kitchen kitchen_t; /* define struct kitchen: your lock and
                                     condition variables go there */

/* Makes the kitchen before the till and the cooks start: ncooks cooks
 * will take from rail. NULL on failure. */
kitchen_t *kitchen_create(rail_t *rail, int ncooks);

/* Frees it after the till and every cook have ended. */
void kitchen_destroy(kitchen_t *k);

/* A cook: waits until a ticket is on the rail, takes it (rail_take) and
 * returns its number; returns CLOSED once the rail is empty and closed.
 * Every cook calls it at the same time, in a loop, until CLOSED. */
int next_ticket(kitchen_t *k);

/* The till: posts ticket (0, 1, 2, ... in order) - or, when ticket is
 * CLOSED, closes the rail - and wakes the cooks. One till thread calls
 * it, ticket after ticket, then once with CLOSED. */
void post_ticket(kitchen_t *k, int ticket);

#endif /* EX_SPURIOUS_H */
