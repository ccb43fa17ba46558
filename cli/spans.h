/*
 * spans.h - a finished run's trace read back as spans per thread: the
 * stretches where a thread held a lock, waited for one, slept in a
 * simulated latency, and the named points it passed.
 *
 * Both pictures of a run (timeline.c: SVG, chrome.c: trace-event JSON)
 * draw from this, so the reading of event sequences (request, blocked,
 * acquired, unlock, ...) lives in one function, cd_spans_read(), and the
 * renderers never look at events themselves. It reads the trace through
 * the public API after the run, while the registry still names the
 * run's threads and objects. Nothing here prints.
 */
#ifndef CD_SPANS_H
#define CD_SPANS_H

#include <stdint.h>

#include "../lib/cd_registry.h"

typedef enum cd_span_kind {
    CD_SPAN_HOLD,    /* holds obj from t0 to t1 */
    CD_SPAN_WAIT,    /* waits for obj (held by `holder`, 0: nobody known) */
    CD_SPAN_LATENCY, /* a simulated latency or an await, called label */
    CD_SPAN_POINT    /* a named point (t0 == t1), called label */
} cd_span_kind_t;

#define CD_SPANS_STEP_NS 1000

typedef struct cd_span {
    int kind;        /* cd_span_kind_t */
    int thread;      /* registry id of the thread (or task) */
    int obj;         /* HOLD, WAIT: registry id of the object */
    int holder;      /* WAIT: the thread that held obj as the wait began */
    int shared;      /* HOLD: taken to read (an rwlock's shared side) */
    int open;        /* still going when the trace ended */
    int red;         /* part of the run's finding: the deadlock cycle, a
                        stuck wait (set by cd_spans_mark) */
    int64_t t0, t1;  /* ns since the run began */
    const char *label; /* LATENCY, POINT: static string from the demo */
} cd_span_t;

typedef struct cd_spans {
    cd_span_t *v;
    int n, cap;
    int *lanes;      /* thread ids that did anything, in id order */
    int nlanes;
    int *objs;       /* objects held or waited for, in first-use order */
    int nobjs;
    int64_t end_ns;  /* the last event's time */
    int by_order;    /* every event had time 0 (a controlled run's clock
                        that never moved): times are the events' order,
                        CD_SPANS_STEP_NS apart */
    uint64_t lost;   /* events the ring no longer held */
} cd_spans_t;

/* Reads the current run's trace into *out (zeroed first). 0, or -ENOMEM
 * (out is then freed). Spans still open at the end are closed at the last
 * event's time with `open` set. */
int cd_spans_read(cd_spans_t *out);

/* Marks red the spans the run's finding is made of: for a cycle, each
 * link's last wait for `waits` and its hold of `holds`; for a stuck run,
 * each listed thread's last wait on its object. Either may be NULL. */
void cd_spans_mark(cd_spans_t *s, const cd_cycle_t *cycle,
                   const cd_stuck_t *stuck);

/* The lane index of thread id, or -1. */
int cd_spans_lane(const cd_spans_t *s, int thread);

/* The position of obj in s->objs (its colour), or -1. */
int cd_spans_obj_index(const cd_spans_t *s, int obj);

void cd_spans_free(cd_spans_t *s);

#endif /* CD_SPANS_H */
