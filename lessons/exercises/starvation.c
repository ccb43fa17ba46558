/*
 * Exercise: starvation - the starving writer
 * (worksheet: lessons/03-starvation.md).
 *
 * Task:  a rate limiter's requests read its window of recent requests under
 *        a read lock (3 ms each, one request per ms, so reads overlap all the
 *        time); every 20 ms a trimmer needs the write lock to drop expired
 *        entries. With this lock new readers walk past the waiting trimmer,
 *        which waits until the request storm is over. Let the trimmer in
 *        after the readers already inside, however long the storm lasts.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, timing, ThreadSanitizer).
 * Check: concdemo check starvation  or: make check-exercise EX=starvation
 *
 * This file is yours, all of it: lessons/harness/starvation.h says what it
 * must define and what it may call; the harness (the window, the threads,
 * the invariant) is built by the project. You may need lib/cd_rwlock.h
 * (its policies).
 */
#include <stdlib.h>

#include "cd_registry.h"
#include "cd_rwlock.h"
#include "cd_thread.h"
#include "harness/starvation.h"

/* The limiter: the lock that guards the window. */
struct limiter {
    cd_rwlock_t lock;
};

/* Creates the lock before the threads start: 0, or -1 on failure. */
static int limiter_lock_init(limiter_t *lm)
{
    /* glibc's default: a reader gets in whenever no writer is inside,
     * even while a writer waits. */
    return cd_rwlock_init(&lm->lock, "window-lock", CD_RW_PREFER_READER);
}

static void limiter_lock_destroy(limiter_t *lm)
{
    cd_rwlock_destroy(&lm->lock);
}

limiter_t *limiter_create(void)
{
    limiter_t *lm = calloc(1, sizeof *lm);
    if (lm && limiter_lock_init(lm) != 0) {
        free(lm);
        lm = NULL;
    }
    return lm;
}

void limiter_destroy(limiter_t *lm)
{
    limiter_lock_destroy(lm);
    free(lm);
}

/* One request: only reads the window. */
void check_request(limiter_t *lm, int index)
{
    cd_rwlock_rdlock(&lm->lock);
    read_window(index);
    cd_rwlock_unlock(&lm->lock);
}

/* One trim: needs the window to itself. */
void trim_window(limiter_t *lm)
{
    cd_rwlock_wrlock(&lm->lock);
    drop_expired();
    cd_rwlock_unlock(&lm->lock);
}
