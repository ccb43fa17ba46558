/*
 * counter.h - the exercise counter: what the learner's file defines, and
 * what the harness (lessons/harness/counter.c) gives it.
 *
 * The harness owns the handlers, the page renderer, the invariant and the
 * verdict; it is compiled by the project, so nothing the learner's file
 * does reaches it. The learner's file defines exactly the functions under
 * "yours", and keeps the page-view counts (and any lock) in its own
 * struct views, which the harness only passes around by pointer, or in
 * statics. Any other global it defines fails the build.
 *
 * exercise-defines: views_create views_destroy count_view views_count
 */
#ifndef EX_COUNTER_H
#define EX_COUNTER_H

/* ---- the harness's: call it, do not define it ---- */

/* Renders page `page` with "you are visitor #visitor" on it: slow (2 ms).
 * Every view must render its page once, with the number it returns. */
void render_page(int page, long visitor);

/* ---- yours: define these in lessons/exercises/counter.c ---- */

typedef struct views views_t; /* define struct views: the counts */

/* Makes the counts (pages numbered 0 .. npages-1, each at 0) before the
 * handlers start: NULL on failure. */
views_t *views_create(int npages);

/* Frees them after every handler has ended. */
void views_destroy(views_t *v);

/* One view of page: counts it, renders the page with the visitor's number
 * (the page's count with this view in it), and returns that number.
 * Handlers call it at the same time, often for the same page. */
long count_view(views_t *v, int page);

/* The count of page, asked once every handler has ended. */
long views_count(views_t *v, int page);

#endif /* EX_COUNTER_H */
