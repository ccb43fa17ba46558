/*
 * Exercise: await - the stalled executor (worksheet: lessons/05-await.md).
 *
 * Task:  request handlers run as async tasks on a small executor. add_item()
 *        below locks the user's session with a blocking mutex and awaits the
 *        database save (5 ms) while it holds the lock. The user's second
 *        request, on the same worker, blocks that worker in the lock - and
 *        the first can never be resumed. Make every request finish with its
 *        cart saved, while saves of different users still overlap.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, parallelism, timing, ThreadSanitizer).
 * Check: concdemo check await       or: make check-exercise EX=await
 *
 * This file is yours, all of it: lessons/harness/await.h says what it must
 * define and what it may call; the harness (carts, requests, executor, the
 * invariant) is built by the project. You may need lib/cd_amutex.h
 * (awaitable locks) and lib/cd_mutex.h.
 */
#include <stdlib.h>

#include "cd_amutex.h"
#include "cd_exec.h"
#include "cd_mutex.h"
#include "cd_registry.h"
#include "harness/await.h"

/* One user's session. Change the lock if your fix needs another kind. */
struct session {
    cd_mutex_t lock;  /* guards the cart */
};

/* Sets up a session's lock before the requests start: 0, or -1. */
static int session_init(session_t *s, const char *name)
{
    return cd_mutex_init(&s->lock, name);
}

static void session_fini(session_t *s)
{
    cd_mutex_destroy(&s->lock);
}

session_t *session_create(const char *name)
{
    session_t *s = calloc(1, sizeof *s);
    if (s && session_init(s, name) != 0) {
        free(s);
        s = NULL;
    }
    return s;
}

void session_destroy(session_t *s)
{
    session_fini(s);
    free(s);
}

/* One request (an async task): adds an item to the cart and saves it.
 * The save awaits the database (5 ms): the worker runs other tasks. */
void add_item(session_t *s, cart_t *c)
{
    cd_mutex_lock(&s->lock);                /* a blocking lock... */
    int copy = ++c->items;
    await_db_save();                        /* ...held across an await */
    c->saved_items = copy;
    cd_mutex_unlock(&s->lock);
}
