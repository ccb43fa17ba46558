/*
 * cd_io.h - sockets on the executor: awaitable accept, read and write.
 *
 * A connection (cd_conn_t) is a non-blocking socket and a registry object
 * ("conn-3", kind CD_OBJ_CONN). A task that reads when nothing has come,
 * or writes when the kernel's send buffer is full, parks on it: its
 * worker runs other tasks, and polls the descriptor when it has nothing
 * else to do (cd_exec.c). That is "async is not multithreading": one
 * worker, many connections, and a task only gives the worker up at an
 * await. A plain thread (a simulated client) may call the same functions:
 * it waits through the choke point's one wait protocol, in slices.
 *
 * Each call passes the choke point (accept / read / write in the trace),
 * and a waiter shows blocked (parked) on the connection, so the view and
 * the detectors see "checkout-1 waits to write to conn-3". The view also
 * shows, per connection, the bytes its program still holds for it
 * (cd_io_set_queued), the bytes the kernel has not sent, and whether a
 * writer waits for room.
 *
 * Under the controlled scheduler a parked task's descriptor is looked at
 * only at its worker's turn, with a poll that does not wait: when both
 * ends of every socket are participants (cd_io_pair, or a client task on
 * the same run), readiness follows from what ran before, so a schedule
 * replays exactly. Only the loopback address is ever used.
 *
 * A listener or a pair made while a controlled run is under way is not
 * the kernel's at all: its network is in memory (lib/cd_simnet.h), with
 * the same calls, the same records and the same waits, buffers sized as
 * Linux sizes a socket's, and readiness that follows from what ran: no
 * poll, no timer of the kernel's. A connect to such a listener's port
 * (cd_io_port) gets an in-memory connection too. So a controlled run's
 * network is its own: only its own listeners answer.
 *
 * An await of I/O ends like any other when the run is aborted: the task
 * (or thread cd_thread started) is ended there, releasing its locks.
 */
#ifndef CD_IO_H
#define CD_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cd_common.h"

struct cd__simnet_link;
struct cd__simnet_lis;

typedef struct cd_conn {
    int fd;              /* -1: in memory (a controlled run's, below) */
    int id;              /* registry object */
    const char *refusal; /* a listener's: see cd_io_set_refusal */
    /* In memory: the connection and this end of it (0, 1), or the
     * listener; both NULL for a socket. */
    struct cd__simnet_link *link;
    int end;
    struct cd__simnet_lis *lis;
} cd_conn_t;

/* A listening TCP socket on 127.0.0.1:port (0: the kernel picks a free
 * one: cd_io_port). Returns 0 or -errno; *out is freed by cd_io_close. */
int cd_io_listen(cd_conn_t **out, const char *name, int port);
/* The port a listening (or connected) socket is bound to, or -errno. */
int cd_io_port(const cd_conn_t *c);

/* A connected pair of local stream sockets (socketpair): what one end
 * writes, the other can read as soon as the write returned - the
 * deterministic choice for a controlled run. Returns 0 or -errno. */
int cd_io_pair(cd_conn_t **a, const char *name_a, cd_conn_t **b,
               const char *name_b);

/* Connects to 127.0.0.1:port, awaiting the handshake. 0 or -errno. */
#define cd_io_connect(out, name, port)                                       \
    cd_io_connect_at((out), (name), (port), CD_HERE)
int cd_io_connect_at(cd_conn_t **out, const char *name, int port,
                     cd_site_t site);
/* The same with the socket's receive buffer (SO_RCVBUF) set to rcvbuf
 * bytes before the handshake, when the window it offers is fixed: a
 * client that stops reading then holds no more than that. */
#define cd_io_connect_rcvbuf(out, name, port, rcvbuf)                        \
    cd_io_connect_rcvbuf_at((out), (name), (port), (rcvbuf), CD_HERE)
int cd_io_connect_rcvbuf_at(cd_conn_t **out, const char *name, int port,
                            int rcvbuf, cd_site_t site);

/* Awaits the next connection on l and returns it as *out, named name.
 * Returns 0 or -errno; -ENOSPC when the registry has no record left for
 * it (the connection is then closed: see cd_io_set_refusal). */
#define cd_io_accept(l, out, name) cd_io_accept_at((l), (out), (name), CD_HERE)
int cd_io_accept_at(cd_conn_t *l, cd_conn_t **out, const char *name,
                    cd_site_t site);

/* What a client accepted on listener l is told, just before it is closed,
 * when the registry has no record left for its connection (the registry
 * keeps every object of a run): text, a string that outlives l. NULL, the
 * default: closed without a word, which a person at nc cannot tell from a
 * crash. */
void cd_io_set_refusal(cd_conn_t *l, const char *text);

/* Awaits at least one byte and reads up to n. Returns the count, 0 at
 * the end of the stream, or -errno. */
#define cd_io_read(c, buf, n) cd_io_read_at((c), (buf), (n), CD_HERE)
ssize_t cd_io_read_at(cd_conn_t *c, void *buf, size_t n, cd_site_t site);

/* Writes all n bytes, awaiting room in the send buffer as often as it
 * takes: for a peer that stops reading, that is for ever. Returns n or
 * -errno (-EPIPE: the peer left). */
#define cd_io_write(c, buf, n) cd_io_write_at((c), (buf), (n), CD_HERE)
ssize_t cd_io_write_at(cd_conn_t *c, const void *buf, size_t n,
                       cd_site_t site);

/* Writes what fits now, never waits. Returns the count (0..n; 0 when
 * the buffer is full) or -errno. */
ssize_t cd_io_try_write(cd_conn_t *c, const void *buf, size_t n);

/* Shrinks the kernel's send or receive buffer (SO_SNDBUF / SO_RCVBUF),
 * so that a peer that stops reading fills it after a few kilobytes. */
int cd_io_set_buffers(cd_conn_t *c, int sndbuf, int rcvbuf);

/* Shows in the view how many bytes the program holds for c (an outbox)
 * and has not written yet. Can't fail. */
void cd_io_set_queued(cd_conn_t *c, uint64_t bytes);

/* Shuts the sending side: the peer reads the end of the stream. */
int cd_io_shutdown(cd_conn_t *c);

/* Hangs up both ways (shutdown SHUT_RDWR) without closing: a task that
 * awaits room to write to c gets -EPIPE, one that awaits a read gets the
 * end of the stream; the descriptor stays valid until cd_io_close. For
 * a server that disconnects a client other tasks are using. 0 or -errno. */
int cd_io_hangup(cd_conn_t *c);

/* Reads and drops whatever has arrived on c, never waits: before closing
 * a connection whose peer sent more than was read, so that the close
 * does not reset it (and lose what was written to it last). Returns the
 * bytes dropped, at most max. */
size_t cd_io_discard(cd_conn_t *c, size_t max);

/* Closes the socket and frees c. Nobody may be awaiting it. Safe with
 * NULL. */
void cd_io_close(cd_conn_t *c);

#endif /* CD_IO_H */
