/*
 * watch.h - the parts of the interposition library behind `concdemo
 * watch` (libconcdemo-watch.so, loaded into the watched program with
 * LD_PRELOAD):
 *   real.c   the real pthread functions, for the library's own use
 *   wrap.c   the exported pthread_* and sem_* wrappers the program calls
 *   agent.c  what the wrappers feed: the program's primitives as registry
 *            objects, return addresses as sites, the watchdog, and the
 *            findings written to concdemo watch
 * The registry, the wait-for graph, the lock-order check and the watchdog
 * are libconc's own (lib/), built again as position-independent code with
 * real.h forced in.
 *
 * A watched process has one of everything, so the agent's tables are
 * process-wide: this is the one place outside the registry with global
 * state, because an interposer has nowhere else to keep it.
 */
#ifndef CD_WATCH_H
#define CD_WATCH_H

#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include "../lib/cd_common.h"

/* ================================= real.c ================================ */

int cd__real_pthread_create(pthread_t *t, const pthread_attr_t *a,
                            void *(*fn)(void *), void *arg);
int cd__real_pthread_join(pthread_t t, void **ret);
void cd__real_pthread_exit(void *ret) __attribute__((noreturn));
int cd__real_pthread_mutex_init(pthread_mutex_t *m,
                                const pthread_mutexattr_t *a);
int cd__real_pthread_mutex_destroy(pthread_mutex_t *m);
int cd__real_pthread_mutex_lock(pthread_mutex_t *m);
int cd__real_pthread_mutex_trylock(pthread_mutex_t *m);
int cd__real_pthread_mutex_timedlock(pthread_mutex_t *m,
                                     const struct timespec *t);
int cd__real_pthread_mutex_unlock(pthread_mutex_t *m);
int cd__real_pthread_rwlock_init(pthread_rwlock_t *l,
                                 const pthread_rwlockattr_t *a);
int cd__real_pthread_rwlock_destroy(pthread_rwlock_t *l);
int cd__real_pthread_rwlock_rdlock(pthread_rwlock_t *l);
int cd__real_pthread_rwlock_wrlock(pthread_rwlock_t *l);
int cd__real_pthread_rwlock_tryrdlock(pthread_rwlock_t *l);
int cd__real_pthread_rwlock_trywrlock(pthread_rwlock_t *l);
int cd__real_pthread_rwlock_unlock(pthread_rwlock_t *l);
int cd__real_pthread_cond_init(pthread_cond_t *c,
                               const pthread_condattr_t *a);
int cd__real_pthread_cond_destroy(pthread_cond_t *c);
int cd__real_pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m);
int cd__real_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                    const struct timespec *t);
int cd__real_pthread_cond_signal(pthread_cond_t *c);
int cd__real_pthread_cond_broadcast(pthread_cond_t *c);
int cd__real_pthread_barrier_wait(pthread_barrier_t *b);
int cd__real_sem_wait(sem_t *s);
int cd__real_sem_trywait(sem_t *s);
int cd__real_sem_timedwait(sem_t *s, const struct timespec *t);
int cd__real_sem_post(sem_t *s);

/* ============================ the live view's page ========================
 * With --view, concdemo watch shares one of these with the agent (a memfd
 * named by CONCDEMO_WATCH_SHM): the agent writes a snapshot of the
 * registry into it every frame, under a sequence number that is odd while
 * it writes (a reader that sees it change reads again). */
#include "../lib/cd_registry.h"

typedef struct cd_watch_page {
    _Atomic unsigned seq;
    int has_cycle, has_stuck;
    cd_cycle_t cycle;
    cd_stuck_t stuck;
    cd_snapshot_t snap;
} cd_watch_page_t;

/* ================================ agent.c ================================ */

/* The calling thread's registry id; 0 when it is not watched (the agent
 * is not running yet or any more, the thread is the agent's own, or the
 * registry's table is full): a wrapper then only forwards. */
int cd__watch_self(void);

/* The registry object of the primitive at addr, of kind (cd_obj_kind_t),
 * made on first use (a statically initialized mutex has no init call);
 * 0 when the table is full. */
int cd__watch_obj(const void *addr, int kind);
/* addr was destroyed: the next primitive there is another object. */
void cd__watch_drop(const void *addr);

/* A site standing for the return address pc (reports show its line). */
cd_site_t cd__watch_site(const void *pc);
/* Where the thread now blocks (pc), for the reports. */
void cd__watch_waits_at(int self, const void *pc);

/* A new thread: its record, named after its start function fn. Returns
 * its id (0: untracked). Then, on the thread itself, started() binds it;
 * ended() when fn returned or it called pthread_exit. */
int cd__watch_thread_new(void *(*fn)(void *));
void cd__watch_thread_started(int id, pthread_t self);
void cd__watch_thread_ended(int id);
/* Remembers that pthread_t pt is thread id: the creator does it as soon
 * as pthread_create returns, so that a join that comes before the new
 * thread ran still knows whom it waits for. */
void cd__watch_thread_map(pthread_t pt, int id);
/* The id of the thread t (0: not one the agent knows). */
int cd__watch_thread_of(pthread_t t);

/* Misuse, reported with its site and the run goes on. */
enum cd_watch_misuse {
    CD_WATCH_UNLOCK_UNHELD = 1, /* unlock of a mutex the thread does not hold */
    CD_WATCH_DESTROY_LOCKED,    /* destroy of a locked mutex */
    CD_WATCH_WAIT_UNHELD,       /* cond wait without holding its mutex */
    CD_WATCH_TWO_MUTEXES        /* a cond used with two different mutexes */
};
void cd__watch_misuse(int self, int what, int obj, int other, const void *pc);

/* Condition variables: the waits in progress and the wake-ups given but
 * not yet taken (the registry's cond_pending), and the mutex each is used
 * with. wait_begin returns the mutex it was used with before (0: first
 * use), so that the wrapper can report a second one. */
int cd__watch_cond_wait_begin(int cond, int mutex);
void cd__watch_cond_wait_end(int cond);
void cd__watch_cond_signal(int self, int cond, int all, const void *pc);

/* Time figures for the summary: a wait for obj that took ns, and holds. */
void cd__watch_waited(int obj, int64_t ns);
void cd__watch_hold_begin(int obj);
void cd__watch_hold_end(int obj);

#endif /* CD_WATCH_H */
