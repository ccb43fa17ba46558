/*
 * cd_mutex_fast.h - INTERNAL: the inline fast path behind cd_mutex_lock()
 * and cd_mutex_unlock(). To learn how to use cd_mutex, read cd_mutex.h;
 * this file is only how it is made cheap.
 *
 * Why inline: an uncontended lock+unlock of a raw pthread mutex costs
 * about 11 ns on the project's machine, and going through a libconc
 * function that then calls pthread cost about 2 ns more per pair (the
 * extra call, and the registers it saves and restores). Defined here,
 * the fast path dissolves into the caller, which then calls
 * pthread_mutex_trylock/unlock itself, as a raw user would. It does the
 * registry's updates (cd_op.h) and nothing else; every case it does not
 * handle goes to the out-of-line paths in cd_mutex.c:
 *
 *   handled here:  a thread the run knows, a registered mutex, no
 *                  controlled scheduler and no pause (cd__op_fast_self(),
 *                  or with tracing on cd__op_traced_self() and the thread's
 *                  trace ring of this run), no other lock held (so there is
 *                  no lock order to check), the mutex free.
 *   cd_mutex.c:    everything else - the scheduler's decision point, the
 *                  lock-order check, the wait.
 *
 * The registry sees exactly what the general path would have written, and
 * with tracing on the trace reads back what it would have shown.
 */
#ifndef CD_MUTEX_FAST_H
#define CD_MUTEX_FAST_H

#include "cd_op.h"

/* ThreadSanitizer must know the mutex by an address other than the inner
 * pthread mutex's, or it counts each acquisition twice (once for the
 * interceptor, once for the annotation) and never sees the release. */
#define CD__MUTEX_TSAN_ID(m) ((void *)&(m)->id)

/* The out-of-line paths (cd_mutex.c). The general path of lock: any
 * thread, any mode. */
int cd__mutex_lock_general(cd_mutex_t *m, cd_site_t site);
/* The fast path recorded the lock and its trylock failed: wait. */
int cd__mutex_lock_wait(cd_mutex_t *m, cd_site_t site);
/* The general path of unlock. */
void cd__mutex_unlock_general(cd_mutex_t *m, cd_site_t site);

/* The traced fast path's trylock failed: the lock event, then the wait. */
int cd__mutex_lock_wait_traced(cd_mutex_t *m, cd_site_t site);

/* The calling thread's ring when the traced fast path may run: the run is
 * quiet but for tracing (cd__op_traced_self() is self) and the thread has
 * its ring of this run already; else NULL. */
static CD_ALWAYS_INLINE cd_trace_ring_t *cd__mutex_ring(int self)
{
    return CD_LIKELY(self && cd__tring_gen == cd__reg.gen) ? cd__tring
                                                           : NULL;
}

/* cd_mutex_lock with tracing on: the fast path below, and one event that
 * reads back as the lock and its acquired (cd_trace.c), both at the time
 * of the thread's next event. */
static CD_ALWAYS_INLINE int cd__mutex_lock_traced(cd_mutex_t *m,
                                                  cd_site_t site)
{
    int self = cd__op_traced_self(), obj = m->id;
    cd_trace_ring_t *r = cd__mutex_ring(self);

    if (CD_UNLIKELY(!r || !obj || cd__ld(&cd__self_rec->nheld) != 0))
        return cd__mutex_lock_general(m, site);
    CD_TSAN_PRE_LOCK(CD__MUTEX_TSAN_ID(m), 0);
    cd__op_record_rec(cd__self_rec, CD_OP_LOCK, obj);
    if (CD_UNLIKELY(pthread_mutex_trylock(&m->m) != 0))
        return cd__mutex_lock_wait_traced(m, site);
    self = CD__KEY_ID(cd__self_key); /* read again: see below */
    cd__op_hold_rec(cd__self_rec, self, m->rec, m->id, site, 0);
    r = cd__tring;
    /* No clock read: the event takes the time of the thread's next one
     * (see cd__trace_put). */
    cd__trace_put(r, 0, self, CD_OP_LOCK, m->id,
                  CD_TR_AT_ONCE | CD_TR_STAMP_NEXT, 0, NULL, site);
    cd__st(&r->merged, cd__ld(&r->merged) + 1);
    CD_TSAN_POST_LOCK(CD__MUTEX_TSAN_ID(m), 0);
    return 0;
}

/* cd_mutex_lock: the same registry updates as the general path, in the
 * same order (cd__op_record and cd__op_hold are cd__op_begin and
 * cd__op_acquired without the trace and the scheduler, which the gate
 * says are off). */
static CD_ALWAYS_INLINE int cd__mutex_lock(cd_mutex_t *m, cd_site_t site)
{
    int self = cd__op_fast_self(), obj = m->id;

    if (CD_UNLIKELY(!self))
        return cd__mutex_lock_traced(m, site);
    cd_thread_rec_t *t = cd__self_rec; /* self's: the key's gen matched */
    if (CD_UNLIKELY(!obj || cd__ld(&t->nheld) != 0))
        return cd__mutex_lock_general(m, site);
    CD_TSAN_PRE_LOCK(CD__MUTEX_TSAN_ID(m), 0);
    cd__op_record_rec(t, CD_OP_LOCK, obj);
    if (CD_UNLIKELY(pthread_mutex_trylock(&m->m) != 0))
        return cd__mutex_lock_wait(m, site);
    /* self and obj are read again, not kept from above: values kept
     * across the call would be saved on the stack and reloaded (8 moves,
     * and the next locked instruction waits for those stores too); a
     * fresh read is two loads. Neither can have changed. */
    cd__op_hold_rec(cd__self_rec, CD__KEY_ID(cd__self_key), m->rec, m->id,
                    site, 0);
    CD_TSAN_POST_LOCK(CD__MUTEX_TSAN_ID(m), 0);
    return 0;
}

/* cd_mutex_unlock: the general path's updates, when the gate is open. */
/* cd_mutex_unlock with tracing on: the fast path below and its event. */
static CD_ALWAYS_INLINE void cd__mutex_unlock_traced(cd_mutex_t *m,
                                                     cd_site_t site)
{
    int self = cd__op_traced_self(), obj = m->id;
    cd_trace_ring_t *r = cd__mutex_ring(self);

    if (CD_UNLIKELY(!r || !obj)) {
        cd__mutex_unlock_general(m, site);
        return;
    }
    cd_thread_rec_t *t = cd__self_rec;
    CD_TSAN_PRE_UNLOCK(CD__MUTEX_TSAN_ID(m));
    cd__op_record_rec(t, CD_OP_UNLOCK, obj);
    cd__trace_put(r, cd__ticks(), self, CD_OP_UNLOCK, obj, 0, 0, NULL, site);
    cd__op_released_rec(t, self, m->rec, obj);
    CD_CHECK(pthread_mutex_unlock(&m->m));
    CD_TSAN_POST_UNLOCK(CD__MUTEX_TSAN_ID(m));
}

static CD_ALWAYS_INLINE void cd__mutex_unlock(cd_mutex_t *m, cd_site_t site)
{
    int self = cd__op_fast_self(), obj = m->id;

    if (CD_UNLIKELY(!self)) {
        cd__mutex_unlock_traced(m, site);
        return;
    }
    if (CD_UNLIKELY(!obj)) {
        cd__mutex_unlock_general(m, site);
        return;
    }
    cd_thread_rec_t *t = cd__self_rec;
    CD_TSAN_PRE_UNLOCK(CD__MUTEX_TSAN_ID(m));
    cd__op_record_rec(t, CD_OP_UNLOCK, obj);
    cd__op_released_rec(t, self, m->rec, obj);
    CD_CHECK(pthread_mutex_unlock(&m->m));
    CD_TSAN_POST_UNLOCK(CD__MUTEX_TSAN_ID(m));
}

#endif /* CD_MUTEX_FAST_H */
