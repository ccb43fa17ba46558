/*
 * Exercise: counter - lost page views (worksheet: lessons/16-counter.md).
 *
 * Task:  count_view() below loses views when handlers show the same page
 *        at once: each reads the count, renders the page (2 ms), then
 *        stores what it read plus one. Make it count every view and give
 *        every visitor of a page a number of its own - while handlers
 *        still render their pages at the same time.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, parallelism, timing, ThreadSanitizer).
 * Check: concdemo check counter        or: make check-exercise EX=counter
 *
 * This file is yours, all of it: lessons/harness/counter.h says what it
 * must define and what it may call; the harness (handlers, renderer, the
 * invariant) is built by the project. You may need lib/cd_mutex.h, or
 * <stdatomic.h>.
 */
#include <stdlib.h>

#include "cd_mutex.h"
#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/counter.h"

/* The counts. Add the lock your fix needs. */
struct views {
    int npages;
    long *count; /* count[page]: the page's views so far */
};

/* Sets up your lock before the handlers start: 0, or -1 on failure. */
static int views_lock_init(views_t *v)
{
    (void)v;
    return 0;
}

/* Frees it after every handler has ended. */
static void views_lock_destroy(views_t *v)
{
    (void)v;
}

views_t *views_create(int npages)
{
    views_t *v = calloc(1, sizeof *v);
    if (v) {
        v->npages = npages;
        v->count = calloc((size_t)npages, sizeof *v->count);
    }
    if (v && (!v->count || views_lock_init(v) != 0)) {
        free(v->count);
        free(v);
        v = NULL;
    }
    return v;
}

void views_destroy(views_t *v)
{
    views_lock_destroy(v);
    free(v->count);
    free(v);
}

/* One view of page: count it, render it, return the visitor's number. */
long count_view(views_t *v, int page)
{
    cd_point("read count");
    long n = v->count[page] + 1; /* two handlers read the same count... */
    render_page(page, n);        /* ...both render (2 ms)... */
    cd_point("store count");
    v->count[page] = n;          /* ...and both store it: one view lost */
    return n;
}

long views_count(views_t *v, int page)
{
    return v->count[page];
}
