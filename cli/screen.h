/*
 * screen.h - the live view's screen model: one frame as a grid of text.
 *
 * cd_screen_render() turns what the observer saw - a registry snapshot,
 * the scenario's live figures (gauges, inside the snapshot), the state
 * history of each thread, the newest trace events, the deadlock cycle or
 * what the threads of a stuck run wait for, in step mode the decision waiting for the learner and, once the run is
 * over, the verdict (and a controlled run's schedule) - into rows of
 * characters, each with a style. It knows nothing of terminals: cli/view.c paints the grid with
 * ncurses, --view=text prints it, and the tests assert on it. Text is
 * ASCII only, so that a frame reads the same in any terminal and in a log.
 *
 * Rendering is a pure function of its input: it never reads the live
 * registry, so names come from the snapshot and a frame can be built from
 * a snapshot made up by a test.
 */
#ifndef CD_SCREEN_H
#define CD_SCREEN_H

#include <stdint.h>
#include <stdio.h>

#include "../demos/scenario.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_trace.h"
#include "step.h"

/* Below this size the frame says so instead of drawing. */
#define CD_SCREEN_MIN_W 60
#define CD_SCREEN_MIN_H 18
/* Above this size the extra room stays blank. */
#define CD_SCREEN_MAX_W 400
#define CD_SCREEN_MAX_H 200

/* What a cell means; view.c maps each style to colours and attributes. */
typedef enum cd_style {
    CD_S_NORMAL = 0,
    CD_S_DIM,      /* done threads, unused detail */
    CD_S_HEADER,   /* section headers */
    CD_S_BAR,      /* the title bar and the status line */
    CD_S_KEY,      /* a key in the status line */
    CD_S_RUNNING,
    CD_S_SLEEPING,
    CD_S_BLOCKED,
    CD_S_PAUSED,
    CD_S_ABORTED,
    CD_S_CYCLE,    /* a thread or lock in the deadlock cycle, or a thread
                      of a stuck run and what it waits on */
    CD_S_GOOD,     /* verdict HELD, a lock acquired */
    CD_S_BAD,      /* verdict VIOLATED / DEADLOCK / STUCK / LIVELOCK */
    CD_S_WARN,     /* verdict TIMEOUT / POTENTIAL / STOPPED */
    CD_S_COUNT_
} cd_style_t;

typedef struct cd_cell {
    char ch;
    unsigned char style;
} cd_cell_t;

typedef struct cd_grid {
    int w, h;
    cd_cell_t *cells; /* h rows of w cells */
} cd_grid_t;

/* Sets the grid to w x h (clamped to 1..CD_SCREEN_MAX_*), blank. Returns
 * 0 or -ENOMEM (the grid is then 0 x 0). */
int cd_grid_resize(cd_grid_t *g, int w, int h);
void cd_grid_free(cd_grid_t *g);

static inline cd_cell_t *cd_grid_at(const cd_grid_t *g, int x, int y)
{
    return &g->cells[y * g->w + x];
}

/* Row y as text without trailing blanks, into buf (NUL-terminated). */
void cd_grid_row(const cd_grid_t *g, int y, char *buf, size_t size);
/* Every row, each ending in a newline. */
void cd_grid_print(const cd_grid_t *g, FILE *out);
/* Finds needle in the rows; 1 and its position, or 0. */
int cd_grid_find(const cd_grid_t *g, const char *needle, int *x, int *y);

/* The state of each thread over the last CD_HISTORY_LEN frames. */
#define CD_HISTORY_LEN 128
typedef struct cd_history {
    unsigned frames; /* frames pushed so far */
    unsigned char state[CD_MAX_THREADS][CD_HISTORY_LEN];
} cd_history_t;

/* Adds one frame: every thread's state in snap. */
void cd_history_push(cd_history_t *h, const cd_snapshot_t *snap);

/* Everything one frame shows. Pointers may be NULL where noted. */
typedef struct cd_screen_in {
    const cd_scenario_t *scenario;
    int variant;
    const cd_snapshot_t *snap;
    const cd_history_t *hist;    /* NULL: no history column */
    const cd_trace_event_t *log; /* newest events, oldest first */
    int nlog;
    const cd_cycle_t *cycle;     /* NULL: no deadlock (yet) */
    const cd_stuck_t *stuck;     /* NULL: not a stuck run (or not yet) */
    const cd_verdict_t *verdict; /* NULL while the run goes on */
    int latency_permille;
    int interactive;             /* keys work (the terminal view) */
    int help;                    /* draw the key help over the frame */
    /* Step mode (step.h): the decision waiting for the learner (NULL:
     * none now), drawn as the STEP panel; stepping: the learner decides
     * (the status line shows the step keys). */
    const cd_step_ask_t *step;
    int stepping;
    char bad_key;                /* the last key answered nothing (0: none) */
    int virtual_clock;           /* a controlled run: snap->t_ns is virtual */
    /* A controlled run that is over: its schedule string (NULL: not a
     * controlled run; "": too long to keep), how many choices it holds,
     * and the command that replays it (NULL: none). */
    const char *schedule;
    int nchoices;
    const char *replay;
} cd_screen_in_t;

/* Draws one frame into g (its current size). Can't fail. */
void cd_screen_render(cd_grid_t *g, const cd_screen_in_t *in);

/* "transfer-1 holds acct-A -> waits acct-B -> held by transfer-2 -> waits
 * acct-A", with names from snap. Returns what snprintf returns. */
int cd_screen_cycle_line(const cd_cycle_t *c, const cd_snapshot_t *snap,
                         char *buf, size_t size);

#endif /* CD_SCREEN_H */
