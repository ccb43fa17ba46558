/*
 * test_oneshot.c - the one-value channel and the request/reply helpers on
 * cd_chan: a value delivered exactly once, a dropped sender waking the
 * receiver with -EPIPE, timed and try receives, rearming, the registry's
 * figures and the trace, receivers that are threads and receivers that
 * are tasks, an actor served over a channel, the run's abort, and
 * controlled runs.
 *
 * As in test_chan.c, a thread is known to wait once the registry says so;
 * each test runs in a forked child with a time limit (add_forked_test).
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "../lib/cd_chan.h"
#include "../lib/cd_exec.h"
#include "../lib/cd_oneshot.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_sched.h"
#include "../lib/cd_thread.h"
#include "../lib/cd_trace.h"
#include "harness.h"

/* suite: oneshot; forked */

static cd_oneshot_t os;

static const cd_obj_info_t *os_info(void)
{
    return oinfo(take_snapshot(), os.id);
}

/* A receiver thread's result. */
typedef struct receiver {
    int rc;
    long value;
    int ms;        /* > 0: a timed receive */
    long seen;     /* a plain variable read after the receive (TSan) */
} receiver_t;

static long written_before_send;

static void receive(void *p)
{
    receiver_t *r = p;
    r->rc = r->ms > 0 ? cd_oneshot_timed_recv(&os, &r->value, r->ms)
                      : cd_oneshot_recv(&os, &r->value);
    r->seen = written_before_send;
}

static void start_receiver(cd_thread_t *t, receiver_t *r)
{
    r->rc = 1;
    CU_ASSERT_FATAL(cd_thread_spawn(t, "requester", receive, r) == 0);
    CU_ASSERT_FATAL(await(is_blocked_on, t->id, os.id));
}

/* ================================ threads ================================ */

/* test: the value is delivered once */
static void the_value_is_delivered_once(void)
{
    long v = 42, out = 0;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_oneshot_init(&os, "reply", sizeof v) == 0);
    ASSERT_INT_EQ(os_info()->kind, CD_OBJ_ONESHOT);
    ASSERT_INT_EQ(cd_oneshot_state(&os), CD_ONESHOT_EMPTY);
    ASSERT_INT_EQ(cd_oneshot_try_recv(&os, &out), -EAGAIN);
    ASSERT_INT_EQ(cd_oneshot_send(&os, &v), 0);
    ASSERT_INT_EQ(os_info()->oneshot_state, CD_ONESHOT_SENT);
    v = 7;
    ASSERT_INT_EQ(cd_oneshot_send(&os, &v), -EALREADY); /* one value */
    ASSERT_INT_EQ(cd_oneshot_drop(&os), -EALREADY);
    ASSERT_INT_EQ(cd_oneshot_recv(&os, &out), 0);
    ASSERT_INT_EQ(out, 42);
    ASSERT_INT_EQ(cd_oneshot_state(&os), CD_ONESHOT_TAKEN);
    out = 0;
    ASSERT_INT_EQ(cd_oneshot_recv(&os, &out), -EALREADY); /* once */
    ASSERT_INT_EQ(cd_oneshot_try_recv(&os, &out), -EALREADY);
    ASSERT_INT_EQ(out, 0);
    cd_oneshot_destroy(&os);
}

/* test: bad sizes are refused */
static void bad_sizes_are_refused(void)
{
    cd_reg_reset();
    ASSERT_INT_EQ(cd_oneshot_init(&os, "none", 0), -EINVAL);
    ASSERT_INT_EQ(cd_oneshot_init(&os, "huge", CD_ONESHOT_MAX + 1), -EINVAL);
    CU_ASSERT_FATAL(cd_oneshot_init(&os, "widest", CD_ONESHOT_MAX) == 0);
    cd_oneshot_destroy(&os);
}

/* The requester waits, shown blocked on the oneshot; the sender gives up:
 * the requester wakes with -EPIPE instead of waiting for ever. */
/* test: a dropped sender wakes the receiver with EPIPE */
static void a_dropped_sender_wakes_the_receiver_with_epipe(void)
{
    cd_thread_t t;
    receiver_t r = { 0 };
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_oneshot_init(&os, "reply", sizeof(long)) == 0);
    start_receiver(&t, &r);
    ASSERT_INT_EQ(os_info()->nwaiters, 1);
    ASSERT_INT_EQ(cd_oneshot_drop(&os), 0);
    ASSERT_INT_EQ(cd_thread_join(&t), 0);
    ASSERT_INT_EQ(r.rc, -EPIPE);
    ASSERT_INT_EQ(os_info()->oneshot_state, CD_ONESHOT_DROPPED);
    ASSERT_INT_EQ(os_info()->nwaiters, 0);
    /* One that comes later finds the same answer at once. */
    ASSERT_INT_EQ(cd_oneshot_recv(&os, &r.value), -EPIPE);
    cd_oneshot_destroy(&os);
}

/* ThreadSanitizer: the send happens-before the receive that gets it. */
/* test: a send wakes the receiver and orders it (TSan) */
static void a_send_wakes_the_receiver_and_orders_it(void)
{
    cd_thread_t t;
    receiver_t r = { 0 };
    long v = 99;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_oneshot_init(&os, "reply", sizeof v) == 0);
    start_receiver(&t, &r);
    written_before_send = 5;
    ASSERT_INT_EQ(cd_oneshot_send(&os, &v), 0);
    ASSERT_INT_EQ(cd_thread_join(&t), 0);
    ASSERT_INT_EQ(r.rc, 0);
    ASSERT_INT_EQ(r.value, 99);
    ASSERT_INT_EQ(r.seen, 5);
    cd_oneshot_destroy(&os);
}

/* test: a timed receive times out, the value still comes */
static void a_timed_receive_times_out_and_the_value_still_comes(void)
{
    long v = 3, out = 0;
    cd_reg_reset();
    cd_reg_set_trace(1);
    CU_ASSERT_FATAL(cd_oneshot_init(&os, "slow-reply", sizeof v) == 0);
    ASSERT_INT_EQ(cd_oneshot_timed_recv(&os, &out, 20), -ETIMEDOUT);
    CU_ASSERT_TRUE(traced_any(CD_OP_TIMEOUT, os.id));
    ASSERT_INT_EQ(cd_oneshot_send(&os, &v), 0);
    ASSERT_INT_EQ(cd_oneshot_timed_recv(&os, &out, 20), 0);
    ASSERT_INT_EQ(out, 3);
    cd_oneshot_destroy(&os);
}

/* test: rearmed only once its exchange is over */
static void a_oneshot_is_rearmed_only_once_its_exchange_is_over(void)
{
    long v = 1, out = 0;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_oneshot_init(&os, "reply", sizeof v) == 0);
    ASSERT_INT_EQ(cd_oneshot_send(&os, &v), 0);
    ASSERT_INT_EQ(cd_oneshot_rearm(&os), -EBUSY); /* the value would go */
    ASSERT_INT_EQ(cd_oneshot_recv(&os, &out), 0);
    ASSERT_INT_EQ(cd_oneshot_rearm(&os), 0);
    ASSERT_INT_EQ(cd_oneshot_state(&os), CD_ONESHOT_EMPTY);
    v = 2;
    ASSERT_INT_EQ(cd_oneshot_send(&os, &v), 0);
    ASSERT_INT_EQ(cd_oneshot_recv(&os, &out), 0);
    ASSERT_INT_EQ(out, 2);
    ASSERT_INT_EQ(cd_oneshot_rearm(&os), 0);
    ASSERT_INT_EQ(cd_oneshot_drop(&os), 0);
    ASSERT_INT_EQ(cd_oneshot_recv(&os, &out), -EPIPE);
    ASSERT_INT_EQ(cd_oneshot_rearm(&os), 0);
    cd_oneshot_destroy(&os);
}

/* The run's abort ends a waiting thread cd_thread started; the program's
 * own thread gets -ECANCELED. */
/* test: an aborted receiver ends */
static void an_aborted_receiver_ends(void)
{
    cd_thread_t t;
    receiver_t r = { 0 };
    long out;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_oneshot_init(&os, "never", sizeof(long)) == 0);
    start_receiver(&t, &r);
    cd_reg_abort(CD_ABORT_TIMEOUT);
    ASSERT_INT_EQ(cd_thread_join(&t), -ECANCELED);
    ASSERT_INT_EQ(r.rc, 1);
    ASSERT_INT_EQ(cd_oneshot_recv(&os, &out), -ECANCELED);
    cd_oneshot_destroy(&os);
}

/* test: the trace names the operations */
static void the_trace_names_the_operations(void)
{
    long v = 1, out;
    cd_reg_reset();
    cd_reg_set_trace(1);
    CU_ASSERT_FATAL(cd_oneshot_init(&os, "reply", sizeof v) == 0);
    ASSERT_INT_EQ(cd_oneshot_try_recv(&os, &out), -EAGAIN);
    ASSERT_INT_EQ(cd_oneshot_drop(&os), 0);
    ASSERT_INT_EQ(cd_oneshot_recv(&os, &out), -EPIPE);
    CU_ASSERT_TRUE(traced_any(CD_OP_TRYRECV, os.id));
    CU_ASSERT_TRUE(traced_any(CD_OP_BUSY, os.id));
    CU_ASSERT_TRUE(traced_any(CD_OP_CLOSE, os.id));
    CU_ASSERT_TRUE(traced_any(CD_OP_RECV, os.id));
    CU_ASSERT_TRUE(traced_any(CD_OP_CLOSED, os.id));
    ASSERT_INT_EQ(cd_oneshot_rearm(&os), 0);
    ASSERT_INT_EQ(cd_oneshot_send(&os, &v), 0);
    CU_ASSERT_TRUE(traced_any(CD_OP_SEND, os.id));
    CU_ASSERT_STRING_EQUAL(cd_obj_kind_name(CD_OBJ_ONESHOT), "oneshot");
    cd_oneshot_destroy(&os);
}

/* ================================= tasks ================================= */

static int recv_rc;
static long recv_value;
static int answer_with_drop;
static where_t parked;

static void task_requester(void *arg)
{
    (void)arg;
    watched_say("asks");
    recv_rc = cd_oneshot_recv(&os, &recv_value);
    watched_say("answered");
}

/* Runs on the same (only) worker while the requester waits: the worker
 * was not blocked. */
static void task_answerer(void *arg)
{
    long v = 17;
    parked = where_is(*(int *)arg);
    watched_say("answers");
    int rc = answer_with_drop ? cd_oneshot_drop(&os)
                              : cd_oneshot_send(&os, &v);
    CU_ASSERT_EQUAL(rc, 0);
}

static void run_tasks(int drop)
{
    cd_reg_reset();
    answer_with_drop = drop;
    recv_rc = 1;
    recv_value = 0;
    CU_ASSERT_FATAL(cd_oneshot_init(&os, "reply", sizeof(long)) == 0);
    run_two_tasks_on_one_worker("requester", task_requester, "answerer",
                                task_answerer);
    CU_ASSERT_STRING_EQUAL(watched_log, "asks answers answered ");
    ASSERT_INT_EQ(parked.state, CD_T_PARKED);
    ASSERT_INT_EQ(parked.waiting_on, os.id);
    cd_oneshot_destroy(&os);
}

/* test: a task parks for its reply, the worker runs on */
static void a_task_parks_for_its_reply_and_the_worker_runs_on(void)
{
    run_tasks(0);
    ASSERT_INT_EQ(recv_rc, 0);
    ASSERT_INT_EQ(recv_value, 17);
}

/* test: a dropped sender wakes a task with EPIPE */
static void a_dropped_sender_wakes_a_task_with_epipe(void)
{
    run_tasks(1);
    ASSERT_INT_EQ(recv_rc, -EPIPE);
}

/* ================== request / reply: an actor over cd_chan ================ */

/* The actor owns `count`; nobody else touches it. */
typedef struct request {
    int op;               /* ADD or GET */
    cd_oneshot_t *reply;  /* GET's answer goes here; NULL for ADD */
} request_t;

enum { ADD = 1, GET = 2 };
#define CLIENTS 4
#define ADDS 200

static cd_chan_t inbox;
static long count; /* the actor's own */

static void actor(void *arg)
{
    int refuse = arg != NULL;
    request_t rq;
    while (cd_chan_recv(&inbox, &rq) == 0) {
        int rc = 0;
        if (refuse)
            rc = cd_chan_refuse(rq.reply);
        else if (rq.op == ADD)
            count++;
        else
            rc = cd_oneshot_send(rq.reply, &count);
        CU_ASSERT_EQUAL(rc, 0);
    }
}

static atomic_int client_errors;
static int adds = ADDS; /* per client */
static long last_seen[CLIENTS];

static void client(void *arg)
{
    int me = (int)(intptr_t)arg;
    cd_oneshot_t reply;
    CU_ASSERT_FATAL(cd_oneshot_init(&reply, "reply", sizeof(long)) == 0);
    for (int i = 0; i < adds; i++) {
        request_t add = { ADD, NULL };
        CU_ASSERT_EQUAL(cd_chan_send(&inbox, &add), 0);
    }
    /* Its own adds were queued before this: the answer counts them. */
    request_t get = { GET, &reply };
    long seen = -1;
    if (cd_chan_call(&inbox, &get, &reply, &seen) != 0)
        atomic_fetch_add(&client_errors, 1);
    last_seen[me] = seen;
    cd_oneshot_destroy(&reply);
}

/* test: an actor answers every call, loses no add */
static void an_actor_answers_every_call_and_loses_no_add(void)
{
    cd_thread_t a, c[CLIENTS];
    cd_reg_reset();
    count = 0;
    client_errors = 0;
    adds = ADDS;
    CU_ASSERT_FATAL(cd_chan_init(&inbox, "inbox", sizeof(request_t),
                                 CD_CHAN_UNBOUNDED) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&a, "actor", actor, NULL) == 0);
    for (int i = 0; i < CLIENTS; i++)
        CU_ASSERT_FATAL(cd_thread_spawn(&c[i], "client", client,
                                        (void *)(intptr_t)i) == 0);
    for (int i = 0; i < CLIENTS; i++)
        ASSERT_INT_EQ(cd_thread_join(&c[i]), 0);
    ASSERT_INT_EQ(cd_chan_close(&inbox), 0);
    ASSERT_INT_EQ(cd_thread_join(&a), 0);
    ASSERT_INT_EQ(client_errors, 0);
    ASSERT_INT_EQ(count, CLIENTS * ADDS);
    for (int i = 0; i < CLIENTS; i++)
        CU_ASSERT_TRUE(last_seen[i] >= adds && last_seen[i] <= count);
    cd_chan_destroy(&inbox);
}

/* A call to an actor that is gone (its inbox closed) or that refuses
 * fails with -EPIPE; it never waits for ever. */
/* test: a call to a closed or refusing actor: EPIPE */
static void a_call_to_a_closed_or_refusing_actor_fails_with_epipe(void)
{
    cd_thread_t a;
    cd_oneshot_t reply;
    long out = 0;
    request_t get = { GET, &reply };
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_chan_init(&inbox, "inbox", sizeof(request_t), 4) == 0);
    CU_ASSERT_FATAL(cd_oneshot_init(&reply, "reply", sizeof out) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&a, "grump", actor, &a) == 0);
    ASSERT_INT_EQ(cd_chan_call(&inbox, &get, &reply, &out), -EPIPE);
    ASSERT_INT_EQ(cd_oneshot_state(&reply), CD_ONESHOT_DROPPED);
    ASSERT_INT_EQ(cd_chan_close(&inbox), 0);
    ASSERT_INT_EQ(cd_thread_join(&a), 0);
    ASSERT_INT_EQ(cd_oneshot_rearm(&reply), 0);
    ASSERT_INT_EQ(cd_chan_call(&inbox, &get, &reply, &out), -EPIPE);
    ASSERT_INT_EQ(cd_oneshot_state(&reply), CD_ONESHOT_DROPPED);
    ASSERT_INT_EQ(cd_chan_refuse(NULL), 0);
    cd_oneshot_destroy(&reply);
    cd_chan_destroy(&inbox);
}

/* The same actor as a task, its clients tasks too, all on one worker: a
 * client parks in cd_chan_call (on a full inbox, then on its reply) and
 * the worker runs the actor meanwhile. The last client to finish closes
 * the inbox, which ends the actor. */
static atomic_int clients_done;

static void actor_task(void *arg)
{
    actor(arg);
}

static void client_task(void *arg)
{
    client(arg);
    if (atomic_fetch_add(&clients_done, 1) + 1 == CLIENTS)
        CU_ASSERT_EQUAL(cd_chan_close(&inbox), 0);
}

/* test: tasks: an actor task serves client tasks, 1 worker */
static void tasks_an_actor_task_serves_client_tasks_on_one_worker(void)
{
    cd_exec_t *e;
    cd_reg_reset();
    count = 0;
    client_errors = 0;
    clients_done = 0;
    adds = 20;
    CU_ASSERT_FATAL(cd_chan_init(&inbox, "inbox", sizeof(request_t), 2) == 0);
    CU_ASSERT_FATAL(cd_exec_create(&e, 1) == 0);
    CU_ASSERT_FATAL(cd_exec_spawn(e, "actor", actor_task, NULL) > 0);
    for (int i = 0; i < CLIENTS; i++)
        CU_ASSERT_FATAL(cd_exec_spawn(e, "client", client_task,
                                      (void *)(intptr_t)i) > 0);
    ASSERT_INT_EQ(cd_exec_run(e), 0);
    cd_exec_destroy(e);
    ASSERT_INT_EQ(client_errors, 0);
    ASSERT_INT_EQ(count, CLIENTS * 20);
    for (int i = 0; i < CLIENTS; i++)
        CU_ASSERT_TRUE(last_seen[i] >= 20 && last_seen[i] <= count);
    cd_chan_destroy(&inbox);
}

/* ========================== under the scheduler ========================== */

/* One controlled run of the actor and two clients; returns 1 when every
 * add was counted and every call answered, its schedule in s. */
static int run_actor(const cd_sched_cfg_t *cfg, char *s, size_t size)
{
    cd_thread_t a, c[2];
    const cd_sched_decision_t *d;
    cd_reg_reset();
    count = 0;
    client_errors = 0;
    CU_ASSERT_FATAL(cd_sched_begin(cfg) == 0);
    CU_ASSERT_FATAL(cd_chan_init(&inbox, "inbox", sizeof(request_t), 2) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&a, "actor", actor, NULL) == 0);
    for (int i = 0; i < 2; i++)
        CU_ASSERT_FATAL(cd_thread_spawn(&c[i], "client", client,
                                        (void *)(intptr_t)i) == 0);
    for (int i = 0; i < 2; i++)
        cd_thread_join(&c[i]);
    ASSERT_INT_EQ(cd_chan_close(&inbox), 0);
    cd_thread_join(&a);
    int aborted = cd_reg_aborted();
    cd_sched_format_schedule(d, cd_sched_decisions(&d), s, size);
    cd_sched_end();
    cd_chan_destroy(&inbox);
    return !aborted && client_errors == 0 && count == 2 * adds;
}

/* test: controlled: the actor counts every add, replays */
static void controlled_the_actor_counts_every_add_and_replays(void)
{
    static char first[1 << 16], replayed[1 << 16];
    static uint16_t prefix[1 << 15];
    adds = 5;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        cd_sched_cfg_t cfg = { .strategy = CD_SCHED_PCT, .seed = seed,
                               .depth = 3, .pct_steps = 2000 };
        CU_ASSERT_TRUE(run_actor(&cfg, first, sizeof first));
        char err[128];
        int n = cd_sched_parse_schedule(first, prefix, 1 << 15, err,
                                        sizeof err);
        CU_ASSERT_FATAL(n >= 0);
        cd_sched_cfg_t rp = { .strategy = CD_SCHED_REPLAY, .prefix = prefix,
                              .nprefix = n };
        CU_ASSERT_TRUE(run_actor(&rp, replayed, sizeof replayed));
        CU_ASSERT_STRING_EQUAL(first, replayed);
    }
}

/* Nobody will ever answer: the requester cannot go on and nobody else
 * can run - the scheduler calls the run stuck at once. */
/* test: controlled: a reply nobody sends ends the run */
static void controlled_a_reply_nobody_sends_ends_the_run(void)
{
    cd_sched_cfg_t cfg = { .strategy = CD_SCHED_RANDOM, .seed = 1 };
    long out;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_sched_begin(&cfg) == 0);
    CU_ASSERT_FATAL(cd_oneshot_init(&os, "reply", sizeof out) == 0);
    ASSERT_INT_EQ(cd_oneshot_recv(&os, &out), -ECANCELED);
    ASSERT_INT_EQ(cd_reg_aborted(), CD_ABORT_STUCK);
    cd_sched_end();
    cd_oneshot_destroy(&os);
}
