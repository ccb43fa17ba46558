/*
 * offload.c - the harness of the exercise offload (the learner's part:
 * lessons/exercises/offload.c, its interface: offload.h).
 *
 * A request arrives every 2 ms on the service's event loop (an executor,
 * one worker by default); the login arrives with the tenth of them (the
 * second, in the small runs the checker explores) and calls the
 * learner's login(). Each request's latency is measured here, from its
 * arrival (its timer's deadline) to its answer, on the run's clock, and
 * written into the books with the hash's start and end and the login's
 * return; the judge (cli/ledger.c) takes p99 from those. Everything here
 * but hash_password() and cd_exercise is static.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd_exec.h"
#include "cd_registry.h"
#include "cd_scope.h"
#include "harness/exercise.h"
#include "harness/offload.h"
#include "harness/tasks.h"
#include "../../cli/ledger.h"

struct login_job {
    uint64_t digest;
    long rounds;
    atomic_int hashed; /* hash_password() finished for it */
};

typedef struct request {
    struct app *app;
    int index;          /* 0-based; -1: the login */
    int64_t arrive_ns;  /* on the run's clock, from the start */
} request_t;

typedef struct app {
    int others, nworkers;
    /* The loop's start: set by the first task to run (-1 before), not
     * when the tasks are made - setting up a hundred task stacks takes
     * long under a sanitizer, and that is no request's wait. */
    _Atomic int64_t start_ns;
    request_t *reqs;    /* the others, then the login */
    login_t job;
} app_t;

/* One round of the hash: a few thousand multiply-and-rotate steps. */
static void hash_rounds(void *arg)
{
    login_t *l = arg;
    uint64_t d = l->digest;
    for (int i = 0; i < 4096; i++) {
        d ^= d >> 29;
        d *= 0xbf58476d1ce4e5b9u;
        d = (d << 17) | (d >> 47);
    }
    l->digest = d;
    l->rounds++;
}

void hash_password(void *login)
{
    login_t *l = login;
    cd_ledger_put(CD_EFF_CALL, 0, 0, 0, 0);
    l->digest = 0x73616c7470617373u;
    cd_cpu_work("hash password", CD_EX_OFFLOAD_HASH_US, hash_rounds, l);
    atomic_store(&l->hashed, 1);
    cd_ledger_put(CD_EFF_CALL_END, 0, 0, 0, 0);
}

/* Called by each task as it first runs: the first sets the start. */
static void mark_start(app_t *a)
{
    int64_t none = -1;
    atomic_compare_exchange_strong(&a->start_ns, &none, cd_reg_elapsed_ns());
}

static int64_t since_start(const app_t *a)
{
    return cd_reg_elapsed_ns() - atomic_load(&a->start_ns);
}

/* The request's task waits until it arrives, then is answered (a cart
 * looked up: microseconds) - or, for the login, calls login(). */
static void request_task(void *arg)
{
    request_t *r = arg;
    app_t *a = r->app;
    mark_start(a);
    int scale = cd_reg_latency_scale();
    int64_t wait_ns = r->arrive_ns - since_start(a);
    cd_await_latency("arrive", wait_ns > 0 && scale > 0 ? wait_ns / scale
                                                        : 0);
    if (r->index < 0) {
        login(&a->job);
        cd_ledger_put(CD_EFF_RETURNED, -1, atomic_load(&a->job.hashed), 0,
                      0);
        return;
    }
    login_t cart = { .digest = (uint64_t)r->index };
    hash_rounds(&cart);
    int64_t late = since_start(a) - r->arrive_ns;
    cd_ledger_put(CD_EFF_RETURNED, r->index, 0, 0,
                  scale > 0 ? late * 1000 / scale : late);
}

/* Spawns request i, or the login (ex_spawn_fn). */
static int spawn_request(void *ctx, cd_exec_t *e, int i)
{
    app_t *a = ctx;
    char name[CD_NAME_MAX];
    if (a->reqs[i].index < 0)
        snprintf(name, sizeof name, "login");
    else
        snprintf(name, sizeof name, "request-%d", i + 1);
    return cd_exec_spawn(e, name, request_task, &a->reqs[i]);
}

static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    app_t a = { .others = plan->others, .nworkers = p->workers };
    int books = cd_ledger_begin("offload", p);
    a.reqs = calloc((size_t)a.others + 1, sizeof *a.reqs);
    if (books != 0 || !a.reqs) {
        cd_ledger_end_error(v, 1, "could not set up %d requests", a.others);
        free(a.reqs);
        return;
    }
    int64_t gap = (int64_t)CD_EX_OFFLOAD_GAP_US * 1000 *
                  cd_reg_latency_scale() / 1000;
    for (int i = 0; i <= a.others; i++) {
        a.reqs[i].app = &a;
        a.reqs[i].index = i < a.others ? i : -1;
        a.reqs[i].arrive_ns = gap * i;
    }
    a.reqs[a.others].arrive_ns = gap * (a.others / 10);
    atomic_init(&a.job.hashed, 0);
    atomic_init(&a.start_ns, -1);
    int rc = ex_run_spawned(a.others + 1, a.nworkers, spawn_request, &a);
    cd_ledger_end_error(v, rc != 0, "could not start the event loop");
    free(a.reqs);
}

EX_SCENARIO("offload", run,
            .defaults = { .iterations = 40, .workers = 1 },
            .min = { .iterations = 10, .workers = 1 },
            .max = { .iterations = 200, .workers = 8 },
            .explore_on_time = 1);
