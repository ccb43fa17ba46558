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
 */
#include "cd_scope.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "cd_op.h"

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
    /* Under lk. */
    node_t *nodes;
    int live;              /* tasks not ended, the deadline included */
    int live_real;         /* the same without it */
    int owner_waits;
    int cancelling;
    int err;
    node_t *deadline;
};

/* Cancels every task of s not ended, but the caller's. Caller holds
 * s->lk. */
static void cancel_all(cd_scope_t *s)
{
    cd_task_t *self = cd__task_current();
    s->cancelling = 1;
    for (node_t *n = s->nodes; n; n = n->next)
        if (!n->ended && n->task && n->task != self)
            cd__task_cancel(n->task);
}

/* The end hook of a task of the scope (on its stack, no lock held). */
static void task_ended(void *arg, cd_task_t *t, int cancelled)
{
    node_t *n = arg;
    cd_scope_t *s = n->s;
    (void)t;
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
    CD_CHECK(pthread_mutex_unlock(&s->lk));
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

    cd_task_t *t = NULL;
    int id = cd__exec_spawn_hooked(s->e, cd__exec_next_worker(s->e), name, fn,
                                   arg, task_ended, n, &t);
    CD_CHECK(pthread_mutex_lock(&s->lk));
    if (id < 0) { /* never queued: it will not end, so count it out */
        n->ended = 1;
        s->live--;
        if (!internal)
            s->live_real--;
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
             * left to them (freed with nothing: the run is over). */
            s->owner_waits = 0;
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
    r.err = s->err;
    for (node_t *n = s->nodes, *next; n; n = next) {
        next = n->next;
        if (!n->internal) {
            r.spawned++;
            if (n->cancelled) {
                if (r.cancelled < CD_SCOPE_REPORT_MAX)
                    r.ids[r.cancelled] = n->id;
                r.cancelled++;
            }
        }
        free(n);
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
    CD_CHECK(pthread_mutex_destroy(&s->lk));
    cd__reg_remove_object(s->id);
    free(s);
    if (report)
        *report = r;
    return r.err;
}

/* ============================== offload pool ============================= */

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

static void *pool_main(void *arg)
{
    cd__offload_t *p = arg;
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
     * the function runs here, after the scheduler's decision. */
    if (cd_sched_active()) {
        fn(arg);
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
