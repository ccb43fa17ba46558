/*
 * test_chan.c - the channel: order, capacity, try/timed forms, close,
 * figures, and what the registry shows while threads wait on it.
 *
 * Waiting tests never sleep and hope: a thread is known to be blocked once
 * the registry says so (polled with a generous deadline), and only then is
 * the channel changed under it. Each test runs in a forked child with a
 * time limit (add_forked_test): a lost wake-up fails that test, it does
 * not hang the runner.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "../lib/cd_chan.h"
#include "../lib/cd_exec.h"
#include "../lib/cd_sched.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "../lib/cd_trace.h"
#include "harness.h"

/* suite: chan; forked */

/* The harness polls the registry (await, is_blocked_on) for up to
 * POLL_LIMIT_MS; these two read it for this suite. */
static int wait_blocked_on(int tid, int obj)
{
    return await(is_blocked_on, tid, obj);
}

static const cd_obj_info_t *obj_info(int id)
{
    const cd_snapshot_t *s = take_snapshot();
    CU_ASSERT_FATAL(id > 0 && id <= s->nobjs);
    return oinfo(s, id);
}

/* A thread that does one operation on a channel and keeps its result. */
typedef struct op_arg {
    cd_chan_t *ch;
    int value;
    int rc;
} op_arg_t;

static void do_send(void *p)
{
    op_arg_t *a = p;
    a->rc = cd_chan_send(a->ch, &a->value);
}

static void do_timed_send(void *p)
{
    op_arg_t *a = p;
    a->rc = cd_chan_timed_send(a->ch, &a->value, 60 * 1000);
}

static void do_recv(void *p)
{
    op_arg_t *a = p;
    a->rc = cd_chan_recv(a->ch, &a->value);
}

static void fill(cd_chan_t *ch, int from, int n)
{
    for (int i = from; i < from + n; i++)
        ASSERT_INT_EQ(cd_chan_send(ch, &i), 0);
}

static void expect_in_order(cd_chan_t *ch, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        int v = -1;
        ASSERT_INT_EQ(cd_chan_try_recv(ch, &v), 0);
        ASSERT_INT_EQ(v, i);
    }
}

/* ================================ tests ================================= */

/* test: bad arguments are refused */
static void bad_arguments_are_refused(void)
{
    cd_chan_t ch;
    cd_reg_reset();
    ASSERT_INT_EQ(cd_chan_init(&ch, "zero", 0, 4), -EINVAL);
    ASSERT_INT_EQ(cd_chan_init(&ch, "huge", (size_t)-1 / 2, 4), -EINVAL);
}

/* test: messages come out in order */
static void messages_come_out_in_order(void)
{
    cd_chan_t ch;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_chan_init(&ch, "fifo", sizeof(int), 8) == 0);
    /* Round the ring several times so head wraps past the end. */
    for (int round = 0; round < 5; round++) {
        fill(&ch, round * 100, 5);
        expect_in_order(&ch, round * 100, 5);
    }
    fill(&ch, 0, 8);
    expect_in_order(&ch, 0, 8);
    cd_chan_destroy(&ch);
}

/* test: unbounded grows, keeps order, reports bytes */
static void unbounded_grows_keeping_order_and_reports_bytes(void)
{
    cd_chan_t ch;
    cd_chan_stats_t st;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_chan_init(&ch, "big", 16, CD_CHAN_UNBOUNDED) == 0);
    char msg[16] = { 0 };
    cd_chan_stats(&ch, &st);
    size_t first_bytes = st.bytes;
    CU_ASSERT_TRUE(first_bytes > 0);
    ASSERT_INT_EQ(st.capacity, 0);

    /* Move the head first, so growing has to unwrap the ring. */
    for (int i = 0; i < 40; i++) {
        memcpy(msg, &i, sizeof i);
        ASSERT_INT_EQ(cd_chan_send(&ch, msg), 0);
    }
    for (int i = 0; i < 30; i++)
        ASSERT_INT_EQ(cd_chan_recv(&ch, msg), 0);
    for (int i = 40; i < 1030; i++) {
        memcpy(msg, &i, sizeof i);
        ASSERT_INT_EQ(cd_chan_try_send(&ch, msg, CD_CHAN_KEEP), 0);
    }
    cd_chan_stats(&ch, &st);
    ASSERT_INT_EQ(st.depth, 1000);
    ASSERT_INT_EQ(st.high_water, 1000);
    ASSERT_INT_EQ(st.drops, 0);
    CU_ASSERT_TRUE(st.bytes >= 1000 * 16);
    CU_ASSERT_TRUE(st.bytes > first_bytes);

    /* The registry shows the same figures to a view. */
    const cd_obj_info_t *o = obj_info(ch.id);
    ASSERT_INT_EQ(o->kind, CD_OBJ_CHAN);
    ASSERT_STR_HAS(o->name, "big");
    ASSERT_INT_EQ(o->chan_capacity, 0);
    ASSERT_INT_EQ(o->chan_depth, 1000);
    ASSERT_INT_EQ(o->chan_bytes, st.bytes);
    ASSERT_INT_EQ(o->chan_sent, 1030);
    ASSERT_INT_EQ(o->chan_received, 30);

    for (int i = 30; i < 1030; i++) {
        int v;
        ASSERT_INT_EQ(cd_chan_recv(&ch, msg), 0);
        memcpy(&v, msg, sizeof v);
        ASSERT_INT_EQ(v, i);
    }
    cd_chan_destroy(&ch);
}

/* test: a full channel blocks the sender until a receive */
static void full_channel_blocks_the_sender_until_a_receive(void)
{
    cd_chan_t ch;
    cd_thread_t t;
    op_arg_t a;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_chan_init(&ch, "tight", sizeof(int), 2) == 0);
    a = (op_arg_t){ .ch = &ch, .value = 3, .rc = 1 };
    fill(&ch, 1, 2);
    CU_ASSERT_FATAL(cd_thread_spawn(&t, "sender", do_send, &a) == 0);

    /* The registry shows the sender blocked on the channel. */
    CU_ASSERT_FATAL(wait_blocked_on(t.id, ch.id));
    const cd_obj_info_t *o = obj_info(ch.id);
    ASSERT_INT_EQ(o->nwaiters, 1);
    ASSERT_INT_EQ(o->chan_depth, 2);
    ASSERT_INT_EQ(o->chan_capacity, 2);

    int v;
    ASSERT_INT_EQ(cd_chan_recv(&ch, &v), 0);
    ASSERT_INT_EQ(v, 1);
    ASSERT_INT_EQ(cd_thread_join(&t), 0);
    ASSERT_INT_EQ(a.rc, 0);
    expect_in_order(&ch, 2, 2); /* 2, then the sender's 3 */
    ASSERT_INT_EQ(obj_info(ch.id)->nwaiters, 0);
    cd_chan_destroy(&ch);
}

/* test: an empty channel blocks the receiver until a send */
static void empty_channel_blocks_the_receiver_until_a_send(void)
{
    cd_chan_t ch;
    cd_thread_t t;
    op_arg_t a;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_chan_init(&ch, "quiet", sizeof(int), 4) == 0);
    a = (op_arg_t){ .ch = &ch, .value = -1, .rc = 1 };
    CU_ASSERT_FATAL(cd_thread_spawn(&t, "receiver", do_recv, &a) == 0);
    CU_ASSERT_FATAL(wait_blocked_on(t.id, ch.id));
    int v = 42;
    ASSERT_INT_EQ(cd_chan_send(&ch, &v), 0);
    ASSERT_INT_EQ(cd_thread_join(&t), 0);
    ASSERT_INT_EQ(a.rc, 0);
    ASSERT_INT_EQ(a.value, 42);
    cd_chan_destroy(&ch);
}

/* test: try forms never wait; a shed is counted */
static void try_forms_never_wait_and_shed_is_counted(void)
{
    cd_chan_t ch;
    cd_chan_stats_t st;
    int v = 7;
    cd_reg_reset();
    cd_reg_set_trace(1);
    CU_ASSERT_FATAL(cd_chan_init(&ch, "one", sizeof(int), 1) == 0);
    ASSERT_INT_EQ(cd_chan_try_recv(&ch, &v), -EAGAIN);
    ASSERT_INT_EQ(cd_chan_try_send(&ch, &v, CD_CHAN_KEEP), 0);
    /* Full: KEEP leaves the message with the caller and counts nothing. */
    ASSERT_INT_EQ(cd_chan_try_send(&ch, &v, CD_CHAN_KEEP), -EAGAIN);
    cd_chan_stats(&ch, &st);
    ASSERT_INT_EQ(st.drops, 0);
    ASSERT_INT_EQ(st.refused, 1); /* a refusal, counted as one */
    /* SHED drops it, and the drop is counted everywhere. */
    ASSERT_INT_EQ(cd_chan_try_send(&ch, &v, CD_CHAN_SHED), -EAGAIN);
    ASSERT_INT_EQ(cd_chan_try_send(&ch, &v, CD_CHAN_SHED), -EAGAIN);
    cd_chan_stats(&ch, &st);
    ASSERT_INT_EQ(st.drops, 2);
    ASSERT_INT_EQ(st.refused, 1); /* a shed message is a drop, not this */
    ASSERT_INT_EQ(st.sent, 1);
    ASSERT_INT_EQ(st.depth, 1);
    ASSERT_INT_EQ(obj_info(ch.id)->chan_drops, 2);

    int drops = 0, busy = 0;
    const cd_trace_event_t *ev;
    int n = trace_events(&ev);
    for (int i = 0; i < n; i++) {
        if (ev[i].obj == ch.id) {
            drops += ev[i].op == CD_OP_DROP;
            busy += ev[i].op == CD_OP_BUSY;
        }
    }
    cd_reg_set_trace(0);
    ASSERT_INT_EQ(drops, 2);
    ASSERT_INT_EQ(busy, 2); /* the empty try_recv and the KEEP refusal */
    ASSERT_STR_HAS(cd_op_name(CD_OP_DROP), "drop");
    cd_chan_destroy(&ch);
}

/* test: timed forms give up after their time */
static void timed_forms_give_up_after_their_time(void)
{
    cd_chan_t ch;
    int v = 1;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_chan_init(&ch, "timed", sizeof(int), 1) == 0);

    int64_t t0 = cd_now_ns();
    ASSERT_INT_EQ(cd_chan_timed_recv(&ch, &v, 30), -ETIMEDOUT);
    CU_ASSERT_TRUE(cd_now_ns() - t0 >= 30 * 1000 * 1000);

    ASSERT_INT_EQ(cd_chan_timed_send(&ch, &v, 30), 0); /* room: at once */
    t0 = cd_now_ns();
    ASSERT_INT_EQ(cd_chan_timed_send(&ch, &v, 30), -ETIMEDOUT);
    CU_ASSERT_TRUE(cd_now_ns() - t0 >= 30 * 1000 * 1000);
    ASSERT_INT_EQ(cd_chan_timed_send(&ch, &v, 0), -ETIMEDOUT);

    ASSERT_INT_EQ(cd_chan_timed_recv(&ch, &v, 30), 0);
    ASSERT_INT_EQ(v, 1);
    cd_chan_stats_t st;
    cd_chan_stats(&ch, &st);
    ASSERT_INT_EQ(st.drops, 0); /* a give-up is the caller's, not a drop */
    ASSERT_INT_EQ(st.refused, 2); /* the two sends that timed out */
    cd_chan_destroy(&ch);
}

/* test: a timed send succeeds when room appears */
static void timed_send_succeeds_when_room_appears(void)
{
    cd_chan_t ch;
    cd_thread_t t;
    int v = 5;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_chan_init(&ch, "room", sizeof(int), 1) == 0);
    ASSERT_INT_EQ(cd_chan_send(&ch, &v), 0);
    op_arg_t a = { .ch = &ch, .value = 6, .rc = 1 };
    CU_ASSERT_FATAL(cd_thread_spawn(&t, "patient", do_timed_send, &a) == 0);
    CU_ASSERT_FATAL(wait_blocked_on(t.id, ch.id));
    ASSERT_INT_EQ(tinfo(take_snapshot(), t.id)->wait_timed, 1); /* cannot last */

    ASSERT_INT_EQ(cd_chan_recv(&ch, &v), 0);
    ASSERT_INT_EQ(v, 5);
    ASSERT_INT_EQ(cd_thread_join(&t), 0);
    ASSERT_INT_EQ(a.rc, 0);
    ASSERT_INT_EQ(cd_chan_recv(&ch, &v), 0);
    ASSERT_INT_EQ(v, 6);
    cd_chan_destroy(&ch);
}

/* test: close wakes blocked senders and receivers with EPIPE */
static void close_wakes_blocked_senders_and_receivers(void)
{
    cd_chan_t full, empty;
    cd_thread_t t[4];
    op_arg_t a[4];
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_chan_init(&full, "full", sizeof(int), 1) == 0);
    CU_ASSERT_FATAL(cd_chan_init(&empty, "empty", sizeof(int), 1) == 0);
    fill(&full, 0, 1);
    for (int i = 0; i < 4; i++) {
        a[i] = (op_arg_t){ .ch = i < 2 ? &full : &empty, .value = i,
                           .rc = 1 };
        CU_ASSERT_FATAL(cd_thread_spawn(&t[i], i < 2 ? "sender" : "receiver",
                                        i < 2 ? do_send : do_recv,
                                        &a[i]) == 0);
    }
    for (int i = 0; i < 4; i++)
        CU_ASSERT_FATAL(wait_blocked_on(t[i].id, a[i].ch->id));

    ASSERT_INT_EQ(cd_chan_close(&full), 0);
    ASSERT_INT_EQ(cd_chan_close(&empty), 0);
    for (int i = 0; i < 4; i++) {
        ASSERT_INT_EQ(cd_thread_join(&t[i]), 0);
        ASSERT_INT_EQ(a[i].rc, -EPIPE);
    }
    /* The senders' messages were not sent; the one queued is still there. */
    cd_chan_stats_t st;
    cd_chan_stats(&full, &st);
    ASSERT_INT_EQ(st.sent, 1);
    ASSERT_INT_EQ(st.depth, 1);
    CU_ASSERT_TRUE(st.closed);
    ASSERT_INT_EQ(obj_info(full.id)->chan_closed, 1);
    cd_chan_destroy(&full);
    cd_chan_destroy(&empty);
}

/* test: receive drains a closed channel, then fails */
static void receive_drains_a_closed_channel_then_fails(void)
{
    cd_chan_t ch;
    int v = 9;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_chan_init(&ch, "drain", sizeof(int), 4) == 0);
    fill(&ch, 10, 3);
    ASSERT_INT_EQ(cd_chan_close(&ch), 0);
    ASSERT_INT_EQ(cd_chan_close(&ch), -EPIPE);
    ASSERT_INT_EQ(cd_chan_send(&ch, &v), -EPIPE);
    ASSERT_INT_EQ(cd_chan_try_send(&ch, &v, CD_CHAN_SHED), -EPIPE);
    ASSERT_INT_EQ(cd_chan_timed_send(&ch, &v, 10), -EPIPE);
    ASSERT_INT_EQ(cd_chan_recv(&ch, &v), 0);
    ASSERT_INT_EQ(v, 10);
    ASSERT_INT_EQ(cd_chan_timed_recv(&ch, &v, 10), 0);
    ASSERT_INT_EQ(v, 11);
    ASSERT_INT_EQ(cd_chan_try_recv(&ch, &v), 0);
    ASSERT_INT_EQ(v, 12);
    ASSERT_INT_EQ(cd_chan_recv(&ch, &v), -EPIPE);
    ASSERT_INT_EQ(cd_chan_try_recv(&ch, &v), -EPIPE);
    ASSERT_INT_EQ(cd_chan_timed_recv(&ch, &v, 10), -EPIPE);
    cd_chan_stats_t st;
    cd_chan_stats(&ch, &st);
    ASSERT_INT_EQ(st.drops, 0); /* refused on close: not a drop */
    ASSERT_INT_EQ(st.refused, 0); /* nor a refusal of a full channel */
    ASSERT_INT_EQ(st.received, 3);
    cd_chan_destroy(&ch);
}

/* test: high water remembers the deepest point */
static void high_water_remembers_the_deepest_point(void)
{
    cd_chan_t ch;
    cd_chan_stats_t st;
    int v;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_chan_init(&ch, "hw", sizeof(int), 16) == 0);
    fill(&ch, 0, 5);
    for (int i = 0; i < 3; i++)
        ASSERT_INT_EQ(cd_chan_recv(&ch, &v), 0);
    fill(&ch, 5, 1);
    cd_chan_stats(&ch, &st);
    ASSERT_INT_EQ(st.depth, 3);
    ASSERT_INT_EQ(st.high_water, 5);
    ASSERT_INT_EQ(st.capacity, 16);
    ASSERT_INT_EQ(st.bytes, 16 * sizeof(int)); /* bounded: reserved once */
    ASSERT_INT_EQ(obj_info(ch.id)->chan_high_water, 5);
    cd_chan_destroy(&ch);
}

/* test: abort ends threads blocked on a channel */
static void abort_ends_threads_blocked_on_a_channel(void)
{
    cd_chan_t full, empty;
    cd_thread_t s, r;
    op_arg_t as, ar;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_chan_init(&full, "full", sizeof(int), 1) == 0);
    CU_ASSERT_FATAL(cd_chan_init(&empty, "empty", sizeof(int), 1) == 0);
    fill(&full, 0, 1);
    as = (op_arg_t){ .ch = &full, .rc = 1 };
    ar = (op_arg_t){ .ch = &empty, .rc = 1 };
    CU_ASSERT_FATAL(cd_thread_spawn(&s, "stuck-sender", do_send, &as) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&r, "stuck-receiver", do_recv, &ar) == 0);
    CU_ASSERT_FATAL(wait_blocked_on(s.id, full.id));
    CU_ASSERT_FATAL(wait_blocked_on(r.id, empty.id));

    cd_reg_abort(CD_ABORT_TIMEOUT);
    ASSERT_INT_EQ(cd_thread_join(&s), -ECANCELED);
    ASSERT_INT_EQ(cd_thread_join(&r), -ECANCELED);
    ASSERT_INT_EQ(as.rc, 1); /* they never returned from the call */
    ASSERT_INT_EQ(ar.rc, 1);
    const cd_snapshot_t *after = take_snapshot();
    ASSERT_INT_EQ(tinfo(after, s.id)->state, CD_T_ABORTED);
    ASSERT_INT_EQ(oinfo(after, full.id)->nwaiters, 0);

    /* A thread cd_thread did not start gets -ECANCELED instead. */
    int v;
    ASSERT_INT_EQ(cd_chan_recv(&empty, &v), -ECANCELED);
    cd_chan_destroy(&full);
    cd_chan_destroy(&empty);
    cd_reg_reset();
}

/* Several producers, one consumer, a small buffer: nothing lost, nothing
 * repeated, each producer's messages in its own order. The payload is
 * written before the send and read after the receive with no other
 * synchronisation: under ThreadSanitizer this checks that the channel
 * really orders them (a send happens-before its receive). */
#define PRODUCERS 4
#define PER_PRODUCER 2000

typedef struct mp {
    cd_chan_t ch;
    int payload[PRODUCERS][PER_PRODUCER];
} mp_t;

typedef struct mp_arg {
    mp_t *m;
    int index;
} mp_arg_t;

static void mp_producer(void *p)
{
    mp_arg_t *a = p;
    for (int i = 0; i < PER_PRODUCER; i++) {
        int *slot = &a->m->payload[a->index][i];
        *slot = a->index * 1000000 + i; /* plain write, then send */
        if (cd_chan_send(&a->m->ch, &slot) != 0)
            return;
    }
}

/* test: many producers, one consumer: nothing lost */
static void many_producers_one_consumer_lose_nothing(void)
{
    static mp_t m;
    cd_thread_t t[PRODUCERS];
    mp_arg_t args[PRODUCERS];
    int next[PRODUCERS] = { 0 }, total = 0, bad = 0;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_chan_init(&m.ch, "mpsc", sizeof(int *), 8) == 0);
    for (int i = 0; i < PRODUCERS; i++) {
        args[i] = (mp_arg_t){ &m, i };
        CU_ASSERT_FATAL(cd_thread_spawn(&t[i], "producer", mp_producer,
                                        &args[i]) == 0);
    }
    while (total < PRODUCERS * PER_PRODUCER) {
        int *slot;
        if (cd_chan_timed_recv(&m.ch, &slot, 10000) != 0)
            break; /* a producer died: the count below says so */
        int v = *slot; /* plain read, after the receive */
        int who = v / 1000000, seq = v % 1000000;
        if (who < 0 || who >= PRODUCERS || seq != next[who])
            bad++;
        else
            next[who]++;
        total++;
    }
    for (int i = 0; i < PRODUCERS; i++)
        ASSERT_INT_EQ(cd_thread_join(&t[i]), 0);
    ASSERT_INT_EQ(total, PRODUCERS * PER_PRODUCER);
    ASSERT_INT_EQ(bad, 0);
    cd_chan_stats_t st;
    cd_chan_stats(&m.ch, &st);
    ASSERT_INT_EQ(st.depth, 0);
    CU_ASSERT_TRUE(st.high_water <= 8);
    cd_chan_destroy(&m.ch);
}

/* ================================ tasks =================================== */

/* Tasks on one worker: a waiting task parks, so the worker runs the task
 * that unblocks it. The log is exact there: a task gives its worker up
 * only where it parks. */
static cd_chan_t tch;
static int t_rc[4];
static where_t t_parked;

static void task_receives_three(void *arg)
{
    (void)arg;
    int v;
    for (int i = 0; i < 3; i++) {
        watched_say("wants");
        t_rc[0] = cd_chan_recv(&tch, &v);
        watched_say(t_rc[0] == 0 ? (v == i ? "got" : "wrong") : "failed");
    }
    t_rc[0] = cd_chan_recv(&tch, &v);
    watched_say(t_rc[0] == -EPIPE ? "closed" : "not-closed");
}

/* Fills the channel of 1 and parks on the second send, until the
 * receiver has made room. */
static void task_sends_three(void *arg)
{
    t_parked = where_is(*(int *)arg);
    for (int i = 0; i < 3; i++) {
        watched_say("sends");
        t_rc[1] = cd_chan_send(&tch, &i);
    }
    CU_ASSERT_EQUAL(cd_chan_close(&tch), 0);
}

/* test: tasks: a waiting task parks, its worker runs on */
static void a_waiting_task_parks_and_its_worker_runs_the_other(void)
{
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_chan_init(&tch, "jobs", sizeof(int), 1) == 0);
    run_two_tasks_on_one_worker("consumer", task_receives_three, "producer",
                                task_sends_three);
    /* The consumer parks on the empty channel; the producer's second send
     * finds it full (capacity 1) and parks; each hand-over wakes the
     * other. */
    CU_ASSERT_STRING_EQUAL(watched_log, "wants sends sends got wants sends "
                                        "got wants got closed ");
    ASSERT_INT_EQ(t_parked.state, CD_T_PARKED);
    ASSERT_INT_EQ(t_parked.waiting_on, tch.id);
    ASSERT_INT_EQ(t_rc[1], 0);
    ASSERT_INT_EQ(obj_info(tch.id)->nwaiters, 0);
    cd_chan_destroy(&tch);
}

/* A close wakes the parked tasks on both sides with -EPIPE. */
static void task_waits_forever(void *arg)
{
    int i = (int)(intptr_t)arg, v = 0;
    t_rc[i] = i == 2 ? cd_chan_recv(&tch, &v) : cd_chan_send(&tch, &v);
}

static void task_closes(void *arg)
{
    (void)arg;
    CU_ASSERT_EQUAL(cd_chan_close(&tch), 0);
}

/* test: tasks: close wakes parked tasks with EPIPE */
static void close_wakes_parked_tasks_with_epipe(void)
{
    cd_exec_t *e;
    cd_chan_t *full = &tch;
    int v = 7;
    cd_reg_reset();
    /* First a sender parked on a full channel, then a receiver parked on
     * an empty one; a closer task wakes each. */
    CU_ASSERT_FATAL(cd_chan_init(full, "one-slot", sizeof(int), 1) == 0);
    ASSERT_INT_EQ(cd_chan_send(full, &v), 0); /* full now */
    CU_ASSERT_FATAL(cd_exec_create(&e, 1) == 0);
    t_rc[3] = 1;
    CU_ASSERT_FATAL(cd_exec_spawn(e, "sender", task_waits_forever,
                                  (void *)(intptr_t)3) > 0);
    CU_ASSERT_FATAL(cd_exec_spawn(e, "closer", task_closes, NULL) > 0);
    ASSERT_INT_EQ(cd_exec_run(e), 0);
    cd_exec_destroy(e);
    ASSERT_INT_EQ(t_rc[3], -EPIPE);
    cd_chan_destroy(full);

    CU_ASSERT_FATAL(cd_chan_init(&tch, "empty", sizeof(int), 4) == 0);
    CU_ASSERT_FATAL(cd_exec_create(&e, 1) == 0);
    t_rc[2] = 1;
    CU_ASSERT_FATAL(cd_exec_spawn(e, "receiver", task_waits_forever,
                                  (void *)(intptr_t)2) > 0);
    CU_ASSERT_FATAL(cd_exec_spawn(e, "closer", task_closes, NULL) > 0);
    ASSERT_INT_EQ(cd_exec_run(e), 0);
    cd_exec_destroy(e);
    ASSERT_INT_EQ(t_rc[2], -EPIPE);
    cd_chan_destroy(&tch);
}

/* Many producer tasks on two workers feed one consumer thread through a
 * small channel, and one producer thread feeds them too: everything
 * arrives, once, each producer's messages in order - also under the
 * controlled scheduler, whose runs replay. */
#define TPRODUCERS 4
#define TEACH 50

static void task_produce(void *arg)
{
    int who = (int)(intptr_t)arg;
    for (int i = 0; i < TEACH; i++) {
        int m = who * 1000 + i;
        CU_ASSERT_EQUAL(cd_chan_send(&tch, &m), 0);
    }
}

static int seen_next[TPRODUCERS + 1], seen_bad, seen_total;

static void thread_consume(void *arg)
{
    (void)arg;
    int m;
    while (cd_chan_recv(&tch, &m) == 0) {
        int who = m / 1000, i = m % 1000;
        if (who > TPRODUCERS || i != seen_next[who])
            seen_bad++;
        else
            seen_next[who]++;
        seen_total++;
    }
}

static void thread_produce(void *arg)
{
    task_produce(arg);
}

static int run_fan_in(const cd_sched_cfg_t *cfg)
{
    cd_exec_t *e;
    cd_thread_t consumer, producer;
    cd_reg_reset();
    memset(seen_next, 0, sizeof seen_next);
    seen_bad = seen_total = 0;
    if (cfg)
        CU_ASSERT_FATAL(cd_sched_begin(cfg) == 0);
    CU_ASSERT_FATAL(cd_chan_init(&tch, "fan-in", sizeof(int), 2) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&consumer, "consumer", thread_consume,
                                    NULL) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&producer, "producer-0", thread_produce,
                                    (void *)(intptr_t)0) == 0);
    CU_ASSERT_FATAL(cd_exec_create(&e, 2) == 0);
    for (int i = 1; i <= TPRODUCERS; i++)
        CU_ASSERT_FATAL(cd_exec_spawn(e, "producer", task_produce,
                                      (void *)(intptr_t)i) > 0);
    int ended = cd_exec_run(e);
    cd_exec_destroy(e);
    cd_thread_join(&producer);
    CU_ASSERT_EQUAL(cd_chan_close(&tch), 0);
    cd_thread_join(&consumer);
    int aborted = cd_reg_aborted();
    if (cfg)
        cd_sched_end();
    cd_chan_destroy(&tch);
    return !aborted && ended == 0 && seen_bad == 0 &&
           seen_total == (TPRODUCERS + 1) * TEACH;
}

/* test: tasks and a thread fan in, nothing lost (also controlled) */
static void producer_tasks_and_a_thread_fan_in_losing_nothing(void)
{
    CU_ASSERT_TRUE(run_fan_in(NULL));
    for (uint64_t seed = 1; seed <= 5; seed++) {
        cd_sched_cfg_t cfg = { .strategy = CD_SCHED_PCT, .seed = seed,
                               .depth = 3, .pct_steps = 2000 };
        CU_ASSERT_TRUE(run_fan_in(&cfg));
    }
}
