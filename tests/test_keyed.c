/*
 * test_keyed.c - the keyed locks (cd_keyed.h for threads, cd_akeyed in
 * cd_amutex.h for tasks) and the key table behind both (cd_keytab.h):
 * arrival order per key, a lock of its own per key, entries freed with
 * the last unlock, the continue and stop strategies, trylock, the run's
 * abort of a waiter, and registry records reused without the old key's
 * lock order.
 *
 * Every test runs in a forked child with a time limit. Orders are forced,
 * not hoped for: the next waiter is started only once the table counts
 * the one before as queued (cd_keyed_waiters), and tasks run on one
 * worker, which runs them in the order they were spawned.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../lib/cd_amutex.h"
#include "../lib/cd_detect.h"
#include "../lib/cd_exec.h"
#include "../lib/cd_keyed.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "harness.h"

/* suite: keyed */

/* The waiters of the FIFO tests. Threads: plain pthreads, so that more
 * than the registry's thread table can wait (those past it are untracked
 * and must queue the same). Tasks: each is a registry record, so the
 * queue is as long as the thread table allows beside main and a worker.
 * Under TSan a thread start and a task's fiber cost a millisecond or two,
 * and a loaded CI runner ran both tests past their limits: fewer threads
 * (still past the table) and tasks queue there. */
#ifdef CD_TSAN
#define FIFO_THREADS (CD_MAX_THREADS + 88)
#define FIFO_TASKS 160
#else
#define FIFO_THREADS 1000
#define FIFO_TASKS 480
#endif
#define SAFETY_MS 20000

/* =============================== helpers ================================= */

static void nap_us(long us)
{
    struct timespec ts = { 0, us * 1000 };
    nanosleep(&ts, NULL);
}

/* Waits (in short naps, at most POLL_LIMIT_MS) until key has n waiters. */
static int await_waiters(cd_keytab_t *t, unsigned long key, int n)
{
    for (int i = 0; i < POLL_LIMIT_MS * 20; i++) {
        if (cd_keytab_waiters(t, key) == n)
            return 1;
        nap_us(50);
    }
    return 0;
}

static long live_keys(cd_keytab_t *t)
{
    cd_keytab_stats_t st;
    cd_keytab_stats(t, &st);
    return st.live_keys;
}

/* The record of the key the thread holds last, from the registry. */
static int held_record(int thread)
{
    cd_thread_rec_t *t = cd_reg_thread(thread);
    int n = t ? atomic_load(&t->nheld) : 0;
    return n > 0 ? atomic_load(&t->held[n - 1]) : 0;
}

static void stuck(int reason)
{
    fprintf(stderr, "\n  test_keyed: waiters ignored the abort (reason %d)\n",
            reason);
    _exit(3);
}

/* ========================= FIFO: 1,000 threads =========================== */

static cd_keyed_t fifo;
static atomic_int served;
static int order[FIFO_THREADS];
static int rcs[FIFO_THREADS];

static void *fifo_thread(void *arg)
{
    int i = (int)(intptr_t)arg;
    rcs[i] = cd_keyed_lock(&fifo, 7);
    if (rcs[i] == 0) {
        order[atomic_fetch_add(&served, 1)] = i;
        cd_keyed_unlock(&fifo, 7);
    }
    return NULL;
}

/* A thousand thread starts (600 under TSan), each awaited in the queue: a
 * few seconds under TSan, past 15 s under TSan on a loaded 2-core machine. */
/* test: 1,000 threads get a key in arrival order */
CHILD_TEST_LIMIT(test_threads_get_a_key_in_arrival_order, 90000)
{
    static pthread_t th[FIFO_THREADS];
    pthread_attr_t small;

    cd_reg_reset();
    atomic_store(&served, 0);
    EXPECT_EQ(cd_keyed_init(&fifo, "account", 4), 0);
    EXPECT_EQ(cd_keyed_lock(&fifo, 7), 0);
    EXPECT_EQ(pthread_attr_init(&small), 0);
    EXPECT_EQ(pthread_attr_setstacksize(&small, 128 * 1024), 0);
    for (int i = 0; i < FIFO_THREADS; i++) {
        EXPECT_EQ(pthread_create(&th[i], &small, fifo_thread,
                                 (void *)(intptr_t)i), 0);
        EXPECT(await_waiters(fifo.locks, 7, i + 1));
    }
    EXPECT_EQ(live_keys(fifo.locks), 1);
    EXPECT_EQ(cd_keyed_unlock(&fifo, 7), 0);
    for (int i = 0; i < FIFO_THREADS; i++)
        EXPECT_EQ(pthread_join(th[i], NULL), 0);
    EXPECT_EQ(atomic_load(&served), FIFO_THREADS);
    for (int i = 0; i < FIFO_THREADS; i++) {
        EXPECT_EQ(rcs[i], 0);
        EXPECT_EQ(order[i], i);
    }
    EXPECT_EQ(live_keys(fifo.locks), 0);
    pthread_attr_destroy(&small);
    cd_keyed_destroy(&fifo);
    return 0;
}

/* ========================== FIFO: tasks ================================== */

static cd_akeyed_t afifo;
static int task_order[FIFO_TASKS];
static int task_rc[FIFO_TASKS];

/* Holds the key until every other task is queued behind it. */
static void holder_task(void *arg)
{
    int failed = arg != NULL;
    cd_akeyed_lock(&afifo, 3);
    for (int i = 0; i < 5000 && cd_akeyed_waiters(&afifo, 3) < FIFO_TASKS;
         i++)
        cd_await_latency("let the others queue", 1000);
    if (failed)
        cd_akeyed_unlock_failed(&afifo, 3);
    else
        cd_akeyed_unlock(&afifo, 3);
}

static void queued_task(void *arg)
{
    int i = (int)(intptr_t)arg;
    task_rc[i] = cd_akeyed_lock(&afifo, 3);
    if (task_rc[i] == 0) {
        task_order[atomic_fetch_add(&served, 1)] = i;
        cd_akeyed_unlock(&afifo, 3);
    }
}

/* Runs the holder, then FIFO_TASKS tasks that queue on its key, on one
 * worker (so they queue in the order they were spawned). */
static int run_queue_of_tasks(cd_key_strategy_t strategy, int failed)
{
    cd_exec_t *e;

    cd_reg_reset();
    atomic_store(&served, 0);
    EXPECT_EQ(cd_akeyed_init_strategy(&afifo, "order", 4, strategy), 0);
    EXPECT_EQ(cd_exec_create(&e, 1), 0);
    EXPECT(cd_exec_spawn(e, "holder", holder_task,
                         failed ? (void *)1 : NULL) > 0);
    for (int i = 0; i < FIFO_TASKS; i++)
        EXPECT(cd_exec_spawn(e, "queued", queued_task,
                             (void *)(intptr_t)i) > 0);
    EXPECT_EQ(cd_exec_run(e), 0);
    EXPECT_EQ(live_keys(afifo.locks), 0);
    cd_exec_destroy(e);
    cd_akeyed_destroy(&afifo);
    return 0;
}

/* test: queued tasks get a key in arrival order */
CHILD_TEST(test_tasks_get_a_key_in_arrival_order)
{
    if (run_queue_of_tasks(CD_KEY_CONTINUE, 0))
        return 1;
    EXPECT_EQ(atomic_load(&served), FIFO_TASKS);
    for (int i = 0; i < FIFO_TASKS; i++) {
        EXPECT_EQ(task_rc[i], 0);
        EXPECT_EQ(task_order[i], i);
    }
    return 0;
}

/* ============================== strategies =============================== */

/* Under stop, a failed holder's unlock tells every task queued behind it. */
/* test: stop fails every task queued behind a failed holder */
CHILD_TEST(test_stop_fails_every_task_queued_behind_a_failed_holder)
{
    if (run_queue_of_tasks(CD_KEY_STOP, 1))
        return 1;
    EXPECT_EQ(atomic_load(&served), 0);
    for (int i = 0; i < FIFO_TASKS; i++)
        EXPECT_EQ(task_rc[i], -ECANCELED);
    return 0;
}

/* Under continue, a failed holder's unlock lets the queue go on. */
/* test: continue lets tasks behind a failed holder go on */
CHILD_TEST(test_continue_lets_tasks_behind_a_failed_holder_go_on)
{
    if (run_queue_of_tasks(CD_KEY_CONTINUE, 1))
        return 1;
    EXPECT_EQ(atomic_load(&served), FIFO_TASKS);
    for (int i = 0; i < FIFO_TASKS; i++)
        EXPECT_EQ(task_rc[i], 0);
    return 0;
}

/* A thread that takes key 1, records how it went and lets go. */
typedef struct taker {
    cd_keyed_t *k;
    int rc;
} taker_t;

static void take_key_one(void *arg)
{
    taker_t *t = arg;
    t->rc = cd_keyed_lock(t->k, 1);
    if (t->rc == 0)
        cd_keyed_unlock(t->k, 1);
}

/* main holds key 1 (stop: with the stop strategy for this hold), two
 * threads queue behind it, main unlocks (failed or not); their results go
 * to rc[0..1]. */
static int two_behind(cd_keyed_t *k, int stop, int failed, int rc[2])
{
    cd_thread_t th[2];
    taker_t t[2] = { { k, 1 }, { k, 1 } };

    EXPECT_EQ(stop ? cd_keyed_lock_stop(k, 1) : cd_keyed_lock(k, 1), 0);
    for (int i = 0; i < 2; i++) {
        EXPECT_EQ(cd_thread_spawn(&th[i], "behind", take_key_one, &t[i]), 0);
        EXPECT(await_waiters(k->locks, 1, i + 1));
    }
    EXPECT_EQ(failed ? cd_keyed_unlock_failed(k, 1) : cd_keyed_unlock(k, 1),
              0);
    for (int i = 0; i < 2; i++) {
        EXPECT_EQ(cd_thread_join(&th[i]), 0);
        rc[i] = t[i].rc;
    }
    EXPECT_EQ(live_keys(k->locks), 0);
    return 0;
}

/* test: threads continue or stop behind a failed holder */
CHILD_TEST(test_threads_continue_or_stop_behind_a_failed_holder)
{
    cd_keyed_t cont, stop;
    int rc[2];

    cd_reg_reset();
    EXPECT_EQ(cd_keyed_init(&cont, "cont", 2), 0);
    EXPECT_EQ(cd_keyed_init_strategy(&stop, "stop", 2, CD_KEY_STOP), 0);
    /* continue: a failure changes nothing for the waiters */
    EXPECT_EQ(two_behind(&cont, 0, 1, rc), 0);
    EXPECT_EQ(rc[0], 0);
    EXPECT_EQ(rc[1], 0);
    /* stop, chosen at init: only a failed unlock stops the queue */
    EXPECT_EQ(two_behind(&stop, 0, 0, rc), 0);
    EXPECT_EQ(rc[0], 0);
    EXPECT_EQ(two_behind(&stop, 0, 1, rc), 0);
    EXPECT_EQ(rc[0], -ECANCELED);
    EXPECT_EQ(rc[1], -ECANCELED);
    /* stop, chosen by the hold, on a continue table */
    EXPECT_EQ(two_behind(&cont, 1, 1, rc), 0);
    EXPECT_EQ(rc[0], -ECANCELED);
    EXPECT_EQ(rc[1], -ECANCELED);
    /* and the key works as before for whoever comes next */
    EXPECT_EQ(cd_keyed_lock(&stop, 1), 0);
    EXPECT_EQ(cd_keyed_unlock(&stop, 1), 0);
    cd_keyed_destroy(&cont);
    cd_keyed_destroy(&stop);
    return 0;
}

/* ================================ trylock ================================ */

/* test: trylock is busy on a held key and takes a free one */
CHILD_TEST(test_trylock_is_busy_on_a_held_key_and_takes_a_free_one)
{
    cd_keyed_t k;

    cd_reg_reset();
    EXPECT_EQ(cd_keyed_init(&k, "customer", 2), 0);
    EXPECT_EQ(cd_keyed_trylock(&k, 1), 0);
    EXPECT_EQ(cd_keyed_trylock(&k, 1), -EBUSY);
    EXPECT_EQ(cd_keyed_trylock(&k, 2), 0);
    EXPECT_EQ(live_keys(k.locks), 2);
    EXPECT_EQ(cd_keyed_unlock(&k, 1), 0);
    EXPECT_EQ(cd_keyed_unlock(&k, 2), 0);
    EXPECT_EQ(cd_keyed_unlock(&k, 2), -EPERM); /* not held any more */
    EXPECT_EQ(live_keys(k.locks), 0);
    cd_keyed_destroy(&k);
    return 0;
}

/* =============================== cleanup ================================= */

/* test: many distinct keys leave nothing behind */
CHILD_TEST(test_many_distinct_keys_leave_nothing_behind)
{
    cd_keyed_t k;
    cd_keytab_stats_t st;

    cd_reg_reset();
    EXPECT_EQ(cd_keyed_init(&k, "customer", 4), 0);
    for (unsigned long key = 0; key < 20000; key++) {
        EXPECT_EQ(cd_keyed_lock(&k, key * 7919), 0);
        EXPECT_EQ(cd_keyed_unlock(&k, key * 7919), 0);
    }
    cd_keyed_stats(&k, &st);
    EXPECT_EQ(st.live_keys, 0);
    EXPECT_EQ(st.bytes, 0);
    /* One key at a time: a registry record per shard at most (16),
     * reused for every key of its shard. */
    EXPECT(st.records >= 1 && st.records <= 16);
    EXPECT_EQ(st.untracked, 0);
    cd_keyed_destroy(&k);
    return 0;
}

static cd_akeyed_t many;

static void lock_many_keys(void *arg)
{
    (void)arg;
    for (unsigned long key = 0; key < 5000; key++) {
        cd_akeyed_lock(&many, key);
        cd_akeyed_unlock(&many, key);
    }
}

/* test: many distinct keys of tasks leave nothing behind */
CHILD_TEST(test_many_distinct_keys_of_tasks_leave_nothing_behind)
{
    cd_exec_t *e;
    cd_keytab_stats_t st;

    cd_reg_reset();
    EXPECT_EQ(cd_akeyed_init(&many, "order", 4), 0);
    EXPECT_EQ(cd_exec_create(&e, 2), 0);
    for (int i = 0; i < 4; i++)
        EXPECT(cd_exec_spawn(e, "locker", lock_many_keys, NULL) > 0);
    EXPECT_EQ(cd_exec_run(e), 0);
    cd_akeyed_stats(&many, &st);
    EXPECT_EQ(st.live_keys, 0);
    EXPECT_EQ(st.bytes, 0);
    cd_exec_destroy(e);
    cd_akeyed_destroy(&many);
    return 0;
}

/* More keys held at once than the table takes registry records: the keys
 * past them still lock, and the table says how many went untracked. */
/* test: keys past the registry records still lock and are counted */
CHILD_TEST(test_keys_past_the_registry_records_still_lock_and_are_counted)
{
    cd_keyed_t k;
    cd_keytab_stats_t st;

    cd_reg_reset();
    EXPECT_EQ(cd_keyed_init(&k, "customer", 1), 0);
    for (unsigned long key = 0; key < 100; key++)
        EXPECT_EQ(cd_keyed_lock(&k, key), 0);
    cd_keyed_stats(&k, &st);
    EXPECT_EQ(st.live_keys, 100);
    EXPECT(st.records > 0 && st.records < 100);
    EXPECT_EQ(st.untracked, 100 - st.records);
    EXPECT_EQ(cd_keyed_trylock(&k, 99), -EBUSY); /* untracked, still held */
    for (unsigned long key = 0; key < 100; key++)
        EXPECT_EQ(cd_keyed_unlock(&k, key), 0);
    EXPECT_EQ(live_keys(k.locks), 0);
    cd_keyed_destroy(&k);
    return 0;
}

/* ===================== a lock of its own per key ========================= */

static cd_keyed_t four;
static atomic_int inside, go;

static void hold_own_key(void *arg)
{
    unsigned long key = (unsigned long)(intptr_t)arg;
    cd_keyed_lock(&four, key);
    atomic_fetch_add(&inside, 1);
    while (!atomic_load(&go))
        nap_us(1000);
    cd_keyed_unlock(&four, key);
}

/* Four threads hold four keys at the same time - keys sharing a lock
 * could not - and the registry shows each key with its own owner. */
/* test: different keys are held at once by different threads */
CHILD_TEST(test_different_keys_are_held_at_once_by_different_threads)
{
    cd_thread_t th[4];

    cd_reg_reset();
    atomic_store(&inside, 0);
    atomic_store(&go, 0);
    /* hint 1: as small a table as there is, so keys share buckets */
    EXPECT_EQ(cd_keyed_init(&four, "customer", 1), 0);
    for (int i = 0; i < 4; i++)
        EXPECT_EQ(cd_thread_spawn(&th[i], "holder", hold_own_key,
                                  (void *)(intptr_t)(i * 16)), 0);
    for (int i = 0; i < POLL_LIMIT_MS && atomic_load(&inside) < 4; i++)
        nap_us(1000);
    EXPECT_EQ(atomic_load(&inside), 4);
    cd_snapshot_t *s = take_snapshot();
    int keys = 0;
    for (int i = 0; i < s->nobjs; i++) {
        const cd_obj_info_t *o = &s->objs[i];
        if (o->kind != CD_OBJ_KEY || !o->live)
            continue;
        keys++;
        EXPECT(o->owner == th[0].id || o->owner == th[1].id ||
               o->owner == th[2].id || o->owner == th[3].id);
        EXPECT_EQ(o->key % 16, 0);
        char want[CD_NAME_MAX];
        snprintf(want, sizeof want, "customer[%llu]",
                 (unsigned long long)o->key);
        EXPECT_STR(o->name, want);
    }
    EXPECT_EQ(keys, 4);
    atomic_store(&go, 1);
    for (int i = 0; i < 4; i++)
        EXPECT_EQ(cd_thread_join(&th[i]), 0);
    EXPECT_EQ(live_keys(four.locks), 0);
    cd_keyed_destroy(&four);
    return 0;
}

/* The registry shows a key's waiters in the order they queued. */
/* test: the registry shows a key's queue in order */
CHILD_TEST(test_the_registry_shows_a_keys_queue_in_order)
{
    cd_keyed_t k;
    cd_thread_t th[3];
    taker_t t[3] = { { &k, 1 }, { &k, 1 }, { &k, 1 } };

    cd_reg_reset();
    EXPECT_EQ(cd_keyed_init(&k, "customer", 2), 0);
    EXPECT_EQ(cd_keyed_lock(&k, 1), 0);
    int rec = held_record(cd_self());
    EXPECT(rec > 0);
    for (int i = 0; i < 3; i++) {
        EXPECT_EQ(cd_thread_spawn(&th[i], "behind", take_key_one, &t[i]), 0);
        EXPECT(await_waiters(k.locks, 1, i + 1));
    }
    EXPECT(await(is_blocked_on, th[2].id, rec));
    const cd_obj_info_t *o = oinfo(snap(), rec);
    EXPECT_EQ(o->owner, cd_self());
    EXPECT_EQ(o->key_queue[0], th[0].id);
    EXPECT_EQ(o->key_queue[1], th[1].id);
    EXPECT_EQ(o->key_queue[2], th[2].id);
    EXPECT_EQ(o->key_queue[3], 0);
    EXPECT_STR(cd_obj_kind_name(o->kind), "keyed lock");
    EXPECT_EQ(cd_keyed_unlock(&k, 1), 0);
    for (int i = 0; i < 3; i++)
        EXPECT_EQ(cd_thread_join(&th[i]), 0);
    cd_keyed_destroy(&k);
    return 0;
}

/* ============================ the run's abort ============================ */

/* A waiting thread that cd_thread started is ended by the abort and
 * leaves the queue; one it did not start gets -ECANCELED. */
static void *plain_take(void *arg)
{
    taker_t *t = arg;
    t->rc = cd_keyed_lock(t->k, 1);
    if (t->rc == 0)
        cd_keyed_unlock(t->k, 1);
    return NULL;
}

/* test: abort ends a thread waiting for a key */
CHILD_TEST(test_abort_ends_a_thread_waiting_for_a_key)
{
    cd_keyed_t k;
    cd_thread_t th;
    pthread_t plain;
    taker_t t = { &k, 1 }, p = { &k, 1 };

    cd_reg_reset();
    EXPECT_EQ(cd_keyed_init(&k, "customer", 2), 0);
    EXPECT_EQ(cd_keyed_lock(&k, 1), 0);
    int rec = held_record(cd_self());
    EXPECT_EQ(cd_thread_spawn(&th, "waiter", take_key_one, &t), 0);
    EXPECT(await(is_blocked_on, th.id, rec));
    EXPECT_EQ(pthread_create(&plain, NULL, plain_take, &p), 0);
    EXPECT(await_waiters(k.locks, 1, 2));

    int64_t t0 = cd_now_ns();
    cd_reg_abort(CD_ABORT_DEADLOCK);
    EXPECT_EQ(cd_thread_join(&th), -ECANCELED);
    EXPECT_EQ(pthread_join(plain, NULL), 0);
    EXPECT((cd_now_ns() - t0) / 1000000 < 3000);
    EXPECT_EQ(p.rc, -ECANCELED);
    EXPECT_EQ(cd_keyed_waiters(&k, 1), 0);
    cd_snapshot_t *s = take_snapshot();
    EXPECT_EQ(tinfo(s, th.id)->state, CD_T_ABORTED);
    EXPECT_EQ(oinfo(s, rec)->nwaiters, 0);
    EXPECT_EQ(cd_keyed_unlock(&k, 1), 0);
    EXPECT_EQ(live_keys(k.locks), 0);
    cd_keyed_destroy(&k);
    return 0;
}

static cd_akeyed_t aborted;

static void hold_for_an_hour(void *arg)
{
    (void)arg;
    cd_akeyed_lock(&aborted, 5);
    cd_await_latency("an hour", 3600LL * 1000 * 1000);
    cd_akeyed_unlock(&aborted, 5);
}

static void wait_for_key_five(void *arg)
{
    (void)arg;
    cd_akeyed_lock(&aborted, 5);
    cd_akeyed_unlock(&aborted, 5);
}

/* The watchdog's time limit aborts the run: the holder (in a latency) and
 * the task parked on its key both end, and the key is freed. */
/* test: abort ends a task waiting for a key */
CHILD_TEST(test_abort_ends_a_task_waiting_for_a_key)
{
    cd_exec_t *e;
    cd_watchdog_t *dog;

    cd_reg_reset();
    EXPECT_EQ(cd_watchdog_start(&dog, 500, 10, 5000, stuck), 0);
    EXPECT_EQ(cd_akeyed_init(&aborted, "order", 2), 0);
    EXPECT_EQ(cd_exec_create(&e, 1), 0);
    int holder = cd_exec_spawn(e, "holder", hold_for_an_hour, NULL);
    int waiter = cd_exec_spawn(e, "waiter", wait_for_key_five, NULL);
    EXPECT(holder > 0 && waiter > 0);
    EXPECT_EQ(cd_exec_run(e), 2);
    cd_watchdog_stop(dog);
    EXPECT_EQ(cd_reg_aborted(), CD_ABORT_TIMEOUT);
    cd_snapshot_t *s = take_snapshot();
    EXPECT_EQ(tinfo(s, holder)->state, CD_T_ABORTED);
    EXPECT_EQ(tinfo(s, waiter)->state, CD_T_ABORTED);
    EXPECT_EQ(tinfo(s, waiter)->nheld, 0);
    EXPECT_EQ(live_keys(aborted.locks), 0);
    cd_exec_destroy(e);
    cd_akeyed_destroy(&aborted);
    return 0;
}

/* Two threads take two keys in opposite orders: the watchdog finds the
 * cycle through the keys' records, and the abort ends both. */
static cd_keyed_t crossed;
static atomic_int first_taken;

static void take_crossed(void *arg)
{
    unsigned long mine = (unsigned long)(intptr_t)arg, other = 3 - mine;
    cd_keyed_lock(&crossed, mine);
    atomic_fetch_add(&first_taken, 1);
    while (atomic_load(&first_taken) < 2)
        nap_us(1000);
    cd_keyed_lock(&crossed, other);
    cd_keyed_unlock(&crossed, other);
    cd_keyed_unlock(&crossed, mine);
}

/* test: keys taken in opposite orders are found deadlocked */
CHILD_TEST(test_keys_taken_in_opposite_orders_are_found_deadlocked)
{
    cd_thread_t a, b;
    cd_watchdog_t *dog;
    cd_cycle_t cycle;

    cd_reg_reset();
    atomic_store(&first_taken, 0);
    EXPECT_EQ(cd_keyed_init(&crossed, "account", 2), 0);
    EXPECT_EQ(cd_watchdog_start(&dog, 10000, 10, 5000, stuck), 0);
    EXPECT_EQ(cd_thread_spawn(&a, "transfer-1", take_crossed, (void *)1), 0);
    EXPECT_EQ(cd_thread_spawn(&b, "transfer-2", take_crossed, (void *)2), 0);
    EXPECT_EQ(cd_thread_join(&a), -ECANCELED);
    EXPECT_EQ(cd_thread_join(&b), -ECANCELED);
    cd_watchdog_stop(dog);
    EXPECT_EQ(cd_reg_aborted(), CD_ABORT_DEADLOCK);
    EXPECT_EQ(cd_reg_deadlock(&cycle), 1);
    EXPECT_EQ(cycle.len, 2);
    EXPECT_EQ(cd_reg_object(cycle.link[0].waits)->kind, CD_OBJ_KEY);
    EXPECT_EQ(live_keys(crossed.locks), 0);
    cd_keyed_destroy(&crossed);
    return 0;
}

/* ======================= records and lock order ========================== */

/* A freed key's record goes to a later new key, without its lock order:
 * key 1 taken under A, then (key 1 freed) another key - on the same
 * record - taken before A is no inversion. */
/* test: a reused record does not inherit the old key's lock order */
CHILD_TEST(test_a_reused_record_does_not_inherit_the_old_keys_lock_order)
{
    cd_keyed_t k;
    cd_mutex_t a;
    cd_inversion_t inv[2];

    cd_reg_reset();
    EXPECT_EQ(cd_keyed_init(&k, "customer", 2), 0);
    EXPECT_EQ(cd_mutex_init(&a, "A"), 0);
    EXPECT_EQ(cd_mutex_lock(&a), 0);
    EXPECT_EQ(cd_keyed_lock(&k, 1), 0); /* edge A -> customer[1] */
    int first = held_record(cd_self());
    EXPECT_EQ(cd_keyed_unlock(&k, 1), 0);
    cd_mutex_unlock(&a);

    /* A new key that gets the freed record (the first one whose shard
     * keeps it in its pool; the others get records of their own). */
    unsigned long key = 2;
    for (; key < 1000; key++) {
        EXPECT_EQ(cd_keyed_lock(&k, key), 0);
        if (held_record(cd_self()) == first)
            break;
        EXPECT_EQ(cd_keyed_unlock(&k, key), 0);
    }
    EXPECT_EQ(held_record(cd_self()), first);
    EXPECT_EQ(cd_mutex_lock(&a), 0); /* edge customer[key] -> A */
    cd_mutex_unlock(&a);
    EXPECT_EQ(cd_keyed_unlock(&k, key), 0);
    EXPECT_EQ(cd_reg_inversions(inv, 2), 0);

    cd_mutex_destroy(&a);
    cd_keyed_destroy(&k);
    return 0;
}

/* ================================= init ================================== */

/* test: init refuses no keys; destroy leaves no record live */
CHILD_TEST(test_init_refuses_no_keys_and_destroy_leaves_no_record_live)
{
    cd_keyed_t k = { 0 };
    cd_akeyed_t a = { 0 };

    cd_reg_reset();
    EXPECT_EQ(cd_keyed_init(&k, "customer", 0), -EINVAL);
    EXPECT_EQ(cd_akeyed_init(&a, "order", -1), -EINVAL);
    EXPECT(k.locks == NULL && a.locks == NULL);
    cd_keyed_destroy(&k); /* a failed one is safe to destroy */
    EXPECT_EQ(cd_keyed_init(&k, "customer", 3), 0);
    EXPECT_EQ(cd_keyed_lock(&k, 2), 0);
    int rec = held_record(cd_self());
    EXPECT_STR(oinfo(take_snapshot(), rec)->name, "customer[2]");
    EXPECT_EQ(cd_keyed_unlock(&k, 2), 0);
    EXPECT_EQ(oinfo(take_snapshot(), rec)->live, 0);
    cd_keyed_destroy(&k);
    EXPECT(k.locks == NULL);
    return 0;
}

/* ================================ suite ================================== */
