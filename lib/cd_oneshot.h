/*
 * cd_oneshot.h - a named one-value channel: one sender, one receiver, one
 * value, that the registry, the trace and the controlled scheduler see.
 *
 * A oneshot carries the reply to one request: the requester makes it,
 * hands a pointer to it along with its request (over a cd_chan to an
 * actor, say), and waits on it; whoever serves the request sends the
 * reply once. A sender that cannot answer drops the oneshot instead, and
 * the waiting receiver wakes with -EPIPE rather than waiting for ever:
 * "the actor is gone" is an answer too. The value is delivered exactly
 * once: a second send, and a second receive, fail with -EALREADY.
 *
 * The value is up to CD_ONESHOT_MAX bytes, copied in by send and out by
 * receive; it lives inside the oneshot, so a oneshot on the requester's
 * stack allocates nothing. Registry slots are not reused within a run, so
 * a requester that asks many times keeps one oneshot and rearms it for
 * each request (cd_oneshot_rearm) instead of making one per request.
 *
 * The receiver may be a thread (it waits on a condition variable, through
 * the choke point's wait loop) or an executor task (it parks and its
 * worker runs other tasks; the send makes it ready). The sender may be
 * either and never waits. The registry shows the oneshot's state (empty,
 * sent, taken, dropped) and the receiver as blocked (a task: parked) on
 * it. The value is copied under the oneshot's lock on both sides, so a
 * send happens-before the receive that gets its value, for
 * ThreadSanitizer too.
 *
 * Lifetime: the oneshot must outlive both ends' calls on it. The usual
 * shape - the requester makes it, waits for the reply (or the drop), then
 * destroys it - satisfies that by itself.
 */
#ifndef CD_ONESHOT_H
#define CD_ONESHOT_H

#include <pthread.h>
#include <stddef.h>

#include "cd_chan.h"
#include "cd_common.h"

#define CD_ONESHOT_MAX 64 /* the largest value, in bytes */

/* Where a oneshot is (its registry record's oneshot_state too). */
enum {
    CD_ONESHOT_EMPTY = 0, /* nothing sent yet */
    CD_ONESHOT_SENT,      /* a value waits for the receiver */
    CD_ONESHOT_TAKEN,     /* the receiver has it */
    CD_ONESHOT_DROPPED    /* the sender gave up without sending */
};

struct cd_task;

typedef struct cd_oneshot {
    pthread_mutex_t lock;  /* guards everything below */
    pthread_cond_t cv;     /* a waiting thread sleeps here */
    struct cd_task *task;  /* a parked receiving task, or NULL */
    size_t size;           /* the value's size */
    int state;             /* CD_ONESHOT_* */
    int id;                /* registry id */
    unsigned char value[CD_ONESHOT_MAX];
} cd_oneshot_t;

/* Creates an empty oneshot named name for values of size bytes. Returns
 * 0, -EINVAL (size 0 or above CD_ONESHOT_MAX) or -ENOSPC (registry
 * full). */
int cd_oneshot_init(cd_oneshot_t *o, const char *name, size_t size);

/* Frees it. Nobody may wait on it any more. */
void cd_oneshot_destroy(cd_oneshot_t *o);

/* Makes a oneshot whose exchange is over (taken or dropped) empty again,
 * for the next request. Returns 0, or -EBUSY when a value is still
 * waiting for its receiver, or the oneshot is empty with a receiver
 * waiting on it (rearming then would lose a value or a wake-up). */
int cd_oneshot_rearm(cd_oneshot_t *o);

/* Sends the value (size bytes at value) and wakes the receiver. Never
 * waits. Returns 0, or -EALREADY when a value was sent or the oneshot
 * dropped already (nothing changes). */
#define cd_oneshot_send(o, value) cd_oneshot_send_at((o), (value), CD_HERE)
CD_CHAN_MUST_CHECK int cd_oneshot_send_at(cd_oneshot_t *o, const void *value,
                                          cd_site_t site);

/* The sender gives up without sending: the receiver wakes (or will find
 * on arrival) -EPIPE. Returns 0, or -EALREADY as cd_oneshot_send. */
#define cd_oneshot_drop(o) cd_oneshot_drop_at((o), CD_HERE)
int cd_oneshot_drop_at(cd_oneshot_t *o, cd_site_t site);

/* Waits for the value and copies it into *out. From a task, the task
 * parks; from a thread, the thread waits. Returns 0; -EPIPE when the
 * sender dropped it; -EALREADY when the value was taken already (it is
 * delivered once); -ECANCELED only on a thread that cd_thread did not
 * start, when the run was aborted (a task or a started thread is ended
 * instead). */
#define cd_oneshot_recv(o, out) cd_oneshot_recv_at((o), (out), CD_HERE)
CD_CHAN_MUST_CHECK int cd_oneshot_recv_at(cd_oneshot_t *o, void *out,
                                          cd_site_t site);

/* Takes the value if it is there: 0, -EAGAIN (not yet), or as
 * cd_oneshot_recv. */
#define cd_oneshot_try_recv(o, out) cd_oneshot_try_recv_at((o), (out), CD_HERE)
CD_CHAN_MUST_CHECK int cd_oneshot_try_recv_at(cd_oneshot_t *o, void *out,
                                              cd_site_t site);

/* Waits at most ms milliseconds: 0, -ETIMEDOUT, or as cd_oneshot_recv.
 * Threads only: in a task it returns -EINVAL (a task awaits with
 * cd_oneshot_recv). The oneshot stays usable after a timeout: the sender
 * may still send, and a later receive gets it. */
#define cd_oneshot_timed_recv(o, out, ms) \
    cd_oneshot_timed_recv_at((o), (out), (ms), CD_HERE)
CD_CHAN_MUST_CHECK int cd_oneshot_timed_recv_at(cd_oneshot_t *o, void *out,
                                                int ms, cd_site_t site);

/* The state now (CD_ONESHOT_*), from the registry's copy: reading it
 * orders nothing. Can't fail. */
int cd_oneshot_state(cd_oneshot_t *o);

/* ======================= request / reply over a cd_chan ===================
 * The actor pattern: one thread or task owns some state and serves
 * requests that arrive over an mpsc cd_chan; a request that wants an
 * answer carries a pointer to the requester's oneshot, and the actor
 * answers on it. These two calls are the requester's half and the actor's
 * way of saying "no answer is coming". */

/* Sends msg over ch - msg carries reply, which the caller made or rearmed
 * - and waits for the reply's value in *out. Returns 0; -EPIPE when ch is
 * closed (nothing was sent; reply is dropped, so that it is not left
 * empty) or the actor dropped reply; -ENOMEM as cd_chan_send. A thread
 * waits (on a full channel, then for the reply); a task parks. */
#define cd_chan_call(ch, msg, reply, out) \
    cd_chan_call_at((ch), (msg), (reply), (out), CD_HERE)
CD_CHAN_MUST_CHECK int cd_chan_call_at(cd_chan_t *ch, const void *msg,
                                       cd_oneshot_t *reply, void *out,
                                       cd_site_t site);

/* The actor's side when it cannot answer a request (it is shutting down,
 * the request was malformed): drops reply, so that the requester wakes
 * with -EPIPE. Same as cd_oneshot_drop; a reply of NULL (a request that
 * wanted none) is fine. Returns 0 or -EALREADY. */
#define cd_chan_refuse(reply) cd_chan_refuse_at((reply), CD_HERE)
int cd_chan_refuse_at(cd_oneshot_t *reply, cd_site_t site);

#endif /* CD_ONESHOT_H */
