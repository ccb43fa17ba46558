/*
 * webhook.c - the harness of the exercise webhook (the learner's part:
 * lessons/exercises/webhook.c, its interface: webhook.h).
 *
 * Three deliveries of every event - every event's first try, then every
 * retry - spread round-robin over the workers; the warehouse and its
 * books; then the invariant, judged from them. Everything here but
 * fulfil() and cd_exercise is static: the learner's file cannot reach it,
 * and the build refuses a learner's file that defines a name beyond
 * webhook.h.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cd_exec.h"
#include "cd_registry.h"
#include "harness/exercise.h"
#include "harness/webhook.h"
#include "harness/tasks.h"
#include "../../cli/ledger.h"

#define FULFIL_USEC 3000 /* the warehouse takes 3 ms to ship an order */

/* The warehouse is another system: every shipment is in the books
 * (cli/ledger.h), with the call's start and end. */
void fulfil(const event_t *e)
{
    cd_ledger_put(CD_EFF_CALL, e->id, 0, 0, 0);
    cd_await_latency("warehouse", FULFIL_USEC);
    cd_ledger_put(CD_EFF_SHIP, e->id, 0, 0, 0);
    cd_ledger_put(CD_EFF_CALL_END, e->id, 0, 0, 0);
}

/* The run's handler and events: what a delivery is made from. */
typedef struct feed {
    hook_t *hook;
    event_t *events;
    int nevents;
} feed_t;

static void delivery_task(void *ctx, void *delivery)
{
    handle(((feed_t *)ctx)->hook, delivery);
}

/* Delivery k: try k / nevents + 1 of event k % nevents (every event's
 * first try, then every second one, ...). */
static void make_delivery(void *ctx, int k, void *delivery, char *name,
                          size_t size)
{
    feed_t *f = ctx;
    int ev = k % f->nevents, try = k / f->nevents + 1;
    snprintf(name, size, "evt%d-try%d", ev + 1, try);
    *(delivery_t *)delivery = (delivery_t){ .id = k, .try = try,
                                            .event = &f->events[ev] };
}

/* The invariant (cli/ledger.c): every event fulfilled exactly once. */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    hook_t *h = NULL;

    event_t *events = calloc((size_t)plan->events, sizeof *events);
    if (cd_ledger_begin("webhook", p) != 0 || !events ||
        !(h = hook_create(plan->events))) {
        cd_ledger_end_error(v, 1, "could not set up the webhook");
    } else {
        for (int i = 0; i < plan->events; i++)
            events[i] = (event_t){ .id = i, .processed = 0 };
        int rc = ex_run_tasks(plan->events * CD_EX_DELIVERIES,
                              sizeof(delivery_t),
                              p->workers, delivery_task, make_delivery,
                              &(feed_t){ h, events, plan->events });
        cd_ledger_end_error(v, rc != 0, "could not run the deliveries");
        hook_destroy(h);
    }
    free(events);
}

EX_SCENARIO("webhook", run,
            .defaults = { .iterations = 8, .workers = 1 },
            .min = { .iterations = 1, .workers = 1 },
            .max = { .iterations = 200, .workers = 4 });
