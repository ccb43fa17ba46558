/*
 * chrome.c - the trace-event JSON of a run.
 *
 * Times are microseconds (the format's unit) with nanoseconds kept as
 * decimals. Slices are complete events ("ph":"X"); a wait's flow starts
 * on the holder's track at the moment the wait began ("ph":"s", inside
 * its hold slice) and ends on the waiter's wait slice ("ph":"f" bound to
 * the enclosing slice), which is how the viewers draw an arrow between
 * two slices. Spans of the run's finding get the viewers' red
 * ("cname":"terrible").
 */
#include "chrome.h"

#include <inttypes.h>

#include "../lib/cd_registry.h"
#include "report.h"


static double us(int64_t ns) { return (double)ns / 1000.0; }

static void thread_names(FILE *out, const cd_spans_t *s)
{
    for (int i = 0; i < s->nlanes; i++) {
        fprintf(out, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,"
                "\"tid\":%d,\"args\":{\"name\":", s->lanes[i]);
        cd_report_json_str(out, cd_reg_thread_name(s->lanes[i]));
        fprintf(out, "}},\n{\"ph\":\"M\",\"name\":\"thread_sort_index\","
                "\"pid\":1,\"tid\":%d,\"args\":{\"sort_index\":%d}}",
                s->lanes[i], i);
    }
}

/* A slice: name, category, track, start and length. */
static void slice(FILE *out, const char *name, const char *cat,
                  const cd_span_t *sp)
{
    fputs(",\n{\"ph\":\"X\",\"name\":", out);
    cd_report_json_str(out, name);
    fprintf(out, ",\"cat\":\"%s\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,"
            "\"dur\":%.3f", cat, sp->thread, us(sp->t0), us(sp->t1 - sp->t0));
    if (sp->red)
        fputs(",\"cname\":\"terrible\"", out);
    if (sp->open)
        fputs(",\"args\":{\"open\":true}", out);
    fputc('}', out);
}

static void wait_flow(FILE *out, const cd_span_t *sp, int id)
{
    fprintf(out, ",\n{\"ph\":\"s\",\"name\":\"waits for\",\"cat\":\"wait\","
            "\"id\":%d,\"pid\":1,\"tid\":%d,\"ts\":%.3f}", id, sp->holder,
            us(sp->t0));
    fprintf(out, ",\n{\"ph\":\"f\",\"bp\":\"e\",\"name\":\"waits for\","
            "\"cat\":\"wait\",\"id\":%d,\"pid\":1,\"tid\":%d,\"ts\":%.3f}",
            id, sp->thread, us(sp->t0));
}

static void span(FILE *out, const cd_span_t *sp, int *flows)
{
    char name[160];
    switch (sp->kind) {
    case CD_SPAN_HOLD:
        slice(out, cd_reg_object_name(sp->obj), "hold", sp);
        break;
    case CD_SPAN_WAIT:
        snprintf(name, sizeof name, "wait %s", cd_reg_object_name(sp->obj));
        slice(out, name, "wait", sp);
        if (sp->holder)
            wait_flow(out, sp, ++*flows);
        break;
    case CD_SPAN_LATENCY:
        slice(out, sp->label, "latency", sp);
        break;
    case CD_SPAN_POINT:
        fputs(",\n{\"ph\":\"i\",\"s\":\"t\",\"name\":", out);
        cd_report_json_str(out, sp->label);
        fprintf(out, ",\"cat\":\"point\",\"pid\":1,\"tid\":%d,\"ts\":%.3f}",
                sp->thread, us(sp->t0));
        break;
    }
}

void cd_chrome_write(FILE *out, const cd_spans_t *s, const cd_run_result_t *r)
{
    const cd_verdict_t *v = &r->verdict;
    char title[256];
    int flows = 0;

    snprintf(title, sizeof title, "concdemo %s [%s]", r->scenario->name,
             r->scenario->variants[r->variant].name);
    fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n"
          "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"args\":"
          "{\"name\":", out);
    cd_report_json_str(out, title);
    fputs("}}", out);
    thread_names(out, s);
    for (int i = 0; i < s->n; i++)
        span(out, &s->v[i], &flows);
    /* The verdict, over the whole run, where the run ended. */
    fputs(",\n{\"ph\":\"i\",\"s\":\"g\",\"name\":", out);
    cd_report_json_str(out, cd_status_name(v->status));
    fprintf(out, ",\"cat\":\"verdict\",\"pid\":1,\"tid\":%d,\"ts\":%.3f%s,"
            "\"args\":{\"observed\":", s->nlanes ? s->lanes[0] : 1,
            us(s->end_ns),
            v->status == CD_HELD ? "" : ",\"cname\":\"terrible\"");
    cd_report_json_str(out, v->observed);
    fputs("}}\n],\"otherData\":{\"scenario\":", out);
    cd_report_json_str(out, r->scenario->name);
    fputs(",\"variant\":", out);
    cd_report_json_str(out, r->scenario->variants[r->variant].name);
    fputs(",\"status\":", out);
    cd_report_json_str(out, cd_status_name(v->status));
    fputs(",\"expected\":", out);
    cd_report_json_str(out, v->expected);
    fputs(",\"observed\":", out);
    cd_report_json_str(out, v->observed);
    fprintf(out, ",\"events_lost\":%" PRIu64 "}}\n", s->lost);
}
