/*
 * test_bcast.c - the bounded broadcast channel: every subscriber gets
 * every message, in order; one that falls behind by more than the
 * capacity is told exactly how many it missed and goes on from the oldest
 * kept message (never a silent gap); memory stays at the capacity however
 * far a subscriber falls behind; receivers that are threads and tasks;
 * close; the registry's figures, the trace, the run's abort, and
 * controlled runs.
 *
 * "No gap" is checked from what each subscriber saw, whatever the timing:
 * message values are their numbers, so each message read must be the one
 * after the previous, plus what the lag in between said was missed.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "../lib/cd_bcast.h"
#include "../lib/cd_exec.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_sched.h"
#include "../lib/cd_thread.h"
#include "../lib/cd_trace.h"
#include "harness.h"

/* suite: bcast; forked */

static cd_bcast_t bc;

static const cd_obj_info_t *info(int id)
{
    return oinfo(take_snapshot(), id);
}

static void send_range(long from, long to)
{
    for (long v = from; v < to; v++)
        ASSERT_INT_EQ(cd_bcast_send(&bc, &v), 0);
}

/* ============================== free runs ================================ */

/* test: every subscriber gets every message, in order */
static void every_subscriber_gets_every_message_in_order(void)
{
    cd_bsub_t a, b;
    long v;
    uint64_t missed = 9;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_bcast_init(&bc, "config", sizeof(long), 8) == 0);
    CU_ASSERT_FATAL(cd_bcast_subscribe(&bc, &a, "sub-a") == 0);
    CU_ASSERT_FATAL(cd_bcast_subscribe(&bc, &b, "sub-b") == 0);
    ASSERT_INT_EQ(cd_bcast_try_recv(&a, &v, &missed), -EAGAIN);
    ASSERT_INT_EQ(missed, 0);
    send_range(0, 5);
    for (long want = 0; want < 5; want++) {
        ASSERT_INT_EQ(cd_bcast_recv(&a, &v, &missed), 0);
        ASSERT_INT_EQ(v, want);
        ASSERT_INT_EQ(missed, 0);
    }
    ASSERT_INT_EQ(info(b.id)->chan_depth, 5); /* b has not read yet */
    for (long want = 0; want < 5; want++) {
        ASSERT_INT_EQ(cd_bcast_try_recv(&b, &v, NULL), 0);
        ASSERT_INT_EQ(v, want);
    }
    ASSERT_INT_EQ(info(a.id)->kind, CD_OBJ_BSUB);
    ASSERT_INT_EQ(info(a.id)->chan_received, 5);
    ASSERT_INT_EQ(info(b.id)->chan_depth, 0);
    ASSERT_INT_EQ(info(bc.id)->kind, CD_OBJ_BCAST);
    ASSERT_INT_EQ(info(bc.id)->chan_sent, 5);
    ASSERT_INT_EQ(info(bc.id)->chan_depth, 5);
    cd_bcast_unsubscribe(&a);
    cd_bcast_unsubscribe(&b);
    cd_bcast_destroy(&bc);
}

/* test: bad sizes are refused */
static void bad_sizes_are_refused(void)
{
    cd_reg_reset();
    ASSERT_INT_EQ(cd_bcast_init(&bc, "x", 0, 8), -EINVAL);
    ASSERT_INT_EQ(cd_bcast_init(&bc, "x", 8, 0), -EINVAL);
    ASSERT_INT_EQ(cd_bcast_init(&bc, "x", SIZE_MAX / 2, 4), -EINVAL);
}

/* Capacity 4, ten messages unread: six were overwritten. The next read
 * says so, exactly, and the reads after it go on from the oldest kept. */
/* test: a lagging subscriber is told exactly what it missed */
static void a_lagging_subscriber_is_told_exactly_what_it_missed(void)
{
    cd_bsub_t s;
    long v = -1;
    uint64_t missed = 0;
    cd_reg_reset();
    cd_reg_set_trace(1);
    CU_ASSERT_FATAL(cd_bcast_init(&bc, "config", sizeof(long), 4) == 0);
    CU_ASSERT_FATAL(cd_bcast_subscribe(&bc, &s, "slow") == 0);
    send_range(0, 10);
    ASSERT_INT_EQ(info(s.id)->chan_depth, 10); /* behind: past capacity */
    ASSERT_INT_EQ(cd_bcast_recv(&s, &v, &missed), CD_BCAST_LAGGED);
    ASSERT_INT_EQ(missed, 6);
    ASSERT_INT_EQ(v, -1); /* nothing copied with the news */
    CU_ASSERT_TRUE(traced(CD_OP_LAGGED, s.id, 6));
    for (long want = 6; want < 10; want++) {
        ASSERT_INT_EQ(cd_bcast_recv(&s, &v, &missed), 0);
        ASSERT_INT_EQ(v, want);
        ASSERT_INT_EQ(missed, 0);
    }
    ASSERT_INT_EQ(cd_bcast_try_recv(&s, &v, &missed), -EAGAIN);
    cd_bsub_stats_t st;
    cd_bcast_sub_stats(&s, &st);
    ASSERT_INT_EQ(st.received, 4);
    ASSERT_INT_EQ(st.missed, 6);
    ASSERT_INT_EQ(st.behind, 0);
    ASSERT_INT_EQ(info(s.id)->chan_drops, 6);
    /* It lags again: told again, the count its own. */
    send_range(10, 15);
    ASSERT_INT_EQ(cd_bcast_recv(&s, &v, &missed), CD_BCAST_LAGGED);
    ASSERT_INT_EQ(missed, 1);
    ASSERT_INT_EQ(cd_bcast_recv(&s, &v, &missed), 0);
    ASSERT_INT_EQ(v, 11);
    cd_bcast_sub_stats(&s, &st);
    ASSERT_INT_EQ(st.missed, 7);
    char line[256];
    cd_trace_event_t e = { .op = CD_OP_LAGGED, .obj = s.id, .arg = 6,
                           .thread = cd_self() };
    cd_trace_format(&e, line, sizeof line);
    ASSERT_STR_HAS(line, "lagged     slow             missed 6");
    cd_bcast_unsubscribe(&s);
    cd_bcast_destroy(&bc);
}

/* A subscriber that never reads holds nothing: the channel's memory is
 * its ring, however far behind the subscriber falls. */
/* test: memory stays bounded however far one falls behind */
static void memory_stays_bounded_however_far_a_subscriber_falls(void)
{
    cd_bsub_t s, quick;
    long v;
    uint64_t missed;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_bcast_init(&bc, "config", sizeof(long), 16) == 0);
    CU_ASSERT_FATAL(cd_bcast_subscribe(&bc, &s, "asleep") == 0);
    CU_ASSERT_FATAL(cd_bcast_subscribe(&bc, &quick, "quick") == 0);
    for (long i = 0; i < 100000; i++) {
        ASSERT_INT_EQ(cd_bcast_send(&bc, &i), 0);
        if (cd_bcast_try_recv(&quick, &v, &missed) != 0 || v != i)
            CU_FAIL_FATAL("the quick subscriber missed one");
    }
    ASSERT_INT_EQ(info(bc.id)->chan_bytes, 16 * sizeof(long));
    ASSERT_INT_EQ(info(bc.id)->chan_depth, 16);
    ASSERT_INT_EQ(info(s.id)->chan_depth, 100000);
    ASSERT_INT_EQ(cd_bcast_recv(&s, &v, &missed), CD_BCAST_LAGGED);
    ASSERT_INT_EQ(missed, 100000 - 16);
    ASSERT_INT_EQ(cd_bcast_recv(&s, &v, &missed), 0);
    ASSERT_INT_EQ(v, 100000 - 16);
    cd_bcast_unsubscribe(&s);
    cd_bcast_unsubscribe(&quick);
    cd_bcast_destroy(&bc);
}

/* test: a late subscriber reads from its subscription on */
static void a_late_subscriber_reads_from_its_subscription_on(void)
{
    cd_bsub_t s;
    long v;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_bcast_init(&bc, "config", sizeof(long), 8) == 0);
    send_range(0, 3);
    CU_ASSERT_FATAL(cd_bcast_subscribe(&bc, &s, "late") == 0);
    ASSERT_INT_EQ(cd_bcast_try_recv(&s, &v, NULL), -EAGAIN);
    send_range(3, 4);
    ASSERT_INT_EQ(cd_bcast_recv(&s, &v, NULL), 0);
    ASSERT_INT_EQ(v, 3);
    cd_bcast_unsubscribe(&s);
    cd_bcast_destroy(&bc);
}

/* A receiver thread; it keeps what it read, checking for gaps. */
typedef struct reader {
    cd_bsub_t sub;
    long next;      /* the value it expects next */
    long got, missed, gaps;
    int rc;         /* how it ended */
    long seen;      /* a plain variable read after the first message */
} reader_t;

static long written_before_send;

static void read_all(void *p)
{
    reader_t *r = p;
    long v;
    uint64_t missed;
    for (;;) {
        int rc = cd_bcast_recv(&r->sub, &v, &missed);
        if (rc == CD_BCAST_LAGGED) {
            r->missed += (long)missed;
            r->next += (long)missed;
            continue;
        }
        if (rc != 0) {
            r->rc = rc;
            return;
        }
        if (r->got++ == 0)
            r->seen = written_before_send;
        if (v != r->next)
            r->gaps++;
        r->next = v + 1;
    }
}

/* The reader thread a read one message and waits again on subscriber b. */
static int read_one_and_waits(const cd_snapshot_t *s, int a, int b)
{
    return oinfo(s, b)->chan_received == 1 && is_blocked_on(s, a, b);
}

/* A waiting reader shows blocked on its subscriber; a send wakes it and
 * orders it after the sender (TSan); the close ends it with -EPIPE. */
/* test: a send wakes a waiting reader; close ends it */
static void a_send_wakes_a_waiting_reader_and_close_ends_it(void)
{
    cd_thread_t t;
    static reader_t r;
    long v = 0;
    cd_reg_reset();
    memset(&r, 0, sizeof r);
    CU_ASSERT_FATAL(cd_bcast_init(&bc, "config", sizeof(long), 4) == 0);
    CU_ASSERT_FATAL(cd_bcast_subscribe(&bc, &r.sub, "reader") == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&t, "reader", read_all, &r) == 0);
    CU_ASSERT_FATAL(await(is_blocked_on, t.id, r.sub.id));
    written_before_send = 8;
    ASSERT_INT_EQ(cd_bcast_send(&bc, &v), 0);
    CU_ASSERT_FATAL(await(read_one_and_waits, t.id, r.sub.id));
    ASSERT_INT_EQ(cd_bcast_close(&bc), 0);
    ASSERT_INT_EQ(cd_thread_join(&t), 0);
    ASSERT_INT_EQ(r.rc, -EPIPE);
    ASSERT_INT_EQ(r.got, 1);
    ASSERT_INT_EQ(r.seen, 8);
    ASSERT_INT_EQ(cd_bcast_send(&bc, &v), -EPIPE);
    ASSERT_INT_EQ(cd_bcast_close(&bc), -EPIPE);
    cd_bcast_unsubscribe(&r.sub);
    cd_bcast_destroy(&bc);
}

/* test: after close, readers drain then get EPIPE */
static void after_close_readers_drain_then_get_epipe(void)
{
    cd_bsub_t s;
    long v;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_bcast_init(&bc, "config", sizeof(long), 4) == 0);
    CU_ASSERT_FATAL(cd_bcast_subscribe(&bc, &s, "reader") == 0);
    send_range(0, 2);
    ASSERT_INT_EQ(cd_bcast_close(&bc), 0);
    ASSERT_INT_EQ(cd_bcast_recv(&s, &v, NULL), 0);
    ASSERT_INT_EQ(cd_bcast_recv(&s, &v, NULL), 0);
    ASSERT_INT_EQ(v, 1);
    ASSERT_INT_EQ(cd_bcast_recv(&s, &v, NULL), -EPIPE);
    ASSERT_INT_EQ(cd_bcast_try_recv(&s, &v, NULL), -EPIPE);
    cd_bcast_unsubscribe(&s);
    cd_bcast_destroy(&bc);
}

/* A publisher thread: sends 0, 1, ... up to the count its argument holds
 * (an intptr_t), then closes the channel. */
static void publish(void *p)
{
    for (long v = 0; v < (intptr_t)p; v++)
        CU_ASSERT_EQUAL(cd_bcast_send(&bc, &v), 0);
    CU_ASSERT_EQUAL(cd_bcast_close(&bc), 0);
}

/* A fast publisher, a reader that keeps up and one that dawdles: each
 * reads or is told of every message, whatever the timing. */
#define STORM 20000

static void dawdle_then_read(void *p)
{
    reader_t *r = p;
    cd_latency("dawdle", 2000);
    read_all(r);
}

/* test: threads: no reader ever sees a silent gap */
static void threads_no_reader_ever_sees_a_silent_gap(void)
{
    cd_thread_t pub, ta, tb;
    static reader_t a, b;
    cd_reg_reset();
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    CU_ASSERT_FATAL(cd_bcast_init(&bc, "ticks", sizeof(long), 32) == 0);
    CU_ASSERT_FATAL(cd_bcast_subscribe(&bc, &a.sub, "eager") == 0);
    CU_ASSERT_FATAL(cd_bcast_subscribe(&bc, &b.sub, "dawdler") == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&ta, "eager", read_all, &a) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&tb, "dawdler", dawdle_then_read, &b)
                    == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&pub, "publisher", publish,
                                    (void *)(intptr_t)STORM) == 0);
    ASSERT_INT_EQ(cd_thread_join(&pub), 0);
    ASSERT_INT_EQ(cd_thread_join(&ta), 0);
    ASSERT_INT_EQ(cd_thread_join(&tb), 0);
    reader_t *rs[] = { &a, &b };
    for (int i = 0; i < 2; i++) {
        ASSERT_INT_EQ(rs[i]->rc, -EPIPE);
        ASSERT_INT_EQ(rs[i]->gaps, 0);
        ASSERT_INT_EQ(rs[i]->got + rs[i]->missed, STORM);
        ASSERT_INT_EQ(rs[i]->next, STORM);
    }
    /* The dawdler slept through at least STORM - 32 of them... unless the
     * publisher was slower still; either way the books balance above. */
    cd_bcast_unsubscribe(&a.sub);
    cd_bcast_unsubscribe(&b.sub);
    cd_bcast_destroy(&bc);
}

/* test: an aborted reader ends */
static void an_aborted_reader_ends(void)
{
    cd_thread_t t;
    static reader_t r;
    long v;
    cd_reg_reset();
    memset(&r, 0, sizeof r);
    r.rc = 1;
    CU_ASSERT_FATAL(cd_bcast_init(&bc, "quiet", sizeof(long), 4) == 0);
    CU_ASSERT_FATAL(cd_bcast_subscribe(&bc, &r.sub, "reader") == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&t, "reader", read_all, &r) == 0);
    CU_ASSERT_FATAL(await(is_blocked_on, t.id, r.sub.id));
    cd_reg_abort(CD_ABORT_TIMEOUT);
    ASSERT_INT_EQ(cd_thread_join(&t), -ECANCELED);
    ASSERT_INT_EQ(r.rc, 1);
    ASSERT_INT_EQ(cd_bcast_recv(&r.sub, &v, NULL), -ECANCELED);
    cd_bcast_unsubscribe(&r.sub);
    cd_bcast_destroy(&bc);
}

/* ================================= tasks ================================= */

static reader_t treader;
static where_t parked;

static void task_reader(void *arg)
{
    (void)arg;
    watched_say("waits");
    read_all(&treader);
    watched_say("closed");
}

static void task_publisher(void *arg)
{
    parked = where_is(*(int *)arg);
    watched_say("publishes");
    for (long v = 0; v < 3; v++) {
        CU_ASSERT_EQUAL(cd_bcast_send(&bc, &v), 0);
        cd_await_latency("between", 0);
    }
    CU_ASSERT_EQUAL(cd_bcast_close(&bc), 0);
}

/* test: a task reader parks, the worker runs on */
static void a_task_reader_parks_and_the_worker_runs_on(void)
{
    cd_reg_reset();
    memset(&treader, 0, sizeof treader);
    CU_ASSERT_FATAL(cd_bcast_init(&bc, "config", sizeof(long), 4) == 0);
    CU_ASSERT_FATAL(cd_bcast_subscribe(&bc, &treader.sub, "reader") == 0);
    run_two_tasks_on_one_worker("reader", task_reader, "publisher",
                                task_publisher);
    CU_ASSERT_STRING_EQUAL(watched_log, "waits publishes closed ");
    ASSERT_INT_EQ(parked.state, CD_T_PARKED);
    ASSERT_INT_EQ(parked.waiting_on, treader.sub.id);
    ASSERT_INT_EQ(treader.rc, -EPIPE);
    ASSERT_INT_EQ(treader.got, 3);
    ASSERT_INT_EQ(treader.gaps, 0);
    cd_bcast_unsubscribe(&treader.sub);
    cd_bcast_destroy(&bc);
}

/* ========================== under the scheduler ========================== */

#define CTRL_MSGS 12

/* One controlled run: a publisher and two readers on a ring of 2, which
 * the schedules make lag by every amount. Returns 1 when both readers'
 * books balanced with no gap; how many messages were missed in all goes
 * to *lost; the schedule to s. */
static int run_readers(const cd_sched_cfg_t *cfg, long *lost, char *s,
                       size_t size)
{
    cd_thread_t t[3];
    static reader_t r[2];
    const cd_sched_decision_t *d;
    cd_reg_reset();
    memset(r, 0, sizeof r);
    CU_ASSERT_FATAL(cd_sched_begin(cfg) == 0);
    CU_ASSERT_FATAL(cd_bcast_init(&bc, "config", sizeof(long), 2) == 0);
    CU_ASSERT_FATAL(cd_bcast_subscribe(&bc, &r[0].sub, "sub-1") == 0);
    CU_ASSERT_FATAL(cd_bcast_subscribe(&bc, &r[1].sub, "sub-2") == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&t[0], "sub-1", read_all, &r[0]) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&t[1], "sub-2", read_all, &r[1]) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&t[2], "pub", publish,
                                    (void *)(intptr_t)CTRL_MSGS) == 0);
    for (int i = 0; i < 3; i++)
        cd_thread_join(&t[i]);
    int ok = !cd_reg_aborted();
    cd_sched_format_schedule(d, cd_sched_decisions(&d), s, size);
    cd_sched_end();
    *lost = 0;
    for (int i = 0; i < 2; i++) {
        ok &= r[i].rc == -EPIPE && r[i].gaps == 0 &&
              r[i].got + r[i].missed == CTRL_MSGS;
        *lost += r[i].missed;
        cd_bcast_unsubscribe(&r[i].sub);
    }
    cd_bcast_destroy(&bc);
    return ok;
}

/* test: controlled: lags of every size, no gap, replay */
static void controlled_lags_of_every_size_leave_no_gap_and_replay(void)
{
    static char first[8192], replayed[8192];
    static uint16_t prefix[4096];
    int lagged_runs = 0;
    for (uint64_t seed = 1; seed <= 30; seed++) {
        cd_sched_cfg_t cfg = { .strategy = CD_SCHED_PCT, .seed = seed,
                               .depth = 3, .pct_steps = 80 };
        long lost, lost_again;
        CU_ASSERT_TRUE(run_readers(&cfg, &lost, first, sizeof first));
        lagged_runs += lost > 0;
        char err[128];
        int n = cd_sched_parse_schedule(first, prefix, 4096, err, sizeof err);
        CU_ASSERT_FATAL(n >= 0);
        cd_sched_cfg_t rp = { .strategy = CD_SCHED_REPLAY, .prefix = prefix,
                              .nprefix = n };
        CU_ASSERT_TRUE(run_readers(&rp, &lost_again, replayed,
                                   sizeof replayed));
        CU_ASSERT_STRING_EQUAL(first, replayed);
        ASSERT_INT_EQ(lost_again, lost);
    }
    /* The schedules did make readers lag: the lag path was explored. */
    CU_ASSERT_TRUE(lagged_runs > 0);
}
