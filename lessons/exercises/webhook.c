/*
 * Exercise: webhook - the retried webhook
 * (worksheet: lessons/14-webhook.md).
 *
 * Task:  a payment provider delivers each event three times: it retries
 *        before the first delivery is answered. handle() below looks the
 *        event up in the processed-events record, awaits the warehouse
 *        (3 ms) to fulfil the order, then records the event; the await
 *        lets the retries look it up too, and the order ships three
 *        times. Make every event fulfilled exactly once, with a lock per
 *        event: other events' deliveries must still await the warehouse
 *        together.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, parallelism, timing, ThreadSanitizer).
 * Check: concdemo check webhook  or: make check-exercise EX=webhook
 *
 * This file is yours, all of it: lessons/harness/webhook.h says what it
 * must define and what it may call; the harness (events, deliveries,
 * executor, warehouse, the invariant) is built by the project. You may
 * need lib/cd_amutex.h (awaitable locks, plain and keyed).
 */
#include <stdlib.h>

#include "cd_amutex.h"
#include "cd_exec.h"
#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/state.h"
#include "harness/webhook.h"

/* The handler's state. Add the lock(s) your fix needs (set up and freed at
 * the end of this file). */
struct hook {
    int nevents; /* events are numbered 0 .. nevents-1 */
};

/* One delivery d of the event d->event (an async task). */
void handle(hook_t *h, delivery_t *d)
{
    event_t *e = d->event;
    (void)h;
    cd_point("check processed");
    if (!e->processed) {         /* every delivery sees "new": */
        fulfil(e);               /* this await runs the retries */
        cd_point("record processed");
        e->processed = 1;
    }
}

/* Sets up your lock(s) before the deliveries start: 0, or -1 on failure. */
static int hook_locks_init(hook_t *h) { (void)h; return 0; }

/* Frees them after every delivery has been handled. */
static void hook_locks_destroy(hook_t *h) { (void)h; }

/* hook_create() and hook_destroy(), which the harness calls
 * (lessons/harness/state.h): hook_create() hands hook_locks_init() a
 * zeroed hook with nevents set; hook_destroy() calls hook_locks_destroy(),
 * then frees the hook. */
EX_STATE(hook, nevents, hook_locks_init, hook_locks_destroy)
