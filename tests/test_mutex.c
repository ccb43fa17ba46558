/*
 * test_mutex.c - the instrumented mutex: lock, trylock, timed lock, the
 * contention count, and how the run's abort ends threads that wait. And
 * the keyed tables of them (cd_keyed.h, and cd_amutex.h's awaitable one).
 *
 * Tests with threads that wait run in a forked child killed at a time
 * limit, so a library bug fails the test instead of hanging the runner.
 * A worker "holding a lock" parks on a second lock (the gate) that the
 * test holds; the test polls registry snapshots until it sees the worker
 * blocked there, so every interleaving below is forced, not hoped for.
 */
#include <errno.h>
#include <stdatomic.h>

#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "harness.h"

/* suite: mutex */

/* =============================== helpers ================================= */

/* A worker that takes `held` (if any), then waits at `gate` until the test
 * lets it go, then releases both. */
typedef struct parked {
    cd_mutex_t *held, *gate;
} parked_t;

static void hold_until_gate_opens(void *arg)
{
    parked_t *p = arg;
    if (p->held)
        cd_mutex_lock(p->held);
    cd_mutex_lock(p->gate);
    cd_mutex_unlock(p->gate);
    if (p->held)
        cd_mutex_unlock(p->held);
}

/* Sets up A and the gate (registry reset), takes the gate and starts a
 * holder t of A that waits at it: on return A is held by t. A child body's
 * check: 0, or 1 with why. */
static int start_a_parked_holder(parked_t *p, cd_thread_t *t)
{
    cd_reg_reset();
    EXPECT_EQ(cd_mutex_init(p->held, "A"), 0);
    EXPECT_EQ(cd_mutex_init(p->gate, "gate"), 0);
    EXPECT_EQ(cd_mutex_lock(p->gate), 0);
    EXPECT_EQ(cd_thread_spawn(t, "holder", hold_until_gate_opens, p), 0);
    EXPECT(await(is_blocked_on, t->id, p->gate->id)); /* so it holds A */
    return 0;
}

static void lock_and_unlock(void *arg)
{
    cd_mutex_lock(arg);
    cd_mutex_unlock(arg);
}

/* A timed lock by a worker; the test reads the outcome after the join. */
typedef struct timed {
    cd_mutex_t *m;
    int ms;
    int rc;
    int64_t waited_ns;
} timed_t;

static void timedlock_once(void *arg)
{
    timed_t *t = arg;
    int64_t t0 = cd_now_ns();
    t->rc = cd_mutex_timedlock(t->m, t->ms);
    t->waited_ns = cd_now_ns() - t0;
    if (t->rc == 0)
        cd_mutex_unlock(t->m);
}

static int64_t ms_since(int64_t t0)
{
    return (cd_now_ns() - t0) / 1000000;
}

/* ============================ lock, unlock =============================== */

/* test: test_lock_records_owner_and_unlock_clears_it */
static void test_lock_records_owner_and_unlock_clears_it(void)
{
    cd_mutex_t m;

    cd_reg_reset();
    CU_ASSERT_FATAL(cd_mutex_init(&m, "shop-lock") == 0);
    int me = cd_self();
    cd_obj_rec_t *o = cd_reg_object(m.id);
    cd_thread_rec_t *t = cd_reg_thread(me);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_STRING_EQUAL(o->name, "shop-lock");
    ASSERT_INT_EQ(o->kind, CD_OBJ_MUTEX);
    ASSERT_INT_EQ(o->live, 1);

    ASSERT_INT_EQ(cd_mutex_lock(&m), 0);
    ASSERT_INT_EQ(o->owner, me);
    ASSERT_INT_EQ(t->nheld, 1);
    ASSERT_INT_EQ(t->held[0], m.id);
    ASSERT_INT_EQ(o->acquisitions, 1);
    cd_mutex_unlock(&m);
    ASSERT_INT_EQ(o->owner, 0);
    ASSERT_INT_EQ(t->nheld, 0);

    /* Twice more, uncontended: counted, never as contended. */
    cd_mutex_lock(&m);
    cd_mutex_unlock(&m);
    ASSERT_INT_EQ(cd_mutex_trylock(&m), 0);
    cd_mutex_unlock(&m);
    ASSERT_INT_EQ(o->acquisitions, 3);
    ASSERT_INT_EQ(o->contended, 0);
    ASSERT_INT_EQ(o->nwaiters, 0);

    cd_mutex_destroy(&m);
    ASSERT_INT_EQ(o->live, 0);
    cd_reg_reset();
}

/* test: test_nested_locks_release_in_any_order */
static void test_nested_locks_release_in_any_order(void)
{
    cd_mutex_t a, b, c;

    cd_reg_reset();
    CU_ASSERT_FATAL(cd_mutex_init(&a, "A") == 0 && cd_mutex_init(&b, "B") == 0 &&
                    cd_mutex_init(&c, "C") == 0);
    cd_thread_rec_t *t = cd_reg_thread(cd_self());
    cd_mutex_lock(&a);
    cd_mutex_lock(&b);
    cd_mutex_lock(&c);
    ASSERT_INT_EQ(t->nheld, 3);
    cd_mutex_unlock(&b); /* out of order: the held list closes the gap */
    ASSERT_INT_EQ(t->nheld, 2);
    ASSERT_INT_EQ(t->held[0], a.id);
    ASSERT_INT_EQ(t->held[1], c.id);
    cd_mutex_unlock(&a);
    ASSERT_INT_EQ(t->nheld, 1);
    ASSERT_INT_EQ(t->held[0], c.id);
    cd_mutex_unlock(&c);
    ASSERT_INT_EQ(t->nheld, 0);
    cd_mutex_destroy(&a);
    cd_mutex_destroy(&b);
    cd_mutex_destroy(&c);
    cd_reg_reset();
}

/* =============================== trylock ================================= */

/* test: test_trylock_is_busy_while_another_thread_holds_it */
CHILD_TEST(test_trylock_is_busy_while_another_thread_holds_it)
{
    cd_mutex_t a, gate;
    parked_t p = { &a, &gate };
    cd_thread_t t;

    EXPECT_EQ(cd_mutex_init(&a, "A"), 0);
    EXPECT_EQ(cd_mutex_trylock(&a), 0); /* never held: taken at once */
    cd_mutex_unlock(&a);
    cd_mutex_destroy(&a);

    if (start_a_parked_holder(&p, &t))
        return 1;
    EXPECT_EQ(cd_mutex_trylock(&a), -EBUSY);
    const cd_thread_info_t *me = tinfo(take_snapshot(), cd_self());
    EXPECT(me != NULL);
    EXPECT_EQ(me->state, CD_T_RUNNING); /* a trylock never waits */
    EXPECT_EQ(me->nheld, 1);            /* just the gate */
    EXPECT_EQ(oinfo(snap(), a.id)->owner, t.id);
    EXPECT_EQ(oinfo(snap(), a.id)->contended, 0);

    cd_mutex_unlock(&gate);
    EXPECT_EQ(cd_thread_join(&t), 0);
    EXPECT_EQ(cd_mutex_trylock(&a), 0); /* free: taken at once */
    EXPECT_EQ(oinfo(take_snapshot(), a.id)->owner, cd_self());
    cd_mutex_unlock(&a);
    return 0;
}

/* test: test_trylock_by_the_owner_is_busy */
static void test_trylock_by_the_owner_is_busy(void)
{
    cd_mutex_t m;

    cd_reg_reset();
    CU_ASSERT_FATAL(cd_mutex_init(&m, "m") == 0);
    cd_mutex_lock(&m);
    ASSERT_INT_EQ(cd_mutex_trylock(&m), -EBUSY); /* not recursive */
    ASSERT_INT_EQ(cd_reg_thread(cd_self())->nheld, 1);
    cd_mutex_unlock(&m);
    cd_mutex_destroy(&m);
    cd_reg_reset();
}

/* ============================== timed lock =============================== */

/* test: test_timedlock_times_out_while_another_thread_holds_it */
CHILD_TEST(test_timedlock_times_out_while_another_thread_holds_it)
{
    cd_mutex_t a, gate;
    parked_t p = { &a, &gate };
    cd_thread_t t;

    if (start_a_parked_holder(&p, &t))
        return 1;

    int64_t t0 = cd_now_ns();
    EXPECT_EQ(cd_mutex_timedlock(&a, 100), -ETIMEDOUT);
    EXPECT(ms_since(t0) >= 100); /* it did wait out its deadline */
    cd_snapshot_t *s = take_snapshot();
    const cd_thread_info_t *me = tinfo(s, cd_self());
    EXPECT(me != NULL);
    EXPECT_EQ(me->state, CD_T_RUNNING);
    EXPECT_EQ(me->waiting_on, 0);
    EXPECT_EQ(me->wait_timed, 0);
    EXPECT_EQ(me->nheld, 1); /* the gate only */
    EXPECT_EQ(oinfo(s, a.id)->owner, t.id);
    EXPECT_EQ(oinfo(s, a.id)->nwaiters, 0);

    cd_mutex_unlock(&gate);
    EXPECT_EQ(cd_thread_join(&t), 0);
    EXPECT_EQ(cd_mutex_timedlock(&a, 100), 0); /* free: no wait */
    cd_mutex_unlock(&a);
    return 0;
}

/* test: test_timedlock_succeeds_when_the_holder_releases_in_time */
CHILD_TEST(test_timedlock_succeeds_when_the_holder_releases_in_time)
{
    cd_mutex_t a;
    timed_t w = { .m = &a, .ms = 10000, .rc = -1 };
    cd_thread_t t;

    cd_reg_reset();
    if (start_blocked_on_held(&a, "A", &t, "waiter", timedlock_once, &w))
        return 1;
    EXPECT_EQ(tinfo(snap(), t.id)->wait_timed, 1); /* shows it can't last */
    EXPECT_EQ(oinfo(snap(), a.id)->nwaiters, 1);

    cd_mutex_unlock(&a);
    EXPECT_EQ(cd_thread_join(&t), 0);
    EXPECT_EQ(w.rc, 0);
    EXPECT(w.waited_ns < 10000LL * 1000000); /* well before its deadline */
    cd_snapshot_t *s = take_snapshot();
    EXPECT_EQ(oinfo(s, a.id)->acquisitions, 2);
    EXPECT_EQ(oinfo(s, a.id)->contended, 1);
    EXPECT_EQ(oinfo(s, a.id)->nwaiters, 0);
    return 0;
}

/* ============================== contention =============================== */

/* test: test_contended_lock_counts_as_contended */
CHILD_TEST(test_contended_lock_counts_as_contended)
{
    cd_mutex_t a;
    cd_thread_t t;

    cd_reg_reset();
    if (start_blocked_on_held(&a, "A", &t, "waiter", lock_and_unlock, &a))
        return 1;
    cd_mutex_unlock(&a);
    EXPECT_EQ(cd_thread_join(&t), 0);

    cd_snapshot_t *s = take_snapshot();
    EXPECT_EQ(oinfo(s, a.id)->acquisitions, 2);
    EXPECT_EQ(oinfo(s, a.id)->contended, 1);
    EXPECT_EQ(tinfo(s, t.id)->nheld, 0);
    EXPECT_EQ(tinfo(s, t.id)->waiting_on, 0);

    /* An uncontended lock afterwards does not count. */
    cd_mutex_lock(&a);
    cd_mutex_unlock(&a);
    s = take_snapshot();
    EXPECT_EQ(oinfo(s, a.id)->acquisitions, 3);
    EXPECT_EQ(oinfo(s, a.id)->contended, 1);
    return 0;
}

/* ================================ abort ================================== */

/* Takes `held[0..1]`, then asks for `forever`, which the test never gives
 * up: only the run's abort can end this thread. */
typedef struct stuck {
    cd_mutex_t *held[2], *forever;
    int returned; /* set if cd_mutex_lock ever came back */
} stuck_t;

static void hold_two_then_wait_forever(void *arg)
{
    stuck_t *s = arg;
    cd_mutex_lock(s->held[0]);
    cd_mutex_lock(s->held[1]);
    cd_mutex_lock(s->forever);
    s->returned = 1; /* never reached: the abort ends the thread */
    cd_mutex_unlock(s->forever);
    cd_mutex_unlock(s->held[1]);
    cd_mutex_unlock(s->held[0]);
}

/* test: test_abort_ends_thread_blocked_forever_and_releases_its_locks */
CHILD_TEST(test_abort_ends_thread_blocked_forever_and_releases_its_locks)
{
    cd_mutex_t h1, h2, never;
    stuck_t st = { { &h1, &h2 }, &never, 0 };
    cd_thread_t t;

    cd_reg_reset();
    EXPECT_EQ(cd_mutex_init(&h1, "held-1"), 0);
    EXPECT_EQ(cd_mutex_init(&h2, "held-2"), 0);
    if (start_blocked_on_held(&never, "never", &t, "stuck",
                              hold_two_then_wait_forever, &st))
        return 1;
    EXPECT_EQ(tinfo(snap(), t.id)->nheld, 2);

    int64_t t0 = cd_now_ns();
    EXPECT_EQ(cd_reg_abort(CD_ABORT_DEADLOCK), 1);
    EXPECT_EQ(cd_reg_abort(CD_ABORT_TIMEOUT), 0); /* the first reason wins */
    EXPECT_EQ(cd_reg_aborted(), CD_ABORT_DEADLOCK);
    EXPECT_EQ(cd_thread_join(&t), -ECANCELED);
    EXPECT(ms_since(t0) < 3000); /* waits are sliced: ends promptly */
    EXPECT_EQ(st.returned, 0);

    cd_snapshot_t *s = take_snapshot();
    EXPECT_EQ(tinfo(s, t.id)->state, CD_T_ABORTED);
    EXPECT_STR(cd_thread_state_name(CD_T_ABORTED), "aborted");
    EXPECT_EQ(tinfo(s, t.id)->nheld, 0);
    EXPECT_EQ(tinfo(s, t.id)->waiting_on, 0);
    EXPECT_EQ(oinfo(s, h1.id)->owner, 0);
    EXPECT_EQ(oinfo(s, h2.id)->owner, 0);
    EXPECT_EQ(oinfo(s, never.id)->owner, cd_self()); /* still ours */
    EXPECT_EQ(oinfo(s, never.id)->nwaiters, 0);
    /* Released for real, not just in the books: we can take them. */
    EXPECT_EQ(cd_mutex_trylock(&h1), 0);
    EXPECT_EQ(cd_mutex_trylock(&h2), 0);
    cd_mutex_unlock(&h2);
    cd_mutex_unlock(&h1);
    cd_mutex_unlock(&never);
    return 0;
}

static void hold_then_sleep_an_hour(void *arg)
{
    cd_mutex_lock(arg);
    cd_latency("slow-disk", (int64_t)3600 * 1000 * 1000);
    cd_mutex_unlock(arg);
}

/* test: test_abort_ends_thread_sleeping_in_latency */
CHILD_TEST(test_abort_ends_thread_sleeping_in_latency)
{
    cd_mutex_t a;
    cd_thread_t t;

    cd_reg_reset();
    cd_reg_set_latency_scale(1000);
    EXPECT_EQ(cd_mutex_init(&a, "A"), 0);
    EXPECT_EQ(cd_thread_spawn(&t, "sleeper", hold_then_sleep_an_hour, &a), 0);
    EXPECT(await(is_in_state, t.id, CD_T_SLEEPING));
    EXPECT_STR(tinfo(snap(), t.id)->what, "slow-disk");
    EXPECT_EQ(oinfo(snap(), a.id)->owner, t.id);

    int64_t t0 = cd_now_ns();
    cd_reg_abort(CD_ABORT_DEADLOCK);
    EXPECT_EQ(cd_thread_join(&t), -ECANCELED);
    EXPECT(ms_since(t0) < 3000);
    cd_snapshot_t *s = take_snapshot();
    EXPECT_EQ(tinfo(s, t.id)->state, CD_T_ABORTED);
    EXPECT_EQ(oinfo(s, a.id)->owner, 0);
    EXPECT_EQ(cd_mutex_trylock(&a), 0);
    cd_mutex_unlock(&a);
    return 0;
}

/* A thread libconc did not start cannot be ended; its lock returns
 * -ECANCELED instead, and it must not own the lock then. */
static int lock_and_let_go(void *m)
{
    int rc = cd_mutex_lock(m);
    if (rc == 0)
        cd_mutex_unlock(m);
    return rc;
}

/* test: test_abort_makes_lock_in_plain_thread_return_ecanceled */
CHILD_TEST(test_abort_makes_lock_in_plain_thread_return_ecanceled)
{
    cd_mutex_t a;
    plain_call_t p;

    cd_reg_reset();
    EXPECT_EQ(cd_mutex_init(&a, "A"), 0);
    EXPECT_EQ(cd_mutex_lock(&a), 0);
    int me = cd_self();
    EXPECT_EQ(plain_call_start(&p, lock_and_let_go, &a), 0);
    /* It registers itself as the next thread when it first asks. */
    EXPECT(await(is_blocked_on, me + 1, a.id));
    EXPECT_STR(tinfo(snap(), me + 1)->name, "thread-2");

    cd_reg_abort(CD_ABORT_TIMEOUT);
    EXPECT_EQ(plain_call_join(&p), 0);
    EXPECT_EQ(p.rc, -ECANCELED);
    cd_snapshot_t *s = take_snapshot();
    EXPECT_EQ(tinfo(s, me + 1)->state, CD_T_RUNNING); /* not ended */
    EXPECT_EQ(tinfo(s, me + 1)->nheld, 0);
    EXPECT_EQ(oinfo(s, a.id)->owner, me);
    EXPECT_EQ(oinfo(s, a.id)->nwaiters, 0);
    cd_mutex_unlock(&a);
    return 0;
}

/* ================================ suite ================================== */
