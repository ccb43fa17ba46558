/*
 * test_registry.c - the registry: tables, thread states as observers see
 * them, held locks, waiters, self-registration, full tables and the trace.
 *
 * Tests that start threads run in a forked child killed at a time limit
 * (CHILD_TEST, or add_forked_test for CUnit bodies), so a library bug
 * fails the test instead of hanging the runner.
 * "Thread X is now blocked" is established by polling registry snapshots
 * with a generous deadline, never by sleeping and hoping.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "../lib/cd_internal.h" /* cd__lockorder_add, cd__reg_add_* */
#include "../lib/cd_lockorder.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "../lib/cd_trace.h"
#include "harness.h"

/* suite: registry */

/* ======================= watching the registry =========================== */

/* A condition for await(): obj has exactly n threads waiting for it. */
static int has_waiters(const cd_snapshot_t *s, int obj, int n)
{
    const cd_obj_info_t *o = oinfo(s, obj);
    return o && o->nwaiters == n;
}

/* =============================== helpers ================================= */

/* A plain (untracked) gate: a thread parked here shows as running. */
typedef struct latch {
    pthread_mutex_t m;
    pthread_cond_t c;
    int open;
} latch_t;

#define LATCH_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 }

static void latch_wait(latch_t *l)
{
    pthread_mutex_lock(&l->m);
    while (!l->open)
        pthread_cond_wait(&l->c, &l->m);
    pthread_mutex_unlock(&l->m);
}

static void latch_open(latch_t *l)
{
    pthread_mutex_lock(&l->m);
    l->open = 1;
    pthread_cond_broadcast(&l->c);
    pthread_mutex_unlock(&l->m);
}

static void park_on_latch(void *arg)
{
    latch_wait(arg);
}

static void lock_and_unlock(void *arg)
{
    cd_mutex_lock(arg);
    cd_mutex_unlock(arg);
}

static void sleep_a_minute(void *arg)
{
    (void)arg;
    cd_latency("payment-gateway", 60 * 1000 * 1000);
}

/* =============================== the run ================================ */

/* test: test_reset_empties_tables_and_findings */
static void test_reset_empties_tables_and_findings(void)
{
    cd_snapshot_t *s = calloc(1, sizeof *s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);

    cd_reg_reset();
    CU_ASSERT_TRUE(cd__reg_add_thread("t1") > 0);
    int a = cd__reg_add_object("A", CD_OBJ_MUTEX, NULL, NULL);
    int b = cd__reg_add_object("B", CD_OBJ_MUTEX, NULL, NULL);
    cd_cycle_t c = { .len = 1, .link = { { 1, a, a } } };
    cd__reg_set_deadlock(&c);
    cd__lockorder_add(1, a, b, CD_HERE, CD_HERE);
    CU_ASSERT_EQUAL(cd__lockorder_add(1, b, a, CD_HERE, CD_HERE), 1);
    cd_reg_set_trace(1);
    cd_point("before reset");
    cd_reg_set_trace(0);
    cd_reg_abort(CD_ABORT_TIMEOUT);

    cd_reg_snapshot(s);
    ASSERT_INT_EQ(s->nthreads, 2); /* t1, and main through cd_point */
    ASSERT_INT_EQ(s->nobjs, 2);
    ASSERT_INT_EQ(s->abort_reason, CD_ABORT_TIMEOUT);

    cd_reg_reset();
    cd_reg_snapshot(s);
    ASSERT_INT_EQ(s->nthreads, 0);
    ASSERT_INT_EQ(s->nobjs, 0);
    ASSERT_INT_EQ(s->abort_reason, CD_ABORT_NONE);
    ASSERT_INT_EQ(cd_reg_aborted(), CD_ABORT_NONE);
    ASSERT_INT_EQ(cd_reg_deadlock(NULL), 0);
    cd_inversion_t inv[CD_MAX_INVERSIONS];
    ASSERT_INT_EQ(cd_reg_inversions(inv, CD_MAX_INVERSIONS), 0);
    ASSERT_INT_EQ(cd_trace_total(), 0);
    CU_ASSERT_PTR_NULL(cd_reg_thread(1));
    CU_ASSERT_PTR_NULL(cd_reg_object(1));
    /* The lock-order graph forgot its edges too: A->B alone is no cycle. */
    a = cd__reg_add_object("A", CD_OBJ_MUTEX, NULL, NULL);
    b = cd__reg_add_object("B", CD_OBJ_MUTEX, NULL, NULL);
    ASSERT_INT_EQ(cd__lockorder_add(1, b, a, CD_HERE, CD_HERE), 0);
    cd_reg_reset();
    free(s);
}

static void *call_self(void *arg)
{
    *(int *)arg = cd_self();
    return NULL;
}

/* forked test: test_self_registers_unknown_threads */
static void test_self_registers_unknown_threads(void)
{
    pthread_t pt;
    int other = 0;

    cd_reg_reset();
    int me = cd_self();
    ASSERT_INT_EQ(me, 1);
    ASSERT_INT_EQ(cd_self(), me); /* registered once */
    CU_ASSERT_STRING_EQUAL(cd_reg_thread_name(me), "main");
    ASSERT_INT_EQ(cd_reg_thread(me)->state, CD_T_RUNNING);
    CU_ASSERT_FALSE(cd__self_is_spawned());

    /* A second thread libconc did not start gets a numbered name. */
    CU_ASSERT_FATAL(pthread_create(&pt, NULL, call_self, &other) == 0);
    pthread_join(pt, NULL);
    ASSERT_INT_EQ(other, 2);
    CU_ASSERT_STRING_EQUAL(cd_reg_thread_name(other), "thread-2");

    /* A new run forgets the old ids: main registers again as 1. */
    cd_reg_reset();
    cd__reg_add_thread("early");
    ASSERT_INT_EQ(cd_self(), 2);
    CU_ASSERT_STRING_EQUAL(cd_reg_thread_name(2), "thread-2");
    cd_reg_reset();
    ASSERT_INT_EQ(cd_self(), 1);
    cd_reg_reset();
}

/* test: test_registered_thread_starts_new */
static void test_registered_thread_starts_new(void)
{
    cd_reg_reset();
    int id = cd__reg_add_thread("not-started-yet");
    CU_ASSERT_TRUE_FATAL(id > 0);
    CU_ASSERT_STRING_EQUAL(cd_reg_thread_name(id), "not-started-yet");
    ASSERT_INT_EQ(cd_reg_thread(id)->state, CD_T_NEW);
    CU_ASSERT_STRING_EQUAL(cd_thread_state_name(CD_T_NEW), "new");
    cd_reg_reset();
}

/* ============================ thread states ============================== */

/* test: test_spawned_thread_shows_name_running_then_done */
CHILD_TEST(test_spawned_thread_shows_name_running_then_done)
{
    latch_t latch = LATCH_INIT;
    cd_thread_t t;

    cd_reg_reset();
    EXPECT_EQ(cd_thread_spawn(&t, "worker", park_on_latch, &latch), 0);
    /* Before it runs it is new; it may already be running. */
    const cd_thread_info_t *ti = tinfo(take_snapshot(), t.id);
    EXPECT(ti != NULL);
    EXPECT_STR(ti->name, "worker");
    EXPECT(ti->state == CD_T_NEW || ti->state == CD_T_RUNNING);

    EXPECT(await(is_in_state, t.id, CD_T_RUNNING));
    EXPECT_STR(tinfo(snap(), t.id)->name, "worker");
    EXPECT_STR(cd_thread_state_name(CD_T_RUNNING), "running");

    latch_open(&latch);
    EXPECT_EQ(cd_thread_join(&t), 0);
    ti = tinfo(take_snapshot(), t.id);
    EXPECT_EQ(ti->state, CD_T_DONE);
    EXPECT_EQ(ti->nheld, 0);
    EXPECT_STR(cd_thread_state_name(ti->state), "done");
    return 0;
}

/* test: test_blocked_thread_shows_the_lock_it_waits_for */
CHILD_TEST(test_blocked_thread_shows_the_lock_it_waits_for)
{
    cd_mutex_t a, other;
    cd_thread_t t;

    cd_reg_reset();
    EXPECT_EQ(cd_mutex_init(&other, "other"), 0);
    if (start_blocked_on_held(&a, "shop-lock", &t, "checkout-1",
                              lock_and_unlock, &a))
        return 1;
    const cd_thread_info_t *ti = tinfo(snap(), t.id);
    EXPECT_STR(ti->name, "checkout-1");
    EXPECT_EQ(ti->waiting_on, a.id); /* not the other lock */
    EXPECT_EQ(ti->wait_timed, 0);
    EXPECT_STR(cd_reg_object_name(ti->waiting_on), "shop-lock");
    EXPECT_EQ(oinfo(snap(), a.id)->owner, cd_self());
    EXPECT_STR(cd_thread_state_name(ti->state), "blocked");

    cd_mutex_unlock(&a);
    EXPECT_EQ(cd_thread_join(&t), 0);
    ti = tinfo(take_snapshot(), t.id);
    EXPECT_EQ(ti->state, CD_T_DONE);
    EXPECT_EQ(ti->waiting_on, 0);
    return 0;
}

/* test: test_sleeping_thread_shows_latency_label */
CHILD_TEST(test_sleeping_thread_shows_latency_label)
{
    cd_thread_t t;

    cd_reg_reset();
    cd_reg_set_latency_scale(1000);
    EXPECT_EQ(cd_thread_spawn(&t, "payer", sleep_a_minute, NULL), 0);
    EXPECT(await(is_in_state, t.id, CD_T_SLEEPING));
    const cd_thread_info_t *ti = tinfo(snap(), t.id);
    EXPECT_STR(ti->what, "payment-gateway");
    EXPECT_STR(cd_thread_state_name(ti->state), "sleeping");

    /* A minute is too long to wait: the run's abort ends the sleep. */
    cd_reg_abort(CD_ABORT_TIMEOUT);
    EXPECT_EQ(cd_thread_join(&t), -ECANCELED);
    EXPECT_EQ(tinfo(take_snapshot(), t.id)->state, CD_T_ABORTED);
    return 0;
}

/* ========================= locks and waiters ============================= */

typedef struct holder {
    cd_mutex_t *first, *second, *gate;
    int line_first, line_second;
} holder_t;

/* Takes first and second, then waits at gate (held by the test) so the
 * test can look at what it holds. */
static void hold_two_then_wait(void *arg)
{
    holder_t *h = arg;
    /* Each lock call shares its line with the __LINE__ the test checks. */
    h->line_first = __LINE__; cd_mutex_lock(h->first);
    h->line_second = __LINE__; cd_mutex_lock(h->second);
    cd_mutex_lock(h->gate);
    cd_mutex_unlock(h->gate);
    cd_mutex_unlock(h->second);
    cd_mutex_unlock(h->first);
}

/* test: test_held_locks_show_in_thread_and_as_object_owner */
CHILD_TEST(test_held_locks_show_in_thread_and_as_object_owner)
{
    cd_mutex_t a, b, gate;
    holder_t h = { &a, &b, &gate, 0, 0 };
    cd_thread_t t;

    cd_reg_reset();
    EXPECT_EQ(cd_mutex_init(&a, "acct-A"), 0);
    EXPECT_EQ(cd_mutex_init(&b, "acct-B"), 0);
    if (start_blocked_on_held(&gate, "gate", &t, "transfer-1",
                              hold_two_then_wait, &h))
        return 1;
    cd_snapshot_t *s = snap();
    const cd_thread_info_t *ti = tinfo(s, t.id);
    EXPECT_EQ(ti->nheld, 2);
    EXPECT_EQ(ti->held[0], a.id);
    EXPECT_EQ(ti->held[1], b.id);
    const cd_obj_info_t *oa = oinfo(s, a.id), *ob = oinfo(s, b.id);
    EXPECT(oa != NULL && ob != NULL);
    EXPECT_STR(oa->name, "acct-A");
    EXPECT_EQ(oa->owner, t.id);
    EXPECT_EQ(ob->owner, t.id);
    EXPECT_EQ(oinfo(s, gate.id)->owner, cd_self());
    EXPECT_STR(oa->site.file, __FILE__);
    EXPECT_EQ(oa->acquisitions, 1);
    int line_a = oa->site.line, line_b = ob->site.line;

    cd_mutex_unlock(&gate);
    EXPECT_EQ(cd_thread_join(&t), 0);
    /* The worker's lines are ours to read only after the join. */
    EXPECT_EQ(line_a, h.line_first);
    EXPECT_EQ(line_b, h.line_second);
    s = take_snapshot();
    EXPECT_EQ(tinfo(s, t.id)->nheld, 0);
    EXPECT_EQ(oinfo(s, a.id)->owner, 0);
    EXPECT_EQ(oinfo(s, b.id)->owner, 0);
    return 0;
}

/* test: test_nwaiters_counts_threads_waiting_for_a_lock */
CHILD_TEST(test_nwaiters_counts_threads_waiting_for_a_lock)
{
    enum { N = 3 };
    cd_mutex_t a;
    cd_thread_t t[N];

    cd_reg_reset();
    EXPECT_EQ(cd_mutex_init(&a, "shop-lock"), 0);
    EXPECT_EQ(cd_mutex_lock(&a), 0);
    for (int i = 0; i < N; i++) {
        EXPECT_EQ(cd_thread_spawn(&t[i], "checkout", lock_and_unlock, &a), 0);
        EXPECT(await(is_blocked_on, t[i].id, a.id));
        EXPECT_EQ(oinfo(snap(), a.id)->nwaiters, i + 1);
    }
    cd_mutex_unlock(&a);
    for (int i = 0; i < N; i++)
        EXPECT_EQ(cd_thread_join(&t[i]), 0);
    EXPECT(await(has_waiters, a.id, 0));
    EXPECT_EQ(oinfo(snap(), a.id)->acquisitions, N + 1);
    return 0;
}

/* ============================= full tables =============================== */

/* forked test: test_full_thread_table_returns_enospc */
static void test_full_thread_table_returns_enospc(void)
{
    cd_thread_t t;
    cd_mutex_t m;
    int last = 0;

    cd_reg_reset();
    for (int i = 0; i < CD_MAX_THREADS; i++)
        last = cd__reg_add_thread("filler");
    ASSERT_INT_EQ(last, CD_MAX_THREADS);
    ASSERT_INT_EQ(cd__reg_add_thread("one-too-many"), -ENOSPC);
    ASSERT_INT_EQ(cd_thread_spawn(&t, "one-too-many", park_on_latch, NULL),
                  -ENOSPC);
    CU_ASSERT_PTR_NULL(cd_reg_thread(CD_MAX_THREADS + 1));
    CU_ASSERT_PTR_NOT_NULL(cd_reg_thread(CD_MAX_THREADS));

    /* A thread that found no slot is untracked, but its locks still work. */
    ASSERT_INT_EQ(cd_self(), 0);
    CU_ASSERT_FATAL(cd_mutex_init(&m, "m") == 0);
    ASSERT_INT_EQ(cd_mutex_lock(&m), 0);
    ASSERT_INT_EQ(cd_mutex_trylock(&m), -EBUSY);
    ASSERT_INT_EQ(cd_reg_object(m.id)->owner, 0);
    cd_mutex_unlock(&m);
    ASSERT_INT_EQ(cd_mutex_trylock(&m), 0);
    cd_mutex_unlock(&m);
    cd_mutex_destroy(&m);

    cd_reg_reset();
    ASSERT_INT_EQ(cd_self(), 1); /* room again */
    cd_reg_reset();
}

/* test: test_full_object_table_returns_enospc */
static void test_full_object_table_returns_enospc(void)
{
    cd_mutex_t m;
    int last = 0;

    cd_reg_reset();
    for (int i = 0; i < CD_MAX_OBJECTS; i++)
        last = cd__reg_add_object("filler", CD_OBJ_MUTEX, NULL, NULL);
    ASSERT_INT_EQ(last, CD_MAX_OBJECTS);
    ASSERT_INT_EQ(cd__reg_add_object("one-too-many", CD_OBJ_MUTEX, NULL, NULL),
                  -ENOSPC);
    ASSERT_INT_EQ(cd_mutex_init(&m, "one-too-many"), -ENOSPC);
    CU_ASSERT_PTR_NULL(cd_reg_object(CD_MAX_OBJECTS + 1));
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_mutex_init(&m, "room-again") == 0);
    ASSERT_INT_EQ(m.id, 1);
    cd_mutex_destroy(&m);
    cd_reg_reset();
}

/* ================================ trace ================================== */

/* test: test_trace_on_records_lock_acquired_unlock_in_order */
static void test_trace_on_records_lock_acquired_unlock_in_order(void)
{
    static const int want[] = { CD_OP_LOCK, CD_OP_ACQUIRED, CD_OP_UNLOCK };
    cd_trace_event_t ev[3];
    cd_mutex_t m;
    int line_lock, line_unlock;

    cd_reg_reset();
    CU_ASSERT_FATAL(cd_mutex_init(&m, "shop-lock") == 0);
    int me = cd_self();
    cd_reg_set_trace(1);
    line_lock = __LINE__; cd_mutex_lock(&m);
    line_unlock = __LINE__; cd_mutex_unlock(&m);
    cd_reg_set_trace(0);

    ASSERT_INT_EQ(cd_trace_total(), 3);
    uint64_t total;
    ASSERT_INT_EQ(cd_trace_read(ev, 3, &total), 3);
    ASSERT_INT_EQ(total, 3);
    for (int i = 0; i < 3; i++) {
        ASSERT_INT_EQ(ev[i].seq, i);
        ASSERT_INT_EQ(ev[i].op, want[i]);
        ASSERT_INT_EQ(ev[i].thread, me);
        ASSERT_INT_EQ(ev[i].obj, m.id);
        CU_ASSERT_STRING_EQUAL(ev[i].site.file, __FILE__);
        if (i > 0)
            CU_ASSERT_TRUE(ev[i].t_ns >= ev[i - 1].t_ns);
    }
    ASSERT_INT_EQ(ev[0].site.line, line_lock);
    ASSERT_INT_EQ(ev[1].site.line, line_lock);
    ASSERT_INT_EQ(ev[2].site.line, line_unlock);

    char line[256];
    cd_trace_format(&ev[1], line, sizeof line);
    ASSERT_STR_HAS(line, "main");
    ASSERT_STR_HAS(line, "acquired");
    ASSERT_STR_HAS(line, "shop-lock");
    cd_mutex_destroy(&m);
    cd_reg_reset();
}

/* test: test_trace_off_records_nothing */
static void test_trace_off_records_nothing(void)
{
    cd_mutex_t m;

    cd_reg_reset();
    cd_reg_set_trace(0);
    CU_ASSERT_FATAL(cd_mutex_init(&m, "shop-lock") == 0);
    cd_mutex_lock(&m);
    ASSERT_INT_EQ(cd_mutex_trylock(&m), -EBUSY);
    cd_mutex_unlock(&m);
    cd_point("a point");
    ASSERT_INT_EQ(cd_trace_total(), 0);
    cd_trace_event_t ev;
    uint64_t total;
    ASSERT_INT_EQ(cd_trace_read(&ev, 1, &total), 0);
    ASSERT_INT_EQ(total, 0);
    cd_mutex_destroy(&m);
    cd_reg_reset();
}

/* Each thread's own events keep their order: a waiter's trace reads
 * start, lock, blocked, acquired, unlock, exit. */
/* test: test_trace_shows_a_waiting_thread_in_order */
CHILD_TEST(test_trace_shows_a_waiting_thread_in_order)
{
    static const int want[] = { CD_OP_START, CD_OP_LOCK, CD_OP_BLOCK,
                                CD_OP_ACQUIRED, CD_OP_UNLOCK, CD_OP_EXIT };
    cd_mutex_t a;
    cd_thread_t t;
    int n = 0;

    cd_reg_reset();
    cd_reg_set_trace(1);
    EXPECT_EQ(cd_mutex_init(&a, "shop-lock"), 0);
    EXPECT_EQ(cd_mutex_lock(&a), 0);
    EXPECT_EQ(cd_thread_spawn(&t, "checkout-1", lock_and_unlock, &a), 0);
    EXPECT(await(is_blocked_on, t.id, a.id));
    cd_mutex_unlock(&a);
    EXPECT_EQ(cd_thread_join(&t), 0);
    cd_reg_set_trace(0);

    const cd_trace_event_t *ev;
    int nev = trace_events(&ev);
    EXPECT_EQ((uint64_t)nev, cd_trace_total());
    for (int i = 0; i < nev; i++) {
        if (ev[i].thread != t.id)
            continue;
        EXPECT(n < 6);
        EXPECT_EQ(ev[i].op, want[n]);
        n++;
    }
    EXPECT_EQ(n, 6);
    return 0;
}

/* A lock taken at once reads no clock: it takes the time of its thread's
 * next event (here a point inside the critical section), and while it is
 * the newest event of its thread, the time of the event before it. */
/* test: test_trace_gives_a_lock_taken_at_once_its_next_events_time */
CHILD_TEST(test_trace_gives_a_lock_taken_at_once_its_next_events_time)
{
    cd_mutex_t a;

    cd_reg_reset();
    cd_reg_set_trace(1);
    EXPECT_EQ(cd_mutex_init(&a, "shop-lock"), 0);
    cd_point("before");
    cd_mutex_lock(&a);
    /* Read while held: lock, acquired at the point before. */
    const cd_trace_event_t *ev;
    EXPECT_EQ(trace_events(&ev), 3);
    EXPECT_EQ(ev[0].op, CD_OP_POINT);
    EXPECT_EQ(ev[1].op, CD_OP_LOCK);
    EXPECT_EQ(ev[2].op, CD_OP_ACQUIRED);
    EXPECT_EQ(ev[1].t_ns, ev[0].t_ns);
    EXPECT_EQ(ev[2].t_ns, ev[0].t_ns);
    /* 100 us of untraced work: a lock that read its own clock would be
     * shown that long before the point inside. */
    for (int64_t end = cd_now_ns() + 100000; cd_now_ns() < end;)
        ;
    cd_point("inside");
    cd_mutex_unlock(&a);
    cd_reg_set_trace(0);

    static const int want[] = { CD_OP_POINT, CD_OP_LOCK, CD_OP_ACQUIRED,
                                CD_OP_POINT, CD_OP_UNLOCK };
    EXPECT_EQ(trace_events(&ev), 5);
    for (int i = 0; i < 5; i++)
        EXPECT_EQ(ev[i].op, want[i]);
    /* Half the spin: ticks become ns through a measured rate. */
    EXPECT(ev[3].t_ns >= ev[0].t_ns + 50000);
    EXPECT_EQ(ev[1].t_ns, ev[3].t_ns);
    EXPECT_EQ(ev[2].t_ns, ev[3].t_ns);
    EXPECT(ev[4].t_ns >= ev[3].t_ns);
    return 0;
}

static atomic_int go_lock;

static void lock_when_told(void *arg)
{
    while (!atomic_load(&go_lock))
        sched_yield();
    lock_and_unlock(arg);
}

/* The owner's lock was taken at once and its critical section traces
 * nothing until the unlock, so its time read alone would be the unlock's:
 * after the worker that asked meanwhile and blocked. The trace still
 * shows the owner's lock and acquired before the worker's lock. */
/* test: test_trace_shows_the_owners_lock_before_a_waiter_that_came_later */
CHILD_TEST(test_trace_shows_the_owners_lock_before_a_waiter_that_came_later)
{
    cd_mutex_t a;
    cd_thread_t t;

    cd_reg_reset();
    cd_reg_set_trace(1);
    atomic_store(&go_lock, 0);
    EXPECT_EQ(cd_mutex_init(&a, "shop-lock"), 0);
    EXPECT_EQ(cd_thread_spawn(&t, "checkout-1", lock_when_told, &a), 0);
    cd_mutex_lock(&a);
    atomic_store(&go_lock, 1);
    EXPECT(await(is_blocked_on, t.id, a.id));
    cd_mutex_unlock(&a);
    EXPECT_EQ(cd_thread_join(&t), 0);
    cd_reg_set_trace(0);

    const cd_trace_event_t *ev;
    int n = trace_events(&ev), me = cd_self();
    int main_lock = -1, main_acq = -1, main_unlock = -1;
    int their_lock = -1, their_block = -1;
    for (int i = 0; i < n; i++) {
        if (i > 0)
            EXPECT(ev[i].t_ns >= ev[i - 1].t_ns);
        int *at = NULL;
        if (ev[i].thread == me && ev[i].obj == a.id)
            at = ev[i].op == CD_OP_LOCK       ? &main_lock
                 : ev[i].op == CD_OP_ACQUIRED ? &main_acq
                 : ev[i].op == CD_OP_UNLOCK   ? &main_unlock
                                              : NULL;
        else if (ev[i].thread == t.id && ev[i].obj == a.id)
            at = ev[i].op == CD_OP_LOCK    ? &their_lock
                 : ev[i].op == CD_OP_BLOCK ? &their_block
                                           : NULL;
        if (at && *at < 0)
            *at = i;
    }
    EXPECT(main_lock >= 0 && their_lock >= 0 && their_block >= 0);
    EXPECT_EQ(main_acq, main_lock + 1);
    EXPECT(main_acq < their_lock);
    EXPECT(their_lock < their_block);
    EXPECT(their_block < main_unlock);
    return 0;
}

static void pairs_on(void *arg)
{
    for (int i = 0; i < 3; i++) {
        cd_mutex_lock(arg);
        cd_mutex_unlock(arg);
    }
}

/* A free run's threads trace into rings of their own; read back, the
 * events are one stream in time order: main's pairs, the worker's (which
 * it started and joined in between), main's again. */
/* test: test_trace_merges_the_threads_rings_in_time_order */
CHILD_TEST(test_trace_merges_the_threads_rings_in_time_order)
{
    cd_mutex_t a, b;
    cd_thread_t t;

    cd_reg_reset();
    cd_reg_set_trace(1);
    EXPECT_EQ(cd_mutex_init(&a, "shop-lock"), 0);
    EXPECT_EQ(cd_mutex_init(&b, "stock-lock"), 0);
    pairs_on(&a);
    EXPECT_EQ(cd_thread_spawn(&t, "checkout-1", pairs_on, &b), 0);
    EXPECT_EQ(cd_thread_join(&t), 0);
    pairs_on(&a);
    cd_reg_set_trace(0);

    /* Main: 3 pairs, spawn, join, 3 pairs; the worker: start, 3 pairs,
     * exit, all after main's spawn and before main's last pairs. */
    static const int by_main[] = {
        CD_OP_LOCK, CD_OP_ACQUIRED, CD_OP_UNLOCK, CD_OP_LOCK, CD_OP_ACQUIRED,
        CD_OP_UNLOCK, CD_OP_LOCK, CD_OP_ACQUIRED, CD_OP_UNLOCK, CD_OP_SPAWN,
        CD_OP_JOIN, CD_OP_LOCK, CD_OP_ACQUIRED, CD_OP_UNLOCK, CD_OP_LOCK,
        CD_OP_ACQUIRED, CD_OP_UNLOCK, CD_OP_LOCK, CD_OP_ACQUIRED, CD_OP_UNLOCK };
    static const int by_worker[] = {
        CD_OP_START, CD_OP_LOCK, CD_OP_ACQUIRED, CD_OP_UNLOCK, CD_OP_LOCK,
        CD_OP_ACQUIRED, CD_OP_UNLOCK, CD_OP_LOCK, CD_OP_ACQUIRED,
        CD_OP_UNLOCK, CD_OP_EXIT };
    const cd_trace_event_t *ev;
    int n = trace_events(&ev), me = cd_self(), nm = 0, nw = 0;
    EXPECT_EQ(n, 20 + 11);
    EXPECT_EQ((uint64_t)n, cd_trace_total());
    for (int i = 0; i < n; i++) {
        EXPECT_EQ(ev[i].seq, (uint64_t)i);
        if (i > 0)
            EXPECT(ev[i].t_ns >= ev[i - 1].t_ns);
        if (ev[i].thread == me) {
            EXPECT(nm < 20);
            EXPECT_EQ(ev[i].op, by_main[nm]);
            EXPECT_EQ(ev[i].obj, by_main[nm] == CD_OP_SPAWN ||
                                         by_main[nm] == CD_OP_JOIN
                                     ? t.id
                                     : a.id);
            nm++;
        } else {
            EXPECT_EQ(ev[i].thread, t.id);
            EXPECT(nw < 11);
            EXPECT(nm == 10 || nm == 11); /* after spawn, before the pairs */
            EXPECT_EQ(ev[i].op, by_worker[nw]);
            if (nw > 0 && nw < 10)
                EXPECT_EQ(ev[i].obj, b.id);
            nw++;
        }
    }
    EXPECT_EQ(nm, 20);
    EXPECT_EQ(nw, 11);
    return 0;
}

/* A thread whose ring went round has lost its oldest events: the trace
 * read back is the newest whole stretch of the run, so the worker's
 * events, older than the oldest main still has, are left out with them
 * rather than shown across a hole. */
/* test: test_trace_keeps_the_newest_whole_stretch_when_a_ring_wraps */
CHILD_TEST(test_trace_keeps_the_newest_whole_stretch_when_a_ring_wraps)
{
    enum { PAIRS = 5000 };
    cd_mutex_t a;
    cd_thread_t t;

    cd_reg_reset();
    cd_reg_set_trace(1);
    EXPECT_EQ(cd_mutex_init(&a, "shop-lock"), 0);
    EXPECT_EQ(cd_thread_spawn(&t, "checkout-1", pairs_on, &a), 0);
    EXPECT_EQ(cd_thread_join(&t), 0);
    for (int i = 0; i < PAIRS; i++) {
        cd_mutex_lock(&a);
        cd_mutex_unlock(&a);
    }
    cd_reg_set_trace(0);

    static const int mine[] = { CD_OP_LOCK, CD_OP_ACQUIRED, CD_OP_UNLOCK };
    const cd_trace_event_t *ev;
    int n = trace_events(&ev), me = cd_self();
    uint64_t total = cd_trace_total();
    /* Main: spawn, join, and a lock + acquired slot and an unlock slot per
     * pair; the worker: start, 3 pairs, exit. */
    EXPECT_EQ(total, 2 + 3 * PAIRS + 2 + 9);
    /* A reader keeps the ring's newest CD_TRACE_RING_CAP - 1 slots (the
     * oldest may be the one its thread writes next), the newest an unlock,
     * every other one a lock taken at once, which reads back as two. */
    int slots = CD_TRACE_RING_CAP - 1;
    EXPECT_EQ(n, (slots + 1) / 2 + 2 * (slots / 2));
    for (int i = 0; i < n; i++) {
        EXPECT_EQ(ev[i].thread, me);
        EXPECT_EQ(ev[i].op, mine[(i + 3 - n % 3) % 3]); /* last: unlock */
        EXPECT_EQ(ev[i].seq, total - (uint64_t)n + (uint64_t)i);
    }
    return 0;
}

/* ================================ suite ================================== */

/* Tests that start threads (or would, if a table check broke). */
