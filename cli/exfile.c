/*
 * exfile.c - builds a whole exercise file from its starter and a part (a
 * note, then `diff -u STARTER FIXED`).
 */
#include "exfile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ================================ lines ================================== */

/* The lines of a text, pointers into it (a last '\n' ends the last line). */
typedef struct lines {
    const char **at;
    size_t *len;
    int n;
} lines_t;

static int split(const char *text, lines_t *l)
{
    int cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == '\n';
    l->n = 0;
    l->at = malloc((size_t)cap * sizeof *l->at);
    l->len = malloc((size_t)cap * sizeof *l->len);
    if (!l->at || !l->len)
        return -1;
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, "\n");
        l->at[l->n] = p;
        l->len[l->n++] = len;
        p += len + (p[len] == '\n');
    }
    return 0;
}

static void drop(lines_t *l)
{
    free(l->at);
    free(l->len);
}

static int starts(const lines_t *l, int i, const char *prefix)
{
    size_t n = strlen(prefix);
    return i < l->n && l->len[i] >= n && strncmp(l->at[i], prefix, n) == 0;
}

/* 1 if line i is blank or holds only comment; *open says whether a block
 * comment goes on past it (it is updated). */
static int note_line(const lines_t *l, int i, int *open)
{
    const char *p = l->at[i], *end = p + l->len[i];
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++;
        if (p == end)
            return 1;
        if (*open) {
            while (p + 1 < end && !(p[0] == '*' && p[1] == '/'))
                p++;
            if (p + 1 >= end)
                return 1;
            p += 2;
            *open = 0;
        } else if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
            return 1;
        } else if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
            p += 2;
            *open = 1;
        } else {
            return 0;
        }
    }
}

/* The index of the part's "--- " line, or -1 when the text is no part. */
static int header_line(const lines_t *l)
{
    int open = 0, i = 0;
    while (i < l->n && note_line(l, i, &open))
        i++;
    return !open && starts(l, i, "--- ") && starts(l, i + 1, "+++ ") ? i : -1;
}

int cd_exfile_is_part(const char *text)
{
    lines_t l;
    int part = split(text, &l) == 0 && header_line(&l) >= 0;
    drop(&l);
    return part;
}

void cd_exfile_part_of(const char *text, char *buf, size_t size)
{
    lines_t l;
    int h = split(text, &l) == 0 ? header_line(&l) : -1;
    buf[0] = '\0';
    if (h >= 0) {
        const char *name = l.at[h] + 4;
        size_t len = l.len[h] - 4;
        size_t tab = strcspn(name, "\t\r\n");
        snprintf(buf, size, "%.*s", (int)(tab < len ? tab : len), name);
    }
    drop(&l);
}

/* ================================ output ================================= */

typedef struct out {
    char *text;
    size_t len, cap;
    int failed;
    int marks;             /* write #line directives */
    const char *names[2];  /* 0: the starter, 1: the part */
    int file, next;        /* where the next line is taken to come from */
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (o->len + n + 1 > cap)
            cap *= 2;
        char *bigger = realloc(o->text, cap);
        if (!bigger) {
            o->failed = 1;
            return;
        }
        o->text = bigger;
        o->cap = cap;
    }
    memcpy(o->text + o->len, s, n);
    o->len += n;
    o->text[o->len] = '\0';
}

/* #line N "NAME", the name escaped as a C string. */
static void put_mark(out_t *o, int file, int line)
{
    char num[32];
    snprintf(num, sizeof num, "#line %d \"", line);
    put(o, num, strlen(num));
    for (const char *p = o->names[file]; *p; p++) {
        if (*p == '"' || *p == '\\')
            put(o, "\\", 1);
        put(o, p, 1);
    }
    put(o, "\"\n", 2);
}

/* Line number `line` (1-based) of file 0 (the starter) or 1 (the part). */
static void put_line(out_t *o, const char *s, size_t n, int file, int line)
{
    if (o->marks && (file != o->file || line != o->next))
        put_mark(o, file, line);
    put(o, s, n);
    put(o, "\n", 1);
    o->file = file;
    o->next = line + 1;
}

/* ================================ hunks ================================== */

/* "@@ -a[,b] +c[,d] @@ ...": the starter's first line and count, the
 * result's count. Returns 0, or -1 when the header is malformed. */
static int hunk_header(const char *s, size_t len, int *a, int *b, int *d)
{
    char line[128];
    int c, used = 0;
    snprintf(line, sizeof line, "%.*s", (int)(len < 127 ? len : 127), s);
    *b = *d = 1;
    if (sscanf(line, "@@ -%d,%d +%d,%d @@%n", a, b, &c, d, &used) == 4 &&
        used)
        return 0;
    *b = *d = 1;
    used = 0;
    if (sscanf(line, "@@ -%d,%d +%d @@%n", a, b, &c, &used) == 3 && used)
        return 0;
    *b = 1;
    used = 0;
    if (sscanf(line, "@@ -%d +%d,%d @@%n", a, &c, d, &used) == 3 && used)
        return 0;
    *d = 1;
    used = 0;
    if (sscanf(line, "@@ -%d +%d @@%n", a, &c, &used) == 2 && used)
        return 0;
    return -1;
}

/* A line of a hunk: ' ' kept, '-' removed, '+' added; an empty line is a
 * kept empty line (editors strip the lone space). 0: none of these. */
static char kind_of(const lines_t *p, int i)
{
    if (p->len[i] == 0)
        return ' ';
    char k = p->at[i][0];
    return k == ' ' || k == '-' || k == '+' || k == '\\' ? k : 0;
}

/* Text of hunk line i without its kind character. */
static const char *body(const lines_t *p, int i, size_t *len)
{
    *len = p->len[i] ? p->len[i] - 1 : 0;
    return p->len[i] ? p->at[i] + 1 : p->at[i];
}

/* Does the hunk starting at part line i (after its "@@" line) keep or
 * remove, in order, the starter's lines from `at` on? */
static int matches(const lines_t *s, int at, const lines_t *p, int i,
                   int count)
{
    for (int k = 0; k < count; i++) {
        char kind = kind_of(p, i);
        if (kind == '+' || kind == '\\')
            continue;
        size_t len;
        const char *text = body(p, i, &len);
        if (at + k >= s->n || s->len[at + k] != len ||
            memcmp(s->at[at + k], text, len) != 0)
            return 0;
        k++;
    }
    return 1;
}

/* The hunk's lines end where its counts are met: the index after them,
 * or -1 if the part ends or a foreign line comes first. */
static int hunk_end(const lines_t *p, int i, int old, int new)
{
    while (old > 0 || new > 0) {
        if (i >= p->n)
            return -1;
        char kind = kind_of(p, i);
        if (!kind || (kind == '-' && old == 0) || (kind == '+' && new == 0) ||
            (kind == ' ' && (old == 0 || new == 0)))
            return -1;
        old -= kind == ' ' || kind == '-';
        new -= kind == ' ' || kind == '+';
        i++;
    }
    while (i < p->n && kind_of(p, i) == '\\' && p->len[i])
        i++; /* "\ No newline at end of file" */
    return i;
}

static void say(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
}

/* Applies every hunk from part line i on; copies the starter around
 * them. Returns 0, or -1 with err filled. */
static int apply(const lines_t *s, const lines_t *p, int i, out_t *o,
                 char *err, size_t esize)
{
    int pos = 0, offset = 0;
    while (i < p->n) {
        if (p->len[i] == 0) {
            i++;
            continue;
        }
        int a, b, d;
        if (!starts(p, i, "@@ ") || hunk_header(p->at[i], p->len[i], &a, &b,
                                                 &d) != 0) {
            say(err, esize, "its line %d is neither a change (\"@@ -N,N +N,N "
                "@@\") nor part of one", i + 1);
            return -1;
        }
        int end = hunk_end(p, i + 1, b, d);
        if (end < 0) {
            say(err, esize, "the change at its line %d is cut short (its "
                "header counts more lines than follow)", i + 1);
            return -1;
        }
        /* With nothing kept or removed, a is the line it comes after. */
        int want = (b ? a - 1 : a) + offset, at = -1;
        for (int k = pos; k + b <= s->n; k++)
            if ((at < 0 || abs(k - want) < abs(at - want)) &&
                matches(s, k, p, i + 1, b))
                at = k;
        if (at < 0) {
            say(err, esize, "the change at its line %d does not match %s: "
                "the lines it keeps or removes are not there (was the "
                "starter changed? make the part again with diff -u)", i + 1,
                o->names[0]);
            return -1;
        }
        offset = at - (b ? a - 1 : a);
        for (; pos < at; pos++)
            put_line(o, s->at[pos], s->len[pos], 0, pos + 1);
        for (int k = i + 1; k < end; k++) {
            size_t len;
            const char *text = body(p, k, &len);
            char kind = kind_of(p, k);
            if (kind == '+')
                put_line(o, text, len, 1, k + 1);
            else if (kind == ' ')
                put_line(o, s->at[pos], s->len[pos], 0, pos + 1);
            pos += kind == ' ' || kind == '-';
        }
        i = end;
    }
    for (; pos < s->n; pos++)
        put_line(o, s->at[pos], s->len[pos], 0, pos + 1);
    return 0;
}

char *cd_exfile_splice(const char *starter, const char *part,
                       const char *starter_name, const char *part_name,
                       int line_marks, char *err, size_t errsize)
{
    lines_t s = { 0 }, p = { 0 };
    out_t o = { .marks = line_marks, .names = { starter_name, part_name },
                .file = -1 };
    int rc = -1;

    if (split(starter, &s) != 0 || split(part, &p) != 0) {
        say(err, errsize, "out of memory");
    } else {
        int h = header_line(&p);
        if (h < 0)
            say(err, errsize, "it is no part: no \"--- \" and \"+++ \" "
                "lines (diff -u) after its note");
        else
            rc = apply(&s, &p, h + 2, &o, err, errsize);
        if (rc == 0 && (o.failed || !o.text)) {
            say(err, errsize, "out of memory");
            rc = -1;
        }
    }
    drop(&s);
    drop(&p);
    if (rc != 0) {
        free(o.text);
        return NULL;
    }
    return o.text;
}

char *cd_exfile_added(const char *part)
{
    lines_t p;
    out_t o = { .file = -1 };
    int h = split(part, &p) == 0 ? header_line(&p) : -1;
    if (h < 0) {
        drop(&p);
        return NULL;
    }
    for (int i = 0; i < p.n; i++) {
        if (i > h + 1 && p.len[i] > 0 && p.at[i][0] == '+')
            put(&o, p.at[i] + 1, p.len[i] - 1);
        put(&o, "\n", 1);
    }
    drop(&p);
    if (o.failed || !o.text) {
        free(o.text);
        return NULL;
    }
    return o.text;
}
