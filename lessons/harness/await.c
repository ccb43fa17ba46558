/*
 * await.c - the harness of the exercise await (the learner's part:
 * lessons/exercises/await.c, its interface: await.h).
 *
 * User 1 double-clicks, every other user sends one request; user u's
 * requests run on worker (u-1) % N; then the invariant. Everything here
 * but await_db_save() and cd_exercise is static: the learner's file
 * cannot reach it, and the build refuses a learner's file that defines a
 * name beyond await.h.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd_exec.h"
#include "cd_registry.h"
#include "harness/exercise.h"
#include "harness/await.h"

#define SAVE_USEC 5000   /* the database save takes 5 ms */
#define DOUBLE_CLICKS 2  /* user 1 sends two requests at once */

void await_db_save(void)
{
    cd_await_latency("db-save", SAVE_USEC);
}

typedef struct request {
    session_t *s;
    cart_t *cart;
    int worker;
    atomic_int done;
} request_t;

typedef struct app {
    int nusers, nrequests, nworkers;
    int ready;  /* sessions set up */
    session_t **sessions;
    cart_t *carts;
    request_t *reqs;
    int *sent;  /* requests per user */
} app_t;

static void request_task(void *arg)
{
    request_t *r = arg;
    add_item(r->s, r->cart);
    atomic_store(&r->done, 1);
}

static int setup(app_t *a, const cd_params_t *p)
{
    a->nusers = p->iterations;
    a->nrequests = p->iterations + DOUBLE_CLICKS - 1;
    a->nworkers = p->workers;
    a->sessions = calloc((size_t)a->nusers, sizeof *a->sessions);
    a->carts = calloc((size_t)a->nusers, sizeof *a->carts);
    a->reqs = calloc((size_t)a->nrequests, sizeof *a->reqs);
    a->sent = calloc((size_t)a->nusers, sizeof *a->sent);
    if (!a->sessions || !a->carts || !a->reqs || !a->sent)
        return -1;
    for (int u = 0; u < a->nusers; u++) {
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "session-%d", u + 1);
        if (!(a->sessions[u] = session_create(name)))
            return -1;
        a->ready = u + 1;
    }
    for (int i = 0; i < a->nrequests; i++) {
        /* Requests 0 and 1 are user 1's double click. */
        int user = i < DOUBLE_CLICKS ? 0 : i - DOUBLE_CLICKS + 1;
        a->reqs[i].s = a->sessions[user];
        a->reqs[i].cart = &a->carts[user];
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
        const cart_t *c = &a->carts[u];
        if (c->items != a->sent[u] || c->saved_items != c->items) {
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
                           a->carts[first_wrong].items,
                           a->carts[first_wrong].items == 1 ? "" : "s",
                           a->carts[first_wrong].saved_items);
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
        session_destroy(a.sessions[u]);
    free(a.sessions);
    free(a.carts);
    free(a.reqs);
    free(a.sent);
}

EX_SCENARIO("await", run,
            .defaults = { .iterations = 4, .workers = 1 },
            .min = { .iterations = 1, .workers = 1 },
            .max = { .iterations = 64, .workers = 8 });
