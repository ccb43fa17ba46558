/*
 * cd_op.h - the choke point: every primitive operation passes through here.
 *
 * Each libconc primitive calls cd__op_begin() before it acts and one of
 * the cd__op_* state changes after (acquired, released, blocked, ...). In
 * the free-running mode these only record: the registry's record of the
 * thread and object, the trace (when on) and the lock-order graph. They are
 * the single place where a controlled scheduler takes its decisions, so a
 * new primitive must go through them and nowhere else.
 *
 * Internal to libconc. All functions expect self != 0 (a tracked thread);
 * callers skip the bookkeeping when the registry was full (self == 0).
 */
#ifndef CD_OP_H
#define CD_OP_H

#include "cd_internal.h"
#include "cd_lockorder.h"

static inline int cd__tracing(void)
{
    return CD_UNLIKELY(cd__ld(&cd__reg.slow) & CD_SLOW_TRACE);
}

/* The rare part of cd__op_begin: pause, then trace (see cd_op.c). */
void cd__op_slow(int self, int op, int obj, int64_t arg, const char *label,
                 cd_site_t site);

/* A thread is about to perform op on obj. Tracing and pausing share one
 * flags word, so that with both off this costs one relaxed load and one
 * predictable branch beyond the registry stores. */
static inline void cd__op_begin(int self, int op, int obj, int64_t arg,
                                const char *label, cd_site_t site)
{
    cd_thread_rec_t *t = cd__rec(self);
    cd__st(&t->last_op, op);
    cd__st(&t->last_obj, obj);
    cd__st(&t->nops, cd__ld(&t->nops) + 1);
    if (CD_UNLIKELY(cd__ld(&cd__reg.slow)))
        cd__op_slow(self, op, obj, arg, label, site);
}

/* A thread that holds other locks asks for obj and is ready to wait for
 * it: the lock-order graph learns "held -> obj". */
static inline void cd__op_order(int self, int obj, cd_site_t site)
{
    cd_thread_rec_t *t = cd__rec(self);
    int n = cd__ld(&t->nheld);
    if (n > 0)
        cd_lockorder_note(self, t->held, n, obj, site);
}

/* Records only the trace event of a state change (no registry update). */
static inline void cd__op_note(int self, int op, int obj, int64_t arg,
                               cd_site_t site)
{
    if (cd__tracing())
        cd_trace_emit(self, op, obj, arg, NULL, site);
}

/* The thread now holds obj (taken at site). */
static inline void cd__op_acquired(int self, int obj, cd_site_t site)
{
    cd_thread_rec_t *t = cd__rec(self);
    cd_obj_rec_t *o = cd__obj(obj);
    int n = cd__ld(&t->nheld);
    if (n < CD_MAX_HELD)
        cd__st(&t->held[n], obj);
    cd__st(&t->nheld, n + 1);
    cd__st(&o->owner, self);
    cd__st(&o->acquisitions, cd__ld(&o->acquisitions) + 1);
    cd__st(&o->site_file, site.file);
    cd__st(&o->site_line, site.line);
    cd__op_note(self, CD_OP_ACQUIRED, obj, 0, site);
}

/* The thread is about to let go of obj. */
static inline void cd__op_released(int self, int obj)
{
    cd_thread_rec_t *t = cd__rec(self);
    int n = cd__ld(&t->nheld);
    int top = n < CD_MAX_HELD ? n : CD_MAX_HELD;
    /* Locks are usually released newest first; search from the top. */
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

/* The thread found obj taken and will wait (timed: with a deadline). */
void cd__op_block(int self, int obj, int timed, cd_site_t site);
/* The wait is over, whatever its outcome. */
void cd__op_unblock(int self, int obj);

/* Ends the calling thread because the run was aborted: releases what it
 * holds, marks it aborted and exits. Only for threads cd_thread started. */
_Noreturn void cd__op_abort_self(int self);

#endif /* CD_OP_H */
