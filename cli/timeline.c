/*
 * timeline.c - the SVG picture of a run.
 *
 * Written by hand, element by element, so that the picture needs nothing
 * but a browser. Every bar carries a <title> (the browser's tooltip) with
 * who, what, when and for how long, so that a small picture still answers
 * a precise question.
 */
#include "timeline.h"

#include <string.h>

#include "../lib/cd_registry.h"

/* ================================ geometry =============================== */

#define WIDTH 1000
#define LEFT 130       /* lane names */
#define RIGHT 24
#define PLOT (WIDTH - LEFT - RIGHT)
#define LANES_Y 104    /* first lane's top */
#define LANE_H 34      /* a lane's height, up to ROOMY lanes */
#define ROOMY 14
#define MIN_LANE_H 10
#define MIN_BAR_PX 1.5
/* A finding in a window shorter than this share of the run gets a time
 * axis in pieces, the window taking WINDOW_SHARE of the width. */
#define ZOOM_BELOW 0.5
#define WINDOW_SHARE 0.7
#define MAX_PIECES 3
/* A finding that the run ended on at once (a controlled run's deadlock:
 * its clock stands still while the scheduler sees that nobody can run)
 * would be a sliver at the right edge: the waits that never end get a
 * tail of this share of the width. */
#define TAIL_SHARE 0.18

static const char *const palette[] = {
    "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1",
    "#9c755f", "#499894", "#d37295", "#79706e",
};
#define NCOLOURS (int)(sizeof palette / sizeof palette[0])
#define RED "#d62728"

/* Time to x: pieces of a piecewise linear map, in order. */
typedef struct axis {
    int n;
    int64_t t0[MAX_PIECES], t1[MAX_PIECES];
    double x0[MAX_PIECES], x1[MAX_PIECES];
    int squeezed[MAX_PIECES];
    double tail;    /* > 0: where the tail begins (px from the plot's left):
                       red waits that never end run on into it */
} axis_t;

typedef struct layout {
    const cd_spans_t *s;
    axis_t ax;
    int lane_h;
    int roomy;      /* lanes tall enough for point labels */
    int height;
} layout_t;

static double xat(const axis_t *ax, int64_t t)
{
    for (int i = 0; i < ax->n; i++)
        if (t <= ax->t1[i] || i == ax->n - 1) {
            int64_t d = ax->t1[i] - ax->t0[i];
            double f = d > 0 ? (double)(t - ax->t0[i]) / (double)d : 0;
            if (f < 0)
                f = 0;
            if (f > 1)
                f = 1;
            return LEFT + ax->x0[i] + f * (ax->x1[i] - ax->x0[i]);
        }
    return LEFT;
}

static void add_piece(axis_t *ax, int64_t t0, int64_t t1, double w,
                      int squeezed)
{
    if (t1 <= t0)
        return;
    int i = ax->n++;
    double x = i ? ax->x1[i - 1] : 0;
    ax->t0[i] = t0;
    ax->t1[i] = t1;
    ax->x0[i] = x;
    ax->x1[i] = x + w;
    ax->squeezed[i] = squeezed;
}

/* The window the finding lies in: up to the last red span's start, with
 * a margin, so that the long wait for the detector after it is what gets
 * squeezed; from the run's start when the finding comes in its first
 * half (what led to it is the story), else from the first red span's
 * start. 0 when nothing is red. */
static int finding_window(const cd_spans_t *s, int64_t *w0, int64_t *w1)
{
    int any = 0;
    for (int i = 0; i < s->n; i++) {
        if (!s->v[i].red)
            continue;
        if (!any || s->v[i].t0 < *w0)
            *w0 = s->v[i].t0;
        if (!any || s->v[i].t0 > *w1)
            *w1 = s->v[i].t0;
        any = 1;
    }
    if (!any)
        return 0;
    if (*w1 < s->end_ns / 2)
        *w0 = 0;
    int64_t pad = (*w1 - *w0) / 4 + s->end_ns / 100 + 1;
    *w0 = *w0 > pad ? *w0 - pad : 0;
    *w1 = *w1 + pad < s->end_ns ? *w1 + pad : s->end_ns;
    return 1;
}

/* Red spans still going at the end that had hardly begun. */
static int needs_tail(const cd_spans_t *s)
{
    for (int i = 0; i < s->n; i++)
        if (s->v[i].red && s->v[i].kind == CD_SPAN_WAIT &&
            s->v[i].t1 >= s->end_ns &&
            s->v[i].t1 - s->v[i].t0 < s->end_ns / 20 + 1)
            return 1;
    return 0;
}

static void make_axis(axis_t *ax, const cd_spans_t *s)
{
    int64_t end = s->end_ns > 0 ? s->end_ns : 1, w0 = 0, w1 = 0;
    memset(ax, 0, sizeof *ax);
    double plot = needs_tail(s) ? PLOT * (1 - TAIL_SHARE) : PLOT;
    if (plot < PLOT)
        ax->tail = plot;
    if (s->end_ns <= 0 || !finding_window(s, &w0, &w1) || w1 <= w0 ||
        (double)(w1 - w0) >= ZOOM_BELOW * (double)end) {
        add_piece(ax, 0, end, plot, 0);
        return;
    }
    /* The window keeps most of the width; before and after share the
     * rest by their lengths. */
    double rest = plot * (1 - WINDOW_SHARE);
    double outside = (double)(w0 + (end - w1));
    add_piece(ax, 0, w0, rest * (double)w0 / outside, 1);
    add_piece(ax, w0, w1, plot * WINDOW_SHARE, 0);
    add_piece(ax, w1, end, rest * (double)(end - w1) / outside, 1);
    ax->x1[ax->n - 1] = plot; /* no gap at the end from rounding */
}

static double lane_y(const layout_t *L, int lane)
{
    return LANES_Y + lane * L->lane_h;
}

/* The bar band of a lane: below the point labels when lanes are roomy. */
static void band(const layout_t *L, int lane, double *y, double *h)
{
    double top = lane_y(L, lane);
    *y = top + (L->roomy ? 11 : 1);
    *h = L->lane_h - (L->roomy ? 13 : 2);
}

/* ================================== text ================================= */

static void xml_text(FILE *out, const char *s)
{
    for (; s && *s; s++)
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, out);
        }
}

/* "2.013 ms", with as many decimals as the step between ticks needs. */
static void fmt_ms(char *buf, size_t size, int64_t ns, int64_t step,
                   int by_order)
{
    if (by_order) { /* cd_spans_t.by_order: the events' order instead */
        snprintf(buf, size, "event %lld", (long long)(ns / CD_SPANS_STEP_NS));
        return;
    }
    int dec = step >= 1000000 ? 0 : step >= 100000 ? 1 : step >= 10000 ? 2
                                                                       : 3;
    snprintf(buf, size, "%.*f ms", dec, (double)ns / 1e6);
}

/* A rough width of text in px at a font size: enough to decide whether a
 * label fits in its bar. */
static double text_w(const char *s, double font)
{
    return (double)strlen(s) * font * 0.58;
}

/* ================================ pieces ================================= */

static void defs(FILE *out)
{
    fputs("<defs>\n", out);
    for (int i = 0; i < NCOLOURS; i++)
        fprintf(out, "<pattern id=\"hatch%d\" width=\"6\" height=\"6\" "
                "patternUnits=\"userSpaceOnUse\" "
                "patternTransform=\"rotate(45)\"><rect width=\"6\" "
                "height=\"6\" fill=\"#fff\"/><rect width=\"2.5\" height=\"6\" "
                "fill=\"%s\" fill-opacity=\"0.7\"/></pattern>\n", i,
                palette[i]);
    fprintf(out, "<pattern id=\"hatchred\" width=\"6\" height=\"6\" "
            "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
            "<rect width=\"6\" height=\"6\" fill=\"#fde0e0\"/><rect "
            "width=\"3\" height=\"6\" fill=\"%s\"/></pattern>\n", RED);
    fputs("<marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
          "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
          "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker>\n"
          "<marker id=\"arrowred\" viewBox=\"0 0 10 10\" refX=\"9\" "
          "refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
          "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"" RED "\"/></marker>\n"
          "</defs>\n", out);
}

static const char *colour(const cd_spans_t *s, int obj, int *index)
{
    int k = cd_spans_obj_index(s, obj);
    *index = (k < 0 ? 0 : k) % NCOLOURS;
    return palette[*index];
}

static void wrap_observed(FILE *out, const char *text, double y)
{
    /* Two lines of at most LINE characters, cut at a space. */
    enum { LINE = 150 };
    size_t len = strlen(text), at = 0;
    for (int line = 0; line < 2 && at < len; line++) {
        size_t n = len - at;
        if (n > LINE) {
            n = LINE;
            while (n > LINE / 2 && text[at + n] != ' ')
                n--;
        }
        char buf[LINE + 8];
        memcpy(buf, text + at, n);
        buf[n] = '\0';
        if (line == 1 && at + n < len)
            strcat(buf, " ...");
        fprintf(out, "<text x=\"16\" y=\"%.0f\" font-size=\"12\" "
                "fill=\"#333\">", y + line * 16);
        xml_text(out, buf);
        fputs("</text>\n", out);
        at += n;
        while (at < len && text[at] == ' ')
            at++;
    }
}

static void heading(FILE *out, const cd_run_result_t *r,
                    const cd_spans_t *s)
{
    const cd_verdict_t *v = &r->verdict;
    int bad = v->status != CD_HELD;
    fprintf(out, "<text x=\"16\" y=\"28\" font-size=\"20\" "
            "font-weight=\"bold\" fill=\"%s\">", bad ? RED : "#2e7d32");
    xml_text(out, cd_status_name(v->status));
    fputs("<tspan dx=\"8\" fill=\"#222\" font-weight=\"normal\">"
          "\xe2\x80\x94 ", out);
    xml_text(out, r->scenario->name);
    fputs(" [", out);
    xml_text(out, r->scenario->variants[r->variant].name);
    fprintf(out, "]</tspan><tspan fill=\"#666\" font-size=\"13\" "
            "dx=\"12\" font-weight=\"normal\">%d lanes, ", s->nlanes);
    if (s->by_order)
        fprintf(out, "%lld events in order (the virtual clock never moved)",
                (long long)(s->end_ns / CD_SPANS_STEP_NS) + 1);
    else
        fprintf(out, "%.3f ms%s", (double)s->end_ns / 1e6,
                r->controlled ? " on the controlled run's virtual clock" : "");
    fprintf(out, "%s</tspan></text>\n", s->lost ? " (oldest events lost)"
                                                : "");
    wrap_observed(out, v->observed, 50);
}

/* A step of 1, 2 or 5 x 10^k ns that leaves ticks about 90 px apart. */
static int64_t tick_step(int64_t d, double w)
{
    double want = 90.0 * (double)d / w;
    int64_t mag = 1;
    while ((double)mag * 10 <= want)
        mag *= 10;
    return (double)mag >= want ? mag : (double)mag * 2 >= want ? mag * 2
           : (double)mag * 5 >= want ? mag * 5 : mag * 10;
}

static void time_axis(FILE *out, const layout_t *L)
{
    const axis_t *ax = &L->ax;
    double bottom = lane_y(L, L->s->nlanes), last_label = -1e9;
    if (ax->tail > 0)
        fprintf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
                "height=\"%.1f\" fill=\"#fdf0f0\"/>\n<text x=\"%.1f\" "
                "y=\"%d\" font-size=\"10\" fill=\"" RED "\" "
                "text-anchor=\"middle\">never ends</text>\n", LEFT + ax->tail,
                LANES_Y - 6, PLOT - ax->tail, bottom - LANES_Y + 6,
                LEFT + (ax->tail + PLOT) / 2, LANES_Y - 9);
    for (int i = 0; i < ax->n; i++) {
        if (ax->squeezed[i]) {
            /* A squeezed stretch: shaded, and said so. */
            fprintf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
                    "height=\"%.1f\" fill=\"#eeeeee\"/>\n", LEFT + ax->x0[i],
                    LANES_Y - 6, ax->x1[i] - ax->x0[i],
                    bottom - LANES_Y + 6);
            if (ax->x1[i] - ax->x0[i] > 60)
                fprintf(out, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" "
                        "fill=\"#888\" text-anchor=\"middle\">squeezed"
                        "</text>\n", LEFT + (ax->x0[i] + ax->x1[i]) / 2,
                        LANES_Y - 9);
        }
        double w = ax->x1[i] - ax->x0[i];
        int64_t d = ax->t1[i] - ax->t0[i];
        if (w < 1 || d <= 0)
            continue;
        int64_t step = tick_step(d, w);
        if (L->s->by_order && step < CD_SPANS_STEP_NS)
            step = CD_SPANS_STEP_NS;
        for (int64_t t = (ax->t0[i] + step - 1) / step * step; t <= ax->t1[i];
             t += step) {
            double x = xat(ax, t);
            char lab[32];
            fmt_ms(lab, sizeof lab, t, step, L->s->by_order);
            fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
                    "y2=\"%.1f\" stroke=\"#ddd\"/>\n", x, LANES_Y - 4, x,
                    bottom);
            if (x - last_label < text_w(lab, 10) + 8)
                continue;
            fprintf(out, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" "
                    "fill=\"#666\" text-anchor=\"middle\">%s</text>\n", x,
                    LANES_Y - 20, lab);
            last_label = x;
        }
    }
}

static void lanes(FILE *out, const layout_t *L, const cd_run_result_t *r)
{
    const cd_spans_t *s = L->s;
    double font = L->lane_h >= 18 ? 12 : L->lane_h - 2;
    for (int i = 0; i < s->nlanes; i++) {
        int in_cycle = 0;
        for (int k = 0; r->has_cycle && k < r->cycle.len; k++)
            in_cycle |= r->cycle.link[k].thread == s->lanes[i];
        double y, h;
        band(L, i, &y, &h);
        if (i % 2)
            fprintf(out, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" "
                    "height=\"%d\" fill=\"#f7f7f7\" fill-opacity=\"0.7\"/>\n",
                    LEFT, lane_y(L, i), PLOT, L->lane_h);
        fprintf(out, "<text x=\"%d\" y=\"%.1f\" font-size=\"%.0f\" "
                "text-anchor=\"end\" fill=\"%s\"%s>", LEFT - 8,
                y + h / 2 + font * 0.35, font, in_cycle ? RED : "#222",
                in_cycle ? " font-weight=\"bold\"" : "");
        xml_text(out, cd_reg_thread_name(s->lanes[i]));
        fputs("</text>\n", out);
    }
}

/* A tooltip: "checkout-1 holds shop-lock, 2.013 ms for 2.1 ms". */
static void tooltip(FILE *out, const layout_t *L, const cd_span_t *sp,
                    const char *what, const char *name)
{
    fputs("<title>", out);
    xml_text(out, cd_reg_thread_name(sp->thread));
    fprintf(out, " %s ", what);
    xml_text(out, name);
    if (sp->kind == CD_SPAN_WAIT && sp->holder) {
        fputs(" (held by ", out);
        xml_text(out, cd_reg_thread_name(sp->holder));
        fputs(")", out);
    }
    if (L->s->by_order)
        fprintf(out, ", at event %lld",
                (long long)(sp->t0 / CD_SPANS_STEP_NS));
    else
        fprintf(out, ", at %.3f ms", (double)sp->t0 / 1e6);
    if (sp->kind != CD_SPAN_POINT && !L->s->by_order)
        fprintf(out, " for %.3f ms", (double)(sp->t1 - sp->t0) / 1e6);
    if (sp->kind != CD_SPAN_POINT && sp->open)
        fputs(" (still at the end)", out);
    fputs("</title>", out);
}

/* The part of the band a bar covers: a latency all of it, a hold or a
 * wait all but a strip at the bottom, where a latency under a hold (a
 * slow call made with the lock held) still shows. */
static void bar_box(const layout_t *L, const cd_span_t *sp, double *y,
                    double *h)
{
    band(L, cd_spans_lane(L->s, sp->thread), y, h);
    if (sp->kind != CD_SPAN_LATENCY)
        *h -= L->roomy ? 7 : *h / 3;
}

static void bar(FILE *out, const layout_t *L, const cd_span_t *sp,
                const char *fill, const char *stroke, double stroke_w,
                double *x, double *w)
{
    double y, h;
    bar_box(L, sp, &y, &h);
    *x = xat(&L->ax, sp->t0);
    *w = xat(&L->ax, sp->t1) - *x;
    if (L->ax.tail > 0 && sp->red && sp->kind == CD_SPAN_WAIT &&
        sp->t1 >= L->s->end_ns)
        *w = LEFT + PLOT - *x; /* into the tail: it never ends */
    if (*w < MIN_BAR_PX)
        *w = MIN_BAR_PX;
    fprintf(out, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
            "height=\"%.1f\" rx=\"2\" fill=\"%s\"", *x, y, *w, h, fill);
    if (stroke)
        fprintf(out, " stroke=\"%s\" stroke-width=\"%.1f\"", stroke,
                stroke_w);
    fputs(">", out);
}

/* Text inside a bar, when it fits. */
static void bar_label(FILE *out, const layout_t *L, const cd_span_t *sp,
                      double x, double w, const char *text, const char *fill)
{
    double y, h;
    if (!L->roomy || text_w(text, 10) + 6 > w)
        return;
    bar_box(L, sp, &y, &h);
    /* A halo of the bar's own ground keeps the text clear of hatching. */
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
            "fill=\"%s\"%s pointer-events=\"none\">", x + 3, y + h / 2 + 3.5,
            fill, sp->kind == CD_SPAN_WAIT ? " stroke=\"#fff\" "
            "stroke-width=\"3\" paint-order=\"stroke\"" : "");
    xml_text(out, text);
    fputs("</text>\n", out);
}

static void latency(FILE *out, const layout_t *L, const cd_span_t *sp)
{
    double x, w;
    bar(out, L, sp, "#d5d5d5", "#b0b0b0", 0.8, &x, &w);
    tooltip(out, L, sp, "sleeps in latency", sp->label);
    fputs("</rect>\n", out);
    bar_label(out, L, sp, x, w, sp->label, "#555");
}

static void hold(FILE *out, const layout_t *L, const cd_span_t *sp)
{
    int k;
    const char *name = cd_reg_object_name(sp->obj);
    const char *c = colour(L->s, sp->obj, &k);
    double x, w;
    bar(out, L, sp, c, sp->red ? RED : NULL, 2.5, &x, &w);
    tooltip(out, L, sp, sp->shared ? "reads under" : "holds", name);
    fprintf(out, "</rect>\n");
    if (sp->shared) /* a shared hold: lighter, the lock's colour still */
        fprintf(out, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
                "height=\"2\" fill=\"#fff\" fill-opacity=\"0.6\"/>\n", x,
                lane_y(L, cd_spans_lane(L->s, sp->thread)) + L->lane_h / 2.0,
                w);
    bar_label(out, L, sp, x, w, name, "#fff");
}

static void wait_bar(FILE *out, const layout_t *L, const cd_span_t *sp)
{
    int k;
    char fill[32], label[160];
    const char *name = cd_reg_object_name(sp->obj);
    const char *c = colour(L->s, sp->obj, &k);
    double x, w;
    if (sp->red)
        snprintf(fill, sizeof fill, "url(#hatchred)");
    else
        snprintf(fill, sizeof fill, "url(#hatch%d)", k);
    bar(out, L, sp, fill, sp->red ? RED : c, sp->red ? 2.5 : 1, &x, &w);
    tooltip(out, L, sp, "waits for", name);
    fputs("</rect>\n", out);
    snprintf(label, sizeof label, "waits %s", name);
    bar_label(out, L, sp, x + 1, w, label, sp->red ? "#7f0000" : "#222");
}

/* From the waiter's bar to the holder's lane, where the wait began. */
static void arrow(FILE *out, const layout_t *L, const cd_span_t *sp)
{
    int from = cd_spans_lane(L->s, sp->thread);
    int to = cd_spans_lane(L->s, sp->holder);
    if (!sp->holder || to < 0 || from < 0 || to == from)
        return;
    double x = xat(&L->ax, sp->t0) + 1, fy, fh, ty, th;
    /* Waits that began at one instant and never end (a controlled run's
     * cycle) would share one x: spread their arrows over the tail. */
    if (L->ax.tail > 0 && sp->red && sp->t1 >= L->s->end_ns)
        x = LEFT + L->ax.tail + 80 + (PLOT - L->ax.tail - 90) * from /
                                         (double)L->s->nlanes;
    band(L, from, &fy, &fh);
    band(L, to, &ty, &th);
    double y1 = to < from ? fy + 3 : fy + fh - 3;
    double y2 = to < from ? ty + th - 3 : ty + 3;
    fprintf(out, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" "
            "stroke=\"%s\" stroke-width=\"%s\" marker-end=\"url(#%s)\"%s/>"
            "\n", x, y1, x, y2, sp->red ? RED : "#555",
            sp->red ? "1.8" : "1", sp->red ? "arrowred" : "arrow",
            sp->red ? "" : " stroke-opacity=\"0.75\"");
}

/* Points: a tick through the bar, and its name above when roomy and
 * clear of the lane's last label. */
static void points(FILE *out, const layout_t *L)
{
    const cd_spans_t *s = L->s;
    double last[CD_MAX_THREADS + 1];
    for (int i = 0; i <= CD_MAX_THREADS; i++)
        last[i] = -1e9;
    for (int i = 0; i < s->n; i++) {
        const cd_span_t *sp = &s->v[i];
        if (sp->kind != CD_SPAN_POINT)
            continue;
        int lane = cd_spans_lane(s, sp->thread);
        double y, h, x = xat(&L->ax, sp->t0);
        band(L, lane, &y, &h);
        fprintf(out, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" "
                "stroke=\"#222\" stroke-width=\"1.2\">", x,
                y - (L->roomy ? 4 : 0), x, y + h);
        tooltip(out, L, sp, "passes", sp->label);
        fputs("</line>\n", out);
        if (!L->roomy || x < last[lane] + 4 ||
            x + 2 + text_w(sp->label, 9) > WIDTH - 2)
            continue;
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" "
                "fill=\"#333\">", x + 2, y - 2);
        xml_text(out, sp->label);
        fputs("</text>\n", out);
        last[lane] = x + 2 + text_w(sp->label, 9);
    }
}

/* A run that failed with nothing red to show (a broken invariant is
 * judged after the threads end): a red line where the verdict came. */
static void verdict_mark(FILE *out, const layout_t *L,
                         const cd_run_result_t *r)
{
    for (int i = 0; i < L->s->n; i++)
        if (L->s->v[i].red)
            return;
    if (r->verdict.status == CD_HELD)
        return;
    double x = xat(&L->ax, L->s->end_ns);
    fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"" RED "\" stroke-width=\"2\" stroke-dasharray=\"5,3\">"
            "<title>", x, LANES_Y - 8, x, lane_y(L, L->s->nlanes));
    xml_text(out, r->verdict.observed);
    fprintf(out, "</title></line>\n<text x=\"%.1f\" y=\"%d\" "
            "font-size=\"11\" font-weight=\"bold\" fill=\"" RED "\" "
            "text-anchor=\"end\">%s</text>\n", x - 3, LANES_Y - 9,
            cd_status_name(r->verdict.status));
}

static double legend_item(FILE *out, double x, double y, const char *fill,
                          const char *stroke, const char *text)
{
    fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"11\" "
            "rx=\"2\" fill=\"%s\" stroke=\"%s\"/>\n<text x=\"%.1f\" "
            "y=\"%.1f\" font-size=\"11\" fill=\"#333\">", x, y, fill, stroke,
            x + 27, y + 9.5);
    xml_text(out, text);
    fputs("</text>\n", out);
    return x + 27 + text_w(text, 11) + 18;
}

static void legend(FILE *out, const layout_t *L)
{
    const cd_spans_t *s = L->s;
    double y = lane_y(L, s->nlanes) + 18, x = 16;
    x = legend_item(out, x, y, palette[0], "none", "holds a lock");
    x = legend_item(out, x, y, "url(#hatch0)", palette[0],
                    "waits for it (arrow: to the holder)");
    x = legend_item(out, x, y, "#d5d5d5", "#b0b0b0", "simulated latency");
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"#222\" stroke-width=\"1.2\"/>\n<text x=\"%.1f\" "
            "y=\"%.1f\" font-size=\"11\" fill=\"#333\">named point</text>\n",
            x + 4, y - 1, x + 4, y + 12, x + 10, y + 9.5);
    x += 10 + text_w("named point", 11) + 18;
    legend_item(out, x, y, "url(#hatchred)", RED,
                "the finding (deadlock cycle, stuck wait)");
    /* The locks and their colours, as many as fit on a line. */
    y += 20;
    x = 16;
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
            "fill=\"#333\">objects:</text>\n", x, y + 9.5);
    x += 56;
    for (int i = 0; i < s->nobjs; i++) {
        const char *name = cd_reg_object_name(s->objs[i]);
        if (x + 27 + text_w(name, 11) > WIDTH - RIGHT) {
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
                    "fill=\"#333\">+%d more</text>\n", x, y + 9.5,
                    s->nobjs - i);
            break;
        }
        x = legend_item(out, x, y, palette[i % NCOLOURS], "none", name);
    }
    if (s->nobjs == 0)
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
                "fill=\"#888\">none taken</text>\n", x, y + 9.5);
}

/* ================================ the whole ============================== */

void cd_timeline_write(FILE *out, const cd_spans_t *s,
                       const cd_run_result_t *r)
{
    layout_t L = { .s = s };
    make_axis(&L.ax, s);
    L.lane_h = LANE_H;
    if (s->nlanes > ROOMY) {
        L.lane_h = ROOMY * LANE_H / s->nlanes;
        if (L.lane_h < MIN_LANE_H)
            L.lane_h = MIN_LANE_H;
    }
    L.roomy = L.lane_h >= LANE_H;
    L.height = LANES_Y + s->nlanes * L.lane_h + 64;

    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" "
            "font-family=\"Helvetica, Arial, sans-serif\">\n",
            WIDTH, L.height, WIDTH, L.height);
    fputs("<title>", out);
    xml_text(out, cd_status_name(r->verdict.status));
    fputs(": ", out);
    xml_text(out, r->verdict.observed);
    fprintf(out, "</title>\n<rect width=\"%d\" height=\"%d\" "
            "fill=\"#fff\"/>\n", WIDTH, L.height);
    defs(out);
    heading(out, r, s);
    time_axis(out, &L);
    lanes(out, &L, r);
    /* Latencies first, holds over them, then waits, arrows and points. */
    static const int order[] = { CD_SPAN_LATENCY, CD_SPAN_HOLD,
                                 CD_SPAN_WAIT };
    for (int o = 0; o < 3; o++)
        for (int i = 0, kind = order[o]; i < s->n; i++) {
            const cd_span_t *sp = &s->v[i];
            if (sp->kind != kind || cd_spans_lane(s, sp->thread) < 0)
                continue;
            if (kind == CD_SPAN_LATENCY)
                latency(out, &L, sp);
            else if (kind == CD_SPAN_HOLD)
                hold(out, &L, sp);
            else
                wait_bar(out, &L, sp);
        }
    for (int i = 0; i < s->n; i++)
        if (s->v[i].kind == CD_SPAN_WAIT)
            arrow(out, &L, &s->v[i]);
    points(out, &L);
    verdict_mark(out, &L, r);
    legend(out, &L);
    fputs("</svg>\n", out);
}
