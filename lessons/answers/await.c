/*
 * Answer key: await - the stalled executor (worksheet: lessons/05-await.md).
 * For teachers: the starter lessons/exercises/await.c with the intended fix
 * (an awaitable session lock; the lines marked FIX). `concdemo check await
 * --file lessons/answers/await.c` passes.
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
 * Edit only the part between the "your code" lines. You may need
 * lib/cd_amutex.h (awaitable locks) and lib/cd_mutex.h.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd_amutex.h"
#include "cd_exec.h"
#include "cd_mutex.h"
#include "cd_registry.h"
#include "scenario.h"

#define SAVE_USEC 5000   /* the database save takes 5 ms */
#define DOUBLE_CLICKS 2  /* user 1 sends two requests at once */

/* =============================== your code =============================== */

/* One user's session. Change the lock if your fix needs another kind. */
typedef struct session {
    int items;        /* the cart in memory */
    int saved_items;  /* the cart as the database last stored it */
    cd_amutex_t lock; /* FIX: an awaitable lock: waiting parks the task */
} session_t;

/* Sets up a session's lock before the requests start: 0, or -1. */
static int session_init(session_t *s, const char *name)
{
    return cd_amutex_init(&s->lock, name);
}

static void session_destroy(session_t *s)
{
    cd_amutex_destroy(&s->lock);
}

/* One request (an async task): adds an item to the cart and saves it.
 * The save awaits the database (5 ms): the worker runs other tasks. */
static void add_item(session_t *s)
{
    cd_amutex_lock(&s->lock);               /* FIX: a second request */
    int copy = ++s->items;                  /* parks here, and the */
    cd_await_latency("db-save", SAVE_USEC); /* worker resumes the first */
    s->saved_items = copy;
    cd_amutex_unlock(&s->lock);             /* FIX */
}

/* ============================ end of your code =========================== */

/* The harness: user 1 double-clicks, every other user sends one request;
 * user u's requests run on worker (u-1) % N; then the invariant. Nothing
 * below needs to change. */

typedef struct request {
    session_t *s;
    int worker;
    atomic_int done;
} request_t;

typedef struct app {
    int nusers, nrequests, nworkers;
    int ready;  /* sessions set up */
    session_t *sessions;
    request_t *reqs;
    int *sent;  /* requests per user */
} app_t;

static void request_task(void *arg)
{
    request_t *r = arg;
    add_item(r->s);
    atomic_store(&r->done, 1);
}

static int setup(app_t *a, const cd_params_t *p)
{
    a->nusers = p->iterations;
    a->nrequests = p->iterations + DOUBLE_CLICKS - 1;
    a->nworkers = p->workers;
    a->sessions = calloc((size_t)a->nusers, sizeof *a->sessions);
    a->reqs = calloc((size_t)a->nrequests, sizeof *a->reqs);
    a->sent = calloc((size_t)a->nusers, sizeof *a->sent);
    if (!a->sessions || !a->reqs || !a->sent)
        return -1;
    for (int u = 0; u < a->nusers; u++) {
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "session-%d", u + 1);
        if (session_init(&a->sessions[u], name) != 0)
            return -1;
        a->ready = u + 1;
    }
    for (int i = 0; i < a->nrequests; i++) {
        /* Requests 0 and 1 are user 1's double click. */
        int user = i < DOUBLE_CLICKS ? 0 : i - DOUBLE_CLICKS + 1;
        a->reqs[i].s = &a->sessions[user];
        a->reqs[i].worker = user % a->nworkers; /* sticky by user */
        a->sent[user]++;
        atomic_init(&a->reqs[i].done, 0);
    }
    return 0;
}

/* Runs every request on an executor: 0, or -1 if it could not start. */
static int serve(app_t *a)
{
    cd_exec_t *e;
    if (cd_exec_create(&e, a->nworkers) != 0)
        return -1;
    for (int i = 0; i < a->nrequests; i++) {
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "request-%d", i + 1);
        if (cd_exec_spawn_on(e, a->reqs[i].worker, name, request_task,
                             &a->reqs[i]) < 0) {
            cd_exec_destroy(e);
            return -1;
        }
    }
    int rc = cd_exec_run(e);
    cd_exec_destroy(e);
    return rc < 0 ? -1 : 0;
}

/* Invariant: every request finishes; every cart holds one item per
 * request of its user, and the database holds that cart. */
static void check(app_t *a, cd_verdict_t *v)
{
    int done = 0, wrong = 0, first_wrong = -1;
    for (int i = 0; i < a->nrequests; i++)
        done += atomic_load(&a->reqs[i].done);
    for (int u = 0; u < a->nusers; u++) {
        session_t *s = &a->sessions[u];
        if (s->items != a->sent[u] || s->saved_items != s->items) {
            wrong++;
            if (first_wrong < 0)
                first_wrong = u;
        }
    }
    cd_verdict_expect(v, "all %d requests finish, every cart saved with all "
                      "its items", a->nrequests);
    cd_verdict_num(v, "completed", done);
    cd_verdict_num(v, "carts_wrong", wrong);
    if (done < a->nrequests)
        cd_verdict_observe(v, CD_VIOLATED, "%d of %d requests finished: a "
                           "worker stalled", done, a->nrequests);
    else if (wrong)
        cd_verdict_observe(v, CD_VIOLATED, "%d cart%s wrong: user %d sent %d "
                           "request%s, the cart holds %d item%s and the "
                           "database %d", wrong, wrong == 1 ? "" : "s",
                           first_wrong + 1, a->sent[first_wrong],
                           a->sent[first_wrong] == 1 ? "" : "s",
                           a->sessions[first_wrong].items,
                           a->sessions[first_wrong].items == 1 ? "" : "s",
                           a->sessions[first_wrong].saved_items);
    else
        cd_verdict_observe(v, CD_HELD, "all %d requests finished on %d "
                           "worker%s, every cart saved", done, a->nworkers,
                           a->nworkers == 1 ? "" : "s");
}

static void run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    app_t a = { 0 };
    (void)variant;
    if (setup(&a, p) != 0)
        cd_verdict_observe(v, CD_ERROR, "could not set up %d sessions",
                           p->iterations);
    else if (serve(&a) != 0)
        cd_verdict_observe(v, CD_ERROR, "could not start the executor");
    else
        check(&a, v);
    for (int u = 0; u < a.ready; u++)
        session_destroy(&a.sessions[u]);
    free(a.sessions);
    free(a.reqs);
    free(a.sent);
}

static const cd_variant_t variants[] = {
    { "yours", "your request handler (lessons/exercises/await.c)" },
};

const cd_scenario_t cd_exercise = {
    .name = "await",
    .title = "the stalled executor (exercise)",
    .pitfall = "a blocking lock held across an await blocks the worker that "
               "must resume its holder",
    .lesson = "lessons/05-await.md",
    .variants = variants,
    .nvariants = 1,
    .defaults = { .iterations = 4, .workers = 1 },
    .min = { .iterations = 1, .workers = 1 },
    .max = { .iterations = 64, .workers = 8 },
    .run = run,
};
