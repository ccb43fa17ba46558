/*
 * test_sem.c - the counting semaphore: the count, try and timed waits, a
 * post that wakes a waiter, the registry's figures, the run's abort, the
 * trace, and a controlled producer/consumer that ends and replays.
 *
 * As in test_chan.c, a thread is known to wait once the registry says so,
 * and each test runs in a forked child with a time limit.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_sched.h"
#include "../lib/cd_sem.h"
#include "../lib/cd_thread.h"
#include "../lib/cd_trace.h"
#include "harness.h"

/* suite: sem; forked */

static cd_sem_t sem;

static const cd_obj_info_t *sem_info(void)
{
    return oinfo(take_snapshot(), sem.id);
}

typedef struct taker {
    int rc;
    int ms; /* > 0: a timed wait */
} taker_t;

static void take_one(void *p)
{
    taker_t *t = p;
    t->rc = t->ms > 0 ? cd_sem_timedwait(&sem, t->ms) : cd_sem_wait(&sem);
}

static void start_taker(cd_thread_t *t, const char *name, taker_t *k)
{
    k->rc = 1;
    CU_ASSERT_FATAL(cd_thread_spawn(t, name, take_one, k) == 0);
    CU_ASSERT_FATAL(await(is_blocked_on, t->id, sem.id));
}

/* ================================ free runs =============================== */

/* test: the count goes down to 0 and up again */
static void the_count_goes_down_to_0_and_up_again(void)
{
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_sem_init(&sem, "slots", 2) == 0);
    ASSERT_INT_EQ(cd_sem_value(&sem), 2);
    ASSERT_INT_EQ(sem_info()->kind, CD_OBJ_SEM);
    ASSERT_INT_EQ(sem_info()->sem_count, 2);
    ASSERT_INT_EQ(cd_sem_trywait(&sem), 0);
    ASSERT_INT_EQ(cd_sem_wait(&sem), 0);
    ASSERT_INT_EQ(cd_sem_trywait(&sem), -EAGAIN);
    ASSERT_INT_EQ(cd_sem_value(&sem), 0);
    ASSERT_INT_EQ(cd_sem_post(&sem), 0);
    ASSERT_INT_EQ(cd_sem_value(&sem), 1);
    ASSERT_INT_EQ(sem_info()->sem_count, 1);
    ASSERT_INT_EQ(cd_sem_timedwait(&sem, 10), 0);
    ASSERT_INT_EQ(cd_sem_value(&sem), 0);
    cd_sem_destroy(&sem);
}

/* test: a timed wait at 0 times out, taking nothing */
static void a_timed_wait_at_0_times_out_taking_nothing(void)
{
    cd_reg_reset();
    cd_reg_set_trace(1);
    CU_ASSERT_FATAL(cd_sem_init(&sem, "empty", 0) == 0);
    ASSERT_INT_EQ(cd_sem_timedwait(&sem, 30), -ETIMEDOUT);
    ASSERT_INT_EQ(cd_sem_value(&sem), 0);
    CU_ASSERT_TRUE(traced(CD_OP_TIMEOUT, sem.id, 0));
    ASSERT_INT_EQ(sem_info()->nwaiters, 0);
    cd_sem_destroy(&sem);
}

/* test: bad counts are refused */
static void bad_counts_are_refused(void)
{
    cd_reg_reset();
    ASSERT_INT_EQ(cd_sem_init(&sem, "huge", (unsigned)CD_SEM_VALUE_MAX + 1),
                  -EINVAL);
    CU_ASSERT_FATAL(cd_sem_init(&sem, "full", CD_SEM_VALUE_MAX) == 0);
    ASSERT_INT_EQ(cd_sem_post(&sem), -EOVERFLOW);
    ASSERT_INT_EQ(cd_sem_value(&sem), CD_SEM_VALUE_MAX);
    cd_sem_destroy(&sem);
}

static int one_of_two_done(const cd_snapshot_t *s, int a, int b)
{
    return is_in_state(s, a, CD_T_DONE) + is_in_state(s, b, CD_T_DONE) == 1;
}

/* Waiters at 0 show blocked on the semaphore; each post lets one go. */
/* test: a post lets one waiter go */
static void a_post_lets_one_waiter_go(void)
{
    cd_thread_t a, b;
    taker_t ka = { .ms = 0 }, kb = { .ms = 60 * 1000 };
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_sem_init(&sem, "items", 0) == 0);
    start_taker(&a, "taker-1", &ka);
    start_taker(&b, "taker-2", &kb);
    ASSERT_INT_EQ(sem_info()->nwaiters, 2);
    ASSERT_INT_EQ(sem_info()->sem_count, 0);

    /* One post: one of them takes it, the other goes on waiting. */
    ASSERT_INT_EQ(cd_sem_post(&sem), 0);
    CU_ASSERT_FATAL(await(one_of_two_done, a.id, b.id));
    int left = is_in_state(snap(), a.id, CD_T_DONE) ? b.id : a.id;
    CU_ASSERT_TRUE(is_blocked_on(take_snapshot(), left, sem.id));
    ASSERT_INT_EQ(sem_info()->nwaiters, 1);
    ASSERT_INT_EQ(sem_info()->sem_count, 0);

    ASSERT_INT_EQ(cd_sem_post(&sem), 0);
    ASSERT_INT_EQ(cd_thread_join(&a), 0);
    ASSERT_INT_EQ(cd_thread_join(&b), 0);
    ASSERT_INT_EQ(ka.rc, 0);
    ASSERT_INT_EQ(kb.rc, 0);
    ASSERT_INT_EQ(cd_sem_value(&sem), 0);
    ASSERT_INT_EQ(sem_info()->nwaiters, 0);
    ASSERT_INT_EQ(sem_info()->contended, 2);
    cd_sem_destroy(&sem);
}

/* The run's abort ends a waiter that cd_thread started; the program's own
 * thread gets -ECANCELED from a wait without a timeout. */
/* test: an aborted waiter ends */
static void an_aborted_waiter_ends(void)
{
    cd_thread_t t;
    taker_t k = { .ms = 0 };
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_sem_init(&sem, "never", 0) == 0);
    start_taker(&t, "forgotten", &k);
    cd_reg_abort(CD_ABORT_TIMEOUT);
    ASSERT_INT_EQ(cd_thread_join(&t), -ECANCELED);
    ASSERT_INT_EQ(k.rc, 1);
    ASSERT_INT_EQ(tinfo(take_snapshot(), t.id)->state, CD_T_ABORTED);
    ASSERT_INT_EQ(cd_sem_wait(&sem), -ECANCELED);
    ASSERT_INT_EQ(cd_sem_value(&sem), 0);
    cd_sem_destroy(&sem);
}

/* ThreadSanitizer: a post happens-before the wait that takes it. */
static int handed_over;

static void read_after_wait(void *p)
{
    taker_t *k = p;
    k->rc = cd_sem_wait(&sem);
    k->ms = handed_over; /* ordered after the write by the post */
}

/* test: a post orders the wait that takes it (TSan) */
static void a_post_orders_the_wait_that_takes_it(void)
{
    cd_thread_t t;
    taker_t k = { .rc = 1 };
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_sem_init(&sem, "handover", 0) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&t, "reader", read_after_wait, &k) == 0);
    handed_over = 42;
    ASSERT_INT_EQ(cd_sem_post(&sem), 0);
    ASSERT_INT_EQ(cd_thread_join(&t), 0);
    ASSERT_INT_EQ(k.rc, 0);
    ASSERT_INT_EQ(k.ms, 42);
    cd_sem_destroy(&sem);
}

/* test: the trace names the operations */
static void the_trace_names_the_operations(void)
{
    cd_reg_reset();
    cd_reg_set_trace(1);
    CU_ASSERT_FATAL(cd_sem_init(&sem, "slots", 1) == 0);
    ASSERT_INT_EQ(cd_sem_wait(&sem), 0);
    ASSERT_INT_EQ(cd_sem_trywait(&sem), -EAGAIN);
    ASSERT_INT_EQ(cd_sem_timedwait(&sem, 5), -ETIMEDOUT);
    ASSERT_INT_EQ(cd_sem_post(&sem), 0);
    ASSERT_INT_EQ(cd_sem_post(&sem), 0);
    CU_ASSERT_TRUE(traced(CD_OP_SEM_WAIT, sem.id, 0));
    CU_ASSERT_TRUE(traced(CD_OP_SEM_TRYWAIT, sem.id, 0));
    CU_ASSERT_TRUE(traced(CD_OP_BUSY, sem.id, 0));
    CU_ASSERT_TRUE(traced(CD_OP_SEM_TIMEDWAIT, sem.id, 5));
    CU_ASSERT_TRUE(traced(CD_OP_POST, sem.id, 1));
    CU_ASSERT_TRUE(traced(CD_OP_POST, sem.id, 2));
    static const int ops[] = { CD_OP_SEM_WAIT, CD_OP_SEM_TRYWAIT,
                               CD_OP_SEM_TIMEDWAIT, CD_OP_POST };
    static const char *const names[] = { "sem-wait", "sem-try", "sem-timed",
                                         "post" };
    expect_op_names(ops, names, 4);
    expect_trace_line(CD_OP_POST, sem.id, 2,
                      "post       slots            count 2");
    cd_sem_destroy(&sem);
}

/* ========================== under the scheduler ========================== */

/* The classic bounded buffer on two semaphores and a mutex: `slots`
 * counts room, `items` what there is to take. */
#define SLOTS 2
#define ITEMS 8

static cd_sem_t slots, items;
static cd_mutex_t lock;
static int buf[SLOTS], depth, sum;

static void producer(void *p)
{
    (void)p;
    for (int i = 1; i <= ITEMS; i++) {
        CU_ASSERT_EQUAL(cd_sem_wait(&slots), 0);
        cd_mutex_lock(&lock);
        buf[depth++] = i;
        cd_mutex_unlock(&lock);
        CU_ASSERT_EQUAL(cd_sem_post(&items), 0);
    }
}

static void consumer(void *p)
{
    (void)p;
    for (int i = 0; i < ITEMS / 2; i++) {
        CU_ASSERT_EQUAL(cd_sem_wait(&items), 0);
        cd_mutex_lock(&lock);
        sum += buf[--depth];
        cd_mutex_unlock(&lock);
        CU_ASSERT_EQUAL(cd_sem_post(&slots), 0);
    }
}

/* One run; returns what was consumed (-1: aborted), its schedule in s. */
static int run_buffer(const cd_sched_cfg_t *cfg, char *s, size_t size)
{
    cd_thread_t t[3];
    const cd_sched_decision_t *d;
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_sched_begin(cfg) == 0);
    CU_ASSERT_FATAL(cd_sem_init(&slots, "slots", SLOTS) == 0);
    CU_ASSERT_FATAL(cd_sem_init(&items, "items", 0) == 0);
    CU_ASSERT_FATAL(cd_mutex_init(&lock, "buffer") == 0);
    depth = sum = 0;
    CU_ASSERT_FATAL(cd_thread_spawn(&t[0], "producer", producer, NULL) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&t[1], "cons-1", consumer, NULL) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&t[2], "cons-2", consumer, NULL) == 0);
    for (int i = 0; i < 3; i++)
        cd_thread_join(&t[i]);
    int aborted = cd_reg_aborted();
    cd_sched_format_schedule(d, cd_sched_decisions(&d), s, size);
    cd_sched_end();
    ASSERT_INT_EQ(cd_sem_value(&slots), SLOTS);
    ASSERT_INT_EQ(cd_sem_value(&items), 0);
    cd_sem_destroy(&slots);
    cd_sem_destroy(&items);
    cd_mutex_destroy(&lock);
    return aborted ? -1 : sum;
}

/* test: controlled: producer and consumers end, replay */
static void controlled_producer_and_consumers_end_and_replay(void)
{
    cd_sched_cfg_t pct = { .strategy = CD_SCHED_PCT, .depth = 3,
                           .pct_steps = 60 };
    expect_seeds_repeat_and_replay(pct, run_buffer, ITEMS * (ITEMS + 1) / 2);
}

/* Nobody posts: the waiter cannot go on and nobody else can run - the
 * scheduler calls the run stuck at once (no cycle: not a deadlock). */
/* test: controlled: a wait nobody posts ends the run */
static void controlled_a_wait_nobody_posts_ends_the_run(void)
{
    cd_sched_cfg_t cfg = { .strategy = CD_SCHED_RANDOM, .seed = 1 };
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_sched_begin(&cfg) == 0);
    CU_ASSERT_FATAL(cd_sem_init(&sem, "never", 0) == 0);
    ASSERT_INT_EQ(cd_sem_wait(&sem), -ECANCELED);
    ASSERT_INT_EQ(cd_reg_aborted(), CD_ABORT_STUCK);
    cd_sched_end();
    cd_sem_destroy(&sem);
}
