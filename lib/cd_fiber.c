/*
 * cd_fiber.c - the participants of a controlled run as coroutines on the
 * thread that began it (cd_fiber.h says why and when).
 *
 * Only the participant whose turn it is runs, on the root's OS thread; so,
 * as with threads, the scheduler's state needs no lock. What a thread has
 * of its own and a coroutine must carry: the lib thread-locals that say
 * who runs (cd__tls_t), errno, and its stack.
 */
#include "cd_fiber.h"

#include <errno.h>
#include <stdlib.h>

#include "cd_internal.h"

#define S (&cd__reg.sched)

/* As cd_thread's threads: the demos' threads need little. */
#define STACK_BYTES (256 * 1024)

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) ||        \
    defined(CD_TSAN)
#define NO_FIBERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NO_FIBERS 1
#endif
#endif

int cd__fiber_supported(void)
{
#ifdef NO_FIBERS
    /* The sanitizers would need every switch announced, and ThreadSanitizer
     * makes each coroutine's state in milliseconds: threads, as before. */
    return 0;
#else
    return 1;
#endif
}

int cd__fiber_run(void)
{
    return cd__sched_on() && S->cfg.fibers;
}

/* ============================ thread-locals ============================= */

static void tls_save(cd__tls_t *t)
{
    t->key = cd__self_key;
    t->rec = cd__self_rec;
    t->spawned = cd__self_spawned;
    t->sched_self = cd__sched_self;
    t->err = errno;
}

static void tls_load(const cd__tls_t *t)
{
    cd__self_key = t->key;
    cd__self_rec = t->rec;
    cd__self_spawned = t->spawned;
    cd__sched_self = t->sched_self;
    errno = t->err;
}

/* ============================== switching =============================== */

/* Where every coroutine starts: its participant is the one switched to. */
static void entry(void)
{
    int id = S->switch_to;
    cd_sched_thread_t *t = &S->th[id - 1];
    /* Nobody yet: the function binds its own id first (run_start). */
    tls_load(&(cd__tls_t){ 0 });
    t->fn(t->fn_arg);
    cd__fiber_end(id);
}

int cd__fiber_spawn(int id, void *(*fn)(void *), void *arg)
{
    cd_sched_thread_t *t = &S->th[id - 1];
    void *stack = S->nstacks > 0 ? S->stacks[--S->nstacks]
                                 : cd__ctx_stack_new(STACK_BYTES);
    if (!stack)
        return -ENOMEM;
    t->stack = stack;
    t->fn = fn;
    t->fn_arg = arg;
    t->fiber = 1;
    t->over = 0;
    t->ending = 0;
    cd__ctx_make(&t->ctx, stack, STACK_BYTES, entry);
    return 0;
}

void cd__fiber_switch(int from, int to)
{
    cd_sched_thread_t *me = &S->th[from - 1];
    tls_save(&me->tls);
    S->switch_to = to;
    cd__ctx_switch(&me->ctx, &S->th[to - 1].ctx);
    tls_load(&me->tls);
}

_Noreturn void cd__fiber_end(int self)
{
    cd_sched_thread_t *me = &S->th[self - 1];
    int to = S->current;
    if (S->draining || to <= 0 || to == self || S->th[to - 1].over)
        to = S->root;
    me->over = 1;
    S->switch_to = to;
    /* Its context is never resumed: the save goes nowhere that matters. */
    cd__ctx_switch(&me->ctx, &S->th[to - 1].ctx);
    abort(); /* not reached */
}

int cd__fiber_over(int id)
{
    cd_sched_thread_t *t = &S->th[id - 1];
    return !t->fiber || t->over;
}

/* The root resumes the next coroutine, in id order after the last one it
 * resumed, that has not ended. Returns 0 when none is left. */
static int resume_next(void)
{
    int high = S->high;
    for (int k = 1; k <= high; k++) {
        int id = (S->drive_at + k - 1) % high + 1;
        cd_sched_thread_t *t = &S->th[id - 1];
        if (t->fiber && !t->over && id != S->root) {
            S->drive_at = id;
            cd__fiber_switch(S->root, id);
            return 1;
        }
    }
    return 0;
}

int cd__fiber_self(void)
{
    int self = cd__sched_self;
    return cd__fiber_run() && self > 0 && self <= CD_MAX_THREADS &&
                   S->th[self - 1].fiber
               ? self
               : 0;
}

void cd__fiber_ending(void)
{
    int self = cd__fiber_self();
    if (self)
        S->th[self - 1].ending = 1;
}

int cd__fiber_is_ending(int id)
{
    return S->th[id - 1].ending;
}

void cd__fiber_yield(void)
{
    int self = cd__sched_self;
    if (self != S->root)
        cd__fiber_switch(self, S->root);
    else
        resume_next();
}

void cd__fiber_wait(int id)
{
    while (!cd__fiber_over(id))
        cd__fiber_yield();
}

void cd__fiber_reap(int id)
{
    cd_sched_thread_t *t = &S->th[id - 1];
    if (!t->fiber || !t->stack)
        return;
    S->stacks[S->nstacks++] = t->stack;
    t->stack = NULL;
}

void cd__fiber_finish(void)
{
    /* A coroutine nobody joined: let it go free to its end. */
    for (int id = 1; id <= S->high; id++)
        if (S->th[id - 1].fiber && !S->th[id - 1].over) {
            cd__sched_drain();
            while (resume_next())
                ;
            break;
        }
    for (int id = 1; id <= S->high; id++) {
        cd__fiber_reap(id);
        S->th[id - 1].fiber = 0;
    }
}

void cd__fiber_release(void)
{
    while (S->nstacks > 0)
        cd__ctx_stack_free(S->stacks[--S->nstacks], STACK_BYTES);
}
