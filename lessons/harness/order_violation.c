/*
 * order_violation.c - the harness of the exercise order-violation (the
 * learner's part: lessons/exercises/order_violation.c, its interface:
 * order_violation.h).
 *
 * A service starting up: its request handlers take requests from the
 * start while the start-up thread connects to the database, as in the
 * demo (demos/order_violation.c). The database writes each connection it
 * makes into the run's books (cli/ledger.h), and each handler what its
 * request found - the one open connection, none, or one that is no
 * connection of the database's - by the database's own records, whatever
 * the learner's code believed; the invariant is judged from them, by this
 * program and again by the checker. Everything here but db_connect and
 * cd_exercise is static: the learner's file cannot reach it, and the
 * build refuses a learner's file that defines a name of its own beyond
 * order_violation.h.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "cd_sched.h"
#include "cd_thread.h"
#include "harness/exercise.h"
#include "harness/order_violation.h"
#include "../../cli/ledger.h"

#define CONNECT_USEC 20000         /* the handshake takes 20 ms */
#define FIRST_REQUEST_CAP_USEC 2000000 /* ...from the first request on */
#define POLL_USEC 1000
#define REQUEST_GAP_USEC 10000     /* a handler's requests 10 ms apart */
#define QUERY_USEC 1000

/* A connection. Its state is plain memory, as a real one's would be: a
 * handler that reads it unordered with the handshake that wrote it is a
 * data race ThreadSanitizer reports. */
struct conn {
    int open; /* the handshake has finished */
};

/* The database and the requests of the run in progress. */
static struct {
    conn_t *conns;        /* room for cap connections */
    int cap, per_handler;
    atomic_int made;      /* db_connect() calls */
    atomic_int arrived;   /* requests that have come in */
} db;

/* The handshake begins once the first request has come in (after 2 s at
 * most). A real service fails only when a request comes within its
 * handshake; the checker must see that happen on every run, however late
 * a busy machine starts the handlers. Relaxed: it must not order the
 * threads where the learner's code does not. Under the controlled
 * scheduler the schedule decides who comes first. */
static void wait_for_first_request(void)
{
    if (cd_sched_active())
        return;
    for (int64_t t = 0; t < FIRST_REQUEST_CAP_USEC &&
         !atomic_load_explicit(&db.arrived, memory_order_relaxed);
         t += POLL_USEC)
        cd_latency("db-connect", POLL_USEC);
}

conn_t *db_connect(void)
{
    int n = atomic_fetch_add_explicit(&db.made, 1, memory_order_relaxed);
    cd_ledger_put(CD_EFF_CONNECT, n, 0, 0, 0);
    wait_for_first_request();
    cd_latency("db-connect", CONNECT_USEC);
    /* Past the room the run has (one connection per thread): the books
     * already say "connected too often"; hand out the last one again. */
    conn_t *c = &db.conns[n < db.cap ? n : db.cap - 1];
    c->open = 1;
    return c;
}

/* What a request found in c: the database's own records say. */
static int found(const conn_t *c)
{
    uintptr_t at = (uintptr_t)c, base = (uintptr_t)db.conns;
    if (!c)
        return CD_EX_CONN_NONE;
    if (at < base || at >= base + (uintptr_t)db.cap * sizeof *c ||
        (at - base) % sizeof *c != 0)
        return CD_EX_CONN_FOREIGN;
    return c->open ? CD_EX_CONN_OPEN : CD_EX_CONN_HALF;
}

static void startup_thread(void *arg)
{
    startup(arg);
}

/* A handler: its requests, each a look-up of the connection and, when
 * there is one, a query on it. */
static void handler(void *arg, int index)
{
    service_t *s = arg;
    for (int i = 0; i < db.per_handler; i++) {
        if (i > 0)
            cd_latency("next-request", REQUEST_GAP_USEC);
        atomic_fetch_add_explicit(&db.arrived, 1, memory_order_relaxed);
        int what = found(get_conn(s));
        cd_ledger_put(CD_EFF_USE, index, i, what, 0);
        if (what == CD_EX_CONN_OPEN)
            cd_latency("query", QUERY_USEC);
        else /* in a real service: a crash, or an error page */
            cd_point("no connection");
    }
}

/* The invariant (cli/ledger.c): every request found the one open
 * connection, and the database was connected once. */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    service_t *s = NULL;
    cd_thread_t st;

    db.cap = plan->handlers + 1;
    db.per_handler = plan->per_handler;
    db.conns = calloc((size_t)db.cap, sizeof *db.conns);
    atomic_store(&db.made, 0);
    atomic_store(&db.arrived, 0);
    if (cd_ledger_begin("order-violation", p) != 0 || !db.conns ||
        !(s = service_create())) {
        cd_ledger_end_error(v, 1, "could not set up the service");
        free(db.conns);
        return;
    }
    if (cd_thread_spawn(&st, "startup", startup_thread, s) != 0) {
        cd_ledger_end_error(v, 1, "could not start start-up");
    } else {
        int rc = cd_team_run(plan->handlers, "handler", handler, s);
        cd_thread_join(&st);
        cd_ledger_end_error(v, rc < 0, "could not start %d handlers",
                            plan->handlers);
    }
    service_destroy(s);
    free(db.conns);
    db.conns = NULL;
}

EX_SCENARIO("order-violation", run,
            .defaults = { .threads = 2, .iterations = 4 },
            .min = { .threads = 1, .iterations = 1 },
            .max = { .threads = 16, .iterations = 1000 });
