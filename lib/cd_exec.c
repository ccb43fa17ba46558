/*
 * cd_exec.c - workers, tasks as coroutines, timers.
 *
 * Tasks are coroutines: each has its own stack, and cd__ctx_switch
 * (cd_ctx.h: a few instructions on x86-64, no system call) moves a worker
 * thread between its scheduler loop and a task.
 * Only a task's own worker ever switches into it, so a task that is woken
 * (made ready) while it is still switching out cannot be resumed too early:
 * its worker is busy running it. One executor-wide lock guards the run
 * queues, timers and task lists; each worker sleeps on its own condition
 * variable.
 *
 * The sanitizers are told about every switch: ThreadSanitizer sees each
 * task as a fiber (switches synchronise, as they do: tasks on one worker
 * run one after another), AddressSanitizer learns which stack is in use.
 */
#define _GNU_SOURCE /* pipe2 */

#include "cd_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cd_ctx.h"
#include "cd_op.h"
#include "cd_thread.h"

#if defined(__SANITIZE_ADDRESS__)
#define CD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CD_ASAN 1
#endif
#endif
#ifdef CD_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

/* Demo tasks need little stack; sanitizers make frames bigger. */
#define TASK_STACK_BYTES (256 * 1024)
#define WORKER_STACK_BYTES (256 * 1024)

enum where { Q_NONE, Q_READY, Q_TIMERS, Q_IO };

typedef struct worker worker_t;

struct cd_task {
    int id;
    cd_task_fn fn;
    void *arg;
    worker_t *w;
    cd__ctx_t ctx;
    char *stack;             /* cd__ctx_stack_new's: a guard page below */
    size_t stack_size;
    /* Touched only on the worker's thread (or before it started). */
    int started, finished, aborted, cancel;
    /* Under the executor's lock. */
    int where;
    int64_t wake_at;         /* timers: deadline on the run's clock */
    const char *what;        /* timers: what it awaits */
    int io_fd;               /* I/O: the descriptor it awaits (Q_IO) */
    /* I/O in memory: what says it may go on (NULL: io_fd's poll does). */
    int (*io_check)(void *);
    void *io_arg;
    int cancel_req;          /* a scope cancelled it: its next await ends it */
    int parked;              /* between cd__task_park's switch out and in */
    cd__task_end_fn on_end;  /* told when it ends (scopes), or NULL */
    void *end_arg;
    short io_events;         /* I/O: POLLIN or POLLOUT */
    cd_task_t *prev, *next;  /* in the ready queue or the timer list */
    cd_task_t *all_prev, *all_next; /* every task of the worker */
#ifdef CD_TSAN
    void *fiber;
#endif
#ifdef CD_ASAN
    void *fake_stack;
#endif
};

typedef struct list {
    cd_task_t *head, *tail;
} list_t;

struct worker {
    cd_exec_t *e;
    int index, obj;
    cd__osthread_t th;
    pthread_cond_t cond;
    /* Under the executor's lock. */
    list_t ready, timers, io;
    cd_task_t *all;
    /* Tasks awaiting a descriptor: how many, and room to poll them all
     * (plus the wake pipe). polling: the worker sleeps in poll(), so a
     * wake-up must go through the pipe, not the condition variable. */
    int nio, pfd_cap, polling;
    struct pollfd *pfd;
    int wake[2]; /* a pipe: written to end a free run's poll early */
    /* Only on the worker's own thread. */
    cd__ctx_t sched;
    cd_task_t *current;
    /* Under the controlled scheduler the worker thread is a participant
     * with a registry thread record of its own (0 otherwise). */
    int sched_id;
    int finished;
    /* Controlled runs: the timers offered to the scheduler while the
     * worker is idle (one per task at most), and the one it ended. */
    cd__alarm_t *alarms;
    int fired;
#ifdef CD_TSAN
    void *fiber;
#endif
#ifdef CD_ASAN
    void *fake_stack;
    const void *stack_bottom; /* the worker thread's own stack */
    size_t stack_size;
#endif
};

struct cd_exec {
    pthread_mutex_t lock;
    int nworkers;
    worker_t *w;
    /* Under lock. */
    int go, stop;      /* the start gate; stop: workers could not start */
    int next_rr;
    int live;          /* tasks not yet ended */
    int aborted_tasks; /* tasks the run's abort ended */
    int ran;           /* cd_exec_run was called */
    cd__offload_t *offload; /* the offload pool, once started (cd_scope.c) */
#ifdef CD_TSAN
    /* Ended tasks whose fiber and stack are not given back yet (bury). */
    struct cd_task *dead;
    int ndead;
#endif
};

/* The worker this thread is, or NULL. */
static _Thread_local worker_t *tl_worker;

/* ================================= lists ================================= */

/* Caller holds the executor's lock (for all list helpers). */
static void push_back(list_t *l, cd_task_t *t, int where)
{
    t->prev = l->tail;
    t->next = NULL;
    if (l->tail)
        l->tail->next = t;
    else
        l->head = t;
    l->tail = t;
    t->where = where;
}

static void unlink_task(cd_task_t *t)
{
    list_t *l = t->where == Q_READY ? &t->w->ready
              : t->where == Q_TIMERS ? &t->w->timers
              : t->where == Q_IO ? &t->w->io : NULL;
    if (!l)
        return;
    if (t->where == Q_IO) {
        t->w->nio--;
        if (!t->io_check)
            atomic_fetch_sub_explicit(&cd__reg.sched.io_waits, 1,
                                      memory_order_relaxed);
    }
    if (t->prev)
        t->prev->next = t->next;
    else
        l->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        l->tail = t->prev;
    t->prev = t->next = NULL;
    t->where = Q_NONE;
}

static cd_task_t *pop_front(list_t *l)
{
    cd_task_t *t = l->head;
    if (t)
        unlink_task(t);
    return t;
}

/* Keeps timers sorted by deadline; equal deadlines stay in arrival order,
 * so that runs are repeatable. */
static void insert_timer(worker_t *w, cd_task_t *t)
{
    cd_task_t *after = w->timers.tail;
    while (after && after->wake_at > t->wake_at)
        after = after->prev;
    t->where = Q_TIMERS;
    t->prev = after;
    t->next = after ? after->next : w->timers.head;
    if (t->next)
        t->next->prev = t;
    else
        w->timers.tail = t;
    if (after)
        after->next = t;
    else
        w->timers.head = t;
}

/* Tells worker w that it has something to do: its condition variable,
 * or its pipe while it sleeps in poll(). Caller holds the lock. */
static void kick(worker_t *w)
{
    CD_CHECK(pthread_cond_signal(&w->cond));
    if (w->polling) {
        char byte = 1;
        /* A full pipe already says "wake up": nothing is lost. */
        if (write(w->wake[1], &byte, 1) < 0 && errno != EAGAIN)
            cd__check_failed("write to the wake pipe", errno, __FILE__,
                             __LINE__);
    }
}

/* ========================== stacks and switching ========================= */

/* Stacks of ended tasks kept for the next ones: an exploration makes
 * thousands of runs a second, and a mapping made and unmade for every
 * task (with the page faults of a fresh one) costs more than the run.
 * Under ThreadSanitizer each stack is unmapped as before, so that its
 * record of a dead task's accesses goes with it. */
#define STACKS_KEPT 64

#ifndef CD_TSAN
static struct {
    pthread_mutex_t lock;
    int n;
    void *stack[STACKS_KEPT];
} stacks = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *stack_reuse(void)
{
    void *p = NULL;
    CD_CHECK(pthread_mutex_lock(&stacks.lock));
    if (stacks.n > 0)
        p = stacks.stack[--stacks.n];
    CD_CHECK(pthread_mutex_unlock(&stacks.lock));
    return p;
}

/* 1 if p was kept, 0 if the caller must unmap it. */
static int stack_keep(void *p)
{
    int kept = 0;
    CD_CHECK(pthread_mutex_lock(&stacks.lock));
    if (stacks.n < STACKS_KEPT) {
        stacks.stack[stacks.n++] = p;
        kept = 1;
    }
    CD_CHECK(pthread_mutex_unlock(&stacks.lock));
    return kept;
}
#else
static void *stack_reuse(void) { return NULL; }
static int stack_keep(void *p) { (void)p; return 0; }
#endif

static int stack_alloc(cd_task_t *t)
{
    void *p = stack_reuse();
    if (!p && !(p = cd__ctx_stack_new(TASK_STACK_BYTES)))
        return -ENOMEM;
    t->stack = p;
    t->stack_size = TASK_STACK_BYTES;
    return 0;
}

static void stack_free(cd_task_t *t)
{
#ifdef CD_ASAN
    /* Frames of an aborted task leave poisoned redzones behind; a later
     * task on this stack must not inherit them. */
    __asan_unpoison_memory_region(t->stack, t->stack_size);
#endif
    if (!stack_keep(t->stack))
        cd__ctx_stack_free(t->stack, t->stack_size);
}

/* Worker -> task. Runs on the worker's scheduler stack. */
static void switch_into(worker_t *w, cd_task_t *t)
{
#ifdef CD_TSAN
    __tsan_switch_to_fiber(t->fiber, 0);
#endif
#ifdef CD_ASAN
    __sanitizer_start_switch_fiber(&w->fake_stack, t->stack, t->stack_size);
#endif
    cd__ctx_switch(&w->sched, &t->ctx);
#ifdef CD_ASAN
    __sanitizer_finish_switch_fiber(w->fake_stack, NULL, NULL);
#endif
}

/* Task -> worker, to be resumed later. Runs on the task's stack. */
static void switch_out(cd_task_t *t)
{
    worker_t *w = t->w;
#ifdef CD_TSAN
    __tsan_switch_to_fiber(w->fiber, 0);
#endif
#ifdef CD_ASAN
    __sanitizer_start_switch_fiber(&t->fake_stack, w->stack_bottom,
                                   w->stack_size);
#endif
    cd__ctx_switch(&t->ctx, &w->sched);
#ifdef CD_ASAN
    __sanitizer_finish_switch_fiber(t->fake_stack, &w->stack_bottom,
                                    &w->stack_size);
#endif
}

/* Task -> worker for good: the worker frees this stack afterwards. */
static _Noreturn void leave_for_good(cd_task_t *t)
{
    worker_t *w = t->w;
    /* Its scope learns it ended while its frame still exists, before the
     * worker can free it. */
    if (t->on_end)
        t->on_end(t->end_arg, t, t->aborted);
    t->finished = 1;
#ifdef CD_TSAN
    __tsan_switch_to_fiber(w->fiber, 0);
#endif
#ifdef CD_ASAN
    __sanitizer_start_switch_fiber(NULL, w->stack_bottom, w->stack_size);
#endif
    /* Through cd__ctx_switch like every other switch (a call out of this
     * file): ThreadSanitizer's shadow call stack of the worker must see
     * the same function entries and exits as when a task parks. */
    cd__ctx_switch(&t->ctx, &w->sched);
    cd__check_failed("a finished task was resumed", EINVAL, __FILE__,
                     __LINE__);
    abort();
}

static int cancel_requested(cd_task_t *t)
{
    CD_CHECK(pthread_mutex_lock(&t->w->e->lock));
    int c = t->cancel_req;
    CD_CHECK(pthread_mutex_unlock(&t->w->e->lock));
    return c;
}

static void task_entry(void)
{
    worker_t *w = tl_worker;
    cd_task_t *t = w->current;
#ifdef CD_ASAN
    __sanitizer_finish_switch_fiber(NULL, &w->stack_bottom, &w->stack_size);
#endif
    cd__op_begin(t->id, CD_OP_START, 0, 0, NULL, (cd_site_t){ 0 });
    /* Cancelled by its scope before it ever ran: it ends at once, as it
     * would at its first await. */
    if (cancel_requested(t))
        cd__op_abort_self(t->id);
    t->fn(t->arg);
    cd__op_task_exit(t->id);
    leave_for_good(t);
}

/* The aborted running task gives its worker back for good (installed as
 * the choke point's task-abort hook on every worker thread). */
static void abort_task(void)
{
    worker_t *w = tl_worker;
    cd_task_t *t = w ? w->current : NULL;
    if (!t)
        cd__check_failed("abort of a task outside a worker", EINVAL,
                         __FILE__, __LINE__);
    t->aborted = 1;
    leave_for_good(t);
}

/* ================================ workers ================================ */

/* Gives back an ended task's fiber, stack and record. */
static void task_free(cd_task_t *t)
{
#ifdef CD_TSAN
    __tsan_destroy_fiber(t->fiber);
#endif
    stack_free(t);
    free(t);
}

#ifdef CD_TSAN
/* Under ThreadSanitizer, giving a task back costs a worker about half a
 * millisecond (the fiber's state, the stack's shadow, and unmapping the
 * stack, which on a busy machine waits for the other CPUs to flush their
 * TLBs): paid as each task ends, it would come out of the loop's answer
 * time (demos/offload.c). So the dead are kept, and given back together
 * once the run is over (cd_exec_destroy), or when DEAD_KEPT of them wait
 * (a server that runs for hours). */
#define DEAD_KEPT 1024

static void bury_all(cd_exec_t *e)
{
    while (e->dead) {
        cd_task_t *t = e->dead;
        e->dead = t->all_next;
        task_free(t);
    }
    e->ndead = 0;
}

static void bury(cd_exec_t *e, cd_task_t *t)
{
    t->all_next = e->dead;
    e->dead = t;
    if (++e->ndead >= DEAD_KEPT)
        bury_all(e);
}
#else
static void bury(cd_exec_t *e, cd_task_t *t)
{
    (void)e;
    task_free(t);
}
#endif

/* Frees an ended (or never started) task. Caller holds the lock. */
static void reap(cd_exec_t *e, cd_task_t *t)
{
    worker_t *w = t->w;
    unlink_task(t);
    if (t->all_prev)
        t->all_prev->all_next = t->all_next;
    else
        w->all = t->all_next;
    if (t->all_next)
        t->all_next->all_prev = t->all_prev;
    e->live--;
    /* A task its scope cancelled ended as asked: not the run's abort. */
    if (t->aborted && !t->cancel_req)
        e->aborted_tasks++;
    if (e->live == 0)
        for (int i = 0; i < e->nworkers; i++)
            kick(&e->w[i]);
    bury(e, t);
}

/* Runs t until it parks or ends. Called on w's thread without the lock. */
static void run_task(worker_t *w, cd_task_t *t)
{
    w->current = t;
    cd__self_set(t->id, CD_SELF_TASK);
    cd__op_resume(t->id);
    t->started = 1;
    switch_into(w, t);
    cd__self_set(0, CD_SELF_PLAIN);
    w->current = NULL;
}

static void timer_ends(worker_t *w, cd_task_t *t)
{
    unlink_task(t);
    cd__op_ready(t->id);
    push_back(&w->ready, t, Q_READY);
}

/* Moves expired timers to the ready queue. Caller holds the lock. In a
 * free run the clock says which; under the controlled scheduler only the
 * one the scheduler ended (w->fired): there time orders nothing, and a
 * task's await may end before another's that is due sooner. */
static void expire_timers(worker_t *w)
{
    if (w->sched_id) {
        for (cd_task_t *t = w->timers.head; w->fired && t; t = t->next)
            if (t->id == w->fired) {
                timer_ends(w, t);
                break;
            }
        w->fired = 0;
        return;
    }
    int64_t now = cd_reg_elapsed_ns();
    while (w->timers.head && w->timers.head->wake_at <= now)
        timer_ends(w, w->timers.head);
}

/* Fills w->pfd with the descriptors its tasks await, in the order of
 * w->io (-1, which poll() passes over, for a wait in memory); returns
 * how many, and in *fds how many are descriptors. Caller holds the lock. */
static int fill_pfd(worker_t *w, int *fds)
{
    int n = 0;
    *fds = 0;
    for (cd_task_t *t = w->io.head; t; t = t->next) {
        w->pfd[n++] = (struct pollfd){ .fd = t->io_check ? -1 : t->io_fd,
                                       .events = t->io_events };
        *fds += !t->io_check;
    }
    return n;
}

/* Moves the tasks whose descriptor is ready (or failed: the task's own
 * call will see the error) to the ready queue, in the order they began to
 * await. A poll that does not wait: in a controlled run only this decides
 * when an I/O await ends, at the worker's turn, so a run is repeatable as
 * long as the other ends of its sockets are participants too (a loopback
 * pair). Returns how many. Caller holds the lock. */
static int expire_io(worker_t *w)
{
    int fds, n = fill_pfd(w, &fds), moved = 0;
    if (n == 0 || (fds > 0 && poll(w->pfd, (nfds_t)n, 0) < 0))
        return 0;
    int i = 0;
    for (cd_task_t *t = w->io.head, *next; t; t = next, i++) {
        next = t->next;
        if (t->io_check ? t->io_check(t->io_arg)
                        : fds > 0 && w->pfd[i].revents) {
            timer_ends(w, t);
            moved++;
        }
    }
    return moved;
}

/* Whether a descriptor or in-memory connection some task awaits is ready
 * (a look, no move). */
static int io_ready(worker_t *w)
{
    int fds, n = fill_pfd(w, &fds);
    for (cd_task_t *t = w->io.head; t; t = t->next)
        if (t->io_check && t->io_check(t->io_arg))
            return 1;
    return fds > 0 && poll(w->pfd, (nfds_t)n, 0) > 0;
}

/* Offers the worker's timers to the scheduler; returns how many. */
static int fill_alarms(worker_t *w)
{
    int n = 0;
    for (cd_task_t *t = w->timers.head; t && n < CD_MAX_THREADS; t = t->next)
        w->alarms[n++] = (cd__alarm_t){ .id = t->id, .at_ns = t->wake_at,
                                        .what = t->what };
    return n;
}

/* Whether an idle worker has something to do (controlled runs). */
static int worker_has_work(void *arg)
{
    worker_t *w = arg;
    return w->ready.head || w->e->stop || w->e->live == 0 ||
           cd_reg_aborted() || io_ready(w);
}

/* A free run's idle wait while tasks await descriptors: poll() them and
 * the wake pipe, until one is ready, a wake-up comes, the next timer is
 * due or a slice has passed (to look at the run's abort). Caller holds
 * the lock; it is let go while polling. */
static void idle_poll(worker_t *w, int64_t now)
{
    int64_t wait_ns = CD__WAIT_SLICE_NS;
    if (w->timers.head && w->timers.head->wake_at - now < wait_ns)
        wait_ns = w->timers.head->wake_at - now;
    if (wait_ns < 0)
        wait_ns = 0;
    int fds, n = fill_pfd(w, &fds);
    w->pfd[n++] = (struct pollfd){ .fd = w->wake[0], .events = POLLIN };
    w->polling = 1;
    CD_CHECK(pthread_mutex_unlock(&w->e->lock));
    /* Round up: a timer due in 0.4 ms must not make a busy loop. */
    int ms = (int)((wait_ns + 999999) / 1000000);
    if (poll(w->pfd, (nfds_t)n, ms) < 0 && errno != EINTR)
        cd__check_failed("poll", errno, __FILE__, __LINE__);
    char drain_buf[64];
    while (read(w->wake[0], drain_buf, sizeof drain_buf) > 0)
        ;
    CD_CHECK(pthread_mutex_lock(&w->e->lock));
    w->polling = 0;
}

/* Waits until there is work, the next timer is due or the run is aborted
 * (a wait of the choke point's loop: parked with the scheduler in a
 * controlled run, else on the worker's condition variable). In a
 * controlled run the timers are alarms that the scheduler ends one by
 * one, in any order (w->fired). The worker is not shown waiting: it has
 * no record in a free run, and in a controlled one it stays "running"
 * between tasks. Caller holds the lock. */
static void idle(worker_t *w)
{
    int64_t now = cd_reg_elapsed_ns();
    cd__wait_t wait = { .ready = worker_has_work, .cond = &w->cond,
                        .lock = &w->e->lock, .arg = w };

    if (w->io.head && !w->sched_id) {
        idle_poll(w, now);
        return;
    }
    if (w->timers.head && w->sched_id) {
        wait.alarms = w->alarms;
        wait.nalarms = fill_alarms(w);
        wait.fired = &w->fired;
    } else if (w->timers.head) {
        if (w->timers.head->wake_at <= now)
            return;
        /* Timers run on the run's clock, as the wait's timeout does. */
        wait.timed = 1;
        wait.timeout_ns = w->timers.head->wake_at - now;
    }
    cd__op_wait(w->sched_id, 0, &wait);
}

/* After an abort: ends every task of w. A task that ran is resumed once
 * more with `cancel` set, so that it unwinds itself on its own stack and
 * thread (releasing its locks where it took them); one that never ran is
 * dropped. Caller holds the lock. */
static void drain(worker_t *w)
{
    cd_exec_t *e = w->e;
    while (w->all) {
        cd_task_t *t = w->all;
        unlink_task(t);
        if (!t->started) {
            cd__op_task_dropped(t->id);
            t->aborted = 1;
        } else {
            CD_CHECK(pthread_mutex_unlock(&e->lock));
            while (!t->finished) {
                t->cancel = 1;
                run_task(w, t);
            }
            CD_CHECK(pthread_mutex_lock(&e->lock));
        }
        reap(e, t);
    }
}

/* The start gate is open (controlled runs). */
static int exec_started(void *arg)
{
    return ((cd_exec_t *)arg)->go;
}

/* A worker thread has finished (controlled runs: the join's condition). */
static int worker_finished(void *arg)
{
    return ((worker_t *)arg)->finished;
}

static void *worker_main(void *p)
{
    worker_t *w = p;
    cd_exec_t *e = w->e;

    tl_worker = w;
    cd__self_set(0, CD_SELF_PLAIN); /* between tasks the worker is nobody */
    cd__op_on_task_abort(abort_task);
#ifdef CD_TSAN
    w->fiber = __tsan_get_current_fiber();
#endif
    if (w->sched_id) {
        cd__sched_bind(w->sched_id);
        cd__sched_enter(w->sched_id);
        cd__st(&cd__rec(w->sched_id)->state, CD_T_RUNNING);
    }
    CD_CHECK(pthread_mutex_lock(&e->lock));
    while (!e->go) {
        if (w->sched_id) {
            CD_CHECK(pthread_mutex_unlock(&e->lock));
            cd__sched_block(w->sched_id, exec_started, e, 0);
            CD_CHECK(pthread_mutex_lock(&e->lock));
            continue;
        }
        CD_CHECK(pthread_cond_wait(&w->cond, &e->lock));
    }
    while (!e->stop && !cd_reg_aborted()) {
        expire_timers(w);
        expire_io(w);
        cd_task_t *t = pop_front(&w->ready);
        if (t) {
            CD_CHECK(pthread_mutex_unlock(&e->lock));
            run_task(w, t);
            CD_CHECK(pthread_mutex_lock(&e->lock));
            if (t->finished)
                reap(e, t);
            continue;
        }
        if (e->live == 0)
            break;
        idle(w);
    }
    drain(w);
    w->finished = 1;
    CD_CHECK(pthread_mutex_unlock(&e->lock));
    tl_worker = NULL;
    if (w->sched_id) {
        cd__st(&cd__rec(w->sched_id)->state, CD_T_DONE);
        cd__sched_exit(w->sched_id);
    }
    return NULL;
}

/* ================================== API ================================== */

int cd_exec_create(cd_exec_t **out, int nworkers)
{
    if (nworkers < 1 || nworkers > CD_EXEC_MAX_WORKERS)
        return -EINVAL;
    cd_exec_t *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    e->w = calloc((size_t)nworkers, sizeof *e->w);
    if (!e->w) {
        free(e);
        return -ENOMEM;
    }
    CD_CHECK(pthread_mutex_init(&e->lock, NULL));
    pthread_condattr_t ca;
    CD_CHECK(pthread_condattr_init(&ca));
    CD_CHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
    for (; e->nworkers < nworkers; e->nworkers++) {
        worker_t *w = &e->w[e->nworkers];
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "worker-%d", e->nworkers + 1);
        int id = cd__reg_add_object(name, CD_OBJ_WORKER, w, NULL);
        if (id < 0) {
            CD_CHECK(pthread_condattr_destroy(&ca));
            cd_exec_destroy(e);
            return id;
        }
        w->e = e;
        w->index = e->nworkers;
        w->obj = id;
        w->alarms = calloc(CD_MAX_THREADS, sizeof *w->alarms);
        if (!w->alarms) {
            cd__reg_remove_object(id);
            CD_CHECK(pthread_condattr_destroy(&ca));
            cd_exec_destroy(e);
            return -ENOMEM;
        }
        CD_CHECK(pthread_cond_init(&w->cond, &ca));
        w->wake[0] = w->wake[1] = -1;
        if (pipe2(w->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
            int err = -errno;
            CD_CHECK(pthread_condattr_destroy(&ca));
            e->nworkers++; /* its cond and object are made: destroy them */
            cd_exec_destroy(e);
            return err;
        }
    }
    CD_CHECK(pthread_condattr_destroy(&ca));
    *out = e;
    return 0;
}

void cd_exec_destroy(cd_exec_t *e)
{
    if (!e)
        return;
    CD_CHECK(pthread_mutex_lock(&e->lock));
    for (int i = 0; i < e->nworkers; i++) {
        worker_t *w = &e->w[i];
        while (w->all) { /* never ran: cd_exec_run was not called */
            cd_task_t *t = w->all;
            cd__op_task_dropped(t->id);
            t->aborted = 1;
            reap(e, t);
        }
    }
    CD_CHECK(pthread_mutex_unlock(&e->lock));
    for (int i = 0; i < e->nworkers; i++) {
        CD_CHECK(pthread_cond_destroy(&e->w[i].cond));
        cd__reg_remove_object(e->w[i].obj);
        free(e->w[i].alarms);
        free(e->w[i].pfd);
        for (int k = 0; k < 2; k++)
            if (e->w[i].wake[k] >= 0)
                close(e->w[i].wake[k]);
    }
#ifdef CD_TSAN
    bury_all(e);
#endif
    cd__offload_stop(e->offload);
    CD_CHECK(pthread_mutex_destroy(&e->lock));
    free(e->w);
    free(e);
}

static cd_task_t *task_new(worker_t *w, const char *name, cd_task_fn fn,
                           void *arg, int *err)
{
    cd_task_t *t = calloc(1, sizeof *t);
    if (!t || stack_alloc(t) != 0) {
        free(t);
        *err = -ENOMEM;
        return NULL;
    }
    int id = cd__reg_add_thread(name);
    if (id < 0) {
        stack_free(t);
        free(t);
        *err = id;
        return NULL;
    }
    t->id = id;
    t->fn = fn;
    t->arg = arg;
    t->w = w;
    cd__ctx_make(&t->ctx, t->stack, t->stack_size, task_entry);
#ifdef CD_TSAN
    t->fiber = __tsan_create_fiber(0);
    __tsan_set_fiber_name(t->fiber, cd_reg_thread_name(id));
#endif
    cd__st(&cd__rec(id)->worker, w->obj);
    return t;
}

int cd_exec_spawn_on(cd_exec_t *e, int worker, const char *name,
                     cd_task_fn fn, void *arg)
{
    return cd__exec_spawn_hooked(e, worker, name, fn, arg, NULL, NULL, NULL);
}

int cd__exec_spawn_hooked(cd_exec_t *e, int worker, const char *name,
                          cd_task_fn fn, void *arg, cd__task_end_fn on_end,
                          void *end_arg, cd_task_t **out)
{
    int err = 0;
    if (!e || !fn || worker < 0 || worker >= e->nworkers)
        return -EINVAL;
    /* The spawner first: a thread seen for the first time is registered
     * now, so that the run's first one is still called "main". */
    int self = cd__self();
    worker_t *w = &e->w[worker];
    cd_task_t *t = task_new(w, name, fn, arg, &err);
    if (!t)
        return err;
    /* Once queued, t may run and be freed on its worker at any moment. */
    int id = t->id;
    t->on_end = on_end;
    t->end_arg = end_arg;
    if (out)
        *out = t;
    if (self)
        cd__op_begin(self, CD_OP_TASK_SPAWN, id, 0, NULL, (cd_site_t){ 0 });
    CD_CHECK(pthread_mutex_lock(&e->lock));
    cd__op_ready(t->id);
    t->all_next = w->all;
    if (w->all)
        w->all->all_prev = t;
    w->all = t;
    push_back(&w->ready, t, Q_READY);
    e->live++;
    kick(w);
    CD_CHECK(pthread_mutex_unlock(&e->lock));
    return id;
}

int cd__exec_next_worker(cd_exec_t *e)
{
    CD_CHECK(pthread_mutex_lock(&e->lock));
    int worker = e->next_rr;
    e->next_rr = (e->next_rr + 1) % e->nworkers;
    CD_CHECK(pthread_mutex_unlock(&e->lock));
    return worker;
}

int cd_exec_spawn(cd_exec_t *e, const char *name, cd_task_fn fn, void *arg)
{
    if (!e)
        return -EINVAL;
    return cd_exec_spawn_on(e, cd__exec_next_worker(e), name, fn, arg);
}

int cd_exec_run(cd_exec_t *e)
{
    int started = 0, rc = 0;

    if (!e || e->ran)
        return -EINVAL;
    e->ran = 1;
    /* A controlled run schedules the workers like any thread: each gets a
     * thread record and a turn. */
    for (int i = 0; cd_sched_active() && i < e->nworkers; i++) {
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "worker-%d", i + 1);
        int id = cd__reg_add_thread(name);
        e->w[i].sched_id = id > 0 ? id : 0;
        cd__sched_register(e->w[i].sched_id);
    }
    for (; started < e->nworkers; started++) {
        rc = -cd__thread_start(&e->w[started].th, WORKER_STACK_BYTES,
                               worker_main, &e->w[started]);
        if (rc != 0)
            break;
    }
    /* Open the gate only now: if a worker is missing, no task has run yet
     * and all of them can simply be dropped. */
    CD_CHECK(pthread_mutex_lock(&e->lock));
    e->go = 1;
    e->stop = started < e->nworkers;
    for (int i = 0; i < started; i++)
        CD_CHECK(pthread_cond_signal(&e->w[i].cond));
    CD_CHECK(pthread_mutex_unlock(&e->lock));
    for (int i = 0; i < started; i++) {
        if (e->w[i].sched_id)
            cd__sched_block(cd__self(), worker_finished, &e->w[i], 0);
        cd__thread_join(&e->w[i].th);
    }
    if (started < e->nworkers) {
        CD_CHECK(pthread_mutex_lock(&e->lock));
        for (int i = started; i < e->nworkers; i++)
            drain(&e->w[i]); /* nothing there ever started */
        CD_CHECK(pthread_mutex_unlock(&e->lock));
        return -rc;
    }
    return e->aborted_tasks;
}

int cd_exec_workers(const cd_exec_t *e) { return e->nworkers; }

int cd_exec_worker_obj(const cd_exec_t *e, int i)
{
    return i >= 0 && i < e->nworkers ? e->w[i].obj : 0;
}

int cd_exec_current_worker(void)
{
    return tl_worker && tl_worker->current ? tl_worker->index : -1;
}

/* ============================ tasks' side ================================ */

cd_task_t *cd__task_current(void)
{
    return tl_worker ? tl_worker->current : NULL;
}

int cd__task_id(const cd_task_t *t) { return t->id; }

int cd__task_park(cd_task_t *t)
{
    /* A scope's cancel that came before the park: this await is the
     * next one, and it ends the task without waiting. */
    cd_exec_t *e = t->w->e;
    CD_CHECK(pthread_mutex_lock(&e->lock));
    if (t->cancel_req) {
        CD_CHECK(pthread_mutex_unlock(&e->lock));
        return -ECANCELED;
    }
    t->parked = 1;
    CD_CHECK(pthread_mutex_unlock(&e->lock));
    switch_out(t);
    CD_CHECK(pthread_mutex_lock(&e->lock));
    t->parked = 0;
    int cancelled = t->cancel || t->cancel_req;
    CD_CHECK(pthread_mutex_unlock(&e->lock));
    return cancelled ? -ECANCELED : 0;
}

int cd__task_park_locked(cd_task_t *t, int self, int obj,
                         pthread_mutex_t *lock, cd_site_t site)
{
    /* Recorded before the unlock: once a waker can see us, we are
     * parked. */
    cd__op_park(self, obj, NULL, 0, site);
    CD_CHECK(pthread_mutex_unlock(lock));
    int rc = cd__task_park(t);
    CD_CHECK(pthread_mutex_lock(lock));
    return rc;
}

void cd__task_park_slot(cd_task_t **slot, cd_task_t *t, int self, int obj,
                        pthread_mutex_t *lock, cd_site_t site)
{
    *slot = t;
    if (cd__task_park_locked(t, self, obj, lock, site) != 0) {
        if (*slot == t)
            *slot = NULL;
        CD_CHECK(pthread_mutex_unlock(lock));
        cd__op_abort_self(self);
    }
}

cd_exec_t *cd__task_exec(const cd_task_t *t) { return t->w->e; }

void *cd__task_end_arg(const cd_task_t *t, cd__task_end_fn fn)
{
    return t->on_end == fn ? t->end_arg : NULL;
}

cd__offload_t **cd__exec_offload_slot(cd_exec_t *e) { return &e->offload; }

void cd__exec_lock(cd_exec_t *e, int lock)
{
    if (lock)
        CD_CHECK(pthread_mutex_lock(&e->lock));
    else
        CD_CHECK(pthread_mutex_unlock(&e->lock));
}

void cd__task_cancel(cd_task_t *t)
{
    cd_exec_t *e = t->w->e;
    CD_CHECK(pthread_mutex_lock(&e->lock));
    t->cancel_req = 1;
    /* Parked on a timer or a descriptor: it goes on now, to end. Parked
     * on a lock or a scope (no list of ours), its waker's list holds it:
     * it is made ready here all the same, and its park sees the cancel.
     * Running, or ready already: its next await will. */
    if (t->where == Q_TIMERS || t->where == Q_IO)
        unlink_task(t);
    if (t->where == Q_NONE && t->parked) {
        cd__op_ready(t->id);
        push_back(&t->w->ready, t, Q_READY);
        kick(t->w);
    }
    CD_CHECK(pthread_mutex_unlock(&e->lock));
}

void cd__task_wake(cd_task_t *t)
{
    cd_exec_t *e = t->w->e;
    CD_CHECK(pthread_mutex_lock(&e->lock));
    if (t->where == Q_NONE) {
        cd__op_ready(t->id);
        push_back(&t->w->ready, t, Q_READY);
        kick(t->w);
    }
    CD_CHECK(pthread_mutex_unlock(&e->lock));
}

/* Parks t on its worker's I/O list: for descriptor fd's events, or until
 * check(arg) (non-NULL: a wait in memory). */
static int await_io(cd_task_t *t, int fd, short events,
                    int (*check)(void *), void *arg)
{
    worker_t *w = t->w;
    CD_CHECK(pthread_mutex_lock(&w->e->lock));
    /* Room for every awaited descriptor and the wake pipe. */
    if (w->nio + 2 > w->pfd_cap) {
        int cap = w->pfd_cap ? w->pfd_cap * 2 : 16;
        struct pollfd *p = realloc(w->pfd, (size_t)cap * sizeof *p);
        if (!p) {
            CD_CHECK(pthread_mutex_unlock(&w->e->lock));
            return -ENOMEM;
        }
        w->pfd = p;
        w->pfd_cap = cap;
    }
    t->io_fd = fd;
    t->io_events = events;
    t->io_check = check;
    t->io_arg = arg;
    push_back(&w->io, t, Q_IO);
    w->nio++;
    if (!check) /* a kernel's readiness may be on its way: see cd_sched.c */
        atomic_fetch_add_explicit(&cd__reg.sched.io_waits, 1,
                                  memory_order_relaxed);
    CD_CHECK(pthread_mutex_unlock(&w->e->lock));
    return cd__task_park(t);
}

int cd__task_await_fd(cd_task_t *t, int fd, short events)
{
    return await_io(t, fd, events, NULL, NULL);
}

int cd__task_await_ready(cd_task_t *t, int (*ready)(void *), void *arg)
{
    return await_io(t, -1, 0, ready, arg);
}

void cd_await_latency_at(const char *what, int64_t usec, cd_site_t site)
{
    cd_task_t *t = cd__task_current();
    if (!t) {
        cd_latency_at(what, usec, site);
        return;
    }
    int64_t ns = usec * 1000 * cd_reg_latency_scale() / 1000;
    cd__op_begin(t->id, CD_OP_AWAIT, 0, ns / 1000, what, site);
    if (cd_reg_aborted())
        cd__op_abort_self(t->id);
    int64_t now = cd_reg_elapsed_ns();
    cd__op_park(t->id, 0, what, now + ns, site);
    CD_CHECK(pthread_mutex_lock(&t->w->e->lock));
    t->wake_at = now + ns;
    t->what = what;
    insert_timer(t->w, t);
    CD_CHECK(pthread_mutex_unlock(&t->w->e->lock));
    if (cd__task_park(t) != 0)
        cd__op_abort_self(t->id);
    if (cd__tracing())
        cd__trace_emit(t->id, CD_OP_WAKE, 0, 0, what, site);
}
