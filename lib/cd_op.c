/*
 * cd_op.c - the choke point's slower state changes: waiting and aborting.
 */
#include "cd_op.h"

#include <pthread.h>
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

void cd__op_slow(int self, int op, int obj, int64_t arg, const char *label,
                 cd_site_t site)
{
    if ((cd__ld(&cd__reg.slow) & CD_SLOW_PAUSE) && cd_self_is_spawned())
        pause_here(self);
    if (cd__tracing())
        cd_trace_emit(self, op, obj, arg, label, site);
}

void cd__op_block(int self, int obj, int timed, cd_site_t site)
{
    cd_thread_rec_t *t = cd__rec(self);
    cd_obj_rec_t *o = cd__obj(obj);

    atomic_fetch_add_explicit(&o->nwaiters, 1, CD_RELAXED);
    cd__st(&o->contended, cd__ld(&o->contended) + 1);
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

_Noreturn void cd__op_abort_self(int self)
{
    cd_thread_rec_t *t = cd__rec(self);

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
    pthread_exit(NULL);
}
