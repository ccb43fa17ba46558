/*
 * screen_probe.h - the live view's screen model as the tests look at it:
 * render a frame into one grid and one text copy, then find rows in it.
 * Shared by the view and step suites.
 */
#ifndef CD_TEST_SCREEN_PROBE_H
#define CD_TEST_SCREEN_PROBE_H

#include "../cli/screen.h"

/* The last frame rendered, as cells and as text (rows joined by '\n'). */
extern cd_grid_t probe_grid;
extern char probe_text[CD_SCREEN_MAX_H * (CD_SCREEN_MAX_W + 1)];

/* Renders in at w x h into probe_grid and probe_text. */
void probe_render(const cd_screen_in_t *in, int w, int h);
/* The row that holds needle; "" (and a test failure) if none does. */
const char *probe_row_with(const char *needle);
/* The style of the cell dx to the right of needle's start; -1 if absent. */
int probe_style_at(const char *needle, int dx);

#endif /* CD_TEST_SCREEN_PROBE_H */
