/*
 * cd_thread.c - spawning, joining, teams, latency and points.
 */
#include "cd_thread.h"

#include <errno.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd_internal.h"
#include "cd_op.h"

/* Small stacks: demos run hundreds of threads, none needs much. */
#define STACK_BYTES (256 * 1024)

/* A start gate: threads wait until the spawner opens it. */
typedef struct gate {
    pthread_mutex_t lock;
    pthread_cond_t opened;
    int open;
} gate_t;

typedef struct start {
    int id;
    cd_thread_fn fn;
    void *arg;
    gate_t *gate;
    int first_turn; /* a pooled thread woken by its first turn */
} start_t;

/* Read by the controlled scheduler while this thread is parked; the
 * hand-off between turns orders it after the spawner's write. */
static int gate_is_open(void *arg)
{
    return ((gate_t *)arg)->open;
}

static void gate_wait(gate_t *g, int self)
{
    if (cd__sched_block(self, gate_is_open, g, 0) == 0)
        return;
    if (cd__fiber_self()) { /* drained: the spawner opens it meanwhile */
        while (!g->open)
            cd__fiber_yield();
        return;
    }
    CD_CHECK(pthread_mutex_lock(&g->lock));
    while (!g->open)
        CD_CHECK(pthread_cond_wait(&g->opened, &g->lock));
    CD_CHECK(pthread_mutex_unlock(&g->lock));
}

static void gate_open(gate_t *g)
{
    CD_CHECK(pthread_mutex_lock(&g->lock));
    g->open = 1;
    CD_CHECK(pthread_cond_broadcast(&g->opened));
    CD_CHECK(pthread_mutex_unlock(&g->lock));
}

/* The life of one cd_thread, on whichever OS thread runs it. */
static void run_start(start_t s)
{
    cd__reg_bind_self(s.id);
    if (!s.first_turn)
        cd__sched_enter(s.id);
    if (s.gate)
        gate_wait(s.gate, s.id);
    if (s.id) {
        cd_thread_rec_t *t = cd__rec(s.id);
        cd__st(&t->since_ns, cd_reg_elapsed_ns());
        cd__st(&t->state, CD_T_RUNNING);
        cd__op_begin(s.id, CD_OP_START, 0, 0, NULL, (cd_site_t){ 0 });
    }
    s.fn(s.arg);
    if (s.id) {
        cd_thread_rec_t *t = cd__rec(s.id);
        cd__op_begin(s.id, CD_OP_EXIT, 0, 0, NULL, (cd_site_t){ 0 });
        cd__st(&t->since_ns, cd_reg_elapsed_ns());
        cd__st(&t->state, CD_T_DONE);
        cd__sched_exit(s.id);
    }
}

static void *thread_main(void *p)
{
    start_t s = *(start_t *)p;
    free(p); /* before fn: an aborted thread never comes back here */
    run_start(s);
    return NULL;
}

/* ================================ the pool =============================== */

/* An OS thread of the pool: parked on `go` until it is handed a start,
 * which it runs; it posts `done` when the start returned - or when the
 * run's abort ended it (cd__op_abort_self exits the OS thread: the pool
 * then joins it and forgets it). */
typedef struct cd__pooled {
    pthread_t pt;
    sem_t go, done;
    void *(*fn)(void *); /* what it runs when go is posted: a cd_thread's */
    void *arg;           /* start (job), or lib's own (cd__thread_start) */
    start_t job;
    int quit;             /* go was posted to end it */
    int exited;           /* the abort ended it while it ran a start */
    unsigned gen;         /* the run it last served (the registry's gen) */
    size_t stack;         /* its stack's size: served only to that size */
    struct cd__pooled *next; /* in the list of parked ones */
} pooled_t;

static struct {
    pthread_mutex_t lock;
    int on;
    pooled_t *parked;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Run by pthread_exit in a start the abort ended. */
static void pooled_exited(void *p)
{
    pooled_t *w = p;
    w->exited = 1;
    CD_CHECK(sem_post(&w->done));
}

static void *pooled_main(void *p)
{
    pooled_t *w = p;
    for (;;) {
        while (sem_wait(&w->go) != 0 && errno == EINTR)
            ;
        if (w->quit)
            return NULL;
        pthread_cleanup_push(pooled_exited, w);
        w->fn(w->arg);
        pthread_cleanup_pop(0);
        CD_CHECK(sem_post(&w->done));
    }
}

static void *pooled_start(void *p)
{
    run_start(((pooled_t *)p)->job);
    return NULL;
}

static void pooled_free(pooled_t *w)
{
    CD_CHECK(pthread_join(w->pt, NULL));
    CD_CHECK(sem_destroy(&w->go));
    CD_CHECK(sem_destroy(&w->done));
    free(w);
}

/* A parked OS thread that served no thread of this run, else a new one;
 * NULL when the pool is off or no thread could be made (the caller then
 * makes one of its own). */
static pooled_t *pool_take(size_t stack_bytes)
{
    unsigned gen = cd__reg.gen;
    pooled_t *w = NULL;
    CD_CHECK(pthread_mutex_lock(&pool.lock));
    if (!pool.on) {
        CD_CHECK(pthread_mutex_unlock(&pool.lock));
        return NULL;
    }
    for (pooled_t **at = &pool.parked; *at; at = &(*at)->next)
        if ((*at)->gen != gen && (*at)->stack == stack_bytes) {
            w = *at;
            *at = w->next;
            break;
        }
    CD_CHECK(pthread_mutex_unlock(&pool.lock));
    if (w)
        return w;
    if (!(w = calloc(1, sizeof *w)))
        return NULL;
    CD_CHECK(sem_init(&w->go, 0, 0));
    CD_CHECK(sem_init(&w->done, 0, 0));
    w->stack = stack_bytes;
    pthread_attr_t attr;
    CD_CHECK(pthread_attr_init(&attr));
    CD_CHECK(pthread_attr_setstacksize(&attr, stack_bytes));
    int rc = pthread_create(&w->pt, &attr, pooled_main, w);
    CD_CHECK(pthread_attr_destroy(&attr));
    if (rc != 0) {
        CD_CHECK(sem_destroy(&w->go));
        CD_CHECK(sem_destroy(&w->done));
        free(w);
        return NULL;
    }
    return w;
}

/* After the join: parks w again (for a later run), or ends it. */
static void pool_give_back(pooled_t *w)
{
    if (!w->exited) {
        CD_CHECK(pthread_mutex_lock(&pool.lock));
        if (pool.on) {
            w->gen = cd__reg.gen;
            w->next = pool.parked;
            pool.parked = w;
            w = NULL;
        }
        CD_CHECK(pthread_mutex_unlock(&pool.lock));
        if (!w)
            return;
        w->quit = 1;
        CD_CHECK(sem_post(&w->go));
    }
    pooled_free(w);
}

int cd__thread_start(cd__osthread_t *t, size_t stack_bytes,
                     void *(*fn)(void *), void *arg)
{
    /* An executor's worker or an offload thread is an OS thread that the
     * coroutines of a run could not hand a turn to: a scenario that
     * starts one must not say cd_scenario_t.fibers. */
    if (cd__fiber_run())
        cd__check_failed("cd__thread_start in a run of coroutines", EINVAL,
                         __FILE__, __LINE__);
    if ((t->pooled = pool_take(stack_bytes)) != NULL) {
        t->pooled->fn = fn;
        t->pooled->arg = arg;
        t->pt = t->pooled->pt;
        CD_CHECK(sem_post(&t->pooled->go));
        return 0;
    }
    pthread_attr_t attr;
    CD_CHECK(pthread_attr_init(&attr));
    CD_CHECK(pthread_attr_setstacksize(&attr, stack_bytes));
    int rc = pthread_create(&t->pt, &attr, fn, arg);
    CD_CHECK(pthread_attr_destroy(&attr));
    return -rc;
}

void cd__thread_join(cd__osthread_t *t)
{
    if (!t->pooled) {
        CD_CHECK(pthread_join(t->pt, NULL));
        return;
    }
    while (sem_wait(&t->pooled->done) != 0 && errno == EINTR)
        ;
    pool_give_back(t->pooled);
    t->pooled = NULL;
}

int cd_thread_pool_begin(void)
{
#ifndef CD_TSAN
    CD_CHECK(pthread_mutex_lock(&pool.lock));
    pool.on = 1;
    CD_CHECK(pthread_mutex_unlock(&pool.lock));
#endif
    return 0;
}

void cd_thread_pool_end(void)
{
    CD_CHECK(pthread_mutex_lock(&pool.lock));
    pooled_t *w = pool.parked;
    pool.parked = NULL;
    pool.on = 0;
    CD_CHECK(pthread_mutex_unlock(&pool.lock));
    cd__fiber_release(); /* the coroutines' stacks, kept likewise */
    while (w) {
        pooled_t *next = w->next;
        w->quit = 1;
        CD_CHECK(sem_post(&w->go));
        pooled_free(w);
        w = next;
    }
}

static int spawn(cd_thread_t *t, const char *name, cd_thread_fn fn,
                 void *arg, gate_t *gate)
{
    pthread_attr_t attr;
    int parent = cd__self();
    int id = cd__reg_add_thread(name);
    if (id < 0)
        return id;
    /* In a run of coroutines the thread is one, woken by its first turn.
     * Else a parked OS thread of the pool takes the start as it is, and a
     * new one gets its own copy. */
    t->fiber = cd__fiber_run();
    t->pooled = t->fiber ? NULL : pool_take(STACK_BYTES);
    if (t->pooled) {
        t->pooled->fn = pooled_start;
        t->pooled->arg = t->pooled;
    }
    start_t *s = t->pooled ? &t->pooled->job : malloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    *s = (start_t){ .id = id, .fn = fn, .arg = arg, .gate = gate,
                    .first_turn = t->fiber };
    if (parent)
        cd__op_begin(parent, CD_OP_SPAWN, id, 0, NULL, (cd_site_t){ 0 });
    cd__sched_register(id);
    if (t->pooled) {
        t->pt = t->pooled->pt;
        t->id = id;
        /* In a controlled run the scheduler wakes it when it first
         * chooses it: woken now it would only wait for that. */
        s->first_turn = 1;
        if (!cd__sched_register_parked(id, &t->pooled->go)) {
            s->first_turn = 0;
            CD_CHECK(sem_post(&t->pooled->go));
        }
        return 0;
    }
    int rc;
    if (t->fiber) {
        rc = cd__fiber_spawn(id, thread_main, s);
    } else {
        CD_CHECK(pthread_attr_init(&attr));
        CD_CHECK(pthread_attr_setstacksize(&attr, STACK_BYTES));
        rc = -pthread_create(&t->pt, &attr, thread_main, s);
        CD_CHECK(pthread_attr_destroy(&attr));
    }
    if (rc != 0) {
        free(s);
        cd__st(&cd__rec(id)->state, CD_T_DONE);
        return rc;
    }
    t->id = id;
    return 0;
}

int cd_thread_spawn(cd_thread_t *t, const char *name, cd_thread_fn fn,
                    void *arg)
{
    return spawn(t, name, fn, arg, NULL);
}

/* The joined thread has ended (for the controlled scheduler). */
static int thread_ended(void *arg)
{
    int state = cd__ld(&cd__rec(*(int *)arg)->state);
    return state == CD_T_DONE || state == CD_T_ABORTED;
}

int cd_thread_join(cd_thread_t *t)
{
    int self = cd__self(), shown = self && t->id;
    if (self)
        cd__op_begin(self, CD_OP_JOIN, t->id, 0, NULL, (cd_site_t){ 0 });
    /* Shown blocked on the thread while it waits, in a free run too: a
     * joiner the registry showed running would hide a run that nothing
     * can move any more from the stuck detector (cd_waitfor.h). */
    if (shown) {
        cd__op_join(self, t->id);
        cd__sched_block(self, thread_ended, &t->id, 0);
    }
    if (t->fiber) {
        cd__fiber_wait(t->id); /* at once unless the run was drained */
        cd__fiber_reap(t->id);
    } else if (t->pooled) {
        while (sem_wait(&t->pooled->done) != 0 && errno == EINTR)
            ;
        pool_give_back(t->pooled);
        t->pooled = NULL;
    } else {
        CD_CHECK(pthread_join(t->pt, NULL));
    }
    if (shown)
        cd__op_joined(self);
    if (t->id && cd__ld(&cd__rec(t->id)->state) == CD_T_ABORTED)
        return -ECANCELED;
    return 0;
}

/* ================================= teams ================================= */

typedef struct member {
    cd_team_fn fn;
    void *ctx;
    int index;
} member_t;

static void member_main(void *p)
{
    member_t *m = p;
    m->fn(m->ctx, m->index);
}

int cd_team_run(int n, const char *prefix, cd_team_fn fn, void *ctx)
{
    gate_t gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
    cd_thread_t *threads = calloc((size_t)n, sizeof *threads);
    member_t *members = calloc((size_t)n, sizeof *members);
    int started = 0, rc = 0, aborted = 0;

    if (!threads || !members) {
        rc = -ENOMEM;
        goto out;
    }
    for (; started < n; started++) {
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "%s-%d", prefix, started + 1);
        members[started] = (member_t){ fn, ctx, started };
        rc = spawn(&threads[started], name, member_main, &members[started],
                   &gate);
        if (rc != 0)
            break;
    }
    gate_open(&gate);
    for (int i = 0; i < started; i++)
        if (cd_thread_join(&threads[i]) == -ECANCELED)
            aborted++;
    if (rc == 0)
        rc = aborted;
out:
    free(threads);
    free(members);
    return rc;
}

/* ============================ latency, points ============================ */

/* A latency waits for nothing but its end: a slice only sleeps. */
static int nap_slice(void *arg, int64_t until_ns)
{
    (void)arg;
    if (until_ns != CD__WAIT_TRY)
        cd__op_nap(until_ns);
    return 0;
}

void cd_latency_at(const char *what, int64_t usec, cd_site_t site)
{
    int self = cd__self();
    int64_t ns = usec * 1000 * cd_reg_latency_scale() / 1000;
    /* Its end is the wait's timeout: on the virtual clock in a controlled
     * run, where it costs no real time. */
    cd__wait_t w = { .slice = nap_slice, .timed = 1, .timeout_ns = ns,
                     .site = site };

    if (self) {
        cd__op_begin(self, CD_OP_LATENCY, 0, ns / 1000, what, site);
        cd__op_sleep(self, what);
    }
    if (ns > 0)
        cd__op_end_if_aborted(self, cd__op_wait(self, 0, &w));
    if (self)
        cd__op_wake(self, what, site);
}

void cd_point_at(const char *label, cd_site_t site)
{
    int self = cd__self();
    if (self)
        cd__op_begin(self, CD_OP_POINT, 0, 0, label, site);
}
