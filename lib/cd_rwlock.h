/*
 * cd_rwlock.h - a named reader-writer lock whose policy is chosen at init,
 * visible to the registry, the trace and ThreadSanitizer.
 *
 * Many readers may hold it together; a writer holds it alone. Who gets in
 * when both wait is the policy, and that is what the starvation lesson is
 * about:
 *   CD_RW_PREFER_READER  glibc's default: a reader enters whenever no writer
 *                        is inside, even while a writer waits. Readers that
 *                        keep overlapping can keep a writer out for good.
 *   CD_RW_PREFER_WRITER  glibc's PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP:
 *                        a waiting writer stops new readers, so it gets in
 *                        once the readers inside leave. (A thread must not
 *                        take the read lock twice: the second rdlock waits
 *                        behind the writer that waits for the first.)
 *   CD_RW_FAIR           first come, first served: waiters queue in arrival
 *                        order; readers next to each other in the queue enter
 *                        together, nobody overtakes an earlier waiter.
 *
 * The registry shows an rwlock (kind CD_OBJ_RWLOCK) with `owner` = the
 * writer inside (0 if none) and `readers` = how many share it; a waiting
 * thread is blocked on it, and its last_op (CD_OP_RDLOCK / CD_OP_WRLOCK)
 * says which side it wants. Waits happen in slices, so an aborted run ends
 * a blocked thread that cd_thread started (see cd_thread.h). One price of
 * that under PREFER_WRITER: a writer that has waited a whole slice
 * (500 ms) gives up its place for an instant, and a reader may slip in.
 *
 * The deadlock watchdog follows a wait on an rwlock only to a writer inside
 * it: with readers inside there is no single owner to wait for, so a cycle
 * through a read hold is not reported as a deadlock (the run's hard time
 * limit ends it instead). A thread that asks again for a lock it holds for
 * writing waits for itself, and that one-link cycle is reported. The
 * lock-order graph records both read and write acquisitions, as lockdep
 * does.
 */
#ifndef CD_RWLOCK_H
#define CD_RWLOCK_H

#include <pthread.h>

#include "cd_common.h"
#include "cd_queue.h"

typedef enum cd_rw_policy {
    CD_RW_PREFER_READER = 0,
    CD_RW_PREFER_WRITER,
    CD_RW_FAIR
} cd_rw_policy_t;

typedef struct cd_rwlock {
    int id;                  /* registry id; its address is TSan's name
                                for the lock (not the inner pthread one) */
    int policy;
    _Atomic int write_held;  /* 1 while a writer is inside (any policy) */
    pthread_rwlock_t rw;     /* the two glibc policies */
    /* CD_RW_FAIR: the queue and the counts, under m. */
    pthread_mutex_t m;
    pthread_cond_t turn;     /* broadcast whenever the front may change */
    cd_queue_t queue;        /* the waiters, in order of arrival */
    int readers;             /* readers inside */
    int writer;              /* 1 while a writer is inside */
    /* Threads waiting to get in now, by side ([0] read, [1] write): what
     * cd_rwlock_waiting() reports, and under the controlled scheduler the
     * writers that keep new readers out of a prefer-writer lock. */
    _Atomic int waiting[2];
} cd_rwlock_t;

/* Creates an unlocked rwlock named name with the given policy. Returns 0,
 * -EINVAL for an unknown policy, or -ENOSPC if the registry is full (the
 * lock is then not usable). */
int cd_rwlock_init(cd_rwlock_t *l, const char *name, cd_rw_policy_t policy);

/* Destroys an rwlock nobody holds or waits for. */
void cd_rwlock_destroy(cd_rwlock_t *l);

/* Takes the lock to read, shared with other readers; waits as long as the
 * policy says. Returns 0; -ECANCELED only on a thread that cd_thread did
 * not start, when the run was aborted while it waited. */
#define cd_rwlock_rdlock(l) cd_rwlock_rdlock_at((l), CD_HERE)
int cd_rwlock_rdlock_at(cd_rwlock_t *l, cd_site_t site);

/* Takes the lock to write, alone. Returns as cd_rwlock_rdlock does. */
#define cd_rwlock_wrlock(l) cd_rwlock_wrlock_at((l), CD_HERE)
int cd_rwlock_wrlock_at(cd_rwlock_t *l, cd_site_t site);

/* Take it only if that needs no wait (and, under PREFER_WRITER and FAIR,
 * overtakes no waiting writer / earlier waiter). Return 0 or -EBUSY. */
#define cd_rwlock_tryrdlock(l) cd_rwlock_tryrdlock_at((l), CD_HERE)
int cd_rwlock_tryrdlock_at(cd_rwlock_t *l, cd_site_t site);
#define cd_rwlock_trywrlock(l) cd_rwlock_trywrlock_at((l), CD_HERE)
int cd_rwlock_trywrlock_at(cd_rwlock_t *l, cd_site_t site);

/* Lets go of a read or a write hold. Caller holds l (either side). */
#define cd_rwlock_unlock(l) cd_rwlock_unlock_at((l), CD_HERE)
void cd_rwlock_unlock_at(cd_rwlock_t *l, cd_site_t site);

/* How many threads wait to get in right now: for writing (write != 0) or
 * for reading. A thread counts from the moment it found the lock taken
 * and settled down to wait until it is inside (or gave up). A snapshot
 * that may change at once; for a demo's measurements and hand-overs, not
 * for deciding who may go in. Can't fail. */
int cd_rwlock_waiting(cd_rwlock_t *l, int write);

/* "prefer-reader", "prefer-writer", "fair" (or "?"). */
const char *cd_rw_policy_name(int policy);

#endif /* CD_RWLOCK_H */
