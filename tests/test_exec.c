/*
 * test_exec.c - the executor, awaits and awaitable mutexes (lib level).
 *
 * Each test runs in a forked child with a time limit (add_forked_test),
 * under a watchdog: it aborts a run that goes on too long, and if the
 * executor hung despite the abort, its stuck handler ends the child with a
 * message before the time limit kills it. Interleavings are
 * observed through a shared log, which is exact on one worker: a task only
 * gives its worker up at an await, and tasks that are ready run in the
 * order they became ready, before any timer that expires later.
 */
#include <fenv.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/cd_amutex.h"
#include "../lib/cd_detect.h"
#include "../lib/cd_exec.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_trace.h"
#include "../lib/cd_waitfor.h"
#include "harness.h"

/* suite: exec; forked */

#define SAFETY_MS 20000

/* ================================ fixture ================================ */

static char *const logbuf = watched_log;

/* A fresh run with a watchdog that aborts it after timeout_ms. */
static void begin(int timeout_ms) { watched_begin("test_exec", timeout_ms); }
static void end(void) { watched_end(); }
static void say(const char *word) { watched_say(word); }

static cd_snapshot_t *snapshot(void)
{
    cd_snapshot_t *s = malloc(sizeof *s); /* too big for a task's stack */
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    cd_reg_snapshot(s);
    return s;
}

/* ====================== tasks run to completion ========================= */

static atomic_int counter;

static void count_twice(void *arg)
{
    (void)arg;
    atomic_fetch_add(&counter, 1);
    cd_await_latency("tick", 0); /* even 0 parks and lets others run */
    atomic_fetch_add(&counter, 1);
}

static void run_many(int workers)
{
    cd_exec_t *e;
    int ids[20];

    begin(SAFETY_MS);
    atomic_store(&counter, 0);
    CU_ASSERT_FATAL(cd_exec_create(&e, workers) == 0);
    for (int i = 0; i < 20; i++) {
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "task-%d", i + 1);
        ids[i] = cd_exec_spawn(e, name, count_twice, NULL);
        CU_ASSERT(ids[i] > 0);
    }
    ASSERT_INT_EQ(cd_exec_run(e), 0);
    ASSERT_INT_EQ(atomic_load(&counter), 40);
    cd_snapshot_t *s = snapshot();
    for (int i = 0; i < 20; i++) {
        ASSERT_INT_EQ(s->threads[ids[i] - 1].state, CD_T_DONE);
        /* round-robin: task i on worker i % workers */
        ASSERT_INT_EQ(s->threads[ids[i] - 1].worker,
                      cd_exec_worker_obj(e, i % workers));
    }
    for (int w = 0; w < workers; w++)
        ASSERT_INT_EQ(s->objs[cd_exec_worker_obj(e, w) - 1].owner, 0);
    free(s);
    cd_exec_destroy(e);
    end();
}

static cd_exec_t *parent_exec;
static int child_ids[3];

static void parent(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        child_ids[i] = cd_exec_spawn(parent_exec, "child", count_twice, NULL);
    cd_await_latency("children", 1000);
    atomic_fetch_add(&counter, 100);
}

/* Tasks may spawn tasks; the run ends when the last of them has. */
/* test: tasks spawned by tasks run too */
static void test_tasks_spawned_by_tasks_run_too(void)
{
    begin(SAFETY_MS);
    atomic_store(&counter, 0);
    CU_ASSERT_FATAL(cd_exec_create(&parent_exec, 2) == 0);
    int p = cd_exec_spawn(parent_exec, "parent", parent, NULL);
    ASSERT_INT_EQ(cd_exec_run(parent_exec), 0);
    ASSERT_INT_EQ(atomic_load(&counter), 106);
    cd_snapshot_t *s = snapshot();
    for (int i = 0; i < 3; i++) {
        CU_ASSERT(child_ids[i] > p);
        ASSERT_INT_EQ(s->threads[child_ids[i] - 1].state, CD_T_DONE);
    }
    free(s);
    cd_exec_destroy(parent_exec);
    end();
}

/* ===================== what a task switch keeps ========================= */

/* Three tasks take turns on one worker: each switch must bring back a
 * task's own registers (values the compiler keeps in callee-saved ones
 * across the awaits), its floating-point rounding mode, and a stack
 * aligned as the ABI says. */
static int misaligned, wrong_round, wrong_sum;

/* Out of line, with a frame: at its entry the stack pointer is 8 past a
 * multiple of 16, so its frame address is a multiple of 16. */
static __attribute__((noinline)) uintptr_t frame_address(void)
{
    return (uintptr_t)__builtin_frame_address(0);
}

static void keeper(void *arg)
{
    int mode = (int)(intptr_t)arg;
    uint64_t a = 1, b = 2, c = 3, d = 5, e = 7, f = 11;
    if (fesetround(mode) != 0)
        wrong_round++;
    for (int i = 0; i < 50; i++) {
        cd_await_latency("turn", 0);
        if (frame_address() % 16 != 0)
            misaligned++;
        if (fegetround() != mode)
            wrong_round++;
        a += b; b += c; c += d; d += e; e += f; f += a + (uint64_t)i;
    }
    /* The same sums without the awaits. */
    uint64_t x[6] = { 1, 2, 3, 5, 7, 11 };
    for (int i = 0; i < 50; i++) {
        x[0] += x[1]; x[1] += x[2]; x[2] += x[3]; x[3] += x[4];
        x[4] += x[5]; x[5] += x[0] + (uint64_t)i;
    }
    if (a != x[0] || b != x[1] || c != x[2] || d != x[3] || e != x[4] ||
        f != x[5])
        wrong_sum++;
}

/* test: a task keeps its registers, rounding and stack alignment */
static void test_a_task_keeps_its_registers_rounding_and_alignment(void)
{
    cd_exec_t *e;
    begin(SAFETY_MS);
    misaligned = wrong_round = wrong_sum = 0;
    CU_ASSERT_FATAL(cd_exec_create(&e, 1) == 0);
    cd_exec_spawn(e, "upward", keeper, (void *)(intptr_t)FE_UPWARD);
    cd_exec_spawn(e, "downward", keeper, (void *)(intptr_t)FE_DOWNWARD);
    cd_exec_spawn(e, "nearest", keeper, (void *)(intptr_t)FE_TONEAREST);
    ASSERT_INT_EQ(cd_exec_run(e), 0);
    cd_exec_destroy(e);
    end();
    ASSERT_INT_EQ(misaligned, 0);
    ASSERT_INT_EQ(wrong_round, 0);
    ASSERT_INT_EQ(wrong_sum, 0);
}

/* test: tasks run to completion on one worker */
static void test_tasks_run_to_completion_on_one_worker(void) { run_many(1); }
/* test: tasks run to completion on three workers */
static void test_tasks_run_to_completion_on_three_workers(void) { run_many(3); }

/* =============== await parks and lets another task run ================== */

static void slow(void *arg)
{
    (void)arg;
    say("A1");
    cd_await_latency("io", 100 * 1000);
    say("A2");
}

static void quick(void *arg)
{
    (void)arg;
    say("B1");
    say("B2");
}

static void zero(void *arg)
{
    (void)arg;
    say("C1");
    cd_await_latency("io", 0);
    say("C2");
}

/* test: await parks the task and another task runs */
static void test_await_parks_and_another_task_runs(void)
{
    cd_exec_t *e;
    begin(SAFETY_MS);
    CU_ASSERT_FATAL(cd_exec_create(&e, 1) == 0);
    cd_exec_spawn(e, "a", slow, NULL);
    cd_exec_spawn(e, "b", quick, NULL);
    cd_exec_spawn(e, "c", zero, NULL);
    int64_t t0 = cd_now_ns();
    ASSERT_INT_EQ(cd_exec_run(e), 0);
    /* a's await let b run to the end and c start; tasks that are ready
     * run before any timer that expires later, so this order is exact. */
    CU_ASSERT(strncmp(logbuf, "A1 B1 B2 C1 ", 12) == 0);
    if (strncmp(logbuf, "A1 B1 B2 C1 ", 12) != 0)
        fprintf(stderr, "\n  log: %s\n", logbuf);
    /* a went on only after its 100 ms timer; c's await of 0 returned. */
    CU_ASSERT(said_at("A2") > said_at("B2") && said_at("C2") > said_at("C1"));
    CU_ASSERT(cd_now_ns() - t0 >= 100 * 1000000LL);
    cd_exec_destroy(e);
    end();
}

/* =============== an awaitable mutex parks, it does not block ============= */

static cd_amutex_t am;
static int am_obj;
static int state_b, waits_b, owner_am, state_a, worker_owner;
static const char *what_a;
static int id_a, id_b, id_c;

static void holder(void *arg)
{
    (void)arg;
    cd_amutex_lock(&am);
    say("A-locked");
    cd_await_latency("hold", 50 * 1000);
    say("A-unlocks");
    cd_amutex_unlock(&am);
}

static void wanter(void *arg)
{
    (void)arg;
    say("B-wants");
    cd_amutex_lock(&am);
    say("B-locked");
    cd_amutex_unlock(&am);
}

static void bystander(void *arg)
{
    (void)arg;
    say("C-ran");
    cd_snapshot_t *s = snapshot();
    state_a = s->threads[id_a - 1].state;
    what_a = s->threads[id_a - 1].what;
    state_b = s->threads[id_b - 1].state;
    waits_b = s->threads[id_b - 1].waiting_on;
    owner_am = s->objs[am_obj - 1].owner;
    worker_owner = s->objs[s->threads[id_c - 1].worker - 1].owner;
    free(s);
}

/* test: awaitable mutex parks the task, not the worker */
static void test_amutex_parks_the_task_not_the_worker(void)
{
    cd_exec_t *e;
    begin(SAFETY_MS);
    CU_ASSERT_FATAL(cd_amutex_init(&am, "am") == 0);
    am_obj = am.id;
    CU_ASSERT_FATAL(cd_exec_create(&e, 1) == 0);
    id_a = cd_exec_spawn(e, "a", holder, NULL);
    id_b = cd_exec_spawn(e, "b", wanter, NULL);
    id_c = cd_exec_spawn(e, "c", bystander, NULL);
    ASSERT_INT_EQ(cd_exec_run(e), 0);
    /* c ran on the only worker while b waited for the lock a held. */
    ASSERT_STR_HAS(logbuf, "A-locked B-wants C-ran A-unlocks B-locked ");
    ASSERT_INT_EQ(state_b, CD_T_PARKED);
    ASSERT_INT_EQ(waits_b, am_obj);
    ASSERT_INT_EQ(owner_am, id_a);
    ASSERT_INT_EQ(state_a, CD_T_PARKED);
    CU_ASSERT(what_a && strcmp(what_a, "hold") == 0);
    ASSERT_INT_EQ(worker_owner, id_c);
    ASSERT_INT_EQ(am.owner, 0);
    cd_exec_destroy(e);
    cd_amutex_destroy(&am);
    end();
}

/* ===== keyed: same key in order, different keys interleave =============== */

typedef struct keyed_job {
    const char *in, *out;
    unsigned long key;
    int usec;
} keyed_job_t;

static cd_akeyed_t keys;
static atomic_int inside[4], inside_all, max_same, max_all;

static void raise_to(atomic_int *max, int v)
{
    int m = atomic_load(max);
    while (v > m && !atomic_compare_exchange_weak(max, &m, v))
        ;
}

static void keyed_task(void *arg)
{
    keyed_job_t *j = arg;
    cd_akeyed_lock(&keys, j->key);
    raise_to(&max_same, atomic_fetch_add(&inside[j->key], 1) + 1);
    raise_to(&max_all, atomic_fetch_add(&inside_all, 1) + 1);
    if (j->in)
        say(j->in);
    cd_await_latency("work", j->usec);
    if (j->out)
        say(j->out);
    atomic_fetch_sub(&inside_all, 1);
    atomic_fetch_sub(&inside[j->key], 1);
    cd_akeyed_unlock(&keys, j->key);
}

static void reset_counters(void)
{
    for (int i = 0; i < 4; i++)
        atomic_store(&inside[i], 0);
    atomic_store(&inside_all, 0);
    atomic_store(&max_same, 0);
    atomic_store(&max_all, 0);
}

/* test: keyed awaitable mutex: same key in order, others interleave */
static void test_keyed_amutex_orders_same_key_interleaves_others(void)
{
    keyed_job_t jobs[] = {
        { "k1a+", "k1a-", 1, 20000 },
        { "k1b+", "k1b-", 1, 20000 },
        { "k2+", "k2-", 2, 20000 },
    };
    cd_exec_t *e;
    begin(SAFETY_MS);
    reset_counters();
    CU_ASSERT_FATAL(cd_akeyed_init(&keys, "key", 4) == 0);
    CU_ASSERT_FATAL(cd_exec_create(&e, 1) == 0);
    for (int i = 0; i < 3; i++)
        cd_exec_spawn(e, jobs[i].in, keyed_task, &jobs[i]);
    ASSERT_INT_EQ(cd_exec_run(e), 0);
    /* k1b waited for k1a (same key); k2 went in while k1a was inside. */
    CU_ASSERT(said_at("k1a-") >= 0 && said_at("k1a-") < said_at("k1b+"));
    CU_ASSERT(said_at("k2+") >= 0 && said_at("k2+") < said_at("k1a-"));
    if (!(said_at("k1a-") < said_at("k1b+") &&
          said_at("k2+") < said_at("k1a-")))
        fprintf(stderr, "\n  log: %s\n", logbuf);
    ASSERT_INT_EQ(atomic_load(&max_same), 1);
    ASSERT_INT_EQ(atomic_load(&max_all), 2);
    cd_exec_destroy(e);
    cd_akeyed_destroy(&keys);
    end();
}

/* Across workers the lock must still serialise one key: 12 tasks on 3
 * workers, 2 keys. No log here (tasks run in parallel). */
/* test: keyed awaitable mutex serialises a key across workers */
static void test_keyed_amutex_serialises_across_workers(void)
{
    keyed_job_t jobs[12];
    cd_exec_t *e;
    begin(SAFETY_MS);
    reset_counters();
    CU_ASSERT_FATAL(cd_akeyed_init(&keys, "key", 4) == 0);
    CU_ASSERT_FATAL(cd_exec_create(&e, 3) == 0);
    for (int i = 0; i < 12; i++) {
        jobs[i] = (keyed_job_t){ NULL, NULL, (unsigned long)(i % 2), 2000 };
        cd_exec_spawn(e, "keyed", keyed_task, &jobs[i]);
    }
    ASSERT_INT_EQ(cd_exec_run(e), 0);
    ASSERT_INT_EQ(atomic_load(&max_same), 1);
    CU_ASSERT(atomic_load(&max_all) <= 2);
    cd_exec_destroy(e);
    cd_akeyed_destroy(&keys);
    end();
}

/* ================= the registry shows what tasks are doing =============== */

static int id_p, id_q, id_r, self_in_q, mutex_owner_in_q;
static cd_thread_info_t seen_p, seen_q, seen_r;
static int64_t seen_at;
static int worker_obj_in_q, worker_owner_in_q;
static cd_mutex_t plain;

static void sleeper(void *arg)
{
    (void)arg;
    cd_await_latency("slow-io", 200 * 1000);
}

static void observer(void *arg)
{
    (void)arg;
    self_in_q = cd_self();
    cd_mutex_lock(&plain); /* a blocking lock taken inside a task */
    cd_snapshot_t *s = snapshot();
    cd_mutex_unlock(&plain);
    seen_p = s->threads[id_p - 1];
    seen_q = s->threads[id_q - 1];
    seen_r = s->threads[id_r - 1];
    seen_at = s->t_ns;
    mutex_owner_in_q = s->objs[plain.id - 1].owner;
    worker_obj_in_q = seen_q.worker;
    worker_owner_in_q = s->objs[seen_q.worker - 1].owner;
    free(s);
}

static void nothing(void *arg) { (void)arg; }

/* test: registry shows parked, ready, running and done tasks */
static void test_registry_shows_parked_ready_running_done(void)
{
    cd_exec_t *e;
    begin(SAFETY_MS);
    CU_ASSERT_FATAL(cd_mutex_init(&plain, "plain") == 0);
    CU_ASSERT_FATAL(cd_exec_create(&e, 1) == 0);
    id_p = cd_exec_spawn(e, "p", sleeper, NULL);
    id_q = cd_exec_spawn(e, "q", observer, NULL);
    id_r = cd_exec_spawn(e, "r", nothing, NULL);
    ASSERT_INT_EQ(cd_exec_run(e), 0);

    ASSERT_INT_EQ(self_in_q, id_q);           /* cd_self() is the task */
    ASSERT_INT_EQ(mutex_owner_in_q, id_q);    /* and owns its locks */
    ASSERT_INT_EQ(seen_q.state, CD_T_RUNNING);
    ASSERT_INT_EQ(worker_obj_in_q, cd_exec_worker_obj(e, 0));
    ASSERT_INT_EQ(worker_owner_in_q, id_q);   /* the worker runs q */
    ASSERT_INT_EQ(seen_p.state, CD_T_PARKED); /* p awaits its timer */
    CU_ASSERT(seen_p.what && strcmp(seen_p.what, "slow-io") == 0);
    /* the timer's deadline: 200 ms after p parked */
    CU_ASSERT(seen_p.wake_ns - seen_p.since_ns > 190 * 1000000LL);
    CU_ASSERT(seen_at >= seen_p.since_ns);
    ASSERT_INT_EQ(seen_p.waiting_on, 0);
    ASSERT_INT_EQ(seen_r.state, CD_T_READY);  /* r waits for the worker */
    ASSERT_INT_EQ(seen_r.waiting_on, cd_exec_worker_obj(e, 0));

    cd_snapshot_t *s = snapshot();
    ASSERT_INT_EQ(s->threads[id_p - 1].state, CD_T_DONE);
    ASSERT_INT_EQ(s->threads[id_q - 1].state, CD_T_DONE);
    ASSERT_INT_EQ(s->threads[id_r - 1].state, CD_T_DONE);
    ASSERT_INT_EQ(s->objs[cd_exec_worker_obj(e, 0) - 1].kind, CD_OBJ_WORKER);
    free(s);
    ASSERT_STR_HAS(cd_thread_state_name(CD_T_PARKED), "parked");
    ASSERT_STR_HAS(cd_thread_state_name(CD_T_READY), "ready");
    ASSERT_STR_HAS(cd_op_name(CD_OP_PARK), "parked");
    ASSERT_STR_HAS(cd_op_name(CD_OP_RESUME), "resumed");
    cd_exec_destroy(e);
    cd_mutex_destroy(&plain);
    end();
}

/* ====== a worker blocked by one task does not stop the other workers ===== */

static cd_mutex_t gate;
static atomic_int others_done;

static void blocker(void *arg)
{
    (void)arg;
    cd_mutex_lock(&gate); /* blocks worker-1's thread until main lets go */
    cd_mutex_unlock(&gate);
}

static void other(void *arg)
{
    (void)arg;
    cd_await_latency("io", 1000);
    atomic_fetch_add(&others_done, 1);
}

static int run_exec(void *e)
{
    return cd_exec_run(e);
}

/* test: a blocked worker stalls only its own tasks */
static void test_blocked_worker_stalls_only_its_own_tasks(void)
{
    cd_exec_t *e;
    plain_call_t r;
    begin(SAFETY_MS);
    atomic_store(&others_done, 0);
    CU_ASSERT_FATAL(cd_mutex_init(&gate, "gate") == 0);
    CU_ASSERT_FATAL(cd_mutex_lock(&gate) == 0);
    CU_ASSERT_FATAL(cd_exec_create(&e, 2) == 0);
    int b = cd_exec_spawn_on(e, 0, "blocker", blocker, NULL);
    int stuck_id = cd_exec_spawn_on(e, 0, "behind", other, NULL);
    for (int i = 0; i < 4; i++)
        cd_exec_spawn_on(e, 1, "other", other, NULL);
    CU_ASSERT_FATAL(plain_call_start(&r, run_exec, e) == 0);

    /* Wait (generously) until the blocker holds worker-1 in its lock and
     * worker-2's four tasks are done; the task behind the blocker never
     * gets to run. */
    int64_t deadline = cd_now_ns() + 10 * 1000000000LL;
    cd_snapshot_t *s = snapshot();
    while ((atomic_load(&others_done) < 4 ||
            s->threads[b - 1].state != CD_T_BLOCKED) &&
           cd_now_ns() < deadline) {
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
        cd_reg_snapshot(s);
    }
    ASSERT_INT_EQ(atomic_load(&others_done), 4);
    ASSERT_INT_EQ(s->threads[b - 1].state, CD_T_BLOCKED);
    ASSERT_INT_EQ(s->threads[stuck_id - 1].state, CD_T_READY);
    ASSERT_INT_EQ(s->objs[cd_exec_worker_obj(e, 0) - 1].owner, b);
    free(s);

    cd_mutex_unlock(&gate); /* worker-1 goes on: everything finishes */
    CU_ASSERT_FATAL(plain_call_join(&r) == 0);
    ASSERT_INT_EQ(r.rc, 0);
    ASSERT_INT_EQ(atomic_load(&others_done), 5);
    cd_exec_destroy(e);
    cd_mutex_destroy(&gate);
    end();
}

/* ==================== the run's abort ends it cleanly ==================== */

static cd_amutex_t held;
static cd_mutex_t blocking;

static void hold_and_wait(void *arg)
{
    (void)arg;
    cd_amutex_lock(&held);
    cd_await_latency("forever", 60LL * 1000 * 1000);
    cd_amutex_unlock(&held);
}

static void wait_amutex(void *arg)
{
    (void)arg;
    cd_amutex_lock(&held);
    cd_amutex_unlock(&held);
}

static void hold_blocking(void *arg)
{
    (void)arg;
    cd_mutex_lock(&blocking);
    cd_await_latency("forever", 60LL * 1000 * 1000);
    cd_mutex_unlock(&blocking);
}

/* test: the run's abort ends every task and releases locks */
static void test_abort_ends_every_task_and_releases_locks(void)
{
    cd_exec_t *e;
    int ids[5];
    /* The watchdog's time limit is the abort. The test thread holds
     * `blocking` during the run, so the task blocked on it is in no cycle:
     * nothing ends this run early. */
    begin(1000);
    CU_ASSERT_FATAL(cd_amutex_init(&held, "held") == 0);
    CU_ASSERT_FATAL(cd_mutex_init(&blocking, "blocking") == 0);
    CU_ASSERT_FATAL(cd_mutex_lock(&blocking) == 0);
    CU_ASSERT_FATAL(cd_exec_create(&e, 2) == 0);
    ids[0] = cd_exec_spawn_on(e, 0, "finishes", nothing, NULL);
    ids[1] = cd_exec_spawn_on(e, 0, "holds-amutex", hold_and_wait, NULL);
    ids[2] = cd_exec_spawn_on(e, 0, "parks-on-it", wait_amutex, NULL);
    ids[3] = cd_exec_spawn_on(e, 1, "blocks-worker", hold_blocking, NULL);
    ids[4] = cd_exec_spawn_on(e, 1, "never-runs", nothing, NULL);
    int64_t t0 = cd_now_ns();
    ASSERT_INT_EQ(cd_exec_run(e), 4);
    CU_ASSERT(cd_now_ns() - t0 < 10 * 1000000000LL);
    ASSERT_INT_EQ(cd_reg_aborted(), CD_ABORT_TIMEOUT);

    cd_snapshot_t *s = snapshot();
    ASSERT_INT_EQ(s->threads[ids[0] - 1].state, CD_T_DONE);
    for (int i = 1; i < 5; i++)
        ASSERT_INT_EQ(s->threads[ids[i] - 1].state, CD_T_ABORTED);
    ASSERT_INT_EQ(s->threads[ids[3] - 1].nheld, 0);
    ASSERT_INT_EQ(s->objs[held.id - 1].owner, 0);
    free(s);
    /* The awaitable lock was given back and nobody waits for it. */
    ASSERT_INT_EQ(held.owner, 0);
    CU_ASSERT_PTR_NULL(cd_queue_front(&held.queue));
    cd_mutex_unlock(&blocking);
    cd_exec_destroy(e);
    cd_amutex_destroy(&held);
    cd_mutex_destroy(&blocking);
    end();
}

/* A task blocked by a lock that a task of its own worker holds across an
 * await: the watchdog sees the cycle through the worker and aborts. */
/* test: a lock held across an await on one worker is a deadlock */
static void test_worker_cycle_is_found_as_deadlock(void)
{
    cd_exec_t *e;
    cd_cycle_t c;
    char text[512];
    begin(SAFETY_MS);
    CU_ASSERT_FATAL(cd_mutex_init(&blocking, "blocking") == 0);
    CU_ASSERT_FATAL(cd_exec_create(&e, 1) == 0);
    int a = cd_exec_spawn(e, "a", hold_blocking, NULL);
    int b = cd_exec_spawn(e, "b", hold_blocking, NULL);
    ASSERT_INT_EQ(cd_exec_run(e), 2);
    ASSERT_INT_EQ(cd_reg_aborted(), CD_ABORT_DEADLOCK);
    CU_ASSERT_FATAL(cd_reg_deadlock(&c) == 1);
    ASSERT_INT_EQ(c.len, 2);
    ASSERT_INT_EQ(c.link[0].thread, a);
    ASSERT_INT_EQ(c.link[0].holds, blocking.id);
    ASSERT_INT_EQ(c.link[0].waits, cd_exec_worker_obj(e, 0));
    ASSERT_INT_EQ(c.link[1].thread, b);
    ASSERT_INT_EQ(c.link[1].holds, cd_exec_worker_obj(e, 0));
    ASSERT_INT_EQ(c.link[1].waits, blocking.id);
    cd_cycle_format(&c, text, sizeof text);
    ASSERT_STR_HAS(text, "task b blocks worker-1");
    ASSERT_STR_HAS(text, "task a holds blocking but can only go on when "
                         "worker-1 runs it again");
    /* The abort resumed a on its own worker, which unlocked the pthread
     * mutex it had locked there: it is free now. */
    ASSERT_INT_EQ(cd_mutex_trylock(&blocking), 0);
    cd_mutex_unlock(&blocking);
    cd_exec_destroy(e);
    cd_mutex_destroy(&blocking);
    end();
}
