/*
 * cd_bcast.c - the instrumented broadcast channel.
 *
 * Messages are numbered from 0 in the order sent; message n lives in slot
 * n % capacity until message n + capacity overwrites it, so the ring
 * holds messages max(0, sent - capacity) .. sent - 1. A subscriber's
 * cursor below that range has lagged: the difference is exactly what it
 * missed. Every figure is mirrored into the registry while the lock is
 * held. A receiving thread waits through the choke point's wait loop on
 * the channel's one condition variable (a send wakes them all: each has
 * its own cursor, so each may have something new); a receiving task parks
 * on its subscriber and a send makes it ready, under the lock, as the
 * awaitable mutex hands over.
 */
#include "cd_bcast.h"

#include <stdlib.h>
#include <string.h>

#include "cd_op.h"

/* ============================ the ring buffer ============================ */
/* Everything in this section: caller holds b->lock. */

/* The number of the oldest message still kept. */
static uint64_t oldest(const cd_bcast_t *b)
{
    return b->sent > b->capacity ? b->sent - b->capacity : 0;
}

static unsigned char *slot(const cd_bcast_t *b, uint64_t n)
{
    return b->buf + (size_t)(n % b->capacity) * b->msg_size;
}

/* A subscriber's figures, for observers. */
static void publish_sub(const cd_bsub_t *s)
{
    cd_obj_rec_t *o = cd__obj(s->id);
    cd__st(&o->chan_depth, s->b->sent - s->cursor);
    cd__st(&o->chan_received, s->received);
    cd__st(&o->chan_drops, s->missed);
    cd__st(&o->chan_closed, s->b->closed);
}

/* The channel's figures and every subscriber's (each is one message
 * further behind after a send). */
static void publish(const cd_bcast_t *b)
{
    cd_obj_rec_t *o = cd__obj(b->id);
    cd__st(&o->chan_depth, b->sent - oldest(b));
    cd__st(&o->chan_sent, b->sent);
    cd__st(&o->chan_closed, b->closed);
    for (const cd_bsub_t *s = b->subs; s; s = s->next)
        publish_sub(s);
}

/* Wakes every receiver: the threads on the condition variable, and each
 * parked task. */
static void wake_all(cd_bcast_t *b)
{
    for (cd_bsub_t *s = b->subs; s; s = s->next) {
        if (s->task) {
            cd__task_wake(s->task);
            s->task = NULL;
        }
    }
    CD_CHECK(pthread_cond_broadcast(&b->cv));
}

/* What a receive finds: the next message, the news that s lagged, the
 * end, or nothing yet (-EAGAIN). */
static int take(cd_bsub_t *s, void *out, uint64_t *missed)
{
    const cd_bcast_t *b = s->b;
    uint64_t first = oldest(b);
    if (s->cursor < first) {
        uint64_t lost = first - s->cursor;
        s->missed += lost;
        s->cursor = first;
        if (missed)
            *missed = lost;
        publish_sub(s);
        return CD_BCAST_LAGGED;
    }
    if (s->cursor < b->sent) {
        memcpy(out, slot(b, s->cursor), b->msg_size);
        s->cursor++;
        s->received++;
        publish_sub(s);
        return 0;
    }
    return b->closed ? -EPIPE : -EAGAIN;
}

/* =============================== waiting ================================ */

/* Something new for the subscriber, or the channel closed. Caller holds
 * the lock, or is parked with the lock free and nobody else running. */
static int has_news(void *arg)
{
    const cd_bsub_t *s = arg;
    return s->cursor != s->b->sent || s->b->closed;
}

/* A task parks until a send or the close makes it ready. Caller holds
 * b->lock; so does the return. Ends the task if the run was aborted. */
static void wait_task(cd_bsub_t *s, cd_task_t *task, int self,
                      cd_site_t site)
{
    cd__task_park_slot(&s->task, task, self, s->id, &s->b->lock, site);
}

static int do_recv(cd_bsub_t *s, void *out, uint64_t *missed, int op,
                   cd_site_t site)
{
    cd_bcast_t *b = s->b;
    int self = cd__self(), rc;

    if (missed)
        *missed = 0;
    if (self)
        cd__op_begin(self, op, s->id, 0, NULL, site);
    CD_CHECK(pthread_mutex_lock(&b->lock));
    while ((rc = take(s, out, missed)) == -EAGAIN && op == CD_OP_RECV) {
        cd_task_t *task = cd__task_current();
        if (task) {
            wait_task(s, task, self, site);
            continue;
        }
        cd__wait_t w = { .ready = has_news, .arg = s, .cond = &b->cv,
                         .lock = &b->lock, .site = site };
        rc = cd__op_wait(self, s->id, &w);
        if (rc != 0)
            break;
    }
    CD_CHECK(pthread_mutex_unlock(&b->lock));
    if (!self)
        return rc;
    if (rc == CD_BCAST_LAGGED)
        cd__op_note(self, CD_OP_LAGGED, s->id, (int64_t)*missed, site);
    else if (rc == -EPIPE)
        cd__op_note(self, CD_OP_CLOSED, s->id, 0, site);
    else if (rc == -EAGAIN)
        cd__op_note(self, CD_OP_BUSY, s->id, 0, site);
    return cd__op_end_if_aborted(self, rc);
}

int cd_bcast_recv_at(cd_bsub_t *s, void *out, uint64_t *missed,
                     cd_site_t site)
{
    uint64_t lost;
    return do_recv(s, out, missed ? missed : &lost, CD_OP_RECV, site);
}

int cd_bcast_try_recv_at(cd_bsub_t *s, void *out, uint64_t *missed,
                         cd_site_t site)
{
    uint64_t lost;
    return do_recv(s, out, missed ? missed : &lost, CD_OP_TRYRECV, site);
}

/* ============================== send, close ============================== */

/* A send of msg (op CD_OP_SEND) or the close (CD_OP_CLOSE): either wakes
 * every receiver, and neither is possible once the channel is closed. */
static int post(cd_bcast_t *b, const void *msg, int op, cd_site_t site)
{
    int self = cd__self(), rc = 0;

    if (self)
        cd__op_begin(self, op, b->id, 0, NULL, site);
    CD_CHECK(pthread_mutex_lock(&b->lock));
    if (b->closed) {
        rc = -EPIPE;
    } else {
        if (op == CD_OP_SEND) {
            memcpy(slot(b, b->sent), msg, b->msg_size);
            b->sent++;
        } else {
            b->closed = 1;
        }
        publish(b);
        wake_all(b);
    }
    CD_CHECK(pthread_mutex_unlock(&b->lock));
    if (self && op == CD_OP_SEND && rc == -EPIPE)
        cd__op_note(self, CD_OP_CLOSED, b->id, 0, site);
    return rc;
}

int cd_bcast_send_at(cd_bcast_t *b, const void *msg, cd_site_t site)
{
    return post(b, msg, CD_OP_SEND, site);
}

int cd_bcast_close_at(cd_bcast_t *b, cd_site_t site)
{
    return post(b, NULL, CD_OP_CLOSE, site);
}

/* ================================= life ================================== */

int cd_bcast_init(cd_bcast_t *b, const char *name, size_t msg_size,
                  size_t capacity)
{
    memset(b, 0, sizeof *b);
    if (msg_size == 0 || capacity == 0 || capacity > SIZE_MAX / msg_size)
        return -EINVAL;
    b->buf = malloc(capacity * msg_size);
    if (!b->buf)
        return -ENOMEM;
    /* A broadcast channel is never held. */
    int id = cd__park_open(name, CD_OBJ_BCAST, b, &b->lock, &b->cv);
    if (id < 0) {
        free(b->buf);
        b->buf = NULL;
        return id;
    }
    b->msg_size = msg_size;
    b->capacity = capacity;
    b->id = id;
    cd_obj_rec_t *o = cd__obj(id);
    cd__st(&o->chan_capacity, (uint64_t)capacity);
    cd__st(&o->chan_bytes, (uint64_t)(capacity * msg_size));
    publish(b);
    return 0;
}

void cd_bcast_destroy(cd_bcast_t *b)
{
    free(b->buf);
    b->buf = NULL;
    cd__park_close(b->id, &b->lock, &b->cv, NULL);
}

int cd_bcast_subscribe(cd_bcast_t *b, cd_bsub_t *s, const char *name)
{
    memset(s, 0, sizeof *s);
    int id = cd__reg_add_object(name, CD_OBJ_BSUB, s, NULL);
    if (id < 0)
        return id;
    s->b = b;
    s->id = id;
    cd__st(&cd__obj(id)->chan_capacity, (uint64_t)b->capacity);
    CD_CHECK(pthread_mutex_lock(&b->lock));
    s->cursor = b->sent;
    s->next = b->subs;
    b->subs = s;
    publish_sub(s);
    CD_CHECK(pthread_mutex_unlock(&b->lock));
    return 0;
}

void cd_bcast_unsubscribe(cd_bsub_t *s)
{
    cd_bcast_t *b = s->b;
    CD_CHECK(pthread_mutex_lock(&b->lock));
    cd_bsub_t **p = &b->subs;
    while (*p && *p != s)
        p = &(*p)->next;
    if (*p)
        *p = s->next;
    CD_CHECK(pthread_mutex_unlock(&b->lock));
    cd__reg_remove_object(s->id);
}

void cd_bcast_sub_stats(cd_bsub_t *s, cd_bsub_stats_t *out)
{
    CD_CHECK(pthread_mutex_lock(&s->b->lock));
    *out = (cd_bsub_stats_t){ .behind = s->b->sent - s->cursor,
                              .received = s->received,
                              .missed = s->missed };
    CD_CHECK(pthread_mutex_unlock(&s->b->lock));
}
