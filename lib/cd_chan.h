/*
 * cd_chan.h - a named channel: a FIFO queue of fixed-size messages between
 * threads, bounded or unbounded, that the registry and the trace can see.
 *
 * A message is msg_size bytes chosen at cd_chan_init() (a pointer, a small
 * struct, a log record) and is copied in by send and out by receive. A
 * bounded channel holds at most `capacity` messages in a buffer reserved at
 * init, so its memory is flat: a sender that finds it full waits (send),
 * gives up after a while (timed send) or does not wait at all (try send).
 * An unbounded channel (capacity CD_CHAN_UNBOUNDED) never makes a sender
 * wait: its buffer doubles whenever it is full and keeps its largest size
 * until destroyed, which is exactly how an overloaded queue eats memory.
 *
 * Nothing is lost without a trace. A try send on a full channel either
 * leaves the message with the caller (CD_CHAN_KEEP: the caller must do
 * something with it) or sheds it (CD_CHAN_SHED): then the channel counts it
 * as a drop, in its statistics and its registry record, and the trace shows
 * a "drop" event. Every send and receive returns a result the compiler
 * insists is looked at.
 *
 * Closing a channel wakes every waiting sender and receiver. Sending on a
 * closed channel fails with -EPIPE; receiving drains what is left, then
 * fails with -EPIPE. A thread waiting in send or receive shows in the
 * registry as blocked on the channel; if the run is aborted meanwhile, a
 * thread started by cd_thread is ended (see cd_thread.h).
 *
 * Executor tasks (cd_exec.h) use the same calls: a task that must wait
 * in send or receive parks - its worker runs other tasks meanwhile - and
 * the receive or send that makes room or a message makes it ready, first
 * come first served; it shows in the registry as parked on the channel.
 * (A timed send or receive in a task still waits on its worker, for at
 * most its timeout.)
 *
 * Inside there is one pthread mutex and two condition variables, so a send
 * happens-before the receive that gets its message, for ThreadSanitizer
 * too. Timed waits take milliseconds, like cd_mutex_timedlock.
 */
#ifndef CD_CHAN_H
#define CD_CHAN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "cd_common.h"
#include "cd_queue.h"

#define CD_CHAN_UNBOUNDED 0

/* What a try send does with a message that does not fit. */
enum {
    CD_CHAN_KEEP = 0, /* leave it with the caller: -EAGAIN, nothing counted */
    CD_CHAN_SHED = 1  /* drop it and count the drop: -EAGAIN */
};

#if defined(__GNUC__)
#define CD_CHAN_MUST_CHECK __attribute__((warn_unused_result))
#else
#define CD_CHAN_MUST_CHECK
#endif

typedef struct cd_chan {
    pthread_mutex_t lock;
    pthread_cond_t not_empty; /* receivers wait here */
    pthread_cond_t not_full;  /* senders wait here (bounded only) */
    size_t msg_size;
    size_t capacity;          /* 0: unbounded */
    unsigned char *buf;       /* ring of `slots` messages */
    size_t slots, head, depth;
    int closed;
    size_t high_water;
    uint64_t sent, received, drops;
    uint64_t refused;         /* sends the full channel turned away */
    cd_queue_t task_senders;  /* parked tasks waiting for room */
    cd_queue_t task_receivers; /* parked tasks waiting for a message */
    int id;                   /* registry id */
} cd_chan_t;

/* A consistent copy of a channel's figures. */
typedef struct cd_chan_stats {
    size_t depth;      /* messages in the channel now */
    size_t capacity;   /* 0: unbounded */
    size_t high_water; /* the largest depth so far */
    size_t bytes;      /* memory held for messages (the ring buffer) */
    uint64_t sent, received, drops;
    uint64_t refused;  /* sends that found it full and kept their message:
                          a try send with CD_CHAN_KEEP, a timed send that
                          timed out (a shed message is a drop instead) */
    int closed;
} cd_chan_stats_t;

/* Creates a channel named name for messages of msg_size bytes, holding at
 * most capacity of them (CD_CHAN_UNBOUNDED: no limit). A bounded channel
 * reserves its whole buffer here. Returns 0, -EINVAL (msg_size 0, or the
 * buffer size overflows), -ENOMEM, or -ENOSPC (registry full). */
int cd_chan_init(cd_chan_t *ch, const char *name, size_t msg_size,
                 size_t capacity);

/* Frees the buffer and any messages still in it. Nobody may be using the
 * channel any more. */
void cd_chan_destroy(cd_chan_t *ch);

/* Copies *msg into the channel, waiting while a bounded channel is full.
 * Returns 0; -EPIPE if the channel is or gets closed (the message was not
 * sent); -ENOMEM if an unbounded channel could not grow; -ECANCELED only
 * on a thread that cd_thread did not start, when the run was aborted. */
#define cd_chan_send(ch, msg) cd_chan_send_at((ch), (msg), CD_HERE)
CD_CHAN_MUST_CHECK int cd_chan_send_at(cd_chan_t *ch, const void *msg,
                                       cd_site_t site);

/* Sends without waiting. Returns 0; -EAGAIN if the channel is full, and
 * then if_full says what happened to the message: CD_CHAN_KEEP, still the
 * caller's; CD_CHAN_SHED, dropped and counted in the channel's drops.
 * -EPIPE if closed (never counted as a drop); -ENOMEM as cd_chan_send. */
#define cd_chan_try_send(ch, msg, if_full) \
    cd_chan_try_send_at((ch), (msg), (if_full), CD_HERE)
CD_CHAN_MUST_CHECK int cd_chan_try_send_at(cd_chan_t *ch, const void *msg,
                                           int if_full, cd_site_t site);

/* Waits at most ms milliseconds for room. Returns 0, -ETIMEDOUT (the
 * message was not sent and is still the caller's), or as cd_chan_send. */
#define cd_chan_timed_send(ch, msg, ms) \
    cd_chan_timed_send_at((ch), (msg), (ms), CD_HERE)
CD_CHAN_MUST_CHECK int cd_chan_timed_send_at(cd_chan_t *ch, const void *msg,
                                             int ms, cd_site_t site);

/* Takes the oldest message into *out, waiting while the channel is empty.
 * Returns 0, or -EPIPE once the channel is closed and empty; -ECANCELED as
 * cd_chan_send. */
#define cd_chan_recv(ch, out) cd_chan_recv_at((ch), (out), CD_HERE)
CD_CHAN_MUST_CHECK int cd_chan_recv_at(cd_chan_t *ch, void *out,
                                       cd_site_t site);

/* Receives without waiting: 0, -EAGAIN (empty, not closed), -EPIPE. */
#define cd_chan_try_recv(ch, out) cd_chan_try_recv_at((ch), (out), CD_HERE)
CD_CHAN_MUST_CHECK int cd_chan_try_recv_at(cd_chan_t *ch, void *out,
                                           cd_site_t site);

/* Waits at most ms milliseconds for a message: 0, -ETIMEDOUT, -EPIPE. */
#define cd_chan_timed_recv(ch, out, ms) \
    cd_chan_timed_recv_at((ch), (out), (ms), CD_HERE)
CD_CHAN_MUST_CHECK int cd_chan_timed_recv_at(cd_chan_t *ch, void *out, int ms,
                                             cd_site_t site);

/* Closes the channel and wakes every waiting sender and receiver. Returns
 * 0, or -EPIPE if it was already closed. */
#define cd_chan_close(ch) cd_chan_close_at((ch), CD_HERE)
int cd_chan_close_at(cd_chan_t *ch, cd_site_t site);

/* Copies the channel's figures, all taken at one instant. Can't fail. */
void cd_chan_stats(cd_chan_t *ch, cd_chan_stats_t *out);

#endif /* CD_CHAN_H */
