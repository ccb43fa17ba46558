/*
 * chat.c - a chat server whose broadcaster writes under the room lock.
 *
 * The pitfall: a real TCP chat server on 127.0.0.1 (an ephemeral port)
 * with rooms, /name and /join; one task per client reads its lines. To
 * broadcast, a session locks the room (an awaitable mutex, so waiting for
 * it parks the task, not the loop) and writes the message to every
 * member in turn. One client stops reading. Its socket buffers fill, the
 * write to it awaits room that never comes - with the room lock held. Now
 * every other broadcast to that room, and every /join, waits for the lock:
 * the fast clients stop getting messages although nothing is wrong with
 * them. One slow reader froze the room.
 *
 * Symptom: the fast clients receive a fraction of the messages; the view
 *          shows the slow client's connection "WRITES BLOCKED" and every
 *          session parked on room-lobby; the room lock is held for as long
 *          as the run lasts.
 * Run:     concdemo chat                  the room stalls (exit 1)
 *          concdemo chat --fixed=outbox   copy the member list under the
 *              lock, let go, queue to each client's bounded outbox that its
 *              own writer task drains; a full outbox drops its oldest
 *              message and tells the client how many it lost
 *              (--slow-policy=disconnect: hang up on it after KICK_AFTER)
 *          concdemo chat --serve [PORT]   a real server on 127.0.0.1 until
 *              Ctrl-C: be the slow client yourself with nc and Ctrl-Z
 * Lesson:  lessons/20-chat.md
 *
 * The clients are tasks of the same run, on real sockets (a controlled
 * run's are in memory, sized as the kernel sizes them: lib/cd_io.h): the
 * fast senders (--threads) each send --iterations messages (40), paced by
 * a TYPING_US await, and a reader per fast client counts what arrives
 * (every message of the room, its own included). Once each has said
 * EARLY_MSGS lines and all of them were read, the slow client joins - its
 * laptop asleep: it reads nothing until the fast ones are done. Its socket
 * buffers are the kernel's smallest and a message is bigger than both
 * together, so the first message to it stalls: the figures do not depend
 * on how much the kernel happens to take (its acknowledgements are
 * timed), and every run prints the same ones.
 * A referee ends the run early when the stall is certain: the room lock
 * is held by a write to the slow client, and the fast clients have read
 * every message sent before it was stuck.
 * Everything lives in one task scope: when the referee fails it, the
 * scope cancels every task at its await. (No deadline: under the schedule
 * search a timer may end at any moment, and a deadline that fired first
 * would stop a fixed run; the run's own time limit is the safety net.)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cd_amutex.h"
#include "../lib/cd_exec.h"
#include "../lib/cd_io.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_scope.h"
#include "support.h"

#define MSG_BYTES 8192    /* a chat line padded out: more than the slow
                             path holds (about 5 KB with the smallest
                             buffers), so one message fills it */
#define MSGS_MAX CD_CHAT_MSGS /* per fast client: --iterations, 40 by
                                default */
#define EARLY_MSGS 3      /* per fast client, before the slow one joins */
#define OUTBOX_MAX 64     /* messages an outbox holds before it drops:
                             32 ms of the room's traffic, so that a writer
                             held back by a busy machine drops nothing */
#define TYPING_US 2000    /* between two lines of a fast client */
#define SERVE_OUTBOX_MAX 256 /* --serve: a pasted burst is no slow reader */
#define KICK_AFTER 16     /* --slow-policy=disconnect: drops, then hang up */
#define SOCK_MIN 1        /* SO_SNDBUF / SO_RCVBUF: the kernel rounds 1 up
                             to its smallest, whatever autotuning does */
#define FAST_BUF (1 << 20) /* the fast paths: as much as the kernel allows
                             (net.core.[rw]mem_max), so that a fast reader
                             a few milliseconds late loses nothing */
#define MAX_CLIENTS 16
/* --serve */
#define LINE_MAX_BYTES 65536 /* a longer line ends the connection */
#define MAX_CONNS 64         /* at once; more are told the server is full */
#define MAX_ROOMS 8
#define SERVE_SNDBUF 4096
#define ROOM_MAX MAX_CONNS

typedef struct chat chat_t;

/* A message, as queued in an outbox. */
typedef struct line {
    char *text;
    size_t len;
} line_t;

/* The server's side of one client. */
typedef struct member {
    chat_t *chat;
    int index;
    char name[32];
    cd_conn_t *conn;          /* the accepted socket */
    struct room *room;        /* NULL before /join; the session's own */
    /* "outbox": what the writer task still has to send, a ring, under
     * box_lock (a plain mutex: nothing awaits while it is held; the
     * session and the writer may run on different workers). */
    cd_mutex_t box_lock;
    line_t *outbox;           /* box_max slots; NULL when broken */
    int box_max;
    line_t writing;           /* the writer's line in hand: the run's end
                                 may stop it mid-write, teardown frees it */
    int head, count, dropped, dropped_total;
    size_t queued;            /* bytes in the outbox, for the view */
    int gone;                 /* no more messages: the writer ends */
    int kicked;               /* hung up on by the slow-client policy */
    cd_conn_t *bell_in, *bell_out; /* a pair: a byte = "look at the outbox" */
    /* --serve only: members come and go, so each is counted (its session,
     * its writer, a broadcaster between copying and queueing) and freed by
     * the last; the session's line buffer. */
    atomic_int refs;
    struct member *next;      /* chat->conns, under conns_lock */
    char *in;
    size_t have, used;
    char *say;                /* the session's outgoing line ("name: ") */
} member_t;

typedef struct room {
    char name[32];
    cd_amutex_t lock;         /* guards members */
    member_t *members[ROOM_MAX];
    int nmembers;
    /* Broken only: who the broadcaster is writing to under the lock, and
     * which broadcast that is (1, 2, ...). Read by the referee. */
    _Atomic(member_t *) writing_to;
    atomic_int started, done; /* broadcasts begun, and finished */
    int64_t locked_at_ns, longest_hold_ns;
} room_t;

/* One client's side (a task or two of the run). */
typedef struct client {
    chat_t *chat;
    int index, slow;
    cd_conn_t *conn;
    atomic_int received;      /* chat messages read (fast clients) */
    atomic_int lost;          /* ... and dropped for it, as it was told */
} client_t;

struct chat {
    int variant, policy, nfast, nclients;
    int msgs;                 /* lines each fast client says */
    int serving;              /* --serve: lines, not fixed records */
    cd_conn_t *listener;
    int port;
    room_t lobby;
    member_t members[MAX_CLIENTS];
    client_t clients[MAX_CLIENTS];
    cd_scope_t *scope;
    cd_conn_t *done_in, *done_out; /* the slow client's "fast ones done" */
    _Atomic(member_t *) slow;      /* its member: set by the acceptor,
                                      read by the referee */
    atomic_int fast_done, joined, stalled, kicked;
    int64_t lat_ns[MAX_CLIENTS * MAX_CLIENTS * MSGS_MAX];
    atomic_int nlat;
    /* --serve: rooms made by /join, the connections, figures */
    cd_mutex_t rooms_lock, conns_lock;
    room_t *rooms[MAX_ROOMS];
    int nrooms;
    member_t *conns;
    int nconns, accepted;
    atomic_int turned_away, too_long, not_utf8, messages;
    atomic_int used_up; /* clients told the run's records were used up */
    int g_port, g_clients, g_messages, g_turned;
    void (*on_listen)(int port);
};

/* A fixed-size record: text, spaces, a newline (so `nc` shows lines). */
static void record(char *buf, const char *fmt, long a, long b)
{
    memset(buf, ' ', MSG_BYTES);
    int k = snprintf(buf, MSG_BYTES, fmt, a, b);
    buf[k] = ' ';
    buf[MSG_BYTES - 1] = '\n';
}

static member_t *member_hold(member_t *m)
{
    atomic_fetch_add(&m->refs, 1);
    return m;
}

static void member_release(member_t *m);

static void note_hold(room_t *r)
{
    int64_t held = cd_reg_elapsed_ns() - r->locked_at_ns;
    if (held > r->longest_hold_ns)
        r->longest_hold_ns = held;
}

/* ====================== broadcasting, side by side ======================= */

/* Broken: every member written to in turn, the room lock held throughout.
 * A write awaits room in the member's send buffer for as long as it
 * takes - for a client that stopped reading, for ever. */
static void broadcast_broken(room_t *r, const char *msg, size_t len)
{
    cd_amutex_lock(&r->lock);             /* BUG: the lock held... */
    r->locked_at_ns = cd_reg_elapsed_ns();
    atomic_fetch_add(&r->started, 1);
    for (int i = 0; i < r->nmembers; i++) {
        r->writing_to = r->members[i];
        cd_io_write(r->members[i]->conn, msg, len); /* BUG: ...across
                                             a write that may never end */
    }
    r->writing_to = NULL;
    atomic_fetch_add(&r->done, 1);
    note_hold(r);
    cd_amutex_unlock(&r->lock);
}

/* The drop notice, as the client's framing wants it. */
static size_t drop_notice(const member_t *m, char *buf, size_t size)
{
    if (!m->chat->serving) {
        record(buf, "*** %ld messages dropped: you are reading too slowly",
               m->dropped, 0);
        return MSG_BYTES;
    }
    return (size_t)snprintf(buf, size, "*** %d messages dropped: you are "
                            "reading too slowly\n", m->dropped);
}

/* Queues a copy of msg to m's outbox: a full one drops its oldest (the
 * policy for a slow client: it loses messages, it is told how many, and
 * nobody else waits for it). Under --slow-policy=disconnect the client is
 * hung up on once it lost KICK_AFTER: its writer and session end. */
static void outbox_push(member_t *m, const char *msg, size_t len)
{
    line_t l = { NULL, len };
    int kick = 0;
    cd_mutex_lock(&m->box_lock);
    /* Copied with the lock held: nothing between here and the unlock can
     * end the task, so the copy is in the outbox or freed. */
    if (!m->gone && (l.text = malloc(len))) {
        memcpy(l.text, msg, len);
        if (m->count == m->box_max) {     /* FIX: bounded: drop the oldest */
            line_t *old = &m->outbox[m->head];
            m->queued -= old->len;
            free(old->text);
            m->head = (m->head + 1) % m->box_max;
            m->count--;
            m->dropped++;
            kick = ++m->dropped_total == KICK_AFTER &&
                   m->chat->policy == CD_SLOW_DISCONNECT;
        }
        m->outbox[(m->head + m->count) % m->box_max] = l;
        l.text = NULL;
        m->count++;
        m->queued += len;
        cd_io_set_queued(m->conn, m->queued);
        if (kick)
            m->kicked = m->gone = 1;
    }
    cd_mutex_unlock(&m->box_lock);
    free(l.text);
    if (kick) {
        atomic_fetch_add(&m->chat->kicked, 1);
        cd_io_hangup(m->conn); /* the writer's write ends, the session's read */
    }
    cd_io_try_write(m->bell_out, "!", 1); /* a full bell rings already */
}

/* Takes the next line for m's writer into *l (the caller frees it): 1, or
 * 0 if there is none; *gone: nothing more will come. A drop notice goes
 * first. */
static int outbox_pop(member_t *m, line_t *l, int *gone)
{
    char notice[MSG_BYTES];
    int have = 1;
    cd_mutex_lock(&m->box_lock);
    if (m->dropped && !m->kicked) {
        l->len = drop_notice(m, notice, sizeof notice);
        l->text = malloc(l->len);
        if (l->text)
            memcpy(l->text, notice, l->len);
        m->dropped = 0;
        have = l->text != NULL;
    } else if (m->count > 0 && !m->kicked) {
        *l = m->outbox[m->head];
        m->head = (m->head + 1) % m->box_max;
        m->count--;
        m->queued -= l->len;
        cd_io_set_queued(m->conn, m->queued);
    } else {
        have = 0;
    }
    *gone = m->gone && (m->kicked || (m->count == 0 && !m->dropped));
    cd_mutex_unlock(&m->box_lock);
    return have;
}

/* Fix "outbox": the member list copied under the lock, the lock let go,
 * then each member's outbox gets the message; writes happen elsewhere. */
static void broadcast_outbox(room_t *r, const char *msg, size_t len)
{
    member_t *copy[ROOM_MAX];
    cd_amutex_lock(&r->lock);
    r->locked_at_ns = cd_reg_elapsed_ns();
    atomic_fetch_add(&r->started, 1);
    int n = r->nmembers;                  /* FIX: copy the list... */
    for (int i = 0; i < n; i++)
        copy[i] = member_hold(r->members[i]); /* (a member may leave) */
    note_hold(r);
    cd_amutex_unlock(&r->lock);           /* FIX: ...and let go */
    for (int i = 0; i < n; i++) {
        outbox_push(copy[i], msg, len);   /* FIX: never waits */
        member_release(copy[i]);
    }
    atomic_fetch_add(&r->done, 1);
}

static void (*const broadcast[])(room_t *, const char *, size_t) = {
    broadcast_broken, broadcast_outbox,
};

/* "outbox": one writer task per client drains its outbox; only this task
 * ever waits for that client's socket. */
static void writer_task(void *arg)
{
    member_t *m = arg;
    char bell[64];
    int gone = 0;
    while (!gone) {
        if (outbox_pop(m, &m->writing, &gone)) {
            ssize_t rc = cd_io_write(m->conn, m->writing.text,
                                     m->writing.len);
            free(m->writing.text);
            m->writing.text = NULL;
            if (rc < 0)
                break;
        } else if (!gone && cd_io_read(m->bell_in, bell, sizeof bell) <= 0) {
            break;
        }
    }
    cd_mutex_lock(&m->box_lock);
    int kicked = m->kicked;
    cd_mutex_unlock(&m->box_lock);
    if (!kicked)
        cd_io_shutdown(m->conn); /* all sent: the client reads the end */
    member_release(m);
}

/* ================================ server ================================= */

static void join(member_t *m, room_t *r)
{
    cd_amutex_lock(&r->lock);             /* /join waits for the room too */
    if (r->nmembers < ROOM_MAX)
        r->members[r->nmembers++] = m;
    m->room = r;
    cd_amutex_unlock(&r->lock);
    atomic_fetch_add(&m->chat->joined, 1);
}

static void leave(member_t *m)
{
    room_t *r = m->room;
    if (!r)
        return;
    cd_amutex_lock(&r->lock);
    for (int i = 0; i < r->nmembers; i++)
        if (r->members[i] == m) {
            r->members[i] = r->members[--r->nmembers];
            break;
        }
    cd_amutex_unlock(&r->lock);
    m->room = NULL;
}

/* The session is over: nothing more is queued for m; the writer sends
 * what is left and ends (broken: nothing more will be written). */
static void session_end(member_t *m)
{
    leave(m);
    if (!m->outbox) {
        cd_io_shutdown(m->conn);
        return;
    }
    cd_mutex_lock(&m->box_lock);
    m->gone = 1;
    cd_mutex_unlock(&m->box_lock);
    cd_io_try_write(m->bell_out, "!", 1);
}

/* Reads a whole MSG_BYTES record (the clients send fixed-size lines)
 * into buf, which holds MSG_BYTES + 1: it ends it with a NUL, for
 * sscanf. */
static int read_record(cd_conn_t *c, char *buf)
{
    size_t have = 0;
    while (have < MSG_BYTES) {
        ssize_t n = cd_io_read(c, buf + have, MSG_BYTES - have);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
    buf[MSG_BYTES] = '\0';
    return 0;
}

/* One session: commands and lines from one client. */
static void session_task(void *arg)
{
    member_t *m = arg;
    chat_t *c = m->chat;
    char line[MSG_BYTES + 1];
    while (read_record(m->conn, line) == 0) {
        if (strncmp(line, "/name ", 6) == 0) {
            sscanf(line + 6, "%31s", m->name);
        } else if (strncmp(line, "/join ", 6) == 0) {
            leave(m);
            join(m, &c->lobby); /* one room in this run: the lobby */
        } else if (m->room) {
            broadcast[c->variant](m->room, line, MSG_BYTES);
            /* The loop to the others before the next line, even when it
             * has come already: a session that works through a backlog
             * in one go would hold the writers on its worker back. */
            cd_await_latency("next line", 0);
        }
    }
    session_end(m);
}

static void acceptor_task(void *arg)
{
    chat_t *c = arg;
    for (int i = 0; i < c->nclients; i++) {
        member_t *m = &c->members[i];
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "conn-%d", i + 1);
        if (cd_io_accept(c->listener, &m->conn, name) != 0)
            return;
        /* The slow client connects last (once the fast ones have
         * chatted): the server's end of the path to it gets the smallest
         * send buffer, as the client's end has the smallest receive
         * buffer. (The other way, its /name and /join, is left alone.) */
        if (i == c->nclients - 1) {
            cd_io_set_buffers(m->conn, SOCK_MIN, 0);
            c->slow = m;
        } else {
            cd_io_set_buffers(m->conn, FAST_BUF, 0);
        }
        snprintf(name, sizeof name, "session-%d", i + 1);
        cd_scope_spawn(c->scope, name, session_task, m);
        snprintf(name, sizeof name, "writer-%d", i + 1);
        if (c->variant == 1)
            cd_scope_spawn(c->scope, name, writer_task, m);
    }
}

/* ================================ clients ================================ */

static void fast_sender(client_t *cl, int from, int to)
{
    char buf[MSG_BYTES];
    for (int i = from; i < to; i++) {
        cd_await_latency("typing", TYPING_US);
        /* The send time rides in the message: the reader's latency. */
        record(buf, "msg %ld at %ld", i, (long)cd_reg_elapsed_ns());
        if (cd_io_write(cl->conn, buf, MSG_BYTES) < 0)
            return;
    }
}

static void fast_reader(void *arg)
{
    client_t *cl = arg;
    chat_t *c = cl->chat;
    char buf[MSG_BYTES + 1];
    int want = c->nfast * c->msgs; /* the slow client says nothing */
    while (atomic_load(&cl->received) + atomic_load(&cl->lost) < want &&
           read_record(cl->conn, buf) == 0) {
        long i, sent, lost;
        /* Dropped for this client too (its writer held back long enough
         * to fill its outbox): counted, so that the run ends and says so. */
        if (sscanf(buf, "*** %ld messages dropped", &lost) == 1)
            atomic_fetch_add(&cl->lost, (int)lost);
        if (sscanf(buf, "msg %ld at %ld", &i, &sent) != 2)
            continue;
        int k = atomic_fetch_add(&c->nlat, 1);
        if (k < (int)(sizeof c->lat_ns / sizeof c->lat_ns[0]))
            c->lat_ns[k] = cd_reg_elapsed_ns() - sent;
        atomic_fetch_add(&cl->received, 1);
    }
    cd_io_shutdown(cl->conn); /* done: the session sees the end */
    if (atomic_fetch_add(&c->fast_done, 1) + 1 == c->nfast)
        cd_io_write(c->done_out, "!", 1);
}

static int client_connect(client_t *cl, const char *name)
{
    char buf[MSG_BYTES], conn[CD_NAME_MAX];
    snprintf(conn, sizeof conn, "client-%s", name);
    /* The slow client's window is fixed at the smallest before the
     * handshake: what it can hold unread is a few kilobytes, whatever the
     * kernel's autotuning would do - less than one message. */
    if (cd_io_connect_rcvbuf(&cl->conn, conn, cl->chat->port,
                             cl->slow ? SOCK_MIN : FAST_BUF) != 0)
        return -1;
    memset(buf, ' ', MSG_BYTES);
    buf[MSG_BYTES - 1] = '\n';
    memcpy(buf, "/name ", 6);
    memcpy(buf + 6, name, strlen(name));
    if (cd_io_write(cl->conn, buf, MSG_BYTES) < 0)
        return -1;
    record(buf, "/join lobby", 0, 0);
    return cd_io_write(cl->conn, buf, MSG_BYTES) < 0 ? -1 : 0;
}

static int received_all(chat_t *c);

/* Joins, says EARLY_MSGS lines once every fast client is in, then the
 * rest once the slow client is in too. */
static void fast_client(void *arg)
{
    client_t *cl = arg;
    chat_t *c = cl->chat;
    char name[16], reader[CD_NAME_MAX];
    snprintf(name, sizeof name, "fast-%d", cl->index);
    if (client_connect(cl, name) != 0)
        return;
    snprintf(reader, sizeof reader, "fast-%d-reader", cl->index);
    cd_scope_spawn(c->scope, reader, fast_reader, cl);
    while (atomic_load(&c->joined) < c->nfast)
        cd_await_latency("wait for the room", 1000);
    fast_sender(cl, 0, EARLY_MSGS);
    while (atomic_load(&c->joined) < c->nclients)
        cd_await_latency("wait for the slow client", 1000);
    fast_sender(cl, EARLY_MSGS, c->msgs);
}

/* Joins once the fast clients' first lines were all read, then reads
 * nothing until the fast clients are done (the laptop is asleep); then
 * says goodbye and reads what is left, to the end. */
static void slow_client(void *arg)
{
    client_t *cl = arg;
    chat_t *c = cl->chat;
    char buf[MSG_BYTES];
    while (received_all(c) < c->nfast * c->nfast * EARLY_MSGS)
        cd_await_latency("wait for the early lines", 1000);
    if (client_connect(cl, "slow") != 0)
        return;
    cd_io_read(c->done_in, buf, 1); /* reads nothing meanwhile */
    cd_io_shutdown(cl->conn);
    /* Hung up on (--slow-policy=disconnect): what the server had queued
     * dribbles out only as the kernel's window timers allow, and nothing
     * of it is needed. */
    while (!atomic_load(&c->kicked) &&
           cd_io_read(cl->conn, buf, MSG_BYTES) > 0)
        ;
}

/* ================================ referee ================================ */

static int received_all(chat_t *c)
{
    int got = 0;
    for (int i = 1; i < c->nclients; i++)
        got += atomic_load(&c->clients[i].received);
    return got;
}

/* Ends the run when the stall is certain: the room lock held by a write
 * to the slow client (whose path holds less than one message, and who
 * reads nothing until the fast clients got everything - which needs that
 * lock), and the fast clients have read every message sent so far, the
 * stuck one included (the slow client is the room's last member), so
 * that what they got is the same on every run. Ends itself when they are
 * done. */
static void referee_task(void *arg)
{
    chat_t *c = arg;
    room_t *r = &c->lobby;
    while (atomic_load(&c->fast_done) < c->nfast) {
        cd_await_latency("referee", 2000);
        member_t *w = r->writing_to;
        if (w && w == c->slow &&
            received_all(c) == c->nfast * atomic_load(&r->started) &&
            cd_reg_object(w->conn->id) &&
            atomic_load(&cd_reg_object(w->conn->id)->io_wblocked) > 0) {
            atomic_store(&c->stalled, 1);
            cd_scope_fail(c->scope, -EDEADLK);
            return;
        }
    }
}

static void main_task(void *arg)
{
    chat_t *c = arg;
    if (cd_scope_open(&c->scope, "chat-server", 0) != 0)
        return;
    cd_scope_spawn(c->scope, "acceptor", acceptor_task, c);
    cd_scope_spawn(c->scope, "referee", referee_task, c);
    for (int i = 1; i < c->nclients; i++) {
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "fast-%d", i);
        c->clients[i].chat = c;
        c->clients[i].index = i;
        cd_scope_spawn(c->scope, name, fast_client, &c->clients[i]);
    }
    c->clients[0].chat = c;
    c->clients[0].slow = 1;
    cd_scope_spawn(c->scope, "slow-client", slow_client, &c->clients[0]);
    cd_scope_report_t rep;
    cd_scope_close(c->scope, &rep);
}

/* ================================ --serve ================================ */

/* A real server for people with nc: lines instead of records, rooms made
 * by /join, names by /name; the same broadcasters, so the broken one
 * stalls a room when one of them stops reading (Ctrl-Z). Bad input gets
 * an answer or the door, and never holds up another client. */

/* Closes m's connection and its bell, and frees its outbox (the lines
 * still in it, its lock) and the line being written: what a member holds,
 * in the run's room and under --serve alike. */
static void member_close(member_t *m)
{
    cd_io_close(m->conn);
    cd_io_close(m->bell_in);
    cd_io_close(m->bell_out);
    if (m->outbox) {
        for (int i = 0; i < m->count; i++)
            free(m->outbox[(m->head + i) % m->box_max].text);
        cd_mutex_destroy(&m->box_lock);
    }
    free(m->outbox);
    free(m->writing.text);
}

static void member_free(member_t *m)
{
    chat_t *c = m->chat;
    cd_mutex_lock(&c->conns_lock);
    for (member_t **p = &c->conns; *p; p = &(*p)->next)
        if (*p == m) {
            *p = m->next;
            c->nconns--;
            break;
        }
    cd_reg_gauge_set(c->g_clients, c->nconns);
    cd_mutex_unlock(&c->conns_lock);
    /* What the peer sent and nobody read would make the close a reset,
     * and the reset could cost it the last lines written to it. */
    cd_io_discard(m->conn, 1 << 20);
    member_close(m);
    free(m->in);
    free(m->say);
    free(m);
}

static void member_release(member_t *m)
{
    if (atomic_fetch_sub(&m->refs, 1) == 1 && m->chat->serving)
        member_free(m);
}

/* Says text to m alone: through its outbox (fixed), or written by the
 * session itself (broken: only this session waits for its client; in a
 * room under the room's lock, as the broadcaster writes there, so that
 * the two never interleave their bytes). */
static void say(member_t *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(member_t *m, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    if (m->outbox) {
        outbox_push(m, buf, (size_t)n);
    } else if (m->room) {
        cd_amutex_lock(&m->room->lock);
        cd_io_write(m->conn, buf, (size_t)n);
        cd_amutex_unlock(&m->room->lock);
    } else {
        cd_io_write(m->conn, buf, (size_t)n);
    }
}

/* 1 if s[0..n) is well-formed UTF-8: no stray continuation bytes, no
 * overlong forms, no surrogates, nothing past U+10FFFF. */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned min, cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 1, min = 0x80, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, min = 0x800, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* A name for /name or /join: 1 to 31 letters, digits, '-', '_', '.'. */
static int valid_name(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < 32 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789-_.") == n;
}

/* The next line of m's client in m->in[0..*len), its newline dropped
 * (and a '\r' before it): 1; 0 at the end of the stream or an error;
 * -1 when LINE_MAX_BYTES came without a newline. */
static int read_line(member_t *m, size_t *len)
{
    memmove(m->in, m->in + m->used, m->have - m->used);
    m->have -= m->used;
    m->used = 0;
    size_t scanned = 0;
    for (;;) {
        char *nl = memchr(m->in + scanned, '\n', m->have - scanned);
        if (nl) {
            *len = (size_t)(nl - m->in);
            m->used = *len + 1;
            if (*len > 0 && m->in[*len - 1] == '\r')
                (*len)--;
            m->in[*len] = '\0';
            return 1;
        }
        scanned = m->have;
        if (m->have == LINE_MAX_BYTES + 1)
            return -1;
        ssize_t n = cd_io_read(m->conn, m->in + m->have,
                               LINE_MAX_BYTES + 1 - m->have);
        if (n <= 0)
            return 0;
        m->have += (size_t)n;
    }
}

/* The room called name, made on the first /join: NULL when MAX_ROOMS are
 * taken (or out of memory). */
static room_t *room_get(chat_t *c, const char *name)
{
    room_t *r = NULL;
    cd_mutex_lock(&c->rooms_lock);
    for (int i = 0; i < c->nrooms && !r; i++)
        if (strcmp(c->rooms[i]->name, name) == 0)
            r = c->rooms[i];
    if (!r && c->nrooms < MAX_ROOMS && (r = calloc(1, sizeof *r))) {
        char lock[CD_NAME_MAX];
        snprintf(r->name, sizeof r->name, "%s", name);
        snprintf(lock, sizeof lock, "room-%s", name);
        if (cd_amutex_init(&r->lock, lock) == 0) {
            c->rooms[c->nrooms++] = r;
        } else {
            free(r);
            r = NULL;
        }
    }
    cd_mutex_unlock(&c->rooms_lock);
    return r;
}

/* One command or message of m's client. 0 to go on, -1 to hang up. */
static int serve_line(member_t *m, char *line, size_t len)
{
    chat_t *c = m->chat;
    if (!utf8_valid((unsigned char *)line, len)) {
        atomic_fetch_add(&c->not_utf8, 1);
        say(m, "*** that line is not UTF-8: dropped");
        return 0;
    }
    if (len == 0)
        return 0;
    if (strncmp(line, "/name ", 6) == 0) {
        if (!valid_name(line + 6))
            say(m, "*** a name is 1 to 31 letters, digits, '-', '_' or '.'");
        else
            say(m, "*** you are %s", strcpy(m->name, line + 6));
    } else if (strncmp(line, "/join ", 6) == 0) {
        room_t *r = valid_name(line + 6) ? room_get(c, line + 6) : NULL;
        if (!r) {
            say(m, "*** no room '%.40s': a room name is 1 to 31 letters, "
                "digits, '-', '_' or '.', and %d rooms at most", line + 6,
                MAX_ROOMS);
            return 0;
        }
        leave(m);
        join(m, r); /* broken: waits while a broadcast to r is stuck */
        say(m, "*** you are in %s as %s", r->name, m->name);
    } else if (strcmp(line, "/quit") == 0) {
        say(m, "*** bye");
        return -1;
    } else if (line[0] == '/') {
        say(m, "*** unknown command: /name NAME, /join ROOM, /quit");
    } else if (!m->room) {
        say(m, "*** join a room first: /join lobby");
    } else {
        /* In the session's own buffer: a run that ends inside the
         * broadcast leaves nothing to free but what teardown frees. */
        int n = snprintf(m->say, LINE_MAX_BYTES + 64, "%s: %s\n", m->name,
                         line);
        broadcast[c->variant](m->room, m->say, (size_t)n);
        cd_reg_gauge_set(c->g_messages, atomic_fetch_add(&c->messages, 1) + 1);
    }
    return 0;
}

static void serve_session(void *arg)
{
    member_t *m = arg;
    chat_t *c = m->chat;
    size_t len;
    int rc;
    say(m, "*** concdemo chat (%s) on 127.0.0.1:%d, you are %s. /name NAME, "
        "/join ROOM, then type; /quit leaves", c->variant ? "outbox" : "broken",
        c->port, m->name);
    while ((rc = read_line(m, &len)) == 1)
        if (serve_line(m, m->in, len) != 0)
            break;
    if (rc == -1) {
        atomic_fetch_add(&c->too_long, 1);
        say(m, "*** a line longer than %d bytes: disconnected",
            LINE_MAX_BYTES);
    }
    cd_io_discard(m->conn, 1 << 20);
    session_end(m);
    member_release(m);
}

/* A new member for conn (taken over): 0, or -1 with conn closed. */
/* The registry keeps every task and object of a run (for the view and
 * the detectors), so a server runs out of records after some 250
 * connections in all: a client then hears why, not a silent hang-up. */
static const char used_up[] = "*** this server has served all the "
                              "connections one run can keep (some 250): "
                              "restart it\n";

static void say_used_up(cd_conn_t *conn)
{
    cd_io_try_write(conn, used_up, sizeof used_up - 1);
}

static int member_new(chat_t *c, cd_conn_t *conn, member_t **out)
{
    member_t *m = calloc(1, sizeof *m);
    int ok = m && (m->in = malloc(LINE_MAX_BYTES + 1)) != NULL &&
             (m->say = malloc(LINE_MAX_BYTES + 64)) != NULL;
    if (ok && c->variant == 1)
        ok = (m->outbox = calloc(SERVE_OUTBOX_MAX, sizeof *m->outbox)) &&
             cd_mutex_init(&m->box_lock, "outbox") == 0;
    if (ok && c->variant == 1 &&
        cd_io_pair(&m->bell_in, "bell", &m->bell_out, "bell") != 0) {
        cd_mutex_destroy(&m->box_lock);
        ok = 0;
    }
    if (!ok) {
        say_used_up(conn);
        cd_io_close(conn);
        if (m) {
            free(m->outbox);
            free(m->in);
            free(m->say);
        }
        free(m);
        return -1;
    }
    m->chat = c;
    m->conn = conn;
    m->box_max = SERVE_OUTBOX_MAX;
    m->index = ++c->accepted;
    snprintf(m->name, sizeof m->name, "guest-%d", m->index);
    atomic_store(&m->refs, c->variant == 1 ? 2 : 1); /* session (writer) */
    cd_mutex_lock(&c->conns_lock);
    m->next = c->conns;
    c->conns = m;
    c->nconns++;
    cd_reg_gauge_set(c->g_clients, c->nconns);
    cd_mutex_unlock(&c->conns_lock);
    *out = m;
    return 0;
}

/* One more client turned away: because MAX_CONNS were in (full) or
 * because no record was left for it. The gauge counts both. */
static void turned_away(chat_t *c, int full)
{
    atomic_fetch_add(full ? &c->turned_away : &c->used_up, 1);
    cd_reg_gauge_set(c->g_turned, atomic_load(&c->turned_away) +
                                      atomic_load(&c->used_up));
}

/* Takes every connection: MAX_CONNS at once, the rest are told why they
 * are turned away. Ends with the run (a signal, q in the view). */
static void serve_acceptor(void *arg)
{
    chat_t *c = arg;
    for (int i = 1;; i++) {
        char name[CD_NAME_MAX];
        cd_conn_t *conn;
        snprintf(name, sizeof name, "conn-%d", i);
        int rc = cd_io_accept(c->listener, &conn, name);
        if (rc == -ENOSPC || rc == -ENOMEM || rc == -EMFILE ||
            rc == -ENFILE) {
            /* It was closed (told why, when no record was left). */
            turned_away(c, 0);
            continue;
        }
        if (rc != 0)
            return;
        cd_mutex_lock(&c->conns_lock);
        int full = c->nconns >= MAX_CONNS;
        cd_mutex_unlock(&c->conns_lock);
        if (full) {
            static const char msg[] = "*** the server is full: try later\n";
            cd_io_try_write(conn, msg, sizeof msg - 1);
            cd_io_close(conn);
            turned_away(c, 1);
            continue;
        }
        /* A small send buffer, so that a client that stops reading (nc
         * after Ctrl-Z) fills its path after a screenful of lines rather
         * than megabytes: its own receive buffer is the rest. */
        cd_io_set_buffers(conn, SERVE_SNDBUF, 0);
        member_t *m;
        if (member_new(c, conn, &m) != 0)
            continue;
        snprintf(name, sizeof name, "session-%d", m->index);
        if (cd_scope_spawn(c->scope, name, serve_session, m) < 0) {
            say_used_up(conn);
            member_release(m);
            if (m->outbox)
                member_release(m);
            continue;
        }
        snprintf(name, sizeof name, "writer-%d", m->index);
        if (m->outbox && cd_scope_spawn(c->scope, name, writer_task, m) < 0)
            member_release(m);
    }
}

static void serve_main(void *arg)
{
    chat_t *c = arg;
    if (cd_scope_open(&c->scope, "chat-server", 0) != 0)
        return;
    cd_scope_spawn(c->scope, "acceptor", serve_acceptor, c);
    /* Said from the loop: everything the server holds is open by now. */
    if (c->on_listen)
        c->on_listen(c->port);
    cd_scope_close(c->scope, NULL);
}

static void serve_teardown(chat_t *c)
{
    while (c->conns)
        member_free(c->conns); /* the run's abort ended their tasks */
    for (int i = 0; i < c->nrooms; i++) {
        cd_amutex_destroy(&c->rooms[i]->lock);
        free(c->rooms[i]);
    }
    if (c->rooms_lock.id > 0)
        cd_mutex_destroy(&c->rooms_lock);
    if (c->conns_lock.id > 0)
        cd_mutex_destroy(&c->conns_lock);
    cd_io_close(c->listener);
}

static void serve(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    chat_t *c = calloc(1, sizeof *c);
    cd_exec_t *e = NULL;
    int rc = c ? 0 : -ENOMEM;
    if (c) {
        c->serving = 1;
        c->variant = variant;
        c->policy = p->slow_policy;
    }
    if (rc == 0 && (cd_mutex_init(&c->rooms_lock, "rooms") != 0 ||
                    cd_mutex_init(&c->conns_lock, "connections") != 0))
        rc = -ENOMEM;
    if (rc == 0)
        rc = cd_io_listen(&c->listener, "listener", p->serve_port);
    cd_verdict_expect(v, "every client is served, whatever another one "
                      "sends or fails to read");
    if (rc != 0) {
        cd_verdict_observe(v, CD_ERROR, "could not listen on 127.0.0.1:%d: "
                           "%s", p->serve_port, strerror(-rc));
        if (c)
            serve_teardown(c);
        free(c);
        return;
    }
    c->port = cd_io_port(c->listener);
    cd_io_set_refusal(c->listener, used_up);
    c->g_port = cd_reg_gauge("nc 127.0.0.1");
    cd_reg_gauge_set(c->g_port, c->port);
    cd_demo_figures(NULL, 0, "clients", &c->g_clients, "messages",
                    &c->g_messages, "turned away", &c->g_turned, NULL);
    c->on_listen = p->on_listen;
    if (cd_exec_create(&e, p->workers) != 0 ||
        cd_exec_spawn(e, "main", serve_main, c) < 0 || cd_exec_run(e) < 0)
        cd_verdict_observe(v, CD_ERROR, "could not start the chat server");
    else
        cd_verdict_observe(v, CD_HELD, "served %d connections (%d turned "
                           "away while %d were in), %d messages; lines too "
                           "long: %d, not UTF-8: %d; slow clients hung up "
                           "on: %d%s", c->accepted,
                           atomic_load(&c->turned_away), MAX_CONNS,
                           atomic_load(&c->messages),
                           atomic_load(&c->too_long),
                           atomic_load(&c->not_utf8),
                           atomic_load(&c->kicked),
                           atomic_load(&c->used_up)
                               ? "; the run's records were used up: "
                                 "later clients were told to restart it"
                               : "");
    cd_verdict_num(v, "port", c->port);
    cd_verdict_num(v, "connections", c->accepted);
    cd_verdict_num(v, "turned_away", atomic_load(&c->turned_away));
    cd_verdict_num(v, "records_used_up", atomic_load(&c->used_up));
    cd_verdict_num(v, "messages", atomic_load(&c->messages));
    cd_verdict_num(v, "too_long", atomic_load(&c->too_long));
    cd_verdict_num(v, "not_utf8", atomic_load(&c->not_utf8));
    cd_verdict_num(v, "open_at_end", c->nconns);
    cd_exec_destroy(e);
    serve_teardown(c);
    free(c);
}

/* ================================ harness ================================ */

static int setup(chat_t *c, const cd_params_t *p, int variant)
{
    c->variant = variant;
    c->policy = p->slow_policy;
    c->nfast = p->threads;
    c->nclients = c->nfast + 1;
    c->msgs = p->iterations;
    snprintf(c->lobby.name, sizeof c->lobby.name, "lobby");
    if (cd_amutex_init(&c->lobby.lock, "room-lobby") != 0)
        return -1;
    if (cd_io_listen(&c->listener, "listener", 0) != 0)
        return -1;
    c->port = cd_io_port(c->listener);
    if (cd_io_pair(&c->done_in, "done-in", &c->done_out, "done-out") != 0)
        return -1;
    for (int i = 0; i < c->nclients; i++) {
        member_t *m = &c->members[i];
        m->chat = c;
        m->index = i;
        if (variant == 1) {
            m->outbox = calloc(OUTBOX_MAX, sizeof *m->outbox);
            m->box_max = OUTBOX_MAX;
            if (!m->outbox || cd_mutex_init(&m->box_lock, "outbox") != 0 ||
                cd_io_pair(&m->bell_in, "bell", &m->bell_out, "bell") != 0)
                return -1;
        }
    }
    return 0;
}

static void teardown(chat_t *c)
{
    for (int i = 0; i < MAX_CLIENTS; i++) {
        member_close(&c->members[i]);
        cd_io_close(c->clients[i].conn);
    }
    cd_io_close(c->done_in);
    cd_io_close(c->done_out);
    cd_io_close(c->listener);
    if (c->lobby.lock.id > 0)
        cd_amutex_destroy(&c->lobby.lock);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* "the fast client", or "the 4 fast clients", into buf. */
static const char *fast_clients(const chat_t *c, char *buf, size_t size)
{
    if (c->nfast == 1)
        snprintf(buf, size, "the fast client");
    else
        snprintf(buf, size, "the %d fast clients", c->nfast);
    return buf;
}

static void check(chat_t *c, cd_verdict_t *v)
{
    char who[32];
    int want = c->nfast * c->nfast * c->msgs, got = received_all(c);
    int n = atomic_load(&c->nlat);
    if (n > (int)(sizeof c->lat_ns / sizeof c->lat_ns[0]))
        n = (int)(sizeof c->lat_ns / sizeof c->lat_ns[0]);
    qsort(c->lat_ns, (size_t)n, sizeof c->lat_ns[0], cmp_i64);
    int64_t p99 = n ? c->lat_ns[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1]
                    : 0;
    static const member_t none;
    const member_t *slow = c->slow ? (const member_t *)c->slow : &none;

    cd_verdict_expect(v, "every fast client gets every message of the room "
                      "(%d in all), whatever the slow client does", want);
    cd_verdict_num(v, "expected", want);
    cd_verdict_num(v, "delivered", got);
    cd_verdict_num(v, "stalled", atomic_load(&c->stalled));
    cd_verdict_num(v, "p99_latency_us", p99 / 1000);
    cd_verdict_num(v, "room_lock_longest_us", c->lobby.longest_hold_ns / 1000);
    cd_verdict_num(v, "port", c->port);
    if (c->variant == 1) {
        int fast_dropped = 0;
        for (int i = 1; i < c->nclients; i++)
            fast_dropped += atomic_load(&c->clients[i].lost);
        cd_verdict_num(v, "fast_dropped", fast_dropped);
        cd_verdict_num(v, "slow_dropped", slow->dropped_total);
        cd_verdict_num(v, "slow_disconnected", slow->kicked);
    }
    int lost = 0;
    for (int i = 1; i < c->nclients; i++)
        lost += atomic_load(&c->clients[i].lost);
    if (got < want && lost > 0)
        cd_verdict_observe(v, CD_VIOLATED, "the fast clients got %d of %d "
                           "messages: %d were dropped for them, their "
                           "writers held back longer than an outbox lasts",
                           got, want, lost);
    else if (got < want && !atomic_load(&c->stalled))
        cd_verdict_observe(v, CD_VIOLATED, "the fast clients got %d of %d "
                           "messages before the run ended", got, want);
    else if (got < want)
        cd_verdict_observe(v, CD_VIOLATED, "the room stalled: the fast "
                           "clients got %d of %d messages (%d lines) and "
                           "no more once the slow client was in; the "
                           "broadcaster held room-lobby while its write to "
                           "the slow client awaited room that never came",
                           got, want, atomic_load(&c->lobby.started));
    else if (slow->kicked)
        cd_verdict_observe(v, CD_HELD, "all %d messages reached %s (p99 "
                           "%.1f ms); the slow client was hung up on after "
                           "its outbox dropped %d, and nobody waited for it",
                           got, fast_clients(c, who, sizeof who),
                           (double)p99 / 1e6, slow->dropped_total);
    else
        cd_verdict_observe(v, CD_HELD, "all %d messages reached %s (p99 "
                           "%.1f ms); the slow client's outbox dropped its "
                           "oldest, and nobody waited for it", got,
                           fast_clients(c, who, sizeof who),
                           (double)p99 / 1e6);
}

void cd_chat_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    if (p->serve) {
        serve(p, variant, v);
        return;
    }
    chat_t *c = calloc(1, sizeof *c);
    cd_exec_t *e = NULL;
    if (!c || setup(c, p, variant) != 0 || cd_exec_create(&e, p->workers) != 0
        || cd_exec_spawn(e, "main", main_task, c) < 0) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the chat server");
    } else if (cd_exec_run(e) < 0) {
        cd_verdict_observe(v, CD_ERROR, "could not start the executor");
    } else {
        check(c, v);
    }
    cd_exec_destroy(e);
    if (c)
        teardown(c);
    free(c);
}

/* Its arrays hold as many clients as its entry in demos/scenarios.c
 * allows (.max.threads fast readers and the slow one). */
_Static_assert(MAX_CLIENTS == CD_CHAT_CLIENTS,
               "MAX_CLIENTS is not CD_CHAT_CLIENTS (demos/scenario.h)");
