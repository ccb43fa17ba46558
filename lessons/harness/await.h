/*
 * await.h - the exercise await: what the learner's file defines, and what
 * the harness (lessons/harness/await.c) gives it.
 *
 * The harness owns the carts, the requests, the executor, the invariant
 * and the verdict, compiled by the project: nothing in the learner's file
 * (a #define, a static of the same name) reaches it. The learner's file
 * defines exactly the functions under "yours"; its state goes in its own
 * struct session, which the harness only passes around by pointer. Any
 * other global it defines fails the build.
 *
 * exercise-defines: session_create session_destroy add_item
 */
#ifndef EX_AWAIT_H
#define EX_AWAIT_H

/* One user's cart. The harness made it and reads it at the end. */
typedef struct cart {
    int items;        /* the cart in memory */
    int saved_items;  /* the cart as the database last stored it */
} cart_t;

/* ---- the harness's: call it, do not define it ---- */

/* Awaits the database's save of the cart, as it is now (5 ms): the task
 * parks and its worker runs other tasks meanwhile. Saves may land out of
 * order: one asked for while a save of the same cart is on its way
 * lands first (2 ms). Call it from a request's task only. */
void await_db_save(void);

/* ---- yours: define these in lessons/exercises/await.c ---- */

typedef struct session session_t; /* define struct session: its lock */

/* Makes one user's session (name: "session-1", ...) before the requests
 * start: NULL on failure. */
session_t *session_create(const char *name);

/* Frees it after every request has finished. */
void session_destroy(session_t *s);

/* One request, an async task: adds an item to the user's cart c, then
 * saves it (await_db_save(), then c->saved_items). A user's requests run
 * on one worker; other users' on others. */
void add_item(session_t *s, cart_t *c);

#endif /* EX_AWAIT_H */
