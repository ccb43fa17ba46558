/*
 * orphans.c - a request gives up after a timeout; its subtasks do not.
 *
 * The pitfall: a checkout request fans out three subtasks - reserve the
 * stock (10 ms), charge the card (80 ms), send the confirmation email
 * (90 ms) - and waits for them at most 50 ms. Then it gives up and tells
 * the customer "checkout failed, you were not charged". But nobody told
 * the subtasks: they were spawned and forgotten, and 30 ms later the card
 * is charged and the email goes out - after the failure was reported.
 * The customer pays for an order the shop says did not happen.
 *
 * Symptom: side effects after the failure was reported (charges, emails)
 *          and subtasks still alive when their request returned: orphans.
 * Run:     concdemo orphans                 every request's card charged
 *              after its failure was reported
 *          concdemo orphans --fixed=scope   the subtasks live in a task
 *              scope with the 50 ms deadline: the timeout cancels them at
 *              their next await, the close awaits them, nothing happens
 *              after the failure is reported and no task outlives it
 * Lesson:  lessons/21-orphans.md
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/cd_exec.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_scope.h"
#include "../lib/cd_thread.h"
#include "scenario.h"

#define TIMEOUT_US 50000  /* the request waits at most 50 ms */
#define POLL_US 5000      /* broken: how often it looks */
#define SUBTASKS 3

typedef struct app app_t;

typedef struct request {
    app_t *app;
    int index;
    atomic_int pending;   /* subtasks not yet done (broken's wait) */
    int ids[SUBTASKS];    /* the subtasks' task ids */
    atomic_int failed;    /* the failure was reported to the customer */
    atomic_int alive_at_report; /* subtasks still running then */
} request_t;

struct app {
    int variant, nrequests;
    cd_exec_t *e;
    request_t *reqs;
    atomic_int charges, emails, reserves;
    atomic_int after_failure; /* side effects after the failure report */
    atomic_int cancelled;     /* fixed: subtasks the scopes cancelled */
    int g_after;
};

/* ================================ subtasks =============================== */

/* A side effect: counted, and counted again if its request had already
 * told the customer it failed. */
static void effect(request_t *r, atomic_int *count)
{
    atomic_fetch_add(count, 1);
    if (atomic_load(&r->failed)) {
        atomic_fetch_add(&r->app->after_failure, 1);
        cd_reg_gauge_add(r->app->g_after, 1);
    }
}

static void reserve_task(void *arg)
{
    request_t *r = arg;
    cd_await_latency("reserve stock", 10000);
    effect(r, &r->app->reserves);
    atomic_fetch_sub(&r->pending, 1);
}

static void charge_task(void *arg)
{
    request_t *r = arg;
    cd_await_latency("payment provider", 80000);
    cd_point("charge card");
    effect(r, &r->app->charges);
    atomic_fetch_sub(&r->pending, 1);
}

static void email_task(void *arg)
{
    request_t *r = arg;
    cd_await_latency("mail server", 90000);
    effect(r, &r->app->emails);
    atomic_fetch_sub(&r->pending, 1);
}

static const struct {
    const char *name;
    cd_task_fn fn;
} subtasks[SUBTASKS] = {
    { "reserve", reserve_task },
    { "charge", charge_task },
    { "email", email_task },
};

/* The customer is told: checkout failed. Whatever still runs is an
 * orphan. */
static void report_failure(request_t *r)
{
    atomic_store(&r->failed, 1);
    cd_point("report failure");
    /* Alive: neither returned nor ended by a cancel (the registry knows
     * either way; a cancelled task never reaches its own bookkeeping). */
    int alive = 0;
    for (int i = 0; i < SUBTASKS; i++) {
        cd_thread_rec_t *t = cd_reg_thread(r->ids[i]);
        int st = t ? atomic_load(&t->state) : CD_T_DONE;
        alive += st != CD_T_DONE && st != CD_T_ABORTED;
    }
    atomic_store(&r->alive_at_report, alive);
}

/* The request's timeout on the run's clock. */
static int64_t timeout_scaled(void)
{
    return (int64_t)TIMEOUT_US * 1000 * cd_reg_latency_scale() / 1000;
}

/* ===================== the request handlers, side by side ================ */

/* Broken: spawned and forgotten; the timeout only stops the waiting. */
static void checkout_broken(request_t *r)
{
    char name[CD_NAME_MAX];
    for (int i = 0; i < SUBTASKS; i++) {
        snprintf(name, sizeof name, "%s-%d", subtasks[i].name, r->index + 1);
        r->ids[i] = cd_exec_spawn(r->app->e, name, subtasks[i].fn, r); /* BUG:
                                             spawned, never awaited */
    }
    /* The time waited on the run's clock, not counted in polls: on a busy
     * machine a 5 ms poll takes longer, and ten of them would outlast
     * the subtasks. */
    int64_t t0 = cd_reg_elapsed_ns(), timeout_ns = timeout_scaled();
    while (atomic_load(&r->pending) > 0) {
        if (cd_reg_elapsed_ns() - t0 >= timeout_ns) {
            report_failure(r);              /* BUG: the subtasks run on */
            return;
        }
        cd_await_latency("wait for subtasks", POLL_US);
    }
}

/* Fix "scope": the subtasks live in a scope whose deadline is the
 * request's; the close awaits them, the deadline cancels what is left. */
static void checkout_scope(request_t *r)
{
    char name[CD_NAME_MAX];
    cd_scope_t *s;
    snprintf(name, sizeof name, "checkout-%d", r->index + 1);
    if (cd_scope_open(&s, name, TIMEOUT_US) != 0)   /* FIX: a scope */
        return;
    for (int i = 0; i < SUBTASKS; i++) {
        snprintf(name, sizeof name, "%s-%d", subtasks[i].name, r->index + 1);
        r->ids[i] = cd_scope_spawn(s, name, subtasks[i].fn, r); /* FIX: in
                                             the scope */
    }
    cd_scope_report_t rep;
    if (cd_scope_close(s, &rep) != 0)   /* FIX: awaits all; cancels late */
        report_failure(r);
    atomic_fetch_add(&r->app->cancelled, rep.cancelled);
}

static void (*const checkout[])(request_t *) = {
    checkout_broken, checkout_scope,
};

/* ================================ harness ================================ */

static void request_task(void *arg)
{
    request_t *r = arg;
    checkout[r->app->variant](r);
}

static void check(app_t *a, cd_verdict_t *v)
{
    int failed = 0, orphans = 0;
    for (int i = 0; i < a->nrequests; i++) {
        failed += atomic_load(&a->reqs[i].failed);
        orphans += atomic_load(&a->reqs[i].alive_at_report);
    }
    int after = atomic_load(&a->after_failure);
    cd_verdict_expect(v, "nothing happens after a failure is reported, and "
                      "no subtask outlives its request");
    cd_verdict_num(v, "requests", a->nrequests);
    cd_verdict_num(v, "failed", failed);
    cd_verdict_num(v, "after_failure", after);
    cd_verdict_num(v, "orphans", orphans);
    cd_verdict_num(v, "charges", atomic_load(&a->charges));
    cd_verdict_num(v, "emails", atomic_load(&a->emails));
    cd_verdict_num(v, "reserves", atomic_load(&a->reserves));
    cd_verdict_num(v, "cancelled", atomic_load(&a->cancelled));
    if (after || orphans)
        cd_verdict_observe(v, CD_VIOLATED, "%d side effect%s after the "
                           "failure was reported (%d card%s charged), %d "
                           "subtask%s still alive when %d request%s gave up",
                           after, cd_plural(after, "", "s"),
                           atomic_load(&a->charges),
                           cd_plural(atomic_load(&a->charges), "", "s"),
                           orphans, cd_plural(orphans, "", "s"), failed,
                           cd_plural(failed, "", "s"));
    else
        cd_verdict_observe(v, CD_HELD, "%d of %d requests failed on time; "
                           "their scopes cancelled %d subtasks, nothing "
                           "happened after a failure was reported",
                           failed, a->nrequests, atomic_load(&a->cancelled));
}

void cd_orphans_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    app_t a = { .variant = variant, .nrequests = p->iterations };
    a.reqs = calloc((size_t)a.nrequests, sizeof *a.reqs);
    a.g_after = cd_reg_gauge("effects after failure");
    int ok = a.reqs && cd_exec_create(&a.e, p->workers) == 0;
    for (int i = 0; ok && i < a.nrequests; i++) {
        char name[CD_NAME_MAX];
        request_t *r = &a.reqs[i];
        r->app = &a;
        r->index = i;
        atomic_init(&r->pending, SUBTASKS);
        snprintf(name, sizeof name, "request-%d", i + 1);
        ok = cd_exec_spawn(a.e, name, request_task, r) > 0;
    }
    if (!ok || cd_exec_run(a.e) < 0)
        cd_verdict_observe(v, CD_ERROR, "could not run %d requests",
                           a.nrequests);
    else
        check(&a, v);
    cd_exec_destroy(a.e);
    free(a.reqs);
}
