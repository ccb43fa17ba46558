/*
 * report.c - verdict lines, findings, JSON and the trace.
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cd_trace.h"
#include "chrome.h"
#include "spans.h"
#include "timeline.h"

void cd_report_intro(FILE *out, const cd_scenario_t *s, int variant,
                     const cd_params_t *p)
{
    /* An exercise's scenario has no title: its variant says it all. */
    if (s->title)
        fprintf(out, "%s [%s]: %s - %s\n", s->name, s->variants[variant].name,
                s->title, s->variants[variant].summary);
    else
        fprintf(out, "%s [%s]: %s\n", s->name, s->variants[variant].name,
                s->variants[variant].summary);
    fputs(" ", out);
    if (p->serve) { /* its clients are people: no simulated ones */
        fprintf(out, " a server, %d worker%s\n", p->workers,
                p->workers == 1 ? "" : "s");
        return;
    }
    if (s->max.threads > 0)
        fprintf(out, " %d thread%s,", p->threads, p->threads == 1 ? "" : "s");
    if (s->max.workers > 0)
        fprintf(out, " %d worker%s,", p->workers, p->workers == 1 ? "" : "s");
    if (s->max.instances > 0)
        fprintf(out, " %d %s,", p->instances,
                p->instances == 1 ? "instance (a process)"
                                  : "instances (processes)");
    fprintf(out, " %d iteration%s", p->iterations,
            p->iterations == 1 ? "" : "s");
    if (s->max.budget_kib > 0 && p->budget_kib > 0)
        fprintf(out, ", a %d %s memory budget",
                p->budget_kib % 1024 ? p->budget_kib : p->budget_kib / 1024,
                p->budget_kib % 1024 ? "KiB" : "MiB");
    fputc('\n', out);
}

/* The run's trace, oldest first, in a buffer the caller frees; *n events
 * of *total. NULL when out of memory. */
static cd_trace_event_t *read_trace(int *n, uint64_t *total)
{
    cd_trace_event_t *ev = malloc(CD_TRACE_CAP * sizeof *ev);
    *n = ev ? cd_trace_read(ev, CD_TRACE_CAP, total) : -ENOMEM;
    if (*n < 0) {
        free(ev);
        return NULL;
    }
    return ev;
}

void cd_report_trace(FILE *out)
{
    uint64_t total;
    int n;
    cd_trace_event_t *ev = read_trace(&n, &total);
    char line[256];

    if (!ev) {
        fprintf(out, "trace: out of memory\n");
        return;
    }
    fprintf(out, "trace: %" PRIu64 " events%s\n", total,
            (uint64_t)n < total ? " (the oldest were dropped)" : "");
    for (int i = 0; i < n; i++) {
        cd_trace_format(&ev[i], line, sizeof line);
        fprintf(out, "  %s\n", line);
    }
    free(ev);
}

void cd_report_verdict_line(FILE *out, const char *scenario,
                            const char *variant, const cd_verdict_t *v)
{
    /* An error is the run's set-up failing (a database that cannot be
     * reached, threads that could not start): what it would have
     * expected says nothing, the error is the line. */
    if (v->status == CD_ERROR)
        fprintf(out, "%s [%s]: %s \xe2\x80\x94 %s\n", scenario, variant,
                cd_status_name(v->status), v->observed);
    else
        fprintf(out, "%s [%s]: %s \xe2\x80\x94 expected %s; observed %s\n",
                scenario, variant, cd_status_name(v->status), v->expected,
                v->observed);
}

/* ============================ replay commands ============================ */

/* How the user ran us, as a shell word: the replay command must run when
 * pasted into the same shell, in the same directory. Its size keeps the
 * whole command within cd_run_result_t's replay (schedule + 256). */
static char program[129] = "concdemo";

/* 1 if s can be pasted into a shell as it is: no quoting needed. */
static int shell_safe(const char *s)
{
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789/._-+,:=@%", *s))
            return 0;
    return 1;
}

void cd_report_set_program(const char *argv0)
{
    size_t at = 0;
    /* Without a slash the shell found us on PATH: the name is enough. A
     * path (./build/concdemo) must be repeated, or the replay would run
     * an installed concdemo, or none. */
    if (!argv0 || !strchr(argv0, '/')) {
        snprintf(program, sizeof program, "concdemo");
        return;
    }
    if (shell_safe(argv0) && strlen(argv0) < sizeof program) {
        snprintf(program, sizeof program, "%s", argv0);
        return;
    }
    /* 'it'\''s': single quotes, each quote inside closed and escaped. A
     * path too long for the buffer falls back to the plain name: a cut
     * path would name no program at all. */
    program[at++] = '\'';
    for (const char *p = argv0; *p; p++) {
        const char *piece = *p == '\'' ? "'\\''" : NULL;
        size_t n = piece ? strlen(piece) : 1;
        if (at + n + 2 > sizeof program) {
            snprintf(program, sizeof program, "concdemo");
            return;
        }
        memcpy(program + at, piece ? piece : p, n);
        at += n;
    }
    program[at++] = '\'';
    program[at] = '\0';
}

void cd_report_replay_command(const cd_run_result_t *r, int latency_permille,
                              const char *save_path, char *buf, size_t size)
{
    const cd_scenario_t *s = r->scenario;
    char fixed[64] = "", size_flags[96] = "", scale[48] = "";
    /* The spurious wake-ups are choices of the schedule: without them
     * the replay would not fit. */
    const char *spurious = r->spurious ? " --spurious" : "";
    if (size)
        buf[0] = '\0';
    if ((!r->schedule[0] && !save_path) || r->verdict.status == CD_STOPPED)
        return;
    if (r->variant)
        snprintf(fixed, sizeof fixed, " --fixed=%s",
                 s->variants[r->variant].name);
    /* The size flags the scenario takes: threads, or executor workers. */
    if (s->max.threads > 0)
        snprintf(size_flags, sizeof size_flags, " --threads %d",
                 r->params.threads);
    if (s->max.workers > 0)
        snprintf(size_flags + strlen(size_flags),
                 sizeof size_flags - strlen(size_flags), " --workers %d",
                 r->params.workers);
    if (s->max.budget_kib > 0 && r->params.budget_kib > 0)
        snprintf(size_flags + strlen(size_flags),
                 sizeof size_flags - strlen(size_flags),
                 " --memory-budget %d", r->params.budget_kib);
    if (latency_permille != 1000)
        snprintf(scale, sizeof scale, " --latency-scale %g",
                 latency_permille / 1000.0);
    snprintf(buf, size, "%s %s%s%s --iterations %d%s%s "
             "--sched=replay:%s%s", program, s->name, fixed, size_flags,
             r->params.iterations, scale, spurious, r->schedule[0] ? "" : "@",
             r->schedule[0] ? r->schedule : save_path);
}

int cd_report_save_schedule(const char *path, char *err, size_t errlen)
{
    const cd_sched_decision_t *d;
    int n = cd_sched_decisions(&d);
    int len = cd_sched_format_schedule(d, n, NULL, 0);
    char *text = malloc((size_t)len + 1);
    FILE *f = text ? fopen(path, "w") : NULL;
    int ok = f != NULL;
    if (ok) {
        cd_sched_format_schedule(d, n, text, (size_t)len + 1);
        ok = fprintf(f, "%s\n", text) > 0;
        ok = (fclose(f) == 0) && ok;
    }
    if (!ok)
        snprintf(err, errlen, "--save-schedule: cannot write '%s': %s", path,
                 strerror(errno));
    free(text);
    return ok ? 0 : -1;
}

int cd_report_replay(cd_run_result_t *r, int latency_permille,
                     const char *save_path, char *err, size_t errlen)
{
    r->replay[0] = '\0';
    if (save_path && cd_report_save_schedule(save_path, err, errlen) != 0)
        return -1;
    cd_report_replay_command(r, latency_permille, save_path, r->replay,
                             sizeof r->replay);
    return 0;
}

void cd_report_text(FILE *out, const cd_run_result_t *r)
{
    char buf[1024];

    for (int i = 0; i < r->ninv; i++) {
        cd_inversion_format(&r->inv[i], buf, sizeof buf);
        fprintf(out, "lock-order: potential deadlock: %s\n", buf);
    }
    if (r->controlled) {
        if (r->schedule[0])
            fprintf(out, "schedule: %s (%d choices, %ld steps)\n",
                    r->schedule, r->ndecisions, r->steps);
        else if (r->ndecisions == 0)
            fprintf(out, "schedule: no choices (%ld steps; at every one "
                    "only one thread could run)\n", r->steps);
        else
            fprintf(out, "schedule: %d choices, too long to print (save it "
                    "with --save-schedule FILE)\n", r->ndecisions);
        if (r->verdict.status != CD_HELD && r->replay[0])
            fprintf(out, "replay: %s\n", r->replay);
    }
    cd_report_verdict_line(out, r->scenario->name,
                           r->scenario->variants[r->variant].name,
                           &r->verdict);
}

/* ================================== JSON ================================= */

void cd_report_json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_site(FILE *out, cd_site_t s)
{
    fputs("{\"file\":", out);
    cd_report_json_str(out, s.file ? s.file : "");
    fprintf(out, ",\"line\":%d}", s.line);
}

/* ,"key":"value" - a member after the first. */
static void json_field(FILE *out, const char *key, const char *value)
{
    fprintf(out, ",\"%s\":", key);
    cd_report_json_str(out, value);
}

/* ,"key":{"file":...,"line":...} */
static void json_site_field(FILE *out, const char *key, cd_site_t s)
{
    fprintf(out, ",\"%s\":", key);
    json_site(out, s);
}

/* ,"key": then null where there is no value: returns whether there is. */
static int json_member(FILE *out, const char *key, int present)
{
    fprintf(out, ",\"%s\":", key);
    if (!present)
        fputs("null", out);
    return present;
}

/* Opens item k of an array of objects with its first member. */
static void json_item(FILE *out, int k, const char *key, const char *value)
{
    fprintf(out, "%s{\"%s\":", k ? "," : "", key);
    cd_report_json_str(out, value);
}

static void json_cycle(FILE *out, const cd_run_result_t *r)
{
    if (!json_member(out, "deadlock", r->has_cycle))
        return;
    fputc('[', out);
    for (int k = 0; k < r->cycle.len; k++) {
        const cd_cycle_link_t *l = &r->cycle.link[k];
        json_item(out, k, "thread", cd_reg_thread_name(l->thread));
        json_field(out, "holds", cd_reg_object_name(l->holds));
        json_field(out, "waits", cd_reg_object_name(l->waits));
        fputc('}', out);
    }
    fputc(']', out);
}

/* "stuck": what each live thread of a stuck run waited for: an object
 * (its kind, its owner) or the thread it joined; null when not stuck. */
static void json_stuck(FILE *out, const cd_run_result_t *r)
{
    if (!json_member(out, "stuck",
                     r->has_stuck && r->verdict.status == CD_STUCK))
        return;
    fputs("{\"waits\":[", out);
    for (int k = 0; k < r->stuck.len; k++) {
        const cd_stuck_wait_t *w = &r->stuck.wait[k];
        json_item(out, k, "thread", cd_reg_thread_name(w->thread));
        json_field(out, "state", cd_thread_state_name(w->state));
        json_field(out, "object", w->obj ? cd_reg_object_name(w->obj) : "");
        json_field(out, "kind", w->obj ? cd_obj_kind_name(w->kind) : "");
        json_field(out, "held_by",
                   w->owner ? cd_reg_thread_name(w->owner) : "");
        json_field(out, "joins",
                   w->joins ? cd_reg_thread_name(w->joins) : "");
        fputc('}', out);
    }
    fprintf(out, "],\"threads\":%d,\"lost_wakeup\":", r->stuck.nlive);
    cd_report_json_str(out, r->stuck.lost_wakeup);
    fputc('}', out);
}

static void json_inversions(FILE *out, const cd_run_result_t *r)
{
    fputs(",\"lock_order\":[", out);
    for (int i = 0; i < r->ninv; i++) {
        const cd_inversion_t *v = &r->inv[i];
        json_item(out, i, "first", cd_reg_object_name(v->first));
        json_field(out, "second", cd_reg_object_name(v->second));
        json_field(out, "thread", cd_reg_thread_name(v->thread));
        json_site_field(out, "held_at", v->held_at);
        json_site_field(out, "taken_at", v->taken_at);
        json_field(out, "back_thread",
                   v->back_thread ? cd_reg_thread_name(v->back_thread) : "");
        json_site_field(out, "back_held_at", v->back_held_at);
        json_site_field(out, "back_taken_at", v->back_taken_at);
        fputc('}', out);
    }
    fputc(']', out);
}

static void json_trace(FILE *out)
{
    uint64_t total;
    int n;
    cd_trace_event_t *ev = read_trace(&n, &total);

    fputs(",\"trace\":[", out);
    for (int i = 0; ev && i < n; i++) {
        fprintf(out, "%s{\"t_ns\":%" PRId64 ",\"thread\":", i ? "," : "",
                ev[i].t_ns);
        cd_report_json_str(out, cd_reg_thread_name(ev[i].thread));
        json_field(out, "op", cd_op_name(ev[i].op));
        json_field(out, "object", cd_trace_subject(&ev[i], NULL));
        fprintf(out, ",\"arg\":%" PRId64 ",\"site\":", ev[i].arg);
        json_site(out, ev[i].site);
        fputc('}', out);
    }
    fputc(']', out);
    free(ev);
}

void cd_report_json(FILE *out, const cd_run_result_t *r, int with_trace)
{
    const cd_verdict_t *v = &r->verdict;

    fputs("{\"scenario\":", out);
    cd_report_json_str(out, r->scenario->name);
    json_field(out, "variant", r->scenario->variants[r->variant].name);
    fprintf(out, ",\"threads\":%d,\"workers\":%d,\"iterations\":%d,"
            "\"status\":", r->params.threads, r->params.workers,
            r->params.iterations);
    cd_report_json_str(out, cd_status_name(v->status));
    fprintf(out, ",\"exit_code\":%d,\"expected\":", cd_exit_code(v->status));
    cd_report_json_str(out, v->expected);
    json_field(out, "observed", v->observed);
    fprintf(out, ",\"duration_ms\":%.3f,\"figures\":{",
            (double)r->duration_ns / 1e6);
    for (int i = 0; i < v->nfigs; i++) {
        if (i)
            fputc(',', out);
        cd_report_json_str(out, v->figs[i].key);
        fputc(':', out);
        if (v->figs[i].is_num)
            fprintf(out, "%" PRId64, v->figs[i].num);
        else
            cd_report_json_str(out, v->figs[i].str);
    }
    fputc('}', out);
    json_cycle(out, r);
    json_stuck(out, r);
    json_inversions(out, r);
    if (r->controlled) {
        fprintf(out, ",\"decisions\":%d,\"steps\":%ld,\"schedule\":",
                r->ndecisions, r->steps);
        cd_report_json_str(out, r->schedule);
        json_field(out, "replay", r->replay);
    }
    if (with_trace)
        json_trace(out);
    fputs("}\n", out);
}

/* ================================ pictures =============================== */

static int open_one(const char *flag, const char *path, FILE **f, char *err,
                    size_t errlen)
{
    *f = NULL;
    if (!path)
        return 0;
    if (!(*f = fopen(path, "w"))) {
        snprintf(err, errlen, "%s: cannot write %s: %s", flag, path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

int cd_report_pictures_open(cd_pictures_t *p, char *err, size_t errlen)
{
    if (open_one("--timeline", p->svg_path, &p->svg, err, errlen) != 0 ||
        open_one("--trace-out", p->json_path, &p->json, err, errlen) != 0) {
        cd_report_pictures_close(p);
        return -1;
    }
    return 0;
}

void cd_report_pictures_close(cd_pictures_t *p)
{
    if (p->svg)
        fclose(p->svg);
    if (p->json)
        fclose(p->json);
    p->svg = p->json = NULL;
}

/* Closes f, saying in err when anything written to it was lost. */
static int close_one(const char *flag, const char *path, FILE **f,
                     char *err, size_t errlen)
{
    if (!*f)
        return 0;
    int bad = ferror(*f);
    int rc = fclose(*f);
    *f = NULL;
    if (bad || rc != 0) {
        snprintf(err, errlen, "%s: cannot write %s: %s", flag, path,
                 strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

int cd_report_pictures_write(cd_pictures_t *p, const cd_run_result_t *r,
                             char *err, size_t errlen)
{
    cd_spans_t s;
    if (!p->svg && !p->json)
        return 0;
    if (cd_spans_read(&s) != 0) {
        snprintf(err, errlen, "no memory to draw the run");
        cd_report_pictures_close(p);
        return -1;
    }
    cd_spans_mark(&s, r->has_cycle ? &r->cycle : NULL,
                  r->has_stuck ? &r->stuck : NULL);
    if (p->svg)
        cd_timeline_write(p->svg, &s, r);
    if (p->json)
        cd_chrome_write(p->json, &s, r);
    cd_spans_free(&s);
    errno = 0;
    int rc = close_one("--timeline", p->svg_path, &p->svg, err, errlen);
    if (close_one("--trace-out", p->json_path, &p->json, err, errlen) != 0)
        rc = -1;
    return rc;
}
