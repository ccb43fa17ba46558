/*
 * test_stuck.c - runs that stop for good without a deadlock cycle: every
 * thread waits (on a channel nobody sends on, a join, a lock whose owner
 * waits on such a channel) and none can be woken. The stuck check on
 * hand-built snapshots, then real runs of a small scenario made for these
 * tests, free and controlled: the run must end at once as STUCK and say
 * what each thread waits for; a slow run, a loaded machine and a waiter
 * that was let go but has not run yet must not be called stuck.
 *
 * Each "no false STUCK" test is paired with the broken twin of the same
 * run (one send left out, one unlock left out), which must be STUCK: the
 * pair shows that the check looks, and that it looks at the right thing.
 * Every real run happens in a forked child with a time limit.
 */
#define _GNU_SOURCE /* gettid */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../cli/observer.h"
#include "../cli/report.h"
#include "../lib/cd_chan.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_oneshot.h"
#include "../lib/cd_thread.h"
#include "../lib/cd_trace.h"
#include "../lib/cd_waitfor.h"
#include "harness.h"

/* suite: stuck */

/* The run's own limit: well above the time a stuck run takes to be found,
 * and under the forked test's limit, so that a run that is never found
 * stuck ends as TIMEOUT and fails its test by its verdict. */
#define RUN_TIMEOUT_MS 10000

/* ======================= hand-built snapshots ============================ */

static cd_snapshot_t *new_snap(void)
{
    cd_snapshot_t *s = calloc(1, sizeof *s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    return s;
}

/* A thread named name, running; returns its id. */
static int add_thread(cd_snapshot_t *s, const char *name)
{
    cd_thread_info_t *t = &s->threads[s->nthreads++];
    t->id = s->nthreads;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->state = CD_T_RUNNING;
    return t->id;
}

static int add_obj(cd_snapshot_t *s, const char *name, int kind)
{
    cd_obj_info_t *o = &s->objs[s->nobjs++];
    o->id = s->nobjs;
    snprintf(o->name, sizeof o->name, "%s", name);
    o->kind = kind;
    o->live = 1;
    return o->id;
}

/* thread is blocked in op on obj, without a deadline. */
static void waits(cd_snapshot_t *s, int thread, int op, int obj)
{
    cd_thread_info_t *t = &s->threads[thread - 1];
    t->state = CD_T_BLOCKED;
    t->waiting_on = obj;
    t->wait_timed = 0;
    t->wait_seq++;
    t->last_op = op;
    t->last_obj = obj;
}

static void joins(cd_snapshot_t *s, int thread, int other)
{
    cd_thread_info_t *t = &s->threads[thread - 1];
    t->state = CD_T_BLOCKED;
    t->joining = other;
    t->wait_seq++;
    t->last_op = CD_OP_JOIN;
    t->last_obj = other;
}

/* Two receivers on a channel nobody sends on, main joining the first. */
static cd_snapshot_t *silent_channel(void)
{
    cd_snapshot_t *s = new_snap();
    int main_id = add_thread(s, "main");
    int rx1 = add_thread(s, "rx-1"), rx2 = add_thread(s, "rx-2");
    int jobs = add_obj(s, "jobs", CD_OBJ_CHAN);
    s->objs[jobs - 1].chan_capacity = 4;
    waits(s, rx1, CD_OP_RECV, jobs);
    waits(s, rx2, CD_OP_RECV, jobs);
    joins(s, main_id, rx1);
    return s;
}

/* test: a silent channel is stuck, and says who waits for what */
static void silent_channel_is_stuck_and_says_who_waits_for_what(void)
{
    cd_snapshot_t *s = silent_channel();
    cd_stuck_t st;
    char buf[256];

    ASSERT_INT_EQ(cd_waitfor_stuck(s), 1);
    cd_waitfor_describe(s, &st);
    ASSERT_INT_EQ(st.nlive, 3);
    ASSERT_INT_EQ(st.len, 3);
    /* Waits on objects first, then joins. */
    ASSERT_INT_EQ(st.wait[0].thread, 2);
    ASSERT_INT_EQ(st.wait[0].obj, 1);
    ASSERT_INT_EQ(st.wait[0].kind, CD_OBJ_CHAN);
    ASSERT_INT_EQ(st.wait[2].thread, 1);
    ASSERT_INT_EQ(st.wait[2].joins, 2);
    cd_stuck_format(&st, s, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "rx-1 waits on channel jobs; rx-2 waits on "
                                "channel jobs; main joins rx-1");
    /* The sentence a condition variable's check may add comes last. */
    snprintf(st.lost_wakeup, sizeof st.lost_wakeup, "the signal came first");
    cd_stuck_format(&st, s, buf, sizeof buf);
    ASSERT_STR_HAS(buf, "main joins rx-1; the signal came first");
    free(s);
}

/* A runner that waits on a condition variable, main joining it; the
 * worker that signalled it is done. */
static cd_snapshot_t *lost_signal(void)
{
    cd_snapshot_t *s = new_snap();
    int main_id = add_thread(s, "main"), runner = add_thread(s, "runner");
    int worker = add_thread(s, "worker-1");
    int done = add_obj(s, "job-done", CD_OBJ_COND);
    s->threads[worker - 1].state = CD_T_DONE;
    waits(s, runner, CD_OP_COND_WAIT, done);
    s->threads[runner - 1].since_ns = 20000000;
    joins(s, main_id, runner);
    return s;
}

/* test: a condvar waiter is stuck unless a wake-up is pending */
static void a_condvar_waiter_is_stuck_unless_a_wakeup_is_pending(void)
{
    cd_snapshot_t *s = lost_signal();
    char buf[256];
    cd_stuck_t st;
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 1);
    cd_waitfor_describe(s, &st);
    cd_stuck_format(&st, s, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "runner waits on condition variable "
                                "job-done; main joins runner");
    s->objs[0].cond_pending = 1; /* woken, not returned yet */
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 0);
    /* A semaphore: its count lets a waiter go. */
    s->objs[0].cond_pending = 0;
    int sem = add_obj(s, "slots", CD_OBJ_SEM);
    waits(s, 2, CD_OP_SEM_WAIT, sem);
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 1);
    s->objs[sem - 1].sem_count = 1;
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 0);
    /* A oneshot: sent or dropped, its receiver goes on (with the value
     * or -EPIPE); empty, it waits for a sender that may never come. */
    int reply = add_obj(s, "reply", CD_OBJ_ONESHOT);
    waits(s, 2, CD_OP_RECV, reply);
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 1);
    s->objs[reply - 1].oneshot_state = CD_ONESHOT_DROPPED;
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 0);
    /* A broadcast subscriber: something unread, or the channel closed. */
    int sub = add_obj(s, "sub", CD_OBJ_BSUB);
    waits(s, 2, CD_OP_RECV, sub);
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 1);
    s->objs[sub - 1].chan_depth = 1;
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 0);
    s->objs[sub - 1].chan_depth = 0;
    s->objs[sub - 1].chan_closed = 1;
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 0);
    free(s);
}

/* test: a signal lost before the wait is named */
static void a_signal_lost_before_the_wait_is_named(void)
{
    cd_snapshot_t *s = lost_signal();
    cd_obj_info_t *o = &s->objs[0];
    cd_stuck_t st;
    char buf[512];

    cd_waitfor_describe(s, &st);
    CU_ASSERT_STRING_EQUAL(st.lost_wakeup, ""); /* nothing was unheard */
    o->cond_signals = o->cond_unheard = 1;
    o->cond_unheard_thread = 3;
    o->cond_unheard_site = (cd_site_t){ "demos/x.c", 53 };
    o->cond_unheard_ns = 2000000;
    cd_waitfor_describe(s, &st);
    CU_ASSERT_STRING_EQUAL(st.lost_wakeup, "worker-1 signalled job-done at "
                           "demos/x.c:53 before anyone waited (a lost "
                           "wake-up), 18.0 ms before runner's wait");
    cd_stuck_format(&st, s, buf, sizeof buf);
    ASSERT_STR_HAS(buf, "main joins runner; worker-1 signalled job-done");
    /* A broadcast that found nobody is called one. */
    o->cond_unheard_all = 1;
    cd_waitfor_describe(s, &st);
    ASSERT_STR_HAS(st.lost_wakeup, "worker-1 broadcast job-done at demos/x.c:53");
    o->cond_unheard_all = 0;
    /* A signal lost after the wait began does not explain it. */
    o->cond_unheard_ns = 30000000;
    cd_waitfor_describe(s, &st);
    CU_ASSERT_STRING_EQUAL(st.lost_wakeup, "");
    free(s);
}

/* What could still move the run makes it not stuck. */
/* test: anything that could move makes it not stuck */
static void anything_that_could_move_makes_it_not_stuck(void)
{
    cd_snapshot_t *s = silent_channel();
    cd_obj_info_t *jobs = &s->objs[0];
    cd_thread_info_t *rx1 = &s->threads[1], *main_t = &s->threads[0];

    ASSERT_INT_EQ(cd_waitfor_stuck(s), 1);
    jobs->chan_depth = 1; /* a message for a receiver not yet run */
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 0);
    jobs->chan_depth = 0;
    jobs->chan_closed = 1; /* closed: every waiter goes */
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 0);
    jobs->chan_closed = 0;
    rx1->wait_timed = 1; /* a deadline ends the wait by itself */
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 0);
    rx1->wait_timed = 0;
    for (int st = CD_T_NEW; st < CD_T_COUNT_; st++) {
        if (st == CD_T_BLOCKED || st == CD_T_DONE || st == CD_T_ABORTED)
            continue;
        rx1->state = st; /* running, sleeping, ready, paused, ... */
        if (st == CD_T_PARKED)
            rx1->waiting_on = 0; /* a task on a timer: it always fires */
        ASSERT_INT_EQ(cd_waitfor_stuck(s), 0);
        rx1->waiting_on = 1;
    }
    /* The joined thread ended: the joiner goes on; the other receiver is
     * still stuck, but main is not. */
    rx1->state = CD_T_DONE;
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 0);
    main_t->state = CD_T_DONE;
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 1); /* rx-2 alone, for ever */
    s->threads[2].state = CD_T_ABORTED;
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 0); /* nobody live: nothing stuck */
    free(s);
}

/* Each kind says when its waiter could go; a kind the check does not know
 * always could, so that it never makes a false STUCK. */
/* test: each kind says when its waiter could go */
static void each_kind_says_when_its_waiter_could_go(void)
{
    cd_snapshot_t *s = new_snap();
    int holder = add_thread(s, "holder"), w = add_thread(s, "waiter");
    int jobs = add_obj(s, "jobs", CD_OBJ_CHAN);
    int m = add_obj(s, "m", CD_OBJ_MUTEX);
    int rw = add_obj(s, "rw", CD_OBJ_RWLOCK);
    int am = add_obj(s, "am", CD_OBJ_AMUTEX);
    int odd = add_obj(s, "odd", 99);
    waits(s, holder, CD_OP_RECV, jobs);

    /* A mutex: free (its owner just let go) or held by the stuck one. */
    waits(s, w, CD_OP_LOCK, m);
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 0);
    s->objs[m - 1].owner = holder;
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 1);
    /* The same for an awaitable mutex's parked task. */
    waits(s, w, CD_OP_LOCK, am);
    s->threads[w - 1].state = CD_T_PARKED;
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 0);
    s->objs[am - 1].owner = holder;
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 1);
    /* An rwlock: a writer needs it empty, a reader no writer inside. */
    s->objs[rw - 1].readers = 1;
    waits(s, w, CD_OP_WRLOCK, rw);
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 1);
    waits(s, w, CD_OP_RDLOCK, rw);
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 0);
    s->objs[rw - 1].owner = holder;
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 1);
    /* A sender: room in the channel lets it go, a full one does not. */
    s->objs[jobs - 1].chan_capacity = 1;
    s->objs[jobs - 1].chan_depth = 1;
    waits(s, holder, CD_OP_SEND, jobs);
    waits(s, w, CD_OP_SEND, jobs);
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 1);
    s->objs[jobs - 1].chan_depth = 0;
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 0);
    s->objs[jobs - 1].chan_depth = 1;
    /* A wait on a channel whose side is not known could be either. */
    s->threads[w - 1].last_op = CD_OP_NONE;
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 0);
    /* An unknown kind (a primitive newer than the check). */
    waits(s, w, CD_OP_LOCK, odd);
    s->objs[odd - 1].owner = holder;
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 0);
    free(s);
}

/* test: the description names owners and counts the rest */
static void description_names_owners_and_counts_the_rest(void)
{
    cd_snapshot_t *s = new_snap();
    cd_stuck_t st;
    char buf[1024];
    int holder = add_thread(s, "holder"), w = add_thread(s, "waiter");
    int jobs = add_obj(s, "jobs", CD_OBJ_CHAN);
    int m = add_obj(s, "store-lock", CD_OBJ_MUTEX);
    waits(s, holder, CD_OP_RECV, jobs);
    waits(s, w, CD_OP_LOCK, m);
    s->objs[m - 1].owner = holder;
    cd_waitfor_describe(s, &st);
    cd_stuck_format(&st, s, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "holder waits on channel jobs; waiter waits "
                                "on mutex store-lock held by holder");
    /* More threads than the finding keeps: the rest are counted. */
    for (int i = 0; i < CD_MAX_STUCK + 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "rx-%d", i + 1);
        waits(s, add_thread(s, name), CD_OP_RECV, jobs);
    }
    ASSERT_INT_EQ(cd_waitfor_stuck(s), 1);
    cd_waitfor_describe(s, &st);
    ASSERT_INT_EQ(st.len, CD_MAX_STUCK);
    ASSERT_INT_EQ(st.nlive, CD_MAX_STUCK + 5);
    cd_stuck_format(&st, s, buf, sizeof buf);
    ASSERT_STR_HAS(buf, "; and 5 more");
    free(s);
}

/* test: STUCK and LIVELOCK are verdicts that exit 1 */
static void stuck_and_livelock_are_verdicts_that_exit_1(void)
{
    CU_ASSERT_STRING_EQUAL(cd_status_name(CD_STUCK), "STUCK");
    CU_ASSERT_STRING_EQUAL(cd_status_name(CD_LIVELOCK), "LIVELOCK");
    ASSERT_INT_EQ(cd_exit_code(CD_STUCK), 1);
    ASSERT_INT_EQ(cd_exit_code(CD_LIVELOCK), 1);
}

/* ============================ the scenario =============================== */

enum {
    SILENT,        /* two receivers on a channel nobody sends on */
    NESTED,        /* boss joins a worker that waits for nothing to come */
    LOCK_BEHIND,   /* waiter wants the lock of a holder stuck on a channel */
    SLOW_SENDER,   /* the sender sleeps 300 ms, then sends */
    SENDER_QUITS,  /* the sender sleeps 300 ms, then leaves without */
    PINGPONG,      /* many hand-offs over two channels */
    PINGPONG_LOST, /* the same, the last pong never sent */
    HANDOFF,       /* a lock handed to a waiter, then the waiter joined */
    KEEP,          /* the same, the lock kept while joining */
};

static const cd_variant_t variants[] = {
    [SILENT] = { "silent", "two receivers, no sender" },
    [NESTED] = { "nested", "boss joins a worker waiting for nothing" },
    [LOCK_BEHIND] = { "lock-behind", "a lock held across an endless wait" },
    [SLOW_SENDER] = { "slow-sender", "the sender sleeps, then sends" },
    [SENDER_QUITS] = { "sender-quits", "the sender sleeps, then leaves" },
    [PINGPONG] = { "pingpong", "hand-offs over two channels" },
    [PINGPONG_LOST] = { "pingpong-lost", "the last pong never sent" },
    [HANDOFF] = { "handoff", "unlock, then join the waiter" },
    [KEEP] = { "keep", "join the waiter while holding its lock" },
};

#define ROUNDS 100   /* ping-pong round trips */
#define HANDOFFS 20  /* lock hand-offs */

static cd_chan_t jobs, ping, pong, ready;
static cd_mutex_t store;
static atomic_int received, finished;
static int variant_now;

static void receive_one(void *arg)
{
    int x;
    (void)arg;
    if (cd_chan_recv(&jobs, &x) == 0)
        atomic_fetch_add(&received, 1);
}

static void receivers(void *ctx, int i)
{
    (void)i;
    receive_one(ctx);
}

static void boss(void *arg)
{
    cd_thread_t worker;
    (void)arg;
    if (cd_thread_spawn(&worker, "worker", receive_one, NULL) == 0)
        cd_thread_join(&worker);
}

static void holder(void *arg)
{
    int x = 1;
    (void)arg;
    cd_mutex_lock(&store);
    if (cd_chan_send(&ready, &x) == 0 && cd_chan_recv(&jobs, &x) == 0)
        atomic_fetch_add(&received, 1);
    cd_mutex_unlock(&store);
}

static void waiter(void *arg)
{
    int x;
    (void)arg;
    if (cd_chan_recv(&ready, &x) == 0) {
        cd_mutex_lock(&store);
        atomic_fetch_add(&finished, 1);
        cd_mutex_unlock(&store);
    }
}

static void sender(void *arg)
{
    int x = 7;
    (void)arg;
    cd_latency("prepare", 300 * 1000);
    if (variant_now == SLOW_SENDER && cd_chan_send(&jobs, &x) == 0)
        atomic_fetch_add(&finished, 1);
}

static void pinger(void *arg)
{
    int x = 0;
    (void)arg;
    for (int i = 0; i < ROUNDS; i++)
        if (cd_chan_send(&ping, &i) != 0 || cd_chan_recv(&pong, &x) != 0)
            return;
    atomic_fetch_add(&finished, 1);
}

static void ponger(void *arg)
{
    int x = 0;
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (cd_chan_recv(&ping, &x) != 0)
            return;
        if (variant_now == PINGPONG_LOST && i == ROUNDS - 1)
            return; /* BUG: the last pong is never sent */
        if (cd_chan_send(&pong, &x) != 0)
            return;
    }
    atomic_fetch_add(&finished, 1);
}

static void take_and_give_back(void *arg)
{
    (void)arg;
    cd_mutex_lock(&store);
    cd_mutex_unlock(&store);
    atomic_fetch_add(&finished, 1);
}

/* Until thread id is blocked on obj: a few short latencies. */
static void until_blocked_on(int id, int obj)
{
    for (;;) {
        cd_thread_rec_t *t = cd_reg_thread(id);
        if (atomic_load_explicit(&t->state, memory_order_relaxed) ==
                CD_T_BLOCKED &&
            atomic_load_explicit(&t->waiting_on, memory_order_relaxed) == obj)
            return;
        cd_latency("see it wait", 1000);
    }
}

/* Takes the lock, starts a thread that asks for it, waits until that one
 * is blocked on it, then (HANDOFF) lets go and joins it at once: for a
 * moment the joiner waits for a thread whose record still says blocked,
 * though the lock is free for it - or (KEEP) joins it still holding it. */
static void hander(void *arg)
{
    int rounds = variant_now == KEEP ? 1 : HANDOFFS;
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        cd_thread_t t;
        char name[16];
        snprintf(name, sizeof name, "taker-%d", i + 1);
        cd_mutex_lock(&store);
        if (cd_thread_spawn(&t, name, take_and_give_back, NULL) != 0) {
            cd_mutex_unlock(&store);
            return;
        }
        until_blocked_on(t.id, store.id);
        if (variant_now != KEEP)
            cd_mutex_unlock(&store);
        cd_thread_join(&t);
        if (variant_now == KEEP)
            cd_mutex_unlock(&store);
    }
}

/* Spawns a thread per fn, then joins them in order. */
static void spawn_and_join(const char *const *names, cd_thread_fn *fns, int n)
{
    cd_thread_t t[4];
    int started = 0;
    for (; started < n; started++)
        if (cd_thread_spawn(&t[started], names[started], fns[started],
                            NULL) != 0)
            break;
    for (int i = 0; i < started; i++)
        cd_thread_join(&t[i]);
}

static void run_stuck(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    (void)p;
    variant_now = variant;
    atomic_store(&received, 0);
    atomic_store(&finished, 0);
    cd_chan_init(&jobs, "jobs", sizeof(int), 4);
    cd_chan_init(&ping, "ping", sizeof(int), 1);
    cd_chan_init(&pong, "pong", sizeof(int), 1);
    cd_chan_init(&ready, "ready", sizeof(int), 1);
    cd_mutex_init(&store, "store-lock");
    cd_verdict_expect(v, "every thread finishes");
    switch (variant) {
    case SILENT:
        cd_team_run(2, "rx", receivers, NULL);
        break;
    case NESTED:
        spawn_and_join((const char *[]){ "boss" }, (cd_thread_fn[]){ boss },
                       1);
        break;
    case LOCK_BEHIND:
        spawn_and_join((const char *[]){ "holder", "waiter" },
                       (cd_thread_fn[]){ holder, waiter }, 2);
        break;
    case SLOW_SENDER:
    case SENDER_QUITS:
        spawn_and_join((const char *[]){ "rx", "tx" },
                       (cd_thread_fn[]){ receive_one, sender }, 2);
        break;
    case PINGPONG:
    case PINGPONG_LOST:
        spawn_and_join((const char *[]){ "pinger", "ponger" },
                       (cd_thread_fn[]){ pinger, ponger }, 2);
        break;
    default:
        spawn_and_join((const char *[]){ "hander" },
                       (cd_thread_fn[]){ hander }, 1);
    }
    /* What finishing counts: a message received, a thread's work done.
     * The variants meant to be stuck never finish. */
    int done = atomic_load(&received) + atomic_load(&finished);
    int want = variant == SLOW_SENDER || variant == PINGPONG ? 2
               : variant == HANDOFF                          ? HANDOFFS
                                                             : -1;
    if (done == want)
        cd_verdict_observe(v, CD_HELD, "all finished");
    else
        cd_verdict_observe(v, CD_VIOLATED, "%d finished", done);
    cd_mutex_destroy(&store);
    cd_chan_destroy(&jobs);
    cd_chan_destroy(&ping);
    cd_chan_destroy(&pong);
    cd_chan_destroy(&ready);
}

static const cd_scenario_t stuck_scenario = {
    .name = "stuck-test",
    .title = "runs that nothing can move",
    .variants = variants,
    .nvariants = (int)(sizeof variants / sizeof variants[0]),
    .defaults = { .threads = 2, .iterations = 1 },
    .explore = { .threads = 2, .iterations = 1 },
    .run = run_stuck,
};

static cd_run_result_t res;

/* One free run of variant (a controlled one with sched). */
static const cd_run_result_t *run_variant(int variant,
                                          const cd_sched_cfg_t *sched)
{
    cd_run_opts_t o = { .params = stuck_scenario.defaults,
                        .timeout_ms = RUN_TIMEOUT_MS,
                        .latency_permille = 1000, .sched = sched };
    CU_ASSERT_FATAL(cd_run(&stuck_scenario, variant, &o, &res) == 0);
    return &res;
}

static cd_sched_cfg_t seeded(int seed)
{
    return (cd_sched_cfg_t){ .strategy = CD_SCHED_RANDOM,
                             .seed = (uint64_t)seed, .depth = 3,
                             .pct_steps = 64,
                             .max_steps = CD_SCHED_DEFAULT_STEPS };
}

/* What the verdict says each thread waits for, from an observed text
 * "no thread can run: ... (scenario's words)". */
static void assert_stuck(const cd_run_result_t *r, const char *waits)
{
    ASSERT_INT_EQ(r->verdict.status, CD_STUCK);
    ASSERT_INT_EQ(r->has_cycle, 0);
    CU_ASSERT_TRUE(r->has_stuck);
    char want[512];
    snprintf(want, sizeof want, "no thread can run: %s (", waits);
    ASSERT_STR_HAS(r->verdict.observed, want);
}

/* ============================= real runs ================================= */

static const char silent_waits[] =
    "rx-1 waits on channel jobs; rx-2 waits on channel jobs; main joins rx-1";

/* forked test: a free run on a silent channel ends STUCK */
static void free_run_on_a_silent_channel_ends_stuck(void)
{
    const cd_run_result_t *r = run_variant(SILENT, NULL);
    /* Found by the stuck check, not by the time limit (that would be
     * TIMEOUT, with no finding). */
    assert_stuck(r, silent_waits);
    /* The receivers were ended by the abort; main's join returned. */
    const cd_snapshot_t *s = take_snapshot();
    ASSERT_INT_EQ(s->threads[1].state, CD_T_ABORTED);
    ASSERT_INT_EQ(s->threads[2].state, CD_T_ABORTED);
    /* The verdict line and the JSON say STUCK, exit code 1. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    cd_report_text(f, r);
    cd_report_json(f, r, 0);
    fclose(f);
    ASSERT_STR_HAS(text, "stuck-test [silent]: STUCK \xe2\x80\x94 expected "
                         "every thread finishes; observed no thread can run: "
                         "rx-1 waits on channel jobs");
    ASSERT_STR_HAS(text, "\"status\":\"STUCK\",\"exit_code\":1");
    ASSERT_STR_HAS(text, "\"deadlock\":null,\"stuck\":{\"waits\":["
                         "{\"thread\":\"rx-1\",\"state\":\"blocked\","
                         "\"object\":\"jobs\",\"kind\":\"channel\","
                         "\"held_by\":\"\",\"joins\":\"\"}");
    ASSERT_STR_HAS(text, "{\"thread\":\"main\",\"state\":\"blocked\","
                         "\"object\":\"\",\"kind\":\"\",\"held_by\":\"\","
                         "\"joins\":\"rx-1\"}],\"threads\":3,"
                         "\"lost_wakeup\":\"\"}");
    free(text);
}

/* forked test: a controlled run on a silent channel ends STUCK */
static void controlled_run_on_a_silent_channel_ends_stuck(void)
{
    for (int seed = 1; seed <= 5; seed++) {
        cd_sched_cfg_t cfg = seeded(seed);
        assert_stuck(run_variant(SILENT, &cfg), silent_waits);
    }
}

/* A join on a thread that is itself stuck is named, at every level. */
/* forked test: joins on stuck threads are named */
static void joins_on_stuck_threads_are_named(void)
{
    static const char want[] =
        "worker waits on channel jobs; boss joins worker; main joins boss";
    cd_sched_cfg_t cfg = seeded(3);
    assert_stuck(run_variant(NESTED, NULL), want);
    assert_stuck(run_variant(NESTED, &cfg), want);
}

/* No cycle, but no way out: the lock's owner waits on a channel forever. */
/* forked test: a lock held across an endless wait is stuck */
static void lock_held_across_an_endless_wait_is_stuck(void)
{
    static const char want[] =
        "holder waits on channel jobs; waiter waits on mutex store-lock held "
        "by holder; main joins holder";
    cd_sched_cfg_t cfg = seeded(1);
    assert_stuck(run_variant(LOCK_BEHIND, NULL), want);
    assert_stuck(run_variant(LOCK_BEHIND, &cfg), want);
}

/* A sender that sleeps first is slow, not stuck (a latency is sleeping);
 * the same sender leaving without a word is. */
/* forked test: a slow sender is not stuck, a missing one is */
static void a_slow_sender_is_not_stuck_a_missing_one_is(void)
{
    cd_sched_cfg_t cfg = seeded(2);
    ASSERT_INT_EQ(run_variant(SLOW_SENDER, NULL)->verdict.status, CD_HELD);
    ASSERT_INT_EQ(run_variant(SLOW_SENDER, &cfg)->verdict.status, CD_HELD);
    assert_stuck(run_variant(SENDER_QUITS, NULL),
                 "rx waits on channel jobs; main joins rx");
    assert_stuck(run_variant(SENDER_QUITS, &cfg),
                 "rx waits on channel jobs; main joins rx");
}

/* A starved machine: one busy loop per CPU, the runs at nice 10. Woken
 * threads then wait for a CPU while their records still say blocked, and
 * every thread of the run is often blocked at once (a joiner, a sleeper
 * just woken, a waiter handed a lock): the runs must still hold, twice
 * each, and their broken twins must still be found. Only a thread of the
 * child's own runs them at nice 10 (a Linux thread's nice is its own, and
 * the run's threads take it from the thread that starts them): stopping
 * the loops and the child's exit (a sanitizer's checks at exit) run at
 * the child's nice, so that only the part under test is starved. */
enum { LOADED_ROUNDS = 2, LOADED_HELD = 3 * LOADED_ROUNDS,
       LOADED_RUNS = LOADED_HELD + 2 };

typedef struct loaded_runs {
    int variant[LOADED_RUNS];
    cd_run_result_t r[LOADED_RUNS];
} loaded_runs_t;

static int run_loaded(void *arg)
{
    loaded_runs_t *l = arg;
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), 10) != 0)
        return 1;
    for (int i = 0; i < LOADED_RUNS; i++) {
        cd_run_opts_t o = { .params = stuck_scenario.defaults,
                            .timeout_ms = RUN_TIMEOUT_MS,
                            .latency_permille = 1000 };
        if (cd_run(&stuck_scenario, l->variant[i], &o, &l->r[i]) != 0)
            return 1;
    }
    return 0;
}

/* long forked test: a loaded machine makes no false STUCK */
static void a_loaded_machine_makes_no_false_stuck(void)
{
    static loaded_runs_t l; /* static: eight results are large */
    for (int i = 0; i < LOADED_HELD; i++)
        l.variant[i] = (int[]){ PINGPONG, HANDOFF, SLOW_SENDER }[i % 3];
    l.variant[LOADED_HELD] = PINGPONG_LOST;
    l.variant[LOADED_HELD + 1] = KEEP;

    pid_t loops[64];
    int busy = start_busy_loops(loops, 64);
    plain_call_t starved;
    int started = plain_call_start(&starved, run_loaded, &l) == 0;
    int joined = started && plain_call_join(&starved) == 0;
    stop_busy_loops(loops, busy);
    CU_ASSERT_FATAL(joined);
    ASSERT_INT_EQ(starved.rc, 0);
    for (int i = 0; i < LOADED_HELD; i++) {
        if (l.r[i].verdict.status != CD_HELD)
            fprintf(stderr, "\n  %s: %s\n", variants[l.variant[i]].name,
                    l.r[i].verdict.observed);
        ASSERT_INT_EQ(l.r[i].verdict.status, CD_HELD);
    }
    assert_stuck(&l.r[LOADED_HELD],
                 "pinger waits on channel pong; main joins pinger");
    assert_stuck(&l.r[LOADED_HELD + 1],
                 "taker-1 waits on mutex store-lock held by hander; "
                 "hander joins taker-1; main joins hander");
}

/* A wait-for cycle stays a DEADLOCK, free and controlled, even with the
 * main thread now shown blocked on its join. (Each run in a child of its
 * own that may exit with TSan's code: the deadlock's lock-order inversion
 * is the point of the scenario.) */
/* test: a cycle is still a DEADLOCK */
static void a_cycle_is_still_a_deadlock(void)
{
    const cd_scenario_t *s = cd_scenario_find("deadlock");
    cd_sched_cfg_t cfg = seeded(1);
    cd_run_opts_t o = { .params = s->defaults, .timeout_ms = RUN_TIMEOUT_MS,
                        .latency_permille = 1000 };
    /* Free: a starved machine may let one transfer finish before the
     * other starts (a lucky run, a potential deadlock); either way never
     * a stuck run. */
    child_run_t c = run_forked_opts("deadlock", "broken", &o, 20000);
    CU_ASSERT_TRUE_FATAL(c.finished);
    CU_ASSERT_TRUE(c.r.verdict.status == CD_DEADLOCK ||
                   c.r.verdict.status == CD_POTENTIAL);
    ASSERT_INT_EQ(c.r.has_stuck, 0);
    /* Controlled at the same sizes: both take their first account before
     * the fraud check's time passes, a cycle every time. */
    o.sched = &cfg;
    c = run_forked_opts("deadlock", "broken", &o, 20000);
    CU_ASSERT_TRUE_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, CD_DEADLOCK);
    ASSERT_INT_EQ(c.r.has_stuck, 0);
    o.params = s->explore;
    o.sched = &cfg;
    /* A controlled run meets the deadlock only on some schedules. */
    int deadlocks = 0;
    for (int seed = 1; seed <= 10; seed++) {
        cfg.seed = (uint64_t)seed;
        c = run_forked_opts("deadlock", "broken", &o, 20000);
        CU_ASSERT_TRUE_FATAL(c.finished);
        CU_ASSERT_TRUE(c.r.verdict.status != CD_STUCK);
        deadlocks += c.r.verdict.status == CD_DEADLOCK;
        if (c.r.verdict.status == CD_DEADLOCK)
            ASSERT_INT_EQ(c.r.has_stuck, 0);
    }
    CU_ASSERT_TRUE(deadlocks > 0);
}

/* The live view's text frames: the stuck block, the waiting threads, the
 * verdict. */
/* forked test: --view=text shows the stuck run */
static void view_text_shows_the_stuck_run(void)
{
    cd_run_opts_t o = { .params = stuck_scenario.defaults,
                        .timeout_ms = RUN_TIMEOUT_MS,
                        .latency_permille = 1000 };
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_FATAL(cd_view_text(NULL, f, &stuck_scenario, SILENT, &o, 100,
                                 30, &res) == 0);
    fclose(f);
    ASSERT_INT_EQ(res.verdict.status, CD_STUCK);
    ASSERT_STR_HAS(text, "STUCK: no thread can run; each waits for what no "
                         "running thread brings");
    ASSERT_STR_HAS(text, silent_waits);
    ASSERT_STR_HAS(text, "joining rx-1");
    ASSERT_STR_HAS(text, "aborted: waited jobs");
    ASSERT_STR_HAS(text, "stuck-test [silent]: STUCK - expected");
    free(text);
}

/* ================================ suite ================================== */
