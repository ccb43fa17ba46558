/*
 * cd_sem.c - the instrumented counting semaphore.
 *
 * A count under one pthread mutex, with a condition variable for the
 * threads that wait while it is 0. The count is mirrored into the
 * registry record while the lock is held. Waits go through the choke
 * point's wait loop (cd__op_wait) with "the count is above 0" as its
 * test, so the controlled scheduler, the run's abort and the timeout come
 * with it; the lock is never held across a scheduling point.
 */
#include "cd_sem.h"

#include <errno.h>
#include <sched.h>
#include <time.h>

#include "cd_op.h"

/* Caller holds s->lock. */
static void publish(const cd_sem_t *s)
{
    cd__st(&cd__obj(s->id)->sem_count, (int64_t)s->value);
}

/* Something to take. Caller holds s->lock - or, for the controlled
 * scheduler, the waiter is parked with the lock free and nobody else
 * runs. */
static int has_count(void *arg)
{
    return ((const cd_sem_t *)arg)->value > 0;
}

/* Shared by the three waits; op says which. */
static int sem_take(cd_sem_t *s, int op, int ms, cd_site_t site)
{
    int self = cd__self(), rc = 0;

    if (self)
        cd__op_begin(self, op, s->id, ms, NULL, site);
    CD_CHECK(pthread_mutex_lock(&s->lock));
    if (s->value == 0) {
        if (op == CD_OP_SEM_TRYWAIT) {
            rc = -EAGAIN;
        } else {
            cd__wait_t w = { .ready = has_count, .arg = s, .cond = &s->cv,
                             .lock = &s->lock,
                             .timed = op == CD_OP_SEM_TIMEDWAIT,
                             .timeout_ns = (int64_t)ms * 1000000,
                             .site = site };
            rc = cd__op_wait(self, s->id, &w);
        }
    }
    if (rc == 0) {
        s->value--;
        publish(s);
    }
    CD_CHECK(pthread_mutex_unlock(&s->lock));
    if (!self)
        return rc;
    if (rc == 0) /* inside: the lock-order graph's gate (cd_internal.h) */
        cd__lockorder_enter(self, s->id);
    if (rc == -EAGAIN)
        cd__op_note(self, CD_OP_BUSY, s->id, 0, site);
    return cd__op_end_if_aborted(self, rc);
}

int cd_sem_wait_at(cd_sem_t *s, cd_site_t site)
{
    return sem_take(s, CD_OP_SEM_WAIT, 0, site);
}

int cd_sem_trywait_at(cd_sem_t *s, cd_site_t site)
{
    return sem_take(s, CD_OP_SEM_TRYWAIT, 0, site);
}

int cd_sem_timedwait_at(cd_sem_t *s, int ms, cd_site_t site)
{
    return sem_take(s, CD_OP_SEM_TIMEDWAIT, ms < 0 ? 0 : ms, site);
}

int cd_sem_post_at(cd_sem_t *s, cd_site_t site)
{
    int self = cd__self(), rc = 0;
    int64_t now;

    if (self)
        cd__op_begin_outcome(self, CD_OP_POST, s->id, site);
    CD_CHECK(pthread_mutex_lock(&s->lock));
    if (s->value >= CD_SEM_VALUE_MAX) {
        rc = -EOVERFLOW;
    } else {
        s->value++;
        publish(s);
        atomic_fetch_add_explicit(&s->waking, 1, memory_order_relaxed);
    }
    now = (int64_t)s->value;
    CD_CHECK(pthread_mutex_unlock(&s->lock));
    /* The wake-up after the unlock, as cd_cond does it and for the same
     * reason (see wake_sleepers in cd_cond.c): a waiter looks at the
     * count under the lock before it sleeps, so none is lost. */
    if (rc == 0) {
        CD_CHECK(pthread_cond_signal(&s->cv));
        atomic_fetch_sub_explicit(&s->waking, 1, memory_order_release);
    }
    if (self && rc == 0)
        cd__lockorder_leave(self, s->id);
    if (self)
        cd__op_note(self, CD_OP_POST, s->id, now, site);
    return rc;
}

/* From the registry's copy, with a relaxed load: a test or a verdict
 * that looks at the count must not be ordered after the posts by the
 * semaphore's lock, or ThreadSanitizer would miss the demo's races. */
int cd_sem_value(cd_sem_t *s)
{
    return (int)cd__ld(&cd__obj(s->id)->sem_count);
}

/* ================================== life ================================= */

int cd_sem_init(cd_sem_t *s, const char *name, unsigned value)
{
    if (value > CD_SEM_VALUE_MAX)
        return -EINVAL;
    /* A semaphore has no owner. */
    int id = cd__park_open(name, CD_OBJ_SEM, s, &s->lock, &s->cv);
    if (id < 0)
        return id;
    s->value = value;
    atomic_init(&s->waking, 0);
    s->id = id;
    publish(s);
    cd__lockorder_gate(id, (int)value);
    return 0;
}

void cd_sem_destroy(cd_sem_t *s)
{
    /* A waiter that a post let go may destroy at once: let the post
     * finish waking. */
    cd__park_close(s->id, &s->lock, &s->cv, &s->waking);
}
