/*
 * real.c - the real functions behind the wrappers (see real.h): looked up
 * once with dlsym(RTLD_NEXT), so that they are whatever the program would
 * have called without the library (libc's own since glibc 2.34).
 *
 * The condition variable functions exist in two versions in glibc; the
 * current one (GLIBC_2.3.2 on x86-64) is asked for by name, since a plain
 * dlsym may hand back the old one, whose condvars have another layout.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "watch.h"

/* Every wrapped function: its name and type. */
#define REAL_FUNCTIONS(X)                                                     \
    X(pthread_create, int, (pthread_t *, const pthread_attr_t *,              \
                            void *(*)(void *), void *))                       \
    X(pthread_join, int, (pthread_t, void **))                                \
    X(pthread_mutex_init, int, (pthread_mutex_t *,                            \
                                const pthread_mutexattr_t *))                 \
    X(pthread_mutex_destroy, int, (pthread_mutex_t *))                        \
    X(pthread_mutex_lock, int, (pthread_mutex_t *))                           \
    X(pthread_mutex_trylock, int, (pthread_mutex_t *))                        \
    X(pthread_mutex_timedlock, int, (pthread_mutex_t *,                       \
                                     const struct timespec *))                \
    X(pthread_mutex_unlock, int, (pthread_mutex_t *))                         \
    X(pthread_rwlock_init, int, (pthread_rwlock_t *,                          \
                                 const pthread_rwlockattr_t *))               \
    X(pthread_rwlock_destroy, int, (pthread_rwlock_t *))                      \
    X(pthread_rwlock_rdlock, int, (pthread_rwlock_t *))                       \
    X(pthread_rwlock_wrlock, int, (pthread_rwlock_t *))                       \
    X(pthread_rwlock_tryrdlock, int, (pthread_rwlock_t *))                    \
    X(pthread_rwlock_trywrlock, int, (pthread_rwlock_t *))                    \
    X(pthread_rwlock_unlock, int, (pthread_rwlock_t *))                       \
    X(pthread_cond_init, int, (pthread_cond_t *, const pthread_condattr_t *)) \
    X(pthread_cond_destroy, int, (pthread_cond_t *))                          \
    X(pthread_cond_wait, int, (pthread_cond_t *, pthread_mutex_t *))          \
    X(pthread_cond_timedwait, int, (pthread_cond_t *, pthread_mutex_t *,      \
                                    const struct timespec *))                 \
    X(pthread_cond_signal, int, (pthread_cond_t *))                           \
    X(pthread_cond_broadcast, int, (pthread_cond_t *))                        \
    X(pthread_barrier_wait, int, (pthread_barrier_t *))                       \
    X(sem_wait, int, (sem_t *))                                               \
    X(sem_trywait, int, (sem_t *))                                            \
    X(sem_timedwait, int, (sem_t *, const struct timespec *))                 \
    X(sem_post, int, (sem_t *))

#define POINTER(name, ret, args) ret(*name) args;
static struct {
    REAL_FUNCTIONS(POINTER)
    void (*pthread_exit)(void *);
} real;

static void *find(const char *name)
{
    void *f = NULL;
#if defined(__x86_64__)
    if (strncmp(name, "pthread_cond_", 13) == 0)
        f = dlvsym(RTLD_NEXT, name, "GLIBC_2.3.2");
#endif
    if (!f)
        f = dlsym(RTLD_NEXT, name);
    if (!f) {
        /* Nothing sensible can run without it. write(): stdio may lock. */
        static const char msg[] = "concdemo watch: a pthread function is "
                                  "missing from the C library\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(2);
    }
    return f;
}

#define RESOLVE(name, ret, args) *(void **)&real.name = find(#name);
static void resolve(void)
{
    REAL_FUNCTIONS(RESOLVE)
    *(void **)&real.pthread_exit = find("pthread_exit");
}

/* Before anything else of the library; also on demand, for calls that
 * come before the constructors ran (another library's constructor). */
__attribute__((constructor(101))) static void resolve_early(void)
{
    if (!real.pthread_mutex_lock)
        resolve();
}

#define CALL(name) (real.name ? real.name : (resolve(), real.name))

int cd__real_pthread_create(pthread_t *t, const pthread_attr_t *a,
                            void *(*fn)(void *), void *arg)
{
    return CALL(pthread_create)(t, a, fn, arg);
}

int cd__real_pthread_join(pthread_t t, void **ret)
{
    return CALL(pthread_join)(t, ret);
}

void cd__real_pthread_exit(void *ret)
{
    CALL(pthread_exit)(ret);
    abort(); /* not reached: pthread_exit does not return */
}

#define FORWARD1(name, T)                                                     \
    int cd__real_##name(T a) { return CALL(name)(a); }
#define FORWARD2(name, T, U)                                                  \
    int cd__real_##name(T a, U b) { return CALL(name)(a, b); }
#define FORWARD3(name, T, U, V)                                               \
    int cd__real_##name(T a, U b, V c) { return CALL(name)(a, b, c); }

FORWARD2(pthread_mutex_init, pthread_mutex_t *, const pthread_mutexattr_t *)
FORWARD1(pthread_mutex_destroy, pthread_mutex_t *)
FORWARD1(pthread_mutex_lock, pthread_mutex_t *)
FORWARD1(pthread_mutex_trylock, pthread_mutex_t *)
FORWARD2(pthread_mutex_timedlock, pthread_mutex_t *, const struct timespec *)
FORWARD1(pthread_mutex_unlock, pthread_mutex_t *)
FORWARD2(pthread_rwlock_init, pthread_rwlock_t *, const pthread_rwlockattr_t *)
FORWARD1(pthread_rwlock_destroy, pthread_rwlock_t *)
FORWARD1(pthread_rwlock_rdlock, pthread_rwlock_t *)
FORWARD1(pthread_rwlock_wrlock, pthread_rwlock_t *)
FORWARD1(pthread_rwlock_tryrdlock, pthread_rwlock_t *)
FORWARD1(pthread_rwlock_trywrlock, pthread_rwlock_t *)
FORWARD1(pthread_rwlock_unlock, pthread_rwlock_t *)
FORWARD2(pthread_cond_init, pthread_cond_t *, const pthread_condattr_t *)
FORWARD1(pthread_cond_destroy, pthread_cond_t *)
FORWARD2(pthread_cond_wait, pthread_cond_t *, pthread_mutex_t *)
FORWARD3(pthread_cond_timedwait, pthread_cond_t *, pthread_mutex_t *,
         const struct timespec *)
FORWARD1(pthread_cond_signal, pthread_cond_t *)
FORWARD1(pthread_cond_broadcast, pthread_cond_t *)
FORWARD1(pthread_barrier_wait, pthread_barrier_t *)
FORWARD1(sem_wait, sem_t *)
FORWARD1(sem_trywait, sem_t *)
FORWARD2(sem_timedwait, sem_t *, const struct timespec *)
FORWARD1(sem_post, sem_t *)
