/*
 * cd_common.h - small things every libconc module needs.
 *
 * CD_CHECK turns a pthread failure that can only mean a bug into a loud
 * abort with file, line and the error text (it never vanishes under NDEBUG).
 * cd_site_t names a place in the source, so that reports can point a learner
 * at the line that took a lock. The CD_TSAN_* macros annotate libconc's own
 * primitives for ThreadSanitizer and compile to nothing elsewhere.
 */
#ifndef CD_COMMON_H
#define CD_COMMON_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Longest name of a thread, lock or other object, terminator included. */
#define CD_NAME_MAX 32

/* A place in the source: where a lock was taken, a point was passed. */
typedef struct cd_site {
    const char *file;
    int line;
} cd_site_t;

#define CD_HERE ((cd_site_t){ __FILE__, __LINE__ })

/* Aborts with file:line and strerror(err) when err is non-zero. */
void cd__check_failed(const char *expr, int err, const char *file, int line);
#define CD_CHECK(expr)                                                       \
    do {                                                                     \
        int cd__err = (expr);                                                \
        if (cd__err != 0)                                                    \
            cd__check_failed(#expr, cd__err, __FILE__, __LINE__);            \
    } while (0)

/* Monotonic clock in nanoseconds. Can't fail. */
int64_t cd_now_ns(void);

/* Copies src into a name buffer of CD_NAME_MAX bytes, truncating. */
void cd_name_copy(char *dst, const char *src);

/* For libconc's text makers: appends printf-style text at buf + *at,
 * truncating at size, and advances *at by the full length (as snprintf
 * counts), so that the caller can return what snprintf would. */
int cd__appendf(char *buf, size_t size, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* For primitives that park their waiters on their own lock and condition
 * variable (cond, sem): makes the pair, the variable timed on the monotonic
 * clock. Aborts if pthreads refuses. */
void cd__park_init(pthread_mutex_t *lock, pthread_cond_t *cv);
/* Unmakes the pair once *waking is 0: a waiter let go may destroy the
 * primitive at once, while the one that let it go is still waking the
 * sleepers on cv. waking NULL: nobody wakes after letting go. */
void cd__park_destroy(pthread_mutex_t *lock, pthread_cond_t *cv,
                      _Atomic int *waking);

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CD_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CD_TSAN 1
#endif

#ifdef CD_TSAN
#include <sanitizer/tsan_interface.h>
#define CD_TSAN_CREATE(m) __tsan_mutex_create((m), __tsan_mutex_not_static)
#define CD_TSAN_DESTROY(m) __tsan_mutex_destroy((m), 0)
#define CD_TSAN_PRE_LOCK(m, f) __tsan_mutex_pre_lock((m), (f))
#define CD_TSAN_POST_LOCK(m, f) __tsan_mutex_post_lock((m), (f), 0)
#define CD_TSAN_PRE_UNLOCK(m) __tsan_mutex_pre_unlock((m), 0)
#define CD_TSAN_POST_UNLOCK(m) __tsan_mutex_post_unlock((m), 0)
#define CD_TSAN_TRY __tsan_mutex_try_lock
#define CD_TSAN_TRY_FAILED (__tsan_mutex_try_lock | __tsan_mutex_try_lock_failed)
/* Shared (read) side of a reader-writer lock: add CD_TSAN_READ to the
 * lock flags, and unlock with the same flag. */
#define CD_TSAN_READ __tsan_mutex_read_lock
#define CD_TSAN_PRE_UNLOCK_F(m, f) __tsan_mutex_pre_unlock((m), (f))
#define CD_TSAN_POST_UNLOCK_F(m, f) __tsan_mutex_post_unlock((m), (f))
#else
#define CD_TSAN_CREATE(m) ((void)(m))
#define CD_TSAN_DESTROY(m) ((void)(m))
#define CD_TSAN_PRE_LOCK(m, f) ((void)(m), (void)(f))
#define CD_TSAN_POST_LOCK(m, f) ((void)(m), (void)(f))
#define CD_TSAN_PRE_UNLOCK(m) ((void)(m))
#define CD_TSAN_POST_UNLOCK(m) ((void)(m))
#define CD_TSAN_TRY 0
#define CD_TSAN_TRY_FAILED 0
#define CD_TSAN_READ 0
#define CD_TSAN_PRE_UNLOCK_F(m, f) ((void)(m), (void)(f))
#define CD_TSAN_POST_UNLOCK_F(m, f) ((void)(m), (void)(f))
#endif

#if defined(__GNUC__)
#define CD_LIKELY(x) __builtin_expect(!!(x), 1)
#define CD_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* For the choke point's hot path: helpers that must dissolve into each
 * primitive (a call and its register saves cost more than the work), and
 * slow paths that must stay out of the way. */
#define CD_ALWAYS_INLINE inline __attribute__((always_inline))
#define CD_NOINLINE __attribute__((noinline))
#else
#define CD_LIKELY(x) (x)
#define CD_UNLIKELY(x) (x)
#define CD_ALWAYS_INLINE inline
#define CD_NOINLINE
#endif

#endif /* CD_COMMON_H */
