/*
 * test_chat.c - the chat room that one slow reader froze.
 *
 * Broken must stall the room on every run, at the same message: the
 * fast clients get their EARLY lines and the first one after the slow
 * client joined, and the referee saw the room lock held by a write
 * awaiting the slow client. The window is not timing: the slow client
 * reads nothing until the fast clients have everything, and one message
 * is more than its path holds. The outbox fix must deliver every message
 * on one worker and on three, dropping the same number for the slow
 * client under the same schedule; its disconnect policy hangs up on it
 * after KICK_AFTER drops. No socket and no task is left behind by any.
 *
 * --serve is driven from outside, as a learner's nc would: the server is
 * a child process (`concdemo chat --serve 0`, its port read from what it
 * prints, killed if it outlives its limit) and the tests are socket
 * clients; and from inside, where a client thread serves bad input and
 * then ends the run, to count descriptors and tasks afterwards.
 */
#define _GNU_SOURCE /* memmem, usleep */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/cd_registry.h"
#include "harness.h"

/* suite: chat */

#define LIMIT_MS 20000
#define RUNS 5
#define FAST 4
#define MSGS 40
#define EARLY 3        /* lines per fast client before the slow one joins */
#define KICK_AFTER 16  /* drops before --slow-policy=disconnect hangs up */
/* What the fast clients get before the room stalls: every early line,
 * and the first after the slow client joined (it is the last member). */
#define STALL_AT (FAST * (FAST * EARLY + 1))
#define DROPPED_RANDOM_1 83 /* outbox, --sched=random:1 */

static cmd_out_t out;

static void room_stalled(const child_run_t *c)
{
    ASSERT_INT_EQ(fig(c, "expected"), FAST * FAST * MSGS);
    ASSERT_INT_EQ(fig(c, "delivered"), STALL_AT);
    ASSERT_INT_EQ(fig(c, "stalled"), 1);
    CU_ASSERT(fig(c, "port") > 0);
    ASSERT_STR_HAS(c->r.verdict.observed, "the room stalled");
}

/* test: broken stalls the room, every run */
static void broken_stalls_the_room_every_run(void)
{
    expect_every_free_run("chat", "broken", RUNS, CD_VIOLATED, room_stalled,
                          LIMIT_MS);
}

static void everything_delivered(const child_run_t *c)
{
    ASSERT_INT_EQ(fig(c, "delivered"), FAST * FAST * MSGS);
    ASSERT_INT_EQ(fig(c, "stalled"), 0);
    ASSERT_CLEAN_EXIT(*c);
}

/* test: outbox delivers every message, every run */
static void outbox_delivers_everything_every_run(void)
{
    expect_every_free_run("chat", "outbox", RUNS, CD_HELD,
                          everything_delivered, LIMIT_MS);
}

/* test: outbox holds on three workers */
static void outbox_holds_on_three_workers(void)
{
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_workers_forked("chat", "outbox", 3, 1000, LIMIT_MS);
        CU_ASSERT_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
        ASSERT_INT_EQ(fig(&c, "delivered"), FAST * FAST * MSGS);
    }
}

/* test: broken stalls on three workers too */
static void broken_stalls_on_three_workers_too(void)
{
    child_run_t c = run_workers_forked("chat", "broken", 3, 1000, LIMIT_MS);
    CU_ASSERT_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, CD_VIOLATED);
    ASSERT_INT_EQ(fig(&c, "stalled"), 1);
    ASSERT_INT_EQ(fig(&c, "delivered"), STALL_AT);
}

/* The worksheet's figures: a controlled run prints the same every time,
 * whatever the kernel's acknowledgements did meanwhile. */
/* test: controlled runs print the same figures */
static void controlled_runs_print_the_same_figures(void)
{
    for (int i = 0; i < 3; i++) {
        child_run_t b = run_seeded_forked("chat", "broken", CD_SCHED_RANDOM,
                                          1, LIMIT_MS);
        CU_ASSERT_FATAL(b.finished);
        ASSERT_INT_EQ(b.r.verdict.status, CD_VIOLATED);
        ASSERT_INT_EQ(fig(&b, "delivered"), STALL_AT);
        ASSERT_STR_HAS(b.r.verdict.observed, "the fast clients got 52 of "
                       "640 messages (13 lines)");
        child_run_t f = run_seeded_forked("chat", "outbox", CD_SCHED_RANDOM,
                                          1, LIMIT_MS);
        CU_ASSERT_FATAL(f.finished);
        ASSERT_INT_EQ(f.r.verdict.status, CD_HELD);
        ASSERT_INT_EQ(fig(&f, "delivered"), FAST * FAST * MSGS);
        ASSERT_INT_EQ(fig(&f, "slow_dropped"), DROPPED_RANDOM_1);
        ASSERT_INT_EQ(fig(&f, "slow_disconnected"), 0);
    }
}

static child_run_t run_disconnect(int workers)
{
    cd_run_opts_t o = scenario_opts("chat", 0, workers, 1000, LIMIT_MS);
    o.params.slow_policy = CD_SLOW_DISCONNECT;
    return run_forked_opts("chat", "outbox", &o, LIMIT_MS);
}

/* The policy that hangs up: after KICK_AFTER drops, not one more, and the
 * fast clients still get everything. With the drop policy the same run
 * never hangs up (above: slow_disconnected 0). */
/* test: disconnect policy hangs up after 16 drops */
static void disconnect_policy_hangs_up_after_n_drops(void)
{
    for (int workers = 1; workers <= 3; workers += 2) {
        child_run_t c = run_disconnect(workers);
        CU_ASSERT_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
        ASSERT_INT_EQ(fig(&c, "delivered"), FAST * FAST * MSGS);
        ASSERT_INT_EQ(fig(&c, "slow_disconnected"), 1);
        ASSERT_INT_EQ(fig(&c, "slow_dropped"), KICK_AFTER);
        ASSERT_STR_HAS(c.r.verdict.observed, "hung up on after its outbox "
                       "dropped 16");
        ASSERT_CLEAN_EXIT(c);
    }
}

/* Runs a variant in this (forked) process: afterwards the same
 * descriptors are open as before, and every task has ended. */
static int leaves_nothing_behind_with(int variant, int policy)
{
    const cd_scenario_t *s = cd_scenario_find("chat");
    cd_params_t p = s->defaults;
    cd_verdict_t v;
    memset(&v, 0, sizeof v);
    p.slow_policy = policy;
    cd_reg_reset();
    int before = open_fds();
    s->run(&p, variant, &v);
    EXPECT_EQ(open_fds(), before);
    EXPECT_EQ(live_tasks(), 0);
    EXPECT_EQ(v.status, variant == 0 ? CD_VIOLATED : CD_HELD);
    return 0;
}

static int leaves_nothing_behind(int variant)
{
    return leaves_nothing_behind_with(variant, CD_SLOW_DROP);
}

/* test: disconnect leaves no socket or task behind */
CHILD_TEST(disconnect_leaves_no_socket_or_task_behind)
{
    return leaves_nothing_behind_with(1, CD_SLOW_DISCONNECT);
}

/* test: broken leaves no socket or task behind */
CHILD_TEST(broken_leaves_no_socket_or_task_behind)
{
    return leaves_nothing_behind(0);
}

/* test: outbox leaves no socket or task behind */
CHILD_TEST(outbox_leaves_no_socket_or_task_behind)
{
    return leaves_nothing_behind(1);
}

/* ============================ --serve, clients =========================== */

#define CLIENT_WAIT_MS 5000 /* how long an answer may take to come */
/* How long a server may take to say its port, or to end after a signal:
 * a hang bound, not an answer's time (the TSan build, on a loaded 2-CPU
 * machine, once took over 5 s to end after its SIGTERM). */
#define SERVER_WAIT_MS 30000

/* A socket client with what it read and has not matched yet. */
typedef struct client {
    int fd;
    size_t have;
    char buf[1 << 17];
} client_t;

/* A client of 127.0.0.1:port; rcvbuf > 0: its receive buffer set that
 * small before the handshake (a sleeper whose path fills soon). */
static client_t *client_new_rcvbuf(int port, int rcvbuf)
{
    client_t *c = calloc(1, sizeof *c);
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rcvbuf > 0)
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    /* Writes never wait long: a stalled server must not hang the test. */
    struct timeval tv = { .tv_sec = 2 };
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(c->fd);
        free(c);
        return NULL;
    }
    return c;
}

static client_t *client_new(int port)
{
    return client_new_rcvbuf(port, 0);
}

static void client_free(client_t *c)
{
    if (c) {
        close(c->fd);
        free(c);
    }
}

static int client_send(client_t *c, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int client_say(client_t *c, const char *line)
{
    return client_send(c, line, strlen(line));
}

/* Reads for up to ms: 1 when data came, 0 when nothing did, -1 at the
 * end of the stream (or an error). Keeps the last half of the buffer
 * when it is full. */
static int client_read(client_t *c, int ms)
{
    struct pollfd p = { .fd = c->fd, .events = POLLIN };
    if (poll(&p, 1, ms) <= 0)
        return 0;
    if (c->have + 1 >= sizeof c->buf) {
        size_t keep = sizeof c->buf / 2;
        memmove(c->buf, c->buf + c->have - keep, keep);
        c->have = keep;
    }
    ssize_t k = recv(c->fd, c->buf + c->have, sizeof c->buf - 1 - c->have, 0);
    if (k <= 0)
        return -1;
    c->have += (size_t)k;
    c->buf[c->have] = '\0';
    return 1;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits up to ms for text, and forgets what came up to its end: 1 when
 * it came, 0 when not. */
static int client_wait(client_t *c, const char *text, int ms)
{
    int64_t end = now_ms() + ms;
    for (;;) {
        c->buf[c->have] = '\0';
        char *at = memmem(c->buf, c->have, text, strlen(text));
        if (at) {
            size_t used = (size_t)(at - c->buf) + strlen(text);
            memmove(c->buf, c->buf + used, c->have - used);
            c->have -= used;
            return 1;
        }
        int64_t left = end - now_ms();
        if (left <= 0 || client_read(c, (int)left) < 0)
            return 0;
    }
}

static int client_expect(client_t *c, const char *text)
{
    return client_wait(c, text, CLIENT_WAIT_MS);
}

/* 1 when the server ends the stream within ms (what came before is
 * dropped). */
static int client_sees_end(client_t *c, int ms)
{
    int64_t end = now_ms() + ms;
    while (now_ms() < end) {
        int rc = client_read(c, 100);
        if (rc < 0)
            return 1;
        if (rc > 0)
            c->have = 0;
    }
    return 0;
}

/* A client named name in room lobby (the greeting and answers read). */
static client_t *client_in_lobby_rcvbuf(int port, const char *name,
                                        int rcvbuf)
{
    char line[64];
    client_t *c = client_new_rcvbuf(port, rcvbuf);
    if (!c || !client_expect(c, "*** concdemo chat")) {
        client_free(c);
        return NULL;
    }
    snprintf(line, sizeof line, "/name %s\n/join lobby\n", name);
    client_say(c, line);
    snprintf(line, sizeof line, "*** you are in lobby as %s", name);
    if (!client_expect(c, line)) {
        client_free(c);
        return NULL;
    }
    return c;
}

static client_t *client_in_lobby(int port, const char *name)
{
    return client_in_lobby_rcvbuf(port, name, 0);
}

/* ========================= --serve, the server process ==================== */

#define SERVER_LIMIT_S "20000" /* its --timeout: it ends itself by then */

typedef struct server {
    pid_t pid;
    int out;                    /* its stdout */
    int port;
    char text[16384];           /* what it printed */
    size_t have;
} server_t;

static void server_read(server_t *s, int ms)
{
    struct pollfd p = { .fd = s->out, .events = POLLIN };
    if (poll(&p, 1, ms) <= 0 || s->have + 1 >= sizeof s->text)
        return;
    ssize_t k = read(s->out, s->text + s->have, sizeof s->text - 1 - s->have);
    if (k > 0)
        s->have += (size_t)k;
    s->text[s->have] = '\0';
}

static int server_stop(server_t *s, int sig);

/* Starts `concdemo chat --serve 0 ARGS` and reads its port from the line
 * that says how to connect. 0, or -1 (the test failed) if it did not say
 * within SERVER_WAIT_MS: then the server is killed and reaped here. */
static int server_start(server_t *s, const char *fix, const char *policy)
{
    int fds[2];
    memset(s, 0, sizeof *s);
    CU_ASSERT_FATAL(pipe(fds) == 0);
    s->pid = fork();
    if (s->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        const char *argv[10] = { concdemo_bin(), "chat", "--serve", "0",
                                "--timeout", SERVER_LIMIT_S };
        int n = 6;
        if (fix)
            argv[n++] = fix;
        if (policy)
            argv[n++] = policy;
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    CU_ASSERT_FATAL(s->pid > 0); /* server_stop must never kill(-1) */
    close(fds[1]);
    s->out = fds[0];
    int64_t end = now_ms() + SERVER_WAIT_MS;
    const char *at;
    while (!(at = strstr(s->text, "nc 127.0.0.1 ")) && now_ms() < end)
        server_read(s, 100);
    if (at)
        s->port = atoi(at + strlen("nc 127.0.0.1 "));
    CU_ASSERT(s->port > 0);
    if (s->port > 0)
        return 0;
    server_stop(s, SIGKILL);
    return -1;
}

/* Descriptors the server has open (-1: it is gone), /proc's left out. */
static int server_fds(const server_t *s)
{
    return fds_open_in(s->pid);
}

/* Waits up to ms for the server to hold want descriptors: the last count. */
static int server_fds_settle(const server_t *s, int want, int ms)
{
    int64_t end = now_ms() + ms;
    int n;
    while ((n = server_fds(s)) != want && now_ms() < end)
        usleep(20000);
    return n;
}

/* Sends sig and waits for the server to end: its exit status (128 + a
 * signal that killed it), or -1 when it had to be killed. */
static int server_stop(server_t *s, int sig)
{
    int status = 0;
    kill(s->pid, sig);
    int64_t end = now_ms() + SERVER_WAIT_MS;
    while (waitpid(s->pid, &status, WNOHANG) == 0) {
        if (now_ms() > end) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            close(s->out);
            return -1;
        }
        server_read(s, 20);
    }
    for (int i = 0; i < 50 && s->have + 1 < sizeof s->text; i++)
        server_read(s, 0);
    close(s->out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ============================ --serve, the tests ========================== */

/* test: --serve chats and ends on SIGTERM */
static void serve_chats_and_ends_on_sigterm(void)
{
    server_t s;
    if (server_start(&s, "--fixed=outbox", NULL) != 0)
        return;
    int idle_fds = server_fds(&s);
    client_t *ada = client_in_lobby(s.port, "ada");
    client_t *bob = client_in_lobby(s.port, "bob");
    CU_ASSERT_FATAL(ada && bob);
    client_say(ada, "hello bob\n");
    CU_ASSERT(client_expect(bob, "ada: hello bob\n"));
    client_say(bob, "/join kitchen\n");
    CU_ASSERT(client_expect(bob, "*** you are in kitchen as bob"));
    client_say(ada, "/name ada lovelace\n");
    CU_ASSERT(client_expect(ada, "*** a name is 1 to 31 letters"));
    client_say(ada, "/frobnicate\n");
    CU_ASSERT(client_expect(ada, "*** unknown command"));
    client_say(ada, "/quit\n");
    CU_ASSERT(client_expect(ada, "*** bye"));
    CU_ASSERT(client_sees_end(ada, CLIENT_WAIT_MS));
    client_free(ada);
    client_free(bob);
    /* Both gone: the server holds what it held before they came. */
    ASSERT_INT_EQ(server_fds_settle(&s, idle_fds, CLIENT_WAIT_MS), idle_fds);
    ASSERT_INT_EQ(server_stop(&s, SIGTERM), 128 + SIGTERM);
    ASSERT_STR_HAS(s.text, "listening on 127.0.0.1:");
    ASSERT_STR_HAS(s.text, "served 2 connections");
}

/* test: --serve answers bad input and serves the rest */
static void serve_answers_bad_input_and_serves_the_rest(void)
{
    for (int variant = 0; variant < 2; variant++) {
        server_t s;
        if (server_start(&s, variant ? "--fixed=outbox" : NULL, NULL) != 0)
            return;
        int idle_fds = server_fds(&s);
        /* One connects and says nothing: it is greeted, and waits alone. */
        client_t *mute = client_new(s.port);
        CU_ASSERT_FATAL(mute != NULL);
        CU_ASSERT(client_expect(mute, "*** concdemo chat"));
        client_t *ada = client_in_lobby(s.port, "ada");
        client_t *bob = client_in_lobby(s.port, "bob");
        CU_ASSERT_FATAL(ada && bob);
        /* Not UTF-8 (a stray byte, an overlong '/', a surrogate): an answer,
         * and the connection goes on. */
        const char *bad[] = { "caf\xe9\n", "\xc0\xaf\n", "\xed\xa0\x80\n" };
        for (int i = 0; i < 3; i++) {
            client_say(ada, bad[i]);
            CU_ASSERT(client_expect(ada, "*** that line is not UTF-8"));
        }
        client_say(ada, "caf\xc3\xa9 \xf0\x9f\x98\x80\n");
        CU_ASSERT(client_expect(bob, "ada: caf\xc3\xa9 \xf0\x9f\x98\x80\n"));
        /* A line longer than 64 KiB: an answer, then the end. */
        client_t *big = client_in_lobby(s.port, "big");
        CU_ASSERT_FATAL(big != NULL);
        size_t n = 65536 + 100;
        char *line = malloc(n);
        memset(line, 'x', n);
        client_send(big, line, n);
        free(line);
        CU_ASSERT(client_expect(big, "*** a line longer than 65536 bytes: "
                                     "disconnected"));
        CU_ASSERT(client_sees_end(big, CLIENT_WAIT_MS));
        client_free(big);
        /* Meanwhile the others chat as before. */
        client_say(bob, "still here\n");
        CU_ASSERT(client_expect(ada, "bob: still here\n"));
        client_free(mute);
        client_free(ada);
        client_free(bob);
        ASSERT_INT_EQ(server_fds_settle(&s, idle_fds, CLIENT_WAIT_MS),
                      idle_fds);
        ASSERT_INT_EQ(server_stop(&s, SIGINT), 128 + SIGINT);
        ASSERT_STR_HAS(s.text, "lines too long: 1, not UTF-8: 3");
    }
}

#define CROWD 200
#define MAX_CONNS 64 /* the server's limit at once */

/* test: --serve takes a crowd of 200 */
static void serve_takes_a_crowd_of_200(void)
{
    server_t s;
    if (server_start(&s, "--fixed=outbox", NULL) != 0)
        return;
    int idle_fds = server_fds(&s);
    static client_t *crowd[CROWD];
    int greeted = 0, full = 0;
    for (int i = 0; i < CROWD; i++)
        crowd[i] = client_new(s.port);
    for (int i = 0; i < CROWD; i++) {
        CU_ASSERT_FATAL(crowd[i] != NULL);
        client_t *c = crowd[i];
        int64_t end = now_ms() + CLIENT_WAIT_MS;
        while (!strstr(c->buf, "\n") && now_ms() < end)
            if (client_read(c, 100) < 0)
                break;
        greeted += strstr(c->buf, "*** concdemo chat") != NULL;
        full += strstr(c->buf, "*** the server is full") != NULL;
    }
    ASSERT_INT_EQ(greeted, MAX_CONNS);
    ASSERT_INT_EQ(full, CROWD - MAX_CONNS);
    /* The ones in can still talk, while the crowd stays connected. */
    client_say(crowd[0], "/join lobby\n");
    client_say(crowd[1], "/join lobby\n");
    CU_ASSERT(client_expect(crowd[1], "*** you are in lobby"));
    client_say(crowd[0], "hi\n");
    CU_ASSERT(client_expect(crowd[1], ": hi\n"));
    for (int i = 0; i < CROWD; i++)
        client_free(crowd[i]);
    ASSERT_INT_EQ(server_fds_settle(&s, idle_fds, CLIENT_WAIT_MS), idle_fds);
    /* Afterwards a newcomer is served. */
    client_t *late = client_in_lobby(s.port, "late");
    CU_ASSERT(late != NULL);
    client_free(late);
    ASSERT_INT_EQ(server_stop(&s, SIGTERM), 128 + SIGTERM);
    ASSERT_STR_HAS(s.text, "136 turned away");
}

/* The registry keeps every task and object of a run, so a server runs
 * out of records after some 250 connections in all: from then on each
 * client is told so in one line (before, it was hung up on without a
 * word), and the server still ends cleanly and says why. */
/* test: --serve says when its records are used up */
static void serve_says_when_its_records_are_used_up(void)
{
    server_t s;
    if (server_start(&s, "--fixed=outbox", NULL) != 0)
        return;
    int refused_at = 0;
    for (int i = 1; i <= 400 && !refused_at; i++) {
        client_t *c = client_new(s.port);
        CU_ASSERT_FATAL(c != NULL);
        if (client_wait(c, "\n", CLIENT_WAIT_MS) &&
            strstr(c->buf, "restart it"))
            refused_at = i;
        else
            client_say(c, "/quit\n");
        client_free(c);
    }
    CU_ASSERT(refused_at > 200 && refused_at < 300);
    client_t *late = client_new(s.port);
    CU_ASSERT_FATAL(late != NULL);
    CU_ASSERT(client_wait(late, "one run can keep", CLIENT_WAIT_MS));
    client_free(late);
    ASSERT_INT_EQ(server_stop(&s, SIGTERM), 128 + SIGTERM);
    ASSERT_STR_HAS(s.text, "the run's records were used up");
}

/* The lesson, live: a client that stops reading (nc after Ctrl-Z) while
 * another talks. Broken: the room stalls - a third one stops hearing,
 * and a /join to the room gets no answer. Outbox: neither. Disconnect:
 * the sleeper is hung up on. */
static void serve_slow_client(const char *fix, const char *policy,
                              int stalls, int kicked)
{
    server_t s;
    if (server_start(&s, fix, policy) != 0)
        return;
    client_t *sleeper = client_in_lobby_rcvbuf(s.port, "sleeper", 4096);
    client_t *ada = client_in_lobby(s.port, "ada");
    client_t *bob = client_in_lobby(s.port, "bob");
    CU_ASSERT_FATAL(sleeper && ada && bob);
    /* The sleeper reads nothing more; ada says 400 lines of 1 KiB: far
     * more than its path holds (its receive buffer is small, and so is
     * the server's send buffer). */
    char line[1024];
    memset(line, 'z', sizeof line);
    line[sizeof line - 1] = '\n';
    /* ada waits to hear each line back before the next (as a person
     * would; a burst of more than an outbox holds is dropped for everyone)
     * and bob keeps reading, so that only the sleeper falls behind. A
     * stalled room sends nothing back: ada stops. */
    for (int said = 0; said < 400; said++) {
        if (client_send(ada, line, sizeof line) != 0 ||
            !client_wait(ada, "ada: zz", 1000))
            break;
        while (client_read(bob, 0) > 0)
            ;
    }
    memcpy(line, "last line\n", 11);
    client_say(ada, line);
    int heard = client_wait(bob, "ada: last line\n", stalls ? 1500 : 10000);
    ASSERT_INT_EQ(heard, !stalls);
    client_t *cat = client_new(s.port);
    CU_ASSERT_FATAL(cat != NULL);
    client_say(cat, "/join lobby\n");
    ASSERT_INT_EQ(client_wait(cat, "*** you are in lobby", stalls ? 1000
                                                                  : 5000),
                  !stalls);
    if (!stalls)
        ASSERT_INT_EQ(client_sees_end(sleeper, 2000), kicked);
    client_free(cat);
    client_free(sleeper);
    client_free(ada);
    client_free(bob);
    /* Ends cleanly even with the room stuck. */
    ASSERT_INT_EQ(server_stop(&s, SIGTERM), 128 + SIGTERM);
}

/* test: --serve broken: a sleeping client stalls the room */
static void serve_broken_stalls_the_room(void)
{
    serve_slow_client(NULL, NULL, 1, 0);
}

/* test: --serve outbox: the room goes on */
static void serve_outbox_keeps_the_room_going(void)
{
    serve_slow_client("--fixed=outbox", NULL, 0, 0);
}

/* test: --serve disconnect: the sleeper is hung up on */
static void serve_disconnect_hangs_up_on_the_sleeper(void)
{
    serve_slow_client("--fixed=outbox", "--slow-policy=disconnect", 0, 1);
}

/* Inside one process: a client thread brings bad input and a sleeper,
 * then ends the run as Ctrl-C would; afterwards the same descriptors are
 * open as before and no task is alive. */
static atomic_int inner_port;

static void inner_listening(int port)
{
    atomic_store(&inner_port, port);
}

static void *inner_clients(void *arg)
{
    (void)arg;
    while (atomic_load(&inner_port) == 0)
        usleep(1000);
    int port = atomic_load(&inner_port);
    client_t *mute = client_new(port);
    client_t *sleeper = client_in_lobby(port, "sleeper");
    client_t *ada = client_in_lobby(port, "ada");
    char line[1024];
    memset(line, 'z', sizeof line);
    line[sizeof line - 1] = '\n';
    for (int i = 0; ada && i < 200; i++)
        if (client_send(ada, line, sizeof line) != 0)
            break;
    client_t *big = client_new(port);
    char *huge = calloc(1, 70000);
    if (big && huge) {
        memset(huge, 'x', 70000);
        client_send(big, huge, 70000);
        client_expect(big, "disconnected");
    }
    free(huge);
    usleep(100000);
    cd_reg_abort(CD_ABORT_USER); /* what Ctrl-C does */
    usleep(300000);
    client_free(mute);
    client_free(sleeper);
    client_free(ada);
    client_free(big);
    return NULL;
}

static int serve_leaves_nothing_behind(int variant)
{
    const cd_scenario_t *s = cd_scenario_find("chat");
    cd_params_t p = s->defaults;
    cd_verdict_t v;
    pthread_t t;
    memset(&v, 0, sizeof v);
    p.serve = 1;
    p.on_listen = inner_listening;
    atomic_store(&inner_port, 0);
    cd_reg_reset();
    int before = open_fds();
    EXPECT(pthread_create(&t, NULL, inner_clients, NULL) == 0);
    s->run(&p, variant, &v);
    pthread_join(t, NULL);
    EXPECT_EQ(open_fds(), before);
    EXPECT_EQ(live_tasks(), 0);
    EXPECT_EQ(v.status, CD_HELD);
    EXPECT_EQ(cd_verdict_get_num(&v, "connections"), 4);
    EXPECT_EQ(cd_verdict_get_num(&v, "too_long"), 1);
    return 0;
}

/* test: --serve broken leaves no socket or task behind */
CHILD_TEST(serve_broken_leaves_no_socket_or_task_behind)
{
    return serve_leaves_nothing_behind(0);
}

/* test: --serve outbox leaves no socket or task behind */
CHILD_TEST(serve_outbox_leaves_no_socket_or_task_behind)
{
    return serve_leaves_nothing_behind(1);
}

/* test: --serve refuses what it cannot do */
static void serve_refuses_what_it_cannot_do(void)
{
    static const struct {
        const char *args[4];
        const char *err_has; /* NULL: the exit code only */
    } bad[] = {
        { { "chat", "--slow-policy=disconnect" }, "add --fixed=outbox" },
        { { "race", "--serve" },
          "--serve is for a scenario with a server (chat)" },
        { { "chat", "--serve", "--sched=random:1" }, NULL },
        { { "chat", "--serve", "70000" },
          "--serve must be between 0 and 65535" },
        { { "chat", "--fixed", "--slow-policy=later" },
          "unknown policy 'later' (drop, disconnect)" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_concdemo(&out, bad[i].args, 2, NULL, bad[i].err_has, LIMIT_MS);
}

/* test: exit codes are the verdicts */
static void exit_codes_are_the_verdicts(void)
{
    const char *broken[] = { "chat", NULL };
    expect_concdemo(&out, broken, 1, "chat [broken]: VIOLATED", NULL,
                    LIMIT_MS);
    const char *fixed[] = { "chat", "--fixed=outbox", NULL };
    expect_concdemo(&out, fixed, 0, "chat [outbox]: HELD", NULL, LIMIT_MS);
}
