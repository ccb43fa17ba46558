/*
 * test_cond.c - the condition variable: who a signal and a broadcast
 * wake, a signal nobody hears, timed waits, the registry's figures, the
 * run's abort, and under the controlled scheduler: deterministic runs and
 * replays, the waiter registered before it lets go of the mutex, and
 * spurious wake-ups (--spurious) that catch a waiter using `if`.
 *
 * Waiting tests never sleep and hope: a thread is known to be waiting
 * once the registry says so (polled with a generous deadline), and only
 * then is it signalled. Each test runs in a forked child with a time
 * limit (add_forked_test): a lost wake-up fails that test, it does not
 * hang the runner.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "../lib/cd_cond.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_sched.h"
#include "../lib/cd_sem.h"
#include "../lib/cd_thread.h"
#include "../lib/cd_trace.h"
#include "harness.h"

/* suite: cond; forked */

static cd_cond_t cv;
static cd_mutex_t m;

static void setup(void)
{
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_cond_init(&cv, "ready") == 0);
    CU_ASSERT_FATAL(cd_mutex_init(&m, "m") == 0);
}

static void teardown(void)
{
    cd_cond_destroy(&cv);
    cd_mutex_destroy(&m);
}

static const cd_obj_info_t *cond_info(void)
{
    return oinfo(take_snapshot(), cv.id);
}

/* Whether the thread holds the mutex m, as the registry says (read
 * directly: waiters call it, and the snapshot buffer is the test's). */
static int holds_m(int thread)
{
    return atomic_load(&cd_reg_object(m.id)->owner) == thread;
}

/* A waiter: takes m, waits once (no predicate: these tests wake it on
 * purpose), notes that it woke and whether it held m then. */
typedef struct waiter {
    int rc;
    int held_after; /* m was its own when the wait returned */
    atomic_int woke;
    int ms;         /* > 0: a timed wait */
} waiter_t;

static void wait_once(void *p)
{
    waiter_t *w = p;
    cd_mutex_lock(&m);
    w->rc = w->ms > 0 ? cd_cond_timedwait(&cv, &m, w->ms)
                      : cd_cond_wait(&cv, &m);
    w->held_after = holds_m(cd_self());
    atomic_store(&w->woke, 1);
    cd_mutex_unlock(&m);
}

/* Starts a waiter named name and returns once it waits on cv. */
static void start_waiter(cd_thread_t *t, const char *name, waiter_t *w)
{
    w->rc = 1;
    w->held_after = 0;
    atomic_store(&w->woke, 0);
    CU_ASSERT_FATAL(cd_thread_spawn(t, name, wait_once, w) == 0);
    CU_ASSERT_FATAL(await(is_blocked_on, t->id, cv.id));
}

/* ================================ free runs =============================== */

/* FIFO: the first to wait is the one a signal wakes; the other stays
 * waiting (still queued, still shown blocked) until the next signal. */
/* test: a signal wakes the oldest waiter only */
static void a_signal_wakes_the_oldest_waiter_only(void)
{
    cd_thread_t a, b;
    waiter_t wa = { .ms = 0 }, wb = { .ms = 0 };
    setup();
    start_waiter(&a, "first", &wa);
    start_waiter(&b, "second", &wb);
    ASSERT_INT_EQ(cond_info()->nwaiters, 2);
    /* What a waiter does is the wait (not the unlock inside it). */
    ASSERT_INT_EQ(tinfo(snap(), b.id)->last_op, CD_OP_COND_WAIT);
    ASSERT_INT_EQ(tinfo(snap(), b.id)->last_obj, cv.id);

    cd_cond_signal(&cv);
    ASSERT_INT_EQ(cd_thread_join(&a), 0);
    ASSERT_INT_EQ(wa.rc, 0);
    CU_ASSERT_TRUE(wa.held_after);
    ASSERT_INT_EQ(atomic_load(&wb.woke), 0);
    const cd_snapshot_t *s = take_snapshot();
    CU_ASSERT_TRUE(is_blocked_on(s, b.id, cv.id));
    ASSERT_INT_EQ(oinfo(s, cv.id)->nwaiters, 1);
    ASSERT_INT_EQ(oinfo(s, cv.id)->cond_pending, 0);

    cd_cond_signal(&cv);
    ASSERT_INT_EQ(cd_thread_join(&b), 0);
    ASSERT_INT_EQ(wb.rc, 0);
    ASSERT_INT_EQ(cond_info()->cond_signals, 2);
    ASSERT_INT_EQ(cond_info()->cond_unheard, 0);
    teardown();
}

/* test: a broadcast wakes every waiter */
static void a_broadcast_wakes_every_waiter(void)
{
    cd_thread_t t[3];
    waiter_t w[3] = { { .ms = 0 }, { .ms = 0 }, { .ms = 0 } };
    const char *names[3] = { "w-1", "w-2", "w-3" };
    setup();
    cd_reg_set_trace(1);
    for (int i = 0; i < 3; i++)
        start_waiter(&t[i], names[i], &w[i]);
    ASSERT_INT_EQ(cond_info()->nwaiters, 3);

    cd_cond_broadcast(&cv);
    for (int i = 0; i < 3; i++) {
        ASSERT_INT_EQ(cd_thread_join(&t[i]), 0);
        ASSERT_INT_EQ(w[i].rc, 0);
        CU_ASSERT_TRUE(w[i].held_after);
    }
    CU_ASSERT_TRUE(traced(CD_OP_BROADCAST, cv.id, 3));
    ASSERT_INT_EQ(cond_info()->cond_broadcasts, 1);
    ASSERT_INT_EQ(cond_info()->nwaiters, 0);
    /* Nobody waits now: the next broadcast is unheard. */
    cd_cond_broadcast(&cv);
    CU_ASSERT_TRUE(traced(CD_OP_BROADCAST, cv.id, 0));
    ASSERT_INT_EQ(cond_info()->cond_unheard, 1);
    teardown();
}

/* POSIX: a signal with nobody waiting is lost. The wait that comes after
 * it waits for the next one: here it times out, and holds m again. */
/* test: a signal before the wait is lost (POSIX) */
static void a_signal_before_the_wait_is_lost(void)
{
    setup();
    cd_reg_set_trace(1);
    cd_cond_signal(&cv);
    CU_ASSERT_TRUE(traced(CD_OP_SIGNAL, cv.id, 0));
    cd_mutex_lock(&m);
    ASSERT_INT_EQ(cd_cond_timedwait(&cv, &m, 50), -ETIMEDOUT);
    CU_ASSERT_TRUE(holds_m(cd_self()));
    CU_ASSERT_TRUE(traced(CD_OP_WOKE, cv.id, CD_WOKE_TIMED_OUT));
    cd_mutex_unlock(&m);
    const cd_obj_info_t *o = cond_info();
    ASSERT_INT_EQ(o->cond_signals, 1);
    ASSERT_INT_EQ(o->cond_unheard, 1);
    ASSERT_INT_EQ(o->nwaiters, 0);
    teardown();
}

/* A timed wait that is signalled in time returns 0 and holds m. */
/* test: a timed wait signalled in time returns 0 */
static void a_timed_wait_signalled_in_time_returns_0(void)
{
    cd_thread_t t;
    waiter_t w = { .ms = 60 * 1000 };
    setup();
    start_waiter(&t, "patient", &w);
    cd_cond_signal(&cv);
    ASSERT_INT_EQ(cd_thread_join(&t), 0);
    ASSERT_INT_EQ(w.rc, 0);
    CU_ASSERT_TRUE(w.held_after);
    ASSERT_INT_EQ(cond_info()->cond_unheard, 0);
    teardown();
}

/* The registry: waiters, signals and broadcasts, and the last unheard one:
 * who sent it, from which line, when. */
/* test: the registry keeps the last unheard signal */
static void the_registry_keeps_the_last_unheard_signal(void)
{
    cd_thread_t t;
    waiter_t w = { .ms = 0 };
    setup();
    cd_cond_signal(&cv);
    int line = __LINE__ + 1;
    cd_cond_broadcast(&cv);
    const cd_obj_info_t *o = cond_info();
    ASSERT_INT_EQ(o->kind, CD_OBJ_COND);
    ASSERT_INT_EQ(o->owner, 0);
    ASSERT_INT_EQ(o->cond_signals, 1);
    ASSERT_INT_EQ(o->cond_broadcasts, 1);
    ASSERT_INT_EQ(o->cond_unheard, 2);
    ASSERT_INT_EQ(o->cond_unheard_thread, cd_self());
    ASSERT_STR_HAS(o->cond_unheard_site.file, "test_cond.c");
    ASSERT_INT_EQ(o->cond_unheard_site.line, line);
    ASSERT_INT_EQ(o->cond_unheard_all, 1); /* the broadcast came last */
    CU_ASSERT_TRUE(o->cond_unheard_ns > 0);
    int64_t when = o->cond_unheard_ns;

    start_waiter(&t, "waiter", &w);
    ASSERT_INT_EQ(cond_info()->nwaiters, 1);
    cd_cond_signal(&cv); /* heard: the last unheard one stays */
    ASSERT_INT_EQ(cd_thread_join(&t), 0);
    o = cond_info();
    ASSERT_INT_EQ(o->cond_signals, 2);
    ASSERT_INT_EQ(o->cond_unheard, 2);
    ASSERT_INT_EQ(o->cond_unheard_site.line, line);
    ASSERT_INT_EQ(o->cond_unheard_ns, when);
    ASSERT_INT_EQ(o->nwaiters, 0);
    teardown();
}

/* A wait by a thread that does not hold the mutex is refused. */
/* test: waiting without the mutex is refused */
static void waiting_without_the_mutex_is_refused(void)
{
    setup();
    ASSERT_INT_EQ(cd_cond_wait(&cv, &m), -EPERM);
    ASSERT_INT_EQ(cd_cond_timedwait(&cv, &m, 10), -EPERM);
    ASSERT_INT_EQ(cond_info()->nwaiters, 0);
    teardown();
}

/* The run's abort ends a waiter that cd_thread started, holding nothing;
 * the program's own thread gets -ECANCELED, without the mutex. */
/* test: an aborted waiter ends holding nothing */
static void an_aborted_waiter_ends_holding_nothing(void)
{
    cd_thread_t t;
    waiter_t w = { .ms = 0 };
    setup();
    start_waiter(&t, "forgotten", &w);
    cd_reg_abort(CD_ABORT_DEADLOCK);
    ASSERT_INT_EQ(cd_thread_join(&t), -ECANCELED);
    ASSERT_INT_EQ(w.rc, 1); /* it never came back from the wait */
    const cd_snapshot_t *s = take_snapshot();
    ASSERT_INT_EQ(tinfo(s, t.id)->state, CD_T_ABORTED);
    ASSERT_INT_EQ(tinfo(s, t.id)->nheld, 0);
    ASSERT_INT_EQ(oinfo(s, m.id)->owner, 0);
    ASSERT_INT_EQ(oinfo(s, cv.id)->nwaiters, 0);

    cd_mutex_lock(&m);
    ASSERT_INT_EQ(cd_cond_wait(&cv, &m), -ECANCELED);
    CU_ASSERT_FALSE(holds_m(cd_self()));
    ASSERT_INT_EQ(cd_mutex_trylock(&m), 0); /* nobody holds it */
    cd_mutex_unlock(&m);
    teardown();
}

/* ThreadSanitizer: a signal happens-before the return of the waiter it
 * woke. The value is written without the mutex; under the TSan build a
 * report would fail this test (the child exits 66). */
static int handed_over;

static void read_after_wake(void *p)
{
    waiter_t *w = p;
    cd_mutex_lock(&m);
    w->rc = cd_cond_wait(&cv, &m);
    cd_mutex_unlock(&m);
    w->held_after = handed_over; /* ordered after the write by the wake */
}

/* test: a signal orders the waiter it wakes (TSan) */
static void a_signal_orders_the_waiter_it_wakes(void)
{
    cd_thread_t t;
    waiter_t w = { .rc = 1 };
    setup();
    CU_ASSERT_FATAL(cd_thread_spawn(&t, "reader", read_after_wake, &w) == 0);
    CU_ASSERT_FATAL(await(is_blocked_on, t.id, cv.id));
    handed_over = 42;
    cd_cond_signal(&cv);
    ASSERT_INT_EQ(cd_thread_join(&t), 0);
    ASSERT_INT_EQ(w.rc, 0);
    ASSERT_INT_EQ(w.held_after, 42);
    teardown();
}

/* The trace: each operation's name, and what its arg says. */
/* test: the trace names each step of a wait */
static void the_trace_names_each_step_of_a_wait(void)
{
    cd_thread_t t;
    waiter_t w = { .ms = 0 };
    setup();
    cd_reg_set_trace(1);
    start_waiter(&t, "waiter", &w);
    cd_cond_signal(&cv);
    ASSERT_INT_EQ(cd_thread_join(&t), 0);

    /* The waiter's own events, in order. */
    static const struct { int op, obj; } want[] = {
        { CD_OP_COND_WAIT, 1 }, { CD_OP_UNLOCK, 2 }, { CD_OP_BLOCK, 1 },
        { CD_OP_WOKE, 1 },      { CD_OP_LOCK, 2 },   { CD_OP_ACQUIRED, 2 },
    };
    size_t k = 0;
    const cd_trace_event_t *ev;
    int n = trace_events(&ev);
    for (int i = 0; i < n && k < 6; i++) {
        if (ev[i].thread != t.id)
            continue;
        int obj = want[k].obj == 1 ? cv.id : m.id;
        if (ev[i].op == want[k].op && ev[i].obj == obj)
            k++;
    }
    ASSERT_INT_EQ(k, 6);
    CU_ASSERT_TRUE(traced(CD_OP_SIGNAL, cv.id, 1));
    CU_ASSERT_TRUE(traced(CD_OP_WOKE, cv.id, CD_WOKE_SIGNALLED));

    static const int ops[] = { CD_OP_COND_WAIT, CD_OP_COND_TIMEDWAIT,
                               CD_OP_SIGNAL, CD_OP_BROADCAST, CD_OP_WOKE };
    static const char *const names[] = { "cond-wait", "cond-timed", "signal",
                                         "broadcast", "woke" };
    expect_op_names(ops, names, 5);

    /* Formatted lines say what the arg means. */
    expect_trace_line(CD_OP_SIGNAL, cv.id, 0,
                      "signal     ready            unheard");
    expect_trace_line(CD_OP_SIGNAL, cv.id, 1, "woke 1");
    expect_trace_line(CD_OP_WOKE, cv.id, CD_WOKE_SPURIOUS,
                      "woke       ready            spurious");
    expect_trace_line(CD_OP_COND_TIMEDWAIT, cv.id, 250,
                      "cond-timed ready            <= 250 ms");
    teardown();
}

/* ========================== under the scheduler ========================== */

/* setup(), in a run controlled by cfg. */
static void setup_controlled(const cd_sched_cfg_t *cfg)
{
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_sched_begin(cfg) == 0);
    CU_ASSERT_FATAL(cd_cond_init(&cv, "ready") == 0);
    CU_ASSERT_FATAL(cd_mutex_init(&m, "m") == 0);
}

/* setup() in a controlled run: random:seed, spurious wake-ups or not. */
static void begin_controlled(uint64_t seed, int spurious)
{
    cd_sched_cfg_t cfg = { .strategy = CD_SCHED_RANDOM, .seed = seed,
                           .spurious = spurious };
    setup_controlled(&cfg);
}

/* The schedule the run made, as a string. */
static void schedule_of_run(char *buf, size_t size)
{
    const cd_sched_decision_t *d;
    int n = cd_sched_decisions(&d);
    cd_sched_format_schedule(d, n, buf, size);
}

/* A bounded buffer of ITEMS on a condition variable and a mutex (while
 * loops, as they should be), and a semaphore that counts what was taken:
 * two producers, two consumers. */
#define SLOTS 2
#define ITEMS 6

typedef struct pc {
    cd_mutex_t lock;
    cd_cond_t changed; /* broadcast at every put and take */
    cd_sem_t taken;    /* one post per item taken */
    int buf[SLOTS], depth, sum;
} pc_t;

static pc_t pc;

static void producer(void *p)
{
    int base = (int)(intptr_t)p;
    for (int i = 1; i <= ITEMS / 2; i++) {
        cd_mutex_lock(&pc.lock);
        while (pc.depth == SLOTS)
            cd_cond_wait(&pc.changed, &pc.lock);
        pc.buf[pc.depth++] = base + i;
        cd_cond_broadcast(&pc.changed);
        cd_mutex_unlock(&pc.lock);
    }
}

static void consumer(void *p)
{
    (void)p;
    for (int i = 0; i < ITEMS / 2; i++) {
        cd_mutex_lock(&pc.lock);
        while (pc.depth == 0)
            cd_cond_wait(&pc.changed, &pc.lock);
        pc.sum += pc.buf[--pc.depth];
        cd_cond_broadcast(&pc.changed);
        cd_mutex_unlock(&pc.lock);
        CU_ASSERT_EQUAL(cd_sem_post(&pc.taken), 0);
    }
}

/* One run of the buffer, controlled by cfg; returns what was consumed in
 * all (-1: the run was aborted) and its schedule in buf. */
static int run_buffer(const cd_sched_cfg_t *cfg, char *buf, size_t size)
{
    cd_thread_t t[4];
    cd_reg_reset();
    CU_ASSERT_FATAL(cd_sched_begin(cfg) == 0);
    CU_ASSERT_FATAL(cd_mutex_init(&pc.lock, "buffer") == 0);
    CU_ASSERT_FATAL(cd_cond_init(&pc.changed, "changed") == 0);
    CU_ASSERT_FATAL(cd_sem_init(&pc.taken, "taken", 0) == 0);
    pc.depth = pc.sum = 0;
    CU_ASSERT_FATAL(cd_thread_spawn(&t[0], "prod-1", producer,
                                    (void *)(intptr_t)0) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&t[1], "prod-2", producer,
                                    (void *)(intptr_t)100) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&t[2], "cons-1", consumer, NULL) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&t[3], "cons-2", consumer, NULL) == 0);
    /* main counts the items as they are taken, on the semaphore */
    for (int i = 0; i < ITEMS; i++)
        if (cd_sem_wait(&pc.taken) != 0)
            break;
    for (int i = 0; i < 4; i++)
        cd_thread_join(&t[i]);
    int aborted = cd_reg_aborted();
    schedule_of_run(buf, size);
    cd_sched_end();
    int sum = pc.sum;
    ASSERT_INT_EQ(cd_sem_value(&pc.taken), 0);
    cd_sem_destroy(&pc.taken);
    cd_cond_destroy(&pc.changed);
    cd_mutex_destroy(&pc.lock);
    return aborted ? -1 : sum;
}

/* Every seed ends with every item consumed; a seed plays the same run
 * twice, and its schedule replayed plays it again. */
/* test: controlled: producers and consumers end, replay */
static void controlled_producers_and_consumers_end_and_replay(void)
{
    cd_sched_cfg_t random = { .strategy = CD_SCHED_RANDOM };
    expect_seeds_repeat_and_replay(random, run_buffer,
                                   1 + 2 + 3 + 101 + 102 + 103);
}

/* A signaller that takes the mutex after the waiter took it always
 * reaches it, whatever the schedule - here the waiter waits once, without
 * a predicate, and would never wake if the signal were lost. (The
 * semaphore says "the waiter holds the mutex" to the signaller.) A
 * bystander signals without the mutex at any moment: it may wake the
 * waiter first, and it would hang the run if the waiter held the
 * condition variable's own lock across a scheduling point. */
static cd_sem_t holding;
static int in_wait; /* the waiter is inside cd_cond_wait */
static int probe_waiter; /* its thread id, for probe() below */

static void bystander(void *p)
{
    (void)p;
    for (int i = 0; i < 3; i++) {
        cd_point("look around");
        cd_cond_signal(&cv);
    }
}

static void wait_without_predicate(void *p)
{
    (void)p;
    cd_mutex_lock(&m);
    CU_ASSERT_EQUAL(cd_sem_post(&holding), 0);
    in_wait = 1;
    CU_ASSERT_EQUAL(cd_cond_wait(&cv, &m), 0);
    in_wait = 0;
    cd_mutex_unlock(&m);
}

static void signal_under_the_mutex(void *p)
{
    (void)p;
    CU_ASSERT_EQUAL(cd_sem_wait(&holding), 0);
    cd_mutex_lock(&m);
    cd_cond_signal(&cv);
    cd_mutex_unlock(&m);
}

/* One run controlled by cfg of the waiter, the signaller and the
 * bystander (its id in probe_waiter once started); returns how the run
 * was aborted (CD_ABORT_NONE: it was not). */
static int run_signal_after_the_mutex(const cd_sched_cfg_t *cfg)
{
    cd_thread_t w, s, b;
    setup_controlled(cfg);
    CU_ASSERT_FATAL(cd_sem_init(&holding, "holding", 0) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&w, "waiter", wait_without_predicate,
                                    NULL) == 0);
    probe_waiter = w.id;
    CU_ASSERT_FATAL(cd_thread_spawn(&s, "signaller", signal_under_the_mutex,
                                    NULL) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&b, "bystander", bystander, NULL) == 0);
    ASSERT_INT_EQ(cd_thread_join(&w), 0);
    ASSERT_INT_EQ(cd_thread_join(&s), 0);
    ASSERT_INT_EQ(cd_thread_join(&b), 0);
    int aborted = cd_reg_aborted();
    cd_sched_end();
    cd_sem_destroy(&holding);
    teardown();
    return aborted;
}

/* test: controlled: a signal after the mutex is never lost */
static void controlled_a_signal_after_the_mutex_is_never_lost(void)
{
    static const int strategies[] = { CD_SCHED_RANDOM, CD_SCHED_PCT };
    for (int k = 0; k < 2; k++) {
        for (uint64_t seed = 1; seed <= 150; seed++) {
            cd_sched_cfg_t cfg = { .strategy = strategies[k], .seed = seed,
                                   .depth = 3, .pct_steps = 30,
                                   .anyorder = 1 };
            int aborted = run_signal_after_the_mutex(&cfg);
            ASSERT_INT_EQ(aborted, CD_ABORT_NONE);
            if (aborted)
                return;
        }
    }
}

/* Step mode's chooser as a probe of every decision: when the waiter is
 * about to let go of m, is it queued on cv already? And while it is
 * parked, does the scheduler say its next step is the wait (what step
 * mode shows), not the unlock it passed? */
static int probe_unlocks, probe_queued, probe_parked, probe_shown_waiting;

static int probe(const int *runnable, int n, int prev, void *arg)
{
    int op, obj, parked = 1;
    const char *label;
    cd_site_t site;
    (void)arg;
    cd_sched_pending(probe_waiter, &op, &obj, &label, &site);
    if (prev == probe_waiter && in_wait && op == CD_OP_UNLOCK &&
        obj == m.id) {
        probe_unlocks++;
        probe_queued += cd_queue_front(&cv.waiters) != NULL;
    }
    for (int i = 0; i < n; i++)
        parked &= runnable[i] != probe_waiter;
    if (parked && cd_queue_front(&cv.waiters)) {
        probe_parked++;
        probe_shown_waiting += op == CD_OP_COND_WAIT && obj == cv.id;
    }
    return 0; /* the default policy decides */
}

/* test: controlled: the waiter is queued before it lets go */
static void controlled_the_waiter_is_queued_before_it_lets_go(void)
{
    cd_sched_cfg_t cfg = { .strategy = CD_SCHED_STEP, .chooser = probe };
    ASSERT_INT_EQ(run_signal_after_the_mutex(&cfg), CD_ABORT_NONE);
    CU_ASSERT_TRUE(probe_unlocks > 0);
    ASSERT_INT_EQ(probe_queued, probe_unlocks);
    CU_ASSERT_TRUE(probe_parked > 0);
    ASSERT_INT_EQ(probe_shown_waiting, probe_parked);
}

/* Under the scheduler a woken waiter that has not run yet is "pending":
 * still shown waiting, but about to go on. */
/* test: controlled: a woken waiter is pending until it runs */
static void controlled_a_woken_waiter_is_pending_until_it_runs(void)
{
    cd_thread_t t;
    waiter_t w = { .ms = 0 };
    begin_controlled(1, 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&t, "waiter", wait_once, &w) == 0);
    /* main holds m from here to the signal: the waiter can only reach
     * its wait in between, when main lets go of m. */
    while (cond_info()->nwaiters == 0)
        cd_point("wait for the waiter");
    cd_mutex_lock(&m);
    cd_cond_signal(&cv);
    /* Only one thread runs: the waiter cannot have taken its wake-up. */
    const cd_obj_info_t *o = cond_info();
    ASSERT_INT_EQ(o->cond_pending, 1);
    ASSERT_INT_EQ(o->nwaiters, 1);
    CU_ASSERT_TRUE(is_blocked_on(snap(), t.id, cv.id));
    cd_mutex_unlock(&m);
    ASSERT_INT_EQ(cd_thread_join(&t), 0);
    ASSERT_INT_EQ(w.rc, 0);
    ASSERT_INT_EQ(cond_info()->cond_pending, 0);
    ASSERT_INT_EQ(cd_reg_aborted(), CD_ABORT_NONE);
    cd_sched_end();
    teardown();
}

/* A consumer that tests its condition with `if` instead of `while`. */
static int item_ready, saw_nothing;

static void if_consumer(void *p)
{
    (void)p;
    cd_mutex_lock(&m);
    if (!item_ready)                  /* BUG: `while` would wait again */
        cd_cond_wait(&cv, &m);
    if (!item_ready)
        saw_nothing = 1;
    cd_mutex_unlock(&m);
}

/* What every producer ends with: the item put under m, and a signal. */
static void put_the_item(void)
{
    cd_mutex_lock(&m);
    item_ready = 1;
    cd_cond_signal(&cv);
    cd_mutex_unlock(&m);
}

static void careful_producer(void *p)
{
    (void)p;
    cd_point("make the item");
    cd_point("pack the item");
    put_the_item();
}

/* One controlled run of the `if` consumer; returns whether it went on
 * without an item, and how many spurious wake-ups the trace shows. */
static int run_if_consumer(const cd_sched_cfg_t *cfg, int *spurious_woke,
                           char *sched, size_t size)
{
    cd_thread_t c, p;
    setup_controlled(cfg);
    cd_reg_set_trace(1);
    item_ready = saw_nothing = 0;
    CU_ASSERT_FATAL(cd_thread_spawn(&c, "consumer", if_consumer, NULL) == 0);
    CU_ASSERT_FATAL(cd_thread_spawn(&p, "producer", careful_producer,
                                    NULL) == 0);
    cd_thread_join(&c);
    cd_thread_join(&p);
    ASSERT_INT_EQ(cd_reg_aborted(), CD_ABORT_NONE);
    if (sched)
        schedule_of_run(sched, size);
    cd_sched_end();
    cd_reg_set_trace(0);
    *spurious_woke = traced(CD_OP_WOKE, cv.id, CD_WOKE_SPURIOUS);
    teardown();
    return saw_nothing;
}

/* Seeds of strategy (a single random run, or pct as explore runs it)
 * until one catches the `if`: 1 and its schedule in sched, or 0. Each
 * seed without spurious wake-ups catches nothing. */
static int catch_if(int strategy, char *sched, size_t size)
{
    int woke = 0;
    for (uint64_t seed = 1; seed <= 100; seed++) {
        cd_sched_cfg_t cfg = { .strategy = strategy, .seed = seed,
                               .depth = 3, .pct_steps = 20,
                               .anyorder = strategy == CD_SCHED_PCT };
        ASSERT_INT_EQ(run_if_consumer(&cfg, &woke, NULL, 0), 0);
        ASSERT_INT_EQ(woke, 0);
        cfg.spurious = 1;
        int caught = run_if_consumer(&cfg, &woke, sched, size);
        /* (A waiter woken for nothing may still find the item, when the
         * producer put it there before the waiter took the mutex back.) */
        CU_ASSERT_TRUE(!caught || woke);
        if (caught)
            return 1;
    }
    return 0;
}

/* --spurious: some seed wakes the waiter without a signal, which catches
 * the `if` (random at its 1-in-4 draws, pct at its change points);
 * without it no seed does; and the schedule replays the spurious
 * wake-up. */
/* test: controlled: --spurious wake-ups catch an if */
static void controlled_spurious_wakeups_catch_an_if(void)
{
    static char sched[4096];
    static uint16_t prefix[4096];
    int woke = 0;
    ASSERT_INT_EQ(catch_if(CD_SCHED_PCT, sched, sizeof sched), 1);
    ASSERT_INT_EQ(catch_if(CD_SCHED_RANDOM, sched, sizeof sched), 1);

    char err[128];
    int n = cd_sched_parse_schedule(sched, prefix, 4096, err, sizeof err);
    CU_ASSERT_FATAL(n > 0);
    cd_sched_cfg_t rp = { .strategy = CD_SCHED_REPLAY, .prefix = prefix,
                          .nprefix = n, .spurious = 1 };
    ASSERT_INT_EQ(run_if_consumer(&rp, &woke, NULL, 0), 1);
    ASSERT_INT_EQ(woke, 1);
    CU_ASSERT_PTR_NULL(cd_sched_misfit());
}

/* With --spurious, a waiter that nobody will ever signal is still stuck:
 * waking it for nothing would only send it back to wait. */
/* test: controlled: --spurious does not hide a stuck run */
static void controlled_spurious_wakeups_do_not_hide_a_stuck_run(void)
{
    cd_thread_t t;
    waiter_t w = { .ms = 0 };
    begin_controlled(3, 1);
    CU_ASSERT_FATAL(cd_thread_spawn(&t, "waiter", wait_once, &w) == 0);
    ASSERT_INT_EQ(cd_thread_join(&t), -ECANCELED);
    ASSERT_INT_EQ(cd_reg_aborted(), CD_ABORT_STUCK);
    cd_sched_end();
    teardown();
}

/* A consumer that loops, as it should, and a producer that first sleeps
 * (takes the order) and then puts the item. */
static void while_consumer(void *p)
{
    (void)p;
    cd_mutex_lock(&m);
    while (!item_ready)
        cd_cond_wait(&cv, &m);
    cd_mutex_unlock(&m);
}

static void slow_producer(void *p)
{
    (void)p;
    cd_latency("take the order", 200);
    put_the_item();
}

/* --spurious under pct: when nothing but the producer's sleep and the
 * waiter's wake-up for nothing can go on, the waiter may be woken - and
 * then it waits again, and the same choice comes back. A waiter of
 * higher priority than the sleeper was chosen every time, a livelock of
 * the scheduler's own making (the exercise spurious met it with a
 * correct `while`). Every seed's run ends, with the item taken. */
/* test: controlled: a waiter that loops lets a sleeper end */
static void controlled_a_waiter_that_loops_lets_a_sleeper_end(void)
{
    for (int anyorder = 0; anyorder <= 1; anyorder++)
        for (uint64_t seed = 1; seed <= 40; seed++) {
            cd_thread_t c, p;
            cd_sched_cfg_t cfg = { .strategy = CD_SCHED_PCT, .seed = seed,
                                   .depth = 3, .pct_steps = 20,
                                   .anyorder = anyorder, .spurious = 1,
                                   .max_steps = 5000 };
            setup_controlled(&cfg);
            item_ready = 0;
            CU_ASSERT_FATAL(cd_thread_spawn(&c, "consumer", while_consumer,
                                            NULL) == 0);
            CU_ASSERT_FATAL(cd_thread_spawn(&p, "producer", slow_producer,
                                            NULL) == 0);
            cd_thread_join(&c);
            cd_thread_join(&p);
            int aborted = cd_reg_aborted();
            cd_sched_end();
            teardown();
            if (aborted != CD_ABORT_NONE)
                fprintf(stderr, "\n  pct seed %d%s: aborted (%d)",
                        (int)seed, anyorder ? " (explore)" : "", aborted);
            ASSERT_INT_EQ(aborted, CD_ABORT_NONE);
            ASSERT_INT_EQ(item_ready, 1);
        }
}
