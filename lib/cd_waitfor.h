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
 * The search is a pure function of a snapshot (cd_registry.h): the
 * watchdog (cd_detect.h) runs it on its scans, the controlled scheduler
 * when nobody can run, the live view on its own copy.
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

#endif /* CD_WAITFOR_H */
