/*
 * cd_simnet.c - in-memory loopback streams and listeners (cd_simnet.h).
 *
 * A stream is a byte buffer that grows as needed up to the stream's depth
 * (the writer's send buffer plus the reader's receive buffer); the bytes
 * are kept contiguous from `head`, and slid back to the start when the
 * tail would run past the allocation. Buffer sizes follow Linux's rules
 * for SO_SNDBUF and SO_RCVBUF on TCP, so that a demo sized for the kernel
 * (chat's slow client: "less than one message") behaves the same here.
 */
#include "cd_simnet.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cd_common.h"

/* Linux's TCP defaults (net.ipv4.tcp_wmem, tcp_rmem: the middle values),
 * the ceiling of a value set (net.core.wmem_max, rmem_max), and the floor
 * the kernel keeps (SOCK_MIN_SNDBUF, SOCK_MIN_RCVBUF on x86-64). */
#define SNDBUF_DEFAULT 16384
#define RCVBUF_DEFAULT 131072
#define BUF_SET_MAX 212992
#define SNDBUF_MIN 4608
#define RCVBUF_MIN 2304

/* Written under the link's lock. What says whether an end is ready
 * (len, shut, deaf, the sizes) is atomic too, so that a readiness check -
 * the scheduler makes one for every waiting task at every decision - reads
 * it without the lock: a stale answer only sends a caller round its loop
 * once more (its call takes the lock and looks again). */
typedef struct way {
    char *buf;
    size_t alloc, head;
    _Atomic size_t len;
    _Atomic int shut; /* the writer shut its side: the end of the stream */
    _Atomic int deaf; /* the reader hung up: writes fail with EPIPE */
} way_t;

struct cd__simnet_link {
    pthread_mutex_t lock;
    way_t way[2];      /* way[e]: written by end e, read by end 1 - e */
    _Atomic int snd[2], rcv[2];
    int open[2];       /* ends not closed yet */
};

#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define ST(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

struct cd__simnet_lis {
    pthread_mutex_t lock;
    _Atomic int closed, n; /* n: connections waiting (atomic: see way_t) */
    int backlog, head;
    cd__simnet_link_t **queue; /* backlog slots, a ring */
};

/* What the kernel keeps of a size set with setsockopt. */
static int as_set(int v, int floor)
{
    int eff = (v > BUF_SET_MAX ? BUF_SET_MAX : v) * 2;
    return eff < floor ? floor : eff;
}

static size_t depth(const cd__simnet_link_t *k, int e)
{
    return (size_t)LD(k->snd[e]) + (size_t)LD(k->rcv[1 - e]);
}

/* ================================= links ================================= */

int cd__simnet_pair(cd__simnet_link_t **out)
{
    cd__simnet_link_t *k = calloc(1, sizeof *k);
    if (!k)
        return -ENOMEM;
    CD_CHECK(pthread_mutex_init(&k->lock, NULL));
    for (int e = 0; e < 2; e++) {
        ST(k->snd[e], SNDBUF_DEFAULT);
        ST(k->rcv[e], RCVBUF_DEFAULT);
        k->open[e] = 1;
    }
    *out = k;
    return 0;
}

static void link_free(cd__simnet_link_t *k)
{
    CD_CHECK(pthread_mutex_destroy(&k->lock));
    free(k->way[0].buf);
    free(k->way[1].buf);
    free(k);
}

/* Readable at end e: bytes, the end of the stream, or e hung up. */
static int can_read(const cd__simnet_link_t *k, int e)
{
    const way_t *in = &k->way[1 - e];
    return LD(in->len) > 0 || LD(in->shut) || LD(in->deaf);
}

/* Writable at end e: room, or an error to report. */
static int can_write(const cd__simnet_link_t *k, int e)
{
    const way_t *out = &k->way[e];
    return LD(out->shut) || LD(out->deaf) || LD(out->len) < depth(k, e);
}

ssize_t cd__simnet_recv(cd__simnet_link_t *k, int e, void *buf, size_t n)
{
    CD_CHECK(pthread_mutex_lock(&k->lock));
    way_t *in = &k->way[1 - e];
    size_t len = LD(in->len);
    ssize_t got;
    if (LD(in->deaf))
        got = 0; /* e hung up: what still arrives is not read */
    else if (len == 0)
        got = LD(in->shut) ? 0 : -EAGAIN;
    else {
        size_t take = n < len ? n : len;
        memcpy(buf, in->buf + in->head, take);
        in->head = take == len ? 0 : in->head + take;
        ST(in->len, len - take);
        got = (ssize_t)take;
    }
    CD_CHECK(pthread_mutex_unlock(&k->lock));
    return got;
}

/* Makes room in w, which holds len bytes, for `more` past its tail.
 * 0 or -ENOMEM. Caller holds the link's lock. */
static int room_for(way_t *w, size_t len, size_t more)
{
    if (w->head + len + more <= w->alloc)
        return 0;
    if (w->head > 0) { /* slide the bytes back to the start */
        memmove(w->buf, w->buf + w->head, len);
        w->head = 0;
        if (len + more <= w->alloc)
            return 0;
    }
    size_t want = w->alloc ? w->alloc : 16384;
    while (want < len + more)
        want *= 2;
    char *b = realloc(w->buf, want);
    if (!b)
        return -ENOMEM;
    w->buf = b;
    w->alloc = want;
    return 0;
}

ssize_t cd__simnet_send(cd__simnet_link_t *k, int e, const void *buf,
                        size_t n)
{
    CD_CHECK(pthread_mutex_lock(&k->lock));
    way_t *out = &k->way[e];
    size_t cap = depth(k, e), len = LD(out->len);
    ssize_t put;
    if (LD(out->shut) || LD(out->deaf))
        put = -EPIPE;
    else if (len >= cap)
        put = -EAGAIN;
    else {
        size_t take = n < cap - len ? n : cap - len;
        put = room_for(out, len, take);
        if (put == 0) {
            memcpy(out->buf + out->head + len, buf, take);
            ST(out->len, len + take);
            put = (ssize_t)take;
        }
    }
    CD_CHECK(pthread_mutex_unlock(&k->lock));
    return put;
}

int cd__simnet_ready(cd__simnet_link_t *k, int e, short events)
{
    return ((events & POLLIN) && can_read(k, e)) ||
           ((events & POLLOUT) && can_write(k, e));
}

/* Caller holds k->lock. */
static void shut(cd__simnet_link_t *k, int e, int both)
{
    ST(k->way[e].shut, 1);
    if (both) {
        way_t *in = &k->way[1 - e];
        ST(in->deaf, 1);
        in->head = 0; /* nobody will read it */
        ST(in->len, 0);
    }
}

void cd__simnet_shutdown(cd__simnet_link_t *k, int e, int both)
{
    CD_CHECK(pthread_mutex_lock(&k->lock));
    shut(k, e, both);
    CD_CHECK(pthread_mutex_unlock(&k->lock));
}

size_t cd__simnet_discard(cd__simnet_link_t *k, int e, size_t max)
{
    CD_CHECK(pthread_mutex_lock(&k->lock));
    way_t *in = &k->way[1 - e];
    size_t len = LD(in->len);
    size_t drop = LD(in->deaf) ? 0 : max < len ? max : len;
    in->head = drop == len ? 0 : in->head + drop;
    ST(in->len, len - drop);
    CD_CHECK(pthread_mutex_unlock(&k->lock));
    return drop;
}

void cd__simnet_set_buffers(cd__simnet_link_t *k, int e, int sndbuf,
                            int rcvbuf)
{
    CD_CHECK(pthread_mutex_lock(&k->lock));
    if (sndbuf > 0)
        ST(k->snd[e], as_set(sndbuf, SNDBUF_MIN));
    if (rcvbuf > 0)
        ST(k->rcv[e], as_set(rcvbuf, RCVBUF_MIN));
    CD_CHECK(pthread_mutex_unlock(&k->lock));
}

size_t cd__simnet_unsent(cd__simnet_link_t *k, int e)
{
    CD_CHECK(pthread_mutex_lock(&k->lock));
    size_t len = LD(k->way[e].len), rcv = (size_t)LD(k->rcv[1 - e]);
    CD_CHECK(pthread_mutex_unlock(&k->lock));
    return len > rcv ? len - rcv : 0;
}

void cd__simnet_close(cd__simnet_link_t *k, int e)
{
    CD_CHECK(pthread_mutex_lock(&k->lock));
    shut(k, e, 1);
    k->open[e] = 0;
    int last = !k->open[1 - e];
    CD_CHECK(pthread_mutex_unlock(&k->lock));
    if (last)
        link_free(k);
}

/* =============================== listeners =============================== */

int cd__simnet_listen(cd__simnet_lis_t **out, int backlog)
{
    cd__simnet_lis_t *l = calloc(1, sizeof *l);
    if (l)
        l->queue = calloc((size_t)backlog, sizeof *l->queue);
    if (!l || !l->queue) {
        free(l);
        return -ENOMEM;
    }
    CD_CHECK(pthread_mutex_init(&l->lock, NULL));
    l->backlog = backlog;
    *out = l;
    return 0;
}

int cd__simnet_connect(cd__simnet_lis_t *l, cd__simnet_link_t *k)
{
    CD_CHECK(pthread_mutex_lock(&l->lock));
    int n = LD(l->n);
    int rc = LD(l->closed) || n == l->backlog ? -ECONNREFUSED : 0;
    if (rc == 0) {
        l->queue[(l->head + n) % l->backlog] = k;
        ST(l->n, n + 1);
    }
    CD_CHECK(pthread_mutex_unlock(&l->lock));
    if (rc != 0)
        cd__simnet_close(k, 1);
    return rc;
}

int cd__simnet_accept(cd__simnet_lis_t *l, cd__simnet_link_t **out)
{
    CD_CHECK(pthread_mutex_lock(&l->lock));
    int n = LD(l->n);
    int rc = n > 0 ? 0 : -EAGAIN;
    if (rc == 0) {
        *out = l->queue[l->head];
        l->head = (l->head + 1) % l->backlog;
        ST(l->n, n - 1);
    }
    CD_CHECK(pthread_mutex_unlock(&l->lock));
    return rc;
}

int cd__simnet_lis_ready(cd__simnet_lis_t *l)
{
    return LD(l->n) > 0 || LD(l->closed);
}

void cd__simnet_lis_close(cd__simnet_lis_t *l)
{
    CD_CHECK(pthread_mutex_lock(&l->lock));
    ST(l->closed, 1);
    CD_CHECK(pthread_mutex_unlock(&l->lock));
    /* Nobody accepts any more: the waiting connections are refused. */
    for (int i = 0; i < LD(l->n); i++)
        cd__simnet_close(l->queue[(l->head + i) % l->backlog], 1);
    CD_CHECK(pthread_mutex_destroy(&l->lock));
    free(l->queue);
    free(l);
}
