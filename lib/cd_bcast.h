/*
 * cd_bcast.h - a named, bounded broadcast channel: every message goes to
 * every subscriber, each reading at its own pace, in memory fixed at init.
 *
 * The channel keeps the newest `capacity` messages in a ring reserved at
 * init; a send never waits and overwrites the oldest. Each subscriber has
 * its own cursor: the next message it will read. A subscriber that falls
 * more than capacity behind has lost messages - the ones overwritten
 * before it read them - and is told so, exactly: its next receive fails
 * with CD_BCAST_LAGGED and says how many it missed, and the one after
 * that continues from the oldest message still kept. So there is never a
 * silent gap (the subscriber always learns that, and how much, it
 * missed), and never unbounded memory (one slow subscriber cannot make
 * the channel hold more than capacity messages). What a lagged subscriber
 * does about the gap is its own business: for a stream of config updates,
 * the newest one is all it needs.
 *
 * A subscriber sees the messages sent after it subscribed. Each is a
 * registry object of its own, named at subscribe, which shows how far
 * behind it is and what it missed; a waiting receiver shows as blocked
 * (a task: parked) on its subscriber. A receiver may be a thread (it
 * waits through the choke point's wait loop) or an executor task (it
 * parks; a send makes it ready). One thread or task at a time reads a
 * subscriber; any number may send.
 *
 * Closing wakes every waiting receiver; receivers read what is left, then
 * get -EPIPE. Inside, one pthread mutex guards the ring and every cursor,
 * and messages are copied under it, so a send happens-before each receive
 * that reads its message, for ThreadSanitizer too.
 */
#ifndef CD_BCAST_H
#define CD_BCAST_H

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "cd_chan.h"
#include "cd_common.h"

/* What a receive returns when the subscriber lagged (see above). */
#define CD_BCAST_LAGGED (-EOVERFLOW)

struct cd_task;
struct cd_bsub;

typedef struct cd_bcast {
    pthread_mutex_t lock;  /* guards everything below and every cursor */
    pthread_cond_t cv;     /* waiting receiver threads sleep here */
    size_t msg_size, capacity;
    unsigned char *buf;    /* capacity messages; number s at s % capacity */
    uint64_t sent;         /* messages sent: the next one's number */
    int closed;
    struct cd_bsub *subs;  /* the subscribers, newest first */
    int id;                /* registry id */
} cd_bcast_t;

typedef struct cd_bsub {
    cd_bcast_t *b;
    struct cd_bsub *next;  /* in b->subs */
    uint64_t cursor;       /* the number of the next message to read */
    uint64_t received;     /* messages read */
    uint64_t missed;       /* messages lost to lagging, in all */
    struct cd_task *task;  /* a parked receiving task, or NULL */
    int id;                /* registry id */
} cd_bsub_t;

/* Figures of one subscriber, taken at one instant. */
typedef struct cd_bsub_stats {
    uint64_t behind;   /* messages sent it has not read (> capacity: it
                          lagged, and its next receive says so) */
    uint64_t received, missed;
} cd_bsub_stats_t;

/* Creates a broadcast channel named name for messages of msg_size bytes
 * keeping the newest capacity of them; reserves the ring here. Returns 0,
 * -EINVAL (msg_size or capacity 0, or the size overflows), -ENOMEM or
 * -ENOSPC (registry full). */
int cd_bcast_init(cd_bcast_t *b, const char *name, size_t msg_size,
                  size_t capacity);

/* Frees the ring. Every subscriber must have unsubscribed, and nobody may
 * be using the channel. */
void cd_bcast_destroy(cd_bcast_t *b);

/* Makes s a subscriber named name: it will read every message sent from
 * now on. Returns 0 or -ENOSPC (registry full). */
int cd_bcast_subscribe(cd_bcast_t *b, cd_bsub_t *s, const char *name);

/* Ends s's subscription; nobody may be receiving on it. */
void cd_bcast_unsubscribe(cd_bsub_t *s);

/* Copies *msg into the ring for every subscriber, overwriting the oldest
 * message when full, and wakes the waiting receivers. Never waits.
 * Returns 0, or -EPIPE when the channel is closed. */
#define cd_bcast_send(b, msg) cd_bcast_send_at((b), (msg), CD_HERE)
CD_CHAN_MUST_CHECK int cd_bcast_send_at(cd_bcast_t *b, const void *msg,
                                        cd_site_t site);

/* Takes s's next message into *out, waiting while there is none (a task
 * parks). Returns 0; CD_BCAST_LAGGED when s fell more than capacity
 * behind: *missed (when not NULL) is how many messages it lost, nothing
 * was copied, and s now points at the oldest kept message, which the next
 * receive returns; -EPIPE once the channel is closed and s has read all
 * it kept; -ECANCELED only on a thread cd_thread did not start, when the
 * run was aborted (a task or a started thread is ended instead). */
#define cd_bcast_recv(s, out, missed) \
    cd_bcast_recv_at((s), (out), (missed), CD_HERE)
CD_CHAN_MUST_CHECK int cd_bcast_recv_at(cd_bsub_t *s, void *out,
                                        uint64_t *missed, cd_site_t site);

/* Receives without waiting: as cd_bcast_recv, or -EAGAIN (nothing new,
 * not closed). */
#define cd_bcast_try_recv(s, out, missed) \
    cd_bcast_try_recv_at((s), (out), (missed), CD_HERE)
CD_CHAN_MUST_CHECK int cd_bcast_try_recv_at(cd_bsub_t *s, void *out,
                                            uint64_t *missed,
                                            cd_site_t site);

/* Closes the channel and wakes every waiting receiver. Returns 0, or
 * -EPIPE if it was closed already. */
#define cd_bcast_close(b) cd_bcast_close_at((b), CD_HERE)
int cd_bcast_close_at(cd_bcast_t *b, cd_site_t site);

/* Copies s's figures. Can't fail. */
void cd_bcast_sub_stats(cd_bsub_t *s, cd_bsub_stats_t *out);

#endif /* CD_BCAST_H */
