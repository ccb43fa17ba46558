/*
 * cd_registry.h - the live state of a run: every thread and every object.
 *
 * The registry is the one place in libconc that holds global mutable state.
 * Two fixed tables (no malloc on the hot path) hold a record per thread and
 * per synchronisation object (a lock, a channel, a condition variable, a
 * semaphore). Async tasks
 * (cd_exec.h) have thread records too, marked by the worker they run on;
 * each worker is an object whose owner is the task running on it. Primitives update
 * their records through the choke point (cd_op.h) with relaxed atomic
 * stores; observers (the deadlock watchdog, the live view, tests) read a
 * consistent-enough copy with cd_reg_snapshot(). The registry also carries
 * the run's settings (tracing, latency scale, pause), its abort flag, its
 * findings (a deadlock cycle, what the threads of a stuck run wait for,
 * lock-order inversions) and a few named live
 * figures ("gauges") that a scenario publishes for the live view.
 *
 * Ids are 1-based slot numbers; 0 means "none". Slots are not reused within
 * a run: cd_reg_reset() starts a new run with empty tables.
 */
#ifndef CD_REGISTRY_H
#define CD_REGISTRY_H

#include <stdatomic.h>
#include <stdint.h>

#include "cd_common.h"

#define CD_MAX_THREADS 512
#define CD_MAX_OBJECTS 1024
#define CD_MAX_HELD 16
#define CD_MAX_CYCLE 16
#define CD_MAX_INVERSIONS 8
#define CD_MAX_GAUGES 16
#define CD_MAX_NOTES 12 /* lines of text a run publishes (cd_reg_note) */
#define CD_NOTE_MAX 100
#define CD_MAX_STUCK 32
#define CD_LOST_WAKEUP_MAX 256
/* How many of a keyed lock's waiters its record shows, in queue order. */
#define CD_KEY_QUEUE_SHOWN 8

typedef enum cd_thread_state {
    CD_T_UNUSED = 0,
    CD_T_NEW,      /* spawned, waiting at the start gate */
    CD_T_RUNNING,
    CD_T_BLOCKED,  /* waiting for an object (waiting_on), or for a thread
                      to end (joining) */
    CD_T_SLEEPING, /* in a simulated latency (what) */
    CD_T_DONE,
    CD_T_ABORTED,  /* ended by the run's abort (deadlock, timeout) */
    /* Tasks (cd_exec.h) only: */
    CD_T_PARKED,   /* awaiting: an object (waiting_on) or a timer (what) */
    CD_T_READY,    /* can go on, waits for its worker (waiting_on) */
    CD_T_PAUSED,   /* held at the choke point while the run is paused */
    CD_T_COUNT_
} cd_thread_state_t;

typedef enum cd_obj_kind {
    CD_OBJ_MUTEX = 1,
    CD_OBJ_CHAN,       /* a channel: owner is 0, see the chan_* fields */
    CD_OBJ_RWLOCK,     /* owner: the writer inside; readers: how many share it */
    CD_OBJ_WORKER,     /* an executor's worker thread; owner: the task on it */
    CD_OBJ_AMUTEX,     /* an awaitable mutex (cd_amutex.h) */
    CD_OBJ_COND,       /* a condition variable: owner is 0, see cond_* */
    CD_OBJ_SEM,        /* a counting semaphore: owner is 0, see sem_count */
    CD_OBJ_KEY,        /* one live key of a keyed lock (cd_keyed.h): owner is
                          the thread holding it, see key and key_queue */
    CD_OBJ_AKEY,       /* the same for tasks (cd_akeyed, cd_amutex.h) */
    CD_OBJ_ONESHOT,    /* a one-value channel (cd_oneshot.h): owner is 0,
                          see oneshot_state */
    CD_OBJ_BCAST,      /* a broadcast channel (cd_bcast.h): owner is 0, see
                          the chan_* fields */
    CD_OBJ_BSUB,       /* one subscriber of a broadcast channel: see the
                          chan_* fields */
    CD_OBJ_CONN,       /* a socket on the executor (cd_io.h): see io_* */
    CD_OBJ_SCOPE       /* a task scope (cd_scope.h): its owner parks on it */
} cd_obj_kind_t;

typedef enum cd_abort_reason {
    CD_ABORT_NONE = 0,
    CD_ABORT_DEADLOCK,
    CD_ABORT_TIMEOUT,
    CD_ABORT_STEPS,  /* a controlled run passed its step bound */
    CD_ABORT_MISFIT, /* a replayed schedule did not fit the program */
    CD_ABORT_USER,   /* the user ended the run (q in the live view) */
    CD_ABORT_STUCK,  /* no thread could run, and no cycle (cd_waitfor.h) */
    CD_ABORT_LIVELOCK /* the scenario's own bound on retries without
                         progress passed: its verdict says LIVELOCK */
} cd_abort_reason_t;

/* What an object record needs to undo a hold when its owner is aborted. */
typedef void (*cd_release_fn)(void *obj);

/* ---- records: written by their thread, read by observers ---- */

typedef struct cd_thread_rec {
    char name[CD_NAME_MAX];
    _Atomic int state;
    _Atomic int waiting_on;      /* object id while blocked */
    _Atomic int wait_timed;      /* the wait has a deadline: it cannot last */
    _Atomic unsigned wait_seq;   /* bumped at every new wait */
    _Atomic int joining;         /* the thread it joins (blocked), or 0 */
    _Atomic int64_t since_ns;    /* when the current state began */
    _Atomic(const char *) what;  /* label of the latency while sleeping */
    _Atomic int worker;          /* a task's worker object; 0: a thread */
    _Atomic int64_t wake_ns;     /* parked on a timer: when it expires */
    _Atomic int nheld;
    _Atomic int held[CD_MAX_HELD];
    /* The latest operation, packed so that recording it costs one store
     * (see cd__op_begin; cd_reg_snapshot unpacks it): bits 0-15 the
     * object id, 16-23 the cd_op_t, 24-63 how many operations so far. */
    _Atomic uint64_t last;
} cd_thread_rec_t;

typedef struct cd_obj_rec {
    char name[CD_NAME_MAX];
    _Atomic int kind;
    _Atomic int live;
    _Atomic int owner;           /* thread id holding it, 0 if free */
    _Atomic int readers;         /* rwlock: threads sharing it for reading */
    _Atomic int nwaiters;
    _Atomic uint64_t acquisitions;
    _Atomic uint64_t contended;  /* acquisitions that had to wait */
    _Atomic(const char *) site_file; /* where the owner took it */
    _Atomic int site_line;
    void *impl;                  /* the primitive, for release on abort */
    cd_release_fn release;
    /* Channels (CD_OBJ_CHAN) only, written under the channel's lock.
     * Broadcast channels (CD_OBJ_BCAST) use capacity, depth (messages
     * kept), bytes, sent and closed; each subscriber (CD_OBJ_BSUB) uses
     * capacity (its channel's), depth (how far behind it is: messages
     * sent that it has not read, above capacity once it lags), received,
     * drops (messages it missed by lagging, in all) and closed. */
    _Atomic uint64_t chan_capacity;   /* 0: unbounded */
    _Atomic uint64_t chan_depth;
    _Atomic uint64_t chan_high_water;
    _Atomic uint64_t chan_bytes;      /* memory held for messages */
    _Atomic uint64_t chan_sent;
    _Atomic uint64_t chan_received;
    _Atomic uint64_t chan_drops;      /* messages shed by try sends */
    _Atomic int chan_closed;
    /* Condition variables (CD_OBJ_COND) only, written under the condition
     * variable's lock. A signal or broadcast that found nobody waiting is
     * "unheard" (lost); the last one is kept: who sent it, where, when. */
    _Atomic uint64_t cond_signals;
    _Atomic uint64_t cond_broadcasts;
    _Atomic uint64_t cond_unheard;
    _Atomic int cond_unheard_thread;
    _Atomic(const char *) cond_unheard_file;
    _Atomic int cond_unheard_line;
    _Atomic int64_t cond_unheard_ns;  /* cd_reg_elapsed_ns() */
    _Atomic int cond_unheard_all;     /* it was a broadcast */
    /* Woken waiters that have not returned from the wait yet: such a
     * waiter still shows blocked on the condition variable, but it is
     * about to go on, not stuck. */
    _Atomic int cond_pending;
    /* Semaphores (CD_OBJ_SEM) only, written under the semaphore's lock. */
    _Atomic int64_t sem_count;
    /* Oneshots (CD_OBJ_ONESHOT) only: CD_ONESHOT_EMPTY, _SENT, _TAKEN or
     * _DROPPED, written under the oneshot's lock. */
    _Atomic int oneshot_state;
    /* Keys (CD_OBJ_KEY, CD_OBJ_AKEY) only, written under the key table's
     * lock. A key table reuses the record of a freed key for its next new
     * key: the name (the table's prefix) stays, the key changes. The
     * queue holds the first waiters' ids in arrival order (0 past the
     * end; an untracked waiter shows as 0 too). */
    _Atomic uint64_t key;
    _Atomic int key_queue[CD_KEY_QUEUE_SHOWN];
    /* Connections (CD_OBJ_CONN) only, written by whoever reads or writes
     * it (cd_io.c). queued: bytes its program holds for it and has not
     * written yet (cd_io_set_queued); unsent: bytes the kernel still held
     * in its send buffer after the last write; wblocked: how many wait
     * for it to take more (a write that found the buffer full). */
    _Atomic uint64_t io_read;
    _Atomic uint64_t io_written;
    _Atomic uint64_t io_queued;
    _Atomic uint64_t io_unsent;
    _Atomic int io_wblocked;
    _Atomic int io_closed;
} cd_obj_rec_t;

/* ---- snapshot: plain copies for observers ---- */

typedef struct cd_thread_info {
    int id;
    char name[CD_NAME_MAX];
    int state;
    int waiting_on;
    int wait_timed;
    unsigned wait_seq;
    int joining;
    int64_t since_ns;
    const char *what;
    int worker;
    int64_t wake_ns;
    int nheld;
    int held[CD_MAX_HELD];
    int last_op;
    int last_obj;
    uint64_t nops;
} cd_thread_info_t;

typedef struct cd_obj_info {
    int id;
    char name[CD_NAME_MAX];
    int kind;
    int live;
    int owner;
    int readers;
    int nwaiters;
    uint64_t acquisitions;
    uint64_t contended;
    cd_site_t site;
    /* Channels only (see cd_obj_rec_t). */
    uint64_t chan_capacity, chan_depth, chan_high_water, chan_bytes;
    uint64_t chan_sent, chan_received, chan_drops;
    int chan_closed;
    /* Condition variables only (see cd_obj_rec_t). */
    uint64_t cond_signals, cond_broadcasts, cond_unheard;
    int cond_unheard_thread;
    cd_site_t cond_unheard_site;
    int64_t cond_unheard_ns;
    int cond_unheard_all;
    int cond_pending;
    /* Semaphores only. */
    int64_t sem_count;
    /* Oneshots only. */
    int oneshot_state;
    /* Keys only: the key (the name says "<prefix>[<key>]") and the first
     * waiters in arrival order, 0-terminated when fewer. */
    uint64_t key;
    int key_queue[CD_KEY_QUEUE_SHOWN];
    /* Connections only (see cd_obj_rec_t). */
    uint64_t io_read, io_written, io_queued, io_unsent;
    int io_wblocked, io_closed;
} cd_obj_info_t;

/* A live figure: "charges" = 9. */
typedef struct cd_gauge_info {
    char name[CD_NAME_MAX];
    int64_t value;
} cd_gauge_info_t;

typedef struct cd_snapshot {
    int64_t t_ns;
    int abort_reason;
    int paused;
    int nthreads;
    int nobjs;
    int ngauges;
    cd_thread_info_t threads[CD_MAX_THREADS];
    cd_obj_info_t objs[CD_MAX_OBJECTS];
    cd_gauge_info_t gauges[CD_MAX_GAUGES];
    int nnotes;             /* notes[0 .. nnotes-1]; "" where none is set */
    char notes[CD_MAX_NOTES][CD_NOTE_MAX];
} cd_snapshot_t;

/* One link of a wait-for cycle: thread holds `holds` and waits for `waits`. */
typedef struct cd_cycle_link {
    int thread;
    int holds;
    int waits;
} cd_cycle_link_t;

typedef struct cd_cycle {
    int len;
    cd_cycle_link_t link[CD_MAX_CYCLE];
} cd_cycle_t;

/* One live thread of a run where no thread can run, and what it waits for
 * (cd_waitfor_stuck): an object, or the thread it joins, or neither (a
 * controlled run's participant that its record shows in another state). */
typedef struct cd_stuck_wait {
    int thread;
    int state;    /* its cd_thread_state_t */
    int obj;      /* the object it waits on; 0: none */
    int kind;     /* that object's cd_obj_kind_t */
    int owner;    /* its owner then; 0: none */
    int joins;    /* the thread it joins; 0: none */
} cd_stuck_wait_t;

typedef struct cd_stuck {
    int nlive;    /* live threads, all waiting */
    int len;      /* how many of them wait[] holds (the first CD_MAX_STUCK) */
    cd_stuck_wait_t wait[CD_MAX_STUCK];
    /* A sentence a primitive's own check may add about why the wait lasts
     * for ever: for a condition variable, the signal that came before
     * anyone waited (a lost wake-up). "" when none. */
    char lost_wakeup[CD_LOST_WAKEUP_MAX];
} cd_stuck_t;

/*
 * A lock-order inversion: somebody took `second` while holding `first`
 * (edge first->second), and somebody else took a path back from second to
 * first. Sites say where each edge was made.
 */
typedef struct cd_inversion {
    int first, second;           /* the edge that closed the cycle */
    int thread;                  /* who made it */
    cd_site_t held_at, taken_at; /* where first was held, second taken */
    int back_thread;             /* who made the reverse edge second->first */
    int back_next;               /* the lock it took after second: first when
                                    direct, else the next hop of the path */
    cd_site_t back_held_at, back_taken_at;
    int direct;                  /* 1 when the reverse path is one edge */
} cd_inversion_t;

/* ---- the run ---- */

/* Empties every table and finding, clears the abort flag, restarts the
 * clock. Call between runs, with no instrumented thread alive. */
void cd_reg_reset(void);

/* Settings. Tracing costs a few stores per operation; latency scale is a
 * factor in thousandths applied to simulated latencies (1000 = as written). */
void cd_reg_set_trace(int on);
int cd_reg_trace_on(void);
void cd_reg_set_latency_scale(int permille);
int cd_reg_latency_scale(void);

/* The run's abort flag: once set, blocked and sleeping threads end. The
 * first reason set wins; returns 1 if this call set it. */
int cd_reg_abort(int reason);
int cd_reg_aborted(void);

/* Pause: while on, every thread cd_thread started stops at its next pass
 * through the choke point (shown as CD_T_PAUSED) until the pause ends or
 * the run is aborted. Costs nothing extra while off: it shares one flags
 * word with tracing. Call from one controlling thread (the live view). */
void cd_reg_set_paused(int on);
int cd_reg_paused(void);

/* The run's clock: nanoseconds since cd_reg_reset(), or the virtual clock
 * of a controlled run (see cd_sched.h). */
int64_t cd_reg_elapsed_ns(void);
/* The same, not counting time spent paused: what the hard timeout uses. */
int64_t cd_reg_active_ns(void);

/* The record for an id, or NULL for 0 / out of range. Names: a key's
 * ("<prefix>[<key>]") is made in a buffer of the calling thread's that
 * its fourth next call reuses; others are the record's own. */
cd_thread_rec_t *cd_reg_thread(int id);
cd_obj_rec_t *cd_reg_object(int id);
const char *cd_reg_thread_name(int id);
const char *cd_reg_object_name(int id);

/* The calling thread's id; a thread libconc did not start is registered
 * on first use under the name "main" (or "thread-N"). */
int cd_self(void);

/* Copies the tables into *out. Safe from any thread at any time; fields of
 * one record may be a few nanoseconds apart. */
void cd_reg_snapshot(cd_snapshot_t *out);

/* Names as a snapshot saw them ("?" for an id it does not hold): what an
 * observer uses instead of the live tables. */
const char *cd_snap_thread_name(const cd_snapshot_t *s, int id);
const char *cd_snap_object_name(const cd_snapshot_t *s, int id);

/* Live figures: a fixed table of named int64 values that a scenario
 * publishes from its shared harness code ("charges", "transfers done")
 * for the live view. cd_reg_gauge() finds or adds one and returns its id
 * (0 when the table is full: setting id 0 does nothing); register them
 * while setting up, from one thread. Set and add are relaxed atomics: they
 * order nothing between the demo's threads. */
int cd_reg_gauge(const char *name);
void cd_reg_gauge_set(int id, int64_t value);
void cd_reg_gauge_add(int id, int64_t delta);
int64_t cd_reg_gauge_get(int id);

/* Live notes: up to CD_MAX_NOTES lines of text (CD_NOTE_MAX bytes each,
 * cut there) that a run publishes for the live view beside its figures -
 * db-race lists its instance processes there, and who waits for whom.
 * Line `line` (0 ..) is set to text, "" clears it; one thread writes them
 * (the run's own). The view reads a line whole or not at all (a sequence
 * count around relaxed atomic bytes), and orders nothing between the
 * demo's threads. */
void cd_reg_note(int line, const char *text);

/* Findings: the deadlock cycle (1 and a copy if one was found), the
 * threads of a run that no thread could run any more (1 and a copy; see
 * cd_waitfor.h), the lock-order inversions (how many were copied, at most
 * max). */
int cd_reg_deadlock(cd_cycle_t *out);
int cd_reg_stuck(cd_stuck_t *out);
int cd_reg_inversions(cd_inversion_t *out, int max);

/* Human names for states (e.g. "blocked") and object kinds ("mutex",
 * "channel"; "object" for a kind it does not know). */
const char *cd_thread_state_name(int state);
const char *cd_obj_kind_name(int kind);

#endif /* CD_REGISTRY_H */
