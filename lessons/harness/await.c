/*
 * await.c - the harness of the exercise await (the learner's part:
 * lessons/exercises/await.c, its interface: await.h).
 *
 * User 1 double-clicks, every other user sends one request; user u's
 * requests run on worker (u-1) % N; the database and its books; then the
 * invariant, judged from them. Everything here but await_db_save() and
 * cd_exercise is static: the learner's file cannot reach it, and the
 * build refuses a learner's file that defines a name beyond await.h.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cd_exec.h"
#include "cd_registry.h"
#include "harness/exercise.h"
#include "harness/await.h"
#include "harness/tasks.h"
#include "../../cli/ledger.h"

#define SAVE_USEC 5000     /* the database save takes 5 ms... */
#define OVERTAKE_USEC 2000 /* ...and 2 ms when a save of the same cart is
                              already on its way: saves may land out of
                              order, so the later one lands first */

typedef struct request {
    session_t *s;
    cart_t *cart;
    int user, worker;
    int task; /* the task that runs it: cd_self() there */
} request_t;

typedef struct app {
    int nusers, nrequests, nworkers;
    int ready;  /* sessions set up */
    session_t **sessions;
    cart_t *carts;
    request_t *reqs;
    int *saving; /* saves of each user's cart on their way */
} app_t;

/* The run's app: one run at a time in the exercise's program. */
static app_t *app_now;

/* The request the calling task runs, or NULL. */
static request_t *my_request(void)
{
    int self = cd_self();
    for (int i = 0; app_now && i < app_now->nrequests; i++)
        if (app_now->reqs[i].task == self)
            return &app_now->reqs[i];
    return NULL;
}

/* The database saves the cart as it is when the save is asked for; the
 * books (cli/ledger.h) record the save in flight and what landed. */
void await_db_save(void)
{
    request_t *r = my_request();
    int user = r ? r->user : -1;
    int items = r ? r->cart->items : 0;
    int overtakes = r && app_now->saving[user] > 0;

    cd_ledger_put(CD_EFF_CALL, user, 0, 0, 0);
    if (r)
        app_now->saving[user]++;
    cd_await_latency("db-save", overtakes ? OVERTAKE_USEC : SAVE_USEC);
    if (r)
        app_now->saving[user]--;
    cd_ledger_put(CD_EFF_SAVE, user, items, 0, 0);
    cd_ledger_put(CD_EFF_CALL_END, user, 0, 0, 0);
}

static void request_task(void *arg)
{
    request_t *r = arg;
    add_item(r->s, r->cart);
    cd_ledger_put(CD_EFF_RETURNED, r->user, 0, 0, 0);
}

static int setup(app_t *a, const cd_params_t *p, const cd_ex_plan_t *plan)
{
    a->nusers = plan->users;
    a->nrequests = plan->users + plan->clicks - 1;
    a->nworkers = p->workers;
    a->sessions = calloc((size_t)a->nusers, sizeof *a->sessions);
    a->carts = calloc((size_t)a->nusers, sizeof *a->carts);
    a->reqs = calloc((size_t)a->nrequests, sizeof *a->reqs);
    a->saving = calloc((size_t)a->nusers, sizeof *a->saving);
    if (!a->sessions || !a->carts || !a->reqs || !a->saving)
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
        int user = i < plan->clicks ? 0 : i - plan->clicks + 1;
        a->reqs[i].s = a->sessions[user];
        a->reqs[i].cart = &a->carts[user];
        a->reqs[i].user = user;
        a->reqs[i].worker = user % a->nworkers; /* sticky by user */
    }
    return 0;
}

/* Frees what setup() made, all of it or as far as it got. */
static void teardown(app_t *a)
{
    for (int u = 0; u < a->ready; u++)
        session_destroy(a->sessions[u]);
    free(a->sessions);
    free(a->carts);
    free(a->reqs);
    free(a->saving);
}

/* Spawns request i on its user's worker, noting its task (ex_spawn_fn). */
static int spawn_request(void *ctx, cd_exec_t *e, int i)
{
    app_t *a = ctx;
    char name[CD_NAME_MAX];
    snprintf(name, sizeof name, "request-%d", i + 1);
    return a->reqs[i].task = cd_exec_spawn_on(e, a->reqs[i].worker, name,
                                              request_task, &a->reqs[i]);
}

/* The invariant (cli/ledger.c): every request finishes; every cart holds
 * one item per request of its user, the cart says all of them were
 * saved, and a save of the whole cart reached the database. */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    app_t a = { 0 };
    app_now = &a;
    int books = cd_ledger_begin("await", p);
    if (books != 0 || setup(&a, p, plan) != 0) {
        cd_ledger_end_error(v, 1, "could not set up %d sessions",
                            p->iterations);
    } else if (ex_run_spawned(a.nrequests, a.nworkers, spawn_request,
                              &a) != 0) {
        cd_ledger_end_error(v, 1, "could not start the executor");
    } else {
        for (int u = 0; u < a.nusers; u++)
            cd_ledger_put(CD_EFF_CART, u, a.carts[u].items,
                          a.carts[u].saved_items, 0);
        cd_ledger_end(v);
    }
    app_now = NULL;
    teardown(&a);
}

EX_SCENARIO("await", run,
            .defaults = { .iterations = 4, .workers = 1 },
            .min = { .iterations = 1, .workers = 1 },
            .max = { .iterations = 64, .workers = 8 });
