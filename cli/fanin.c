/*
 * fanin.c - the fan-in benchmark: P producers, one consumer, a real file
 * descriptor, and a checker at the far end of it (see fanin.h).
 *
 * Every method is the same three parts around a different queue: producers
 * that send, a consumer that takes a batch and writes it whole, and a
 * reader that checks the bytes. The queues are behind four functions
 * (send, take, close, and the memory they held), so that a row's time is
 * the queue's and nothing else differs.
 */
#define _GNU_SOURCE /* pipe2 */
#include "fanin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../lib/cd_amutex.h"
#include "../lib/cd_chan.h"
#include "../lib/cd_cond.h"
#include "../lib/cd_exec.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"

/* Messages one take of a channel gathers at most before it writes. */
#define CHAN_BATCH 4096
/* A producer task yields after this many messages, as a task that gets
 * its messages from I/O would: without it, a task would run to its end
 * before the consumer on the same worker ever ran. */
#define TASK_YIELD_EVERY 16
#define PRODUCER_STACK (256 * 1024)

typedef struct msg {
    uint32_t producer, seq;
} msg_t;

static const struct {
    const char *name, *label;
} methods[CD_FANIN_NMETHODS] = {
    [CD_FANIN_CHAN] = { "chan", "bounded cd_chan" },
    [CD_FANIN_UNBOUNDED] = { "unbounded", "unbounded cd_chan" },
    [CD_FANIN_SWAP] = { "swap", "mutex + swapped buffer" },
    [CD_FANIN_LOCKFREE] = { "lockfree", "atomic list, taken whole" },
    [CD_FANIN_TASK_MUTEX] = { "task-mutex", "tasks, cd_mutex + swap" },
    [CD_FANIN_TASK_AMUTEX] = { "task-amutex", "tasks, cd_amutex + swap" },
};

const char *cd_fanin_method_name(int method)
{
    return method >= 0 && method < CD_FANIN_NMETHODS ? methods[method].name
                                                     : NULL;
}

const char *cd_fanin_method_label(int method)
{
    return method >= 0 && method < CD_FANIN_NMETHODS ? methods[method].label
                                                     : NULL;
}

int cd_fanin_method_by_name(const char *name)
{
    for (int m = 0; m < CD_FANIN_NMETHODS; m++)
        if (strcmp(name, methods[m].name) == 0)
            return m;
    return -1;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ================================ the check ============================== */

void cd_fanin_encode(unsigned char out[8], uint32_t p, uint32_t seq)
{
    msg_t m = { p, seq };
    memcpy(out, &m, sizeof m);
}

int cd_fanin_check_init(cd_fanin_check_t *c, int producers, int messages)
{
    memset(c, 0, sizeof *c);
    if (producers < 1 || messages < 1)
        return -EINVAL;
    c->next = calloc((size_t)producers, sizeof *c->next);
    if (!c->next)
        return -ENOMEM;
    c->producers = producers;
    c->messages = (uint32_t)messages;
    return 0;
}

void cd_fanin_check_free(cd_fanin_check_t *c)
{
    free(c->next);
    c->next = NULL;
}

static void check_one(cd_fanin_check_t *c, const unsigned char *bytes)
{
    msg_t m;
    memcpy(&m, bytes, sizeof m);
    c->received++;
    if (m.producer >= (uint32_t)c->producers) {
        c->strangers++;
        return;
    }
    /* A gap or a repeat both show here: the next expected is only ever
     * the one after the last in-order message. */
    if (m.seq != c->next[m.producer])
        c->out_of_order++;
    else
        c->next[m.producer]++;
}

void cd_fanin_check_feed(cd_fanin_check_t *c, const void *bytes, size_t n)
{
    const unsigned char *b = bytes;
    while (n > 0 && c->npartial > 0) { /* finish a split message first */
        c->partial[c->npartial++] = *b++;
        n--;
        if (c->npartial == sizeof c->partial) {
            check_one(c, c->partial);
            c->npartial = 0;
        }
    }
    if (c->npartial > 0) /* this piece ended inside the split message */
        return;
    for (; n >= sizeof(msg_t); n -= sizeof(msg_t), b += sizeof(msg_t))
        check_one(c, b);
    memcpy(c->partial, b, n);
    c->npartial = n;
}

int cd_fanin_check_done(const cd_fanin_check_t *c, char *why, size_t len)
{
    uint64_t expected = (uint64_t)c->producers * c->messages, complete = 0;
    for (int p = 0; p < c->producers; p++)
        complete += c->next[p] == c->messages;
    if (c->received == expected && complete == (uint64_t)c->producers &&
        c->out_of_order == 0 && c->strangers == 0 && c->npartial == 0) {
        snprintf(why, len, "%llu messages, every producer's in order",
                 (unsigned long long)expected);
        return 1;
    }
    snprintf(why, len, "%llu of %llu messages arrived; %llu of %d producers "
             "complete; %llu out of order; %llu from no producer; %zu stray "
             "bytes", (unsigned long long)c->received,
             (unsigned long long)expected, (unsigned long long)complete,
             c->producers, (unsigned long long)c->out_of_order,
             (unsigned long long)c->strangers, c->npartial);
    return 0;
}

/* ================================ the sink =============================== */

typedef struct sink {
    int wfd, rfd;
    pthread_t reader;
    cd_fanin_check_t check;
    int read_err; /* errno of a failed read, or 0 */
} sink_t;

static int open_tcp(int fds[2])
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t alen = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0)
        return -errno;
    int c = -1, rc = 0;
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 1) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &alen) != 0 ||
        (c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        connect(c, (struct sockaddr *)&a, sizeof a) != 0 ||
        (fds[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0)
        rc = -errno;
    close(l);
    if (rc != 0) {
        if (c >= 0)
            close(c);
        return rc;
    }
    fds[1] = c;
    return 0;
}

static void *reader_main(void *arg)
{
    sink_t *s = arg;
    static _Thread_local unsigned char buf[64 * 1024];
    for (;;) {
        ssize_t n = read(s->rfd, buf, sizeof buf);
        if (n == 0)
            return NULL;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            s->read_err = errno;
            return NULL;
        }
        cd_fanin_check_feed(&s->check, buf, (size_t)n);
    }
}

static int sink_open(sink_t *s, const cd_fanin_cfg_t *cfg)
{
    int fds[2], rc;
    memset(s, 0, sizeof *s);
    if (cfg->sink == CD_FANIN_TCP)
        rc = open_tcp(fds);
    else
        rc = pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno;
    if (rc != 0)
        return rc;
    s->rfd = fds[0];
    s->wfd = fds[1];
    rc = cd_fanin_check_init(&s->check, cfg->producers, cfg->messages);
    if (rc == 0)
        rc = -pthread_create(&s->reader, NULL, reader_main, s);
    if (rc != 0) {
        cd_fanin_check_free(&s->check);
        close(s->rfd);
        close(s->wfd);
    }
    return rc;
}

/* Closes the writing end (the reader then sees the end of the stream),
 * waits for the reader, and fills out's verdict from its check. */
static void sink_close(sink_t *s, int write_err, cd_fanin_result_t *out)
{
    close(s->wfd);
    CD_CHECK(pthread_join(s->reader, NULL));
    close(s->rfd);
    out->ok = cd_fanin_check_done(&s->check, out->why, sizeof out->why);
    if (write_err || s->read_err) {
        out->ok = 0;
        snprintf(out->why, sizeof out->why, "the sink failed: %s",
                 strerror(write_err ? write_err : s->read_err));
    }
    cd_fanin_check_free(&s->check);
}

/* Writes all of n messages; 0 or an errno. */
static int write_all(int fd, const msg_t *m, size_t n)
{
    const char *p = (const char *)m;
    size_t left = n * sizeof *m;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        p += w;
        left -= (size_t)w;
    }
    return 0;
}

/* =============================== the queues ============================== */

/* A growable array of messages: the swap buffer's two halves, and the
 * consumer's batch for the channel and the list. */
typedef struct vec {
    msg_t *v;
    size_t len, cap;
} vec_t;

/* Room for at least want messages; 0 or -ENOMEM. */
static int vec_reserve(vec_t *b, size_t want)
{
    if (want <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < want)
        cap *= 2;
    msg_t *v = realloc(b->v, cap * sizeof *v);
    if (!v)
        return -ENOMEM;
    b->v = v;
    b->cap = cap;
    return 0;
}

static int vec_push(vec_t *b, msg_t m)
{
    int rc = vec_reserve(b, b->len + 1);
    if (rc == 0)
        b->v[b->len++] = m;
    return rc;
}

typedef struct node {
    struct node *next;
    msg_t m;
} node_t;

typedef struct queue {
    int method;
    /* chan, unbounded */
    cd_chan_t ch;
    /* swap, task-mutex, task-amutex: producers fill `fill`; the consumer
     * swaps it with its empty `spare` under the lock */
    cd_mutex_t lock;
    cd_amutex_t alock;
    cd_cond_t nonempty;
    vec_t fill, spare;
    int closed;
    /* lockfree */
    _Atomic(node_t *) head;
    atomic_int done;
    /* the consumer's batch (chan, lockfree) and figures */
    vec_t batch;
    size_t peak_bytes;
} queue_t;

static int queue_init(queue_t *q, const cd_fanin_cfg_t *cfg)
{
    memset(q, 0, sizeof *q);
    q->method = cfg->method;
    atomic_init(&q->head, NULL);
    atomic_init(&q->done, 0);
    switch (cfg->method) {
    case CD_FANIN_CHAN:
    case CD_FANIN_UNBOUNDED:
        if (vec_reserve(&q->batch, CHAN_BATCH) != 0)
            return -ENOMEM;
        return cd_chan_init(&q->ch, "fanin", sizeof(msg_t),
                            cfg->method == CD_FANIN_CHAN
                                ? (size_t)cfg->capacity : CD_CHAN_UNBOUNDED);
    case CD_FANIN_SWAP: {
        int rc = cd_mutex_init(&q->lock, "fanin");
        if (rc == 0 && (rc = cd_cond_init(&q->nonempty, "nonempty")) != 0)
            cd_mutex_destroy(&q->lock);
        return rc;
    }
    case CD_FANIN_TASK_MUTEX:
        return cd_mutex_init(&q->lock, "fanin");
    case CD_FANIN_TASK_AMUTEX:
        return cd_amutex_init(&q->alock, "fanin");
    default:
        return 0;
    }
}

static void queue_destroy(queue_t *q)
{
    switch (q->method) {
    case CD_FANIN_CHAN:
    case CD_FANIN_UNBOUNDED: {
        cd_chan_stats_t st;
        cd_chan_stats(&q->ch, &st);
        q->peak_bytes = st.bytes; /* an unbounded one keeps its largest */
        cd_chan_destroy(&q->ch);
        break;
    }
    case CD_FANIN_SWAP:
        cd_cond_destroy(&q->nonempty);
        cd_mutex_destroy(&q->lock);
        break;
    case CD_FANIN_TASK_MUTEX:
        cd_mutex_destroy(&q->lock);
        break;
    case CD_FANIN_TASK_AMUTEX:
        cd_amutex_destroy(&q->alock);
        break;
    default:
        break;
    }
    free(q->fill.v);
    free(q->spare.v);
    free(q->batch.v);
}

static void note_peak(queue_t *q, size_t bytes)
{
    if (bytes > q->peak_bytes)
        q->peak_bytes = bytes;
}

/* The swap buffer's push; the caller holds its lock. */
static int swap_push(queue_t *q, msg_t m)
{
    int rc = vec_push(&q->fill, m);
    note_peak(q, (q->fill.cap + q->spare.cap) * sizeof(msg_t));
    return rc;
}

/* The swap buffer's take; the caller holds its lock: what was filled
 * becomes the consumer's, and the consumer's empty buffer is filled next. */
static size_t swap_take(queue_t *q, const msg_t **batch)
{
    vec_t t = q->fill;
    q->fill = q->spare;
    q->fill.len = 0;
    q->spare = t;
    *batch = q->spare.v;
    return q->spare.len;
}

static int lockfree_push(queue_t *q, msg_t m)
{
    node_t *n = malloc(sizeof *n);
    if (!n)
        return -ENOMEM;
    n->m = m;
    n->next = atomic_load_explicit(&q->head, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(
        &q->head, &n->next, n, memory_order_release, memory_order_relaxed))
        ;
    return 0;
}

/* Takes the whole list; it is newest first, so the batch is filled from
 * its end to give back each producer's order. */
static size_t lockfree_take_list(queue_t *q, const msg_t **batch)
{
    node_t *n = atomic_exchange_explicit(&q->head, NULL, memory_order_acquire);
    size_t count = 0;
    for (node_t *p = n; p; p = p->next)
        count++;
    if (count == 0)
        return 0;
    /* Out of memory, the messages taken are lost, and the check at the
     * far end says how many. */
    int room = vec_reserve(&q->batch, count) == 0;
    q->batch.len = room ? count : 0;
    for (size_t i = count; n; i--) {
        node_t *next = n->next;
        if (room)
            q->batch.v[i - 1] = n->m;
        free(n);
        n = next;
    }
    note_peak(q, count * sizeof(node_t));
    *batch = q->batch.v;
    return q->batch.len;
}

/* A producer's send. 0, or -errno. */
static int queue_send(queue_t *q, msg_t m)
{
    int rc = 0;
    switch (q->method) {
    case CD_FANIN_CHAN:
    case CD_FANIN_UNBOUNDED:
        return cd_chan_send(&q->ch, &m);
    case CD_FANIN_SWAP:
        cd_mutex_lock(&q->lock);
        rc = swap_push(q, m);
        /* The consumer waits only on an empty buffer: the first message
         * is the one that must wake it. */
        if (rc == 0 && q->fill.len == 1)
            cd_cond_signal(&q->nonempty);
        cd_mutex_unlock(&q->lock);
        return rc;
    case CD_FANIN_TASK_MUTEX:
        cd_mutex_lock(&q->lock);
        rc = swap_push(q, m);
        cd_mutex_unlock(&q->lock);
        return rc;
    case CD_FANIN_TASK_AMUTEX:
        cd_amutex_lock(&q->alock);
        rc = swap_push(q, m);
        cd_amutex_unlock(&q->alock);
        return rc;
    default:
        return lockfree_push(q, m);
    }
}

/* The channel's take: wait for one message, then gather what else is
 * there without waiting. 0 once the channel is closed and drained. */
static size_t chan_take(queue_t *q, const msg_t **batch)
{
    msg_t m;
    q->batch.len = 0;
    if (cd_chan_recv(&q->ch, &m) != 0)
        return 0;
    do { /* queue_init reserved the batch */
        q->batch.v[q->batch.len++] = m;
    } while (q->batch.len < CHAN_BATCH && cd_chan_try_recv(&q->ch, &m) == 0);
    *batch = q->batch.v;
    return q->batch.len;
}

static void backoff(int *idle)
{
    /* A lock-free consumer has nothing to sleep on: it spins politely,
     * then naps, so that on a small machine the producers get the CPU. */
    if (++*idle < 64) {
        sched_yield();
    } else {
        struct timespec ts = { 0, 20000 };
        nanosleep(&ts, NULL);
    }
}

/* The consumer's take for the thread methods: waits for messages; returns
 * how many and where (valid until the next take), 0 when closed and
 * drained. */
static size_t queue_take(queue_t *q, const msg_t **batch)
{
    size_t n;
    int idle = 0;
    switch (q->method) {
    case CD_FANIN_CHAN:
    case CD_FANIN_UNBOUNDED:
        return chan_take(q, batch);
    case CD_FANIN_SWAP:
        cd_mutex_lock(&q->lock);
        while (q->fill.len == 0 && !q->closed)
            cd_cond_wait(&q->nonempty, &q->lock);
        n = swap_take(q, batch);
        cd_mutex_unlock(&q->lock);
        return n;
    default:
        for (;;) {
            /* Read "done" before taking: a list found empty after every
             * producer finished is empty for good. */
            int done = atomic_load_explicit(&q->done, memory_order_acquire);
            if ((n = lockfree_take_list(q, batch)) > 0 || done)
                return n;
            backoff(&idle);
        }
    }
}

/* Every producer has finished: the consumer's takes end once drained. */
static void queue_close(queue_t *q)
{
    switch (q->method) {
    case CD_FANIN_CHAN:
    case CD_FANIN_UNBOUNDED:
        cd_chan_close(&q->ch); /* -EPIPE: closed already, as wanted */
        break;
    case CD_FANIN_SWAP:
        cd_mutex_lock(&q->lock);
        q->closed = 1;
        cd_cond_broadcast(&q->nonempty);
        cd_mutex_unlock(&q->lock);
        break;
    default:
        atomic_store_explicit(&q->done, 1, memory_order_release);
        break;
    }
}

/* ============================== the consumer ============================= */

typedef struct run {
    const cd_fanin_cfg_t *cfg;
    queue_t q;
    sink_t sink;
    uint64_t taken, batches, max_batch;
    int write_err;
    /* the start gate of the producer threads */
    pthread_mutex_t gate_lock;
    pthread_cond_t gate;
    int open;
    atomic_int tasks_done;
} run_t;

/* Writes one batch to the sink, losing the test hook's message if it is
 * in this batch. */
static void consume(run_t *r, const msg_t *b, size_t n)
{
    uint64_t first = r->taken + 1;
    long drop = r->cfg->drop_nth;
    r->taken += n;
    r->batches++;
    if (n > r->max_batch)
        r->max_batch = n;
    if (r->write_err)
        return;
    if (drop >= (long)first && (uint64_t)drop <= r->taken) {
        size_t at = (size_t)((uint64_t)drop - first);
        r->write_err = write_all(r->sink.wfd, b, at);
        if (!r->write_err)
            r->write_err = write_all(r->sink.wfd, b + at + 1, n - at - 1);
        return;
    }
    r->write_err = write_all(r->sink.wfd, b, n);
}

static void *consumer_main(void *arg)
{
    run_t *r = arg;
    const msg_t *b;
    size_t n;
    while ((n = queue_take(&r->q, &b)) > 0)
        consume(r, b, n);
    return NULL;
}

/* ============================ thread producers =========================== */

typedef struct producer {
    run_t *r;
    uint32_t id;
    int err;
} producer_t;

static void *producer_main(void *arg)
{
    producer_t *p = arg;
    run_t *r = p->r;
    CD_CHECK(pthread_mutex_lock(&r->gate_lock));
    while (!r->open)
        CD_CHECK(pthread_cond_wait(&r->gate, &r->gate_lock));
    CD_CHECK(pthread_mutex_unlock(&r->gate_lock));
    for (uint32_t s = 0; s < (uint32_t)r->cfg->messages && !p->err; s++)
        p->err = -queue_send(&r->q, (msg_t){ p->id, s });
    return NULL;
}

/* Starts the producers behind the gate; returns how many started. */
static int start_producers(run_t *r, producer_t *ps, pthread_t *tids)
{
    pthread_attr_t attr;
    CD_CHECK(pthread_attr_init(&attr));
    CD_CHECK(pthread_attr_setstacksize(&attr, PRODUCER_STACK));
    int i;
    for (i = 0; i < r->cfg->producers; i++) {
        ps[i] = (producer_t){ .r = r, .id = (uint32_t)i };
        if (pthread_create(&tids[i], &attr, producer_main, &ps[i]) != 0)
            break;
    }
    CD_CHECK(pthread_attr_destroy(&attr));
    return i;
}

static void open_gate(run_t *r)
{
    CD_CHECK(pthread_mutex_lock(&r->gate_lock));
    r->open = 1;
    CD_CHECK(pthread_cond_broadcast(&r->gate));
    CD_CHECK(pthread_mutex_unlock(&r->gate_lock));
}

/* Runs the producer threads and the consumer thread; 0 or -errno. A
 * producer that failed to send makes the row fail its check (its messages
 * are missing), so it needs no verdict of its own. */
static int run_threads(run_t *r, int64_t *t0)
{
    int np = r->cfg->producers, rc = 0;
    producer_t *ps = calloc((size_t)np, sizeof *ps);
    pthread_t *tids = calloc((size_t)np, sizeof *tids);
    pthread_t consumer;
    if (!ps || !tids) {
        free(ps);
        free(tids);
        return -ENOMEM;
    }
    int started = start_producers(r, ps, tids);
    if (started < np)
        rc = -EAGAIN;
    if (rc == 0)
        rc = -pthread_create(&consumer, NULL, consumer_main, r);
    *t0 = now_ns();
    if (rc != 0) /* no consumer: the producers must not wait on a channel */
        queue_close(&r->q);
    open_gate(r);
    for (int i = 0; i < started; i++)
        CD_CHECK(pthread_join(tids[i], NULL));
    if (rc == 0) {
        queue_close(&r->q);
        CD_CHECK(pthread_join(consumer, NULL));
    }
    free(ps);
    free(tids);
    return rc;
}

/* ============================= task producers ============================ */

typedef struct task_arg {
    run_t *r;
    uint32_t id;
} task_arg_t;

static void producer_task(void *arg)
{
    task_arg_t *a = arg;
    run_t *r = a->r;
    for (uint32_t s = 0; s < (uint32_t)r->cfg->messages; s++) {
        if (queue_send(&r->q, (msg_t){ a->id, s }) != 0)
            break; /* its missing messages fail the check */
        if ((s + 1) % TASK_YIELD_EVERY == 0)
            cd_await_latency("next message", 0);
    }
    atomic_fetch_add_explicit(&r->tasks_done, 1, memory_order_release);
}

static size_t task_take(run_t *r, const msg_t **batch)
{
    size_t n;
    if (r->q.method == CD_FANIN_TASK_AMUTEX) {
        cd_amutex_lock(&r->q.alock);
        n = swap_take(&r->q, batch);
        cd_amutex_unlock(&r->q.alock);
    } else {
        cd_mutex_lock(&r->q.lock);
        n = swap_take(&r->q, batch);
        cd_mutex_unlock(&r->q.lock);
    }
    return n;
}

static void consumer_task(void *arg)
{
    run_t *r = arg;
    const msg_t *b;
    for (;;) {
        int done = atomic_load_explicit(&r->tasks_done, memory_order_acquire);
        size_t n = task_take(r, &b);
        if (n > 0)
            consume(r, b, n);
        else if (done == r->cfg->producers)
            return;
        else /* nothing yet: let the producers on this worker run */
            cd_await_latency("idle", 0);
    }
}

static int run_tasks(run_t *r, int64_t *t0)
{
    int np = r->cfg->producers, rc;
    cd_exec_t *e = NULL;
    task_arg_t *args = calloc((size_t)np, sizeof *args);
    if (!args)
        return -ENOMEM;
    rc = cd_exec_create(&e, 2);
    if (rc == 0)
        rc = cd_exec_spawn_on(e, 0, "consumer", consumer_task, r) > 0
                 ? 0 : -ENOSPC;
    for (int i = 0; rc == 0 && i < np; i++) {
        args[i] = (task_arg_t){ r, (uint32_t)i };
        if (cd_exec_spawn(e, "producer", producer_task, &args[i]) < 0)
            rc = -ENOSPC;
    }
    *t0 = now_ns();
    if (rc == 0 && cd_exec_run(e) < 0)
        rc = -EAGAIN;
    cd_exec_destroy(e);
    free(args);
    return rc;
}

/* ================================== a row ================================ */

static int valid(const cd_fanin_cfg_t *cfg)
{
    if (cfg->method < 0 || cfg->method >= CD_FANIN_NMETHODS ||
        cfg->producers < 1 || cfg->messages < 1 || cfg->capacity < 1 ||
        (cfg->sink != CD_FANIN_PIPE && cfg->sink != CD_FANIN_TCP))
        return 0;
    int tasks = cfg->method == CD_FANIN_TASK_MUTEX ||
                cfg->method == CD_FANIN_TASK_AMUTEX;
    return !tasks || cfg->producers <= CD_FANIN_MAX_TASKS;
}

int cd_fanin_run(const cd_fanin_cfg_t *cfg, cd_fanin_result_t *out)
{
    memset(out, 0, sizeof *out);
    if (!valid(cfg))
        return -EINVAL;
    run_t *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->cfg = cfg;
    CD_CHECK(pthread_mutex_init(&r->gate_lock, NULL));
    CD_CHECK(pthread_cond_init(&r->gate, NULL));
    /* A fresh registry per row, untraced: the queues pay their
     * bookkeeping but no tracing, as in the other benchmarks. */
    cd_reg_reset();
    cd_reg_set_trace(0);
    int rc = queue_init(&r->q, cfg);
    if (rc != 0)
        free(r->q.batch.v);
    else if ((rc = sink_open(&r->sink, cfg)) != 0)
        queue_destroy(&r->q);
    if (rc == 0) {
        int64_t t0 = 0;
        int tasks = cfg->method == CD_FANIN_TASK_MUTEX ||
                    cfg->method == CD_FANIN_TASK_AMUTEX;
        rc = tasks ? run_tasks(r, &t0) : run_threads(r, &t0);
        sink_close(&r->sink, r->write_err, out);
        out->wall_ns = now_ns() - t0;
        queue_destroy(&r->q);
        out->peak_bytes = r->q.peak_bytes;
        out->max_batch = r->max_batch;
        out->mean_batch = r->batches ? (double)r->taken / r->batches : 0;
        out->msgs_per_s = out->wall_ns > 0
            ? (double)r->sink.check.received * 1e9 / out->wall_ns : 0;
    }
    CD_CHECK(pthread_cond_destroy(&r->gate));
    CD_CHECK(pthread_mutex_destroy(&r->gate_lock));
    free(r);
    return rc;
}
