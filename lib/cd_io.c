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
    c->fd = fd;
    c->id = id;
    c->refusal = NULL;
    *out = c;
    return 0;
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

int cd_io_listen(cd_conn_t **out, const char *name, int port)
{
    if (!out || port < 0 || port > 65535)
        return -EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    struct sockaddr_in a = loopback(port);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 256) != 0) {
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
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getsockname(c->fd, (struct sockaddr *)&a, &len) != 0)
        return -errno;
    return ntohs(a.sin_port);
}

int cd_io_pair(cd_conn_t **a, const char *name_a, cd_conn_t **b,
               const char *name_b)
{
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
    return shutdown(c->fd, SHUT_WR) == 0 ? 0 : -errno;
}

int cd_io_hangup(cd_conn_t *c)
{
    return shutdown(c->fd, SHUT_RDWR) == 0 ? 0 : -errno;
}

size_t cd_io_discard(cd_conn_t *c, size_t max)
{
    char buf[4096];
    size_t dropped = 0;
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
    close(c->fd);
    free(c);
}

/* ================================ waiting ================================ */

typedef struct fd_wait {
    int fd;
    short events;
} fd_wait_t;

/* For the controlled scheduler: is the descriptor ready now? */
static int fd_ready(void *arg)
{
    fd_wait_t *f = arg;
    struct pollfd p = { .fd = f->fd, .events = f->events };
    return poll(&p, 1, 0) > 0;
}

/* One slice of a plain thread's wait: poll until until_ns at the latest
 * (CD__WAIT_TRY: not at all). It takes nothing; the caller tries again. */
static int fd_slice(void *arg, int64_t until_ns)
{
    fd_wait_t *f = arg;
    struct pollfd p = { .fd = f->fd, .events = f->events };
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
    if (t) {
        cd__op_park(self, c->id, NULL, 0, site);
        rc = cd__task_await_fd(t, c->fd, events);
    } else {
        fd_wait_t f = { .fd = c->fd, .events = events };
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
        ssize_t k = recv(c->fd, buf, n, 0);
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
    int unsent = 0;
    if (ioctl(c->fd, SIOCOUTQ, &unsent) == 0 && unsent >= 0)
        cd__st(&rec(c)->io_unsent, (uint64_t)unsent);
}

ssize_t cd_io_try_write(cd_conn_t *c, const void *buf, size_t n)
{
    for (;;) {
        ssize_t k = send(c->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
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
