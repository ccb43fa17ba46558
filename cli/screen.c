/*
 * screen.c - laying out one frame of the live view.
 *
 * Top to bottom: the title bar, the variant's summary, the live figures,
 * a row per thread, a row per lock (or other object), the deadlock cycle
 * or a stuck run's waits when there are, the newest events, the verdict once the run is over,
 * and the status line with the keys. When rows are short they are handed
 * out by priority: the verdict and the cycle first, then threads, then
 * locks; the event log gets what is left. Text longer than its column is
 * cut at the column, except names: a name too long for its column loses
 * its middle ("che~ut-12"), since names that differ mostly differ at the
 * end. The cycle and the verdict wrap at word boundaries.
 */
#include "screen.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cd_waitfor.h"

/* Longest schedule or replay line the final frame draws (more is cut). */
#define CD_SCHEDULE_TEXT_MAX 1024

/* ================================ the grid =============================== */

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void clear(cd_grid_t *g)
{
    for (int i = 0; i < g->w * g->h; i++)
        g->cells[i] = (cd_cell_t){ ' ', CD_S_NORMAL };
}

int cd_grid_resize(cd_grid_t *g, int w, int h)
{
    w = clamp(w, 1, CD_SCREEN_MAX_W);
    h = clamp(h, 1, CD_SCREEN_MAX_H);
    if (!g->cells || w != g->w || h != g->h) {
        free(g->cells);
        g->cells = malloc((size_t)w * (size_t)h * sizeof *g->cells);
        if (!g->cells) {
            g->w = g->h = 0;
            return -ENOMEM;
        }
        g->w = w;
        g->h = h;
    }
    clear(g);
    return 0;
}

void cd_grid_free(cd_grid_t *g)
{
    free(g->cells);
    *g = (cd_grid_t){ 0 };
}

void cd_grid_row(const cd_grid_t *g, int y, char *buf, size_t size)
{
    size_t n = 0;
    if (size == 0)
        return;
    for (int x = 0; y >= 0 && y < g->h && x < g->w && n + 1 < size; x++)
        buf[n++] = cd_grid_at(g, x, y)->ch;
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
}

void cd_grid_print(const cd_grid_t *g, FILE *out)
{
    char row[CD_SCREEN_MAX_W + 1];
    for (int y = 0; y < g->h; y++) {
        cd_grid_row(g, y, row, sizeof row);
        fprintf(out, "%s\n", row);
    }
}

int cd_grid_find(const cd_grid_t *g, const char *needle, int *x, int *y)
{
    char row[CD_SCREEN_MAX_W + 1];
    for (int r = 0; r < g->h; r++) {
        cd_grid_row(g, r, row, sizeof row);
        const char *at = strstr(row, needle);
        if (at) {
            *x = (int)(at - row);
            *y = r;
            return 1;
        }
    }
    return 0;
}

/* Writes text from column x of row y, at most maxw columns and never past
 * the edge; bytes that are not printable ASCII show as '?'. Returns the
 * columns used. */
static int put(cd_grid_t *g, int x, int y, int maxw, int style,
               const char *text)
{
    int n = 0;
    if (y < 0 || y >= g->h)
        return 0;
    for (; text[n] && n < maxw && x + n < g->w; n++) {
        unsigned char c = (unsigned char)text[n];
        *cd_grid_at(g, x + n, y) =
            (cd_cell_t){ (char)(c >= 32 && c < 127 ? c : '?'),
                         (unsigned char)style };
    }
    return n;
}

/* name in at most w columns, into buf: whole when it fits, else its head,
 * '~' and its tail ("checkout-12" in 9 columns: "che~ut-12"). Names of
 * one team share their start and differ at the end, so the tail gets two
 * thirds: cut at the column, checkout-10, -11 and -12 would all read
 * "checkout-1". Returns buf. */
static const char *fit_name(const char *name, int w, char *buf, size_t size)
{
    int len = (int)strlen(name);
    if (w < 4 || len <= w || (size_t)w >= size) {
        snprintf(buf, size, "%.*s", w < 0 ? 0 : w, name);
        return buf;
    }
    int head = (w - 1) / 3, tail = w - 1 - head;
    snprintf(buf, size, "%.*s~%s", head, name, name + len - tail);
    return buf;
}

/* A name inside a column's text, with `room` columns left for it: elided
 * to fit, or whole when the room is too small to elide in (the column
 * then cuts the text). */
static const char *fit_in(const char *name, int room, char *buf, size_t size)
{
    return room < 4 ? name : fit_name(name, room, buf, size);
}

/* put() for a name: elided in the middle when longer than maxw. */
static int put_name(cd_grid_t *g, int x, int y, int maxw, int style,
                    const char *name)
{
    char buf[CD_SCREEN_MAX_W + 1];
    return put(g, x, y, maxw, style, fit_name(name, maxw, buf, sizeof buf));
}

static int putf(cd_grid_t *g, int x, int y, int maxw, int style,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int putf(cd_grid_t *g, int x, int y, int maxw, int style,
                const char *fmt, ...)
{
    char buf[CD_SCREEN_MAX_W + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return put(g, x, y, maxw, style, buf);
}

static void fill_row(cd_grid_t *g, int y, int style)
{
    for (int x = 0; x < g->w; x++)
        *cd_grid_at(g, x, y) = (cd_cell_t){ ' ', (unsigned char)style };
}

/* Word-wraps text into rows of width w from (x, y), at most maxrows; when
 * it does not fit, the last row ends in "...". Draws only when g is not
 * NULL. Returns the rows it uses. */
static int wrap(cd_grid_t *g, int x, int y, int w, int maxrows, int style,
                const char *text)
{
    const char *p = text;
    int rows = 0;
    while (*p && rows < maxrows) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        int len = (int)strlen(p), take = len;
        if (len > w) {
            take = w;
            while (take > 0 && p[take] != ' ')
                take--;
            if (take == 0)
                take = w; /* one word longer than the row: cut it */
        }
        if (g) {
            char line[CD_SCREEN_MAX_W + 1];
            memcpy(line, p, (size_t)take);
            line[take] = '\0';
            if (rows == maxrows - 1 && take < len && w > 3) {
                if (take > w - 3)
                    take = w - 3;
                strcpy(line + take, "...");
            }
            put(g, x, y + rows, w, style, line);
        }
        p += take;
        rows++;
    }
    return rows;
}

/* ============================ small formatters =========================== */

/* "85ms", "0.9s", "12.5s": short, for narrow columns. */
static void duration(int64_t ns, char *buf, size_t size)
{
    if (ns < 0)
        ns = 0;
    if (ns < 100000000)
        snprintf(buf, size, "%dms", (int)(ns / 1000000));
    else if (ns < 100000000000LL)
        snprintf(buf, size, "%.1fs", (double)ns / 1e9);
    else
        snprintf(buf, size, "%ds", (int)(ns / 1000000000));
}

/* "x1", "x100", "x0.25": the latency scale. */
static void scale_text(int permille, char *buf, size_t size)
{
    if (permille % 1000 == 0)
        snprintf(buf, size, "x%d", permille / 1000);
    else
        snprintf(buf, size, "x%g", permille / 1000.0);
}

/* The cycle's link of thread id, or NULL. */
static const cd_cycle_link_t *cycle_link(const cd_cycle_t *c, int id)
{
    for (int k = 0; c && k < c->len; k++)
        if (c->link[k].thread == id)
            return &c->link[k];
    return NULL;
}

/* A stuck run's wait of thread id, or NULL. */
static const cd_stuck_wait_t *stuck_wait(const cd_stuck_t *st, int id)
{
    for (int k = 0; st && k < st->len; k++)
        if (st->wait[k].thread == id)
            return &st->wait[k];
    return NULL;
}

/* Drawn in the cycle's colour: a thread of the deadlock cycle, or one of
 * a stuck run. */
static int highlighted_thread(const cd_screen_in_t *in, int id)
{
    return cycle_link(in->cycle, id) || stuck_wait(in->stuck, id);
}

/* ...and an object that such a thread holds or waits for. */
static int highlighted_obj(const cd_screen_in_t *in, int id)
{
    const cd_cycle_t *c = in->cycle;
    const cd_stuck_t *st = in->stuck;
    for (int k = 0; c && k < c->len; k++)
        if (c->link[k].waits == id || c->link[k].holds == id)
            return 1;
    for (int k = 0; st && k < st->len; k++)
        if (st->wait[k].obj == id)
            return 1;
    return 0;
}

int cd_screen_cycle_line(const cd_cycle_t *c, const cd_snapshot_t *snap,
                         char *buf, size_t size)
{
    size_t total = 0;
    if (size)
        buf[0] = '\0';
    for (int k = 0; k < c->len; k++) {
        const cd_cycle_link_t *l = &c->link[k];
        size_t at = total < size ? total : size;
        int n = k == 0 ? snprintf(buf + at, size - at,
                                  "%s holds %s -> waits %s",
                                  cd_snap_thread_name(snap, l->thread),
                                  cd_snap_object_name(snap, l->holds),
                                  cd_snap_object_name(snap, l->waits))
                       : snprintf(buf + at, size - at,
                                  " -> held by %s -> waits %s",
                                  cd_snap_thread_name(snap, l->thread),
                                  cd_snap_object_name(snap, l->waits));
        if (n < 0)
            return n;
        total += (size_t)n;
    }
    return (int)total;
}

/* ================================= threads =============================== */

static int state_style(int state)
{
    switch (state) {
    case CD_T_RUNNING: return CD_S_RUNNING;
    case CD_T_SLEEPING: return CD_S_SLEEPING;
    case CD_T_BLOCKED: return CD_S_BLOCKED;
    case CD_T_PAUSED: return CD_S_PAUSED;
    case CD_T_ABORTED: return CD_S_ABORTED;
    case CD_T_DONE: return CD_S_DIM;
    default: return CD_S_NORMAL;
    }
}

/* One character per frame in the history column. */
static char state_mark(int state)
{
    switch (state) {
    case CD_T_NEW: return '.';
    case CD_T_RUNNING: return '=';
    case CD_T_SLEEPING: return '~';
    case CD_T_BLOCKED: return '#';
    case CD_T_PAUSED: return '|';
    case CD_T_ABORTED: return '!';
    case CD_T_DONE: return '_';
    default: return ' ';
    }
}

/* The state column's text, in `width` columns. */
static void state_text(const cd_screen_in_t *in, const cd_thread_info_t *t,
                       int width, char *buf, size_t size)
{
    const cd_snapshot_t *s = in->snap;
    const cd_cycle_link_t *l = cycle_link(in->cycle, t->id);
    const cd_stuck_wait_t *sw = stuck_wait(in->stuck, t->id);
    const char *how = t->wait_timed ? "timed wait for" : "blocked on";
    char d[16], fit[CD_NAME_MAX + 1];
    duration(s->t_ns - t->since_ns, d, sizeof d);
    /* Once the abort ended a deadlocked or stuck thread, its row still
     * says what it was stuck on: that is the picture to remember. */
    if ((l || (sw && sw->obj)) && t->state == CD_T_ABORTED) {
        snprintf(buf, size, "aborted: waited %s",
                 fit_in(cd_snap_object_name(s, l ? l->waits : sw->obj),
                        width - 16, fit, sizeof fit));
        return;
    }
    switch (t->state) {
    case CD_T_BLOCKED:
        if (t->joining) {
            snprintf(buf, size, "joining %s %s",
                     fit_in(cd_snap_thread_name(s, t->joining),
                            width - (int)strlen(d) - 9, fit, sizeof fit),
                     d);
            break;
        }
        /* How long matters here: in a deadlock it only grows. */
        snprintf(buf, size, "%s %s %s", how,
                 fit_in(cd_snap_object_name(s, t->waiting_on),
                        width - (int)(strlen(how) + strlen(d)) - 2, fit,
                        sizeof fit),
                 d);
        break;
    case CD_T_SLEEPING:
        snprintf(buf, size, "sleeping: %s", t->what ? t->what : "?");
        break;
    case CD_T_RUNNING:
        snprintf(buf, size, "running");
        break;
    case CD_T_NEW:
        snprintf(buf, size, "new (at the start gate)");
        break;
    default:
        snprintf(buf, size, "%s", cd_thread_state_name(t->state));
    }
}

/* A thread's latest event of kind op in the log, or NULL: the record
 * keeps only the op, the log has a point's label and a latency's length. */
static const cd_trace_event_t *from_log(const cd_screen_in_t *in, int id,
                                        int op)
{
    for (int i = in->nlog - 1; i >= 0; i--)
        if (in->log[i].thread == id && in->log[i].op == op)
            return &in->log[i];
    return NULL;
}

/* The last-op column's text, in `width` columns. */
static void last_op_text(const cd_screen_in_t *in, const cd_thread_info_t *t,
                         int width, char *buf, size_t size)
{
    cd_trace_event_t ev = { .op = t->last_op, .obj = t->last_obj };
    const cd_trace_event_t *seen = from_log(in, t->id, t->last_op);
    char d[16], fit[CD_NAME_MAX + 1];

    if (t->last_op == CD_OP_NONE) {
        snprintf(buf, size, "-");
    } else if (t->last_op == CD_OP_LATENCY) {
        /* The state column names the latency; say how long it lasts. */
        duration(seen ? seen->arg * 1000 : 0, d, sizeof d);
        snprintf(buf, size, "latency %s", seen ? d : "");
    } else {
        if (t->last_op == CD_OP_POINT && seen)
            ev.label = seen->label;
        const char *op = cd_op_name(t->last_op);
        snprintf(buf, size, "%s %s", op,
                 fit_in(cd_trace_subject(&ev, in->snap),
                        width - (int)strlen(op) - 1, fit, sizeof fit));
    }
}

/* The holds column's text, in `width` columns: one name is elided to
 * fit; a list is cut at the column (its first names are the oldest). */
static void holds_text(const cd_screen_in_t *in, const cd_thread_info_t *t,
                       int width, char *buf, size_t size)
{
    const cd_snapshot_t *s = in->snap;
    const cd_cycle_link_t *l = cycle_link(in->cycle, t->id);
    char fit[CD_NAME_MAX + 1];
    size_t at = 0;
    if (l && t->state == CD_T_ABORTED && t->nheld == 0) {
        /* Released by the abort; held until then. */
        snprintf(buf, size, "(%s)",
                 fit_in(cd_snap_object_name(s, l->holds), width - 2, fit,
                        sizeof fit));
        return;
    }
    if (t->nheld == 1) {
        snprintf(buf, size, "%s",
                 fit_in(cd_snap_object_name(s, t->held[0]), width, fit,
                        sizeof fit));
        return;
    }
    buf[0] = '\0';
    for (int i = 0; i < t->nheld && at < size; i++) {
        int n = snprintf(buf + at, size - at, "%s%s", i ? "," : "",
                         cd_snap_object_name(s, t->held[i]));
        if (n < 0)
            break;
        at += (size_t)n;
    }
    if (t->nheld == 0)
        snprintf(buf, size, "-");
}

/* Which rows get shown first when not all fit: the cycle, the blocked,
 * the paused, the busy, then the rest. */
static int thread_rank(const cd_screen_in_t *in, const cd_thread_info_t *t)
{
    if (highlighted_thread(in, t->id))
        return 0;
    switch (t->state) {
    case CD_T_BLOCKED: return 1;
    case CD_T_PAUSED: return 2;
    case CD_T_RUNNING:
    case CD_T_SLEEPING: return 3;
    case CD_T_NEW: return 4;
    default: return 5;
    }
}

/* Column layout of the thread rows for a given width. */
typedef struct tcols {
    int name, state, holds, last, hist; /* widths */
} tcols_t;

/* The name column grows to fit names up to this long, as long as the
 * history column keeps HIST_KEEP marks. */
#define NAME_COL_MAX 20
#define HIST_KEEP 5

/* At 80 columns: 10 + 27 + 11 + 19 and 9 frames of history. Longer names
 * (up to NAME_COL_MAX) widen the name column first, out of the room left
 * over less HIST_KEEP marks of history; wider, half of the extra goes to
 * the history (up to CD_HISTORY_LEN marks) and the rest to the text
 * columns; narrower, the history goes first, then the last op, the state
 * and the holds shrink. A name still wider than its column is elided
 * (fit_name). */
static tcols_t thread_columns(int w, int with_hist, int longest_name)
{
    tcols_t c = { 10, 27, 11, 19, 0 };
    int left = w - (c.name + c.state + c.holds + c.last + 4);
    int grow = (longest_name < NAME_COL_MAX ? longest_name : NAME_COL_MAX) -
               c.name;
    /* ...but the history keeps a few marks (an elided name still reads). */
    if (grow > left - (with_hist ? HIST_KEEP : 0))
        grow = left - (with_hist ? HIST_KEEP : 0);
    if (grow > 0) {
        c.name += grow;
        left -= grow;
    }
    if (with_hist && left > 0) {
        c.hist = 9 + (left - 9) / 2;
        if (c.hist > CD_HISTORY_LEN)
            c.hist = CD_HISTORY_LEN;
        if (c.hist > left)
            c.hist = left;
        left -= c.hist;
    }
    if (left > 0) {
        c.state += left / 3;
        c.holds += left / 3;
        c.last += left - 2 * (left / 3);
    }
    int *shrink[] = { &c.last, &c.state, &c.holds };
    const int floor[] = { 8, 16, 8 };
    for (int i = 0; i < 3 && left < 0; i++) {
        int cut = -left;
        if (*shrink[i] - cut < floor[i])
            cut = *shrink[i] - floor[i];
        *shrink[i] -= cut;
        left += cut;
    }
    return c;
}

static void draw_history(cd_grid_t *g, int x, int y, int w,
                         const cd_history_t *h, int id)
{
    unsigned n = h->frames < CD_HISTORY_LEN ? h->frames : CD_HISTORY_LEN;
    if ((unsigned)w < n)
        n = (unsigned)w;
    /* Newest at the right edge of the column. */
    for (unsigned k = 0; k < n; k++) {
        unsigned frame = h->frames - n + k;
        int st = h->state[id - 1][frame % CD_HISTORY_LEN];
        char mark[2] = { state_mark(st), '\0' };
        put(g, x + w - (int)n + (int)k, y, 1, state_style(st), mark);
    }
}

static void draw_thread(cd_grid_t *g, int y, const cd_screen_in_t *in,
                        const cd_thread_info_t *t, const tcols_t *c)
{
    char buf[256];
    int x = 0, in_cycle = highlighted_thread(in, t->id);
    int st = state_style(t->state);

    put_name(g, x, y, c->name, in_cycle ? CD_S_CYCLE : CD_S_NORMAL, t->name);
    x += c->name + 1;
    state_text(in, t, c->state, buf, sizeof buf);
    put(g, x, y, c->state, in_cycle ? CD_S_CYCLE : st, buf);
    x += c->state + 1;
    holds_text(in, t, c->holds, buf, sizeof buf);
    put(g, x, y, c->holds, in_cycle ? CD_S_CYCLE : CD_S_NORMAL, buf);
    x += c->holds + 1;
    last_op_text(in, t, c->last, buf, sizeof buf);
    put(g, x, y, c->last, CD_S_NORMAL, buf);
    x += c->last + 1;
    if (c->hist > 0 && in->hist && t->id <= CD_MAX_THREADS)
        draw_history(g, x, y, c->hist, in->hist, t->id);
}

#define NRANKS 6

/* Reorders order[0..n) by rank[0..n) (0 first), keeping the id order
 * within a rank. Ranks are few, so one pass per rank. */
static void by_rank(int *order, const unsigned char *rank, int n)
{
    static int sorted[CD_MAX_OBJECTS > CD_MAX_THREADS ? CD_MAX_OBJECTS
                                                      : CD_MAX_THREADS];
    int k = 0;
    for (int r = 0; r < NRANKS; r++)
        for (int i = 0; i < n; i++)
            if (rank[i] == r)
                sorted[k++] = order[i];
    memcpy(order, sorted, (size_t)n * sizeof *order);
}

/* Fills order[] with the thread indexes to show, best first when they do
 * not all fit; returns how many there are in all. */
static int thread_order(const cd_screen_in_t *in, int *order, int rows)
{
    static unsigned char rank[CD_MAX_THREADS];
    const cd_snapshot_t *s = in->snap;
    int n = 0;
    for (int i = 0; i < s->nthreads; i++)
        if (s->threads[i].state != CD_T_UNUSED) {
            rank[n] = (unsigned char)thread_rank(in, &s->threads[i]);
            order[n++] = i;
        }
    /* All fit: keep them in id order, so that rows do not jump. */
    if (n > rows)
        by_rank(order, rank, n);
    return n;
}

/* A note at the right end of a section's header row. */
static void header_note(cd_grid_t *g, int y, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void header_note(cd_grid_t *g, int y, const char *fmt, ...)
{
    char note[96];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(note, sizeof note, fmt, ap);
    va_end(ap);
    if (len > 0 && len < g->w)
        put(g, g->w - len - 1, y, len, CD_S_HEADER, note);
}

/* The longest name among the threads in use. */
static int longest_thread_name(const cd_snapshot_t *s)
{
    int most = 0;
    for (int i = 0; i < s->nthreads; i++) {
        int n = (int)strlen(s->threads[i].name);
        if (s->threads[i].state != CD_T_UNUSED && n > most)
            most = n;
    }
    return most;
}

static void draw_threads(cd_grid_t *g, int y, int rows,
                         const cd_screen_in_t *in)
{
    static int order[CD_MAX_THREADS];
    tcols_t c = thread_columns(g->w, in->hist != NULL,
                               longest_thread_name(in->snap));
    int n = thread_order(in, order, rows);

    fill_row(g, y, CD_S_HEADER);
    put(g, 0, y, c.name, CD_S_HEADER, "THREAD");
    int x = c.name + 1;
    put(g, x, y, c.state, CD_S_HEADER, "STATE");
    x += c.state + 1;
    put(g, x, y, c.holds, CD_S_HEADER, "HOLDS");
    x += c.holds + 1;
    put(g, x, y, c.last, CD_S_HEADER, "LAST OP");
    x += c.last + 1;
    if (c.hist > 0)
        put(g, x, y, c.hist, CD_S_HEADER,
            c.hist >= 36 ? "HISTORY =run ~sleep #blocked |pause"
                         : "HISTORY");
    int shown = n <= rows ? n : rows;
    for (int i = 0; i < shown; i++)
        draw_thread(g, y + 1 + i, in, &in->snap->threads[order[i]], &c);
    if (shown < n)
        header_note(g, y, "(+%d more not shown)", n - shown);
}

/* ================================= objects =============================== */

/* How the screen shows one kind of object. This is the one place a new
 * kind (a channel, a rwlock) plugs in: a case that names the kind, says
 * whether an object deserves a row, and writes its detail column, e.g.
 * a fill bar for a channel. Unknown kinds get name, owner and waiters. */
typedef struct obj_view {
    const char *kind;
    int worth_a_row;
    char detail[128];
} obj_view_t;

/* Appends part to the detail if the whole of it fits in width columns:
 * a detail column is cut between parts, never inside one. */
static void detail_add(obj_view_t *v, int width, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void detail_add(obj_view_t *v, int width, const char *fmt, ...)
{
    char part[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(part, sizeof part, fmt, ap);
    va_end(ap);
    size_t at = strlen(v->detail), n = strlen(part) + (at ? 2 : 0);
    if (at + n > (size_t)width || at + n >= sizeof v->detail)
        return;
    if (at)
        memcpy(v->detail + at, ", ", 2);
    memcpy(v->detail + at + n - strlen(part), part, strlen(part) + 1);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* A channel: a fill bar of depth against capacity (or the memory of an
 * unbounded one), its high-water mark and its drops. */
static void describe_chan(const cd_obj_info_t *o, obj_view_t *v, int width)
{
    char bar[16];
    v->kind = "chan";
    if (o->chan_capacity) {
        int cells = 10;
        int full = (int)((o->chan_depth * (uint64_t)cells +
                          o->chan_capacity - 1) / o->chan_capacity);
        for (int i = 0; i < cells; i++)
            bar[i] = i < full ? '#' : '.';
        bar[cells] = '\0';
        detail_add(v, width, "[%s] %llu/%llu", bar,
                   (unsigned long long)o->chan_depth,
                   (unsigned long long)o->chan_capacity);
    } else {
        detail_add(v, width, "depth %llu, %llu KiB (unbounded)",
                   (unsigned long long)o->chan_depth,
                   (unsigned long long)(o->chan_bytes / 1024));
    }
    detail_add(v, width, "high %llu", (unsigned long long)o->chan_high_water);
    detail_add(v, width, "drops %llu", (unsigned long long)o->chan_drops);
    if (o->chan_closed)
        detail_add(v, width, "closed");
}

/* A broadcast channel: how much of its ring is in use, what went out. */
static void describe_bcast(const cd_obj_info_t *o, obj_view_t *v, int width)
{
    v->kind = "bcst";
    detail_add(v, width, "kept %llu/%llu",
               (unsigned long long)o->chan_depth,
               (unsigned long long)o->chan_capacity);
    detail_add(v, width, "sent %llu", (unsigned long long)o->chan_sent);
    if (o->chan_closed)
        detail_add(v, width, "closed");
}

/* One subscriber: how far behind it is - past the capacity it has lagged,
 * and its next read says by how much - and what it missed so far. */
static void describe_bsub(const cd_obj_info_t *o, obj_view_t *v, int width)
{
    v->kind = "sub";
    if (o->chan_depth > o->chan_capacity)
        detail_add(v, width, "LAGGED by %llu",
                   (unsigned long long)(o->chan_depth - o->chan_capacity));
    else
        detail_add(v, width, "behind %llu/%llu",
                   (unsigned long long)o->chan_depth,
                   (unsigned long long)o->chan_capacity);
    detail_add(v, width, "missed %llu", (unsigned long long)o->chan_drops);
    detail_add(v, width, "got %llu", (unsigned long long)o->chan_received);
}

/* A oneshot: where its one exchange is (a reply awaited, sent, taken, or
 * dropped by a sender that will never answer). */
static void describe_oneshot(const cd_obj_info_t *o, obj_view_t *v, int width)
{
    static const char *const states[] = { "awaiting reply", "reply sent",
                                          "reply taken", "DROPPED" };
    v->kind = "1sht";
    detail_add(v, width, "%s", o->oneshot_state >= 0 && o->oneshot_state < 4
                                   ? states[o->oneshot_state] : "?");
}

/* A condition variable: what was sent, and what nobody heard - a lost
 * wake-up shows as "unheard", with the line that sent the last one. Its
 * waiters are in the WAITING column; "waking" counts those woken that
 * have not run yet. */
static void describe_cond(const cd_obj_info_t *o, obj_view_t *v, int width)
{
    v->kind = "cond";
    v->worth_a_row = o->cond_signals || o->cond_broadcasts || o->nwaiters;
    detail_add(v, width, "signals %llu", (unsigned long long)o->cond_signals);
    if (o->cond_broadcasts)
        detail_add(v, width, "broadcasts %llu",
                   (unsigned long long)o->cond_broadcasts);
    size_t before = strlen(v->detail);
    if (o->cond_unheard && o->cond_unheard_site.file)
        detail_add(v, width, "unheard %llu (last %s:%d)",
                   (unsigned long long)o->cond_unheard,
                   base_name(o->cond_unheard_site.file),
                   o->cond_unheard_site.line);
    if (strlen(v->detail) == before) /* no line, or no room for it */
        detail_add(v, width, "unheard %llu",
                   (unsigned long long)o->cond_unheard);
    if (o->cond_pending)
        detail_add(v, width, "waking %d", o->cond_pending);
}

static void describe_obj(const cd_obj_info_t *o, obj_view_t *v, int width)
{
    v->kind = "obj";
    v->worth_a_row = 1;
    v->detail[0] = '\0';
    switch (o->kind) {
    case CD_OBJ_MUTEX:
        v->kind = "mutex";
        /* A lock nobody has taken yet says nothing: count it instead. */
        v->worth_a_row = o->acquisitions || o->owner || o->nwaiters;
        /* Where the owner took it: the line to look at. */
        if (o->site.file && o->owner)
            detail_add(v, width, "at %s:%d", base_name(o->site.file),
                       o->site.line);
        detail_add(v, width, "taken %llu", (unsigned long long)o->acquisitions);
        detail_add(v, width, "waited %llu", (unsigned long long)o->contended);
        break;
    case CD_OBJ_RWLOCK:
        v->kind = "rw";
        v->worth_a_row = o->acquisitions || o->owner || o->nwaiters ||
                         o->readers;
        detail_add(v, width, "readers %d", o->readers);
        detail_add(v, width, "taken %llu", (unsigned long long)o->acquisitions);
        detail_add(v, width, "waited %llu", (unsigned long long)o->contended);
        break;
    case CD_OBJ_AMUTEX:
        v->kind = "amtx";
        v->worth_a_row = o->acquisitions || o->owner || o->nwaiters;
        detail_add(v, width, "taken %llu", (unsigned long long)o->acquisitions);
        break;
    case CD_OBJ_KEY:
    case CD_OBJ_AKEY:
        /* One row per live key; a freed key's record waits in its
         * table's pool for the next new key and shows nothing. Its
         * waiters are in the WAITING column, first come first. */
        v->kind = o->kind == CD_OBJ_KEY ? "key" : "akey";
        v->worth_a_row = o->live;
        if (o->site.file && o->owner)
            detail_add(v, width, "at %s:%d", base_name(o->site.file),
                       o->site.line);
        detail_add(v, width, "taken %llu", (unsigned long long)o->acquisitions);
        detail_add(v, width, "queue %d", o->nwaiters);
        break;
    case CD_OBJ_CHAN:
        describe_chan(o, v, width);
        break;
    case CD_OBJ_COND:
        describe_cond(o, v, width);
        break;
    case CD_OBJ_SEM:
        /* Its waiters are in the WAITING column; the count says why. */
        v->kind = "sem";
        detail_add(v, width, "count %lld", (long long)o->sem_count);
        break;
    case CD_OBJ_BCAST:
        describe_bcast(o, v, width);
        break;
    case CD_OBJ_BSUB:
        describe_bsub(o, v, width);
        break;
    case CD_OBJ_ONESHOT:
        describe_oneshot(o, v, width);
        break;
    case CD_OBJ_CONN:
        /* A socket: what its program still holds for it, what the kernel
         * has not sent, and whether a writer waits for room. */
        v->kind = "conn";
        v->worth_a_row = !o->io_closed;
        detail_add(v, width, "queued %llu", (unsigned long long)o->io_queued);
        detail_add(v, width, "unsent %llu", (unsigned long long)o->io_unsent);
        if (o->io_wblocked)
            detail_add(v, width, "WRITES BLOCKED");
        detail_add(v, width, "out %llu", (unsigned long long)o->io_written);
        detail_add(v, width, "in %llu", (unsigned long long)o->io_read);
        break;
    case CD_OBJ_SCOPE:
        /* Its owner waits in the WAITING column until its tasks end. */
        v->kind = "scope";
        v->worth_a_row = o->live;
        break;
    case CD_OBJ_WORKER:
        /* The owner column names the task it runs; idle says so. */
        v->kind = "wrkr";
        detail_add(v, width, "%s", o->owner ? "running a task" : "idle");
        break;
    default:
        break;
    }
}

/* "transfer-2", "2: checkout-1,checkout-3", or when that is wider than
 * width, "3: checkout-1 +2" (the name elided to fit): who is blocked on
 * obj. */
static int waiters_text(const cd_snapshot_t *s, int obj, int width,
                        char *buf, size_t size)
{
    const char *first = NULL;
    int n = 0;
    size_t at = 0;
    char names[256] = "";
    for (int i = 0; i < s->nthreads; i++) {
        const cd_thread_info_t *t = &s->threads[i];
        if (t->state != CD_T_BLOCKED || t->waiting_on != obj)
            continue;
        if (!first)
            first = t->name;
        int k = snprintf(names + at, at < sizeof names ? sizeof names - at : 0,
                         "%s%s", n ? "," : "", t->name);
        if (k > 0)
            at += (size_t)k;
        if (at >= sizeof names)
            at = sizeof names;
        n++;
    }
    char fit[CD_NAME_MAX + 1], count[32], more[32];
    if (n == 0) {
        snprintf(buf, size, "-");
    } else if (n == 1) {
        snprintf(buf, size, "%s", fit_name(names, width, fit, sizeof fit));
    } else if (snprintf(buf, size, "%d: %s", n, names) > width) {
        int used = snprintf(count, sizeof count, "%d: ", n) +
                   snprintf(more, sizeof more, " +%d", n - 1);
        snprintf(buf, size, "%s%s%s", count,
                 fit_name(first, width - used, fit, sizeof fit), more);
    }
    return n;
}

/* A key's waiters in its queue's order, "3: checkout-4>checkout-2>..."
 * (the first gets the key next), fitted to width like waiters_text. */
static int key_queue_text(const cd_snapshot_t *s, const cd_obj_info_t *o,
                          int width, char *buf, size_t size)
{
    char names[256] = "";
    size_t at = 0;
    int shown = 0;
    for (int i = 0; i < CD_KEY_QUEUE_SHOWN && o->key_queue[i]; i++, shown++) {
        int k = snprintf(names + at, sizeof names - at, "%s%s",
                         shown ? ">" : "",
                         cd_snap_thread_name(s, o->key_queue[i]));
        if (k < 0 || (size_t)k >= sizeof names - at)
            break;
        at += (size_t)k;
    }
    int n = o->nwaiters > shown ? o->nwaiters : shown;
    if (n == 0)
        snprintf(buf, size, "-");
    else if (snprintf(buf, size, "%d: %s%s", n, names,
                      n > shown ? ">..." : "") > width) {
        char fit[CD_NAME_MAX + 1];
        const char *first = shown ? cd_snap_thread_name(s, o->key_queue[0])
                                  : "?";
        snprintf(buf, size, "%d: %s>...", n,
                 fit_name(first, width - 8, fit, sizeof fit));
    }
    return n;
}

static int obj_rank(const cd_screen_in_t *in, const cd_obj_info_t *o)
{
    if (highlighted_obj(in, o->id))
        return 0;
    return o->nwaiters ? 1 : o->owner ? 2 : 3;
}

/* Fills order[] with the objects worth a row (best first when they do not
 * all fit); returns how many, and in *hidden those left out as unused. */
static int obj_order(const cd_screen_in_t *in, int *order, int rows,
                     int *hidden)
{
    static unsigned char rank[CD_MAX_OBJECTS];
    const cd_snapshot_t *s = in->snap;
    int n = 0;
    *hidden = 0;
    for (int i = 0; i < s->nobjs; i++) {
        obj_view_t v;
        if (s->objs[i].kind == 0)
            continue;
        describe_obj(&s->objs[i], &v, 0);
        if (v.worth_a_row || highlighted_obj(in, i + 1)) {
            rank[n] = (unsigned char)obj_rank(in, &s->objs[i]);
            order[n++] = i;
        } else {
            (*hidden)++;
        }
    }
    if (n > rows)
        by_rank(order, rank, n);
    return n;
}

static void draw_obj(cd_grid_t *g, int y, const cd_screen_in_t *in,
                     const cd_obj_info_t *o)
{
    char buf[320];
    obj_view_t v;
    int in_cycle = highlighted_obj(in, o->id);
    int x = 0, wname = 12, wkind = 5, wowner = 11, wwait = 16;

    describe_obj(o, &v, g->w - (wname + wkind + wowner + wwait + 4));
    put_name(g, x, y, wname, in_cycle ? CD_S_CYCLE : CD_S_NORMAL, o->name);
    x += wname + 1;
    put(g, x, y, wkind, CD_S_DIM, v.kind);
    x += wkind + 1;
    if (o->owner)
        put_name(g, x, y, wowner,
                 highlighted_thread(in, o->owner) ? CD_S_CYCLE
                                                       : CD_S_NORMAL,
                 cd_snap_thread_name(in->snap, o->owner));
    else
        put(g, x, y, wowner, CD_S_DIM, "free");
    x += wowner + 1;
    int key = o->kind == CD_OBJ_KEY || o->kind == CD_OBJ_AKEY;
    int nw = key ? key_queue_text(in->snap, o, wwait, buf, sizeof buf)
                 : waiters_text(in->snap, o->id, wwait, buf, sizeof buf);
    put(g, x, y, wwait, nw ? CD_S_BLOCKED : CD_S_DIM, buf);
    x += wwait + 1;
    put(g, x, y, g->w - x, CD_S_DIM, v.detail);
}

static void draw_objs(cd_grid_t *g, int y, int rows, const cd_screen_in_t *in)
{
    static int order[CD_MAX_OBJECTS];
    int hidden, n = obj_order(in, order, rows, &hidden);

    fill_row(g, y, CD_S_HEADER);
    putf(g, 0, y, g->w, CD_S_HEADER,
         "%-12s %-5s %-11s %-16s DETAIL", "LOCK/OBJECT", "KIND", "OWNER",
         "WAITING");
    int shown = n <= rows ? n : rows;
    if (shown < n && hidden)
        header_note(g, y, "(+%d more; %d not taken yet)", n - shown, hidden);
    else if (shown < n)
        header_note(g, y, "(+%d more not shown)", n - shown);
    else if (hidden)
        header_note(g, y, "(%d not taken yet)", hidden);
    if (n == 0) {
        put(g, 2, y + 1, g->w - 2, CD_S_DIM,
            hidden ? "no lock has been taken so far" : "no locks");
        return;
    }
    for (int i = 0; i < shown; i++)
        draw_obj(g, y + 1 + i, in, &in->snap->objs[order[i]]);
}

static int obj_rows_wanted(const cd_screen_in_t *in)
{
    static int order[CD_MAX_OBJECTS];
    int hidden, n = obj_order(in, order, CD_MAX_OBJECTS, &hidden);
    return n > 0 ? n : 1;
}

/* =============================== step panel ============================== */

/* What thread c will do when it runs, in the words of the event log: the
 * operation it waits at and its subject, and, when the registry says it
 * is already inside that operation, how it goes on. */
static void next_op_text(const cd_screen_in_t *in, const cd_step_choice_t *c,
                         char *buf, size_t size)
{
    cd_trace_event_t ev = { .op = c->op, .obj = c->obj, .label = c->label };
    const cd_thread_info_t *t = NULL;
    const char *hint = "";
    for (int i = 0; i < in->snap->nthreads; i++)
        if (in->snap->threads[i].id == c->id)
            t = &in->snap->threads[i];
    if (t && t->state == CD_T_NEW && c->op == CD_OP_START) {
        /* Not started yet: it goes to its team's start gate first (and
         * through it, if the gate is open). */
        snprintf(buf, size, "go to the start gate");
        return;
    }
    const cd_obj_info_t *o = c->obj > 0 && c->obj <= in->snap->nobjs
                                 ? &in->snap->objs[c->obj - 1]
                                 : NULL;
    if (t && t->state == CD_T_SLEEPING && c->op == CD_OP_LATENCY)
        hint = " (over)"; /* picking a sleeper ends its sleep */
    else if (t && t->state == CD_T_BLOCKED && c->obj == t->waiting_on &&
             o && o->kind == CD_OBJ_COND)
        /* Signalled, or (--spurious) woken for nothing: either way it
         * leaves the wait, and has nothing to take. */
        hint = " (wakes)";
    else if (t && t->state == CD_T_BLOCKED && c->obj == t->waiting_on)
        hint = " (free now)"; /* runnable while blocked: it can have it */
    snprintf(buf, size, "%s %s%s", cd_op_name(c->op),
             cd_trace_subject(&ev, in->snap), hint);
}

/* How many rows the panel would like: a header and one per thread. */
static int step_rows_wanted(const cd_screen_in_t *in)
{
    return in->step && in->step->n > 0 ? 1 + in->step->n : 0;
}

/* The STEP panel: which threads can take the next step, each with its key
 * and the operation it would perform, on `rows` rows (header included). */
static void draw_step(cd_grid_t *g, int y, int rows, const cd_screen_in_t *in)
{
    const cd_step_ask_t *a = in->step;
    char buf[256], site[64];
    /* The source line goes first when the screen is narrow. */
    int wkey = 5, wname = 12, wsite = g->w >= 76 ? 17 : 0, wtag = 8;
    int wnext = g->w - (wkey + wname + 1 + wsite + (wsite ? 1 : 0) + wtag);

    fill_row(g, y, CD_S_HEADER);
    int x = put(g, 0, y, g->w, CD_S_WARN, "YOUR MOVE");
    putf(g, x, y, g->w - x, CD_S_HEADER, " (step %ld): who goes on?%s",
         a->number, g->w >= 76 ? " each thread waits at:" : "");
    int shown = a->n < rows - 1 ? a->n : rows - 1;
    char more[32] = "";
    if (shown < a->n)
        snprintf(more, sizeof more, "(+%d more) ", a->n - shown);
    if (in->bad_key)
        header_note(g, y, "%s'%c' cannot run now", more, in->bad_key);
    else if (in->virtual_clock)
        header_note(g, y, "%sclock %.3fms", more, (double)in->snap->t_ns / 1e6);
    else if (more[0])
        header_note(g, y, "%s", more);
    /* When not all fit, the last row shown is the one Enter would run. */
    int last = shown - 1;
    for (int i = last; shown < a->n && i < a->n; i++)
        if (a->choice[i].id == a->fallback)
            last = i;
    for (int i = 0; i < shown; i++) {
        const cd_step_choice_t *c = &a->choice[i == shown - 1 ? last : i];
        int row = y + 1 + i, k = cd_step_key(c->id);
        x = 1;
        snprintf(buf, sizeof buf, "%c", k ? k : '-');
        put(g, x, row, 1, CD_S_NORMAL, "[");
        put(g, x + 1, row, 1, k ? CD_S_KEY : CD_S_DIM, buf);
        put(g, x + 2, row, 1, CD_S_NORMAL, "]");
        x = wkey;
        put_name(g, x, row, wname, CD_S_NORMAL,
                 cd_snap_thread_name(in->snap, c->id));
        x += wname + 1;
        next_op_text(in, c, buf, sizeof buf);
        put(g, x, row, wnext - 1, CD_S_NORMAL, buf);
        x += wnext;
        if (c->site.file && wsite) {
            snprintf(site, sizeof site, "%s:%d", base_name(c->site.file),
                     c->site.line);
            put(g, x, row, wsite, CD_S_DIM, site);
        }
        x += wsite + (wsite ? 1 : 0);
        if (c->id == a->prev)
            put(g, x, row, wtag, CD_S_HEADER, "ran last");
    }
}

/* ============================ cycle, log, verdict ======================== */

static const char cycle_title[] =
    "DEADLOCK: each thread waits for a lock the next one holds; none can move";
#define CYCLE_TITLE_SHORT 57 /* up to "holds", for narrow screens */
static const char stuck_title[] =
    "STUCK: no thread can run; each waits for what no running thread brings";
#define STUCK_TITLE_SHORT 24 /* up to "run", for narrow screens */

/* The block of a run that cannot go on: its deadlock cycle or else (a
 * stuck run) what each thread waits for. A header on a red row, cut to
 * its short form where w is narrower than it, then the cycle or the
 * waits wrapped in at most rows - 1 rows; drawn when g is not NULL.
 * Returns the rows it takes at width w: 0 for a run with neither. */
static int draw_blocked(cd_grid_t *g, int w, int y, int rows,
                        const cd_screen_in_t *in)
{
    char line[1024];
    const char *title = cycle_title;
    int cut = CYCLE_TITLE_SHORT;

    if (in->cycle && in->cycle->len > 0) {
        cd_screen_cycle_line(in->cycle, in->snap, line, sizeof line);
    } else if (in->stuck && in->stuck->len > 0) {
        cd_stuck_format(in->stuck, in->snap, line, sizeof line);
        title = stuck_title;
        cut = STUCK_TITLE_SHORT;
    } else {
        return 0;
    }
    if (g) {
        fill_row(g, y, CD_S_BAD);
        put(g, 0, y, w <= (int)strlen(title) ? cut : w, CD_S_BAD, title);
    }
    return 1 + wrap(g, 2, y + 1, w - 2, rows - 1, CD_S_CYCLE, line);
}

static int event_style(int op)
{
    switch (op) {
    case CD_OP_BLOCK:
    case CD_OP_ABORT: return CD_S_BLOCKED;
    case CD_OP_ACQUIRED: return CD_S_GOOD;
    case CD_OP_BUSY:
    case CD_OP_TIMEOUT: return CD_S_WARN;
    case CD_OP_LATENCY:
    case CD_OP_WAKE: return CD_S_SLEEPING;
    default: return CD_S_NORMAL;
    }
}

static void draw_log(cd_grid_t *g, int y, int rows, const cd_screen_in_t *in)
{
    fill_row(g, y, CD_S_HEADER);
    put(g, 0, y, g->w, CD_S_HEADER, "EVENTS (newest last)");
    int first = in->nlog > rows ? in->nlog - rows : 0;
    for (int i = first; i < in->nlog; i++) {
        const cd_trace_event_t *ev = &in->log[i];
        char site[96] = "", who[16], what[24];
        if (ev->site.file)
            snprintf(site, sizeof site, "%s:%d", ev->site.file, ev->site.line);
        putf(g, 0, y + 1 + i - first, g->w, event_style(ev->op),
             "%8.3fs %-12s %-9s %-16s %s", (double)ev->t_ns / 1e9,
             fit_name(cd_snap_thread_name(in->snap, ev->thread), 12, who,
                      sizeof who),
             cd_op_name(ev->op),
             fit_name(cd_trace_subject(ev, in->snap), 16, what, sizeof what),
             site);
    }
}

static int verdict_style(int status)
{
    switch (status) {
    case CD_HELD: return CD_S_GOOD;
    case CD_VIOLATED:
    case CD_DEADLOCK:
    case CD_STUCK:
    case CD_LIVELOCK:
    case CD_ERROR: return CD_S_BAD;
    default: return CD_S_WARN;
    }
}

/* The schedule line of a controlled run that is over. */
static void schedule_text(const cd_screen_in_t *in, char *buf, size_t size)
{
    if (in->schedule[0])
        snprintf(buf, size, "schedule: %s (%d choice%s)", in->schedule,
                 in->nchoices, in->nchoices == 1 ? "" : "s");
    else if (in->nchoices == 0)
        snprintf(buf, size, "schedule: no choices (at every step only one "
                 "thread could run)");
    else
        snprintf(buf, size, "schedule: %d choices, too long to show "
                 "(--save-schedule FILE keeps it)", in->nchoices);
}

static void verdict_text(const cd_screen_in_t *in, char *buf, size_t size)
{
    const cd_verdict_t *v = in->verdict;
    snprintf(buf, size, "%s [%s]: %s - expected %s; observed %s",
             in->scenario->name, in->scenario->variants[in->variant].name,
             cd_status_name(v->status), v->expected, v->observed);
}

/* ============================== bars and help ============================ */

static const char *phase(const cd_screen_in_t *in)
{
    if (in->verdict)
        return cd_status_name(in->verdict->status);
    if (in->step)
        return "YOUR MOVE";
    /* While a step run goes from one decision to the next, the pause flag
     * only keeps the learner's time off the clock. */
    if (in->stepping && !in->snap->abort_reason)
        return "STEPPING";
    switch (in->snap->abort_reason) {
    case CD_ABORT_DEADLOCK: return "DEADLOCK FOUND";
    case CD_ABORT_STUCK: return "STUCK FOUND";
    case CD_ABORT_TIMEOUT: return "TIMED OUT";
    case CD_ABORT_USER: return "STOPPING";
    case CD_ABORT_LIVELOCK: return "LIVELOCK FOUND";
    default: return in->snap->paused ? "PAUSED" : "RUNNING";
    }
}

static void draw_title(cd_grid_t *g, const cd_screen_in_t *in)
{
    char right[96], scale[24];
    fill_row(g, 0, CD_S_BAR);
    scale_text(in->latency_permille, scale, sizeof scale);
    int len = in->virtual_clock
                  /* Latencies pass on this clock: ms, and no scale to set. */
                  ? snprintf(right, sizeof right, "  virtual %.3fms  %s ",
                             (double)in->snap->t_ns / 1e6, phase(in))
                  : snprintf(right, sizeof right, "  %.2fs  latency %s  %s ",
                             (double)in->snap->t_ns / 1e9, scale, phase(in));
    putf(g, 0, 0, g->w - len, CD_S_BAR, " concdemo %s [%s] - %s",
         in->scenario->name, in->scenario->variants[in->variant].name,
         in->scenario->title);
    put(g, g->w - len, 0, len, CD_S_BAR, right);
}

/* The live figures, "live: orders 8 | charges 9 | ...", whole figures
 * only, on at most `rows` rows (g NULL: only counts). Returns rows used. */
static int draw_figures(cd_grid_t *g, int w, int y, int rows,
                        const cd_screen_in_t *in)
{
    const cd_snapshot_t *s = in->snap;
    int x = 5, row = 0;
    if (g)
        put(g, 0, y, w, CD_S_HEADER, "live:");
    if (s->ngauges == 0 && g)
        put(g, x + 1, y, w, CD_S_DIM, "(none published yet)");
    for (int i = 0; i < s->ngauges; i++) {
        char name[CD_NAME_MAX + 4], value[24];
        int nlen = snprintf(name, sizeof name, "%s %s ", i ? " |" : "",
                            s->gauges[i].name);
        int vlen = snprintf(value, sizeof value, "%lld",
                            (long long)s->gauges[i].value);
        if (x + nlen + vlen > w && x > 5) {
            if (row + 1 >= rows)
                break;
            row++;
            x = 5;
        }
        if (g) {
            x += put(g, x, y + row, nlen, CD_S_NORMAL, name);
            x += put(g, x, y + row, vlen, CD_S_HEADER, value);
        } else {
            x += nlen + vlen;
        }
    }
    return row + 1;
}

/* "1 2 3" or, for many, "1..k": the keys of the threads that can run. */
/* The run's notes (cd_reg_note: db-race's instances, who waits for
 * whom), one a row, at most `rows` of them (g NULL: only counts). Returns
 * the rows used. */
static int draw_notes(cd_grid_t *g, int w, int y, int rows,
                      const cd_screen_in_t *in)
{
    const cd_snapshot_t *s = in->snap;
    int row = 0;
    for (int i = 0; i < s->nnotes && row < rows; i++) {
        if (!s->notes[i][0])
            continue;
        if (g)
            put(g, 0, y + row, w, CD_S_NORMAL, s->notes[i]);
        row++;
    }
    return row;
}

static void step_keys(const cd_step_ask_t *a, char *buf, size_t size)
{
    size_t at = 0;
    int nkeys = 0, first = 0, last = 0;
    buf[0] = '\0';
    for (int i = 0; i < a->n; i++) {
        int k = cd_step_key(a->choice[i].id);
        if (!k)
            continue;
        first = first ? first : k;
        last = k;
        nkeys++;
    }
    if (nkeys > 5) {
        snprintf(buf, size, "%c..%c", first, last);
        return;
    }
    for (int i = 0; i < a->n && at + 3 < size; i++) {
        int k = cd_step_key(a->choice[i].id);
        if (k)
            at += (size_t)snprintf(buf + at, size - at, "%s%c", at ? " " : "",
                                   k);
    }
}

/* The status line of a step run: the keys that answer the decision. */
static void draw_step_status(cd_grid_t *g, const cd_screen_in_t *in)
{
    const cd_step_ask_t *a = in->step;
    const char *fallback = a ? cd_snap_thread_name(in->snap, a->fallback) : "";
    char keys[64] = "", enter[CD_NAME_MAX + 16];
    int y = g->h - 1, x = 1;

    if (a)
        step_keys(a, keys, sizeof keys);
    if (!in->interactive) {
        if (a)
            putf(g, 1, y, g->w - 1, CD_S_BAR, "answer: %s | empty line: %s "
                 "goes on | a: auto | q: quit", keys, fallback);
        else
            put(g, 1, y, g->w - 1, CD_S_BAR, "text frames: one at each "
                "decision, read from standard input");
        return;
    }
    snprintf(enter, sizeof enter, "%s goes on", fallback);
    const char *const items[] = {
        keys, "run it", "Enter", enter, "a", "auto to the end",
        "q", "quit", "?", "help",
    };
    for (int i = a ? 0 : 4; i < 10; i += 2) {
        x += put(g, x, y, g->w - x, CD_S_KEY, items[i]) + 1;
        x += put(g, x, y, g->w - x, CD_S_BAR, items[i + 1]) + 2;
    }
}

/* The status line: "q quit  p pause ..." with the keys highlighted. */
static void draw_status(cd_grid_t *g, const cd_screen_in_t *in)
{
    static const char *const running[] = {
        "q", "quit", "p", "pause", "+", "slower", "-", "faster", "?", "help",
    };
    static const char *const paused[] = {
        "p", "resume", "q", "quit", "+", "slower", "-", "faster", "?", "help",
    };
    int y = g->h - 1, x = 1;
    fill_row(g, y, CD_S_BAR);
    if (!in->interactive && !in->stepping) {
        put(g, 1, y, g->w - 1, CD_S_BAR,
            "text frames: one at each change (--view in a terminal has keys)");
        return;
    }
    if (in->verdict) {
        put(g, 1, y, g->w - 1, CD_S_BAR,
            "run over: press any key to leave (the verdict stays printed)");
        return;
    }
    if (in->stepping) {
        draw_step_status(g, in);
        return;
    }
    const char *const *keys = in->snap->paused ? paused : running;
    if (in->snap->paused)
        x += put(g, x, y, 8, CD_S_KEY, "PAUSED") + 2;
    for (int i = 0; i < 10; i += 2) {
        x += put(g, x, y, g->w - x, CD_S_KEY, keys[i]) + 1;
        x += put(g, x, y, g->w - x, CD_S_BAR, keys[i + 1]) + 2;
    }
}

static const char *const step_help[] = {
    "concdemo step mode: you are the scheduler",
    "",
    "One thread runs at a time. Wherever two or more could go on,",
    "the run waits for you: the thread you pick runs from where it",
    "waits up to the next point where there is a choice again.",
    "A sleeping thread may be picked too: its sleep ends there.",
    "",
    "1-9 b-z  run that thread (its key in the YOUR MOVE panel)",
    "Enter    the default: who ran last, else who is due first",
    "a        auto: the default policy plays the rest",
    "q        quit: ends the run (STOPPED)",
    "?        this help (any key closes it)",
    "",
    "history: one mark per step (= running ~ sleeping # blocked)",
    "At the end: the verdict, the schedule you played, and the",
    "command that replays it.",
};

static void draw_help(cd_grid_t *g, int stepping)
{
    static const char *const lines[] = {
        "concdemo live view",
        "",
        "q      quit: ends the run (STOPPED if it had not finished)",
        "p      pause / resume: threads stop at their next operation",
        "+ -    slower / faster: simulated latencies x2 or /2",
        "?      this help (any key closes it)",
        "",
        "history, one mark per frame, newest on the right:",
        "  = running  ~ sleeping (latency)  # blocked on a lock",
        "  | paused   ! ended by the abort  _ done  . not started",
        "red names: a deadlock cycle, or what a stuck run waits for",
        "",
        "The view only watches: it takes none of the demo's locks.",
    };
    const char *const *text = stepping ? step_help : lines;
    int n = stepping ? (int)(sizeof step_help / sizeof step_help[0])
                     : (int)(sizeof lines / sizeof lines[0]);
    int bw = 66 < g->w - 2 ? 66 : g->w - 2, bh = n + 2;
    int x0 = (g->w - bw) / 2, y0 = (g->h - bh) / 2;
    if (y0 < 0)
        y0 = 0;
    for (int y = y0; y < y0 + bh && y < g->h; y++) {
        for (int x = x0; x < x0 + bw; x++) {
            int edge_y = (y == y0 || y == y0 + bh - 1);
            int edge_x = (x == x0 || x == x0 + bw - 1);
            char ch = edge_y && edge_x ? '+'
                      : edge_y           ? '-'
                      : edge_x           ? '|'
                                         : ' ';
            *cd_grid_at(g, x, y) = (cd_cell_t){ ch, CD_S_BAR };
        }
    }
    for (int i = 0; i < n; i++)
        put(g, x0 + 2, y0 + 1 + i, bw - 4, CD_S_BAR, text[i]);
}

static void draw_too_small(cd_grid_t *g)
{
    char msg[128];
    snprintf(msg, sizeof msg,
             "concdemo: the terminal is too small (%dx%d); the view needs "
             "at least %dx%d",
             g->w, g->h, CD_SCREEN_MIN_W, CD_SCREEN_MIN_H);
    wrap(g, 0, 0, g->w, g->h, CD_S_BAD, msg);
}

/* ================================= layout ================================ */

void cd_screen_render(cd_grid_t *g, const cd_screen_in_t *in)
{
    char verdict[2 * CD_TEXT_MAX + 256];
    int w = g->w, h = g->h;

    clear(g);
    if (w < CD_SCREEN_MIN_W || h < CD_SCREEN_MIN_H) {
        draw_too_small(g);
        return;
    }
    /* Fixed rows: title, summary (when there is room), figures, three
     * section headers, status. */
    int summary = h >= 22;
    int nfig = draw_figures(NULL, w, 0, 2, in);
    /* The notes take what a tall screen can spare. */
    int nnotes = draw_notes(NULL, w, 0, h > 18 ? h - 18 : 0, in);
    int top = 1 + summary + nfig + nnotes;
    int nverdict = 0, ncycle = 0;
    if (in->verdict) {
        verdict_text(in, verdict, sizeof verdict);
        nverdict = wrap(NULL, 0, 0, w, h >= 24 ? 5 : 3, 0, verdict);
    }
    ncycle = draw_blocked(NULL, w, 0, 4, in);
    /* A controlled run's end: the schedule played and how to replay it. */
    char sched[CD_SCHEDULE_TEXT_MAX], replay[CD_SCHEDULE_TEXT_MAX];
    int nsched = 0, nreplay = 0;
    if (in->verdict && in->schedule) {
        schedule_text(in, sched, sizeof sched);
        nsched = wrap(NULL, 0, 0, w, h >= 24 ? 3 : 2, 0, sched);
        if (in->replay) {
            snprintf(replay, sizeof replay, "replay: %s", in->replay);
            nreplay = wrap(NULL, 0, 0, w, h >= 24 ? 3 : 2, 0, replay);
        }
    }
    int mid = h - top - 3 - 1 - nverdict - ncycle - nsched - nreplay;
    /* The decision waiting for the learner: before threads and locks, but
     * it leaves them some room (a thread it cannot show still has its key). */
    int nstep = step_rows_wanted(in);
    if (nstep > 0) {
        int most = 1 + (mid - 2 > 4 ? (mid - 2) / 2 : 2);
        if (nstep > most)
            nstep = most;
        mid -= nstep;
    }

    /* Threads first, then locks, then the log; while the run goes on the
     * log keeps at least 3 rows. */
    int nthreads = 0;
    for (int i = 0; i < in->snap->nthreads; i++)
        nthreads += in->snap->threads[i].state != CD_T_UNUSED;
    int want_t = nthreads > 0 ? nthreads : 1, want_o = obj_rows_wanted(in);
    int log_min = in->verdict ? 0 : 3;
    int t = want_t, o = want_o;
    if (t > mid - log_min - (o < 2 ? o : 2))
        t = mid - log_min - (o < 2 ? o : 2);
    if (t < 1)
        t = 1;
    if (o > mid - log_min - t)
        o = mid - log_min - t;
    if (o < 1)
        o = 1;
    int nlog = mid - t - o;
    if (nlog < 0)
        nlog = 0;

    int y = 0;
    draw_title(g, in);
    y++;
    if (summary) {
        putf(g, 0, y, w, CD_S_DIM, "%s: %s",
             in->scenario->variants[in->variant].name,
             in->scenario->variants[in->variant].summary);
        y++;
    }
    draw_figures(g, w, y, nfig, in);
    y += nfig;
    draw_notes(g, w, y, nnotes, in);
    y += nnotes;
    draw_threads(g, y, t, in);
    y += 1 + t;
    draw_objs(g, y, o, in);
    y += 1 + o;
    if (nstep) {
        draw_step(g, y, nstep, in);
        y += nstep;
    }
    if (ncycle) {
        draw_blocked(g, w, y, ncycle, in);
        y += ncycle;
    }
    draw_log(g, y, nlog, in);
    y += 1 + nlog;
    if (nverdict)
        wrap(g, 0, y, w, nverdict, verdict_style(in->verdict->status),
             verdict);
    y += nverdict;
    if (nsched)
        wrap(g, 0, y, w, nsched, CD_S_NORMAL, sched);
    y += nsched;
    if (nreplay)
        wrap(g, 0, y, w, nreplay, CD_S_HEADER, replay);
    draw_status(g, in);
    if (in->help)
        draw_help(g, in->stepping);
}

/* ================================ history ================================ */

void cd_history_push(cd_history_t *h, const cd_snapshot_t *snap)
{
    unsigned slot = h->frames % CD_HISTORY_LEN;
    for (int i = 0; i < CD_MAX_THREADS; i++)
        h->state[i][slot] = (unsigned char)(i < snap->nthreads
                                                ? snap->threads[i].state
                                                : CD_T_UNUSED);
    h->frames++;
}
