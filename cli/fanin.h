/*
 * fanin.h - the fan-in benchmark behind `concdemo bench fanin`.
 *
 * P producers each send M messages to one consumer, which writes them to a
 * real file descriptor (a pipe, or a loopback TCP connection). A reader at
 * the far end checks what arrived: exactly P x M messages, each producer's
 * in the order it sent them. A row whose check fails is reported as
 * failed, whatever its speed: a fast queue that loses messages measures
 * nothing.
 *
 * The methods differ only in how a message gets from a producer to the
 * consumer:
 *   chan       a bounded cd_chan: producers wait while it is full
 *   unbounded  an unbounded cd_chan: producers never wait, memory grows
 *   swap       a cd_mutex-protected buffer the consumer swaps out whole
 *              (double buffering): one lock round per message, one per batch
 *   lockfree   producers push onto an atomic list; the consumer takes the
 *              whole list with one exchange
 *   task-mutex   the swap buffer, producers are tasks on the executor
 *   task-amutex  the same with the executor's awaitable mutex (cd_amutex)
 * The last two put a number on what an async-aware lock costs where a
 * plain one would do (the lock is never held across an await).
 */
#ifndef CD_FANIN_H
#define CD_FANIN_H

#include <stddef.h>
#include <stdint.h>

enum cd_fanin_method {
    CD_FANIN_CHAN = 0,
    CD_FANIN_UNBOUNDED,
    CD_FANIN_SWAP,
    CD_FANIN_LOCKFREE,
    CD_FANIN_TASK_MUTEX,
    CD_FANIN_TASK_AMUTEX,
    CD_FANIN_NMETHODS
};

enum cd_fanin_sink { CD_FANIN_PIPE = 0, CD_FANIN_TCP };

/* Tasks take a registry record each (cd_exec.h), so the task methods stop
 * at this many producers; larger rows are skipped and say why. */
#define CD_FANIN_MAX_TASKS 256

typedef struct cd_fanin_cfg {
    int method;        /* enum cd_fanin_method */
    int producers;     /* >= 1 */
    int messages;      /* per producer, >= 1 */
    int capacity;      /* the bounded channel's, >= 1 */
    int sink;          /* enum cd_fanin_sink */
    /* Test hook: the consumer loses its nth message (1-based; 0: none),
     * so that a test can see the check fail on a dropped message. */
    long drop_nth;
} cd_fanin_cfg_t;

typedef struct cd_fanin_result {
    int64_t wall_ns;      /* first message sent .. last one checked */
    double msgs_per_s;    /* messages checked / wall time */
    double mean_batch;    /* messages per consumer write */
    uint64_t max_batch;
    size_t peak_bytes;    /* the queue's memory at its largest */
    int ok;               /* 1: every message arrived, in order */
    char why[160];        /* what the check found wrong, or "" */
} cd_fanin_result_t;

/* The checker at the far end of the sink: fed the byte stream, it counts
 * the messages of each producer and the ones out of place. */
typedef struct cd_fanin_check {
    int producers;
    uint32_t messages;
    uint32_t *next;           /* per producer: the next sequence expected */
    uint64_t received;
    uint64_t out_of_order;    /* a sequence other than the next expected */
    uint64_t strangers;       /* a producer number out of range */
    unsigned char partial[8]; /* a message split across two reads */
    size_t npartial;
} cd_fanin_check_t;

/* 0, -EINVAL (producers or messages < 1), or -ENOMEM. */
int cd_fanin_check_init(cd_fanin_check_t *c, int producers, int messages);
void cd_fanin_check_free(cd_fanin_check_t *c);
/* Takes the next n bytes of the stream (any split). */
void cd_fanin_check_feed(cd_fanin_check_t *c, const void *bytes, size_t n);
/* 1 if exactly producers x messages messages arrived, each producer's
 * complete and in order, with no byte left over; else 0 and why (one
 * line: how many arrived, missing, out of order, stray bytes). */
int cd_fanin_check_done(const cd_fanin_check_t *c, char *why, size_t len);

/* The bytes of message seq (0-based) of producer p, as the sink carries
 * them: for tests that build a stream by hand. */
void cd_fanin_encode(unsigned char out[8], uint32_t p, uint32_t seq);

/* Runs one row. Returns 0 (out filled; out->ok says whether the check
 * passed), -EINVAL (a bad cfg, or a task method above
 * CD_FANIN_MAX_TASKS), or -errno when the run could not be set up (no
 * pipe, socket or thread). */
int cd_fanin_run(const cd_fanin_cfg_t *cfg, cd_fanin_result_t *out);

/* "chan", "swap", ...; -1 for an unknown name. */
const char *cd_fanin_method_name(int method);
int cd_fanin_method_by_name(const char *name);
/* A longer label for tables ("bounded cd_chan"). */
const char *cd_fanin_method_label(int method);

#endif /* CD_FANIN_H */
