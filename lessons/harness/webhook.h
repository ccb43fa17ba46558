/*
 * webhook.h - the exercise webhook: what the learner's file defines, and
 * what the harness (lessons/harness/webhook.c) gives it.
 *
 * The harness owns the events, their deliveries, the executor, the
 * warehouse and its books, the invariant and the verdict, compiled by the
 * project: nothing in the learner's file (a #define, a static of the same
 * name) reaches it. The learner's file defines exactly the functions under
 * "yours"; its state goes in its own struct hook, which the harness only
 * passes around by pointer. Any other global it defines fails the build.
 *
 * exercise-defines: hook_create hook_destroy handle
 */
#ifndef EX_WEBHOOK_H
#define EX_WEBHOOK_H

#include "harness/state.h"

/* One payment event. The harness made it; every delivery of it points
 * here, so the id is the same in all three. */
typedef struct event {
    int id;        /* 0 .. nevents-1: the event id */
    int processed; /* the handler's processed-events record: plain memory,
                      0 until a handler sets it */
} event_t;

/* One delivery of an event: the first try or a retry. */
typedef struct delivery {
    int id;          /* 0 .. 3 * nevents - 1: this delivery's own number,
                        different for every try */
    int try;         /* 1, 2 or 3 */
    event_t *event;  /* the event it delivers */
} delivery_t;

/* ---- the harness's: call it, do not define it ---- */

/* The warehouse: awaits 3 ms (the task parks, its worker runs others),
 * then ships the order of event e - every time it is called. Call it from
 * a task only. */
void fulfil(const event_t *e);

/* ---- yours: define these in lessons/exercises/webhook.c ---- */

typedef struct hook hook_t; /* define struct hook: your locks go there */

/* hook_create() makes the handler's state before the deliveries start
 * (events are numbered 0 .. nevents-1): NULL on failure. hook_destroy()
 * frees it after every delivery has been handled. EX_STATE, in your file,
 * defines both (lessons/harness/state.h). */
EX_STATE_DECLARE(hook, nevents);

/* Handles delivery d, an async task; each event is delivered three times,
 * by tasks spread over the workers, all before the first is answered. */
void handle(hook_t *h, delivery_t *d);

#endif /* EX_WEBHOOK_H */
