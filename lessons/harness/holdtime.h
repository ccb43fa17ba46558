/*
 * holdtime.h - the exercise holdtime: what the learner's file defines,
 * and what the harness (lessons/harness/holdtime.c) gives it.
 *
 * The harness owns the board, the till that sells, the handlers that ask
 * for reports, the report's renderer, the invariant and the verdict,
 * compiled by the project: nothing in the learner's file (a #define, a
 * static of the same name) reaches it. The learner's file defines exactly
 * the functions under "yours"; its state (the board's lock) goes in its
 * own struct dash, which the harness only passes around by pointer. Any
 * other global it defines fails the build.
 *
 * exercise-defines: dash_create dash_destroy record_sale refresh
 */
#ifndef EX_HOLDTIME_H
#define EX_HOLDTIME_H

#define BOARD_PRODUCTS 4

/* A report of the board, as it was at `version`. */
typedef struct report {
    long version; /* the board's version it was rendered from */
    long total;   /* units sold, all products */
    int top;      /* the best-selling product */
} report_t;

/* The shared board: everything in it is guarded by your lock. */
typedef struct board {
    long sales[BOARD_PRODUCTS]; /* units sold per product */
    long version;               /* one more with every sale */
    report_t report;            /* what the dashboard shows */
} board_t;

/* ---- the harness's: call them, do not define them ---- */

/* Renders a report of *b into *out: 5 ms of work (a simulated latency;
 * handler 1 asks for the full report, 12 ms).
 * It reads *b all along: pass the board only while you hold its lock, or
 * a copy of your own. */
void render_report(const board_t *b, report_t *out);

/* Puts *r up on the dashboard: b->report = *r (the dashboard's own books
 * see it). Call it holding the board's lock. */
void show_report(board_t *b, const report_t *r);

/* ---- yours: define these in lessons/exercises/holdtime.c ---- */

typedef struct dash dash_t; /* define struct dash: your lock goes there */

/* Makes your part before the run starts: NULL on failure. */
dash_t *dash_create(void);

/* Frees it after every thread has gone. */
void dash_destroy(dash_t *d);

/* The till's sale of one unit of product (0 .. BOARD_PRODUCTS-1): adds it
 * to b->sales and bumps b->version. The till calls it every 1 ms, while
 * the handlers refresh. */
void record_sale(dash_t *d, board_t *b, int product);

/* A handler's request: render a report of the board and show it. Several
 * handlers call it at once, each several times. */
void refresh(dash_t *d, board_t *b);

#endif /* EX_HOLDTIME_H */
