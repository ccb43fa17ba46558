/*
 * cd_common.c - checks, clock and names.
 */
#include "cd_common.h"

#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void cd__check_failed(const char *expr, int err, const char *file, int line)
{
    /* A failed pthread call here means a bug in concdemo itself: say where,
     * then stop before the bug turns into a wrong lesson. */
    fprintf(stderr, "concdemo: internal error at %s:%d: %s: %s\n", file, line,
            expr, strerror(err < 0 ? -err : err));
    abort();
}

int64_t cd_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void cd_name_copy(char *dst, const char *src)
{
    size_t n = strlen(src);
    if (n >= CD_NAME_MAX)
        n = CD_NAME_MAX - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int cd__appendf(char *buf, size_t size, size_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + (*at < size ? *at : size),
                      *at < size ? size - *at : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        *at += (size_t)n;
    return n;
}

void cd__park_init(pthread_mutex_t *lock, pthread_cond_t *cv)
{
    pthread_condattr_t ca;

    CD_CHECK(pthread_mutex_init(lock, NULL));
    CD_CHECK(pthread_condattr_init(&ca));
    CD_CHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
    CD_CHECK(pthread_cond_init(cv, &ca));
    CD_CHECK(pthread_condattr_destroy(&ca));
}

void cd__park_destroy(pthread_mutex_t *lock, pthread_cond_t *cv,
                      _Atomic int *waking)
{
    while (waking && atomic_load_explicit(waking, memory_order_acquire) != 0)
        sched_yield();
    CD_CHECK(pthread_cond_destroy(cv));
    CD_CHECK(pthread_mutex_destroy(lock));
}
