/*
 * cd_scope.c - task scopes and the offload pool.
 *
 * A scope keeps one node per task spawned in it. A node is filled in
 * under the scope's lock once the spawn returned, and marked ended by the
 * task's end hook (cd__exec_spawn_hooked), which runs on the task's own
 * stack before the executor may free it: so a node that is not ended
 * under the lock holds a task that is still there to cancel.
 *
 * Lock order: s->lk, then the executor's lock (cd__task_cancel,
 * cd__task_wake). No choke point call is made while s->lk is held: under
 * the controlled scheduler a decision taken there could hand the turn to
 * a thread that then blocks on s->lk for real.
 *
 * The deadline is a task of the scope like any other, flagged internal:
 * it awaits the timeout and then fails the scope with -ETIMEDOUT; when
 * the last real task ends first, it is cancelled (and not reported).
 *
 * Nesting: a scope opened by a task of scope P is P's child. Cancelling P
 * cancels its children's tasks too (cancel_all recurses, parent's lock
 * then child's), and P's live count includes every task of its
 * descendants, so that P's close also awaits those. A child whose owner
 * ended without closing it (cancelled at another await) is abandoned: the
 * last of its tasks to end frees it. Counts move up the chain one lock at
 * a time (ancestors_add), never holding a child's lock.
 */
#define _GNU_SOURCE /* syscall(SYS_gettid): a thread's own nice value */
#include "cd_scope.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cd_op.h"
#include "cd_registry.h"
#include "cd_thread.h"

typedef struct node {
    struct node *next;
    cd_scope_t *s;
    cd_task_t *task; /* NULL until the spawn returned, or once it ended */
    int id;
    int ended, cancelled, internal;
} node_t;

struct cd_scope {
    pthread_mutex_t lk;
    int id;                /* registry object */
    cd_exec_t *e;
    cd_task_t *owner;
    int64_t timeout_us;
    cd_scope_t *parent;    /* the scope the owner is a task of, or NULL */
    cd_scope_t *sibling;   /* next in parent->children, under parent->lk */
    /* Under lk. */
    node_t *nodes;
    cd_scope_t *children;  /* scopes opened by tasks of this one */
    int abandoned;         /* the owner ended without closing it */
    int live;              /* tasks not ended, the deadline included, and
                              the tasks of every scope nested inside */
    int live_real;         /* the same without it */
    int owner_waits;
    int cancelling;
    int err;
    node_t *deadline;
};

/* Cancels every task of s not ended, but the caller's, and every task
 * of the scopes nested in s. Caller holds s->lk. */
static void cancel_all(cd_scope_t *s)
{
    cd_task_t *self = cd__task_current();
    s->cancelling = 1;
    for (node_t *n = s->nodes; n; n = n->next)
        if (!n->ended && n->task && n->task != self)
            cd__task_cancel(n->task);
    for (cd_scope_t *c = s->children; c; c = c->sibling) {
        CD_CHECK(pthread_mutex_lock(&c->lk));
        cancel_all(c);
        CD_CHECK(pthread_mutex_unlock(&c->lk));
    }
}

/* Frees s, its nodes and its registry object: its last task has ended. */
static void scope_free(cd_scope_t *s)
{
    for (node_t *n = s->nodes, *next; n; n = next) {
        next = n->next;
        free(n);
    }
    CD_CHECK(pthread_mutex_destroy(&s->lk));
    cd__reg_remove_object(s->id);
    free(s);
}

/* Adds delta to the live count of p and of each scope above it, waking
 * an owner that awaits the last. No lock held; each of them stays while
 * the count being moved is still in it. An abandoned scope whose count
 * this brings to 0 is freed here: the last task to end was a nested
 * scope's, after the owner had gone (that end counts up the chain only
 * after its own scope's lock is let go). */
static void ancestors_add(cd_scope_t *p, int delta)
{
    while (p) {
        CD_CHECK(pthread_mutex_lock(&p->lk));
        cd_scope_t *up = p->parent;
        p->live += delta;
        if (p->live == 0 && p->owner_waits) {
            p->owner_waits = 0;
            cd__task_wake(p->owner);
        }
        int free_p = p->abandoned && p->live == 0;
        CD_CHECK(pthread_mutex_unlock(&p->lk));
        if (free_p)
            scope_free(p);
        p = up;
    }
}

/* Task t of s ends: the scopes it opened in s and did not close are
 * abandoned; returns those with no task left, unlinked, to free. Caller
 * holds s->lk. */
static cd_scope_t *abandon_children(cd_scope_t *s, cd_task_t *t)
{
    cd_scope_t *dead = NULL;
    for (cd_scope_t **c = &s->children; *c;) {
        cd_scope_t *child = *c;
        if (child->owner != t) {
            c = &child->sibling;
            continue;
        }
        *c = child->sibling;
        CD_CHECK(pthread_mutex_lock(&child->lk));
        child->abandoned = 1;
        int empty = child->live == 0;
        CD_CHECK(pthread_mutex_unlock(&child->lk));
        if (empty) {
            child->sibling = dead;
            dead = child;
        }
    }
    return dead;
}

/* The end hook of a task of the scope (on its stack, no lock held). */
static void task_ended(void *arg, cd_task_t *t, int cancelled)
{
    node_t *n = arg;
    cd_scope_t *s = n->s;
    CD_CHECK(pthread_mutex_lock(&s->lk));
    n->ended = 1;
    n->task = NULL;
    n->cancelled = cancelled;
    s->live--;
    if (!n->internal)
        s->live_real--;
    /* The real work is over: the deadline has nothing left to guard. */
    if (s->live_real == 0 && s->deadline && !s->deadline->ended &&
        s->deadline->task)
        cd__task_cancel(s->deadline->task);
    if (s->live == 0 && s->owner_waits) {
        s->owner_waits = 0;
        cd__task_wake(s->owner);
    }
    cd_scope_t *dead = abandon_children(s, t);
    cd_scope_t *parent = s->parent;
    int free_s = s->abandoned && s->live == 0;
    CD_CHECK(pthread_mutex_unlock(&s->lk));
    while (dead) {
        cd_scope_t *next = dead->sibling;
        scope_free(dead);
        dead = next;
    }
    ancestors_add(parent, -1);
    if (free_s) /* its owner is gone: the last task frees it */
        scope_free(s);
}

static int spawn_node(cd_scope_t *s, const char *name, cd_task_fn fn,
                      void *arg, int internal)
{
    node_t *n = calloc(1, sizeof *n);
    if (!n)
        return -ENOMEM;
    n->s = s;
    n->internal = internal;
    CD_CHECK(pthread_mutex_lock(&s->lk));
    n->next = s->nodes;
    s->nodes = n;
    s->live++;
    if (!internal)
        s->live_real++;
    CD_CHECK(pthread_mutex_unlock(&s->lk));
    ancestors_add(s->parent, 1);

    cd_task_t *t = NULL;
    int id = cd__exec_spawn_hooked(s->e, cd__exec_next_worker(s->e), name, fn,
                                   arg, task_ended, n, &t);
    CD_CHECK(pthread_mutex_lock(&s->lk));
    if (id < 0) { /* never queued: it will not end, so count it out */
        n->ended = 1;
        s->live--;
        if (!internal)
            s->live_real--;
        CD_CHECK(pthread_mutex_unlock(&s->lk));
        ancestors_add(s->parent, -1);
        return id;
    } else {
        n->id = id;
        if (!n->ended) {
            n->task = t;
            if (s->cancelling) /* the cancel came while we spawned */
                cd__task_cancel(t);
        }
    }
    CD_CHECK(pthread_mutex_unlock(&s->lk));
    return id;
}

/* The deadline task: fails the scope when its time is up. A cancel (the
 * tasks finished first) ends it at the await. */
static void deadline_task(void *arg)
{
    cd_scope_t *s = arg;
    cd_await_latency("scope deadline", s->timeout_us);
    cd_scope_fail(s, -ETIMEDOUT);
}

int cd_scope_open(cd_scope_t **out, const char *name, int64_t timeout_us)
{
    cd_task_t *t = cd__task_current();
    if (!t)
        return -EPERM;
    cd_scope_t *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    int id = cd__reg_add_object(name, CD_OBJ_SCOPE, s, NULL);
    if (id < 0) {
        free(s);
        return id;
    }
    CD_CHECK(pthread_mutex_init(&s->lk, NULL));
    s->id = id;
    s->e = cd__task_exec(t);
    s->owner = t;
    s->timeout_us = timeout_us;
    /* Opened by a task of another scope: nested in it. */
    node_t *in = cd__task_end_arg(t, task_ended);
    if (in) {
        cd_scope_t *p = in->s;
        s->parent = p;
        CD_CHECK(pthread_mutex_lock(&p->lk));
        s->sibling = p->children;
        p->children = s;
        s->cancelling = p->cancelling; /* its tasks would not start */
        CD_CHECK(pthread_mutex_unlock(&p->lk));
    }
    *out = s;
    return 0;
}

int cd_scope_spawn(cd_scope_t *s, const char *name, cd_task_fn fn, void *arg)
{
    if (!s || !fn)
        return -EINVAL;
    /* The deadline starts with the first task: a scope's time is the
     * time its work takes. */
    int need_deadline = 0;
    CD_CHECK(pthread_mutex_lock(&s->lk));
    if (s->timeout_us > 0 && !s->deadline && !s->nodes)
        need_deadline = 1;
    CD_CHECK(pthread_mutex_unlock(&s->lk));
    if (need_deadline) {
        int did = spawn_node(s, "scope-deadline", deadline_task, s, 1);
        if (did < 0)
            return did;
        CD_CHECK(pthread_mutex_lock(&s->lk));
        for (node_t *n = s->nodes; n; n = n->next)
            if (n->internal)
                s->deadline = n;
        CD_CHECK(pthread_mutex_unlock(&s->lk));
    }
    return spawn_node(s, name, fn, arg, 0);
}

void cd_scope_fail(cd_scope_t *s, int err)
{
    CD_CHECK(pthread_mutex_lock(&s->lk));
    if (s->err == 0)
        s->err = err < 0 ? err : -ECANCELED;
    cancel_all(s);
    CD_CHECK(pthread_mutex_unlock(&s->lk));
}

void cd_scope_cancel(cd_scope_t *s)
{
    CD_CHECK(pthread_mutex_lock(&s->lk));
    cancel_all(s);
    CD_CHECK(pthread_mutex_unlock(&s->lk));
}

/* The owner's wait for the scope's last task. */
static void await_all(cd_scope_t *s, cd_site_t site)
{
    int self = cd__task_id(s->owner);
    cd__op_begin(self, CD_OP_SCOPE_CLOSE, s->id, 0, NULL, site);
    CD_CHECK(pthread_mutex_lock(&s->lk));
    while (s->live > 0) {
        s->owner_waits = 1;
        if (cd__task_park_locked(s->owner, self, s->id, &s->lk, site) != 0) {
            /* The run's abort: its tasks end with the run. The scope is
             * left to them (freed with nothing: the run is over). Or the
             * owner's own scope cancelled it: the cancel reached this
             * scope's tasks too, and once the owner has ended the last
             * of them frees it (abandon_children). */
            s->owner_waits = 0;
            if (!cd_reg_aborted())
                cancel_all(s);
            CD_CHECK(pthread_mutex_unlock(&s->lk));
            cd__op_abort_self(self);
        }
    }
    CD_CHECK(pthread_mutex_unlock(&s->lk));
}

int cd_scope_close(cd_scope_t *s, cd_scope_report_t *report)
{
    cd_scope_report_t r = { 0 };
    await_all(s, (cd_site_t){ __FILE__, __LINE__ });
    if (s->parent) {
        cd_scope_t *p = s->parent;
        CD_CHECK(pthread_mutex_lock(&p->lk));
        for (cd_scope_t **c = &p->children; *c; c = &(*c)->sibling)
            if (*c == s) {
                *c = s->sibling;
                break;
            }
        CD_CHECK(pthread_mutex_unlock(&p->lk));
    }
    r.err = s->err;
    for (node_t *n = s->nodes; n; n = n->next) {
        if (!n->internal) {
            r.spawned++;
            if (n->cancelled) {
                if (r.cancelled < CD_SCOPE_REPORT_MAX)
                    r.ids[r.cancelled] = n->id;
                r.cancelled++;
            }
        }
    }
    /* Nodes were pushed at the front: the report lists newest first;
     * put it in spawn order. */
    int k = r.cancelled < CD_SCOPE_REPORT_MAX ? r.cancelled
                                               : CD_SCOPE_REPORT_MAX;
    for (int i = 0; i < k / 2; i++) {
        int tmp = r.ids[i];
        r.ids[i] = r.ids[k - 1 - i];
        r.ids[k - 1 - i] = tmp;
    }
    scope_free(s);
    if (report)
        *report = r;
    return r.err;
}

/* ============================== offload pool ============================= */

/* Inside cd_exec_offload's function run in place (controlled runs). */
static _Thread_local int tl_offloaded;

typedef struct job {
    struct job *next;
    void (*fn)(void *);
    void *arg;
    cd_task_t *task;
    int done, orphan; /* under the pool's lock */
} job_t;

struct cd__offload {
    pthread_mutex_t lk;
    pthread_cond_t cond;
    pthread_t threads[CD_OFFLOAD_THREADS];
    int nthreads;
    /* Under lk. */
    job_t *head, *tail;
    int stop;
};

/* The pool's threads run below the loop's priority (nice +POOL_NICE, a
 * per-thread value on Linux): when a worker wakes for a timer or a socket
 * while a CPU-heavy job runs on the same CPU, the kernel hands it the CPU
 * at once - the loop is what must stay responsive; the job only has to
 * finish. Raising one's own nice needs no privilege; if it fails the pool
 * works the same, only without that preference. */
#define POOL_NICE 10

static void *pool_main(void *arg)
{
    cd__offload_t *p = arg;
#ifdef SYS_gettid
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), POOL_NICE);
#endif
    CD_CHECK(pthread_mutex_lock(&p->lk));
    for (;;) {
        while (!p->head && !p->stop)
            CD_CHECK(pthread_cond_wait(&p->cond, &p->lk));
        job_t *j = p->head;
        if (!j)
            break; /* stopped, and nothing left to run */
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        CD_CHECK(pthread_mutex_unlock(&p->lk));
        j->fn(j->arg);
        CD_CHECK(pthread_mutex_lock(&p->lk));
        j->done = 1;
        if (j->orphan)
            free(j); /* its task was ended meanwhile */
        else
            cd__task_wake(j->task);
    }
    CD_CHECK(pthread_mutex_unlock(&p->lk));
    return NULL;
}

/* The pool of e, started on first use. NULL if it could not be. */
static cd__offload_t *pool_of(cd_exec_t *e)
{
    cd__exec_lock(e, 1);
    cd__offload_t **slot = cd__exec_offload_slot(e);
    cd__offload_t *p = *slot;
    if (!p && (p = calloc(1, sizeof *p)) != NULL) {
        CD_CHECK(pthread_mutex_init(&p->lk, NULL));
        CD_CHECK(pthread_cond_init(&p->cond, NULL));
        while (p->nthreads < CD_OFFLOAD_THREADS &&
               pthread_create(&p->threads[p->nthreads], NULL, pool_main, p) == 0)
            p->nthreads++;
        if (p->nthreads == 0) {
            cd__offload_stop(p);
            p = NULL;
        }
        *slot = p;
    }
    cd__exec_lock(e, 0);
    return p;
}

int cd_exec_offload_start(cd_exec_t *e)
{
    if (cd_sched_active())
        return 0;
    return pool_of(e) ? 0 : -EAGAIN;
}

void cd__offload_stop(cd__offload_t *p)
{
    if (!p)
        return;
    CD_CHECK(pthread_mutex_lock(&p->lk));
    p->stop = 1;
    CD_CHECK(pthread_cond_broadcast(&p->cond));
    CD_CHECK(pthread_mutex_unlock(&p->lk));
    for (int i = 0; i < p->nthreads; i++)
        CD_CHECK(pthread_join(p->threads[i], NULL));
    CD_CHECK(pthread_cond_destroy(&p->cond));
    CD_CHECK(pthread_mutex_destroy(&p->lk));
    free(p);
}

int cd_exec_offload_at(const char *what, void (*fn)(void *), void *arg,
                       cd_site_t site)
{
    cd_task_t *t = cd__task_current();
    if (!t) {
        fn(arg);
        return 0;
    }
    int self = cd__task_id(t);
    cd__op_begin(self, CD_OP_OFFLOAD, 0, 0, what, site);
    /* A controlled run has no thread to spare that is not a participant:
     * the function runs here, after the scheduler's decision; CPU work in
     * it is awaited, as the pool would do it (cd_cpu_work). */
    if (cd_sched_active()) {
        tl_offloaded++;
        fn(arg);
        tl_offloaded--;
        return 0;
    }
    cd__offload_t *p = pool_of(cd__task_exec(t));
    job_t *j = calloc(1, sizeof *j);
    if (!p || !j) {
        free(j);
        return -ENOMEM;
    }
    j->fn = fn;
    j->arg = arg;
    j->task = t;
    CD_CHECK(pthread_mutex_lock(&p->lk));
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    cd__op_park(self, 0, what, 0, site);
    CD_CHECK(pthread_cond_signal(&p->cond));
    CD_CHECK(pthread_mutex_unlock(&p->lk));
    int rc = cd__task_park(t);
    /* A wake-up that came for another reason (a scope's cancel, the run's
     * abort) leaves the job running: the pool frees it when done. */
    CD_CHECK(pthread_mutex_lock(&p->lk));
    int done = j->done;
    if (!done)
        j->orphan = 1;
    CD_CHECK(pthread_mutex_unlock(&p->lk));
    if (done)
        free(j);
    if (rc != 0 || !done)
        cd__op_abort_self(self);
    if (cd__tracing())
        cd__trace_emit(self, CD_OP_WAKE, 0, 0, what, site);
    return 0;
}

/* ================================ CPU work =============================== */

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

long cd_cpu_work_at(const char *what, int64_t usec, void (*step)(void *),
                    void *arg, cd_site_t site)
{
    if (cd_sched_active()) {
        step(arg);
        if (tl_offloaded)
            cd_await_latency_at(what, usec, site);
        else
            cd_latency_at(what, usec, site);
        return 1;
    }
    int64_t budget = usec * 1000 * cd_reg_latency_scale() / 1000;
    int64_t start = thread_cpu_ns();
    long steps = 0;
    /* Without a thread CPU clock (start 0 and no progress) one step is
     * all: better too little work than a loop that never ends. */
    do {
        step(arg);
        steps++;
    } while (start > 0 && thread_cpu_ns() - start < budget);
    return steps;
}
