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
#include <semaphore.h>
#include <stdatomic.h>

#include "cd_ctx.h"
#include "cd_fiber.h"
#include "cd_registry.h"
#include "cd_sched.h"
#include "cd_trace.h"

#define CD_MAX_EDGES 4096
#define CD_ORDER_WORDS (CD_MAX_OBJECTS / 64)

/* Most permits of gates (below) one thread is known to hold at once. */
#define CD_MAX_PERMITS 4

/* One edge of the lock-order graph: `to` was taken while `from` was held,
 * each time by a thread inside `gate` (a semaphore's id; 0: not always
 * inside the same one). */
typedef struct cd_edge {
    int from, to, thread;
    int gate;
    cd_site_t held_at, taken_at;
} cd_edge_t;

/* A timer that a parked participant keeps for a sleeper that is no
 * participant: a task awaiting a latency on its idle worker. The
 * controlled scheduler may end it whenever it chooses, and a schedule
 * names it by the task's id. */
typedef struct cd__alarm {
    int id;           /* the sleeping task's thread id */
    int64_t at_ns;    /* its deadline on the virtual clock */
    const char *what; /* what it awaits (step mode shows it) */
} cd__alarm_t;

/* The controlled scheduler's view of one participant thread. */
typedef struct cd_sched_thread {
    sem_t turn;            /* posted when it is this thread's turn */
    /* A pooled OS thread not yet started on this participant waits on a
     * semaphore of its own (cd_thread.c): its first turn is posted there,
     * once (exchanged for NULL), and the later ones to turn. */
    _Atomic(sem_t *) first;
    int sem_ready;         /* turn was initialised */
    int known;             /* a participant of this run */
    int done;
    int waiting;           /* parked until ready(arg) or the deadline */
    int (*ready)(void *arg);
    void *arg;
    int64_t deadline_ns;   /* virtual clock; 0: none */
    const cd__alarm_t *alarms; /* while parked: timers kept for tasks */
    int nalarms;
    int fired;             /* the alarm the scheduler ended; 0: none */
    int spurious;          /* while parked: may wake without cause (a
                              condition variable's wait, cfg.spurious) */
    int woke_spurious;     /* the scheduler chose that wake-up */
    int late;              /* as a sleeper past its deadline: how many
                              other sleepers ended before it */
    int64_t prio;          /* pct */
    int pend_op, pend_obj; /* what it will do when it runs again */
    const char *pend_label;
    cd_site_t pend_site;
    /* A run of coroutines (cd_fiber.h): where this participant stopped,
     * and who it is there. */
    cd__ctx_t ctx;
    cd__tls_t tls;
    int fiber;             /* 1: a coroutine (0: the root, or a thread) */
    int over;              /* the coroutine's end came: it never runs again */
    int ending;            /* the abort is ending it (cd__op_abort_self) */
    void *stack;           /* the coroutine's stack, until it is reaped */
    void *(*fn)(void *);   /* what the coroutine runs */
    void *fn_arg;
} cd_sched_thread_t;

/* The controlled scheduler's state. Only the thread whose turn it is
 * touches it (hand-offs go through the turn semaphores). */
typedef struct cd_sched_rt {
    _Atomic int active;    /* read on every operation: keep it first */
    int draining;          /* aborted: every hook lets threads run free */
    cd_sched_cfg_t cfg;
    int current;
    int64_t vclock_ns;
    uint64_t rng;
    _Atomic long steps;    /* atomic: the watchdog reads it (cd_detect.c) */
    _Atomic int turn_clock; /* the CPU clock (a clockid_t) of the thread that
                               took the turn last; 0: none (cd_detect.c) */
    int nchange;
    long change_at[16];    /* pct: steps where the running thread drops */
    int ndec;
    /* The participants that have not ended, in id order: a decision
     * looks at these only, however many ended before (collect drops the
     * ended ones as it passes them). */
    int nlive;
    int live[CD_MAX_THREADS];
    int high;              /* the highest id whose record this run wrote
                              (a participant, a task's alarm): what the
                              next begin must clear */
    int fallback;          /* step mode: the default policy's pick */
    _Atomic int io_waits;  /* tasks awaiting a descriptor (cd_exec): a
                              readiness the kernel brings, not a turn */
    cd_sched_decision_t dec[CD_SCHED_MAX_CHOICES];
    char misfit[256];
    /* A run of coroutines (cd_fiber.c): the participant on the run's own
     * thread, the one a switch goes to, the last one a drain resumed, and
     * the stacks kept from run to run. */
    int root;
    int switch_to;
    int drive_at;
    int nstacks;
    void *stacks[CD_MAX_THREADS];
    cd_sched_thread_t th[CD_MAX_THREADS];
} cd_sched_rt_t;

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
    _Atomic uint64_t tick;       /* cd__ticks(), to merge with the rings */
    _Atomic int thread, op, obj;
    _Atomic int64_t arg;
    _Atomic(const char *) label;
    _Atomic(const char *) file;
    _Atomic int line;
} cd_trace_slot_t;

/* ---- the free run's trace: one ring per writing thread ----
 * In a run without the controlled scheduler each OS thread that traces
 * writes its events into a ring of its own (claimed from a fixed pool at
 * its first event of the run), so that tracing touches nothing another
 * thread writes: no shared counter, no cache line passed between cores.
 * Readers merge the rings by each event's tick (cd_trace.c). A controlled
 * run, whose threads take turns, keeps the single ring above (trace[]),
 * ordered by its counter, so that its trace stays byte for byte what its
 * schedule made it. */
#define CD_TRACE_RING_CAP 4096 /* slots per thread ring (a power of 2); a
                                  reader keeps the newest CAP - 1, since
                                  the oldest may be the one written next */
#define CD_TRACE_RINGS 128     /* rings; a thread beyond them uses trace[] */

/* The packed word of a ring slot: thread, object, operation, line. */
#define CD_TR_THREAD(w) ((int)((w) & 0xffff))
#define CD_TR_OBJ(w) ((int)(((w) >> 16) & 0xffff))
#define CD_TR_OP(w) ((int)(((w) >> 32) & 0xff))
#define CD_TR_AT_ONCE (1ull << 40) /* a lock taken without waiting: the
                                      event stands for lock + acquired */
#define CD_TR_EXTRA (1ull << 41)   /* arg and label were written */
#define CD_TR_STAMP_NEXT (1ull << 42) /* its time is the next slot's */
#define CD_TR_LINE(w) ((int)((w) >> 43))
#define CD_TR_LINE_MAX ((1 << 21) - 1)

typedef struct cd_trace_rslot {
    _Atomic uint64_t tick;  /* cd__ticks() when it happened */
    _Atomic uint64_t w;     /* packed: see CD_TR_* */
    _Atomic(const char *) file;
    _Atomic(const char *) label; /* only with CD_TR_EXTRA */
    _Atomic int64_t arg;         /* only with CD_TR_EXTRA */
} cd_trace_rslot_t;

/* Written by its one thread only. An event is published by the release
 * store of head; a reader knows a copied slot was not overwritten meanwhile
 * when head, read after the copy, is still within CD_TRACE_RING_CAP of it
 * (see cd_trace.c). */
typedef struct cd_trace_ring {
    _Atomic uint64_t head;   /* events written this run */
    _Atomic uint64_t merged; /* of them, lock + acquired in one */
    _Atomic unsigned gen;    /* the run it was claimed for (release) */
    cd_trace_rslot_t slot[CD_TRACE_RING_CAP];
} cd_trace_ring_t;

/* The calling thread's ring and the run it claimed it in (NULL with the
 * current gen: the pool was empty, it traces into trace[]). */
extern _Thread_local cd_trace_ring_t *cd__tring;
extern _Thread_local unsigned cd__tring_gen;

typedef struct cd_gauge_rec {
    char name[CD_NAME_MAX];
    _Atomic int used;             /* release: the name is written */
    _Atomic int64_t value;
} cd_gauge_rec_t;

/* A live note (cd_reg_note): odd seq while its one writer changes it. */
typedef struct cd_note_rec {
    _Atomic unsigned seq;
    _Atomic char text[CD_NOTE_MAX];
} cd_note_rec_t;

struct cd_registry {
    unsigned gen;                 /* bumped by every reset; never 0 */
    /* The fast paths' gate: gen while the run is quiet (tracing off, no
     * pause, no controlled scheduler), else 0. Compared with the
     * gen in a thread's key, it says in one comparison that the thread is
     * known to this run and that nothing but the registry needs to hear
     * about the operation (see cd__op_fast_self). Derived from gen,
     * the slow flags and sched.active by cd__reg_update_gate(), which every
     * change of those calls. */
    _Atomic unsigned gate;
    /* The same while the run is quiet but for tracing: the traced fast
     * paths' gate (cd__op_traced_self). At most one of the two is open. */
    _Atomic unsigned tgate;
    pthread_mutex_t gate_lock;    /* serialises cd__reg_update_gate() */
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
    cd_note_rec_t notes[CD_MAX_NOTES];

    /* Findings and the slow path of the lock-order graph. */
    pthread_mutex_t find_lock;
    int has_deadlock;
    cd_cycle_t deadlock;
    int has_stuck;
    cd_stuck_t stuck;
    int ninv;
    cd_inversion_t inv[CD_MAX_INVERSIONS];
    int nedges;
    cd_edge_t edges[CD_MAX_EDGES];
    /* order_bits[a] has bit b set once b was taken while a was held. Read
     * without the lock on the fast path; set under find_lock. */
    _Atomic uint64_t order_bits[CD_MAX_OBJECTS][CD_ORDER_WORDS];
    /* graphed[a] is 1 once an edge from or to a was learned: what lets
     * cd__lockorder_forget skip an object that was never in the graph
     * (a key that was only ever taken alone) with one load. */
    _Atomic unsigned char graphed[CD_MAX_OBJECTS];
    /* The lock-order graph's gates (cd_lockorder.c): the permits of each
     * semaphore while it is a gate (0: it is not, or no longer), the
     * permits each thread holds (written by that thread alone), and how
     * many edges carry a gate (0: the fast path need not look). */
    _Atomic int gate_permits[CD_MAX_OBJECTS];
    _Atomic int permits[CD_MAX_THREADS][CD_MAX_PERMITS];
    _Atomic int npermits[CD_MAX_THREADS];
    _Atomic int ngated;

    _Atomic uint64_t trace_next;
    cd_trace_slot_t trace[CD_TRACE_CAP];
    _Atomic int trace_nrings;     /* rings claimed this run (may pass the pool) */
    uint64_t tick0;               /* cd__ticks() at the reset, with t0_ns */
    /* The first point the process read on both clocks (its first reset):
     * with one read now, it gives the ticks' rate (cd_trace.c). */
    uint64_t cal_tick;
    int64_t cal_ns;

    /* The run's clock when it is not the real one: the controlled
     * scheduler's virtual clock, installed for its run (cd__reg_set_clock);
     * NULL otherwise. (Here rather than with the settings above: the
     * fast paths' code depends on where the thread table sits.) */
    _Atomic(int64_t (*)(void)) clock;

    cd_sched_rt_t sched;
};

extern struct cd_registry cd__reg;
/* The calling thread's registration: the gen of the run that knows it in
 * the high 32 bits, its id in the low 32 bits (0 if never registered).
 * One word, so that one load answers both "which id" and "still valid". */
extern _Thread_local uint64_t cd__self_key;
/* The record of the id in cd__self_key (NULL for 0), set with it: the fast
 * paths use it once the key's gen matched, instead of computing it. */
extern _Thread_local cd_thread_rec_t *cd__self_rec;
extern _Thread_local int cd__self_spawned; /* a cd_self_kind */
/* The OS thread's own registry id, which the controlled scheduler knows it
 * by: it stays the worker's while the worker runs a task (whose id is then
 * the one in cd__self_key). */
extern _Thread_local int cd__sched_self;

/* What the code running on this thread is: a thread libconc did not start,
 * one cd_thread started, or a task of an executor running on it. The
 * latter two are ended by the run's abort (cd__op_abort_self). */
enum cd_self_kind { CD_SELF_PLAIN = 0, CD_SELF_SPAWNED, CD_SELF_TASK };

/* Makes id (0: untracked) the caller's identity for this run: executor
 * workers switch it to the task they resume, and back. */
void cd__self_set(int id, int kind);

#define CD__KEY(gen, id) ((uint64_t)(gen) << 32 | (uint32_t)(id))
#define CD__KEY_GEN(key) ((unsigned)((key) >> 32))
#define CD__KEY_ID(key) ((int)(uint32_t)(key))

/* Registers the calling thread if this run has not seen it yet. */
int cd__self_slow(void);

/* The calling thread's id, registering it on first use; 0 if the thread
 * table is full (the thread is then untracked). */
static CD_ALWAYS_INLINE int cd__self(void)
{
    uint64_t key = cd__self_key;
    if (CD_UNLIKELY(CD__KEY_GEN(key) != cd__reg.gen))
        return cd__self_slow();
    return CD__KEY_ID(key);
}

/* Recomputes cd__reg.gate after gen, the slow flags or sched.active changed. */
void cd__reg_update_gate(void);
/* Memory written and read with relaxed atomics on purpose (the registry's
 * tables, the trace rings): Helgrind's checks are switched off for it. */
void cd__reg_hg_ignore(void *addr, size_t len);

/* Makes clock the run's clock (cd_reg_elapsed_ns), or the real one again
 * with NULL. The controlled scheduler installs its virtual clock for its
 * run: a hook, so that the registry need not know the scheduler. */
void cd__reg_set_clock(int64_t (*clock)(void));

static inline cd_thread_rec_t *cd__rec(int id)
{
    return &cd__reg.threads[id - 1];
}

static inline cd_obj_rec_t *cd__obj(int id)
{
    return &cd__reg.objs[id - 1];
}

/* Packing of cd_thread_rec_t.last: object id, operation, count. */
#define CD_LAST_OP_SHIFT 16
#define CD_LAST_COUNT_SHIFT 24
_Static_assert(CD_MAX_OBJECTS <= 0xffff && CD_MAX_THREADS <= 0xffff,
               "ids must fit the 16 bits of cd_thread_rec_t.last");
_Static_assert(CD_OP_COUNT_ <= 0xff,
               "cd_op_t must fit the 8 bits of cd_thread_rec_t.last");

/* ---- the controlled scheduler's hooks (cd_sched.c) ----
 * Each is a no-op returning CD_SCHED_FREE_RUN unless a controlled run is
 * under way (and not draining after an abort). */
#define CD_SCHED_FREE_RUN 1

static inline int cd__sched_on(void)
{
    return CD_UNLIKELY(atomic_load_explicit(&cd__reg.sched.active,
                                            memory_order_relaxed));
}

/* A decision point: self is about to perform op on obj at site. */
void cd__sched_point(int self, int op, int obj, const char *label,
                     cd_site_t site);
/* Parks self until ready(arg) holds or its deadline_ns (0: none) ends the
 * wait - which the scheduler may choose at any decision, the virtual
 * clock then moving to the deadline if it was not there yet. Returns 0
 * (ready), -ETIMEDOUT, -ECANCELED (the run was aborted), or
 * CD_SCHED_FREE_RUN when not controlled. */
int cd__sched_block(int self, int (*ready)(void *), void *arg,
                    int64_t deadline_ns);
/* cd__sched_block for an idle executor worker that keeps the timers of
 * its sleeping tasks (n alarms, read while it is parked): the scheduler
 * may end one of them instead of waking the worker for work. Returns as
 * cd__sched_block does; -ETIMEDOUT with *fired the id of the alarm it
 * ended (0 otherwise). With spurious (a condition variable's wait
 * without a deadline) and a run that allows it (cfg.spurious), waking
 * the thread without cause is one more choice at each decision: it then
 * returns -EINTR. */
int cd__sched_park(int self, int (*ready)(void *), void *arg,
                   int64_t deadline_ns, const cd__alarm_t *alarms, int n,
                   int *fired, int spurious);
/* What self will do next when it runs again, for step mode and the view
 * (cd_sched_pending), where no decision point told it: a condition
 * variable's waiter parks after it let go of its mutex. */
void cd__sched_pend(int self, int op, int obj, cd_site_t site);
/* A new participant, registered by its spawner before it exists. */
void cd__sched_register(int id);
/* Makes the calling OS thread participant `id` (threads started outside
 * cd_thread, such as an executor's workers). */
void cd__sched_bind(int id);
/* A new thread waits here for its first turn. */
void cd__sched_enter(int self);
/* An OS thread for lib's own use (an executor's workers): a parked one of
 * cd_thread's pool while the pool is on (cd_thread_pool_begin), else a
 * new one with stack_bytes of stack, running fn(arg). Returns 0 or the
 * negative errno of pthread_create. cd__thread_join waits for fn to
 * return (and gives a pooled thread back). */
typedef struct cd__osthread {
    pthread_t pt;
    struct cd__pooled *pooled;
} cd__osthread_t;
int cd__thread_start(cd__osthread_t *t, size_t stack_bytes,
                     void *(*fn)(void *), void *arg);
void cd__thread_join(cd__osthread_t *t);

/* For a pooled OS thread parked on go, about to start as participant id
 * (registered): in a controlled run its first turn posts go, so that it
 * need not wake only to wait for its turn (returns 1: do not post go, and
 * do not call cd__sched_enter); else 0. */
int cd__sched_register_parked(int id, sem_t *go);
/* A participant ends: hands its turn on. */
void cd__sched_exit(int self);
/* After an abort: let every participant run free to its end. */
void cd__sched_drain(void);
/* The CPU clock of the thread that took the turn last (0: none yet), for
 * the watchdog's spin check (cd_detect.c). */
clockid_t cd__sched_turn_clock(void);
/* The virtual clock, in nanoseconds since the run began. */
int64_t cd__sched_clock(void);

/* ---- libconc's own plumbing: what its modules call on each other ----
 * Not for demos, which see only the public headers. */

/* Registers a thread or object; returns its id, or -ENOSPC when the table
 * is full. Names are copied. (cd_registry.c) */
int cd__reg_add_thread(const char *name);
int cd__reg_add_object(const char *name, int kind, void *impl,
                       cd_release_fn release);
void cd__reg_remove_object(int id);

/* The life of a primitive that parks its waiters on its own lock and
 * condition variable (cond, sem, oneshot, bcast) and that nobody holds,
 * so an aborted thread has nothing of it to give back (no release
 * function). cd__park_open registers obj (kind, name) and makes the pair
 * (cd__park_init): its registry id, or -ENOSPC (nothing made).
 * cd__park_close unmakes the pair (cd__park_destroy; waking NULL: nobody
 * wakes sleepers after letting go of the lock), then the record.
 * (cd_registry.c) */
int cd__park_open(const char *name, int kind, void *obj,
                  pthread_mutex_t *lock, pthread_cond_t *cv);
void cd__park_close(int id, pthread_mutex_t *lock, pthread_cond_t *cv,
                    _Atomic int *waking);

/* Makes the calling thread the registry's thread id, started by cd_thread
 * (its start routine calls it). */
void cd__reg_bind_self(int id);
/* 1 when the caller is a thread cd_thread started or a task: one the run's
 * abort ends. */
int cd__self_is_spawned(void);
/* 1 when the caller is a task of an executor (cd_exec.h). */
int cd__self_is_task(void);

/* Records the run's deadlock cycle (the first one found stays). */
void cd__reg_set_deadlock(const cd_cycle_t *cycle);
/* Records what the threads of a stuck run wait for (the first stays). */
void cd__reg_set_stuck(const cd_stuck_t *stuck);
/* Caller holds cd__reg.find_lock (the lock-order graph adds under it).
 * Returns 0, or -ENOSPC when the table is full. */
int cd__reg_add_inversion(const cd_inversion_t *inv);

/* Appends a trace event (the caller checked that tracing is on). Can't
 * fail. (cd_trace.c) */
void cd__trace_emit(int thread, int op, int obj, int64_t arg,
                    const char *label, cd_site_t site);

/* The trace's clock: the TSC where it is invariant (one instruction, a
 * few ns), else cd_now_ns(). Readers turn ticks into the run's time. */
extern int cd__tsc_ok;
static CD_ALWAYS_INLINE uint64_t cd__ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
    /* The builtin, not <x86intrin.h>'s __rdtsc(): that header brings every
     * vector intrinsic along (45,000 lines), and this header is in every
     * build of the library and of each learner's exercise. */
    if (CD_LIKELY(cd__tsc_ok))
        return __builtin_ia32_rdtsc();
#endif
    return (uint64_t)cd_now_ns();
}

/* One point on both clocks: the tick halfway through the clock's read. */
static inline void cd__reg_tick_pair(uint64_t *tick, int64_t *ns)
{
    uint64_t a = cd__ticks();
    *ns = cd_now_ns();
    uint64_t b = cd__ticks();
    *tick = a + (b - a) / 2;
}

/* The calling thread's ring for this run, claimed on first use; NULL when
 * the pool is used up (the thread then traces into trace[]). */
cd_trace_ring_t *cd__trace_ring_claim(void);

static CD_ALWAYS_INLINE cd_trace_ring_t *cd__trace_ring(void)
{
    if (CD_LIKELY(cd__tring_gen == cd__reg.gen))
        return cd__tring;
    return cd__trace_ring_claim();
}

/* Appends one event to ring r (the caller's own) at tick. `extra`: arg and
 * label count (else the reader takes 0 and NULL). Only stores: the slot,
 * then head, which publishes it.
 * With CD_TR_STAMP_NEXT in flags, tick is not used: the event takes the
 * time of the thread's next event, the next slot of the same ring, where
 * the reader finds it. Only a lock taken at once asks for it. Reading the
 * TSC costs about 10 ns on this project's machine (it cannot be issued
 * faster), so a clock read at both a lock and its unlock would make an
 * uncontended pair cost more than one and a half raw pairs, however
 * little else it did. What follows such a lock is its critical section,
 * whose first traced event (a latency, a nested lock, the unlock) comes a
 * few instructions later in a demo; a reader that finds the newest event
 * of a ring still waiting for its time places it just after the one
 * before (cd_trace.c). */
static CD_ALWAYS_INLINE void cd__trace_put(cd_trace_ring_t *r, uint64_t tick,
                                           int thread, int op, int obj,
                                           uint64_t flags, int64_t arg,
                                           const char *label, cd_site_t site)
{
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    cd_trace_rslot_t *sl = &r->slot[h & (CD_TRACE_RING_CAP - 1)];
    unsigned line = site.line < 0 ? 0
                    : site.line > CD_TR_LINE_MAX ? CD_TR_LINE_MAX
                                                 : (unsigned)site.line;
    /* Release stores: a reader that sees one of them sees the previous
     * event's head store too, which is how it tells an overwritten slot
     * (x86: plain moves; no fence, which ThreadSanitizer cannot follow). */
    if (!(flags & CD_TR_STAMP_NEXT))
        atomic_store_explicit(&sl->tick, tick, memory_order_release);
    atomic_store_explicit(&sl->w,
                          (uint64_t)(uint16_t)thread |
                              (uint64_t)(uint16_t)obj << 16 |
                              (uint64_t)(uint8_t)op << 32 | flags |
                              (uint64_t)line << 43,
                          memory_order_release);
    atomic_store_explicit(&sl->file, site.file, memory_order_release);
    if (flags & CD_TR_EXTRA) {
        atomic_store_explicit(&sl->label, label, memory_order_release);
        atomic_store_explicit(&sl->arg, arg, memory_order_release);
    }
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

/* The lock-order graph (cd_lockorder.c). The thread `self`, holding the n
 * locks in held[], asks for `want` at site with a blocking lock. Cheap when
 * every edge is known already. Can't fail; a full graph stops learning new
 * edges. */
void cd__lockorder_note(int self, _Atomic int *held, int n, int want,
                        cd_site_t site);
/* Adds one edge directly (tests build graphs this way); returns 1 if it
 * closed a cycle and was reported, else 0. */
int cd__lockorder_add(int thread, int from, int to, cd_site_t held_at,
                      cd_site_t taken_at);
/* The same, learned by a thread inside gate (0: none): a new edge carries
 * it; a known edge that carries another gate carries none from then on,
 * and is looked at again as if new. */
int cd__lockorder_add_gated(int thread, int from, int to, int gate,
                            cd_site_t held_at, cd_site_t taken_at);
/* Forgets every edge from or to obj: a key table (cd_keytab.c) gives a
 * freed key's record to a new key, which must not inherit the old key's
 * lock order. Cheap when obj was never in the graph. Can't fail. */
void cd__lockorder_forget(int obj);
/* Gates. A counting semaphore whose permits only the threads that took
 * them give back bounds how many threads can be between its wait and its
 * post at once. A cycle of the graph whose every edge was learned inside
 * the same gate, with more edges than the gate has permits, can never
 * close: it would need one thread per edge inside at once (the waiter of
 * the dining philosophers). Such a cycle is not reported.
 *   cd__lockorder_gate: semaphore sem was made with `permits` (cd_sem_init)
 *   cd__lockorder_enter: thread self took a permit of sem (a wait)
 *   cd__lockorder_leave: thread self posts sem. If it held no permit of
 *     sem, a permit was made out of nothing: sem is no gate from then on,
 *     and the cycles it hid are reported.
 * Can't fail; a thread holding CD_MAX_PERMITS already is not counted in
 * one more (its post then ends the gate: the safe side). */
void cd__lockorder_gate(int sem, int permits);
void cd__lockorder_enter(int self, int sem);
void cd__lockorder_leave(int self, int sem);

/* For awaitable primitives (cd_amutex.c): the executor's tasks
 * (cd_exec.c). The running task's handle, or NULL outside a task. */
typedef struct cd_task cd_task_t;
cd_task_t *cd__task_current(void);
int cd__task_id(const cd_task_t *t);
/* Parks the running task until cd__task_wake(). The caller recorded the
 * park (cd__op_park) and made the task findable by its waker, under a lock
 * it releases before calling this. Returns 0 when woken, or -ECANCELED when
 * the run's abort resumed the task: the caller must undo its wait, then
 * call cd__op_abort_self(). */
int cd__task_park(cd_task_t *t);
/* The park of every awaitable primitive: records that task t (its id
 * self) awaits object obj (cd__op_park), lets go of *lock, parks
 * (cd__task_park) and takes *lock again. The caller holds *lock and has
 * made the task findable by its waker under it, so no wake-up falls in
 * between; it holds *lock again on return. Returns cd__task_park's
 * result: on -ECANCELED the caller undoes its wait under *lock, lets go
 * and calls cd__op_abort_self(). */
int cd__task_park_locked(cd_task_t *t, int self, int obj,
                         pthread_mutex_t *lock, cd_site_t site);
/* The same for a primitive with one waiting task at a time (a oneshot's
 * receiver, a subscriber's reader): puts t in *slot, where its waker
 * finds it (and empties the slot), and parks. On the run's abort it
 * empties *slot if t is still there (nobody may wake a task that is
 * gone), lets go of *lock and ends the task; else returns holding *lock. */
void cd__task_park_slot(cd_task_t **slot, cd_task_t *t, int self, int obj,
                        pthread_mutex_t *lock, cd_site_t site);
/* Makes a parked task ready on its worker (any thread may call it). */
void cd__task_wake(cd_task_t *t);
/* Parks the running task t until descriptor fd is ready for events
 * (POLLIN, POLLOUT) or failed; the caller recorded the park (cd__op_park)
 * and tries its operation again after. Returns 0, -ECANCELED as
 * cd__task_park, or -ENOMEM (nothing parked). */
int cd__task_await_fd(cd_task_t *t, int fd, short events);
/* The same for a readiness the program itself brings (an in-memory
 * connection, cd_simnet.c): t parks until ready(arg) says 1, which its
 * worker asks where it would poll a descriptor (ready may not take the
 * executor's lock). Unlike a descriptor's, such a wait has nothing in
 * flight: a controlled run in which only such waits are left is stuck at
 * once. Returns as cd__task_await_fd. */
int cd__task_await_ready(cd_task_t *t, int (*ready)(void *), void *arg);
/* For task scopes (cd_scope.c). on_end is told on the task's own thread
 * and stack, just before it leaves its worker for good (cancelled: its
 * cancel or the run's abort ended it), with no executor lock held. */
typedef struct cd_exec cd_exec_t;
typedef void (*cd__task_end_fn)(void *arg, cd_task_t *t, int cancelled);
/* cd_exec_spawn_on with an end hook; *out (if not NULL) is the task,
 * valid until on_end returned. */
int cd__exec_spawn_hooked(cd_exec_t *e, int worker, const char *name,
                          void (*fn)(void *), void *arg,
                          cd__task_end_fn on_end, void *end_arg,
                          cd_task_t **out);
/* The next worker round-robin. */
int cd__exec_next_worker(cd_exec_t *e);
/* end_arg of task t if it was spawned with the end hook fn, else NULL
 * (a scope finds the node of the task that opens a scope inside it). */
void *cd__task_end_arg(const cd_task_t *t, cd__task_end_fn fn);
cd_exec_t *cd__task_exec(const cd_task_t *t);
/* Asks task t to end at its next await (now, if it is parked on a timer,
 * a descriptor or a lock; at its start if it never ran): that await
 * returns -ECANCELED to its primitive, which ends the task as the run's
 * abort would, releasing its locks. Any thread; t must not have ended. */
void cd__task_cancel(cd_task_t *t);
/* The executor's offload pool (cd_scope.c): started by the first
 * cd_exec_offload under the executor's lock (cd__exec_lock), stopped
 * and joined by cd_exec_destroy (cd__offload_stop, safe with NULL). */
typedef struct cd__offload cd__offload_t;
cd__offload_t **cd__exec_offload_slot(cd_exec_t *e);
void cd__exec_lock(cd_exec_t *e, int lock);
void cd__offload_stop(cd__offload_t *pool);

#define CD_RELAXED memory_order_relaxed
#define cd__ld(p) atomic_load_explicit((p), CD_RELAXED)
#define cd__st(p, v) atomic_store_explicit((p), (v), CD_RELAXED)

#endif /* CD_INTERNAL_H */
