/*
 * cd_waitfor.h - the wait-for graph: who waits for whom, and its cycles.
 *
 * The graph has an edge thread -> thread when the first waits (without a
 * deadline) for an object the second owns. (An rwlock's owner is the
 * writer inside it; readers are no single owner, so a wait for a
 * read-held rwlock adds no edge: see cd_rwlock.h.) A cycle in it is a
 * deadlock: nobody in it can ever move again. Tasks of an executor
 * (cd_exec.h) are threads here too: a task parked on an awaitable lock
 * waits for its owner, and a task that is ready or parked on a timer waits
 * for its worker, whose owner is the task running on it - an edge only
 * while that task is blocked, since a blocked thread never gives its
 * worker back. That is how "a blocking lock held across an await" shows
 * up as a cycle.
 *
 * A run can also stop for good without a cycle: every live thread waits
 * (on a channel nobody will send on, a join, a lock whose owner waits on
 * such a channel) and nothing any of them waits for can come, since no
 * thread runs to bring it. That run is *stuck*. Being stuck is read from
 * the objects as well as from the threads: a waiter whose record still
 * says blocked but whose object would let it go (a mutex just released, a
 * channel with a message, a joined thread that ended) is only on its way
 * and makes the run not stuck. A thread that waits with a deadline, sleeps,
 * runs or is ready never is stuck.
 *
 * Both are pure functions of a snapshot (cd_registry.h): the watchdog
 * (cd_detect.h) runs them on its scans, the controlled scheduler when
 * nobody can run, the live view on its own copy.
 */
#ifndef CD_WAITFOR_H
#define CD_WAITFOR_H

#include <stddef.h>

#include "cd_registry.h"

/* Looks for a cycle in the wait-for graph of snap. Returns 1 and fills
 * *out (starting from the lowest thread id in the cycle), else 0. */
int cd_waitfor_find_cycle(const cd_snapshot_t *snap, cd_cycle_t *out);

/* "transfer-1 holds acct-A, waits acct-B; transfer-2 holds acct-B, waits
 * acct-A" (names from the live registry). Returns what snprintf returns. */
int cd_cycle_format(const cd_cycle_t *c, char *buf, size_t size);

/* 1 when snap shows a stuck run: at least one live thread, and every live
 * thread waits without a deadline for something that nothing in snap could
 * give it now. One observation only: a caller that reads a running run
 * must see the same waits (wait_seq) stay stuck a while before it believes
 * it (cd_detect.c). Can't fail. */
int cd_waitfor_stuck(const cd_snapshot_t *snap);

/* What each live thread of snap waits for, into *out: the waits on
 * objects first, then the joins, then the rest, each in thread order; and
 * in lost_wakeup, for each condition variable one of them waits on, the
 * signal it lost before that wait began, if any (its sender and line).
 * Fills it whether the run is stuck or not. Can't fail. */
void cd_waitfor_describe(const cd_snapshot_t *snap, cd_stuck_t *out);

/* "runner waits on channel jobs; main joins runner" (then "; and N more"
 * and the lost wake-up sentence, if any), with names from names, or from
 * the live registry when names is NULL. Returns what snprintf returns. */
int cd_stuck_format(const cd_stuck_t *st, const cd_snapshot_t *names,
                    char *buf, size_t size);

#endif /* CD_WAITFOR_H */
