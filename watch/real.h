/*
 * real.h - the real pthread and semaphore functions, for the interposition
 * library's own use.
 *
 * The library exports pthread_mutex_lock and the rest (wrap.c), so that the
 * watched program's calls come to it. Its own calls - libconc's registry
 * locks, the agent's thread - must not: they would watch themselves and
 * could recurse. Every file of the library but wrap.c and real.c is
 * compiled with this header forced in first (-include), which renames
 * each wrapped function to cd__real_NAME before <pthread.h> declares it;
 * real.c defines those, calling what the dynamic linker finds next.
 */
#ifndef CD_WATCH_REAL_H
#define CD_WATCH_REAL_H

#define pthread_create cd__real_pthread_create
#define pthread_join cd__real_pthread_join
#define pthread_exit cd__real_pthread_exit
#define pthread_mutex_init cd__real_pthread_mutex_init
#define pthread_mutex_destroy cd__real_pthread_mutex_destroy
#define pthread_mutex_lock cd__real_pthread_mutex_lock
#define pthread_mutex_trylock cd__real_pthread_mutex_trylock
#define pthread_mutex_timedlock cd__real_pthread_mutex_timedlock
#define pthread_mutex_unlock cd__real_pthread_mutex_unlock
#define pthread_rwlock_init cd__real_pthread_rwlock_init
#define pthread_rwlock_destroy cd__real_pthread_rwlock_destroy
#define pthread_rwlock_rdlock cd__real_pthread_rwlock_rdlock
#define pthread_rwlock_wrlock cd__real_pthread_rwlock_wrlock
#define pthread_rwlock_tryrdlock cd__real_pthread_rwlock_tryrdlock
#define pthread_rwlock_trywrlock cd__real_pthread_rwlock_trywrlock
#define pthread_rwlock_unlock cd__real_pthread_rwlock_unlock
#define pthread_cond_init cd__real_pthread_cond_init
#define pthread_cond_destroy cd__real_pthread_cond_destroy
#define pthread_cond_wait cd__real_pthread_cond_wait
#define pthread_cond_timedwait cd__real_pthread_cond_timedwait
#define pthread_cond_signal cd__real_pthread_cond_signal
#define pthread_cond_broadcast cd__real_pthread_cond_broadcast
#define pthread_barrier_wait cd__real_pthread_barrier_wait
#define sem_wait cd__real_sem_wait
#define sem_trywait cd__real_sem_trywait
#define sem_timedwait cd__real_sem_timedwait
#define sem_post cd__real_sem_post

#endif /* CD_WATCH_REAL_H */
