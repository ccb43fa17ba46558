/*
 * cd_op.c - the choke point's slower state changes: waiting and aborting.
 */
#include "cd_op.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

/* A paused thread looks at the pause and abort flags after 2 ms, then
 * less and less often, up to every 100 ms: quick to resume after a short
 * pause, and hundreds of paused threads stay cheap during a long one. */
#define PAUSE_POLL_MIN_NS (2 * 1000 * 1000)
#define PAUSE_POLL_MAX_NS (100 * 1000 * 1000)

/* Holds a thread started by cd_thread while the run is paused. It polls
 * with plain sleeps rather than waiting on a condition variable: waking
 * through a lock would order the paused threads for ThreadSanitizer (and
 * through the view, which reads their trace) and hide the demo's own
 * races. An abort ends the pause; the thread then ends at its next wait,
 * as every thread of an aborted run does. */
static void pause_here(int self)
{
    cd_thread_rec_t *t = cd__rec(self);
    int was = cd__ld(&t->state);
    long ns = PAUSE_POLL_MIN_NS;

    cd__st(&t->state, CD_T_PAUSED);
    while ((cd__ld(&cd__reg.slow) & CD_SLOW_PAUSE) && !cd_reg_aborted()) {
        struct timespec ts = { 0, ns };
        nanosleep(&ts, NULL);
        ns = ns * 2 < PAUSE_POLL_MAX_NS ? ns * 2 : PAUSE_POLL_MAX_NS;
    }
    cd__st(&t->state, was);
}

void cd__op_pause(int self)
{
    if ((cd__ld(&cd__reg.slow) & CD_SLOW_PAUSE) && cd__self_is_spawned())
        pause_here(self);
}

void cd__op_slow(int self, int op, int obj, int64_t arg, const char *label,
                 cd_site_t site)
{
    if ((cd__ld(&cd__reg.slow) & CD_SLOW_PAUSE) && cd__self_is_spawned())
        pause_here(self);
    if (cd__tracing())
        cd__trace_emit(self, op, obj, arg, label, site);
}

/* The task self no longer occupies its worker. */
static void leave_worker(int self)
{
    int worker = cd__ld(&cd__rec(self)->worker);
    if (worker) {
        _Atomic int *owner = &cd__obj(worker)->owner;
        int me = self;
        atomic_compare_exchange_strong_explicit(owner, &me, 0, CD_RELAXED,
                                                CD_RELAXED);
    }
}

void cd__op_block(int self, int obj, int timed, cd_site_t site)
{
    cd_thread_rec_t *t = cd__rec(self);
    cd_obj_rec_t *o = cd__obj(obj);

    atomic_fetch_add_explicit(&o->nwaiters, 1, CD_RELAXED);
    /* Several waiters can get here at once: a real increment. */
    atomic_fetch_add_explicit(&o->contended, 1, CD_RELAXED);
    cd__st(&t->waiting_on, obj);
    cd__st(&t->wait_timed, timed);
    cd__st(&t->wait_seq, cd__ld(&t->wait_seq) + 1);
    cd__st(&t->since_ns, cd_reg_elapsed_ns());
    cd__st(&t->state, CD_T_BLOCKED);
    cd__op_note(self, CD_OP_BLOCK, obj, 0, site);
}

void cd__op_unblock(int self, int obj)
{
    cd_thread_rec_t *t = cd__rec(self);

    cd__st(&t->state, CD_T_RUNNING);
    cd__st(&t->since_ns, cd_reg_elapsed_ns());
    cd__st(&t->waiting_on, 0);
    cd__st(&t->wait_timed, 0);
    atomic_fetch_sub_explicit(&cd__obj(obj)->nwaiters, 1, CD_RELAXED);
}

void cd__op_join(int self, int other)
{
    cd_thread_rec_t *t = cd__rec(self);

    cd__st(&t->joining, other);
    cd__st(&t->waiting_on, 0);
    cd__st(&t->wait_timed, 0);
    cd__st(&t->wait_seq, cd__ld(&t->wait_seq) + 1);
    cd__st(&t->since_ns, cd_reg_elapsed_ns());
    cd__st(&t->state, CD_T_BLOCKED);
}

void cd__op_joined(int self)
{
    cd_thread_rec_t *t = cd__rec(self);

    cd__st(&t->state, CD_T_RUNNING);
    cd__st(&t->since_ns, cd_reg_elapsed_ns());
    cd__st(&t->joining, 0);
}

/* ================================ waiting ================================ */

/* The abort rule: once the run is aborted, a wait ends if the run ends
 * its thread (cd_thread's threads and tasks end themselves) or if it has
 * no timeout (nothing else would ever end it). A timed wait of a thread
 * the program started itself (main) runs to its timeout. */
static int abort_ends(const cd__wait_t *w)
{
    return cd_reg_aborted() && (cd__self_is_spawned() || !w->timed);
}

/* The slice took what the thread waited for. If the run was aborted
 * meanwhile, that is usually why it came free (an aborted thread let go
 * of it): the thread ends too rather than carry on (a transfer half done
 * in a deadlocked run), so it gives back what it took. */
static int taken(const cd__wait_t *w)
{
    if (!abort_ends(w))
        return 0;
    if (w->undo)
        w->undo(w->arg);
    return -ECANCELED;
}

/* One slice: the primitive's own, or its condition variable's. */
static int slice(const cd__wait_t *w, int64_t until_ns)
{
    if (w->slice)
        return w->slice(w->arg, until_ns);
    if (!w->ready(w->arg) && until_ns != CD__WAIT_TRY) {
        struct timespec ts = { until_ns / 1000000000,
                               until_ns % 1000000000 };
        cd__op_timed(pthread_cond_timedwait(w->cond, w->lock, &ts));
    }
    return w->ready(w->arg);
}

/* The wait of a controlled run: park until ready (or the timeout, or one
 * of the alarms: the scheduler may end either at any decision; or, where
 * w->spurious allows it, for no reason at all), then take. Returns CD_SCHED_FREE_RUN when the run is not, or no longer,
 * controlled: an abort drains the scheduler, and every thread then waits
 * for real. */
static int wait_parked(int self, const cd__wait_t *w)
{
    int64_t deadline = w->timed ? cd__sched_clock() + w->timeout_ns : 0;

    for (;;) {
        if (w->lock)
            CD_CHECK(pthread_mutex_unlock(w->lock));
        int rc = cd__sched_park(self, w->ready, w->arg, deadline, w->alarms,
                                w->nalarms, w->fired, w->spurious);
        if (w->lock)
            CD_CHECK(pthread_mutex_lock(w->lock));
        /* A spurious wake-up takes nothing: the caller looks again. */
        if (rc == CD_SCHED_FREE_RUN || rc == -ECANCELED || rc == -EINTR)
            return rc;
        /* Ready, or the timeout came: either way a last try. */
        if (slice(w, CD__WAIT_TRY))
            return taken(w);
        if (rc == -ETIMEDOUT)
            return rc;
    }
}

/* The real wait, in slices, looking at the run's abort between them. */
static int wait_free(const cd__wait_t *w)
{
    int64_t len = w->slice_ns > 0 ? w->slice_ns : CD__WAIT_SLICE_NS;
    int64_t deadline = w->timed ? cd_now_ns() + w->timeout_ns : 0;

    for (;;) {
        if (abort_ends(w))
            return -ECANCELED;
        int64_t until = cd_now_ns() + len;
        if (deadline && deadline < until)
            until = deadline;
        if (slice(w, until))
            return taken(w);
        if (deadline && cd_now_ns() >= deadline)
            return -ETIMEDOUT;
    }
}

int cd__op_wait(int self, int obj, const cd__wait_t *w)
{
    int shown = self && obj, rc = CD_SCHED_FREE_RUN;

    if (shown)
        cd__op_block(self, obj, w->timed, w->site);
    if (self && cd__sched_on())
        rc = wait_parked(self, w);
    if (rc == CD_SCHED_FREE_RUN)
        rc = wait_free(w);
    if (shown) {
        cd__op_unblock(self, obj);
        if (rc == -ETIMEDOUT)
            cd__op_note(self, CD_OP_TIMEOUT, obj, 0, w->site);
    }
    return rc;
}

int cd__op_end_if_aborted(int self, int rc)
{
    if (rc == -ECANCELED && self && cd__self_is_spawned())
        cd__op_abort_self(self);
    return rc;
}

void cd__op_nap(int64_t until_ns)
{
    int64_t left = until_ns - cd_now_ns();
    if (left > 0) {
        struct timespec ts = { left / 1000000000, left % 1000000000 };
        nanosleep(&ts, NULL);
    }
}

void cd__op_sleep(int self, const char *what)
{
    cd_thread_rec_t *t = cd__rec(self);

    cd__st(&t->what, what);
    cd__st(&t->since_ns, cd_reg_elapsed_ns());
    cd__st(&t->state, CD_T_SLEEPING);
}

void cd__op_wake(int self, const char *what, cd_site_t site)
{
    cd_thread_rec_t *t = cd__rec(self);

    cd__st(&t->state, CD_T_RUNNING);
    cd__st(&t->since_ns, cd_reg_elapsed_ns());
    cd__st(&t->what, NULL);
    if (cd__tracing())
        cd__trace_emit(self, CD_OP_WAKE, 0, 0, what, site);
}

void cd__op_released_search(int self, int obj)
{
    cd_thread_rec_t *t = cd__rec(self);
    int n = cd__ld(&t->nheld);
    int top = n < CD_MAX_HELD ? n : CD_MAX_HELD;

    /* Search from the top; the locks above obj move down one slot. */
    for (int i = top - 1; i >= 0; i--) {
        if (cd__ld(&t->held[i]) == obj) {
            for (int j = i; j < top - 1; j++)
                cd__st(&t->held[j], cd__ld(&t->held[j + 1]));
            break;
        }
    }
    if (n > 0)
        cd__st(&t->nheld, n - 1);
    cd__st(&cd__obj(obj)->owner, 0);
}

/* This thread's way out for an aborted task (cd__op_on_task_abort). */
static _Thread_local void (*task_abort)(void);

void cd__op_on_task_abort(void (*fn)(void))
{
    task_abort = fn;
}

/* Set on a thread's way out (cd__op_abort_self): the thread then exits.
 * Cleared where the OS thread goes on: a task's worker, or the thread a
 * coroutine ran on. */
static _Thread_local int self_ending;

int cd__op_self_ending(void)
{
    return self_ending;
}

_Noreturn void cd__op_abort_self(int self)
{
    cd_thread_rec_t *t = cd__rec(self);

    cd__fiber_ending(); /* a coroutine: its releases must not end it */
    self_ending = 1;    /* nor a thread's, in a drained controlled run */
    /* Undo holds newest first, through each primitive's own release, so
     * the registry and the sanitizers see ordinary unlocks. */
    for (int n = cd__ld(&t->nheld); n > 0; n = cd__ld(&t->nheld)) {
        if (n > CD_MAX_HELD) { /* beyond the table: ids were not kept */
            cd__st(&t->nheld, n - 1);
            continue;
        }
        int obj = cd__ld(&t->held[n - 1]);
        cd_obj_rec_t *o = cd__obj(obj);
        if (o->release)
            o->release(o->impl);
        else
            cd__op_released(self, obj);
    }
    cd__op_note(self, CD_OP_ABORT, 0, 0, (cd_site_t){ 0 });
    cd__st(&t->since_ns, cd_reg_elapsed_ns());
    cd__st(&t->state, CD_T_ABORTED);
    if (cd__self_is_task() || cd__fiber_self())
        self_ending = 0; /* the OS thread goes on */
    if (cd__self_is_task()) {
        leave_worker(self);
        if (!task_abort)
            cd__check_failed("a task's worker has no abort hook", EINVAL,
                             __FILE__, __LINE__);
        task_abort(); /* a task must not end its worker thread */
        abort();      /* not reached */
    }
    if (cd__fiber_self())
        cd__fiber_end(cd__fiber_self());
    pthread_exit(NULL);
}

/* ================================= tasks ================================= */

void cd__op_park(int self, int obj, const char *label, int64_t wake_ns,
                 cd_site_t site)
{
    cd_thread_rec_t *t = cd__rec(self);

    if (obj) {
        cd_obj_rec_t *o = cd__obj(obj);
        atomic_fetch_add_explicit(&o->nwaiters, 1, CD_RELAXED);
        cd__st(&o->contended, cd__ld(&o->contended) + 1);
    }
    cd__st(&t->waiting_on, obj);
    cd__st(&t->wait_timed, 0);
    cd__st(&t->what, label);
    cd__st(&t->wake_ns, wake_ns);
    cd__st(&t->wait_seq, cd__ld(&t->wait_seq) + 1);
    cd__st(&t->since_ns, cd_reg_elapsed_ns());
    cd__st(&t->state, CD_T_PARKED);
    leave_worker(self);
    if (cd__tracing())
        cd__trace_emit(self, CD_OP_PARK, obj, 0, label, site);
}

/* A task that was parked on an object stops counting as its waiter. */
static void stop_waiting(cd_thread_rec_t *t)
{
    int obj = cd__ld(&t->waiting_on);
    if (obj && obj != cd__ld(&t->worker) && cd__ld(&t->state) == CD_T_PARKED)
        atomic_fetch_sub_explicit(&cd__obj(obj)->nwaiters, 1, CD_RELAXED);
}

void cd__op_ready(int task)
{
    cd_thread_rec_t *t = cd__rec(task);
    int worker = cd__ld(&t->worker);

    stop_waiting(t);
    cd__st(&t->what, NULL);
    cd__st(&t->wake_ns, 0);
    cd__st(&t->waiting_on, worker);
    cd__st(&t->wait_timed, 0);
    cd__st(&t->wait_seq, cd__ld(&t->wait_seq) + 1);
    cd__st(&t->since_ns, cd_reg_elapsed_ns());
    cd__st(&t->state, CD_T_READY);
    cd__op_note(task, CD_OP_READY, worker, 0, (cd_site_t){ 0 });
}

void cd__op_resume(int task)
{
    cd_thread_rec_t *t = cd__rec(task);
    int worker = cd__ld(&t->worker);

    /* Usually it was ready; a task the run's abort resumes may still be
     * parked. */
    stop_waiting(t);
    cd__st(&cd__obj(worker)->owner, task);
    cd__st(&t->what, NULL);
    cd__st(&t->wake_ns, 0);
    cd__st(&t->waiting_on, 0);
    cd__st(&t->since_ns, cd_reg_elapsed_ns());
    cd__st(&t->state, CD_T_RUNNING);
    cd__op_note(task, CD_OP_RESUME, worker, 0, (cd_site_t){ 0 });
}

void cd__op_task_exit(int self)
{
    cd_thread_rec_t *t = cd__rec(self);

    cd__op_begin(self, CD_OP_EXIT, 0, 0, NULL, (cd_site_t){ 0 });
    cd__st(&t->since_ns, cd_reg_elapsed_ns());
    cd__st(&t->state, CD_T_DONE);
    leave_worker(self);
}

void cd__op_task_dropped(int task)
{
    cd_thread_rec_t *t = cd__rec(task);

    cd__op_note(task, CD_OP_ABORT, 0, 0, (cd_site_t){ 0 });
    cd__st(&t->waiting_on, 0);
    cd__st(&t->since_ns, cd_reg_elapsed_ns());
    cd__st(&t->state, CD_T_ABORTED);
}
