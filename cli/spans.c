/*
 * spans.c - the run's events read back as holds, waits, latencies and
 * points per thread.
 */
#include "spans.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cd_trace.h"

/* What one thread is in the middle of while the events are read. */
typedef struct lane_state {
    int wait;      /* index of its open WAIT span, or -1 */
    int latency;   /* index of its open LATENCY span, or -1 */
    int req_obj;   /* a lock asked for and not yet settled, or 0 */
    int req_shared;
    int req_waited;  /* it blocked on the way */
    int64_t req_t;
} lane_state_t;

typedef struct reader {
    cd_spans_t *s;
    lane_state_t lane[CD_MAX_THREADS + 1];
    int holder[CD_MAX_OBJECTS + 1]; /* the exclusive holder, or 0 */
    unsigned char seen_thread[CD_MAX_THREADS + 1];
    unsigned char seen_obj[CD_MAX_OBJECTS + 1];
} reader_t;

/* ================================ storage ================================ */

static int push(cd_spans_t *s, cd_span_t sp)
{
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 256;
        cd_span_t *v = realloc(s->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n] = sp;
    return s->n++;
}

static void close_span(cd_spans_t *s, int *idx, int64_t t)
{
    if (*idx >= 0) {
        s->v[*idx].t1 = t;
        s->v[*idx].open = 0;
    }
    *idx = -1;
}

/* The thread's newest open hold of obj, or -1. Holds are short next to
 * a run, so the search from the end stops early. */
static int open_hold(const cd_spans_t *s, int thread, int obj)
{
    for (int i = s->n - 1; i >= 0; i--) {
        const cd_span_t *sp = &s->v[i];
        if (sp->kind == CD_SPAN_HOLD && sp->thread == thread &&
            sp->obj == obj && sp->open)
            return i;
    }
    return -1;
}

static int begin_hold(reader_t *r, int thread, int obj, int shared,
                      int64_t t)
{
    cd_span_t sp = { .kind = CD_SPAN_HOLD, .thread = thread, .obj = obj,
                     .shared = shared, .open = 1, .t0 = t, .t1 = t };
    if (!shared)
        r->holder[obj] = thread;
    return push(r->s, sp) < 0 ? -1 : 0;
}

/* ============================ reading events ============================= */

/* A lock request is settled by the thread's next event: blocked, acquired,
 * busy or timed out say how it went; anything else means it was taken
 * without an "acquired" event of its own (a trace that leaves that event
 * out for an uncontended lock reads the same): at once, or, after a
 * wait, when the wait ended. At the end of the trace (op CD_OP_NONE) a
 * request that waited is still waiting. */
static int settle_request(reader_t *r, int thread, int op, int64_t t)
{
    lane_state_t *ls = &r->lane[thread];
    if (!ls->req_obj)
        return 0;
    switch (op) {
    case CD_OP_BLOCK:
        ls->req_waited = 1;
        return 0;
    case CD_OP_ACQUIRED: case CD_OP_BUSY: case CD_OP_TIMEOUT:
    case CD_OP_ABORT: case CD_OP_EXIT:
        return 0; /* their own cases below */
    default:
        break;
    }
    int obj = ls->req_obj;
    ls->req_obj = 0;
    if (op == CD_OP_NONE && ls->req_waited)
        return 0;
    return begin_hold(r, thread, obj, ls->req_shared,
                      ls->req_waited ? t : ls->req_t);
}

/* Ends everything the thread had going but its holds (an exit may leave a
 * lock held: that stays drawn to the end). */
static void end_lane(reader_t *r, int thread, int64_t t, int holds_too)
{
    lane_state_t *ls = &r->lane[thread];
    close_span(r->s, &ls->wait, t);
    close_span(r->s, &ls->latency, t);
    ls->req_obj = 0;
    if (!holds_too)
        return;
    for (int i = 0; i < r->s->n; i++) {
        cd_span_t *sp = &r->s->v[i];
        if (sp->kind == CD_SPAN_HOLD && sp->thread == thread && sp->open) {
            sp->open = 0;
            sp->t1 = t;
            if (r->holder[sp->obj] == thread)
                r->holder[sp->obj] = 0;
        }
    }
}

/* The one place that knows what a sequence of events means. */
static int read_event(reader_t *r, const cd_trace_event_t *ev)
{
    cd_spans_t *s = r->s;
    int th = ev->thread, obj = ev->obj, i;
    if (th <= 0 || th > CD_MAX_THREADS || obj < 0 || obj > CD_MAX_OBJECTS)
        return 0;
    lane_state_t *ls = &r->lane[th];
    r->seen_thread[th] = 1;
    if (settle_request(r, th, ev->op, ev->t_ns) != 0)
        return -1;
    /* A latency's or await's sleep ends with the thread's next event
     * (its wake, or its task resumed), but not with the await's park; a
     * wait too (a channel's receive has no event of its own when the
     * message comes): a thread that waits does nothing else. A task's
     * "ready" is written by whoever made it ready. */
    if (ev->op != CD_OP_PARK && ev->op != CD_OP_READY)
        close_span(s, &ls->latency, ev->t_ns);
    if (ev->op != CD_OP_READY && ev->op != CD_OP_BLOCK)
        close_span(s, &ls->wait, ev->t_ns);

    switch (ev->op) {
    case CD_OP_LOCK: case CD_OP_TRYLOCK: case CD_OP_TIMEDLOCK:
    case CD_OP_RDLOCK: case CD_OP_WRLOCK: case CD_OP_TRYRDLOCK:
    case CD_OP_TRYWRLOCK:
        ls->req_obj = obj;
        ls->req_waited = 0;
        ls->req_shared = ev->op == CD_OP_RDLOCK || ev->op == CD_OP_TRYRDLOCK;
        ls->req_t = ev->t_ns;
        break;
    case CD_OP_BLOCK: {
        cd_span_t sp = { .kind = CD_SPAN_WAIT, .thread = th, .obj = obj,
                         .holder = r->holder[obj] != th ? r->holder[obj] : 0,
                         .open = 1, .t0 = ev->t_ns, .t1 = ev->t_ns };
        close_span(s, &ls->wait, ev->t_ns);
        if ((ls->wait = push(s, sp)) < 0)
            return -1;
        break;
    }
    case CD_OP_ACQUIRED:
        close_span(s, &ls->wait, ev->t_ns);
        ls->req_obj = 0;
        return begin_hold(r, th, obj, ev->arg == 1, ev->t_ns);
    case CD_OP_BUSY: case CD_OP_TIMEOUT: case CD_OP_CLOSED:
    case CD_OP_WOKE:
        ls->req_obj = 0;
        close_span(s, &ls->wait, ev->t_ns);
        break;
    case CD_OP_UNLOCK:
        if ((i = open_hold(s, th, obj)) >= 0) {
            s->v[i].open = 0;
            s->v[i].t1 = ev->t_ns;
        }
        if (r->holder[obj] == th)
            r->holder[obj] = 0;
        break;
    case CD_OP_LATENCY: case CD_OP_AWAIT: {
        cd_span_t sp = { .kind = CD_SPAN_LATENCY, .thread = th,
                         .open = 1, .t0 = ev->t_ns, .t1 = ev->t_ns,
                         .label = ev->label ? ev->label : "" };
        if ((ls->latency = push(s, sp)) < 0)
            return -1;
        break;
    }
    case CD_OP_POINT: {
        cd_span_t sp = { .kind = CD_SPAN_POINT, .thread = th,
                         .t0 = ev->t_ns, .t1 = ev->t_ns,
                         .label = ev->label ? ev->label : "" };
        if (push(s, sp) < 0)
            return -1;
        break;
    }
    case CD_OP_EXIT:
        end_lane(r, th, ev->t_ns, 0);
        break;
    case CD_OP_ABORT:
        end_lane(r, th, ev->t_ns, 1);
        break;
    default:
        break;
    }
    return 0;
}

/* ============================== after reading ============================ */

static int collect_lanes(reader_t *r)
{
    cd_spans_t *s = r->s;
    s->lanes = malloc((CD_MAX_THREADS + 1) * sizeof *s->lanes);
    s->objs = malloc((CD_MAX_OBJECTS + 1) * sizeof *s->objs);
    if (!s->lanes || !s->objs)
        return -1;
    for (int t = 1; t <= CD_MAX_THREADS; t++)
        if (r->seen_thread[t])
            s->lanes[s->nlanes++] = t;
    for (int i = 0; i < s->n; i++) {
        cd_span_t *sp = &s->v[i];
        if (sp->open)
            sp->t1 = s->end_ns;
        if ((sp->kind == CD_SPAN_HOLD || sp->kind == CD_SPAN_WAIT) &&
            sp->obj > 0 && !r->seen_obj[sp->obj]) {
            r->seen_obj[sp->obj] = 1;
            s->objs[s->nobjs++] = sp->obj;
        }
    }
    return 0;
}

/* A controlled run whose sleeps never ended keeps its virtual clock at 0:
 * every event at one instant. */
static int clock_stood_still(const cd_trace_event_t *ev, int n)
{
    for (int i = 0; i < n; i++)
        if (ev[i].t_ns != 0)
            return 0;
    return n > 0;
}

int cd_spans_read(cd_spans_t *out)
{
    reader_t *r = calloc(1, sizeof *r);
    cd_trace_event_t *evs = malloc(CD_TRACE_CAP * sizeof *evs);
    uint64_t total = 0;

    memset(out, 0, sizeof *out);
    int n = r && evs ? cd_trace_read(evs, CD_TRACE_CAP, &total) : -ENOMEM;
    if (n < 0) {
        free(r);
        free(evs);
        return -ENOMEM;
    }
    r->s = out;
    for (int t = 0; t <= CD_MAX_THREADS; t++)
        r->lane[t].wait = r->lane[t].latency = -1;
    /* What the trace no longer holds: the oldest of the run. */
    out->lost = total > (uint64_t)n ? total - (uint64_t)n : 0;
    out->by_order = clock_stood_still(evs, n);
    for (int i = 0; i < n; i++) {
        cd_trace_event_t ev = evs[i];
        if (out->by_order)
            ev.t_ns = (int64_t)i * CD_SPANS_STEP_NS;
        if (ev.t_ns > out->end_ns)
            out->end_ns = ev.t_ns;
        if (read_event(r, &ev) != 0)
            goto nomem;
    }
    /* A request still unsettled at the end was taken (see above). */
    for (int t = 1; t <= CD_MAX_THREADS; t++)
        if (settle_request(r, t, CD_OP_NONE, out->end_ns) != 0)
            goto nomem;
    if (collect_lanes(r) != 0)
        goto nomem;
    free(r);
    free(evs);
    return 0;
nomem:
    free(r);
    free(evs);
    cd_spans_free(out);
    return -ENOMEM;
}

/* The thread's last span of kind on obj, or NULL. */
static cd_span_t *last_span(cd_spans_t *s, int kind, int thread, int obj)
{
    for (int i = s->n - 1; i >= 0; i--)
        if (s->v[i].kind == kind && s->v[i].thread == thread &&
            s->v[i].obj == obj)
            return &s->v[i];
    return NULL;
}

void cd_spans_mark(cd_spans_t *s, const cd_cycle_t *cycle,
                   const cd_stuck_t *stuck)
{
    cd_span_t *sp;
    for (int i = 0; cycle && i < cycle->len; i++) {
        const cd_cycle_link_t *l = &cycle->link[i];
        if ((sp = last_span(s, CD_SPAN_WAIT, l->thread, l->waits)))
            sp->red = 1;
        if ((sp = last_span(s, CD_SPAN_HOLD, l->thread, l->holds)))
            sp->red = 1;
    }
    for (int i = 0; stuck && i < stuck->len; i++) {
        const cd_stuck_wait_t *w = &stuck->wait[i];
        if (w->obj && (sp = last_span(s, CD_SPAN_WAIT, w->thread, w->obj)))
            sp->red = 1;
    }
}

int cd_spans_lane(const cd_spans_t *s, int thread)
{
    for (int i = 0; i < s->nlanes; i++)
        if (s->lanes[i] == thread)
            return i;
    return -1;
}

int cd_spans_obj_index(const cd_spans_t *s, int obj)
{
    for (int i = 0; i < s->nobjs; i++)
        if (s->objs[i] == obj)
            return i;
    return -1;
}

void cd_spans_free(cd_spans_t *s)
{
    free(s->v);
    free(s->lanes);
    free(s->objs);
    memset(s, 0, sizeof *s);
}
