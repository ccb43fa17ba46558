/*
 * cd_chan.c - the instrumented channel.
 *
 * A ring buffer under one mutex, with a condition variable for each side.
 * A bounded channel's ring has exactly `capacity` slots from the start; an
 * unbounded one starts with FIRST_SLOTS and doubles when full. Every change
 * is mirrored into the channel's registry record while the lock is held,
 * so the figures there never go backwards. A thread waits through the
 * choke point's wait loop (cd__op_wait), on the side's condition
 * variable; a task parks in the side's queue of tasks, and whoever makes
 * room or a message wakes the first one there, under ch->lock (as the
 * awaitable mutex hands over: lock order ch->lock, then the executor's).
 */
#include "cd_chan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cd_op.h"

#define FIRST_SLOTS 64

/* A task parked on one side of the channel (on its own stack). */
typedef struct task_waiter {
    cd_qnode_t node;  /* in ch->task_senders or ch->task_receivers */
    cd_task_t *task;
    int woken;        /* taken out of the queue by a waker */
} task_waiter_t;

/* Makes the first task parked in q ready, if there is one: it looks
 * again once it runs. Caller holds ch->lock. */
static void wake_task(cd_queue_t *q)
{
    task_waiter_t *w = CD_QUEUE_ENTRY(cd_queue_pop(q), task_waiter_t, node);
    if (w) {
        w->woken = 1;
        cd__task_wake(w->task);
    }
}

/* ============================ the ring buffer ============================ */
/* Everything in this section: caller holds ch->lock. */

static int has_room(const cd_chan_t *ch)
{
    return ch->capacity == 0 || ch->depth < ch->capacity;
}

/* Address of the i-th message counted from the oldest (i < slots). */
static unsigned char *slot(const cd_chan_t *ch, size_t i)
{
    size_t at = ch->head + i;
    if (at >= ch->slots)
        at -= ch->slots;
    return ch->buf + at * ch->msg_size;
}

/* Copies every figure into the registry record, for observers. The hot
 * paths (push, pop) store only what they changed. (A channel always has a
 * record: cd_chan_init fails when the registry is full.) */
static void publish(const cd_chan_t *ch)
{
    cd_obj_rec_t *o = cd__obj(ch->id);
    cd__st(&o->chan_depth, ch->depth);
    cd__st(&o->chan_high_water, ch->high_water);
    cd__st(&o->chan_bytes, (uint64_t)(ch->slots * ch->msg_size));
    cd__st(&o->chan_sent, ch->sent);
    cd__st(&o->chan_received, ch->received);
    cd__st(&o->chan_drops, ch->drops);
    cd__st(&o->chan_closed, ch->closed);
}

/* Doubles the ring of an unbounded channel that is full, oldest message
 * first in the new ring. Returns 0 or -ENOMEM (the ring is unchanged). */
static int grow(cd_chan_t *ch)
{
    size_t n = ch->slots * 2;
    if (n < ch->slots || n > SIZE_MAX / ch->msg_size)
        return -ENOMEM;
    unsigned char *b = malloc(n * ch->msg_size);
    if (!b)
        return -ENOMEM;
    /* Full ring: head..end of the buffer, then its start up to head. */
    size_t tail_part = ch->slots - ch->head;
    memcpy(b, ch->buf + ch->head * ch->msg_size, tail_part * ch->msg_size);
    memcpy(b + tail_part * ch->msg_size, ch->buf, ch->head * ch->msg_size);
    free(ch->buf);
    ch->buf = b;
    ch->slots = n;
    ch->head = 0;
    publish(ch);
    return 0;
}

/* Appends a message; the caller checked has_room(). Returns 0 or -ENOMEM. */
static int push(cd_chan_t *ch, const void *msg)
{
    if (ch->depth == ch->slots) {
        int rc = grow(ch);
        if (rc != 0)
            return rc;
    }
    memcpy(slot(ch, ch->depth), msg, ch->msg_size);
    ch->depth++;
    ch->sent++;
    cd_obj_rec_t *o = cd__obj(ch->id);
    if (ch->depth > ch->high_water) {
        ch->high_water = ch->depth;
        cd__st(&o->chan_high_water, ch->high_water);
    }
    cd__st(&o->chan_depth, ch->depth);
    cd__st(&o->chan_sent, ch->sent);
    CD_CHECK(pthread_cond_signal(&ch->not_empty));
    wake_task(&ch->task_receivers);
    return 0;
}

/* Takes the oldest message; the caller checked depth > 0. */
static void pop(cd_chan_t *ch, void *out)
{
    memcpy(out, slot(ch, 0), ch->msg_size);
    if (++ch->head == ch->slots)
        ch->head = 0;
    ch->depth--;
    ch->received++;
    cd_obj_rec_t *o = cd__obj(ch->id);
    cd__st(&o->chan_depth, ch->depth);
    cd__st(&o->chan_received, ch->received);
    if (ch->capacity) {
        CD_CHECK(pthread_cond_signal(&ch->not_full));
        wake_task(&ch->task_senders);
    }
}

/* =============================== waiting ================================ */

/* What a waiting sender or receiver waits for. */
typedef struct chan_wait {
    cd_chan_t *ch;
    int sending;
} chan_wait_t;

/* Room to send, or a message to take, or the channel closed (the caller
 * looks which). Caller holds ch->lock - or, for the controlled scheduler,
 * the waiter is parked with the lock free and nobody else runs. */
static int chan_ready(void *arg)
{
    const chan_wait_t *w = arg;
    return w->ch->closed || (w->sending ? has_room(w->ch) : w->ch->depth > 0);
}

/* A task parks until the operation can go on or the channel is closed,
 * looking again each time it is woken (a thread may have taken what woke
 * it). Caller holds ch->lock; so does the return. Returns 0; ends the task
 * if the run was aborted. */
static int park_task(cd_chan_t *ch, int sending, cd_task_t *task, int self,
                     cd_site_t site)
{
    chan_wait_t cw = { ch, sending };
    cd_queue_t *q = sending ? &ch->task_senders : &ch->task_receivers;
    while (!chan_ready(&cw)) {
        task_waiter_t w = { .task = task };
        cd_queue_push(q, &w.node);
        if (cd__task_park_locked(task, self, ch->id, &ch->lock, site) != 0) {
            if (!w.woken)
                cd_queue_remove(q, &w.node);
            CD_CHECK(pthread_mutex_unlock(&ch->lock));
            cd__op_abort_self(self);
        }
    }
    return 0;
}

/* Waits until the operation can go on (room to send, or a message to
 * take), the channel is closed, the timeout passes or the run is aborted;
 * the thread shows as blocked on the channel meanwhile. Caller holds
 * ch->lock. Returns 0 (ready or closed: the caller looks which),
 * -ETIMEDOUT or -ECANCELED. */
static int wait_ready(cd_chan_t *ch, int sending, int op, int ms, int self,
                      cd_site_t site)
{
    cd_task_t *task = cd__task_current();
    int timed = op == CD_OP_TIMEDSEND || op == CD_OP_TIMEDRECV;
    if (task && !timed)
        return park_task(ch, sending, task, self, site);
    chan_wait_t cw = { ch, sending };
    cd__wait_t w = { .ready = chan_ready, .arg = &cw, .lock = &ch->lock,
                     .cond = sending ? &ch->not_full : &ch->not_empty,
                     .timed = op == CD_OP_TIMEDSEND || op == CD_OP_TIMEDRECV,
                     .timeout_ns = (int64_t)ms * 1000000, .site = site };
    return cd__op_wait(self, ch->id, &w);
}

/* The trace event for how an operation ended, when it did not succeed
 * (a timeout is traced by the wait loop). */
static void note_outcome(int self, cd_chan_t *ch, int rc, int64_t drops,
                         cd_site_t site)
{
    switch (rc) {
    case -EAGAIN:
        cd__op_note(self, drops ? CD_OP_DROP : CD_OP_BUSY, ch->id, drops,
                    site);
        break;
    case -EPIPE:
        cd__op_note(self, CD_OP_CLOSED, ch->id, 0, site);
        break;
    default:
        break;
    }
}

/* Ends the call: the trace of its outcome, and the thread itself if the
 * run was aborted while it waited. Returns rc. */
static int finish(cd_chan_t *ch, int self, int rc, int64_t drops,
                  cd_site_t site)
{
    if (!self)
        return rc;
    note_outcome(self, ch, rc, drops, site);
    return cd__op_end_if_aborted(self, rc);
}

/* ============================ send, receive ============================== */

/* Shared by the three sends; op says which. if_full only for try send. */
static int do_send(cd_chan_t *ch, const void *msg, int op, int ms,
                   int if_full, cd_site_t site)
{
    int self = cd__self(), rc = 0;
    int64_t drops = 0;

    if (self)
        cd__op_begin(self, op, ch->id, ms, NULL, site);
    CD_CHECK(pthread_mutex_lock(&ch->lock));
    if (!ch->closed && !has_room(ch)) {
        if (op == CD_OP_TRYSEND)
            rc = -EAGAIN;
        else
            rc = wait_ready(ch, 1, op, ms, self, site);
    }
    if (rc == 0)
        rc = ch->closed ? -EPIPE : push(ch, msg);
    if (rc == -EAGAIN && if_full == CD_CHAN_SHED) {
        drops = (int64_t)++ch->drops;
        publish(ch);
    } else if (rc == -EAGAIN || rc == -ETIMEDOUT) {
        ch->refused++; /* the caller still has the message */
    }
    CD_CHECK(pthread_mutex_unlock(&ch->lock));
    return finish(ch, self, rc, drops, site);
}

/* Shared by the three receives; op says which. */
static int do_recv(cd_chan_t *ch, void *out, int op, int ms, cd_site_t site)
{
    int self = cd__self(), rc = 0;

    if (self)
        cd__op_begin(self, op, ch->id, ms, NULL, site);
    CD_CHECK(pthread_mutex_lock(&ch->lock));
    if (!ch->closed && ch->depth == 0) {
        if (op == CD_OP_TRYRECV)
            rc = -EAGAIN;
        else
            rc = wait_ready(ch, 0, op, ms, self, site);
    }
    /* A closed channel still hands out what it holds: drain, then EPIPE. */
    if (rc == 0) {
        if (ch->depth > 0)
            pop(ch, out);
        else
            rc = -EPIPE;
    }
    CD_CHECK(pthread_mutex_unlock(&ch->lock));
    return finish(ch, self, rc, 0, site);
}

int cd_chan_send_at(cd_chan_t *ch, const void *msg, cd_site_t site)
{
    return do_send(ch, msg, CD_OP_SEND, 0, CD_CHAN_KEEP, site);
}

int cd_chan_try_send_at(cd_chan_t *ch, const void *msg, int if_full,
                        cd_site_t site)
{
    return do_send(ch, msg, CD_OP_TRYSEND, 0, if_full, site);
}

int cd_chan_timed_send_at(cd_chan_t *ch, const void *msg, int ms,
                          cd_site_t site)
{
    return do_send(ch, msg, CD_OP_TIMEDSEND, ms < 0 ? 0 : ms, CD_CHAN_KEEP,
                   site);
}

int cd_chan_recv_at(cd_chan_t *ch, void *out, cd_site_t site)
{
    return do_recv(ch, out, CD_OP_RECV, 0, site);
}

int cd_chan_try_recv_at(cd_chan_t *ch, void *out, cd_site_t site)
{
    return do_recv(ch, out, CD_OP_TRYRECV, 0, site);
}

int cd_chan_timed_recv_at(cd_chan_t *ch, void *out, int ms, cd_site_t site)
{
    return do_recv(ch, out, CD_OP_TIMEDRECV, ms < 0 ? 0 : ms, site);
}

int cd_chan_close_at(cd_chan_t *ch, cd_site_t site)
{
    int self = cd__self(), rc = 0;

    if (self)
        cd__op_begin(self, CD_OP_CLOSE, ch->id, 0, NULL, site);
    CD_CHECK(pthread_mutex_lock(&ch->lock));
    if (ch->closed) {
        rc = -EPIPE;
    } else {
        ch->closed = 1;
        publish(ch);
        /* Everybody waiting must look again: they all end with -EPIPE,
         * except receivers that still find messages to drain. */
        CD_CHECK(pthread_cond_broadcast(&ch->not_full));
        CD_CHECK(pthread_cond_broadcast(&ch->not_empty));
        while (cd_queue_front(&ch->task_senders))
            wake_task(&ch->task_senders);
        while (cd_queue_front(&ch->task_receivers))
            wake_task(&ch->task_receivers);
    }
    CD_CHECK(pthread_mutex_unlock(&ch->lock));
    return rc;
}

/* ============================ life and stats ============================= */

int cd_chan_init(cd_chan_t *ch, const char *name, size_t msg_size,
                 size_t capacity)
{
    size_t slots = capacity ? capacity : FIRST_SLOTS;
    pthread_condattr_t ca;

    memset(ch, 0, sizeof *ch);
    if (msg_size == 0 || slots > SIZE_MAX / msg_size)
        return -EINVAL;
    ch->buf = malloc(slots * msg_size);
    if (!ch->buf)
        return -ENOMEM;
    /* No release function: a channel is never held, so an aborted thread
     * has nothing of it to give back. */
    int id = cd__reg_add_object(name, CD_OBJ_CHAN, ch, NULL);
    if (id < 0) {
        free(ch->buf);
        ch->buf = NULL;
        return id;
    }
    CD_CHECK(pthread_mutex_init(&ch->lock, NULL));
    CD_CHECK(pthread_condattr_init(&ca));
    CD_CHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
    CD_CHECK(pthread_cond_init(&ch->not_empty, &ca));
    CD_CHECK(pthread_cond_init(&ch->not_full, &ca));
    CD_CHECK(pthread_condattr_destroy(&ca));
    ch->msg_size = msg_size;
    ch->capacity = capacity;
    ch->slots = slots;
    cd_queue_init(&ch->task_senders);
    cd_queue_init(&ch->task_receivers);
    ch->id = id;
    cd__st(&cd__obj(id)->chan_capacity, (uint64_t)capacity);
    publish(ch);
    return 0;
}

void cd_chan_destroy(cd_chan_t *ch)
{
    CD_CHECK(pthread_cond_destroy(&ch->not_full));
    CD_CHECK(pthread_cond_destroy(&ch->not_empty));
    CD_CHECK(pthread_mutex_destroy(&ch->lock));
    free(ch->buf);
    ch->buf = NULL;
    cd__reg_remove_object(ch->id);
}

void cd_chan_stats(cd_chan_t *ch, cd_chan_stats_t *out)
{
    CD_CHECK(pthread_mutex_lock(&ch->lock));
    *out = (cd_chan_stats_t){
        .depth = ch->depth,
        .capacity = ch->capacity,
        .high_water = ch->high_water,
        .bytes = ch->slots * ch->msg_size,
        .sent = ch->sent,
        .received = ch->received,
        .drops = ch->drops,
        .refused = ch->refused,
        .closed = ch->closed,
    };
    CD_CHECK(pthread_mutex_unlock(&ch->lock));
}
