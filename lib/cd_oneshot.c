/*
 * cd_oneshot.c - the instrumented one-value channel.
 *
 * A state and a value under one pthread mutex. A receiving thread waits
 * through the choke point's wait loop on the oneshot's condition variable
 * ("the state is no longer empty"), so the controlled scheduler, the
 * run's abort and the timeout come with it; a receiving task parks and
 * the sender makes it ready, as the awaitable mutex hands over its lock.
 *
 * The sender wakes the receiver while it holds the lock (unlike cd_sem,
 * which wakes after its unlock): a receiver that gets its value usually
 * destroys the oneshot at once, and must not find the sender still
 * signalling it. For the same reason the sender reads nothing of the
 * oneshot after its unlock.
 */
#include "cd_oneshot.h"

#include <errno.h>
#include <string.h>

#include "cd_op.h"

/* Caller holds o->lock. */
static void publish(const cd_oneshot_t *o)
{
    cd__st(&cd__obj(o->id)->oneshot_state, o->state);
}

/* For cd__op_wait and the controlled scheduler: the exchange has moved on
 * (sent, dropped - or taken, by a receiver before this one). Caller holds
 * o->lock, or is parked with the lock free and nobody else running. */
static int not_empty(void *arg)
{
    return ((const cd_oneshot_t *)arg)->state != CD_ONESHOT_EMPTY;
}

/* Wakes whoever waits; the state was just set. Caller holds o->lock. */
static void wake_receiver(cd_oneshot_t *o)
{
    if (o->task) {
        cd__task_wake(o->task);
        o->task = NULL;
    }
    CD_CHECK(pthread_cond_signal(&o->cv));
}

/* What a receive finds once the state is not empty: takes a sent value
 * into out. Caller holds o->lock. */
static int take(cd_oneshot_t *o, void *out)
{
    switch (o->state) {
    case CD_ONESHOT_SENT:
        memcpy(out, o->value, o->size);
        o->state = CD_ONESHOT_TAKEN;
        publish(o);
        return 0;
    case CD_ONESHOT_DROPPED:
        return -EPIPE;
    case CD_ONESHOT_TAKEN:
        return -EALREADY;
    default:
        return -EAGAIN;
    }
}

/* ================================ waiting ================================ */

/* A task parks until the sender makes it ready. Caller holds o->lock; so
 * does the return. Returns 0, or ends the task if the run was aborted. */
static int wait_task(cd_oneshot_t *o, cd_task_t *task, int self,
                     cd_site_t site)
{
    if (o->task) /* a second receiver: one receiver is the contract */
        return -EBUSY;
    cd__task_park_slot(&o->task, task, self, o->id, &o->lock, site);
    return 0;
}

/* A thread waits on the condition variable. Caller holds o->lock; so
 * does the return. Returns 0, -ETIMEDOUT or -ECANCELED. */
static int wait_thread(cd_oneshot_t *o, int timed, int ms, int self,
                       cd_site_t site)
{
    cd__wait_t w = { .ready = not_empty, .arg = o, .cond = &o->cv,
                     .lock = &o->lock, .timed = timed,
                     .timeout_ns = (int64_t)ms * 1000000, .site = site };
    return cd__op_wait(self, o->id, &w);
}

/* Shared by the three receives; op says which. */
static int do_recv(cd_oneshot_t *o, void *out, int op, int ms,
                   cd_site_t site)
{
    cd_task_t *task = cd__task_current();
    int self = cd__self(), rc = 0;
    int id = o->id;

    if (task && op == CD_OP_TIMEDRECV)
        return -EINVAL;
    if (self)
        cd__op_begin(self, op, id, ms, NULL, site);
    CD_CHECK(pthread_mutex_lock(&o->lock));
    if (o->state == CD_ONESHOT_EMPTY && op != CD_OP_TRYRECV) {
        if (task)
            rc = wait_task(o, task, self, site);
        else
            rc = wait_thread(o, op == CD_OP_TIMEDRECV, ms, self, site);
    }
    if (rc == 0)
        rc = take(o, out);
    CD_CHECK(pthread_mutex_unlock(&o->lock));
    if (!self)
        return rc;
    if (rc == -EPIPE)
        cd__op_note(self, CD_OP_CLOSED, id, 0, site);
    else if (rc == -EAGAIN)
        cd__op_note(self, CD_OP_BUSY, id, 0, site);
    return cd__op_end_if_aborted(self, rc);
}

int cd_oneshot_recv_at(cd_oneshot_t *o, void *out, cd_site_t site)
{
    return do_recv(o, out, CD_OP_RECV, 0, site);
}

int cd_oneshot_try_recv_at(cd_oneshot_t *o, void *out, cd_site_t site)
{
    return do_recv(o, out, CD_OP_TRYRECV, 0, site);
}

int cd_oneshot_timed_recv_at(cd_oneshot_t *o, void *out, int ms,
                             cd_site_t site)
{
    return do_recv(o, out, CD_OP_TIMEDRECV, ms < 0 ? 0 : ms, site);
}

/* ============================= send, drop =============================== */

/* Moves an empty oneshot to state (SENT with value, or DROPPED) and wakes
 * the receiver. op is the trace's verb. */
static int settle(cd_oneshot_t *o, int state, const void *value, int op,
                  cd_site_t site)
{
    int self = cd__self(), rc = 0;
    int id = o->id; /* o may be gone once unlocked: the receiver frees it */

    if (self)
        cd__op_begin(self, op, id, 0, NULL, site);
    CD_CHECK(pthread_mutex_lock(&o->lock));
    if (o->state != CD_ONESHOT_EMPTY) {
        rc = -EALREADY;
    } else {
        if (value)
            memcpy(o->value, value, o->size);
        o->state = state;
        publish(o);
        wake_receiver(o);
    }
    CD_CHECK(pthread_mutex_unlock(&o->lock));
    if (self && rc == -EALREADY)
        cd__op_note(self, CD_OP_BUSY, id, 0, site);
    return rc;
}

int cd_oneshot_send_at(cd_oneshot_t *o, const void *value, cd_site_t site)
{
    return settle(o, CD_ONESHOT_SENT, value, CD_OP_SEND, site);
}

int cd_oneshot_drop_at(cd_oneshot_t *o, cd_site_t site)
{
    return settle(o, CD_ONESHOT_DROPPED, NULL, CD_OP_CLOSE, site);
}

/* ================================== life ================================= */

int cd_oneshot_init(cd_oneshot_t *o, const char *name, size_t size)
{
    memset(o, 0, sizeof *o);
    if (size == 0 || size > CD_ONESHOT_MAX)
        return -EINVAL;
    /* A oneshot is never held. */
    int id = cd__park_open(name, CD_OBJ_ONESHOT, o, &o->lock, &o->cv);
    if (id < 0)
        return id;
    o->size = size;
    o->state = CD_ONESHOT_EMPTY;
    o->id = id;
    publish(o);
    return 0;
}

void cd_oneshot_destroy(cd_oneshot_t *o)
{
    cd__park_close(o->id, &o->lock, &o->cv, NULL);
}

int cd_oneshot_rearm(cd_oneshot_t *o)
{
    int rc = 0;
    CD_CHECK(pthread_mutex_lock(&o->lock));
    if (o->state == CD_ONESHOT_SENT ||
        (o->state == CD_ONESHOT_EMPTY &&
         (o->task || cd__ld(&cd__obj(o->id)->nwaiters) > 0))) {
        rc = -EBUSY;
    } else {
        o->state = CD_ONESHOT_EMPTY;
        publish(o);
    }
    CD_CHECK(pthread_mutex_unlock(&o->lock));
    return rc;
}

/* From the registry's copy, with a relaxed load, so that looking orders
 * nothing (as cd_sem_value). */
int cd_oneshot_state(cd_oneshot_t *o)
{
    return (int)cd__ld(&cd__obj(o->id)->oneshot_state);
}

/* ============================ request / reply =========================== */

int cd_chan_call_at(cd_chan_t *ch, const void *msg, cd_oneshot_t *reply,
                    void *out, cd_site_t site)
{
    int rc = cd_chan_send_at(ch, msg, site);
    if (rc != 0) {
        /* The request never left: nobody will answer reply. */
        (void)cd_oneshot_drop_at(reply, site);
        return rc;
    }
    return cd_oneshot_recv_at(reply, out, site);
}

int cd_chan_refuse_at(cd_oneshot_t *reply, cd_site_t site)
{
    return reply ? cd_oneshot_drop_at(reply, site) : 0;
}
