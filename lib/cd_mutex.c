/*
 * cd_mutex.c - the instrumented mutex.
 *
 * Three paths. The fast path (the common case: a known thread, no
 * controlled scheduler, no other lock held, the mutex free) is one trylock
 * plus a few relaxed stores into the registry, and with tracing on one
 * event in the thread's own trace ring; it is inline, in cd_mutex_fast.h,
 * and bench/bench_mutex.c measures it against a raw pthread mutex. The general path (here) does the same steps through
 * cd__op_begin/cd__op_acquired, with the trace, the scheduler's decision
 * point and the lock-order check. The waiting path hands the wait to
 * the choke point's wait loop (cd__op_wait), giving it a timed lock as
 * its slice and "no owner in the registry" as the controlled scheduler's
 * test. For ThreadSanitizer the whole operation is annotated as one
 * user mutex operation, so TSan sees a real lock (with lock-order
 * checking) and ignores libconc's own bookkeeping.
 */
#include "cd_mutex.h"

#include <errno.h>
#include <time.h>

#include "cd_op.h"

#define TSAN_ID(m) CD__MUTEX_TSAN_ID(m) /* see cd_mutex_fast.h */

/* An aborted thread's hold is undone here: an ordinary unlock. */
static void release(void *impl)
{
    cd_mutex_unlock_at(impl, (cd_site_t){ __FILE__, __LINE__ });
}

int cd_mutex_init(cd_mutex_t *m, const char *name)
{
    int id = cd__reg_add_object(name, CD_OBJ_MUTEX, m, release);
    if (id < 0)
        return id;
    CD_CHECK(pthread_mutex_init(&m->m, NULL));
    CD_TSAN_CREATE(TSAN_ID(m));
    m->id = id;
    m->rec = cd__obj(id);
    return 0;
}

void cd_mutex_destroy(cd_mutex_t *m)
{
    CD_TSAN_DESTROY(TSAN_ID(m));
    CD_CHECK(pthread_mutex_destroy(&m->m));
    cd__reg_remove_object(m->id);
}

/* ================================ waiting ================================
 * What cd__op_wait needs of a mutex (see cd_op.h). */

/* One slice: a timed lock until until_ns, or a trylock. */
static int mutex_slice(void *arg, int64_t until_ns)
{
    cd_mutex_t *m = arg;
    if (until_ns == CD__WAIT_TRY)
        return pthread_mutex_trylock(&m->m) == 0;
    /* pthread_mutex_timedlock measures on CLOCK_REALTIME. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t abs = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec +
                  (until_ns - cd_now_ns());
    ts.tv_sec = abs / 1000000000;
    ts.tv_nsec = abs % 1000000000;
    return cd__op_timed(pthread_mutex_timedlock(&m->m, &ts));
}

/* Under the controlled scheduler: free when the registry shows no owner
 * (only one thread runs, so the registry is exact at decision points). */
static int mutex_free(void *arg)
{
    cd_mutex_t *m = arg;
    return m->id == 0 || cd__ld(&cd__obj(m->id)->owner) == 0;
}

static void mutex_undo(void *arg)
{
    CD_CHECK(pthread_mutex_unlock(&((cd_mutex_t *)arg)->m));
}

/* The waiting path, once a trylock failed: wait (shown blocked when
 * tracked), record the outcome. Out of line, like the general path: the
 * slow cases must not weigh on the code of the fast one. */
static CD_NOINLINE int acquire_wait(cd_mutex_t *m, int op, int ms,
                                    cd_site_t site, int tracked)
{
    int self = tracked ? cd__self() : 0, timed = (op == CD_OP_TIMEDLOCK);
    cd__wait_t w = { .slice = mutex_slice, .ready = mutex_free,
                     .undo = mutex_undo, .arg = m, .timed = timed,
                     .timeout_ns = (int64_t)ms * 1000000, .site = site };

    int rc = cd__op_wait(self, m->id, &w);
    if (rc == 0) {
        if (self)
            cd__op_acquired(self, m->id, site);
        CD_TSAN_POST_LOCK(TSAN_ID(m), timed ? CD_TSAN_TRY : 0);
        return 0;
    }
    CD_TSAN_POST_LOCK(TSAN_ID(m), CD_TSAN_TRY_FAILED);
    return cd__op_end_if_aborted(self, rc);
}

/* Takes m, waiting with the given deadline; shared by lock and timedlock.
 * `op` is CD_OP_LOCK or CD_OP_TIMEDLOCK. The general path: any thread,
 * tracing on or off, other locks held or not. */
static CD_NOINLINE int acquire(cd_mutex_t *m, int op, int ms, cd_site_t site)
{
    int self = cd__self(), timed = (op == CD_OP_TIMEDLOCK);
    int tracked = self && m->id;

    CD_TSAN_PRE_LOCK(TSAN_ID(m), timed ? CD_TSAN_TRY : 0);
    if (tracked) {
        cd__op_begin(self, op, m->id, ms, NULL, site);
        if (!timed)
            cd__op_order(self, m->id, site);
    }
    if (CD_LIKELY(pthread_mutex_trylock(&m->m) == 0)) {
        if (tracked)
            cd__op_acquired(self, m->id, site);
        CD_TSAN_POST_LOCK(TSAN_ID(m), timed ? CD_TSAN_TRY : 0);
        return 0;
    }
    return acquire_wait(m, op, ms, site, tracked);
}

/* The traced fast path (cd_mutex_fast.h) found the mutex taken: its lock
 * event (the registry has it already), then the wait, which traces the
 * rest. */
int cd__mutex_lock_wait_traced(cd_mutex_t *m, cd_site_t site)
{
    cd__op_note(cd__self(), CD_OP_LOCK, m->id, 0, site);
    return acquire_wait(m, CD_OP_LOCK, 0, site, 1);
}

int cd__mutex_lock_general(cd_mutex_t *m, cd_site_t site)
{
    return acquire(m, CD_OP_LOCK, 0, site);
}

int cd__mutex_lock_wait(cd_mutex_t *m, cd_site_t site)
{
    return acquire_wait(m, CD_OP_LOCK, 0, site, 1);
}

/* The function form of the cd_mutex_lock macro: the same inline fast path,
 * compiled once here. */
int cd_mutex_lock_at(cd_mutex_t *m, cd_site_t site)
{
    return cd__mutex_lock(m, site);
}

int cd_mutex_timedlock_at(cd_mutex_t *m, int ms, cd_site_t site)
{
    return acquire(m, CD_OP_TIMEDLOCK, ms < 0 ? 0 : ms, site);
}

int cd_mutex_trylock_at(cd_mutex_t *m, cd_site_t site)
{
    int self = cd__self(), tracked = self && m->id;

    CD_TSAN_PRE_LOCK(TSAN_ID(m), CD_TSAN_TRY);
    if (tracked)
        cd__op_begin(self, CD_OP_TRYLOCK, m->id, 0, NULL, site);
    if (pthread_mutex_trylock(&m->m) == 0) {
        if (tracked)
            cd__op_acquired(self, m->id, site);
        CD_TSAN_POST_LOCK(TSAN_ID(m), CD_TSAN_TRY);
        return 0;
    }
    if (tracked)
        cd__op_note(self, CD_OP_BUSY, m->id, 0, site);
    CD_TSAN_POST_LOCK(TSAN_ID(m), CD_TSAN_TRY_FAILED);
    return -EBUSY;
}

/* The general path of unlock: any thread, any mode. */
void cd__mutex_unlock_general(cd_mutex_t *m, cd_site_t site)
{
    int self = cd__self();

    CD_TSAN_PRE_UNLOCK(TSAN_ID(m));
    if (self && m->id) {
        cd__op_begin(self, CD_OP_UNLOCK, m->id, 0, NULL, site);
        cd__op_released(self, m->id);
    }
    CD_CHECK(pthread_mutex_unlock(&m->m));
    CD_TSAN_POST_UNLOCK(TSAN_ID(m));
}

/* The function form of the cd_mutex_unlock macro (see cd_mutex_lock_at). */
void cd_mutex_unlock_at(cd_mutex_t *m, cd_site_t site)
{
    cd__mutex_unlock(m, site);
}
