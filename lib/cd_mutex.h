/*
 * cd_mutex.h - a named mutex that the registry, the trace and the
 * detectors can see.
 *
 * It behaves like pthread_mutex_t (default type: not recursive, not fair)
 * and costs little more on the uncontended path. Each operation records
 * where it happened (the macros pass __FILE__/__LINE__), so a report can
 * say which line took which lock. A thread waiting in cd_mutex_lock shows
 * as blocked on this mutex, which is what lets the watchdog see a
 * deadlock; if the run is aborted meanwhile, a thread started by
 * cd_thread is ended (see cd_thread.h) instead of waiting forever.
 */
#ifndef CD_MUTEX_H
#define CD_MUTEX_H

#include <pthread.h>

#include "cd_common.h"

typedef struct cd_mutex {
    pthread_mutex_t m;
    int id;                  /* registry id */
    struct cd_obj_rec *rec;  /* its registry record, for the fast path */
} cd_mutex_t;

/* Creates a mutex named name. Returns 0, or -ENOSPC if the registry is
 * full (the mutex is then not usable). */
int cd_mutex_init(cd_mutex_t *m, const char *name);

/* Destroys an unlocked mutex. */
void cd_mutex_destroy(cd_mutex_t *m);

/* Waits as long as it takes. Returns 0; -ECANCELED only on a thread that
 * cd_thread did not start, when the run was aborted while it waited.
 * (The macros of lock and unlock run their uncontended case inline, see
 * the end of this file; the _at functions behave the same.) */
#define cd_mutex_lock(m) cd__mutex_lock((m), CD_HERE)
int cd_mutex_lock_at(cd_mutex_t *m, cd_site_t site);

/* Returns 0 if it took the mutex, -EBUSY if somebody holds it. */
#define cd_mutex_trylock(m) cd_mutex_trylock_at((m), CD_HERE)
int cd_mutex_trylock_at(cd_mutex_t *m, cd_site_t site);

/* Waits at most ms milliseconds. Returns 0, or -ETIMEDOUT. A timed wait
 * adds no lock-order edge: it cannot wait forever. */
#define cd_mutex_timedlock(m, ms) cd_mutex_timedlock_at((m), (ms), CD_HERE)
int cd_mutex_timedlock_at(cd_mutex_t *m, int ms, cd_site_t site);

/* Caller holds m. */
#define cd_mutex_unlock(m) cd__mutex_unlock((m), CD_HERE)
void cd_mutex_unlock_at(cd_mutex_t *m, cd_site_t site);

/* ---- internal: not part of the interface ----
 * The inline fast path that the lock and unlock macros expand to. It is
 * here only so that an uncontended lock costs no extra call; nothing in
 * it is for callers to use. */
#include "cd_mutex_fast.h"

#endif /* CD_MUTEX_H */
