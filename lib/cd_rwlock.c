/*
 * cd_rwlock.c - the instrumented reader-writer lock.
 *
 * The two glibc policies sit on a pthread_rwlock_t configured with
 * pthread_rwlockattr_setkind_np (a GNU extension: hence _GNU_SOURCE, here
 * and nowhere else). The fair policy is our own: a mutex, one condition
 * variable and a FIFO of waiters, because no pthread rwlock promises
 * arrival order.
 *
 * Every operation goes through the choke point like cd_mutex's: a trylock
 * first; if that fails the thread waits through the choke point's wait
 * loop (cd__op_wait), which shows it blocked and waits in slices so that
 * it notices the run's abort flag. For ThreadSanitizer each operation
 * is one user-mutex operation (read-side ones flagged as such), so TSan
 * sees a real reader-writer lock and ignores the bookkeeping inside.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */

#include "cd_rwlock.h"

#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#include "cd_op.h"

/* A wait is cut into slices (cd__op_wait) so that a blocked thread
 * notices the run's abort. Our own FIFO keeps a waiter's place across
 * slices, so it takes the usual short ones. A glibc writer cannot keep its
 * place: when its timed wait expires it stops being the waiting writer for
 * a moment, and under PREFER_WRITER a reader may slip in then. Its slices
 * are long, so that a writer loses its preference at most once per 500 ms
 * of waiting; an abort still ends it well within the CLI's grace period
 * (and usually at once: the threads it waits for are aborted and let go
 * first). */
#define GLIBC_SLICE_NS (500 * 1000 * 1000)

/* ThreadSanitizer knows the lock by an address that is not the inner
 * pthread object's, or the interceptor's view and the annotation's would
 * count every acquisition twice. */
#define TSAN_ID(l) ((void *)&(l)->id)

static void release(void *impl)
{
    cd_rwlock_unlock_at(impl, (cd_site_t){ __FILE__, __LINE__ });
}

/* ================================ set-up ================================= */

static void init_glibc(cd_rwlock_t *l)
{
    pthread_rwlockattr_t a;
    /* Only NONRECURSIVE really prefers writers: glibc treats plain
     * PTHREAD_RWLOCK_PREFER_WRITER_NP like the reader-preferring default. */
    int kind = l->policy == CD_RW_PREFER_WRITER
                   ? PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP
                   : PTHREAD_RWLOCK_PREFER_READER_NP;

    CD_CHECK(pthread_rwlockattr_init(&a));
    CD_CHECK(pthread_rwlockattr_setkind_np(&a, kind));
    CD_CHECK(pthread_rwlock_init(&l->rw, &a));
    CD_CHECK(pthread_rwlockattr_destroy(&a));
}

static void init_fair(cd_rwlock_t *l)
{
    pthread_condattr_t a;

    /* Slices are measured on the monotonic clock: a clock step must not
     * stretch or cut a wait. */
    CD_CHECK(pthread_condattr_init(&a));
    CD_CHECK(pthread_condattr_setclock(&a, CLOCK_MONOTONIC));
    CD_CHECK(pthread_cond_init(&l->turn, &a));
    CD_CHECK(pthread_condattr_destroy(&a));
    CD_CHECK(pthread_mutex_init(&l->m, NULL));
    cd_queue_init(&l->queue);
    l->readers = 0;
    l->writer = 0;
}

int cd_rwlock_init(cd_rwlock_t *l, const char *name, cd_rw_policy_t policy)
{
    l->id = 0;
    if (policy != CD_RW_PREFER_READER && policy != CD_RW_PREFER_WRITER &&
        policy != CD_RW_FAIR)
        return -EINVAL;
    int id = cd__reg_add_object(name, CD_OBJ_RWLOCK, l, release);
    if (id < 0)
        return id;
    l->policy = policy;
    atomic_init(&l->write_held, 0);
    atomic_init(&l->waiting[0], 0);
    atomic_init(&l->waiting[1], 0);
    if (policy == CD_RW_FAIR)
        init_fair(l);
    else
        init_glibc(l);
    CD_TSAN_CREATE(TSAN_ID(l));
    l->id = id;
    return 0;
}

void cd_rwlock_destroy(cd_rwlock_t *l)
{
    if (!l->id) /* init failed: nothing was set up */
        return;
    CD_TSAN_DESTROY(TSAN_ID(l));
    if (l->policy == CD_RW_FAIR) {
        CD_CHECK(pthread_cond_destroy(&l->turn));
        CD_CHECK(pthread_mutex_destroy(&l->m));
    } else {
        CD_CHECK(pthread_rwlock_destroy(&l->rw));
    }
    cd__reg_remove_object(l->id);
    l->id = 0;
}

int cd_rwlock_waiting(cd_rwlock_t *l, int write)
{
    return atomic_load_explicit(&l->waiting[write != 0], memory_order_relaxed);
}

const char *cd_rw_policy_name(int policy)
{
    switch (policy) {
    case CD_RW_PREFER_READER: return "prefer-reader";
    case CD_RW_PREFER_WRITER: return "prefer-writer";
    case CD_RW_FAIR: return "fair";
    default: return "?";
    }
}

/* ============================ glibc policies ============================= */

static int glibc_try(cd_rwlock_t *l, int write)
{
    int rc = write ? pthread_rwlock_trywrlock(&l->rw)
                   : pthread_rwlock_tryrdlock(&l->rw);
    if (rc == 0)
        return 0;
    if (rc != EBUSY && rc != EAGAIN) /* EAGAIN: too many readers */
        CD_CHECK(rc);
    return -EBUSY;
}

/* Under the controlled scheduler: glibc cannot be asked "would you let me
 * in", so its two policies are played from what is visible: a writer
 * inside, readers inside, writers waiting (all of them parked: only one
 * thread runs). */
static int glibc_room(const cd_rwlock_t *l, int write)
{
    int writer = atomic_load_explicit(&l->write_held, memory_order_relaxed);
    int readers = l->id ? cd__ld(&cd__obj(l->id)->readers) : 0;
    int writers_waiting =
        atomic_load_explicit(&l->waiting[1], memory_order_relaxed);
    if (write)
        return !writer && readers == 0;
    return !writer &&
           !(l->policy == CD_RW_PREFER_WRITER && writers_waiting > 0);
}

/* ============================== fair policy ============================== */

/* Whether a thread at the front of the queue (or finding it empty) may go
 * in now. Caller holds l->m. */
static int fair_room(const cd_rwlock_t *l, int write)
{
    return write ? (!l->writer && l->readers == 0) : !l->writer;
}

/* Caller holds l->m. */
static void fair_enter(cd_rwlock_t *l, int write)
{
    if (write)
        l->writer = 1;
    else
        l->readers++;
}

static int fair_try(cd_rwlock_t *l, int write)
{
    CD_CHECK(pthread_mutex_lock(&l->m));
    /* Anyone queued came first: taking it now would overtake them. */
    int ok = !cd_queue_front(&l->queue) && fair_room(l, write);
    if (ok)
        fair_enter(l, write);
    CD_CHECK(pthread_mutex_unlock(&l->m));
    return ok ? 0 : -EBUSY;
}

static void fair_leave(cd_rwlock_t *l, int write)
{
    CD_CHECK(pthread_mutex_lock(&l->m));
    if (write)
        l->writer = 0;
    else
        l->readers--;
    if (cd_queue_front(&l->queue))
        CD_CHECK(pthread_cond_broadcast(&l->turn));
    CD_CHECK(pthread_mutex_unlock(&l->m));
}

/* ================================ waiting ================================
 * What cd__op_wait needs of an rwlock (see cd_op.h). */

static int try_enter(cd_rwlock_t *l, int write)
{
    if (l->policy == CD_RW_FAIR)
        return fair_try(l, write);
    /* A controlled run plays prefer-writer itself (see glibc_room). */
    if (cd__sched_on() && !glibc_room(l, write))
        return -EBUSY;
    return glibc_try(l, write);
}

typedef struct rw_wait {
    cd_rwlock_t *l;
    int write;
    const cd_qnode_t *me; /* fair: our place in the queue */
} rw_wait_t;

/* Whether the waiter could go in now. Fair: it is at the front of the
 * queue with room to go in (caller holds l->m, or the waiter is parked
 * with l->m free and nobody else runs). */
static int rw_ready(void *arg)
{
    const rw_wait_t *w = arg;
    if (w->l->policy == CD_RW_FAIR)
        return cd_queue_front(&w->l->queue) == w->me &&
               fair_room(w->l, w->write);
    return glibc_room(w->l, w->write);
}

/* One slice for the glibc policies: a timed lock, or a try. The clock*
 * forms (glibc 2.30) rather than timed*: they take CLOCK_MONOTONIC, and
 * Valgrind's Helgrind and DRD know them (not the timed* ones), so they see
 * who holds the lock. */
static int glibc_slice(void *arg, int64_t until_ns)
{
    const rw_wait_t *w = arg;
    if (until_ns == CD__WAIT_TRY)
        return try_enter(w->l, w->write) == 0;
    struct timespec ts = { until_ns / 1000000000, until_ns % 1000000000 };
    int rc = w->write
                 ? pthread_rwlock_clockwrlock(&w->l->rw, CLOCK_MONOTONIC, &ts)
                 : pthread_rwlock_clockrdlock(&w->l->rw, CLOCK_MONOTONIC, &ts);
    if (rc == EDEADLK) {
        /* glibc refuses when the caller already holds the lock for
         * writing. Waiting on is what the program asked for: the thread
         * stays blocked on a lock it owns itself, which the watchdog
         * reports as a deadlock, and ends with the run's abort. It looks
         * at the abort as often as any waiter, not once per long slice. */
        int64_t soon = cd_now_ns() + CD__WAIT_SLICE_NS;
        cd__op_nap(until_ns < soon ? until_ns : soon);
        return 0;
    }
    return cd__op_timed(rc);
}

/* The abort came as the slice got in: let go again. */
static void glibc_undo(void *arg)
{
    CD_CHECK(pthread_rwlock_unlock(&((const rw_wait_t *)arg)->l->rw));
}

/* Waits until the thread is inside (0), or the run's abort ends the wait
 * (-ECANCELED, not inside). The fair policy queues the thread first, so
 * that it keeps its place across slices, and lets it in once it is at the
 * front: a wait there takes nothing by itself. */
static int wait_enter(cd_rwlock_t *l, int write, int self, cd_site_t site)
{
    cd_qnode_t me;
    rw_wait_t rw = { l, write, &me };
    cd__wait_t w = { .ready = rw_ready, .arg = &rw, .site = site };

    if (l->policy != CD_RW_FAIR) {
        w.slice = glibc_slice;
        w.undo = glibc_undo;
        w.slice_ns = GLIBC_SLICE_NS;
        return cd__op_wait(self, l->id, &w);
    }
    w.cond = &l->turn;
    w.lock = &l->m;
    CD_CHECK(pthread_mutex_lock(&l->m));
    cd_queue_push(&l->queue, &me);
    int rc = cd__op_wait(self, l->id, &w);
    cd_queue_remove(&l->queue, &me);
    if (rc == 0)
        fair_enter(l, write);
    /* The front changed: a reader behind a reader may now join it, and a
     * waiter behind one that gave up may now be first. */
    CD_CHECK(pthread_cond_broadcast(&l->turn));
    CD_CHECK(pthread_mutex_unlock(&l->m));
    return rc;
}

/* ============================== operations =============================== */

/* Bookkeeping once the thread is inside. */
static void entered(cd_rwlock_t *l, int self, int write, cd_site_t site)
{
    if (write)
        atomic_store_explicit(&l->write_held, 1, memory_order_relaxed);
    if (self && l->id) {
        if (write)
            cd__op_acquired(self, l->id, site);
        else
            cd__op_acquired_shared(self, l->id, site);
    }
}

static int acquire(cd_rwlock_t *l, int write, cd_site_t site)
{
    int self = cd__self(), tracked = self && l->id;
    unsigned tf = write ? 0 : CD_TSAN_READ;

    CD_TSAN_PRE_LOCK(TSAN_ID(l), tf);
    if (tracked) {
        cd__op_begin(self, write ? CD_OP_WRLOCK : CD_OP_RDLOCK, l->id, 0,
                     NULL, site);
        cd__op_order(self, l->id, site);
    }
    int rc = try_enter(l, write);
    if (rc != 0) {
        atomic_fetch_add_explicit(&l->waiting[write], 1, memory_order_relaxed);
        rc = wait_enter(l, write, tracked ? self : 0, site);
        atomic_fetch_sub_explicit(&l->waiting[write], 1, memory_order_relaxed);
    }
    if (rc == 0) {
        entered(l, self, write, site);
        CD_TSAN_POST_LOCK(TSAN_ID(l), tf);
        return 0;
    }
    CD_TSAN_POST_LOCK(TSAN_ID(l), tf | CD_TSAN_TRY_FAILED);
    return cd__op_end_if_aborted(tracked ? self : 0, rc);
}

static int try_acquire(cd_rwlock_t *l, int write, cd_site_t site)
{
    int self = cd__self(), tracked = self && l->id;
    unsigned tf = (write ? 0 : CD_TSAN_READ) | CD_TSAN_TRY;

    CD_TSAN_PRE_LOCK(TSAN_ID(l), tf);
    if (tracked)
        cd__op_begin(self, write ? CD_OP_TRYWRLOCK : CD_OP_TRYRDLOCK, l->id,
                     0, NULL, site);
    if (try_enter(l, write) == 0) {
        entered(l, self, write, site);
        CD_TSAN_POST_LOCK(TSAN_ID(l), tf);
        return 0;
    }
    if (tracked)
        cd__op_note(self, CD_OP_BUSY, l->id, 0, site);
    CD_TSAN_POST_LOCK(TSAN_ID(l), tf | CD_TSAN_TRY_FAILED);
    return -EBUSY;
}

int cd_rwlock_rdlock_at(cd_rwlock_t *l, cd_site_t site)
{
    return acquire(l, 0, site);
}

int cd_rwlock_wrlock_at(cd_rwlock_t *l, cd_site_t site)
{
    return acquire(l, 1, site);
}

int cd_rwlock_tryrdlock_at(cd_rwlock_t *l, cd_site_t site)
{
    return try_acquire(l, 0, site);
}

int cd_rwlock_trywrlock_at(cd_rwlock_t *l, cd_site_t site)
{
    return try_acquire(l, 1, site);
}

void cd_rwlock_unlock_at(cd_rwlock_t *l, cd_site_t site)
{
    int self = cd__self();
    /* The caller holds l: if a writer is inside, that is the caller (no
     * reader can be inside with it); otherwise the caller is a reader. */
    int write = atomic_load_explicit(&l->write_held, memory_order_relaxed);
    unsigned tf = write ? 0 : CD_TSAN_READ;

    CD_TSAN_PRE_UNLOCK_F(TSAN_ID(l), tf);
    if (self && l->id) {
        cd__op_begin(self, CD_OP_UNLOCK, l->id, 0, NULL, site);
        if (write)
            cd__op_released(self, l->id);
        else
            cd__op_released_shared(self, l->id);
    }
    if (write)
        atomic_store_explicit(&l->write_held, 0, memory_order_relaxed);
    if (l->policy == CD_RW_FAIR)
        fair_leave(l, write);
    else
        CD_CHECK(pthread_rwlock_unlock(&l->rw));
    CD_TSAN_POST_UNLOCK_F(TSAN_ID(l), tf);
}
