/*
 * Exercise: holdtime - the report rendered under the lock
 * (worksheet: lessons/17-holdtime.md).
 *
 * Task:  a sales dashboard. The till records each sale on a shared board
 *        (record_sale, under the board's lock); handlers refresh the
 *        report: refresh() below renders it (5 ms) and shows it, all the
 *        while holding the board's lock - so the handlers render one at a
 *        time, and the till waits behind every report. Hold the lock only
 *        to copy the board and to store the report: render a copy with
 *        the lock let go. No sale may be lost, and the dashboard must
 *        never go back to an older report than it showed.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, parallelism, timing, ThreadSanitizer).
 * Check: concdemo check holdtime  or: make check-exercise EX=holdtime
 *
 * This file is yours, all of it: lessons/harness/holdtime.h says what it
 * must define and what it may call; the harness (the board, the till, the
 * handlers, the renderer, the invariant) is built by the project.
 */
#include <stdlib.h>

#include "cd_mutex.h"
#include "cd_thread.h"
#include "harness/holdtime.h"

/* Your part: the board's lock. */
struct dash {
    cd_mutex_t lock; /* guards every field of the board */
};

dash_t *dash_create(void)
{
    dash_t *d = calloc(1, sizeof *d);
    if (d && cd_mutex_init(&d->lock, "board") != 0) {
        free(d);
        d = NULL;
    }
    return d;
}

void dash_destroy(dash_t *d)
{
    if (d)
        cd_mutex_destroy(&d->lock);
    free(d);
}

/* The till's sale: quick, under the lock. */
void record_sale(dash_t *d, board_t *b, int product)
{
    cd_mutex_lock(&d->lock);
    cd_point("record sale");
    b->sales[product]++;
    b->version++;
    cd_mutex_unlock(&d->lock);
}

/* A handler's request: render the board and show the report. */
void refresh(dash_t *d, board_t *b)
{
    report_t r;
    cd_mutex_lock(&d->lock);
    cd_point("render");
    render_report(b, &r);        /* 5 ms with the board locked: every */
    cd_point("show");
    show_report(b, &r);          /* other handler and the till wait */
    cd_mutex_unlock(&d->lock);
}
