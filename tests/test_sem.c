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

static cd_sem_t sem;

static const cd_obj_info_t *sem_info(void)
{
    return oinfo(take_snapshot(), sem.id);
}

static int traced(int op, int obj, int64_t arg)
{
    const cd_trace_event_t *ev;
    int n = trace_events(&ev);
    for (int i = 0; i < n; i++)
        if (ev[i].op == op && ev[i].obj == obj && ev[i].arg == arg)
            return 1;
    return 0;
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
    CU_ASSERT_STRING_EQUAL(cd_op_name(CD_OP_SEM_WAIT), "sem-wait");
    CU_ASSERT_STRING_EQUAL(cd_op_name(CD_OP_SEM_TRYWAIT), "sem-try");
    CU_ASSERT_STRING_EQUAL(cd_op_name(CD_OP_SEM_TIMEDWAIT), "sem-timed");
    CU_ASSERT_STRING_EQUAL(cd_op_name(CD_OP_POST), "post");
    char line[256];
    cd_trace_event_t e = { .op = CD_OP_POST, .obj = sem.id, .arg = 2,
                           .thread = cd_self() };
    cd_trace_format(&e, line, sizeof line);
    ASSERT_STR_HAS(line, "post       slots            count 2");
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

static void controlled_producer_and_consumers_end_and_replay(void)
{
    static char first[4096], again[4096], replayed[4096], before[4096];
    static uint16_t prefix[4096];
    const int all = ITEMS * (ITEMS + 1) / 2;
    int distinct = 0;
    before[0] = '\0';
    for (uint64_t seed = 1; seed <= 20; seed++) {
        cd_sched_cfg_t cfg = { .strategy = CD_SCHED_PCT, .seed = seed,
                               .depth = 3, .pct_steps = 60 };
        ASSERT_INT_EQ(run_buffer(&cfg, first, sizeof first), all);
        ASSERT_INT_EQ(run_buffer(&cfg, again, sizeof again), all);
        CU_ASSERT_STRING_EQUAL(first, again);
        char err[128];
        int n = cd_sched_parse_schedule(first, prefix, 4096, err, sizeof err);
        CU_ASSERT_FATAL(n > 0);
        cd_sched_cfg_t rp = { .strategy = CD_SCHED_REPLAY, .prefix = prefix,
                              .nprefix = n };
        ASSERT_INT_EQ(run_buffer(&rp, replayed, sizeof replayed), all);
        CU_ASSERT_STRING_EQUAL(first, replayed);
        distinct += strcmp(first, before) != 0;
        memcpy(before, first, sizeof before);
    }
    CU_ASSERT_TRUE(distinct > 10);
}

/* Nobody posts: the waiter cannot go on and nobody else can run - the
 * scheduler calls the run stuck at once (no cycle: not a deadlock). */
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

void suite_sem(void)
{
    CU_pSuite s = CU_add_suite("sem", NULL, NULL);
    add_forked_test(s, "the count goes down to 0 and up again",
                    the_count_goes_down_to_0_and_up_again);
    add_forked_test(s, "a timed wait at 0 times out, taking nothing",
                    a_timed_wait_at_0_times_out_taking_nothing);
    add_forked_test(s, "bad counts are refused", bad_counts_are_refused);
    add_forked_test(s, "a post lets one waiter go", a_post_lets_one_waiter_go);
    add_forked_test(s, "an aborted waiter ends", an_aborted_waiter_ends);
    add_forked_test(s, "a post orders the wait that takes it (TSan)",
                    a_post_orders_the_wait_that_takes_it);
    add_forked_test(s, "the trace names the operations",
                    the_trace_names_the_operations);
    add_forked_test(s, "controlled: producer and consumers end, replay",
                    controlled_producer_and_consumers_end_and_replay);
    add_forked_test(s, "controlled: a wait nobody posts ends the run",
                    controlled_a_wait_nobody_posts_ends_the_run);
}
