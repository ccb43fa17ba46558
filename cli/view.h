/*
 * view.h - the live terminal view, and the one way to give the terminal back.
 *
 * cd_view_run() shows a run as it happens (see observer.h for what it
 * samples and screen.h for what a frame holds) and lets the learner pause
 * it, slow it down or speed it up, and quit. It is the only part of
 * concdemo that includes ncurses. While it owns the screen, whatever the
 * process writes to stderr (a sanitizer's report, an internal error) is
 * held back in a temporary file and written out when the terminal is
 * given back, so it is neither lost nor smeared over the frame.
 *
 * Every way out - the end of the run, `q`, Ctrl-C or SIGTERM, a crash, the
 * watchdog's stuck handler, exit() from anywhere - goes through
 * cd_view_restore().
 */
#ifndef CD_VIEW_H
#define CD_VIEW_H

#include <stddef.h>

#include "run.h"
#include "screen.h"
#include "step.h"

/* 0 if the view can run here: stdin and stdout are terminals of at least
 * CD_SCREEN_MIN_W x CD_SCREEN_MIN_H. Otherwise -1 and a one-line reason in
 * why. */
int cd_view_check(char *why, size_t size);

/* How a view ended. */
typedef struct cd_view_end {
    int run_rc;    /* what cd_run returned (0, or -errno: see r->verdict) */
    int signo;     /* the signal that ended the view early, 0 if none */
    char why[256]; /* why the view could not start */
} cd_view_end_t;

/* Runs variant of s under the live view until the user leaves (a key
 * after the verdict, `q`, or a signal). Returns 0 with *r and *end filled;
 * or -1 with a one-line reason in end->why when the view could not start
 * (the terminal is left as it was, nothing ran). */
int cd_view_run(const cd_scenario_t *s, int variant, const cd_run_opts_t *o,
                cd_run_result_t *r, cd_view_end_t *end);

/* What a view shows: the run of a scenario (the observer, observer.h) or
 * a watched program (watch.h). The view calls sample() once a frame, then
 * screen() to draw it; stop() for q or a signal. pause, scale and the step
 * functions may be NULL: that source has no such control. */
typedef struct cd_view_source {
    void *self;
    void (*sample)(void *self);
    int (*finished)(void *self);
    void (*screen)(void *self, cd_screen_in_t *in);
    void (*stop)(void *self);
    void (*pause)(void *self);
    void (*scale)(void *self, int dir);
    int (*stepping)(void *self);
    const cd_step_ask_t *(*ask)(void *self);
    void (*answer)(void *self, int id);
    void (*autoplay)(void *self);
} cd_view_source_t;

/* Takes the screen and shows src until the user leaves (a key after it
 * finished, q, or a signal: *signo). 0; or -1 with a one-line reason in
 * why when the screen could not be taken. */
int cd_view_drive(const cd_view_source_t *src, char *why, size_t size,
                  int *signo);

/* Gives the terminal back (attributes, cursor, the normal screen, the
 * saved tty modes) and writes out the held stderr. Does nothing when the
 * view is not on the screen, or the second time. Safe from any thread and
 * from a signal handler. */
void cd_view_restore(void);

#endif /* CD_VIEW_H */
