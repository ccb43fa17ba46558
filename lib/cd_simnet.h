/*
 * cd_simnet.h - the loopback network of a controlled run, in memory.
 *
 * Under the controlled scheduler every byte of a run moves between its
 * own participants, so cd_io (cd_io.c) does not ask the kernel: a
 * listener it opens is a queue of connections, a connection two one-way
 * streams of bytes, each as deep as the writer's send buffer and the
 * reader's receive buffer together, sized as Linux sizes a TCP socket's
 * (a value set is doubled, within the kernel's floor and ceiling). Whether
 * a read or a write can go on is then a function of what ran before, not
 * of a kernel's timers: a schedule replays exactly, and a wait costs no
 * poll(). Everything else - the registry records, the trace, the waits -
 * is cd_io's, as for a socket.
 *
 * libconc's own plumbing (cd__ names): only cd_io.c calls it. Each link
 * and listener has its own mutex, taken for a call and let go before it
 * returns (the readiness checks read atomics and take none), so the calls
 * can be made from any thread or task. Errors are negative errno values,
 * as from a socket call.
 */
#ifndef CD_SIMNET_H
#define CD_SIMNET_H

#include <stddef.h>
#include <sys/types.h>

/* A connection: two ends, 0 and 1; end e writes the stream end 1 - e
 * reads. Freed when both ends are closed. */
typedef struct cd__simnet_link cd__simnet_link_t;
/* A listener: the links connected to it and not accepted yet. */
typedef struct cd__simnet_lis cd__simnet_lis_t;

/* The first port a simulated listener is given (cd_io_port): this plus
 * its registry id, so that a connect finds it in the registry. */
#define CD_SIMNET_PORT_BASE 50000

/* A new connected link. 0 or -ENOMEM. */
int cd__simnet_pair(cd__simnet_link_t **out);

/* A new listener with a backlog of `backlog` connections. 0 or -ENOMEM. */
int cd__simnet_listen(cd__simnet_lis_t **out, int backlog);

/* Connects end 0 of k, a new pair, to l: end 1 waits in l's backlog for
 * cd__simnet_accept. The handshake is instant, as on loopback. 0, or
 * -ECONNREFUSED (l closed, or its backlog full): then end 1 is closed,
 * and end 0 reads the end of the stream. */
int cd__simnet_connect(cd__simnet_lis_t *l, cd__simnet_link_t *k);

/* Takes the oldest connection of l's backlog: its link, whose end 1 is
 * the caller's. 0, or -EAGAIN when the backlog is empty. */
int cd__simnet_accept(cd__simnet_lis_t *l, cd__simnet_link_t **out);

/* Whether an accept would not say -EAGAIN (a connection waits, or l is
 * closed). */
int cd__simnet_lis_ready(cd__simnet_lis_t *l);

/* Closes l and frees it: the connections still in its backlog are closed
 * (their other ends read the end of the stream). */
void cd__simnet_lis_close(cd__simnet_lis_t *l);

/* Reads up to n bytes arriving at end e: the count, 0 at the end of the
 * stream (the peer shut its side and everything was read, or e hung up),
 * or -EAGAIN (nothing yet). */
ssize_t cd__simnet_recv(cd__simnet_link_t *k, int e, void *buf, size_t n);

/* Writes what fits of n bytes from end e: the count (> 0), -EAGAIN (the
 * stream is full), or -EPIPE (e shut its side, or the peer stopped
 * reading: hung up or closed). */
ssize_t cd__simnet_send(cd__simnet_link_t *k, int e, const void *buf,
                        size_t n);

/* Whether end e can read (events has POLLIN) or write (POLLOUT) without
 * -EAGAIN: an error or the end of the stream counts as ready, as poll()
 * says of a socket. */
int cd__simnet_ready(cd__simnet_link_t *k, int e, short events);

/* Shuts end e's sending side (the peer reads the end of the stream once
 * it read what was sent); with both, its receiving side too (its reads
 * say the end of the stream, the peer's writes -EPIPE). */
void cd__simnet_shutdown(cd__simnet_link_t *k, int e, int both);

/* Drops up to max bytes arriving at end e without waiting: how many. */
size_t cd__simnet_discard(cd__simnet_link_t *k, int e, size_t max);

/* Sets end e's send and receive buffers (<= 0: leave that one). */
void cd__simnet_set_buffers(cd__simnet_link_t *k, int e, int sndbuf,
                            int rcvbuf);

/* Bytes end e wrote that do not fit in the peer's receive buffer yet:
 * what a socket's SIOCOUTQ would say is still in its send buffer. */
size_t cd__simnet_unsent(cd__simnet_link_t *k, int e);

/* Closes end e (hangs up both ways); the last close frees k. */
void cd__simnet_close(cd__simnet_link_t *k, int e);

#endif /* CD_SIMNET_H */
