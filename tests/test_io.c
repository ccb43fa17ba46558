/*
 * test_io.c - sockets on the executor (cd_io.h): awaitable accept, read
 * and write on real descriptors, their registry records and trace, a
 * plain thread as a client, the run's abort of a task that awaits I/O,
 * repeatable runs under the controlled scheduler, and the in-memory
 * network every controlled run has.
 *
 * Each test runs in a forked child with a time limit (add_forked_test)
 * and a watchdog that aborts a run that goes on too long. Order is
 * observed through a log on one worker, where it is exact: a task only
 * gives its worker up at an await.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/cd_detect.h"
#include "../lib/cd_exec.h"
#include "../lib/cd_io.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_sched.h"
#include "../lib/cd_simnet.h"
#include "../lib/cd_thread.h"
#include "../lib/cd_trace.h"
#include "harness.h"

/* suite: io; forked */

#define SAFETY_MS 20000

static char *const logbuf = watched_log;

static void begin(int timeout_ms) { watched_begin("test_io", timeout_ms); }
static void end(void) { watched_end(); }
static void say(const char *word) { watched_say(word); }

/* ==================== a read parks the task, not the worker ============== */

static cd_conn_t *end_a, *end_b;
static char got[64];

static void reader(void *arg)
{
    (void)arg;
    say("read");
    ssize_t n = cd_io_read(end_a, got, sizeof got - 1);
    if (n > 0)
        got[n] = '\0';
    say("got");
}

static void writer(void *arg)
{
    (void)arg;
    say("write");
    cd_await_latency("think", 2000);
    cd_io_write(end_b, "hello", 5);
    say("wrote");
}

/* test: a read parks the task and the worker runs the writer */
static void test_read_parks_the_task_and_the_worker_runs_the_writer(void)
{
    cd_exec_t *e;
    begin(SAFETY_MS);
    int fds = open_fds();
    CU_ASSERT_FATAL(cd_io_pair(&end_a, "a", &end_b, "b") == 0);
    CU_ASSERT_FATAL(cd_exec_create(&e, 1) == 0);
    cd_exec_spawn(e, "reader", reader, NULL);
    cd_exec_spawn(e, "writer", writer, NULL);
    ASSERT_INT_EQ(cd_exec_run(e), 0);
    /* One worker: the reader parked, the writer ran, then the reader. */
    CU_ASSERT_STRING_EQUAL(logbuf, "read write wrote got ");
    CU_ASSERT_STRING_EQUAL(got, "hello");
    cd_snapshot_t *s = snap();
    cd_reg_snapshot(s);
    ASSERT_INT_EQ(s->objs[end_a->id - 1].kind, CD_OBJ_CONN);
    ASSERT_INT_EQ((int)s->objs[end_a->id - 1].io_read, 5);
    ASSERT_INT_EQ((int)s->objs[end_b->id - 1].io_written, 5);
    CU_ASSERT_STRING_EQUAL(cd_obj_kind_name(CD_OBJ_CONN), "connection");
    cd_io_close(end_a);
    cd_io_close(end_b);
    cd_exec_destroy(e);
    ASSERT_INT_EQ(open_fds(), fds);
    end();
}

/* ============ TCP on 127.0.0.1: accept, echo, many clients, one loop ===== */

#define CLIENTS 20

static cd_conn_t *listener;
static cd_exec_t *ex;
static atomic_int echoed;

static void serve_one(void *arg)
{
    cd_conn_t *c = arg;
    char buf[128];
    ssize_t n;
    while ((n = cd_io_read(c, buf, sizeof buf)) > 0)
        cd_io_write(c, buf, (size_t)n);
    cd_io_close(c);
}

static void acceptor(void *arg)
{
    (void)arg;
    for (int i = 0; i < CLIENTS; i++) {
        cd_conn_t *c;
        if (cd_io_accept(listener, &c, "conn") != 0)
            return;
        cd_exec_spawn(ex, "serve", serve_one, c);
    }
}

static void client(void *arg)
{
    int k = (int)(intptr_t)arg;
    cd_conn_t *c;
    char msg[32], back[32] = "";
    if (cd_io_connect(&c, "client", cd_io_port(listener)) != 0)
        return;
    int n = snprintf(msg, sizeof msg, "ping %d", k);
    cd_io_write(c, msg, (size_t)n);
    size_t have = 0;
    while (have < (size_t)n) {
        ssize_t r = cd_io_read(c, back + have, sizeof back - 1 - have);
        if (r <= 0)
            break;
        have += (size_t)r;
    }
    if (have == (size_t)n && memcmp(back, msg, (size_t)n) == 0)
        atomic_fetch_add(&echoed, 1);
    cd_io_close(c);
}

/* test: TCP echo serves many clients on one worker */
static void test_tcp_echo_serves_many_clients_on_one_worker(void)
{
    begin(SAFETY_MS);
    int fds = open_fds();
    atomic_store(&echoed, 0);
    CU_ASSERT_FATAL(cd_io_listen(&listener, "listener", 0) == 0);
    CU_ASSERT(cd_io_port(listener) > 0);
    CU_ASSERT_FATAL(cd_exec_create(&ex, 1) == 0);
    cd_exec_spawn(ex, "acceptor", acceptor, NULL);
    for (int i = 0; i < CLIENTS; i++)
        cd_exec_spawn(ex, "client", client, (void *)(intptr_t)i);
    ASSERT_INT_EQ(cd_exec_run(ex), 0);
    ASSERT_INT_EQ(atomic_load(&echoed), CLIENTS);
    cd_io_close(listener);
    cd_exec_destroy(ex);
    ASSERT_INT_EQ(open_fds(), fds);
    end();
}

/* A plain thread is a client too: it waits through the one wait
 * protocol, not on a worker. */
static void thread_client(void *arg)
{
    client(arg);
}

/* test: a plain thread is a client of a task server */
static void test_a_plain_thread_is_a_client_of_a_task_server(void)
{
    cd_thread_t th;
    begin(SAFETY_MS);
    atomic_store(&echoed, 0);
    CU_ASSERT_FATAL(cd_io_listen(&listener, "listener", 0) == 0);
    CU_ASSERT_FATAL(cd_exec_create(&ex, 1) == 0);
    cd_exec_spawn(ex, "acceptor", acceptor, NULL);
    for (int i = 1; i < CLIENTS; i++)
        cd_exec_spawn(ex, "client", client, (void *)(intptr_t)i);
    CU_ASSERT_FATAL(cd_thread_spawn(&th, "thread-client", thread_client,
                                    (void *)(intptr_t)0) == 0);
    ASSERT_INT_EQ(cd_exec_run(ex), 0);
    cd_thread_join(&th);
    ASSERT_INT_EQ(atomic_load(&echoed), CLIENTS);
    cd_io_close(listener);
    cd_exec_destroy(ex);
    end();
}

/* ====== a full send buffer parks the writer; the view shows it blocked ==== */

#define BIG (1 << 20)

static atomic_int ticks, saw_blocked;
static atomic_int writer_done;

static void flood(void *arg)
{
    (void)arg;
    static char big[BIG];
    memset(big, 'x', sizeof big);
    ssize_t n = cd_io_write(end_b, big, sizeof big);
    atomic_store(&writer_done, n == BIG);
}

/* Runs on the same worker while the writer is parked: the loop is free. */
static void ticker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
        cd_await_latency("tick", 1000);
        atomic_fetch_add(&ticks, 1);
    }
    if (atomic_load(&cd_reg_object(end_b->id)->io_wblocked) == 1)
        atomic_store(&saw_blocked, 1);
    /* Now read it all: the writer can finish. */
    static char sink[65536];
    size_t have = 0;
    while (have < BIG) {
        ssize_t r = cd_io_read(end_a, sink, sizeof sink);
        if (r <= 0)
            break;
        have += (size_t)r;
    }
}

/* test: a full send buffer parks the writer, not the loop */
static void test_full_send_buffer_parks_the_writer_not_the_loop(void)
{
    cd_exec_t *e;
    begin(SAFETY_MS);
    atomic_store(&ticks, 0);
    atomic_store(&saw_blocked, 0);
    atomic_store(&writer_done, 0);
    cd_reg_set_trace(1);
    CU_ASSERT_FATAL(cd_io_pair(&end_a, "a", &end_b, "b") == 0);
    CU_ASSERT_FATAL(cd_io_set_buffers(end_b, 4096, 0) == 0);
    CU_ASSERT_FATAL(cd_exec_create(&e, 1) == 0);
    cd_exec_spawn(e, "flood", flood, NULL);
    cd_exec_spawn(e, "ticker", ticker, NULL);
    ASSERT_INT_EQ(cd_exec_run(e), 0);
    ASSERT_INT_EQ(atomic_load(&ticks), 20);
    ASSERT_INT_EQ(atomic_load(&saw_blocked), 1);
    ASSERT_INT_EQ(atomic_load(&writer_done), 1);
    ASSERT_INT_EQ(atomic_load(&cd_reg_object(end_b->id)->io_wblocked), 0);
    /* The trace has the write of the whole megabyte, on b. */
    CU_ASSERT(traced(CD_OP_WRITE, end_b->id, BIG));
    CU_ASSERT_STRING_EQUAL(cd_op_name(CD_OP_WRITE), "write");
    CU_ASSERT_STRING_EQUAL(cd_op_name(CD_OP_ACCEPT), "accept");
    cd_io_close(end_a);
    cd_io_close(end_b);
    cd_exec_destroy(e);
    end();
}

/* ============ the run's abort ends a task that awaits I/O for ever ======= */

static void reads_for_ever(void *arg)
{
    (void)arg;
    char c;
    cd_io_read(end_a, &c, 1); /* nobody ever writes */
    say("not reached");
}

/* test: the run's abort ends a task awaiting I/O */
static void test_abort_ends_a_task_awaiting_io(void)
{
    cd_exec_t *e;
    begin(300);
    CU_ASSERT_FATAL(cd_io_pair(&end_a, "a", &end_b, "b") == 0);
    CU_ASSERT_FATAL(cd_exec_create(&e, 1) == 0);
    int id = cd_exec_spawn(e, "reads-for-ever", reads_for_ever, NULL);
    ASSERT_INT_EQ(cd_exec_run(e), 1);
    CU_ASSERT_STRING_EQUAL(logbuf, "");
    cd_snapshot_t *s = snap();
    cd_reg_snapshot(s);
    ASSERT_INT_EQ(s->threads[id - 1].state, CD_T_ABORTED);
    ASSERT_INT_EQ(s->threads[id - 1].waiting_on, 0);
    cd_io_close(end_a);
    cd_io_close(end_b);
    cd_exec_destroy(e);
    end();
}

/* ============== controlled scheduler: readiness is a decision ============= */

#define ROUNDS 5

static void ping(void *arg)
{
    (void)arg;
    char c = 'p';
    for (int i = 0; i < ROUNDS; i++) {
        cd_io_write(end_a, &c, 1);
        if (cd_io_read(end_a, &c, 1) != 1)
            return;
        say("ping");
    }
}

static void pong(void *arg)
{
    (void)arg;
    char c;
    for (int i = 0; i < ROUNDS; i++) {
        if (cd_io_read(end_b, &c, 1) != 1)
            return;
        say("pong");
        cd_io_write(end_b, &c, 1);
    }
}

/* One controlled run of ping-pong over a pair on two workers; returns
 * its schedule. */
static void controlled_run(uint64_t seed, char *sched, size_t size)
{
    cd_exec_t *e;
    cd_sched_cfg_t cfg = { .strategy = CD_SCHED_RANDOM, .seed = seed };
    cd_reg_reset();
    logbuf[0] = '\0';
    CU_ASSERT_FATAL(cd_sched_begin(&cfg) == 0);
    CU_ASSERT_FATAL(cd_io_pair(&end_a, "a", &end_b, "b") == 0);
    CU_ASSERT_FATAL(cd_exec_create(&e, 2) == 0);
    cd_exec_spawn_on(e, 0, "ping", ping, NULL);
    cd_exec_spawn_on(e, 1, "pong", pong, NULL);
    ASSERT_INT_EQ(cd_exec_run(e), 0);
    cd_sched_end();
    const cd_sched_decision_t *d;
    int n = cd_sched_decisions(&d);
    CU_ASSERT(n > 0);
    cd_sched_format_schedule(d, n, sched, size);
    cd_io_close(end_a);
    cd_io_close(end_b);
    cd_exec_destroy(e);
}

/* test: controlled runs of socket I/O repeat */
static void test_controlled_runs_of_socket_io_repeat(void)
{
    static char s1[8192], s2[8192], s3[8192], log1[1024];
    controlled_run(7, s1, sizeof s1);
    snprintf(log1, sizeof log1, "%s", logbuf);
    controlled_run(7, s2, sizeof s2);
    CU_ASSERT_STRING_EQUAL(s1, s2);         /* same seed, same schedule */
    CU_ASSERT_STRING_EQUAL(logbuf, log1);
    CU_ASSERT_STRING_EQUAL(logbuf, "pong ping pong ping pong ping pong ping pong ping ");
    controlled_run(8, s3, sizeof s3);
    CU_ASSERT_STRING_EQUAL(logbuf, log1);   /* the protocol orders what it must */
}

/* ============ controlled runs: the network is the run's, in memory ======== */

static char big[1 << 16];

/* A controlled run's listener, and a client and server end connected to
 * it (the client's receive buffer rcvbuf, 0: the default). */
static cd_conn_t *sim_listener, *sim_client, *sim_server;

/* (After begin(), which reset the registry before its watchdog began.) */
static void sim_connect(int rcvbuf)
{
    cd_sched_cfg_t cfg = { .strategy = CD_SCHED_RANDOM, .seed = 1 };
    CU_ASSERT_FATAL(cd_sched_begin(&cfg) == 0);
    CU_ASSERT_FATAL(cd_io_listen(&sim_listener, "listener", 0) == 0);
    ASSERT_INT_EQ(sim_listener->fd, -1); /* no socket */
    int port = cd_io_port(sim_listener);
    ASSERT_INT_EQ(port, CD_SIMNET_PORT_BASE + sim_listener->id);
    CU_ASSERT_FATAL(cd_io_connect_rcvbuf(&sim_client, "client", port,
                                         rcvbuf) == 0);
    CU_ASSERT_FATAL(cd_io_accept(sim_listener, &sim_server, "server") == 0);
    ASSERT_INT_EQ(sim_client->fd, -1);
    ASSERT_INT_EQ(sim_server->fd, -1);
}

static void sim_close(void)
{
    cd_io_close(sim_client);
    cd_io_close(sim_server);
    cd_io_close(sim_listener);
    cd_sched_end();
}

/* test: in a controlled run a stream holds what Linux's buffers would */
static void test_controlled_stream_holds_what_linux_buffers_would(void)
{
    begin(SAFETY_MS);
    sim_connect(1); /* the smallest receive buffer, before the handshake */
    CU_ASSERT_FATAL(cd_io_set_buffers(sim_server, 1, 0) == 0);
    /* The kernel's floors: 4608 bytes to send, 2304 to receive. */
    ASSERT_INT_EQ(cd_io_try_write(sim_server, big, sizeof big), 4608 + 2304);
    ASSERT_INT_EQ(cd_io_try_write(sim_server, big, 1), 0); /* full */
    cd_obj_rec_t *r = cd_reg_object(sim_server->id);
    ASSERT_INT_EQ(atomic_load(&r->io_unsent), 4608);
    ASSERT_INT_EQ(atomic_load(&r->io_written), 4608 + 2304);
    /* Reading makes room for as much, not more. */
    ASSERT_INT_EQ(cd_io_read(sim_client, big, 1000), 1000);
    ASSERT_INT_EQ(cd_io_try_write(sim_server, big, sizeof big), 1000);
    /* The other way, the defaults: 16 KiB to send, 128 KiB to receive;
     * a value set is doubled, as the kernel does. */
    ASSERT_INT_EQ(cd_io_try_write(sim_client, big, sizeof big), sizeof big);
    ASSERT_INT_EQ(cd_io_try_write(sim_client, big, sizeof big), sizeof big);
    ASSERT_INT_EQ(cd_io_try_write(sim_client, big, sizeof big),
                  16384 + 131072 - 2 * (int)sizeof big);
    CU_ASSERT_FATAL(cd_io_set_buffers(sim_client, 20000, 0) == 0);
    ASSERT_INT_EQ(cd_io_try_write(sim_client, big, sizeof big),
                  40000 - 16384);
    sim_close();
    end();
}

/* test: in a controlled run, shutdown and hangup end reads and writes as on sockets */
static void test_controlled_shutdown_and_hangup_end_like_sockets(void)
{
    char buf[8];
    begin(SAFETY_MS);
    sim_connect(0);
    /* Shut: the peer reads what was sent, then the end of the stream. */
    ASSERT_INT_EQ(cd_io_write(sim_client, "hi", 2), 2);
    ASSERT_INT_EQ(cd_io_shutdown(sim_client), 0);
    ASSERT_INT_EQ(cd_io_read(sim_server, buf, sizeof buf), 2);
    ASSERT_INT_EQ(cd_io_read(sim_server, buf, sizeof buf), 0);
    ASSERT_INT_EQ(cd_io_try_write(sim_client, "x", 1), -EPIPE);
    /* Hung up: its own reads end, the peer's writes fail; what was
     * waiting for it is dropped. */
    ASSERT_INT_EQ(cd_io_try_write(sim_server, "abc", 3), 3);
    ASSERT_INT_EQ(cd_io_hangup(sim_client), 0);
    ASSERT_INT_EQ(cd_io_read(sim_client, buf, sizeof buf), 0);
    ASSERT_INT_EQ(cd_io_try_write(sim_server, "x", 1), -EPIPE);
    ASSERT_INT_EQ(cd_io_discard(sim_client, 100), 0);
    sim_close();
    end();
}

/* test: in a controlled run only the run's own listeners answer */
static void test_controlled_run_only_its_own_listeners_answer(void)
{
    cd_conn_t *c = NULL;
    begin(SAFETY_MS);
    sim_connect(0);
    int port = cd_io_port(sim_listener);
    /* A port nobody in the run listens on: refused, without the kernel
     * (which might have a server there). */
    ASSERT_INT_EQ(cd_io_connect(&c, "stray", port + 1), -ECONNREFUSED);
    CU_ASSERT_PTR_NULL(c);
    /* A closed listener: refused, and a connection still in its backlog
     * reads the end of the stream. */
    cd_conn_t *waiting;
    CU_ASSERT_FATAL(cd_io_connect(&waiting, "waiting", port) == 0);
    cd_io_close(sim_listener);
    sim_listener = NULL;
    char buf[4];
    ASSERT_INT_EQ(cd_io_read(waiting, buf, sizeof buf), 0);
    ASSERT_INT_EQ(cd_io_connect(&c, "late", port), -ECONNREFUSED);
    cd_io_close(waiting);
    sim_close();
    /* Outside a controlled run a listener is a socket again. */
    cd_conn_t *l;
    CU_ASSERT_FATAL(cd_io_listen(&l, "listener", 0) == 0);
    CU_ASSERT(l->fd >= 0);
    CU_ASSERT(cd_io_port(l) > 0);
    cd_io_close(l);
    end();
}
