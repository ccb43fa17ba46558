/*
 * publication.c - the harness of the exercise publication (the learner's
 * part: lessons/exercises/publication.c, its interface: publication.h).
 *
 * A pool warmer opens the connections one after another while request
 * handlers are already polling them. The handshake writes each record
 * (two plain fields) and the books (cli/ledger.h) keep, for every record a
 * handler used, what it held: the whole record, nothing yet (stale), half
 * of it (torn), or values the handshake never gave that connection. The
 * invariant - every record used was whole - is judged from them, by this
 * program and again by the checker.
 *
 * The handshake is not done before every handler has looked at the
 * connection meanwhile (or 20 ms have passed: a handler held up elsewhere
 * does not hold it for ever). So a flag raised before the handshake is
 * seen early in every run, free or controlled, not now and then; a flag
 * raised after it costs the handlers one more look. The records' values
 * are drawn for each run, so that only a read of the record finds them.
 * Nothing here orders the warmer and the handlers (the counts below are
 * relaxed atomics): whatever orders the record is the learner's, and
 * ThreadSanitizer judges it. Everything here but handshake() and
 * cd_exercise is static: the learner's file cannot reach it, and the build
 * refuses a learner's file that defines a name of its own beyond
 * publication.h.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "cd_common.h"
#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/exercise.h"
#include "harness/publication.h"
#include "../../cli/ledger.h"

#define HANDSHAKE_USEC 2000  /* the database's handshake: 2 ms */
#define POLL_USEC 250        /* a handler looks every 0.25 ms */
#define LOOK_LIMIT_USEC 20000 /* the most a handshake waits for looks */
#define MAX_HANDLERS 64      /* one bit each in a look mask */

/* The run in progress (one at a time). */
static struct {
    conn_t *conns;
    int nconns, nhandlers;
    unsigned long nonce;       /* this run's: the records' values */
    atomic_int *begun;         /* per connection: its handshake began */
    _Atomic uint64_t *looked;  /* per connection: the handlers (one bit
                                  each) that looked at it since then */
    atomic_int started;        /* handlers that have begun */
    pool_t *pool;
} net;

/* The record connection id gets in this run: never 0 in either field. */
static long session_of(int id)
{
    return 1 + (long)((net.nonce ^ (2654435761ul * (unsigned long)(id + 1)))
                      % 1000000007ul);
}

static long key_of(int id)
{
    return 1 + (long)((net.nonce * 40503ul + 97ul * (unsigned long)id) %
                      999999937ul);
}

/* c's index, or -1 when c is none of this run's connections. */
static int index_of(const conn_t *c)
{
    for (int i = 0; i < net.nconns; i++)
        if (c == &net.conns[i])
            return i;
    return -1;
}

void handshake(conn_t *c)
{
    int id = index_of(c);
    if (id < 0)
        return; /* no connection of ours: nothing to open */
    uint64_t all = net.nhandlers >= MAX_HANDLERS
                       ? ~(uint64_t)0
                       : ((uint64_t)1 << net.nhandlers) - 1;
    atomic_store_explicit(&net.begun[id], 1, memory_order_relaxed);
    cd_latency("handshake", HANDSHAKE_USEC);
    for (int waited = 0;
         atomic_load_explicit(&net.looked[id], memory_order_relaxed) != all &&
         waited < LOOK_LIMIT_USEC;
         waited += POLL_USEC)
        cd_latency("handshake", POLL_USEC);
    c->rec.session = session_of(id);
    cd_point("write key");
    c->rec.key = key_of(id);
    cd_ledger_put(CD_EFF_WRITTEN, id, 0, 0, 0);
}

/* What a handler found in the record it used (cli/ledger.h). */
static int outcome(int id, const record_t *got)
{
    long s = session_of(id), k = key_of(id);
    if (got->session == s && got->key == k)
        return CD_READ_WHOLE;
    if (got->session == 0 && got->key == 0)
        return CD_READ_STALE;
    if ((got->session == s && got->key == 0) ||
        (got->session == 0 && got->key == k))
        return CD_READ_TORN;
    return CD_READ_WRONG;
}

static void warmer(void *arg)
{
    (void)arg;
    /* The pool is warmed while requests come in: it begins once every
     * handler has, however late a busy machine starts them. */
    while (atomic_load_explicit(&net.started, memory_order_relaxed) <
           net.nhandlers)
        cd_latency("poll", POLL_USEC);
    for (int i = 0; i < net.nconns; i++)
        publish(net.pool, &net.conns[i]);
}

/* A handler uses every connection in turn, once take_ready() says it is
 * ready; the books keep what the record held. */
static void handler(void *arg, int index)
{
    uint64_t me = (uint64_t)1 << (index % MAX_HANDLERS);
    (void)arg;
    atomic_fetch_add_explicit(&net.started, 1, memory_order_relaxed);
    for (int i = 0; i < net.nconns; i++) {
        record_t got;
        for (;;) {
            int during = atomic_load_explicit(&net.begun[i],
                                              memory_order_relaxed);
            got = (record_t){ 0, 0 };
            int ready = take_ready(net.pool, &net.conns[i], &got);
            if (during) /* a whole look while the handshake ran */
                atomic_fetch_or_explicit(&net.looked[i], me,
                                         memory_order_relaxed);
            if (ready)
                break;
            cd_latency("poll", POLL_USEC);
        }
        cd_ledger_put(CD_EFF_READ, index, i, outcome(i, &got), 0);
    }
}

static void free_net(void)
{
    free(net.conns);
    free(net.begun);
    free(net.looked);
    net.conns = NULL;
    net.begun = NULL;
    net.looked = NULL;
}

/* The invariant (cli/ledger.c): each handler used each connection once,
 * and every record it used was whole. */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    static unsigned long runs;
    cd_thread_t w;
    (void)plan; /* its sizes are p's own */

    net.nconns = p->iterations;
    net.nhandlers = p->threads;
    net.nonce = (unsigned long)cd_now_ns() ^ (++runs * 0x9e3779b97f4aul);
    atomic_init(&net.started, 0);
    net.conns = calloc((size_t)net.nconns, sizeof *net.conns);
    net.begun = calloc((size_t)net.nconns, sizeof *net.begun);
    net.looked = calloc((size_t)net.nconns, sizeof *net.looked);
    if (cd_ledger_begin("publication", p) != 0 || !net.conns || !net.begun ||
        !net.looked || !(net.pool = pool_create(net.nconns))) {
        cd_ledger_end_error(v, 1, "could not set up the pool");
        free_net();
        return;
    }
    for (int i = 0; i < net.nconns; i++) {
        net.conns[i].id = i;
        atomic_init(&net.begun[i], 0);
        atomic_init(&net.looked[i], 0);
    }
    int rc = cd_thread_spawn(&w, "warmer", warmer, NULL);
    if (rc == 0) {
        rc = cd_team_run(net.nhandlers, "handler", handler, NULL);
        cd_thread_join(&w);
    }
    cd_ledger_end_error(v, rc < 0, "could not start %d threads",
                        net.nhandlers + 1);
    pool_destroy(net.pool);
    free_net();
}

EX_SCENARIO("publication", run,
            .defaults = { .threads = 4, .iterations = 8 },
            .min = { .threads = 1, .iterations = 1 },
            .max = { .threads = MAX_HANDLERS, .iterations = 1000 });
