/*
 * cd_cond.c - the instrumented condition variable.
 *
 * Waiters queue in a FIFO (cd_queue) of nodes on their own stacks, under
 * the condition variable's own pthread lock. A signal takes the oldest
 * node out and marks it woken; a broadcast does so for every node. A
 * waiter that leaves without being woken (a timeout, a spurious wake-up,
 * the run's abort) takes its node out itself, so a later signal never
 * goes to a thread that left. The waiting itself goes through the choke
 * point's wait loop (cd__op_wait) on one pthread condition variable, with
 * "my node was woken" as its test: the controlled scheduler, the abort
 * and the timeout come with it.
 *
 * The internal lock is never held across a scheduling point: the waiter
 * queues under it, lets go of it, and only then releases the caller's
 * mutex (cd_mutex_unlock, a decision point under the scheduler, where a
 * signaller may run: the waiter is queued already, so the signal reaches
 * it). The wait loop lets go of it while the thread is parked.
 */
#include "cd_cond.h"

#include <errno.h>
#include <sched.h>
#include <time.h>

#include "cd_op.h"

/* One waiting thread; lives on its stack for the length of one wait. */
typedef struct waiter {
    cd_qnode_t node;
    int woken; /* by a signal or broadcast; under c->lock */
} waiter_t;

/* ========================= the registry's figures ======================== */
/* Everything in this section: caller holds c->lock. */

/* A signal or broadcast that found nobody: counted, and kept as the last
 * one, for the live view and for whoever looks for a lost wake-up. */
static void note_unheard(cd_cond_t *c, int all, int self, cd_site_t site)
{
    cd_obj_rec_t *o = cd__obj(c->id);
    c->unheard++;
    cd__st(&o->cond_unheard, c->unheard);
    cd__st(&o->cond_unheard_thread, self);
    cd__st(&o->cond_unheard_file, site.file);
    cd__st(&o->cond_unheard_line, site.line);
    cd__st(&o->cond_unheard_ns, cd_reg_elapsed_ns());
    cd__st(&o->cond_unheard_all, all);
}

static void publish_sent(cd_cond_t *c)
{
    cd_obj_rec_t *o = cd__obj(c->id);
    cd__st(&o->cond_signals, c->signals);
    cd__st(&o->cond_broadcasts, c->broadcasts);
    cd__st(&o->cond_pending, c->pending);
}

/* Takes the oldest waiter out of the queue and marks it woken. Returns 1,
 * or 0 when nobody waits. */
static int wake_one(cd_cond_t *c)
{
    waiter_t *w = CD_QUEUE_ENTRY(cd_queue_pop(&c->waiters), waiter_t, node);
    if (!w)
        return 0;
    w->woken = 1;
    c->pending++;
    return 1;
}

/* ================================ waiting ================================ */

/* Under the controlled scheduler: the waiter's node was woken. Read on
 * another participant's turn (only one thread runs, c->lock is free). */
static int was_woken(void *arg)
{
    return ((const waiter_t *)arg)->woken;
}

/* How the wait ended, as the trace's "woke" event says it. */
static int woke_how(const waiter_t *me, int rc)
{
    if (me->woken)
        return CD_WOKE_SIGNALLED;
    return rc == -ETIMEDOUT ? CD_WOKE_TIMED_OUT : CD_WOKE_SPURIOUS;
}

/* Queued already, m let go of: waits until woken, the timeout, a spurious
 * wake-up or the run's abort, then leaves the queue. Returns 0 (woken),
 * -ETIMEDOUT, -EINTR (spurious) or -ECANCELED; traces how it ended. */
static int wait_woken(cd_cond_t *c, waiter_t *me, int timed, int ms,
                      int self, cd_site_t site)
{
    cd__wait_t w = { .ready = was_woken, .arg = me, .cond = &c->cv,
                     .lock = &c->lock, .timed = timed,
                     .timeout_ns = (int64_t)ms * 1000000, .site = site,
                     .spurious = 1 };
    int rc = 0;

    CD_CHECK(pthread_mutex_lock(&c->lock));
    /* A signal may have come while m was being let go of. */
    if (!me->woken)
        rc = cd__op_wait(self, c->id, &w);
    if (me->woken) {
        /* A woken waiter consumed its wake-up: it never times out. */
        if (rc != -ECANCELED)
            rc = 0;
        c->pending--;
        cd__st(&cd__obj(c->id)->cond_pending, c->pending);
    } else {
        cd_queue_remove(&c->waiters, &me->node);
    }
    CD_CHECK(pthread_mutex_unlock(&c->lock));
    if (self && rc != -ECANCELED)
        cd__op_note(self, CD_OP_WOKE, c->id, woke_how(me, rc), site);
    return rc;
}

/* Shared by wait and timed wait; op says which. */
static int cond_wait(cd_cond_t *c, cd_mutex_t *m, int op, int ms,
                     cd_site_t site)
{
    int self = cd__self(), timed = (op == CD_OP_COND_TIMEDWAIT);
    waiter_t me = { .woken = 0 };

    if (self) {
        cd__op_begin(self, op, c->id, ms, NULL, site);
        /* Only the holder's own record says it holds m: exact for it. */
        if (m->id && cd__ld(&cd__obj(m->id)->owner) != self)
            return -EPERM;
    }
    CD_CHECK(pthread_mutex_lock(&c->lock));
    cd_queue_push(&c->waiters, &me.node);
    CD_CHECK(pthread_mutex_unlock(&c->lock));
    cd_mutex_unlock_at(m, site);
    /* What the thread does now is the wait, not the unlock inside it:
     * so says its latest operation (the view's LAST OP) and, parked, its
     * next step (step mode). */
    if (self) {
        cd__op_record(self, op, c->id);
        if (cd__sched_on())
            cd__sched_pend(self, op, c->id, site);
    }

    int rc = wait_woken(c, &me, timed, ms, self, site);
    if (rc == -ECANCELED)
        return cd__op_end_if_aborted(self, rc); /* holding nothing */
    if (rc == -EINTR)
        rc = 0; /* spurious: the caller tests its condition again */
    int locked = cd_mutex_lock_at(m, site);
    return locked != 0 ? locked : rc;
}

int cd_cond_wait_at(cd_cond_t *c, cd_mutex_t *m, cd_site_t site)
{
    return cond_wait(c, m, CD_OP_COND_WAIT, 0, site);
}

int cd_cond_timedwait_at(cd_cond_t *c, cd_mutex_t *m, int ms, cd_site_t site)
{
    return cond_wait(c, m, CD_OP_COND_TIMEDWAIT, ms < 0 ? 0 : ms, site);
}

/* ============================ signal, broadcast ========================== */

/* Caller holds c->lock and marked waiters woken: they are to be woken
 * once it lets go (wake_sleepers). */
static void will_wake(cd_cond_t *c)
{
    atomic_fetch_add_explicit(&c->waking, 1, memory_order_relaxed);
}

/* Wakes the sleepers on c->cv, after the caller let go of c->lock. Why
 * after: the woken thread often runs at once (the kernel lets it preempt
 * its waker), and would find the lock still held and sleep again - three
 * switches instead of one; bench/bench_cond.c measured 2.4x pthread's
 * time per hand-off with the wake-up under the lock, 1.5x after. No
 * wake-up is lost: a waiter looks at its node under the lock before it
 * sleeps. Each sleeper looks whether it was the one (they share cv). */
static void wake_sleepers(cd_cond_t *c)
{
    CD_CHECK(pthread_cond_broadcast(&c->cv));
    /* Release: cd_cond_destroy, seeing 0, comes after the broadcast. */
    atomic_fetch_sub_explicit(&c->waking, 1, memory_order_release);
}

/* A signal (all = 0: wake at most one waiter) or a broadcast (all = 1:
 * wake every waiter): counted, an unheard one noted for the lost-wakeup
 * verdict, and the woken told after c->lock is let go. */
static void notify(cd_cond_t *c, int all, cd_site_t site)
{
    int self = cd__self(), woke = 0;
    int op = all ? CD_OP_BROADCAST : CD_OP_SIGNAL;

    if (self)
        cd__op_begin_outcome(self, op, c->id, site);
    CD_CHECK(pthread_mutex_lock(&c->lock));
    if (all)
        c->broadcasts++;
    else
        c->signals++;
    while ((all || !woke) && wake_one(c))
        woke++;
    if (!woke)
        note_unheard(c, all, self, site);
    publish_sent(c);
    if (woke)
        will_wake(c);
    CD_CHECK(pthread_mutex_unlock(&c->lock));
    if (woke)
        wake_sleepers(c);
    if (self)
        cd__op_note(self, op, c->id, woke, site);
}

void cd_cond_signal_at(cd_cond_t *c, cd_site_t site)
{
    notify(c, 0, site);
}

void cd_cond_broadcast_at(cd_cond_t *c, cd_site_t site)
{
    notify(c, 1, site);
}

/* ================================== life ================================= */

int cd_cond_init(cd_cond_t *c, const char *name)
{
    /* A condition variable is never held. */
    int id = cd__park_open(name, CD_OBJ_COND, c, &c->lock, &c->cv);
    if (id < 0)
        return id;
    cd_queue_init(&c->waiters);
    c->signals = c->broadcasts = c->unheard = 0;
    c->pending = 0;
    atomic_init(&c->waking, 0);
    c->id = id;
    return 0;
}

void cd_cond_destroy(cd_cond_t *c)
{
    /* A waiter woken by a signal may destroy at once, while the
     * signaller is still waking cv's sleepers: let it finish. */
    cd__park_close(c->id, &c->lock, &c->cv, &c->waking);
}
