/*
 * cd_internal.h - the registry's storage, for libconc's own modules only.
 *
 * Demos, the CLI and tests use the functions in cd_registry.h; the choke
 * point (cd_op.h) reaches into this struct directly because it runs on
 * every lock and unlock and must stay a handful of instructions.
 */
#ifndef CD_INTERNAL_H
#define CD_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "cd_registry.h"
#include "cd_trace.h"

#define CD_MAX_EDGES 4096
#define CD_ORDER_WORDS (CD_MAX_OBJECTS / 64)

/* One edge of the lock-order graph: `to` was taken while `from` was held. */
typedef struct cd_edge {
    int from, to, thread;
    cd_site_t held_at, taken_at;
} cd_edge_t;

/* Bits of the registry's `slow` word: anything that sends the choke point
 * down its slow path. One relaxed load tests them all. */
#define CD_SLOW_TRACE 1u
#define CD_SLOW_PAUSE 2u

/* One slot of the trace ring. Every field is a relaxed-or-stronger atomic
 * so that an observer may read a slot while a demo thread writes it: the
 * writer marks the slot odd (2*seq+1) before and even (2*seq+2) after, the
 * reader keeps a copy only if it saw the same even stamp before and after
 * (a seqlock; see cd_trace.c). */
typedef struct cd_trace_slot {
    _Atomic uint64_t stamp;
    _Atomic int64_t t_ns;
    _Atomic int thread, op, obj;
    _Atomic int64_t arg;
    _Atomic(const char *) label;
    _Atomic(const char *) file;
    _Atomic int line;
} cd_trace_slot_t;

typedef struct cd_gauge_rec {
    char name[CD_NAME_MAX];
    _Atomic int used;             /* release: the name is written */
    _Atomic int64_t value;
} cd_gauge_rec_t;

struct cd_registry {
    unsigned gen;                 /* bumped by every reset */
    int64_t t0_ns;
    _Atomic unsigned slow;        /* CD_SLOW_* bits */
    /* Active (unpaused) time in one word, so that a reader never sees half
     * an update: >= 0 while running, the total paused so far (active time
     * = elapsed - it); < 0 while paused, -1 - the active time frozen when
     * the pause began. */
    _Atomic int64_t active_ref;
    _Atomic int latency_permille;
    _Atomic int abort_reason;
    _Atomic int nthreads;
    _Atomic int nobjs;
    cd_thread_rec_t threads[CD_MAX_THREADS];
    cd_obj_rec_t objs[CD_MAX_OBJECTS];
    _Atomic int ngauges;
    cd_gauge_rec_t gauges[CD_MAX_GAUGES];

    /* Findings and the slow path of the lock-order graph. */
    pthread_mutex_t find_lock;
    int has_deadlock;
    cd_cycle_t deadlock;
    int ninv;
    cd_inversion_t inv[CD_MAX_INVERSIONS];
    int nedges;
    cd_edge_t edges[CD_MAX_EDGES];
    /* order_bits[a] has bit b set once b was taken while a was held. Read
     * without the lock on the fast path; set under find_lock. */
    _Atomic uint64_t order_bits[CD_MAX_OBJECTS][CD_ORDER_WORDS];

    _Atomic uint64_t trace_next;
    cd_trace_slot_t trace[CD_TRACE_CAP];
};

extern struct cd_registry cd__reg;
extern _Thread_local unsigned cd__self_gen;
extern _Thread_local int cd__self_id;
extern _Thread_local int cd__self_spawned;

/* Registers the calling thread if this run has not seen it yet. */
int cd__self_slow(void);

static inline int cd__self(void)
{
    if (CD_UNLIKELY(cd__self_gen != cd__reg.gen))
        return cd__self_slow();
    return cd__self_id;
}

static inline cd_thread_rec_t *cd__rec(int id)
{
    return &cd__reg.threads[id - 1];
}

static inline cd_obj_rec_t *cd__obj(int id)
{
    return &cd__reg.objs[id - 1];
}

#define CD_RELAXED memory_order_relaxed
#define cd__ld(p) atomic_load_explicit((p), CD_RELAXED)
#define cd__st(p, v) atomic_store_explicit((p), (v), CD_RELAXED)

#endif /* CD_INTERNAL_H */
