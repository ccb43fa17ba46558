/*
 * test_wait.c - the choke point's wait loop (cd__op_wait), through the
 * smallest primitive one can build on it: a oneshot (one value, set once,
 * waited for by anyone). The oneshot supplies only its "is it set?" test
 * and its condition variable; the tests check what the loop promises for
 * it: the waiter shown blocked, the timeout traced, the run's abort rule,
 * what a slice took given back when the abort came, and under the
 * controlled scheduler a park instead of a real wait, on virtual time.
 *
 * Each test runs in a forked child with a time limit (add_forked_test).
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "../lib/cd_op.h" /* cd__op_wait: internal to libconc */
#include "../lib/cd_queue.h"
#include "../lib/cd_sched.h"
#include "../lib/cd_thread.h"
#include "../lib/cd_trace.h"
#include "harness.h"

/* suite: wait */

/* =============================== a oneshot =============================== */

typedef struct oneshot {
    pthread_mutex_t lock;
    pthread_cond_t set_cv; /* on CLOCK_MONOTONIC, as cd__op_wait wants */
    int set, value;
    int id;                /* registry id */
} oneshot_t;

static void oneshot_init(oneshot_t *o, const char *name)
{
    pthread_condattr_t a;
    CU_ASSERT_FATAL(pthread_condattr_init(&a) == 0);
    CU_ASSERT_FATAL(pthread_condattr_setclock(&a, CLOCK_MONOTONIC) == 0);
    CU_ASSERT_FATAL(pthread_cond_init(&o->set_cv, &a) == 0);
    pthread_condattr_destroy(&a);
    CU_ASSERT_FATAL(pthread_mutex_init(&o->lock, NULL) == 0);
    o->set = o->value = 0;
    o->id = cd__reg_add_object(name, CD_OBJ_CHAN, o, NULL);
    CU_ASSERT_FATAL(o->id > 0);
}

static int oneshot_is_set(void *arg)
{
    return ((oneshot_t *)arg)->set;
}

/* Waits for the value (timed: at most ms). 0 and *out, -ETIMEDOUT, or
 * -ECANCELED (a thread the run ends does not come back then). */
static int oneshot_get(oneshot_t *o, int timed, int ms, int *out)
{
    int self = cd_self(), rc = 0;
    cd__wait_t w = { .ready = oneshot_is_set, .cond = &o->set_cv,
                     .lock = &o->lock, .arg = o, .timed = timed,
                     .timeout_ns = (int64_t)ms * 1000000, .site = CD_HERE };

    cd__op_begin(self, CD_OP_RECV, o->id, 0, NULL, CD_HERE);
    pthread_mutex_lock(&o->lock);
    if (!o->set)
        rc = cd__op_wait(self, o->id, &w);
    if (rc == 0)
        *out = o->value;
    pthread_mutex_unlock(&o->lock);
    return cd__op_end_if_aborted(self, rc);
}

static void oneshot_set(oneshot_t *o, int value)
{
    cd__op_begin(cd_self(), CD_OP_SEND, o->id, 0, NULL, CD_HERE);
    pthread_mutex_lock(&o->lock);
    o->value = value;
    o->set = 1;
    pthread_cond_broadcast(&o->set_cv);
    pthread_mutex_unlock(&o->lock);
}

static void oneshot_destroy(oneshot_t *o)
{
    pthread_cond_destroy(&o->set_cv);
    pthread_mutex_destroy(&o->lock);
}

/* A thread that waits for the oneshot (no timeout) and keeps what it
 * got. */
typedef struct getter {
    oneshot_t *o;
    int rc, value;
} getter_t;

static void get_main(void *p)
{
    getter_t *g = p;
    g->rc = oneshot_get(g->o, 0, 0, &g->value);
}

/* A new oneshot named name, and a thread "getter" that waits for it
 * without a timeout. */
static void start_getter(oneshot_t *o, const char *name, cd_thread_t *t,
                         getter_t *g)
{
    oneshot_init(o, name);
    *g = (getter_t){ .o = o, .rc = 1 };
    CU_ASSERT_FATAL(cd_thread_spawn(t, "getter", get_main, g) == 0);
}

/* ================================= free runs ============================== */

/* forked test: a oneshot: the waiter shows blocked, gets the value */
static void the_waiter_is_shown_blocked_and_gets_the_value(void)
{
    oneshot_t o;
    cd_thread_t t;
    getter_t g;
    cd_reg_reset();
    start_getter(&o, "answer", &t, &g);
    CU_ASSERT_FATAL(await(is_blocked_on, t.id, o.id));
    ASSERT_INT_EQ(oinfo(snap(), o.id)->nwaiters, 1);

    oneshot_set(&o, 42);
    ASSERT_INT_EQ(cd_thread_join(&t), 0);
    ASSERT_INT_EQ(g.rc, 0);
    ASSERT_INT_EQ(g.value, 42);
    const cd_snapshot_t *s = take_snapshot();
    ASSERT_INT_EQ(tinfo(s, t.id)->waiting_on, 0);
    ASSERT_INT_EQ(oinfo(s, o.id)->nwaiters, 0);
    ASSERT_INT_EQ(oinfo(s, o.id)->contended, 1);
    oneshot_destroy(&o);
}

/* forked test: a timed wait times out, traced */
static void a_timed_wait_times_out_and_says_so_in_the_trace(void)
{
    oneshot_t o;
    int v = 0;
    cd_reg_reset();
    cd_reg_set_trace(1);
    oneshot_init(&o, "never");
    ASSERT_INT_EQ(oneshot_get(&o, 1, 30, &v), -ETIMEDOUT);
    CU_ASSERT_TRUE(traced_any(CD_OP_BLOCK, o.id));
    CU_ASSERT_TRUE(traced_any(CD_OP_TIMEOUT, o.id));
    const cd_snapshot_t *s = take_snapshot();
    ASSERT_INT_EQ(tinfo(s, cd_self())->state, CD_T_RUNNING);
    ASSERT_INT_EQ(oinfo(s, o.id)->nwaiters, 0);
    cd_reg_set_trace(0);
    oneshot_destroy(&o);
}

/* The abort rule: a thread cd_thread started ends; the program's own
 * thread gets -ECANCELED from a wait without a timeout, and a timed one
 * runs to its timeout. */
/* forked test: abort ends spawned and endless waits, not main's timed */
static void the_abort_ends_spawned_and_endless_waits_only(void)
{
    oneshot_t o;
    cd_thread_t t;
    getter_t g;
    int v = 0;
    cd_reg_reset();
    start_getter(&o, "never", &t, &g);
    CU_ASSERT_FATAL(await(is_blocked_on, t.id, o.id));

    cd_reg_abort(CD_ABORT_TIMEOUT);
    ASSERT_INT_EQ(cd_thread_join(&t), -ECANCELED);
    ASSERT_INT_EQ(g.rc, 1); /* it never came back from the wait */
    ASSERT_INT_EQ(tinfo(take_snapshot(), t.id)->state, CD_T_ABORTED);
    ASSERT_INT_EQ(oneshot_get(&o, 0, 0, &v), -ECANCELED);
    ASSERT_INT_EQ(oneshot_get(&o, 1, 30, &v), -ETIMEDOUT);
    oneshot_destroy(&o);
}

/* A primitive whose slice takes something (a lock): here a token that the
 * slice takes while the run is being aborted, as when an aborted thread
 * let go of the lock a waiter wanted. */
typedef struct token {
    int taken, given_back;
} token_t;

static int take_as_the_abort_comes(void *arg)
{
    (void)arg;
    return 0; /* the scheduler's test: unused in a free run */
}

static int slice_takes_during_abort(void *arg, int64_t until_ns)
{
    token_t *k = arg;
    (void)until_ns;
    cd_reg_abort(CD_ABORT_DEADLOCK);
    k->taken++;
    return 1;
}

static void give_back(void *arg)
{
    ((token_t *)arg)->given_back++;
}

static void taker_main(void *p)
{
    token_t *k = p;
    cd__wait_t w = { .ready = take_as_the_abort_comes,
                     .slice = slice_takes_during_abort, .undo = give_back,
                     .arg = k, .site = CD_HERE };
    cd__op_end_if_aborted(cd_self(), cd__op_wait(cd_self(), 0, &w));
    k->taken += 100; /* not reached: the thread ends */
}

/* forked test: what a slice took as the abort came is given back */
static void what_a_slice_took_as_the_abort_came_is_given_back(void)
{
    token_t k = { 0, 0 };
    cd_thread_t t;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_thread_spawn(&t, "taker", taker_main, &k) == 0);
    ASSERT_INT_EQ(cd_thread_join(&t), -ECANCELED);
    ASSERT_INT_EQ(k.taken, 1);
    ASSERT_INT_EQ(k.given_back, 1);

    /* The program's own thread with a timeout keeps what it got. */
    token_t mine = { 0, 0 };
    cd_reg_reset();
    cd__wait_t w = { .ready = take_as_the_abort_comes,
                     .slice = slice_takes_during_abort, .undo = give_back,
                     .arg = &mine, .timed = 1, .timeout_ns = 1000000000,
                     .site = CD_HERE };
    ASSERT_INT_EQ(cd__op_wait(cd_self(), 0, &w), 0);
    ASSERT_INT_EQ(mine.taken, 1);
    ASSERT_INT_EQ(mine.given_back, 0);
}

/* ========================== under the scheduler ========================== */

static void begin_controlled(void)
{
    cd_sched_cfg_t cfg;
    char err[128];
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_sched_parse("random:1", &cfg, err, sizeof err) == 0);
    CU_ASSERT_FATAL(cd_sched_begin(&cfg) == 0);
}

/* forked test: controlled: the waiter parks until set */
static void controlled_the_waiter_parks_until_set(void)
{
    oneshot_t o;
    cd_thread_t t;
    getter_t g;
    begin_controlled();
    start_getter(&o, "answer", &t, &g);
    cd_point("before set");
    oneshot_set(&o, 7);
    ASSERT_INT_EQ(cd_thread_join(&t), 0);
    ASSERT_INT_EQ(g.rc, 0);
    ASSERT_INT_EQ(g.value, 7);
    ASSERT_INT_EQ(cd_reg_aborted(), CD_ABORT_NONE);
    cd_sched_end();
    oneshot_destroy(&o);
}

/* Waits, alone under the scheduler, for a oneshot nobody sets; the caller
 * looks at the run, then calls end_alone(). */
static oneshot_t never;

static int get_alone(int timed, int ms)
{
    int v = 0;
    begin_controlled();
    oneshot_init(&never, "never");
    return oneshot_get(&never, timed, ms, &v);
}

static void end_alone(void)
{
    cd_sched_end();
    oneshot_destroy(&never);
}

/* Nobody else can run: the virtual clock jumps to the timeout, and the run
 * has lasted exactly that long. */
/* forked test: controlled: a timed wait takes virtual time only */
static void controlled_a_timed_wait_takes_virtual_time_only(void)
{
    ASSERT_INT_EQ(get_alone(1, 50), -ETIMEDOUT);
    ASSERT_INT_EQ(cd_reg_elapsed_ns(), 50 * 1000000LL);
    end_alone();
}

/* Nobody can run and no clock can move: the scheduler ends the run as
 * stuck (no cycle: nobody holds what main waits for), naming the wait, and
 * the wait returns -ECANCELED to the program's thread. */
/* forked test: controlled: a wait nobody can end ends the run */
static void controlled_a_wait_nobody_can_end_ends_the_run(void)
{
    cd_stuck_t st;
    ASSERT_INT_EQ(get_alone(0, 0), -ECANCELED);
    ASSERT_INT_EQ(cd_reg_aborted(), CD_ABORT_STUCK);
    CU_ASSERT_FATAL(cd_reg_stuck(&st) == 1);
    ASSERT_INT_EQ(st.len, 1);
    ASSERT_INT_EQ(st.wait[0].thread, cd_self());
    ASSERT_INT_EQ(st.wait[0].obj, never.id);
    end_alone();
}

/* ============================ the waiters' FIFO ========================== */

typedef struct qitem {
    int id;
    cd_qnode_t node;
} qitem_t;

static int pop_id(cd_queue_t *q)
{
    qitem_t *it = CD_QUEUE_ENTRY(cd_queue_pop(q), qitem_t, node);
    return it ? it->id : -1;
}

/* First in, first out; a waiter that leaves from the front, the middle or
 * the back leaves the rest in order, and the queue takes new ones after. */
/* test: the waiters' queue keeps arrival order when one leaves */
static void the_queue_keeps_arrival_order_when_one_leaves(void)
{
    qitem_t it[4] = { { .id = 0 }, { .id = 1 }, { .id = 2 }, { .id = 3 } };
    cd_queue_t q;
    cd_queue_init(&q);
    CU_ASSERT_PTR_NULL(cd_queue_front(&q));
    ASSERT_INT_EQ(pop_id(&q), -1);
    for (int i = 0; i < 4; i++)
        cd_queue_push(&q, &it[i].node);
    CU_ASSERT_PTR_EQUAL(cd_queue_front(&q), &it[0].node);
    cd_queue_remove(&q, &it[2].node); /* the middle */
    cd_queue_remove(&q, &it[3].node); /* the back: 1 is the tail now */
    cd_queue_remove(&q, &it[3].node); /* gone already: nothing */
    cd_queue_push(&q, &it[3].node);
    cd_queue_remove(&q, &it[0].node); /* the front */
    ASSERT_INT_EQ(pop_id(&q), 1);
    ASSERT_INT_EQ(pop_id(&q), 3);
    ASSERT_INT_EQ(pop_id(&q), -1);
    cd_queue_push(&q, &it[2].node); /* empty again, and usable */
    ASSERT_INT_EQ(pop_id(&q), 2);
    CU_ASSERT_PTR_NULL(cd_queue_front(&q));
}
