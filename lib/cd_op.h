/*
 * cd_op.h - the choke point: every primitive operation passes through here.
 *
 * Each libconc primitive calls cd__op_begin() before it acts and one of
 * the cd__op_* state changes after (acquired, released, blocked, ...). In
 * the free-running mode these only record: the registry's record of the
 * thread and object, the trace (when on) and the lock-order graph. They are
 * the single place where a controlled scheduler takes its decisions, so a
 * new primitive must go through them and nowhere else. A primitive that
 * must wait does so through cd__op_wait (below), which owns everything
 * about waiting but the primitive's own test and slice.
 *
 * Internal to libconc. All functions expect self != 0 (a tracked thread);
 * callers skip the bookkeeping when the registry was full (self == 0).
 * cd__op_wait and cd__op_end_if_aborted take self 0 for such a thread.
 */
#ifndef CD_OP_H
#define CD_OP_H

#include <errno.h>
#include <pthread.h>

#include "cd_internal.h"

static CD_ALWAYS_INLINE int cd__tracing(void)
{
    return CD_UNLIKELY(cd__ld(&cd__reg.slow) & CD_SLOW_TRACE);
}

/* The rare part of cd__op_begin: pause, then trace (see cd_op.c). */
void cd__op_slow(int self, int op, int obj, int64_t arg, const char *label,
                 cd_site_t site);

/* True when cd__op_begin does no more than cd__op_record: no tracing, no
 * pause and no controlled scheduler taking decisions. The fast paths read
 * it through cd__reg.gate (see cd__op_fast_self). */
static CD_ALWAYS_INLINE int cd__op_quiet(void)
{
    return !cd__ld(&cd__reg.slow) && !cd__sched_on();
}

/* The gate of a primitive's fast path: the calling thread's id when this
 * run knows the thread already and cd__op_quiet() holds, else 0. On 0 the
 * primitive takes its general path, which registers the thread if need
 * be (cd__self) and goes through cd__op_begin: the trace event, the
 * controlled scheduler's decision point. Under --sched or --trace every
 * operation goes there.
 * Why one comparison: asked separately ("is my id from this run? tracing?
 * scheduler?") it took five loads and three tests on every lock and
 * unlock, about 1 ns per lock+unlock pair (bench/bench_mutex.c). Here
 * cd__reg.gate folds the two settings into the run's gen, the thread's
 * key holds its gen and its id in one word, and two loads remain. It
 * never calls out: a call would make the compiler save registers on the
 * whole fast path. */
static CD_ALWAYS_INLINE int cd__op_fast_self(void)
{
    uint64_t key = cd__self_key;
    return CD_LIKELY(CD__KEY_GEN(key) == cd__ld(&cd__reg.gate))
               ? CD__KEY_ID(key)
               : 0;
}

/* The traced fast paths' gate: the calling thread's id when this run knows
 * it and the run is quiet but for tracing (cd__reg.tgate), else 0. A
 * primitive's general path asks it first: then it may do what its fast
 * path does, plus the event, which goes into the thread's own ring. */
static CD_ALWAYS_INLINE int cd__op_traced_self(void)
{
    uint64_t key = cd__self_key;
    return CD__KEY_GEN(key) == cd__ld(&cd__reg.tgate) ? CD__KEY_ID(key) : 0;
}

/* The registry half of cd__op_begin: the thread's latest operation. For a
 * primitive's fast path, when cd__op_quiet(). */
static CD_ALWAYS_INLINE void cd__op_record_rec(cd_thread_rec_t *t, int op,
                                               int obj)
{
    /* Operation, object and count share one word: one store instead of
     * three, and an observer sees the three change together. Only this
     * thread writes its record, so a plain load + store counts. */
    uint64_t count = (cd__ld(&t->last) >> CD_LAST_COUNT_SHIFT) + 1;
    cd__st(&t->last, count << CD_LAST_COUNT_SHIFT |
                     (uint64_t)op << CD_LAST_OP_SHIFT | (uint64_t)obj);
}

static CD_ALWAYS_INLINE void cd__op_record(int self, int op, int obj)
{
    cd__op_record_rec(cd__rec(self), op, obj);
}

/* A thread is about to perform op on obj. Tracing and pausing share one
 * flags word: with both off this costs one relaxed load and a predictable
 * branch beyond the registry store; then the controlled scheduler's
 * decision point. */
static CD_ALWAYS_INLINE void cd__op_begin(int self, int op, int obj,
                                          int64_t arg, const char *label,
                                          cd_site_t site)
{
    cd__op_record(self, op, obj);
    if (CD_UNLIKELY(cd__ld(&cd__reg.slow)))
        cd__op_slow(self, op, obj, arg, label, site);
    if (cd__sched_on())
        cd__sched_point(self, op, obj, label, site);
}

/* The rare part of cd__op_begin_outcome: hold a thread while the run is
 * paused (see cd_op.c). */
void cd__op_pause(int self);

/* cd__op_begin for an operation whose trace event carries its outcome (a
 * signal: how many it woke; a post: the new count): the registry, the
 * pause and the controlled scheduler's decision point now, before it
 * acts; the event once the caller knows its arg, with cd__op_note. */
static CD_ALWAYS_INLINE void cd__op_begin_outcome(int self, int op, int obj,
                                                  cd_site_t site)
{
    cd__op_record(self, op, obj);
    if (CD_UNLIKELY(cd__ld(&cd__reg.slow) & CD_SLOW_PAUSE))
        cd__op_pause(self);
    if (cd__sched_on())
        cd__sched_point(self, op, obj, NULL, site);
}

/* A thread that holds other locks asks for obj and is ready to wait for
 * it: the lock-order graph learns "held -> obj". */
static CD_ALWAYS_INLINE void cd__op_order(int self, int obj,
                                          cd_site_t site)
{
    cd_thread_rec_t *t = cd__rec(self);
    int n = cd__ld(&t->nheld);
    if (n > 0)
        cd__lockorder_note(self, t->held, n, obj, site);
}

/* Records only the trace event of a state change (no registry update). */
static CD_ALWAYS_INLINE void cd__op_note(int self, int op, int obj,
                                         int64_t arg, cd_site_t site)
{
    if (cd__tracing())
        cd__trace_emit(self, op, obj, arg, NULL, site);
}

/* The registry half of cd__op_acquired (for a fast path, as above); n is
 * how many locks the thread held before (its nheld), which a fast path
 * may know already. */
static CD_ALWAYS_INLINE void cd__op_hold_rec(cd_thread_rec_t *t, int self,
                                             cd_obj_rec_t *o, int obj,
                                             cd_site_t site, int n)
{
    if (n < CD_MAX_HELD)
        cd__st(&t->held[n], obj);
    cd__st(&t->nheld, n + 1);
    cd__st(&o->owner, self);
    cd__st(&o->acquisitions, cd__ld(&o->acquisitions) + 1);
    /* A lock is mostly taken at the same line as last time: a load that
     * finds the site unchanged is cheaper than a store, which the next
     * locked instruction (the unlock) would have to wait for. */
    if ((cd__ld(&o->site_file) != site.file) |
        (cd__ld(&o->site_line) != site.line)) {
        cd__st(&o->site_file, site.file);
        cd__st(&o->site_line, site.line);
    }
}

static CD_ALWAYS_INLINE void cd__op_hold(int self, int obj, cd_site_t site,
                                         int n)
{
    cd__op_hold_rec(cd__rec(self), self, cd__obj(obj), obj, site, n);
}

/* The thread now holds obj (taken at site). */
static CD_ALWAYS_INLINE void cd__op_acquired(int self, int obj,
                                             cd_site_t site)
{
    cd__op_hold(self, obj, site, cd__ld(&cd__rec(self)->nheld));
    cd__op_note(self, CD_OP_ACQUIRED, obj, 0, site);
}

/* cd__op_released's general case: obj is not on top of the held list. */
void cd__op_released_search(int self, int obj);

/* The thread is about to let go of obj. */
static CD_ALWAYS_INLINE void cd__op_released_rec(cd_thread_rec_t *t,
                                                 int self, cd_obj_rec_t *o,
                                                 int obj)
{
    int n = cd__ld(&t->nheld);
    /* Locks are usually released newest first: then the top of the list
     * goes and nothing moves. The rest is out of line, kept off the fast
     * path. */
    if (CD_LIKELY(n > 0 && n <= CD_MAX_HELD &&
                  cd__ld(&t->held[n - 1]) == obj)) {
        cd__st(&t->nheld, n - 1);
        cd__st(&o->owner, 0);
        return;
    }
    cd__op_released_search(self, obj);
}

static CD_ALWAYS_INLINE void cd__op_released(int self, int obj)
{
    cd__op_released_rec(cd__rec(self), self, cd__obj(obj), obj);
}

/* The thread now shares obj with other readers (an rwlock's read side):
 * obj is in the thread's held list but has no single owner. Readers enter
 * together, so the object's counters change with atomic increments. */
static inline void cd__op_acquired_shared(int self, int obj, cd_site_t site)
{
    cd_thread_rec_t *t = cd__rec(self);
    cd_obj_rec_t *o = cd__obj(obj);
    int n = cd__ld(&t->nheld);
    if (n < CD_MAX_HELD)
        cd__st(&t->held[n], obj);
    cd__st(&t->nheld, n + 1);
    atomic_fetch_add_explicit(&o->readers, 1, CD_RELAXED);
    atomic_fetch_add_explicit(&o->acquisitions, 1, CD_RELAXED);
    cd__st(&o->site_file, site.file);
    cd__st(&o->site_line, site.line);
    cd__op_note(self, CD_OP_ACQUIRED, obj, 1, site);
}

/* The reader is about to stop sharing obj. (cd__op_released's clearing
 * of the owner changes nothing: no writer is inside while a reader is.) */
static inline void cd__op_released_shared(int self, int obj)
{
    cd__op_released(self, obj);
    atomic_fetch_sub_explicit(&cd__obj(obj)->readers, 1, CD_RELAXED);
}

/* The thread found obj taken and will wait (timed: with a deadline). */
void cd__op_block(int self, int obj, int timed, cd_site_t site);
/* The wait is over, whatever its outcome. */
void cd__op_unblock(int self, int obj);
/* The thread self waits for thread `other` to end (a join): shown blocked
 * on it, so that the detectors see the wait; cd__op_joined when it ended. */
void cd__op_join(int self, int other);
void cd__op_joined(int self);

/* ================================ waiting ================================
 * Every blocking primitive waits through cd__op_wait and supplies only
 * what is its own: how to take what it waits for (and wait a bounded time
 * for it), and how the controlled scheduler can tell that it could go on.
 * The loop owns the rest: the thread shown blocked, the park with the
 * controlled scheduler and the real wait when the run is not (or stops
 * being) controlled, the slices, the run's abort and the timeout. */

/* A real wait is cut into slices of this length, so that a waiting thread
 * looks at the run's abort flag at least this often. A primitive asks for
 * longer ones only where ending a slice changes what it models (a glibc
 * rwlock writer loses its place at each slice's end: cd_rwlock.c). */
#define CD__WAIT_SLICE_NS (20 * 1000 * 1000)

/* One wait, as a primitive describes it to cd__op_wait. */
typedef struct cd__wait {
    /* For the controlled scheduler, while the thread is parked: could it
     * go on now? Called on another participant's turn (only one thread
     * runs, *lock is free), so it reads the primitive's state directly.
     * NULL: only the timeout ends the wait (a latency). */
    int (*ready)(void *arg);
    /* One slice of real waiting: takes what the thread waits for if it is
     * there and returns 1; else waits for it until until_ns at the latest
     * (cd_now_ns's clock) and returns 1 if it came and was taken, 0 if
     * not. With until_ns CD__WAIT_TRY it only tries, never waits. Called
     * with *lock held. NULL: the primitive waits on a condition variable,
     * cond, for ready(arg) to hold (and takes nothing: the caller acts
     * once the wait is over). */
    int (*slice)(void *arg, int64_t until_ns);
    pthread_cond_t *cond; /* on CLOCK_MONOTONIC, used with *lock */
    /* Gives back what slice took, when the run's abort came meanwhile.
     * NULL where the wait takes nothing. */
    void (*undo)(void *arg);
    void *arg;
    /* The primitive's own lock, held by the caller throughout the wait:
     * let go while the thread is parked with the scheduler, and by the
     * condition variable while it waits. NULL: none. */
    pthread_mutex_t *lock;
    int timed;           /* the wait ends after timeout_ns */
    int64_t timeout_ns;  /* on the run's clock: virtual in a controlled run */
    int64_t slice_ns;    /* 0: CD__WAIT_SLICE_NS */
    cd_site_t site;      /* where the primitive was called, for the trace */
    /* An idle executor worker's wait in a controlled run: the timers of
     * its sleeping tasks, which the scheduler may end one at a time
     * instead of a timeout (cd__sched_park). The wait then returns
     * -ETIMEDOUT with *fired the task's id; *fired is 0 otherwise. */
    const cd__alarm_t *alarms;
    int nalarms;
    int *fired;
    /* A condition variable's wait, which POSIX lets wake without cause:
     * in a controlled run that allows it (cd_sched_cfg_t.spurious), the
     * scheduler may end the wait while ready does not hold, and the wait
     * returns -EINTR. 0: only ready or the timeout end it. */
    int spurious;
} cd__wait_t;

#define CD__WAIT_TRY 0

/* Waits as w says. With obj != 0 the thread self is shown blocked on obj
 * meanwhile (and a timeout traced); with obj 0 the caller shows what the
 * thread does. self 0 (an untracked thread) waits in real slices only.
 * In a controlled run the thread parks until w->ready holds (or the
 * virtual timeout passes), then takes; if the run stops being controlled
 * (an abort drains it) it goes on in real slices. Between slices it looks
 * at the run's abort: that ends a wait of a thread the run ends (one that
 * cd_thread started, a task) and any wait without a timeout, which would
 * last for ever. Returns 0 (taken), -ETIMEDOUT, -ECANCELED (the run's
 * abort ended the wait; then nothing is held: see w->undo), or -EINTR (a
 * spurious wake-up the controlled scheduler chose: w->spurious; nothing
 * taken). The caller undoes its own part of the wait, then calls
 * cd__op_end_if_aborted. */
int cd__op_wait(int self, int obj, const cd__wait_t *w);

/* After a wait that returned rc: ends the thread self (cd__op_abort_self)
 * if the run's abort ended the wait and the run ends this thread, else
 * returns rc. */
int cd__op_end_if_aborted(int self, int rc);

/* What a slice's timed pthread call (a timed lock, a timed condition
 * wait) returned, as a slice returns it: 1 taken, 0 timed out. Any other
 * error can only be a bug (CD_CHECK). */
static inline int cd__op_timed(int rc)
{
    if (rc != 0 && rc != ETIMEDOUT)
        CD_CHECK(rc);
    return rc == 0;
}

/* Sleeps until until_ns (cd_now_ns's clock), or not at all if it passed. */
void cd__op_nap(int64_t until_ns);

/* A simulated latency (cd_latency): the thread shows as sleeping on what
 * until cd__op_wake. */
void cd__op_sleep(int self, const char *what);
void cd__op_wake(int self, const char *what, cd_site_t site);

/* Ends the calling thread because the run was aborted: releases what it
 * holds, marks it aborted and exits. Only for threads cd_thread started and
 * for tasks (a task leaves its worker for good instead of exiting it). */
_Noreturn void cd__op_abort_self(int self);
/* Whether the calling thread is inside cd__op_abort_self (giving back what
 * it holds, on its way out). */
int cd__op_self_ending(void);

/* ---- tasks (cd_exec.h): a task's record names its worker object ---- */

/* The task self leaves its worker to await obj (an object id), or, with
 * obj 0, a timer called label that expires at wake_ns (run clock). */
void cd__op_park(int self, int obj, const char *label, int64_t wake_ns,
                 cd_site_t site);
/* The task can go on and now waits for its worker. Called by whoever woke
 * it (its worker for a timer, the unlocking task for a lock). */
void cd__op_ready(int task);
/* The task's worker runs it (again): the worker's owner is the task. */
void cd__op_resume(int task);
/* The task self returned from its function. */
void cd__op_task_exit(int self);
/* The run's abort dropped a task that never ran. */
void cd__op_task_dropped(int task);

/* How an aborted task gives its worker back for good (it must not end
 * the worker's thread, as pthread_exit would): the executor installs fn
 * on each of its worker threads before they run a task. fn never returns.
 * A hook, so that the choke point need not know the executor, which
 * calls it. */
void cd__op_on_task_abort(void (*fn)(void));

#endif /* CD_OP_H */
