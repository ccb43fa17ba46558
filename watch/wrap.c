/*
 * wrap.c - the functions the watched program calls: each tells the
 * registry what the thread is about to do, calls the real function, and
 * tells what came of it - the same steps as libconc's own primitives
 * (lib/cd_mutex.c and the others), with return addresses as sites.
 *
 * No wrapper holds a lock of its own while it calls the real function, so
 * the library adds no deadlock; a blocking call is tried first without
 * blocking, so that an uncontended lock costs a trylock and a few stores.
 * A thread the agent does not watch (before it starts, its own threads,
 * past the registry's table) only forwards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>

#include "../lib/cd_op.h"
#include "watch.h"

#define PC() __builtin_return_address(0)
/* What the program sees of the library: the wrappers, nothing else. */
#define CD_EXPORT __attribute__((visibility("default")))

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ================================ threads ================================ */

typedef struct start {
    void *(*fn)(void *);
    void *arg;
    int id;
} start_t;

static void *trampoline(void *p)
{
    start_t s = *(start_t *)p;
    free(p);
    if (s.id)
        cd__watch_thread_started(s.id, pthread_self());
    void *ret = s.fn(s.arg);
    cd__watch_thread_ended(s.id);
    return ret;
}

CD_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *a,
                   void *(*fn)(void *), void *arg)
{
    int self = cd__watch_self();
    start_t *s = self ? malloc(sizeof *s) : NULL;
    if (!s)
        return cd__real_pthread_create(t, a, fn, arg);
    *s = (start_t){ fn, arg, cd__watch_thread_new(fn) };
    if (s->id)
        cd__op_begin(self, CD_OP_SPAWN, s->id, 0, NULL, cd__watch_site(PC()));
    int id = s->id;
    int rc = cd__real_pthread_create(t, a, trampoline, s);
    if (rc != 0) {
        free(s);
        cd__watch_thread_ended(id);
    } else if (id) {
        cd__watch_thread_map(*t, id);
    }
    return rc;
}

CD_EXPORT int pthread_join(pthread_t t, void **ret)
{
    int self = cd__watch_self(), other = self ? cd__watch_thread_of(t) : 0;
    if (!other)
        return cd__real_pthread_join(t, ret);
    cd__op_begin(self, CD_OP_JOIN, other, 0, NULL, cd__watch_site(PC()));
    cd__watch_waits_at(self, PC());
    cd__op_join(self, other);
    int rc = cd__real_pthread_join(t, ret);
    cd__op_joined(self);
    return rc;
}

CD_EXPORT void pthread_exit(void *ret)
{
    int self = cd__watch_self();
    if (self)
        cd__watch_thread_ended(self);
    cd__real_pthread_exit(ret);
}

/* ================================ mutexes ================================ */

CD_EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
    /* A mutex initialized again where one was is a new mutex. */
    if (cd__watch_self())
        cd__watch_drop(m);
    return cd__real_pthread_mutex_init(m, a);
}

/* The owner the registry shows for obj. */
static int owner_of(int obj)
{
    return cd__ld(&cd__obj(obj)->owner);
}

CD_EXPORT int pthread_mutex_destroy(pthread_mutex_t *m)
{
    int self = cd__watch_self(), obj = self ? cd__watch_obj(m, CD_OBJ_MUTEX)
                                            : 0;
    if (obj) {
        if (owner_of(obj))
            cd__watch_misuse(self, CD_WATCH_DESTROY_LOCKED, obj, 0, PC());
        cd__watch_drop(m);
    }
    return cd__real_pthread_mutex_destroy(m);
}

/* After a lock came (rc 0): the registry's hold and the hold's clock. */
static void took(int self, int obj, cd_site_t site)
{
    cd__op_acquired(self, obj, site);
    cd__watch_hold_begin(obj);
}

/* Blocks in real(m) for a lock that a trylock found taken, shown as
 * waiting on obj; the time waited counts for the summary. */
static int wait_lock(int self, int obj, int timed, cd_site_t site,
                     const void *pc, int (*real)(void *, const void *),
                     void *m, const void *extra)
{
    cd__watch_waits_at(self, pc);
    cd__op_block(self, obj, timed, site);
    int64_t t0 = mono_ns();
    int rc = real(m, extra);
    cd__op_unblock(self, obj);
    cd__watch_waited(obj, mono_ns() - t0);
    return rc;
}

static int real_lock(void *m, const void *unused)
{
    (void)unused;
    return cd__real_pthread_mutex_lock(m);
}

static int real_timedlock(void *m, const void *t)
{
    return cd__real_pthread_mutex_timedlock(m, t);
}

static int mutex_acquire(pthread_mutex_t *m, const struct timespec *t,
                         const void *pc)
{
    int self = cd__watch_self();
    int obj = self ? cd__watch_obj(m, CD_OBJ_MUTEX) : 0;
    if (!obj)
        return t ? cd__real_pthread_mutex_timedlock(m, t)
                 : cd__real_pthread_mutex_lock(m);
    cd_site_t site = cd__watch_site(pc);
    cd__op_begin(self, t ? CD_OP_TIMEDLOCK : CD_OP_LOCK, obj, 0, NULL, site);
    if (!t)
        cd__op_order(self, obj, site);
    int rc = cd__real_pthread_mutex_trylock(m);
    if (rc == EBUSY)
        rc = wait_lock(self, obj, t != NULL, site, pc,
                       t ? real_timedlock : real_lock, m, t);
    if (rc == 0)
        took(self, obj, site);
    return rc;
}

CD_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    return mutex_acquire(m, NULL, PC());
}

CD_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *t)
{
    return mutex_acquire(m, t, PC());
}

CD_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
    int self = cd__watch_self();
    int obj = self ? cd__watch_obj(m, CD_OBJ_MUTEX) : 0;
    if (!obj)
        return cd__real_pthread_mutex_trylock(m);
    cd_site_t site = cd__watch_site(PC());
    cd__op_begin(self, CD_OP_TRYLOCK, obj, 0, NULL, site);
    int rc = cd__real_pthread_mutex_trylock(m);
    if (rc == 0)
        took(self, obj, site);
    return rc;
}

/* The registry's side of letting go of a mutex obj the thread holds. */
static void let_go(int self, int obj, cd_site_t site)
{
    cd__watch_hold_end(obj);
    cd__op_begin(self, CD_OP_UNLOCK, obj, 0, NULL, site);
    cd__op_released(self, obj);
}

CD_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
    int self = cd__watch_self();
    int obj = self ? cd__watch_obj(m, CD_OBJ_MUTEX) : 0;
    if (obj) {
        if (owner_of(obj) != self)
            cd__watch_misuse(self, CD_WATCH_UNLOCK_UNHELD, obj, 0, PC());
        else
            let_go(self, obj, cd__watch_site(PC()));
    }
    return cd__real_pthread_mutex_unlock(m);
}

/* ================================ rwlocks ================================ */

CD_EXPORT int pthread_rwlock_init(pthread_rwlock_t *l, const pthread_rwlockattr_t *a)
{
    if (cd__watch_self())
        cd__watch_drop(l);
    return cd__real_pthread_rwlock_init(l, a);
}

CD_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t *l)
{
    if (cd__watch_self())
        cd__watch_drop(l);
    return cd__real_pthread_rwlock_destroy(l);
}

static int real_rd(void *l, const void *unused)
{
    (void)unused;
    return cd__real_pthread_rwlock_rdlock(l);
}

static int real_wr(void *l, const void *unused)
{
    (void)unused;
    return cd__real_pthread_rwlock_wrlock(l);
}

/* rdlock and wrlock, tryrdlock and trywrlock (try: no waiting). */
static int rw_acquire(pthread_rwlock_t *l, int write, int try,
                      const void *pc)
{
    int self = cd__watch_self();
    int obj = self ? cd__watch_obj(l, CD_OBJ_RWLOCK) : 0;
    int (*trylock)(pthread_rwlock_t *) =
        write ? cd__real_pthread_rwlock_trywrlock
              : cd__real_pthread_rwlock_tryrdlock;
    if (!obj)
        return try ? trylock(l) : write ? cd__real_pthread_rwlock_wrlock(l)
                                        : cd__real_pthread_rwlock_rdlock(l);
    cd_site_t site = cd__watch_site(pc);
    cd__op_begin(self, try ? (write ? CD_OP_TRYWRLOCK : CD_OP_TRYRDLOCK)
                           : (write ? CD_OP_WRLOCK : CD_OP_RDLOCK),
                 obj, 0, NULL, site);
    if (!try)
        cd__op_order(self, obj, site);
    int rc = trylock(l);
    if (rc == EBUSY && !try)
        rc = wait_lock(self, obj, 0, site, pc, write ? real_wr : real_rd, l,
                       NULL);
    if (rc == 0 && write)
        took(self, obj, site);
    else if (rc == 0)
        cd__op_acquired_shared(self, obj, site);
    return rc;
}

CD_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
    return rw_acquire(l, 0, 0, PC());
}

CD_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
    return rw_acquire(l, 1, 0, PC());
}

CD_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *l)
{
    return rw_acquire(l, 0, 1, PC());
}

CD_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *l)
{
    return rw_acquire(l, 1, 1, PC());
}

CD_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
    int self = cd__watch_self();
    int obj = self ? cd__watch_obj(l, CD_OBJ_RWLOCK) : 0;
    if (obj) {
        if (owner_of(obj) == self) {
            let_go(self, obj, cd__watch_site(PC()));
        } else {
            cd__op_begin(self, CD_OP_UNLOCK, obj, 0, NULL,
                         cd__watch_site(PC()));
            cd__op_released_shared(self, obj);
        }
    }
    return cd__real_pthread_rwlock_unlock(l);
}

/* ========================== condition variables ========================== */

CD_EXPORT int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a)
{
    if (cd__watch_self())
        cd__watch_drop(c);
    return cd__real_pthread_cond_init(c, a);
}

CD_EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
    if (cd__watch_self())
        cd__watch_drop(c);
    return cd__real_pthread_cond_destroy(c);
}

/* A wait lets go of the mutex and takes it back inside the C library,
 * where no wrapper sees it: the registry is told both here. */
static int cond_wait(pthread_cond_t *c, pthread_mutex_t *m,
                     const struct timespec *t, const void *pc)
{
    int self = cd__watch_self();
    int cobj = self ? cd__watch_obj(c, CD_OBJ_COND) : 0;
    int mobj = cobj ? cd__watch_obj(m, CD_OBJ_MUTEX) : 0;
    if (!mobj)
        return t ? cd__real_pthread_cond_timedwait(c, m, t)
                 : cd__real_pthread_cond_wait(c, m);
    cd_site_t site = cd__watch_site(pc);
    int held = owner_of(mobj) == self;
    if (!held)
        cd__watch_misuse(self, CD_WATCH_WAIT_UNHELD, cobj, mobj, pc);
    int before = cd__watch_cond_wait_begin(cobj, mobj);
    if (before && before != mobj)
        cd__watch_misuse(self, CD_WATCH_TWO_MUTEXES, cobj, before, pc);
    cd__op_begin(self, t ? CD_OP_COND_TIMEDWAIT : CD_OP_COND_WAIT, cobj, 0,
                 NULL, site);
    if (held)
        let_go(self, mobj, site);
    cd__watch_waits_at(self, pc);
    cd__op_block(self, cobj, t != NULL, site);
    int rc = t ? cd__real_pthread_cond_timedwait(c, m, t)
               : cd__real_pthread_cond_wait(c, m);
    cd__op_unblock(self, cobj);
    cd__watch_cond_wait_end(cobj);
    if (held)
        took(self, mobj, site);
    return rc;
}

CD_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    return cond_wait(c, m, NULL, PC());
}

CD_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                           const struct timespec *t)
{
    return cond_wait(c, m, t, PC());
}

static int cond_wake(pthread_cond_t *c, int all, const void *pc)
{
    int self = cd__watch_self();
    int obj = self ? cd__watch_obj(c, CD_OBJ_COND) : 0;
    if (obj) {
        cd__op_begin(self, all ? CD_OP_BROADCAST : CD_OP_SIGNAL, obj, 0, NULL,
                     cd__watch_site(pc));
        cd__watch_cond_signal(self, obj, all, pc);
    }
    return all ? cd__real_pthread_cond_broadcast(c)
               : cd__real_pthread_cond_signal(c);
}

CD_EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
    return cond_wake(c, 0, PC());
}

CD_EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
    return cond_wake(c, 1, PC());
}

/* ========================= semaphores, barriers ========================== */

/* The registry's count of a semaphore: what it holds now. */
static void publish_count(int obj, sem_t *s)
{
    int v = 0;
    if (sem_getvalue(s, &v) == 0)
        cd__st(&cd__obj(obj)->sem_count, v < 0 ? 0 : v);
}

static int real_sem_wait(void *s, const void *t)
{
    return t ? cd__real_sem_timedwait(s, t) : cd__real_sem_wait(s);
}

static int sem_take(sem_t *s, const struct timespec *t, const void *pc)
{
    int self = cd__watch_self();
    int obj = self ? cd__watch_obj(s, CD_OBJ_SEM) : 0;
    if (!obj)
        return real_sem_wait(s, t);
    cd_site_t site = cd__watch_site(pc);
    cd__op_begin(self, t ? CD_OP_SEM_TIMEDWAIT : CD_OP_SEM_WAIT, obj, 0, NULL,
                 site);
    int rc = cd__real_sem_trywait(s);
    if (rc != 0 && errno == EAGAIN) {
        publish_count(obj, s);
        rc = wait_lock(self, obj, t != NULL, site, pc, real_sem_wait, s, t);
    }
    int err = errno;
    publish_count(obj, s);
    errno = err;
    return rc;
}

CD_EXPORT int sem_wait(sem_t *s)
{
    return sem_take(s, NULL, PC());
}

CD_EXPORT int sem_timedwait(sem_t *s, const struct timespec *t)
{
    return sem_take(s, t, PC());
}

CD_EXPORT int sem_trywait(sem_t *s)
{
    int self = cd__watch_self();
    int obj = self ? cd__watch_obj(s, CD_OBJ_SEM) : 0;
    int rc = cd__real_sem_trywait(s);
    if (obj) {
        int err = errno;
        publish_count(obj, s);
        errno = err;
    }
    return rc;
}

CD_EXPORT int sem_post(sem_t *s)
{
    int self = cd__watch_self();
    int obj = self ? cd__watch_obj(s, CD_OBJ_SEM) : 0;
    if (obj)
        cd__op_begin(self, CD_OP_POST, obj, 0, NULL, cd__watch_site(PC()));
    int rc = cd__real_sem_post(s);
    if (obj) {
        int err = errno;
        publish_count(obj, s);
        errno = err;
    }
    return rc;
}

static int real_barrier(void *b, const void *unused)
{
    (void)unused;
    return cd__real_pthread_barrier_wait(b);
}

/* A barrier is a semaphore that stays at 0 until the last one comes: the
 * waiters show blocked on it, and when none can come, the run is stuck. */
CD_EXPORT int pthread_barrier_wait(pthread_barrier_t *b)
{
    int self = cd__watch_self();
    int obj = self ? cd__watch_obj(b, CD_OBJ_SEM) : 0;
    if (!obj)
        return cd__real_pthread_barrier_wait(b);
    cd_site_t site = cd__watch_site(PC());
    cd__op_begin(self, CD_OP_SEM_WAIT, obj, 0, NULL, site);
    return wait_lock(self, obj, 0, site, PC(), real_barrier, b, NULL);
}
