/*
 * backpressure.h - the exercise backpressure: what the learner's file
 * defines, and what the harness (lessons/harness/backpressure.c) gives it.
 *
 * The harness owns the queue (a cd_chan_t it hands to the functions
 * below), the web workers, the shipper, the memory budget, the invariant
 * and the verdict, compiled by the project: nothing in the learner's file
 * (a #define, a static of the same name) reaches it. The learner's file
 * defines exactly the functions under "yours"; it needs no state of its
 * own. Any other global it defines fails the build.
 *
 * exercise-defines: queue_init log_line
 */
#ifndef EX_BACKPRESSURE_H
#define EX_BACKPRESSURE_H

#include <stdint.h>

#include "cd_chan.h"

/* One log line: a fixed-size record, copied into and out of the queue. */
typedef struct log_line {
    uint64_t seq;
    int worker;
    char text[500];
} log_line_t;

/* One web worker's own account of its lines. */
typedef struct worker {
    long produced;
    long sent;     /* in the queue */
    long gave_up;  /* not sent, and said so: only after the full queue
                      refused it (a timed send that timed out, a try
                      send with CD_CHAN_KEEP that found it full) */
} worker_t;

/* ---- yours: define these in lessons/exercises/backpressure.c ---- */

/* Creates the queue of log lines (each sizeof(log_line_t) bytes) before
 * the workers start: 0, or a negative errno. The harness destroys it. */
int queue_init(cd_chan_t *queue);

/* A web worker logs one line (workers call it at the same time; one
 * shipper thread receives from the queue). */
void log_line(cd_chan_t *queue, worker_t *w, const log_line_t *line);

#endif /* EX_BACKPRESSURE_H */
