/*
 * cd_sem.h - a named counting semaphore that the registry, the trace and
 * the controlled scheduler can see.
 *
 * It behaves like sem_t: a count that post raises by one and wait lowers
 * by one, waiting while it is 0. It has no owner (any thread may post),
 * so the wait-for graph cannot follow a wait on it: threads stuck on
 * semaphores are no cycle, and end the run as stuck (cd_waitfor.h) once
 * nothing could post. A waiting thread shows as blocked on the semaphore; if the run
 * is aborted meanwhile, a thread started by cd_thread is ended (see
 * cd_thread.h). The registry shows the count.
 *
 * For ThreadSanitizer, a post happens-before the wait that takes what it
 * posted (as with sem_post and sem_wait).
 *
 * While every post comes from a thread that took a permit, the semaphore
 * bounds how many threads are between their wait and their post, and the
 * lock-order graph knows it: a cycle of locks taken only there, longer
 * than the initial count, is not reported (a waiter who seats four of five
 * dining philosophers). A post by a thread that took none ends that.
 */
#ifndef CD_SEM_H
#define CD_SEM_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include "cd_common.h"

/* The largest count (sem_post fails with EOVERFLOW above SEM_VALUE_MAX). */
#define CD_SEM_VALUE_MAX INT_MAX

typedef struct cd_sem {
    pthread_mutex_t lock; /* guards value; never held across a scheduling
                             point */
    pthread_cond_t cv;    /* waiters sleep here (CLOCK_MONOTONIC) */
    unsigned value;
    _Atomic int waking;   /* posts between their unlock and their wake-up
                             of a sleeper: cd_sem_destroy waits for them */
    int id;               /* registry id */
} cd_sem_t;

/* Creates a semaphore named name with count value. Returns 0, -EINVAL
 * (value above CD_SEM_VALUE_MAX) or -ENOSPC (registry full); it is then
 * not usable. */
int cd_sem_init(cd_sem_t *s, const char *name, unsigned value);

/* Destroys a semaphore nobody waits on (a waiter that a post let go may
 * destroy it at once: this waits for the post to be done with it). */
void cd_sem_destroy(cd_sem_t *s);

/* Takes one from the count, waiting while it is 0. Returns 0; -ECANCELED
 * only on a thread that cd_thread did not start, when the run was
 * aborted while it waited (nothing taken). */
#define cd_sem_wait(s) cd_sem_wait_at((s), CD_HERE)
int cd_sem_wait_at(cd_sem_t *s, cd_site_t site);

/* Takes one without waiting: 0, or -EAGAIN when the count is 0. */
#define cd_sem_trywait(s) cd_sem_trywait_at((s), CD_HERE)
int cd_sem_trywait_at(cd_sem_t *s, cd_site_t site);

/* Waits at most ms milliseconds: 0, -ETIMEDOUT (nothing taken), or
 * -ECANCELED as cd_sem_wait. */
#define cd_sem_timedwait(s, ms) cd_sem_timedwait_at((s), (ms), CD_HERE)
int cd_sem_timedwait_at(cd_sem_t *s, int ms, cd_site_t site);

/* Adds one to the count and wakes a waiter if one waits. Returns 0, or
 * -EOVERFLOW when the count is CD_SEM_VALUE_MAX already (unchanged). */
#define cd_sem_post(s) cd_sem_post_at((s), CD_HERE)
int cd_sem_post_at(cd_sem_t *s, cd_site_t site);

/* The count now (for tests and verdicts: it may change as soon as it is
 * read; reading it orders nothing). Can't fail. */
int cd_sem_value(cd_sem_t *s);

#endif /* CD_SEM_H */
