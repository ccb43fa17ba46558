/*
 * cd_amutex.c - awaitable mutexes.
 *
 * The queue of waiting tasks is a list of nodes that live on the waiting
 * tasks' own stacks (a parked task's frame stays put until it resumes).
 * Ownership passes directly from the unlocking task to the first waiter,
 * so a newcomer cannot overtake tasks that were already waiting.
 *
 * Lock order: m->lk, then the executor's lock (inside cd__task_wake).
 * The wake happens while m->lk is held, so that a waiter which the run's
 * abort resumes meanwhile sees either "still queued" or "granted and
 * already on its worker's ready queue", never a half-done hand-over.
 */
#include "cd_amutex.h"

#include <errno.h>

#include "cd_exec.h"
#include "cd_op.h"

typedef struct waiter {
    cd_qnode_t node; /* in m->queue */
    cd_task_t *task;
    int granted;
} waiter_t;

static void release(void *impl)
{
    cd_amutex_unlock_at(impl, (cd_site_t){ __FILE__, __LINE__ });
}

int cd_amutex_init(cd_amutex_t *m, const char *name)
{
    int id = cd__reg_add_object(name, CD_OBJ_AMUTEX, m, release);
    if (id < 0)
        return id;
    CD_CHECK(pthread_mutex_init(&m->lk, NULL));
    m->id = id;
    m->owner = 0;
    cd_queue_init(&m->queue);
    return 0;
}

void cd_amutex_destroy(cd_amutex_t *m)
{
    CD_CHECK(pthread_mutex_destroy(&m->lk));
    cd__reg_remove_object(m->id);
}

int cd_amutex_lock_at(cd_amutex_t *m, cd_site_t site)
{
    cd_task_t *t = cd__task_current();
    if (!t)
        cd__check_failed("cd_amutex_lock outside a task", EPERM, site.file,
                         site.line);
    int self = cd__task_id(t);

    cd__op_begin(self, CD_OP_LOCK, m->id, 0, NULL, site);
    cd__op_order(self, m->id, site);
    CD_CHECK(pthread_mutex_lock(&m->lk));
    if (m->owner == 0) {
        m->owner = self;
        cd__op_acquired(self, m->id, site);
        CD_CHECK(pthread_mutex_unlock(&m->lk));
        return 0;
    }
    waiter_t w = { .task = t };
    cd_queue_push(&m->queue, &w.node);
    if (cd__task_park_locked(t, self, m->id, &m->lk, site) != 0) {
        /* The run was aborted. Leave the queue, or - if the lock was
         * handed over meanwhile - take it, so that the abort releases it
         * to the next waiter like any other held lock. */
        int granted = w.granted;
        if (!granted)
            cd_queue_remove(&m->queue, &w.node);
        CD_CHECK(pthread_mutex_unlock(&m->lk));
        if (granted)
            cd__op_acquired(self, m->id, site);
        cd__op_abort_self(self);
    }
    CD_CHECK(pthread_mutex_unlock(&m->lk));
    /* Handed over by the unlocker: m->owner is already us. */
    cd__op_acquired(self, m->id, site);
    return 0;
}

void cd_amutex_unlock_at(cd_amutex_t *m, cd_site_t site)
{
    int self = cd__self();

    if (self) {
        cd__op_begin(self, CD_OP_UNLOCK, m->id, 0, NULL, site);
        cd__op_released(self, m->id);
    }
    CD_CHECK(pthread_mutex_lock(&m->lk));
    waiter_t *w = CD_QUEUE_ENTRY(cd_queue_pop(&m->queue), waiter_t, node);
    if (w) {
        m->owner = cd__task_id(w->task);
        w->granted = 1;
        cd__task_wake(w->task);
    } else {
        m->owner = 0;
    }
    CD_CHECK(pthread_mutex_unlock(&m->lk));
}

/* ================================= keyed ================================= */

int cd_akeyed_init_strategy(cd_akeyed_t *k, const char *prefix, int n,
                            cd_key_strategy_t strategy)
{
    return cd_keytab_create(&k->locks, prefix, 1, n, strategy);
}

int cd_akeyed_init(cd_akeyed_t *k, const char *prefix, int n)
{
    return cd_akeyed_init_strategy(k, prefix, n, CD_KEY_CONTINUE);
}
