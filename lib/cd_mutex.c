/*
 * cd_mutex.c - the instrumented mutex.
 *
 * Three paths. The fast path (the common case: a known thread, tracing
 * off, no controlled scheduler, no other lock held, the mutex free) is one
 * trylock plus a few relaxed stores into the registry; it is inline, in
 * cd_mutex_fast.h, and bench/bench_mutex.c measures it against a raw
 * pthread mutex. The general path (here) does the same steps through
 * cd__op_begin/cd__op_acquired, with the trace, the scheduler's decision
 * point and the lock-order check. The waiting path marks the thread
 * blocked, then waits in timed slices so that it can notice the run's
 * abort flag. For ThreadSanitizer the whole operation is annotated as one
 * user mutex operation, so TSan sees a real lock (with lock-order
 * checking) and ignores libconc's own bookkeeping.
 */
#include "cd_mutex.h"

#include <errno.h>
#include <time.h>

#include "cd_op.h"

#define SLICE_NS (20 * 1000 * 1000)

#define TSAN_ID(m) CD__MUTEX_TSAN_ID(m) /* see cd_mutex_fast.h */

static void release(void *impl)
{
    cd_mutex_unlock_at(impl, (cd_site_t){ __FILE__, __LINE__ });
}

int cd_mutex_init(cd_mutex_t *m, const char *name)
{
    int id = cd_reg_add_object(name, CD_OBJ_MUTEX, m, release);
    if (id < 0)
        return id;
    CD_CHECK(pthread_mutex_init(&m->m, NULL));
    CD_TSAN_CREATE(TSAN_ID(m));
    m->id = id;
    return 0;
}

void cd_mutex_destroy(cd_mutex_t *m)
{
    CD_TSAN_DESTROY(TSAN_ID(m));
    CD_CHECK(pthread_mutex_destroy(&m->m));
    cd_reg_remove_object(m->id);
}

/* Waits for m until deadline_ns (0: no deadline), in slices. Returns 0,
 * -ETIMEDOUT, or -ECANCELED when the run was aborted. */
static int wait_for(cd_mutex_t *m, int64_t deadline_ns)
{
    for (;;) {
        if (cd_reg_aborted() && (cd_self_is_spawned() || deadline_ns == 0))
            return -ECANCELED;
        int64_t now = cd_now_ns();
        int64_t until = now + SLICE_NS;
        if (deadline_ns && deadline_ns < until)
            until = deadline_ns;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t abs = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec +
                      (until - now);
        ts.tv_sec = abs / 1000000000;
        ts.tv_nsec = abs % 1000000000;
        int rc = pthread_mutex_timedlock(&m->m, &ts);
        if (rc == 0 && cd_reg_aborted() &&
            (cd_self_is_spawned() || deadline_ns == 0)) {
            /* The lock came free because the run was aborted (a victim
             * released it): this thread ends too, it does not carry on. */
            CD_CHECK(pthread_mutex_unlock(&m->m));
            return -ECANCELED;
        }
        if (rc == 0)
            return 0;
        if (rc != ETIMEDOUT)
            CD_CHECK(rc);
        if (deadline_ns && cd_now_ns() >= deadline_ns)
            return -ETIMEDOUT;
    }
}

/* Under the controlled scheduler: free when the registry shows no owner
 * (only one thread runs, so the registry is exact at decision points). */
static int mutex_free(void *arg)
{
    cd_mutex_t *m = arg;
    return m->id == 0 || cd__ld(&cd__obj(m->id)->owner) == 0;
}

/* The controlled version of wait_for: park until the lock is free (or the
 * virtual deadline passes), then take it. Falls back to a real wait if the
 * run stops being controlled (an abort drains the scheduler). */
static int wait_controlled(cd_mutex_t *m, int self, int timed, int ms)
{
    int64_t deadline = timed ? cd__sched_clock() + (int64_t)ms * 1000000 : 0;
    for (;;) {
        int rc = cd__sched_block(self, mutex_free, m, deadline);
        if (rc == CD_SCHED_FREE_RUN)
            return wait_for(m, timed ? cd_now_ns() + (int64_t)ms * 1000000 : 0);
        if (rc == -ECANCELED)
            return rc;
        if (pthread_mutex_trylock(&m->m) == 0)
            return 0;
        if (rc == -ETIMEDOUT)
            return rc;
    }
}

/* The waiting path, once a trylock failed: mark the thread blocked, wait,
 * record the outcome. Out of line, like the general path: the slow cases
 * must not weigh on the code of the fast one. */
static CD_NOINLINE int acquire_wait(cd_mutex_t *m, int op, int ms,
                                    cd_site_t site, int tracked)
{
    int self = cd__self(), timed = (op == CD_OP_TIMEDLOCK);

    if (tracked)
        cd__op_block(self, m->id, timed, site);
    int rc = cd__sched_on() && tracked
                 ? wait_controlled(m, self, timed, ms)
                 : wait_for(m, timed ? cd_now_ns() + (int64_t)ms * 1000000 : 0);
    if (tracked) {
        cd__op_unblock(self, m->id);
        if (rc == 0)
            cd__op_acquired(self, m->id, site);
        else if (rc == -ETIMEDOUT)
            cd__op_note(self, CD_OP_TIMEOUT, m->id, 0, site);
    }
    if (rc == 0) {
        CD_TSAN_POST_LOCK(TSAN_ID(m), timed ? CD_TSAN_TRY : 0);
        return 0;
    }
    CD_TSAN_POST_LOCK(TSAN_ID(m), CD_TSAN_TRY_FAILED);
    if (rc == -ECANCELED && tracked && cd_self_is_spawned())
        cd__op_abort_self(self);
    return rc;
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
