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
 * Lesson:  lessons/20-chat.md
 *
 * The clients are tasks of the same run, on real sockets: FAST senders
 * each send MSGS messages, paced by a 1 ms await, and a reader per fast
 * client counts what arrives (every message of the room, its own
 * included). The slow client joins first and never reads until the fast
 * ones are done. A referee ends the run early when the stall is certain:
 * the room lock is held by a write that awaits room on the slow client's
 * socket, which only a read by the slow client could make.
 * Everything lives in one task scope: when the referee fails it, the
 * scope cancels every task at its await. (No deadline: under the schedule
 * search a timer may end at any moment, and a deadline that fired first
 * would stop a fixed run; the run's own time limit is the safety net.)
 */
#include <errno.h>
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
#include "scenario.h"

#define MSG_BYTES 512     /* a chat line padded out: buffers fill sooner */
#define MSGS 40           /* per fast client */
#define OUTBOX_MAX 16     /* messages an outbox holds before it drops */
#define SOCK_BUF 4096     /* SO_SNDBUF / SO_RCVBUF of the slow path */
#define MAX_CLIENTS 16

typedef struct chat chat_t;

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
    char (*outbox)[MSG_BYTES];
    int head, count, dropped;
    int gone;                 /* the client left: the writer ends */
    cd_conn_t *bell_in, *bell_out; /* a pair: a byte = "look at the outbox" */
} member_t;

typedef struct room {
    char name[32];
    cd_amutex_t lock;         /* guards members */
    member_t *members[MAX_CLIENTS];
    int nmembers;
    /* Broken only: who the broadcaster is writing to under the lock. */
    _Atomic(member_t *) writing_to; /* read by the referee */
    int64_t locked_at_ns, longest_hold_ns;
} room_t;

/* One client's side (a task or two of the run). */
typedef struct client {
    chat_t *chat;
    int index, slow;
    cd_conn_t *conn;
    int received;             /* chat messages read (fast clients) */
    int64_t worst_ns;         /* the slowest delivery it saw */
} client_t;

struct chat {
    int variant, nfast, nclients;
    cd_conn_t *listener;
    int port;
    room_t lobby;
    member_t members[MAX_CLIENTS];
    client_t clients[MAX_CLIENTS];
    cd_scope_t *scope;
    cd_conn_t *done_in, *done_out; /* the slow client's "fast ones done" */
    atomic_int fast_done, joined, stalled;
    int64_t lat_ns[MAX_CLIENTS * MAX_CLIENTS * MSGS];
    atomic_int nlat;
};

/* ====================== broadcasting, side by side ======================= */

/* Broken: every member written to in turn, the room lock held throughout.
 * A write awaits room in the member's send buffer for as long as it
 * takes - for a client that stopped reading, for ever. */
static void broadcast_broken(room_t *r, const char *msg)
{
    cd_amutex_lock(&r->lock);             /* BUG: the lock held... */
    r->locked_at_ns = cd_reg_elapsed_ns();
    for (int i = 0; i < r->nmembers; i++) {
        r->writing_to = r->members[i];
        cd_io_write(r->members[i]->conn, msg, MSG_BYTES); /* BUG: ...across
                                             a write that may never end */
    }
    r->writing_to = NULL;
    int64_t held = cd_reg_elapsed_ns() - r->locked_at_ns;
    if (held > r->longest_hold_ns)
        r->longest_hold_ns = held;
    cd_amutex_unlock(&r->lock);
}

/* Queues msg to m's outbox: a full one drops its oldest (the policy for
 * a slow client: it loses messages, it is told how many, and nobody else
 * waits for it). */
static void outbox_push(member_t *m, const char *msg)
{
    cd_mutex_lock(&m->box_lock);
    if (!m->gone) {
        if (m->count == OUTBOX_MAX) {     /* FIX: bounded: drop the oldest */
            m->head = (m->head + 1) % OUTBOX_MAX;
            m->count--;
            m->dropped++;
        }
        memcpy(m->outbox[(m->head + m->count) % OUTBOX_MAX], msg, MSG_BYTES);
        m->count++;
        cd_io_set_queued(m->conn, (uint64_t)m->count * MSG_BYTES);
    }
    cd_mutex_unlock(&m->box_lock);
    cd_io_try_write(m->bell_out, "!", 1); /* a full bell rings already */
}

/* Takes the next line for m's writer into line: 1, or 0 if there is none
 * (or the client left: *gone). A drop notice goes first. */
static int outbox_pop(member_t *m, char *line, int *gone)
{
    int have = 1;
    cd_mutex_lock(&m->box_lock);
    *gone = m->gone;
    if (m->dropped) {
        memset(line, ' ', MSG_BYTES);
        int k = snprintf(line, MSG_BYTES, "*** %d messages dropped: you "
                         "are reading too slowly", m->dropped);
        line[k] = ' ';
        line[MSG_BYTES - 1] = '\n';
        m->dropped = 0;
    } else if (m->count > 0) {
        memcpy(line, m->outbox[m->head], MSG_BYTES);
        m->head = (m->head + 1) % OUTBOX_MAX;
        m->count--;
        cd_io_set_queued(m->conn, (uint64_t)m->count * MSG_BYTES);
    } else {
        have = 0;
    }
    cd_mutex_unlock(&m->box_lock);
    return have;
}

/* Fix "outbox": the member list copied under the lock, the lock let go,
 * then each member's outbox gets the message; writes happen elsewhere. */
static void broadcast_outbox(room_t *r, const char *msg)
{
    member_t *copy[MAX_CLIENTS];
    cd_amutex_lock(&r->lock);
    r->locked_at_ns = cd_reg_elapsed_ns();
    int n = r->nmembers;                  /* FIX: copy the list... */
    memcpy(copy, r->members, (size_t)n * sizeof copy[0]);
    int64_t held = cd_reg_elapsed_ns() - r->locked_at_ns;
    if (held > r->longest_hold_ns)
        r->longest_hold_ns = held;
    cd_amutex_unlock(&r->lock);           /* FIX: ...and let go */
    for (int i = 0; i < n; i++)
        outbox_push(copy[i], msg);        /* FIX: never waits */
}

static void (*const broadcast[])(room_t *, const char *) = {
    broadcast_broken, broadcast_outbox,
};

/* "outbox": one writer task per client drains its outbox; only this task
 * ever waits for that client's socket. */
static void writer_task(void *arg)
{
    member_t *m = arg;
    char bell[64], line[MSG_BYTES];
    int gone = 0;
    while (!gone) {
        if (outbox_pop(m, line, &gone)) {
            if (cd_io_write(m->conn, line, MSG_BYTES) < 0)
                return;
        } else if (!gone && cd_io_read(m->bell_in, bell, sizeof bell) <= 0) {
            return;
        }
    }
    cd_io_shutdown(m->conn); /* all sent: the client reads the end */
}

/* ================================ server ================================= */

static void join(member_t *m, room_t *r)
{
    cd_amutex_lock(&r->lock);             /* /join waits for the room too */
    if (r->nmembers < MAX_CLIENTS)
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

/* Reads whole MSG_BYTES records (the clients send fixed-size lines). */
static int read_record(cd_conn_t *c, char *buf)
{
    size_t have = 0;
    while (have < MSG_BYTES) {
        ssize_t n = cd_io_read(c, buf + have, MSG_BYTES - have);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
    return 0;
}

/* One session: commands and lines from one client. */
static void session_task(void *arg)
{
    member_t *m = arg;
    chat_t *c = m->chat;
    char line[MSG_BYTES];
    while (read_record(m->conn, line) == 0) {
        if (strncmp(line, "/name ", 6) == 0) {
            sscanf(line + 6, "%31s", m->name);
        } else if (strncmp(line, "/join ", 6) == 0) {
            leave(m);
            join(m, &c->lobby); /* one room in this run: the lobby */
        } else if (m->room) {
            broadcast[c->variant](m->room, line);
        }
    }
    leave(m);
    if (!m->bell_out) /* broken: nothing more will be written */
        cd_io_shutdown(m->conn);
    if (m->bell_out) {
        cd_mutex_lock(&m->box_lock);
        m->gone = 1;
        cd_mutex_unlock(&m->box_lock);
        cd_io_try_write(m->bell_out, "!", 1);
    }
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
        /* The slow path is short: a few kilobytes fill it. */
        cd_io_set_buffers(m->conn, SOCK_BUF, 0);
        snprintf(name, sizeof name, "session-%d", i + 1);
        cd_scope_spawn(c->scope, name, session_task, m);
        snprintf(name, sizeof name, "writer-%d", i + 1);
        if (c->variant == 1)
            cd_scope_spawn(c->scope, name, writer_task, m);
    }
}

/* ================================ clients ================================ */

/* A fixed-size record: text, spaces, a newline (so `nc` shows lines). */
static void record(char *buf, const char *fmt, long a, long b)
{
    memset(buf, ' ', MSG_BYTES);
    int k = snprintf(buf, MSG_BYTES, fmt, a, b);
    buf[k] = ' ';
    buf[MSG_BYTES - 1] = '\n';
}

static void fast_sender(void *arg)
{
    client_t *cl = arg;
    char buf[MSG_BYTES];
    for (int i = 0; i < MSGS; i++) {
        cd_await_latency("typing", 1000);
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
    char buf[MSG_BYTES];
    int want = c->nfast * MSGS;
    while (cl->received < want && read_record(cl->conn, buf) == 0) {
        long i, sent;
        if (sscanf(buf, "msg %ld at %ld", &i, &sent) != 2)
            continue;
        cl->received++;
        int k = atomic_fetch_add(&c->nlat, 1);
        if (k < (int)(sizeof c->lat_ns / sizeof c->lat_ns[0]))
            c->lat_ns[k] = cd_reg_elapsed_ns() - sent;
    }
    cd_io_shutdown(cl->conn); /* done: the session sees the end */
    if (atomic_fetch_add(&c->fast_done, 1) + 1 == c->nfast)
        cd_io_write(c->done_out, "!", 1);
}

static int client_connect(client_t *cl, const char *name)
{
    char buf[MSG_BYTES], conn[CD_NAME_MAX];
    snprintf(conn, sizeof conn, "client-%s", name);
    /* The slow client's window is fixed small before the handshake: what
     * it can hold unread is a few kilobytes, whatever the kernel's
     * autotuning would do - the room's traffic is many times that. */
    if (cd_io_connect_rcvbuf(&cl->conn, conn, cl->chat->port,
                             cl->slow ? SOCK_BUF : 0) != 0)
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

static void fast_client(void *arg)
{
    client_t *cl = arg;
    chat_t *c = cl->chat;
    char name[16];
    snprintf(name, sizeof name, "fast-%d", cl->index);
    /* Only once the slow client is in: it joins first. */
    while (atomic_load(&c->joined) < 1)
        cd_await_latency("wait for the slow client", 1000);
    if (client_connect(cl, name) != 0)
        return;
    while (atomic_load(&c->joined) < c->nclients)
        cd_await_latency("wait for the room", 1000);
    char reader[CD_NAME_MAX];
    snprintf(reader, sizeof reader, "fast-%d-reader", cl->index);
    cd_scope_spawn(c->scope, reader, fast_reader, cl);
    fast_sender(cl);
}

/* Joins, then reads nothing until the fast clients are done; then says
 * goodbye and reads what is left, to the end. */
static void slow_client(void *arg)
{
    client_t *cl = arg;
    char buf[MSG_BYTES];
    if (client_connect(cl, "slow") != 0)
        return;
    cd_io_read(cl->chat->done_in, buf, 1); /* stops reading meanwhile */
    cd_io_shutdown(cl->conn);
    while (cd_io_read(cl->conn, buf, sizeof buf) > 0)
        ;
}

/* ================================ referee ================================ */

/* Ends the run when the stall is certain: the room lock held by a write
 * that awaits room on the slow client's socket (only the slow client's
 * reads could make room, and it reads nothing until the fast clients got
 * everything - which needs that lock). Ends itself when they did. */
static void referee_task(void *arg)
{
    chat_t *c = arg;
    while (atomic_load(&c->fast_done) < c->nfast) {
        cd_await_latency("referee", 2000);
        member_t *w = c->lobby.writing_to;
        if (w && w->index == 0 && cd_reg_object(w->conn->id) &&
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
    c->clients[0].chat = c;
    c->clients[0].slow = 1;
    cd_scope_spawn(c->scope, "slow-client", slow_client, &c->clients[0]);
    for (int i = 1; i < c->nclients; i++) {
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "fast-%d", i);
        c->clients[i].chat = c;
        c->clients[i].index = i;
        cd_scope_spawn(c->scope, name, fast_client, &c->clients[i]);
    }
    cd_scope_report_t rep;
    cd_scope_close(c->scope, &rep);
}

/* ================================ harness ================================ */

static int setup(chat_t *c, const cd_params_t *p, int variant)
{
    c->variant = variant;
    c->nfast = p->threads;
    c->nclients = c->nfast + 1;
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
            m->outbox = calloc(OUTBOX_MAX, MSG_BYTES);
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
        cd_io_close(c->members[i].conn);
        cd_io_close(c->members[i].bell_in);
        cd_io_close(c->members[i].bell_out);
        if (c->members[i].outbox)
            cd_mutex_destroy(&c->members[i].box_lock);
        free(c->members[i].outbox);
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

static void check(chat_t *c, cd_verdict_t *v)
{
    int want = c->nfast * c->nfast * MSGS, got = 0;
    for (int i = 1; i < c->nclients; i++)
        got += c->clients[i].received;
    int n = atomic_load(&c->nlat);
    if (n > (int)(sizeof c->lat_ns / sizeof c->lat_ns[0]))
        n = (int)(sizeof c->lat_ns / sizeof c->lat_ns[0]);
    qsort(c->lat_ns, (size_t)n, sizeof c->lat_ns[0], cmp_i64);
    int64_t p99 = n ? c->lat_ns[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1]
                    : 0;

    cd_verdict_expect(v, "every fast client gets every message of the room "
                      "(%d in all), whatever the slow client does", want);
    cd_verdict_num(v, "expected", want);
    cd_verdict_num(v, "delivered", got);
    cd_verdict_num(v, "stalled", atomic_load(&c->stalled));
    cd_verdict_num(v, "p99_latency_us", p99 / 1000);
    cd_verdict_num(v, "room_lock_longest_us", c->lobby.longest_hold_ns / 1000);
    cd_verdict_num(v, "port", c->port);
    if (got < want && !atomic_load(&c->stalled))
        cd_verdict_observe(v, CD_VIOLATED, "the fast clients got %d of %d "
                           "messages before the run ended", got, want);
    else if (got < want)
        cd_verdict_observe(v, CD_VIOLATED, "the room stalled: the fast "
                           "clients got %d of %d messages; the broadcaster "
                           "held room-lobby while its write to the slow "
                           "client awaited room that never came", got, want);
    else
        cd_verdict_observe(v, CD_HELD, "all %d messages reached the %d fast "
                           "clients (p99 %.1f ms); the slow client's outbox "
                           "dropped its oldest, and nobody waited for it",
                           got, c->nfast, (double)p99 / 1e6);
}

static void run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
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

static const cd_variant_t variants[] = {
    { "broken", "the broadcaster writes to every member with the room "
                "lock held" },
    { "outbox", "member list copied under the lock; a bounded outbox per "
                "client, drained by its own writer task; drop oldest" },
};

const cd_scenario_t cd_scenario_chat = {
    .name = "chat",
    .title = "the room that one slow reader froze",
    .pitfall = "a broadcaster holds the room lock while it writes to every "
               "member: a client that stops reading stalls the room",
    .lesson = "lessons/20-chat.md",
    .variants = variants,
    .nvariants = 2,
    .recommended = 1,
    .defaults = { .threads = 4, .iterations = 1, .workers = 1 },
    .min = { .threads = 1, .iterations = 1, .workers = 1 },
    .max = { .threads = MAX_CLIENTS - 1, .iterations = 1, .workers = 4 },
    .run = run,
};
