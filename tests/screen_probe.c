/*
 * screen_probe.c - rendering frames for the view and step suites.
 */
#include "screen_probe.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

cd_grid_t probe_grid;
char probe_text[CD_SCREEN_MAX_H * (CD_SCREEN_MAX_W + 1)];

void probe_render(const cd_screen_in_t *in, int w, int h)
{
    CU_ASSERT_FATAL(cd_grid_resize(&probe_grid, w, h) == 0);
    cd_screen_render(&probe_grid, in);
    size_t at = 0;
    for (int y = 0; y < probe_grid.h; y++) {
        cd_grid_row(&probe_grid, y, probe_text + at, sizeof probe_text - at);
        at += strlen(probe_text + at);
        probe_text[at++] = '\n';
    }
    probe_text[at] = '\0';
}

const char *probe_row_with(const char *needle)
{
    static char row[CD_SCREEN_MAX_W + 1];
    int x, y;
    if (!cd_grid_find(&probe_grid, needle, &x, &y)) {
        fprintf(stderr, "\n  no row has \"%s\" in:\n%s", needle, probe_text);
        CU_FAIL("row not found");
        return "";
    }
    cd_grid_row(&probe_grid, y, row, sizeof row);
    return row;
}

int probe_style_at(const char *needle, int dx)
{
    int x, y;
    if (!cd_grid_find(&probe_grid, needle, &x, &y))
        return -1;
    return cd_grid_at(&probe_grid, x + dx, y)->style;
}
