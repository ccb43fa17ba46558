/*
 * cd_io.c - non-blocking sockets, awaited through the executor.
 *
 * Every operation tries first and waits only on EAGAIN: a task parks on
 * its worker's poll list (cd__task_await_fd), a plain thread waits through
 * cd__op_wait with a poll() slice. Either way the wait is shown on the
 * connection's registry object, and the operation is tried again when the
 * descriptor is ready (a ready descriptor may still say EAGAIN: another
 * reader was first, so the loop simply waits again).
 *
 * The counters of a connection are written by whoever uses it with
 * relaxed stores; they are figures for the view, not synchronisation.
 *
 * A connection made under the controlled scheduler is in memory
 * (cd_simnet.c): each call below takes that branch first, with the same
 * records, trace and waits, and the same errors a socket gives.
 */
#define _GNU_SOURCE /* accept4, SOCK_NONBLOCK, MSG_NOSIGNAL */

#include "cd_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "cd_op.h"
#include "cd_simnet.h"

/* ============================== connections ============================== */

/* Wraps the open descriptor fd as a connection named name; closes fd on
 * failure. */
/* refusal: said on fd (best effort: a fresh socket's buffer takes a line)
 * when no record is left for it. */
static int conn_new(cd_conn_t **out, int fd, const char *name,
                    const char *refusal)
{
    cd_conn_t *c = malloc(sizeof *c);
    if (!c) {
        close(fd);
        return -ENOMEM;
    }
    int id = cd__reg_add_object(name, CD_OBJ_CONN, c, NULL);
    if (id < 0) {
        if (refusal)
            (void)!send(fd, refusal, strlen(refusal), MSG_NOSIGNAL);
        free(c);
        close(fd);
        return id;
    }
    *c = (cd_conn_t){ .fd = fd, .id = id };
    *out = c;
    return 0;
}

/* Wraps end `end` of link k (or listener l) as a connection named name;
 * on failure closes that end (or l), after saying refusal on it. */
static int conn_new_sim(cd_conn_t **out, cd__simnet_link_t *k, int end,
                        cd__simnet_lis_t *l, const char *name,
                        const char *refusal)
{
    cd_conn_t *c = malloc(sizeof *c);
    int id = c ? cd__reg_add_object(name, CD_OBJ_CONN, c, NULL) : -ENOMEM;
    if (id < 0) {
        if (k && refusal)
            (void)cd__simnet_send(k, end, refusal, strlen(refusal));
        if (k)
            cd__simnet_close(k, end);
        else
            cd__simnet_lis_close(l);
        free(c);
        return id;
    }
    *c = (cd_conn_t){ .fd = -1, .id = id, .link = k, .end = end, .lis = l };
    *out = c;
    return 0;
}

/* The in-memory listener port names, or NULL: the registry holds it. */
static cd_conn_t *sim_listener(int port)
{
    int id = port - CD_SIMNET_PORT_BASE;
    if (id < 1 || id > CD_MAX_OBJECTS)
        return NULL;
    cd_obj_rec_t *r = cd__obj(id);
    if (!atomic_load(&r->live) || atomic_load(&r->kind) != CD_OBJ_CONN)
        return NULL;
    cd_conn_t *c = r->impl;
    return c && c->lis ? c : NULL;
}

static cd_obj_rec_t *rec(const cd_conn_t *c)
{
    return cd__obj(c->id);
}

/* Latency matters more than packet count to a chat: no Nagle delay. */
static void no_delay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

#define BACKLOG 256

int cd_io_listen(cd_conn_t **out, const char *name, int port)
{
    if (!out || port < 0 || port > 65535)
        return -EINVAL;
    if (port == 0 && cd__sched_on()) {
        cd__simnet_lis_t *l;
        int rc = cd__simnet_listen(&l, BACKLOG);
        return rc != 0 ? rc : conn_new_sim(out, NULL, 0, l, name, NULL);
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    struct sockaddr_in a = loopback(port);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(fd, BACKLOG) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return conn_new(out, fd, name, NULL);
}

void cd_io_set_refusal(cd_conn_t *l, const char *text)
{
    l->refusal = text;
}

int cd_io_port(const cd_conn_t *c)
{
    if (c->lis)
        return CD_SIMNET_PORT_BASE + c->id;
    if (c->link)
        return -ENOTSOCK;
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getsockname(c->fd, (struct sockaddr *)&a, &len) != 0)
        return -errno;
    return ntohs(a.sin_port);
}

int cd_io_pair(cd_conn_t **a, const char *name_a, cd_conn_t **b,
               const char *name_b)
{
    if (cd__sched_on()) {
        cd__simnet_link_t *k;
        int rc = cd__simnet_pair(&k);
        if (rc != 0)
            return rc;
        rc = conn_new_sim(a, k, 0, NULL, name_a, NULL);
        if (rc != 0) {
            cd__simnet_close(k, 1);
            return rc;
        }
        rc = conn_new_sim(b, k, 1, NULL, name_b, NULL);
        if (rc != 0) {
            cd_io_close(*a);
            *a = NULL;
        }
        return rc;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   sv) != 0)
        return -errno;
    int rc = conn_new(a, sv[0], name_a, NULL);
    if (rc != 0) {
        close(sv[1]);
        return rc;
    }
    rc = conn_new(b, sv[1], name_b, NULL);
    if (rc != 0) {
        cd_io_close(*a);
        *a = NULL;
    }
    return rc;
}

int cd_io_set_buffers(cd_conn_t *c, int sndbuf, int rcvbuf)
{
    if (c->link) {
        cd__simnet_set_buffers(c->link, c->end, sndbuf, rcvbuf);
        return 0;
    }
    if (sndbuf > 0 &&
        setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) != 0)
        return -errno;
    if (rcvbuf > 0 &&
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0)
        return -errno;
    return 0;
}

void cd_io_set_queued(cd_conn_t *c, uint64_t bytes)
{
    cd__st(&rec(c)->io_queued, bytes);
}

int cd_io_shutdown(cd_conn_t *c)
{
    if (c->link) {
        cd__simnet_shutdown(c->link, c->end, 0);
        return 0;
    }
    return shutdown(c->fd, SHUT_WR) == 0 ? 0 : -errno;
}

int cd_io_hangup(cd_conn_t *c)
{
    if (c->link) {
        cd__simnet_shutdown(c->link, c->end, 1);
        return 0;
    }
    return shutdown(c->fd, SHUT_RDWR) == 0 ? 0 : -errno;
}

size_t cd_io_discard(cd_conn_t *c, size_t max)
{
    char buf[4096];
    size_t dropped = 0;
    if (c->link) {
        dropped = cd__simnet_discard(c->link, c->end, max);
        atomic_fetch_add_explicit(&rec(c)->io_read, (uint64_t)dropped,
                                  CD_RELAXED);
        return dropped;
    }
    while (dropped < max) {
        size_t want = max - dropped < sizeof buf ? max - dropped : sizeof buf;
        ssize_t k = recv(c->fd, buf, want, MSG_DONTWAIT);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        atomic_fetch_add_explicit(&rec(c)->io_read, (uint64_t)k, CD_RELAXED);
        dropped += (size_t)k;
    }
    return dropped;
}

void cd_io_close(cd_conn_t *c)
{
    if (!c)
        return;
    cd__st(&rec(c)->io_closed, 1);
    cd__reg_remove_object(c->id);
    if (c->link)
        cd__simnet_close(c->link, c->end);
    else if (c->lis)
        cd__simnet_lis_close(c->lis);
    else
        close(c->fd);
    free(c);
}

/* ================================ waiting ================================ */

typedef struct fd_wait {
    const cd_conn_t *c;
    short events;
} fd_wait_t;

/* Is the connection ready now? An in-memory one is asked, a socket's
 * descriptor polled without waiting (for the controlled scheduler). */
static int fd_ready(void *arg)
{
    fd_wait_t *f = arg;
    if (f->c->link)
        return cd__simnet_ready(f->c->link, f->c->end, f->events);
    if (f->c->lis)
        return cd__simnet_lis_ready(f->c->lis);
    struct pollfd p = { .fd = f->c->fd, .events = f->events };
    return poll(&p, 1, 0) > 0;
}

/* One slice of a plain thread's wait: poll until until_ns at the latest
 * (CD__WAIT_TRY: not at all). It takes nothing; the caller tries again. */
static int fd_slice(void *arg, int64_t until_ns)
{
    fd_wait_t *f = arg;
    if (f->c->fd < 0) { /* in memory: nothing to sleep in but time */
        if (!fd_ready(f) && until_ns != CD__WAIT_TRY)
            cd__op_nap(until_ns);
        return fd_ready(f);
    }
    struct pollfd p = { .fd = f->c->fd, .events = f->events };
    int64_t left = until_ns - cd_now_ns();
    int ms = left > 0 ? (int)((left + 999999) / 1000000) : 0;
    int n = poll(&p, 1, ms);
    if (n < 0 && errno != EINTR)
        CD_CHECK(errno);
    return n > 0;
}

/* Waits until c's descriptor is ready for events: a task parks on its
 * worker's poll list, a thread waits in slices. The run's abort ends the
 * caller, as at any await. Returns 0,
 * or -ENOMEM when the task could not be parked. */
static int await_fd(cd_conn_t *c, short events, cd_site_t site)
{
    cd_task_t *t = cd__task_current();
    int self = cd__self();
    int rc;

    if (events == POLLOUT)
        atomic_fetch_add_explicit(&rec(c)->io_wblocked, 1, CD_RELAXED);
    fd_wait_t f = { .c = c, .events = events };
    if (t) {
        cd__op_park(self, c->id, NULL, 0, site);
        rc = c->fd < 0 ? cd__task_await_ready(t, fd_ready, &f)
                       : cd__task_await_fd(t, c->fd, events);
    } else {
        cd__wait_t w = { .ready = fd_ready, .slice = fd_slice, .arg = &f,
                         .site = site };
        rc = cd__op_wait(self, c->id, &w);
    }
    if (events == POLLOUT)
        atomic_fetch_sub_explicit(&rec(c)->io_wblocked, 1, CD_RELAXED);
    if (t && rc == -ECANCELED)
        cd__op_abort_self(self);
    if (!t)
        rc = cd__op_end_if_aborted(self, rc);
    return rc == -ENOMEM ? rc : 0;
}

/* The choke point's view of an I/O call (an untracked caller has none). */
static void enter(int op, const cd_conn_t *c, int64_t arg, cd_site_t site)
{
    int self = cd__self();
    if (self)
        cd__op_begin(self, op, c->id, arg, NULL, site);
}

/* =============================== operations ============================== */

/* A connect in memory to the listener on port, if there is one when the
 * connect's turn comes. */
static int connect_sim(cd_conn_t **out, const char *name, int port,
                       int rcvbuf, cd_site_t site)
{
    cd__simnet_link_t *k;
    cd_conn_t *c;
    int rc = cd__simnet_pair(&k);
    if (rc != 0)
        return rc;
    if (rcvbuf > 0)
        cd__simnet_set_buffers(k, 0, 0, rcvbuf);
    rc = conn_new_sim(&c, k, 0, NULL, name, NULL);
    if (rc != 0) {
        cd__simnet_close(k, 1);
        return rc;
    }
    enter(CD_OP_CONNECT, c, port, site);
    cd_conn_t *l = sim_listener(port);
    rc = l ? cd__simnet_connect(l->lis, k) : -ECONNREFUSED;
    if (rc != 0) {
        if (!l)
            cd__simnet_close(k, 1);
        cd_io_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

int cd_io_connect_at(cd_conn_t **out, const char *name, int port,
                     cd_site_t site)
{
    return cd_io_connect_rcvbuf_at(out, name, port, 0, site);
}

int cd_io_connect_rcvbuf_at(cd_conn_t **out, const char *name, int port,
                            int rcvbuf, cd_site_t site)
{
    if (!out || port <= 0 || port > 65535 || rcvbuf < 0)
        return -EINVAL;
    if (sim_listener(port) || cd__sched_on())
        return connect_sim(out, name, port, rcvbuf, site);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    no_delay(fd);
    if (rcvbuf > 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    cd_conn_t *c;
    int rc = conn_new(&c, fd, name, NULL);
    if (rc != 0)
        return rc;
    enter(CD_OP_CONNECT, c, port, site);
    struct sockaddr_in a = loopback(port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        rc = errno == EINPROGRESS ? await_fd(c, POLLOUT, site) : -errno;
        int err = 0;
        socklen_t len = sizeof err;
        if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (rc == 0 && err)
            rc = -err;
    }
    if (rc != 0) {
        cd_io_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* After a call on c that failed with errno: when it would have blocked,
 * waits until c is ready for events. Returns 0 to make the call again
 * (also when a signal interrupted it), or what ends the caller's loop:
 * -errno, or await_fd's error. */
static int again(cd_conn_t *c, short events, cd_site_t site)
{
    if (errno == EINTR)
        return 0;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
        return -errno;
    return await_fd(c, events, site);
}

int cd_io_accept_at(cd_conn_t *l, cd_conn_t **out, const char *name,
                    cd_site_t site)
{
    enter(CD_OP_ACCEPT, l, 0, site);
    for (;;) {
        if (l->lis) {
            cd__simnet_link_t *k;
            int rc = cd__simnet_accept(l->lis, &k);
            if (rc == 0)
                return conn_new_sim(out, k, 1, NULL, name, l->refusal);
            rc = await_fd(l, POLLIN, site);
            if (rc != 0)
                return rc;
            continue;
        }
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            no_delay(fd);
            return conn_new(out, fd, name, l->refusal);
        }
        /* A client that gave up before we took it is not our error. */
        if (errno == ECONNABORTED)
            continue;
        int rc = again(l, POLLIN, site);
        if (rc != 0)
            return rc;
    }
}

ssize_t cd_io_read_at(cd_conn_t *c, void *buf, size_t n, cd_site_t site)
{
    enter(CD_OP_READ, c, (int64_t)n, site);
    for (;;) {
        ssize_t k = c->link ? cd__simnet_recv(c->link, c->end, buf, n)
                            : recv(c->fd, buf, n, 0);
        if (k < 0 && c->link)
            errno = (int)-k;
        if (k >= 0) {
            atomic_fetch_add_explicit(&rec(c)->io_read, (uint64_t)k,
                                      CD_RELAXED);
            return k;
        }
        int rc = again(c, POLLIN, site);
        if (rc != 0)
            return rc;
    }
}

/* What the kernel still holds unsent for c, into the view. */
static void note_unsent(cd_conn_t *c)
{
    if (c->link) {
        cd__st(&rec(c)->io_unsent, cd__simnet_unsent(c->link, c->end));
        return;
    }
    int unsent = 0;
    if (ioctl(c->fd, SIOCOUTQ, &unsent) == 0 && unsent >= 0)
        cd__st(&rec(c)->io_unsent, (uint64_t)unsent);
}

ssize_t cd_io_try_write(cd_conn_t *c, const void *buf, size_t n)
{
    for (;;) {
        ssize_t k = c->link ? cd__simnet_send(c->link, c->end, buf, n)
                            : send(c->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0 && c->link)
            errno = (int)-k;
        if (k >= 0) {
            atomic_fetch_add_explicit(&rec(c)->io_written, (uint64_t)k,
                                      CD_RELAXED);
            note_unsent(c);
            return k;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            note_unsent(c);
            return 0;
        }
        return -errno;
    }
}

ssize_t cd_io_write_at(cd_conn_t *c, const void *buf, size_t n,
                       cd_site_t site)
{
    const char *p = buf;
    size_t done = 0;

    enter(CD_OP_WRITE, c, (int64_t)n, site);
    while (done < n) {
        ssize_t k = cd_io_try_write(c, p + done, n - done);
        if (k < 0)
            return k;
        done += (size_t)k;
        if (done < n && k == 0) {
            int rc = await_fd(c, POLLOUT, site);
            if (rc != 0)
                return rc;
        }
    }
    return (ssize_t)n;
}
