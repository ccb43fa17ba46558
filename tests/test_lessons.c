/*
 * test_lessons.c - the worksheets in lessons/ stay true to the program.
 *
 * A worksheet marks what a machine can check, in fenced blocks:
 *
 *   ```sh run [exit=N]   one command a line: concdemo, build/concdemo or
 *                        build/tsan/concdemo and its arguments ("# ..." is a
 *                        comment, "| ..." a filter that is not run). Each
 *                        must run without a usage error (exit 2) and end in
 *                        time; with exit=N it must exit with N. --view runs
 *                        as --view=text (no terminal here).
 *   ```text output       a transcript: "$ COMMAND" lines, each followed by
 *                        lines of what it prints. Every such line must be a
 *                        line of the command's output (stdout or stderr);
 *                        "..." at its end elides the rest, a line of "..."
 *                        skips lines. Verdict lines ("name [variant]:
 *                        STATUS — expected ...; observed ...") must match up
 *                        to "observed" exactly. Controlled runs (--sched=)
 *                        are reproducible, so their lines must match
 *                        exactly; elsewhere a word with digits in it
 *                        matches any word of the same shape (numbers vary
 *                        from run to run, and with them the plural of the
 *                        one or two words after), the other words and source
 *                        locations (file.c:LINE) exactly. Lines quoted one
 *                        after the other must be printed one after the
 *                        other unless a line of "..." stands between them,
 *                        and a trace quoted from its middle has "..." at
 *                        that end ("| grep WORD" filters stdout first).
 *   ```diff demos/X.c    an excerpt: every line, after its +/-/space column,
 *                        must be a line of demos/X.c. (```diff OLD NEW, two
 *                        files under lessons/: '-' lines of OLD, '+' lines
 *                        of NEW, the others of both.)
 *
 * A worksheet that is a command's rather than a scenario's (lesson 23,
 * `concdemo watch`, on programs the learner builds) is listed in
 * `command_sheets` below with its programs: the test builds them as the
 * sheet does, without a warning, holds each to the verdict of `concdemo
 * watch --json` the table gives, and the one the sheet calls a silent hang
 * to hanging without a word from ThreadSanitizer or Helgrind. Its
 * transcripts may also quote the shell lines its entry allows ("$ timeout
 * 5 build/handoff; ...").
 *
 * It also checks the shape every worksheet shares (title, time line, the
 * seven sections in order, what the Run and Exercise sections name), that
 * every scenario's worksheet is listed in lessons/README.md, and that every
 * path the worksheets name (lessons/, lib/, demos/, cli/) exists, with the
 * line a FILE:LINE quotes. And that every scenario has the whole set the
 * checklist in docs/ARCHITECTURE.md asks for - worksheet, exercise, answer,
 * decoys - each part of it where the checker and the indexes find it, or
 * says in `excused` below why it goes without; and that lessons/answers/
 * holds parts alone, each called NAME.patch (no .c: that is a whole file).
 */
#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../cli/exfile.h"
#include "../cli/grade.h"
#include "../demos/scenario.h"
#include "harness.h"

/* suite: lessons; long */

#define LESSONS "lessons"
#define CMD_LIMIT_MS 60000 /* a worksheet command still running then hangs */
#define MAX_SHEETS 32
#define MAX_ARGS 40
#define MAX_RUNS 512

/* The sections of every worksheet, in this order ("## " headings). */
static const char *const sections[] = {
    "The story", "Predict", "Run", "Observe", "Explain", "Exercise",
    "Going further",
};
#define NSECTIONS ((int)(sizeof sections / sizeof sections[0]))

#define EM_EXPECTED " \xe2\x80\x94 expected " /* " — expected " */
#define OBSERVED "; observed "

/* ============================== problems ================================= */

static int problems;
static int quiet; /* count problems without printing them (self-tests) */

/* Reports one thing wrong in a worksheet, as path:line: what. */
__attribute__((format(printf, 3, 4)))
static void problem(const char *path, int line, const char *fmt, ...)
{
    va_list ap;
    if (quiet) {
        problems++;
        return;
    }
    fprintf(stderr, "\n  %s:%d: ", path, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    problems++;
}

/* ============================ the worksheets ============================= */

typedef struct sheet {
    char path[128];   /* lessons/01-race.md */
    char name[64];    /* 01-race.md */
    char *buf;        /* the file, split in place into lines */
    char **line;
    int nlines;
} sheet_t;

static sheet_t sheets[MAX_SHEETS];
static int nsheets = -1; /* not loaded yet */
static sheet_t readme;

/* Reads path into s, split into lines (no trailing newline or CR).
 * Returns 0, or -1 if it cannot be read. */
static int load_lines(sheet_t *s, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    s->buf = malloc((size_t)size + 1);
    s->line = malloc(((size_t)size + 2) * sizeof *s->line);
    if (!s->buf || !s->line || fread(s->buf, 1, (size_t)size, f) !=
                                   (size_t)size) {
        fclose(f);
        return -1;
    }
    fclose(f);
    s->buf[size] = '\0';
    snprintf(s->path, sizeof s->path, "%s", path);
    s->nlines = 0;
    for (char *p = s->buf; *p;) {
        char *nl = strchr(p, '\n');
        s->line[s->nlines++] = p;
        if (!nl)
            break;
        *nl = '\0';
        if (nl > p && nl[-1] == '\r')
            nl[-1] = '\0';
        p = nl + 1;
    }
    return 0;
}

static int is_sheet_name(const char *n)
{
    size_t len = strlen(n);
    return isdigit((unsigned char)n[0]) && isdigit((unsigned char)n[1]) &&
           n[2] == '-' && len > 6 && strcmp(n + len - 3, ".md") == 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const sheet_t *)a)->name, ((const sheet_t *)b)->name);
}

/* Loads lessons/README.md and every lessons/NN-*.md once. */
static void load_sheets(void)
{
    if (nsheets >= 0)
        return;
    nsheets = 0;
    if (load_lines(&readme, LESSONS "/README.md") != 0)
        problem(LESSONS "/README.md", 0, "cannot be read (run the tests "
                "from the top of the repository)");
    DIR *d = opendir(LESSONS);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && nsheets < MAX_SHEETS) {
        char path[sizeof sheets[0].path];
        if (!is_sheet_name(e->d_name) ||
            strlen(e->d_name) >= sizeof sheets[0].name)
            continue;
        snprintf(path, sizeof path, LESSONS "/%s", e->d_name);
        sheet_t *s = &sheets[nsheets];
        if (load_lines(s, path) != 0) {
            problem(path, 0, "cannot be read");
            continue;
        }
        snprintf(s->name, sizeof s->name, "%s", e->d_name);
        nsheets++;
    }
    closedir(d);
    qsort(sheets, (size_t)nsheets, sizeof sheets[0], by_name);
}

static const sheet_t *sheet_named(const char *name)
{
    for (int i = 0; i < nsheets; i++)
        if (strcmp(sheets[i].name, name) == 0)
            return &sheets[i];
    return NULL;
}

/* The scenario whose worksheet s is, or NULL. */
static const cd_scenario_t *scenario_of(const sheet_t *s)
{
    int n;
    const cd_scenario_t *const *all = cd_scenarios(&n);
    for (int i = 0; i < n; i++)
        if (strcmp(all[i]->lesson, s->path) == 0)
            return all[i];
    return NULL;
}

/* ========================= worksheets of a command ======================== */

/* A program that a command's worksheet has the learner build and watch:
 * its source, where the sheet builds it (the line `cc -g -pthread -o BIN
 * SRC`), and what `concdemo watch --json` says of it. */
typedef struct sheet_program {
    const char *src, *bin;
    const char *verdict;  /* watch's "verdict" */
    const char *lucky;    /* the verdict of a run that got lucky, or NULL */
    int exit_code;        /* watch's exit code */
    /* A hang the data-race detectors are silent on: the sheet builds it
     * with -fsanitize=thread here (`cc -g -fsanitize=thread -pthread -o
     * TSAN_BIN SRC`); run plainly it hangs, the TSan build hangs with no
     * report, Helgrind counts 0 errors. NULL: no such claim. */
    const char *tsan_bin;
} sheet_program_t;

#define MAX_SHEET_PROGRAMS 4
#define MAX_NEEDS 8

/* Worksheets that are no scenario's but a command's, on programs the
 * learner builds. They have the shape of the others (title, time line,
 * the seven sections, a row in lessons/README.md); their own Run and
 * Exercise sections name what their table says; their transcripts may
 * also run the shell commands whose first word `shell` lists; their
 * programs build without warnings and get the verdicts the table gives;
 * and `concdemo COMMAND --help` points to them. */
static const struct command_sheet {
    const char *path, *command, *title;
    const char *shell[MAX_NEEDS];
    const char *run_needs[MAX_NEEDS], *exercise_needs[MAX_NEEDS];
    sheet_program_t programs[MAX_SHEET_PROGRAMS];
} command_sheets[] = {
    { LESSONS "/23-watch.md", "watch", "Watch your own program",
      { "timeout", NULL },
      { "```sh run", "concdemo watch --", "concdemo watch --json",
        "concdemo watch --view", "timeout ", "-fsanitize=thread",
        "valgrind --tool=helgrind", NULL },
      { "lessons/watch/transfer.c", "concdemo watch --", NULL },
      { { "lessons/watch/handoff.c", "build/handoff", "stuck", NULL, 1,
          "build/handoff-tsan" },
        { "lessons/watch/handoff_fixed.c", "build/handoff-fixed", "clean",
          NULL, 0, NULL },
        /* Both threads sleep 100 ms holding their first lock: nearly
         * always a deadlock, but a late start is a lucky run. */
        { "lessons/watch/transfer.c", "build/transfer", "deadlock",
          "lock-order", 1, NULL },
        { "lessons/watch/transfer_fixed.c", "build/transfer-fixed", "clean",
          NULL, 0, NULL } } },
};
#define NCOMMAND_SHEETS \
    ((int)(sizeof command_sheets / sizeof command_sheets[0]))

typedef struct command_sheet command_sheet_t;

/* The command sheet s is, or NULL. */
static const command_sheet_t *command_sheet_of(const sheet_t *s)
{
    for (int i = 0; i < NCOMMAND_SHEETS; i++)
        if (strcmp(command_sheets[i].path, s->path) == 0)
            return &command_sheets[i];
    return NULL;
}

/* ============================== text helpers ============================= */

/* s without leading and trailing blanks: start in *out, length returned. */
static size_t trim(const char *s, const char **out)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    *out = s;
    return n;
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A fenced block: its info string, and its lines [first, end). */
typedef struct block {
    const char *info;
    int fence;        /* line index of the opening fence */
    int first, end;
} block_t;

/* Finds the next fenced block at or after line *at; 1 if found. */
static int next_block(const sheet_t *s, int *at, block_t *b)
{
    for (int i = *at; i < s->nlines; i++) {
        if (!starts(s->line[i], "```"))
            continue;
        int j = i + 1;
        while (j < s->nlines && !starts(s->line[j], "```"))
            j++;
        trim(s->line[i] + 3, &b->info);
        b->fence = i;
        b->first = i + 1;
        b->end = j;
        *at = j + 1;
        return 1;
    }
    return 0;
}

/* Lines [*first, *end) of section `name` ("## name"), outside fences.
 * Returns 0 if the worksheet has no such section. */
static int section(const sheet_t *s, const char *name, int *first, int *end)
{
    int in_fence = 0, found = 0;
    for (int i = 0; i < s->nlines; i++) {
        if (starts(s->line[i], "```"))
            in_fence = !in_fence;
        if (in_fence || !starts(s->line[i], "## "))
            continue;
        if (found) {
            *end = i;
            return 1;
        }
        if (strcmp(s->line[i] + 3, name) == 0) {
            found = 1;
            *first = i + 1;
        }
    }
    *end = s->nlines;
    return found;
}

/* 1 if some line of section `name` contains needle. */
static int section_has(const sheet_t *s, const char *name, const char *needle)
{
    int first, end;
    if (!section(s, name, &first, &end))
        return 0;
    for (int i = first; i < end; i++)
        if (strstr(s->line[i], needle))
            return 1;
    return 0;
}

/* ============================ matching output ============================ */

/* The shape of a word: each run of digits (with the dots between them)
 * becomes '#', so "2.6" and "13.0" look the same, "request-1..6:" stays
 * "request-#:". */
static void word_shape(const char *w, size_t n, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < size;) {
        size_t j = i, digits = 0;
        while (j < n && (isdigit((unsigned char)w[j]) || w[j] == '.'))
            digits += isdigit((unsigned char)w[j++]) != 0;
        if (digits) {
            out[o++] = '#';
            i = j;
        } else {
            out[o++] = w[i++];
        }
    }
    out[o] = '\0';
}

/* Next blank-separated word of s at or after *pos: start, length (0 at
 * the end). */
static size_t next_word(const char *s, size_t len, size_t *pos,
                        const char **w)
{
    size_t i = *pos;
    while (i < len && s[i] == ' ')
        i++;
    size_t j = i;
    while (j < len && s[j] != ' ')
        j++;
    *w = s + i;
    *pos = j;
    return j - i;
}

/* A character of a file path (strchr alone would take the NUL too). */
static int is_path_char(int c)
{
    return c && (isalnum((unsigned char)c) || strchr("_./-", c));
}

/* The length of the source location at the start of w ("demos/race.c:84",
 * "cd_mutex.c:29"), or 0 if w does not start with one. */
static size_t site_len(const char *w, size_t n)
{
    size_t i = 0;
    while (i < n && is_path_char(w[i]))
        i++;
    if (i < 3 || (memcmp(w + i - 2, ".c", 2) != 0 &&
                  memcmp(w + i - 2, ".h", 2) != 0) ||
        i + 1 >= n || w[i] != ':' || !isdigit((unsigned char)w[i + 1]))
        return 0;
    for (i++; i < n && isdigit((unsigned char)w[i]);)
        i++;
    return i;
}

/* q (length qn) against r (length rn), word by word by shape. With
 * `elided`, r may go on after q's words. A source location is not a
 * number that varies: it must be the same line of the same file. */
/* a and b are one word, singular or plural ("order", "orders:"): what a
 * count just before it decides. */
static int same_but_plural(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > lb)
        return same_but_plural(b, a);
    size_t stem = la && strchr(":,;)", a[la - 1]) ? la - 1 : la;
    return lb == la + 1 && memcmp(a, b, stem) == 0 && b[stem] == 's' &&
           strcmp(a + stem, b + stem + 1) == 0;
}

static int match_shape(const char *q, size_t qn, const char *r, size_t rn,
                       int elided)
{
    size_t qp = 0, rp = 0;
    int since_count = 9; /* words since the last number */
    for (;;) {
        const char *qw, *rw;
        size_t ql = next_word(q, qn, &qp, &qw);
        size_t rl = next_word(r, rn, &rp, &rw);
        if (ql == 0)
            return elided || rl == 0;
        if (rl == 0)
            return 0;
        if (site_len(qw, ql) &&
            (ql != rl || memcmp(qw, rw, ql) != 0))
            return 0;
        char a[256], b[256];
        word_shape(qw, ql, a, sizeof a);
        word_shape(rw, rl, b, sizeof b);
        /* "0 orders left" quotes "1 order left": a number's noun (up to
         * two words on, "1 charge row") follows the number. */
        if (strcmp(a, b) != 0 &&
            !(since_count <= 2 && same_but_plural(a, b)))
            return 0;
        since_count = strcmp(a, "#") == 0 ? 1 : since_count + 1;
    }
}

static int match_text(const char *q, size_t qn, const char *r, size_t rn,
                      int elided, int exact)
{
    if (!exact)
        return match_shape(q, qn, r, rn, elided);
    return elided ? rn >= qn && memcmp(q, r, qn) == 0
                  : rn == qn && memcmp(q, r, qn) == 0;
}

/* A verdict line: "name [variant]: STATUS — expected ...; observed ...". */
static int is_verdict(const char *s)
{
    const char *e = strstr(s, EM_EXPECTED);
    return e && strstr(s, "]: ") && strstr(s, " [") && strstr(e, OBSERVED);
}

/* Does the quoted line match the real one? Verdict lines must agree
 * exactly up to "observed"; the rest, and other lines, exactly when
 * `exact`, by shape otherwise. */
static int match_line(const char *quoted, const char *real, int exact)
{
    const char *q, *r;
    size_t qn = trim(quoted, &q), rn = trim(real, &r);
    int elided = qn >= 4 && memcmp(q + qn - 4, " ...", 4) == 0;
    if (elided)
        qn -= 4;
    if (is_verdict(quoted)) {
        const char *obs = strstr(strstr(q, EM_EXPECTED), OBSERVED);
        size_t head = (size_t)(obs - q) + strlen(OBSERVED);
        if (head > qn + 1 || rn < head || memcmp(q, r, head) != 0)
            return 0;
        q += head;
        r += head;
        qn = qn > head ? qn - head : 0;
        rn -= head;
    }
    return match_text(q, qn, r, rn, elided, exact);
}

/* Does some line of text (lines separated by '\n') match quoted? */
static int text_has(const char *text, const char *quoted, int exact)
{
    char line[4096];
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, p, n);
        line[n] = '\0';
        if (match_line(quoted, line, exact))
            return 1;
        if (!nl)
            break;
        p = nl + 1;
    }
    return 0;
}

/* ============================ running commands =========================== */

typedef struct command {
    const char *argv[MAX_ARGS + 2];
    char store[2048];   /* the words, NUL-separated */
    char prog[32];      /* the program as written: concdemo, build/concdemo */
    char filter[256];   /* what follows an unquoted "|" ("" if nothing) */
    int tsan;           /* build/tsan/concdemo */
    int controlled;     /* --sched=...: the output is reproducible */
    int verdict_exact;  /* the verdict is reproducible (also explore) */
} command_t;

/* Splits a worksheet command into words ('...' and "..." quote; "#"
 * starts a comment and "|" a filter, neither of which runs). Returns 0,
 * or -1 with why in err. */
static int parse_command(const char *text, command_t *c, char *err,
                         size_t errlen)
{
    size_t o = 0;
    int argc = 1;
    memset(c, 0, sizeof *c);
    for (const char *p = text;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '|') {
            const char *f;
            size_t n = trim(p + 1, &f);
            snprintf(c->filter, sizeof c->filter, "%.*s", (int)n, f);
        }
        if (!*p || *p == '#' || *p == '|')
            break;
        if (argc > MAX_ARGS || o + 1 >= sizeof c->store) {
            snprintf(err, errlen, "too long a command");
            return -1;
        }
        c->argv[argc++] = &c->store[o];
        while (*p && *p != ' ' && *p != '\t' && o + 1 < sizeof c->store) {
            if (*p == '\'' || *p == '"') {
                char quote = *p++;
                while (*p && *p != quote && o + 1 < sizeof c->store)
                    c->store[o++] = *p++;
                if (*p != quote) {
                    snprintf(err, errlen, "unmatched quote");
                    return -1;
                }
                p++;
            } else {
                c->store[o++] = *p++;
            }
        }
        c->store[o++] = '\0';
    }
    if (argc < 2) {
        snprintf(err, errlen, "no command");
        return -1;
    }
    const char *prog = c->argv[1];
    snprintf(c->prog, sizeof c->prog, "%s", prog);
    if (strcmp(prog, "concdemo") == 0 || strcmp(prog, "build/concdemo") == 0) {
        c->argv[0] = concdemo_bin();
    } else if (strcmp(prog, "build/tsan/concdemo") == 0) {
        c->argv[0] = concdemo_tsan_bin();
        c->tsan = 1;
    } else {
        snprintf(err, errlen, "not a concdemo command: %s (put it in a "
                 "plain ```sh block)", prog);
        return -1;
    }
    /* argv[1] held the program's name: shift the arguments down. */
    for (int i = 1; i < argc; i++)
        c->argv[i] = c->argv[i + 1];
    argc--;
    for (int i = 1; i < argc; i++) {
        if (strcmp(c->argv[i], "--view") == 0)
            c->argv[i] = "--view=text"; /* no terminal here */
        if (starts(c->argv[i], "--sched="))
            c->controlled = 1;
    }
    int explore = argc > 1 && strcmp(c->argv[1], "explore") == 0;
    c->verdict_exact = c->controlled || explore;
    /* explore prints timings; a view's frames depend on when it drew. */
    for (int i = 1; i < argc; i++)
        if (starts(c->argv[i], "--view"))
            c->controlled = 0;
    if (explore)
        c->controlled = 0;
    c->argv[argc] = NULL;
    return 0;
}

/* What a command printed, kept for the blocks that quote it again. */
typedef struct output {
    int exit_code;  /* as cmd_out_t's */
    char *out, *err;
} output_t;

typedef struct run {
    char key[2100];
    output_t o;
} run_t;

static run_t runs[MAX_RUNS];
static int nruns;

/* text with every word `bin` (the binary the test ran) written `prog`
 * (the program the worksheet names), in malloc'd memory: the program
 * prints its own name in replay commands as it was run, and a learner
 * who types the worksheet's command sees the worksheet's name there. */
static char *as_written(const char *text, const char *bin, const char *prog)
{
    size_t bl = strlen(bin), pl = strlen(prog), n = 0, words = 0;
    /* Where bin starts a word and ends in a space: "replay: BIN race". */
#define BIN_AT(p) (((p) == text || (p)[-1] == ' ' || (p)[-1] == '\n') &&      \
                   strncmp((p), bin, bl) == 0 && (p)[bl] == ' ')
    for (const char *p = text; *p; p++)
        words += BIN_AT(p);
    char *o = malloc(strlen(text) + words * pl + 1);
    if (!o)
        return NULL;
    for (const char *p = text; *p;) {
        if (BIN_AT(p)) {
            memcpy(o + n, prog, pl);
            n += pl;
            p += bl;
        } else {
            o[n++] = *p++;
        }
    }
#undef BIN_AT
    o[n] = '\0';
    return o;
}

/* The output kept under key, or NULL. */
static const output_t *kept(const char *key)
{
    for (int i = 0; i < nruns; i++)
        if (strcmp(runs[i].key, key) == 0)
            return &runs[i].o;
    return NULL;
}

/* Keeps o under key, every word `bin` of it written `prog` (as_written).
 * Returns the kept output, or NULL if there is no room. */
static const output_t *keep(const char *key, const cmd_out_t *o,
                            const char *bin, const char *prog)
{
    if (nruns >= MAX_RUNS)
        return NULL;
    run_t *r = &runs[nruns];
    r->o.out = as_written(o->out, bin, prog);
    r->o.err = as_written(o->err, bin, prog);
    if (!r->o.out || !r->o.err)
        return NULL;
    r->o.exit_code = o->exit_code;
    snprintf(r->key, sizeof r->key, "%s", key);
    nruns++;
    return &r->o;
}

/* Runs argv with env and keeps its output under key (keep()). Returns it,
 * or NULL if it could not be run at all. */
static const output_t *run_and_keep(const char *key, const char *const argv[],
                                    const char *env, const char *bin,
                                    const char *prog)
{
    static cmd_out_t *scratch; /* large: one for all runs */
    if (!scratch)
        scratch = malloc(sizeof *scratch);
    if (!scratch || nruns >= MAX_RUNS)
        return NULL;
    run_cmd(scratch, argv, env, CMD_LIMIT_MS);
    return keep(key, scratch, bin, prog);
}

/* The key c's output is kept under. The TSan exit code is part of it:
 * under make test-tsan both kinds of line run the same binary. So is the
 * name it was written with, which its output repeats. */
static void command_key(const command_t *c, char *key, size_t size)
{
    size_t at = (size_t)snprintf(key, size, "%d %s %s", c->tsan, c->prog,
                                 c->argv[0]);
    for (int i = 1; c->argv[i] && at < size; i++)
        at += (size_t)snprintf(key + at, size - at, " %s", c->argv[i]);
}

/* A TSan report sets exit 66 on the TSan binary, the code worksheets name;
 * for the binary under test (itself a TSan build under make test-tsan) it
 * sets 1, which a broken variant exits with anyway. */
static const char *command_env(const command_t *c)
{
    return c->tsan ? "TSAN_OPTIONS=halt_on_error=0 exitcode=66"
                   : "TSAN_OPTIONS=halt_on_error=0 exitcode=1";
}

/* Runs c once (later calls with the same command reuse the output).
 * Returns NULL if it could not be run at all. */
static const output_t *run_command(const command_t *c)
{
    char key[sizeof runs[0].key];
    command_key(c, key, sizeof key);
    const output_t *o = kept(key);
    if (o)
        return o;
    return run_and_keep(key, c->argv, command_env(c), c->argv[0], c->prog);
}

/* The last `n` characters of s, for a report. */
static const char *tail(const char *s, size_t n)
{
    size_t len = strlen(s);
    return len > n ? s + len - n : s;
}

/* Runs the command written on line `ln` of s; reports if it cannot run,
 * hangs, or is refused as a usage error; with want >= 0, if it does not
 * exit with want. Returns its output, or NULL. */
static const output_t *run_line(const sheet_t *s, int ln, const char *text,
                                 command_t *c, int want)
{
    char err[160];
    if (parse_command(text, c, err, sizeof err) != 0) {
        problem(s->path, ln + 1, "%s", err);
        return NULL;
    }
    const output_t *o = run_command(c);
    if (!o) {
        problem(s->path, ln + 1, "could not run: %s", text);
        return NULL;
    }
    if (o->exit_code == -1 || o->exit_code == 127)
        problem(s->path, ln + 1, "%s: %s", text,
                o->exit_code < 0 ? "killed at the time limit"
                                 : "could not be started");
    else if (o->exit_code == 2)
        problem(s->path, ln + 1, "%s: usage error: %s", text, o->err);
    else if (want >= 0 && o->exit_code != want)
        problem(s->path, ln + 1, "%s: exit %d, the worksheet says %d; "
                "output ends: %s%s", text, o->exit_code, want,
                tail(o->out, 600), tail(o->err, 600));
    return o;
}

/* A command sheet's transcript may quote the shell commands its table
 * allows (`timeout 5 build/handoff; echo "exit $?"`): the first word says
 * which. 1 if text is one for sheet s. */
static int is_shell_line(const sheet_t *s, const char *text)
{
    const command_sheet_t *cs = command_sheet_of(s);
    size_t n = strcspn(text, " ");
    for (int i = 0; cs && cs->shell[i]; i++)
        if (strlen(cs->shell[i]) == n && strncmp(text, cs->shell[i], n) == 0)
            return 1;
    return 0;
}

/* Runs such a line with sh -c (once, as run_command does), and describes
 * it in c for the matcher: its numbers vary, nothing is filtered. Reports
 * if it cannot run or hangs; its exit code is its transcript's to show.
 * Returns its output, or NULL. */
static const output_t *run_shell_line(const sheet_t *s, int ln,
                                      const char *text, command_t *c)
{
    char key[sizeof runs[0].key];
    memset(c, 0, sizeof *c);
    snprintf(c->prog, sizeof c->prog, "sh");
    snprintf(key, sizeof key, "sh -c %s", text);
    const output_t *o = kept(key);
    if (!o) {
        const char *argv[] = { "sh", "-c", text, NULL };
        o = run_and_keep(key, argv, NULL, "sh", "sh");
    }
    if (!o)
        problem(s->path, ln + 1, "could not run: %s", text);
    else if (o->exit_code == -1 || o->exit_code == 127)
        problem(s->path, ln + 1, "%s: %s", text,
                o->exit_code < 0 ? "killed at the time limit"
                                 : "could not be started");
    return o;
}

/* The info string of a run block: "sh run", maybe with words after. */
static int is_run_info(const char *info)
{
    return starts(info, "sh run") && (!info[6] || info[6] == ' ');
}

/* "sh run" or "sh run exit=N": 1 and *want (-1: any exit but a usage
 * error); 0 if info is not a run block. Reports unknown words. */
static int run_block(const sheet_t *s, const block_t *b, int *want)
{
    if (!is_run_info(b->info))
        return 0;
    *want = -1;
    const char *rest = b->info + 6;
    while (*rest == ' ')
        rest++;
    if (starts(rest, "exit="))
        *want = atoi(rest + 5);
    else if (*rest)
        problem(s->path, b->fence + 1, "unknown word in the info string: %s",
                rest);
    return 1;
}

/* ============================ running ahead ===============================
 * The worksheets name a few hundred commands, and most of their time is
 * waiting: simulated latency (slowed down further under a view), a hang
 * shown until its timeout. Before the tests that read their outputs,
 * every command of a run or output block is run, AHEAD_JOBS at once, and
 * kept; the tests then find each output kept, as they would after running
 * it themselves. A line this cannot parse is left to the test that
 * reports it. */

#define AHEAD_JOBS 8

typedef struct ahead {
    command_t *cmd; /* the commands to run: views first, then the rest, then
                       those judged on the clock */
    int *shell;     /* cmd[i] is a shell line, run by sh -c */
    cmd_spec_t *spec;
    int n;
    int base;       /* the first of the commands run_cmds runs now */
} ahead_t;

/* The key under which the output of a's i-th command is kept: the one
 * run_command or run_shell_line looks for. */
static void ahead_key(const ahead_t *a, int i, char *key, size_t size)
{
    if (a->shell[i])
        snprintf(key, size, "sh -c %s", a->cmd[i].argv[2]);
    else
        command_key(&a->cmd[i], key, size);
}

/* A view's run is slowed down for a person to watch: the longest. */
static int is_view(const command_t *c)
{
    for (int i = 1; c->argv[i]; i++)
        if (starts(c->argv[i], "--view"))
            return 1;
    return 0;
}

/* A free run judged on the clock (judged_on_the_clock): not a view's,
 * whose objective is slowed down with it, nor explore's. */
static int is_clocked(const command_t *c)
{
    return c->argv[1] && judged_on_the_clock(c->argv[1]) && !is_view(c);
}

/* Whether c's output is checked in this runner: not, in the ASan runner,
 * a free run judged on the clock (offload's p99). ASan and UBSan slow the
 * event loop itself, and beside that runner's other suites on a busy
 * machine the fix's hash took 14.8 s, not 0.2 s, and its p99 was 142 ms:
 * VIOLATED where the worksheet quotes HELD. make test checks it with the
 * binary its line names. */
static int checked_here(const command_t *c)
{
#ifdef __SANITIZE_ADDRESS__
    return !is_clocked(c);
#else
    (void)c;
    return 1;
#endif
}

/* Adds the command on line k of block b to a, unless it is there or does
 * not parse, or line k holds none. */
static void add_ahead(ahead_t *a, const sheet_t *s, const block_t *b, int k)
{
    char err[160], key[sizeof runs[0].key], other[sizeof runs[0].key];
    command_t *c = &a->cmd[a->n];
    const char *t;
    if (a->n >= MAX_RUNS || trim(s->line[k], &t) == 0)
        return;
    int output = strcmp(b->info, "text output") == 0;
    if (output ? !starts(t, "$ ") : *t == '#')
        return;
    if (output)
        t += 2;
    a->shell[a->n] = output && is_shell_line(s, t);
    if (a->shell[a->n]) {
        memset(c, 0, sizeof *c);
        c->argv[0] = "sh";
        c->argv[1] = "-c";
        c->argv[2] = t;
    } else if (parse_command(t, c, err, sizeof err) != 0 ||
               !checked_here(c)) {
        return;
    }
    ahead_key(a, a->n, key, sizeof key);
    for (int i = 0; i < a->n; i++) {
        ahead_key(a, i, other, sizeof other);
        if (strcmp(key, other) == 0)
            return;
    }
    a->n++;
}

/* Which pass of run_ahead runs command i: 0 views, 1 the rest, 2 those
 * judged on the clock, by themselves (others beside them are their load). */
static int ahead_pass(const ahead_t *a, int i)
{
    if (a->shell[i])
        return 0; /* a hang shown until its timeout: long, and idle */
    return is_view(&a->cmd[i]) ? 0 : is_clocked(&a->cmd[i]) ? 2 : 1;
}

static void kept_ahead(int i, const cmd_out_t *o, void *arg)
{
    const ahead_t *a = arg;
    char key[sizeof runs[0].key];
    i += a->base;
    ahead_key(a, i, key, sizeof key);
    if (a->shell[i])
        keep(key, o, "sh", "sh");
    else
        keep(key, o, a->cmd[i].argv[0], a->cmd[i].prog);
}

static void run_ahead(void)
{
    static int once;
    static ahead_t a;
    if (once++)
        return;
    a.cmd = calloc(MAX_RUNS, sizeof *a.cmd);
    a.shell = calloc(MAX_RUNS, sizeof *a.shell);
    a.spec = calloc(MAX_RUNS, sizeof *a.spec);
    if (!a.cmd || !a.shell || !a.spec)
        return; /* the tests run each command themselves */
    int clocked = 0; /* where pass 2 begins */
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 2)
            clocked = a.n;
        for (int i = 0; i < nsheets; i++) {
            block_t b;
            for (int at = 0; next_block(&sheets[i], &at, &b);) {
                if (strcmp(b.info, "text output") != 0 && !is_run_info(b.info))
                    continue;
                for (int k = b.first; k < b.end; k++) {
                    int before = a.n;
                    add_ahead(&a, &sheets[i], &b, k);
                    if (a.n > before && ahead_pass(&a, before) != pass)
                        a.n--; /* its turn comes with its pass */
                }
            }
        }
    }
    for (int i = 0; i < a.n; i++)
        a.spec[i] = (cmd_spec_t){ a.cmd[i].argv,
                                  a.shell[i] ? NULL : command_env(&a.cmd[i]) };
    run_cmds(a.spec, clocked, AHEAD_JOBS, CMD_LIMIT_MS, kept_ahead, &a);
    a.base = clocked;
    run_cmds(a.spec + clocked, a.n - clocked, 1, CMD_LIMIT_MS, kept_ahead, &a);
}

/* ====================== the programs of command sheets ==================== */

#define BUILD_LIMIT_MS 60000
#define HANG_S "2" /* a plain run still going after this long hangs */

/* Builds every command sheet's programs where the sheets build them, with
 * the sheets' flags and -Wall -Wextra -Werror besides (they are lessons:
 * no warnings), once. Returns 0, or -1 after reporting what failed. */
static int build_sheet_programs(void)
{
    static int built; /* 1: built, -1: failed */
    static cmd_out_t o;
    if (built)
        return built > 0 ? 0 : -1;
    built = 1;
    for (int i = 0; i < NCOMMAND_SHEETS; i++) {
        const command_sheet_t *cs = &command_sheets[i];
        for (const sheet_program_t *p = cs->programs;
             p < cs->programs + MAX_SHEET_PROGRAMS && p->src; p++)
            for (int tsan = 0; tsan < 1 + (p->tsan_bin != NULL); tsan++) {
                const char *argv[] = { "cc", "-g", "-pthread", "-Wall",
                                       "-Wextra", "-Werror", "-o",
                                       tsan ? p->tsan_bin : p->bin, p->src,
                                       tsan ? "-fsanitize=thread" : NULL,
                                       NULL };
                run_cmd(&o, argv, NULL, BUILD_LIMIT_MS);
                if (o.exit_code != 0) {
                    problem(cs->path, 0, "%s does not build without "
                            "warnings%s: %s", p->src,
                            tsan ? " under -fsanitize=thread" : "",
                            tail(o.err, 1000));
                    built = -1;
                }
            }
    }
    return built > 0 ? 0 : -1;
}

/* `concdemo watch --json -- BIN`: the verdict and the exit code the sheet
 * claims (a lucky run's verdict too, where the table allows one). */
static void check_watched(const command_sheet_t *cs, const sheet_program_t *p,
                          cmd_out_t *o)
{
    const char *args[] = { "watch", "--json", "--", p->bin, NULL };
    char want[96], lucky[96];
    run_concdemo(o, args, NULL, CMD_LIMIT_MS);
    snprintf(want, sizeof want, "{\"verdict\":\"%s\",", p->verdict);
    snprintf(lucky, sizeof lucky, "{\"verdict\":\"%s\",",
             p->lucky ? p->lucky : p->verdict);
    /* The program's own output comes first; watch's object is last. */
    if (o->exit_code != p->exit_code ||
        (!strstr(o->out, want) && !strstr(o->out, lucky)))
        problem(cs->path, 0, "concdemo watch --json -- %s: exit %d, the "
                "sheet says verdict \"%s\" and exit %d; it printed: %s%s",
                p->bin, o->exit_code, p->verdict, p->exit_code,
                tail(o->out, 800), tail(o->err, 400));
}

/* The claim of tsan_bin: the program hangs when run plainly and under
 * TSan, which reports nothing; Helgrind (where Valgrind is installed)
 * counts no error. The three wait out their timeouts side by side. */
static void hang_ran(int i, const cmd_out_t *o, void *arg)
{
    ((cmd_out_t *)arg)[i] = *o; /* plain, TSan, Helgrind */
}

static void check_silent_hang(const command_sheet_t *cs,
                              const sheet_program_t *p, cmd_out_t *o)
{
    const char *plain[] = { "timeout", HANG_S, p->bin, NULL };
    const char *tsan[] = { "timeout", HANG_S, p->tsan_bin, NULL };
    const char *helgrind[] = { "timeout", "10", "valgrind", "--tool=helgrind",
                               p->bin, NULL };
    const char *which[] = { "sh", "-c", "command -v valgrind", NULL };
    run_cmd(o, which, NULL, CMD_LIMIT_MS);
    int valgrind = o->exit_code == 0;
    cmd_spec_t runs3[] = { { plain, NULL }, { tsan, NULL }, { helgrind, NULL } };
    cmd_out_t *h = malloc(3 * sizeof *h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    for (int i = 0; i < 3; i++)
        h[i].exit_code = -1;
    run_cmds(runs3, valgrind ? 3 : 2, 3, CMD_LIMIT_MS, hang_ran, h);
    if (h[0].exit_code != 124)
        problem(cs->path, 0, "%s does not hang: exit %d", p->bin,
                h[0].exit_code);
    if (h[1].exit_code != 124 || strstr(h[1].err, "ThreadSanitizer"))
        problem(cs->path, 0, "%s, the sheet says, hangs and TSan says "
                "nothing: exit %d, %s", p->tsan_bin, h[1].exit_code,
                tail(h[1].err, 1000));
    if (!valgrind)
        fprintf(stderr, "\n  SKIPPED: Valgrind is not installed, so "
                "Helgrind's silence on %s was not checked\n", p->bin);
    else if (h[2].exit_code != 124 ||
             !strstr(h[2].err, "ERROR SUMMARY: 0 errors from 0 contexts"))
        problem(cs->path, 0, "%s, the sheet says, hangs and Helgrind counts "
                "no error: exit %d, %s", p->bin, h[2].exit_code,
                tail(h[2].err, 1000));
    free(h);
}

/* test: command sheets' programs do what they claim */
static void command_sheets_programs_do_what_they_claim(void)
{
    static cmd_out_t o;
    int before = problems, checked = 0;
    CU_ASSERT_FATAL(build_sheet_programs() == 0);
    for (int i = 0; i < NCOMMAND_SHEETS; i++) {
        const command_sheet_t *cs = &command_sheets[i];
        /* The command's help points to its worksheet. */
        const char *help[] = { cs->command, "--help", NULL };
        run_concdemo(&o, help, NULL, CMD_LIMIT_MS);
        if (o.exit_code != 0 || !strstr(o.out, cs->path))
            problem(cs->path, 0, "concdemo %s --help does not name %s",
                    cs->command, cs->path);
        for (const sheet_program_t *p = cs->programs;
             p < cs->programs + MAX_SHEET_PROGRAMS && p->src; p++) {
            check_watched(cs, p, &o);
            if (p->tsan_bin)
                check_silent_hang(cs, p, &o);
            checked++;
        }
    }
    CU_ASSERT_TRUE(checked > 0);
    ASSERT_INT_EQ(problems - before, 0);
}

/* ================================ tests =================================== */

/* The title "# Lesson N — Title (`concdemo NAME`)": NAME a scenario or a
 * command, Title its own (concdemo list's, or the command sheet's),
 * capitalised. */
static void check_title(const sheet_t *s, const char *name, const char *title)
{
    const char *t = s->nlines ? s->line[0] : "";
    char want[160];
    int n = atoi(s->name);
    snprintf(want, sizeof want, "# Lesson %d \xe2\x80\x94 ", n);
    size_t tl = strlen(t);
    char ending[96];
    snprintf(ending, sizeof ending, " (`concdemo %s`)", name);
    size_t el = strlen(ending), wl = strlen(want);
    if (!starts(t, want) || tl < wl + el || strcmp(t + tl - el, ending) != 0) {
        problem(s->path, 1, "the title must read \"%s<Title>%s\"", want,
                ending);
        return;
    }
    if (tl - wl - el != strlen(title) ||
        strncasecmp(t + wl, title, strlen(title)) != 0)
        problem(s->path, 1, "the title is not %s's: \"%s\"", name, title);
}

/* Minutes from "**Time:** about N minutes", or -1. */
static int minutes(const sheet_t *s, int *line)
{
    for (int i = 1; i < s->nlines; i++) {
        if (!s->line[i][0])
            continue;
        *line = i;
        const char *a = strstr(s->line[i], "about ");
        if (!starts(s->line[i], "**Time:**") ||
            !strstr(s->line[i], "**You need:**") || !a)
            return -1;
        return atoi(a + 6);
    }
    *line = 0;
    return -1;
}

static void check_sections(const sheet_t *s)
{
    int in_fence = 0, k = 0;
    for (int i = 0; i < s->nlines; i++) {
        if (starts(s->line[i], "```"))
            in_fence = !in_fence;
        if (in_fence)
            continue;
        if (starts(s->line[i], "# ") && i > 0)
            problem(s->path, i + 1, "a second title");
        if (!starts(s->line[i], "## "))
            continue;
        if (k >= NSECTIONS || strcmp(s->line[i] + 3, sections[k]) != 0)
            problem(s->path, i + 1, "section \"%s\" where \"## %s\" belongs "
                    "(sections: The story, Predict, Run, Observe, Explain, "
                    "Exercise, Going further; subsections use ###)",
                    s->line[i] + 3, k < NSECTIONS ? sections[k] : "(none)");
        k++;
    }
    if (in_fence)
        problem(s->path, s->nlines, "a fenced block is not closed");
    if (k != NSECTIONS)
        problem(s->path, s->nlines, "%d sections, not %d", k, NSECTIONS);
}

/* Scenarios that go without a part of their set ("exercise", "answer" or
 * "decoys"), and why. Their worksheets must not promise what is missing:
 * an Exercise section without an exercise names no starter and no check. */
static const struct excuse {
    const char *scenario, *part, *why;
} excused[] = {
    { "broadcast", "exercise",
      "not built yet: its harness, books and judge (every edge on the last "
      "version, every gap reported with its count, memory within the "
      "ring) are still to write; the worksheet says so" },
    { "broadcast", "answer", "no exercise yet, so nothing to answer" },
    { "broadcast", "decoys", "no exercise yet, so nothing to decoy" },
    { "chat", "exercise", "the server, its clients and the referee are one "
      "program on real sockets; no learner's interface to it is cut out yet" },
    { "chat", "answer", "no exercise yet: nothing to answer" },
    { "chat", "decoys", "no exercise yet: no wrong answers to check" },
    { NULL, NULL, NULL },
};

static const char *excuse_for(const char *scenario, const char *part)
{
    for (const struct excuse *e = excused; e->scenario; e++)
        if (strcmp(e->scenario, scenario) == 0 && strcmp(e->part, part) == 0)
            return e->why;
    return NULL;
}

/* What each section must name, so that every worksheet covers the same
 * ground. A scenario whose exercise is excused names none of it. */
static void check_contents(const sheet_t *s, const cd_scenario_t *sc)
{
    static const char *const run_needs[] = {
        "```sh run", "--view", "make tsan", "--sched=", "concdemo explore",
    };
    for (size_t i = 0; i < sizeof run_needs / sizeof run_needs[0]; i++)
        if (!section_has(s, "Run", run_needs[i]))
            problem(s->path, 0, "the Run section does not mention %s",
                    run_needs[i]);
    if (!section_has(s, "Observe", "```text output"))
        problem(s->path, 0, "the Observe section quotes no ```text output");
    if (!section_has(s, "Explain", "```diff demos/"))
        problem(s->path, 0, "the Explain section has no ```diff demos/...");
    for (int v = 1; v < sc->nvariants; v++) {
        char fixed[64];
        snprintf(fixed, sizeof fixed, "--fixed=%s", sc->variants[v].name);
        if (!section_has(s, "Run", fixed))
            problem(s->path, 0, "the Run section never runs %s", fixed);
    }
    char need[3][96];
    snprintf(need[1], sizeof need[1], "concdemo check %s", sc->name);
    snprintf(need[2], sizeof need[2], "make check-exercise EX=%s", sc->name);
    /* The exercise's file, as concdemo check names it (async_race.c). */
    const cd_exercise_spec_t *ex = cd_exercise_spec(sc->name);
    char file[64];
    if (ex)
        cd_exercise_file(ex, file, sizeof file);
    else { /* the name it will have: async-race -> async_race.c */
        snprintf(file, sizeof file, "%s.c", sc->name);
        for (char *c = file; *c; c++)
            if (*c == '-')
                *c = '_';
    }
    snprintf(need[0], sizeof need[0], "lessons/exercises/%s", file);
    snprintf(need[1], sizeof need[1], "concdemo check %s", sc->name);
    snprintf(need[2], sizeof need[2], "make check-exercise EX=%s", sc->name);
    if (!ex) {
        /* Excused: the sheet says so and promises nothing to run. */
        if (!excuse_for(sc->name, "exercise"))
            problem(s->path, 0, "concdemo check has no exercise %s",
                    sc->name);
        else if (!section_has(s, "Exercise", "no exercise yet"))
            problem(s->path, 0, "the Exercise section of %s, which has no "
                    "exercise, does not say \"no exercise yet\"", sc->name);
        for (int i = 0; i < 3; i++)
            if (section_has(s, "Exercise", need[i]))
                problem(s->path, 0, "the Exercise section names %s, which "
                        "does not exist yet", need[i]);
        return;
    }
    for (int i = 0; i < 3; i++)
        if (!section_has(s, "Exercise", need[i]))
            problem(s->path, 0, "the Exercise section does not name %s",
                    need[i]);
}

/* 1 if some line of s inside a fenced block whose info string is exactly
 * `info` reads `text` (blanks around it aside). */
static int block_has_line(const sheet_t *s, const char *info,
                          const char *text)
{
    block_t b;
    for (int at = 0; next_block(s, &at, &b);) {
        if (strcmp(b.info, info) != 0)
            continue;
        for (int k = b.first; k < b.end; k++) {
            const char *t;
            size_t n = trim(s->line[k], &t);
            if (n == strlen(text) && memcmp(t, text, n) == 0)
                return 1;
        }
    }
    return 0;
}

/* What a command sheet's sections must name (its table's needs), and the
 * lines that build its programs as the tests build them. */
static void check_command_contents(const sheet_t *s, const command_sheet_t *cs)
{
    for (int i = 0; cs->run_needs[i]; i++)
        if (!section_has(s, "Run", cs->run_needs[i]))
            problem(s->path, 0, "the Run section does not mention %s",
                    cs->run_needs[i]);
    for (int i = 0; cs->exercise_needs[i]; i++)
        if (!section_has(s, "Exercise", cs->exercise_needs[i]))
            problem(s->path, 0, "the Exercise section does not name %s",
                    cs->exercise_needs[i]);
    if (!section_has(s, "Observe", "```text output"))
        problem(s->path, 0, "the Observe section quotes no ```text output");
    if (!section_has(s, "Explain", "```diff lessons/"))
        problem(s->path, 0, "the Explain section has no ```diff lessons/...");
    for (const sheet_program_t *p = cs->programs;
         p < cs->programs + MAX_SHEET_PROGRAMS && p->src; p++) {
        char line[256];
        snprintf(line, sizeof line, "cc -g -pthread -o %s %s", p->bin, p->src);
        if (!block_has_line(s, "sh", line))
            problem(s->path, 0, "no ```sh block builds %s as the tests do: "
                    "%s", p->src, line);
        snprintf(line, sizeof line, "cc -g -fsanitize=thread -pthread -o %s "
                 "%s", p->tsan_bin, p->src);
        if (p->tsan_bin && !block_has_line(s, "sh", line))
            problem(s->path, 0, "no ```sh block builds %s with TSan as the "
                    "tests do: %s", p->src, line);
    }
}

/* test: every worksheet has the title, time line and sections */
static void every_worksheet_has_the_shape(void)
{
    int before = problems;
    load_sheets();
    CU_ASSERT_TRUE_FATAL(nsheets > 0);
    for (int i = 0; i < nsheets; i++) {
        const sheet_t *s = &sheets[i];
        const cd_scenario_t *sc = scenario_of(s);
        const command_sheet_t *cs = command_sheet_of(s);
        if (!sc && !cs) {
            problem(s->path, 1, "no scenario has this worksheet as its "
                    "lesson, and it is no command's (command_sheets)");
            continue;
        }
        if (sc)
            check_title(s, sc->name, sc->title);
        else
            check_title(s, cs->command, cs->title);
        int ln;
        if (minutes(s, &ln) <= 0)
            problem(s->path, ln + 1, "the line after the title must read "
                    "\"**Time:** about N minutes. **You need:** ...\"");
        check_sections(s);
        if (sc)
            check_contents(s, sc);
        else
            check_command_contents(s, cs);
    }
    ASSERT_INT_EQ(problems - before, 0);
}

/* The worksheet at `lesson` exists and lessons/README.md has a row that
 * links it and names `code` (`race`, `concdemo watch`), with the
 * worksheet's time. `who` names what the worksheet is for in a problem. */
static void check_listed(const char *lesson, const char *code,
                         const char *who)
{
    const char *base = strrchr(lesson, '/');
    base = base ? base + 1 : lesson;
    const sheet_t *s = sheet_named(base);
    if (!s || strcmp(s->path, lesson) != 0) {
        problem(lesson, 0, "%s names this worksheet; there is none", who);
        return;
    }
    char link[96];
    snprintf(link, sizeof link, "](%s)", base);
    int row = -1;
    for (int k = 0; k < readme.nlines && row < 0; k++)
        if (strstr(readme.line[k], link) && strstr(readme.line[k], code))
            row = k;
    if (row < 0) {
        problem(readme.path, 0, "no row links %s for %s", base, code);
        return;
    }
    /* The index gives the same time as the worksheet. */
    int ln, m = minutes(s, &ln);
    char time[32];
    snprintf(time, sizeof time, "| %d min |", m);
    if (m > 0 && !strstr(readme.line[row], time))
        problem(readme.path, row + 1, "the row for %s does not say "
                "\"%d min\" as %s does", base, m, s->path);
}

/* test: every scenario has a worksheet listed in lessons/README.md */
static void every_scenario_has_a_listed_worksheet(void)
{
    int before = problems, n;
    load_sheets();
    CU_ASSERT_TRUE_FATAL(readme.nlines > 0);
    const cd_scenario_t *const *all = cd_scenarios(&n);
    for (int i = 0; i < n; i++) {
        char code[64], who[96];
        snprintf(code, sizeof code, "`%s`", all[i]->name);
        snprintf(who, sizeof who, "scenario %s", all[i]->name);
        check_listed(all[i]->lesson, code, who);
    }
    for (int i = 0; i < NCOMMAND_SHEETS; i++) {
        char code[64], who[96];
        snprintf(code, sizeof code, "`concdemo %s`", command_sheets[i].command);
        snprintf(who, sizeof who, "the command sheet of %s",
                 command_sheets[i].command);
        check_listed(command_sheets[i].path, code, who);
    }
    ASSERT_INT_EQ(problems - before, 0);
}

/* ========================== a scenario's whole set ======================== */

/* The start of text's line that is a "your code" marker with these words
 * ("your code", "end of your code"): a comment of the words between runs
 * of '='. NULL: none. */
static const char *marker_line(const char *text, const char *words)
{
    for (const char *l = text; *l;) {
        size_t len = strcspn(l, "\n");
        const char *a = l, *b = l + len;
        if (len > 4 && strncmp(a, "/*", 2) == 0 && strncmp(b - 2, "*/", 2) == 0) {
            a += 2;
            b -= 2;
            while (a < b && (*a == ' ' || *a == '='))
                a++;
            while (b > a && (b[-1] == ' ' || b[-1] == '='))
                b--;
            if ((size_t)(b - a) == strlen(words) &&
                strncmp(a, words, (size_t)(b - a)) == 0)
                return l;
        }
        l += len + (l[len] == '\n');
    }
    return NULL;
}

/* What an answer or a decoy is called: NAME.patch. It is a part (a note,
 * then a diff of the starter), no C file; the checker tells one by what it
 * holds, whatever its name, but a .c here would pass for a whole file. */
#define PART ".patch"

/* The length of NAME in d_name when it is NAME.patch, else 0. */
static size_t part_stem(const char *d_name)
{
    size_t len = strlen(d_name), ext = strlen(PART);
    return len > ext && strcmp(d_name + len - ext, PART) == 0 ? len - ext : 0;
}

/* 1 if d_name is NAME-WHAT.patch for the scenario called name. */
static int named_after(const char *d_name, const char *name)
{
    size_t n = strlen(name);
    return part_stem(d_name) > n + 1 && strncmp(d_name, name, n) == 0 &&
           d_name[n] == '-';
}

/* Each file of dir (`sub`, a folder, and README.md aside) is NAME.patch
 * and a part. Counts what is wrong. */
static void check_parts_in(const char *dir_path, const char *sub)
{
    DIR *dir = opendir(dir_path);
    if (!dir) {
        problem(dir_path, 0, "cannot be read");
        return;
    }
    for (struct dirent *e; (e = readdir(dir));) {
        char path[320];
        if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0 ||
            (sub && strcmp(e->d_name, sub) == 0))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir_path, e->d_name);
        char *text = cd_grade_read_file(path);
        int part = text && cd_exfile_is_part(text);
        size_t len = strlen(e->d_name);
        if (!part_stem(e->d_name) && len > 2 &&
            strcmp(e->d_name + len - 2, ".c") == 0)
            problem(path, 0, part ? "a part is called NAME" PART ", not .c: "
                    "it is a patch, no C file" : "a whole C file has no "
                    "place here: answers and decoys are parts, NAME" PART
                    " (a note, then diff -U1 of the starter and the fixed "
                    "file)");
        else if (!part_stem(e->d_name))
            problem(path, 0, "is no NAME" PART ": only answers and decoys "
                    "(parts) belong here");
        else if (!part)
            problem(path, 1, "is no part: a note, then diff -U1 of the "
                    "starter and the fixed file");
        free(text);
    }
    closedir(dir);
}

/* A part of lessons/answers/ (path) for the starter `file`: a one-line
 * note first (starting with `note`, and holding `also` unless that is
 * NULL), then a change of the starter's "your code" lines alone, as the
 * learner is told to make one. Counts what is wrong. */
static void check_part(const char *path, const char *file, const char *note,
                       const char *also)
{
    char starter[96], of[128], err[256];
    snprintf(starter, sizeof starter, LESSONS "/exercises/%s", file);
    char *text = cd_grade_read_file(path), *start = cd_grade_read_file(starter);
    if (!text || !start || !cd_exfile_is_part(text)) {
        problem(path, 1, "%s", !text || !start ? "cannot be read (or its "
                "starter)" : "is no part: a note, then diff -u of the "
                "starter and the fixed file");
        goto out;
    }
    size_t first = strcspn(text, "\n");
    char *hit = also ? strstr(text, also) : NULL;
    if (strncmp(text, note, strlen(note)) != 0 || first < 4 ||
        strncmp(text + first - 2, "*/", 2) != 0 ||
        (also && (!hit || hit > text + first)))
        problem(path, 1, "the first line must be the note, one comment: "
                "\"%s...%s*/\"", note, also ? also : "");
    cd_exfile_part_of(text, of, sizeof of);
    if (strcmp(of, starter) != 0)
        problem(path, 2, "the change is to %s, not to %s", of, starter);
    char *full = cd_exfile_splice(start, text, starter, path, 0, err,
                                  sizeof err);
    const char *begin = marker_line(start, "your code");
    const char *end = marker_line(start, "end of your code");
    if (!full) {
        problem(path, 0, "%s", err);
    } else if (!begin || !end) {
        /* A starter with a harness of its own is the learner's part, all
         * of it: any change to it is the learner's to make. */
        if (!strstr(start, "#include \"harness/"))
            problem(starter, 0, "has no \"your code\" lines");
    } else {
        size_t pre = (size_t)(begin - start) + strcspn(begin, "\n");
        size_t post = strlen(end), flen = strlen(full);
        if (strncmp(full, start, pre) != 0 || flen < pre + post ||
            strcmp(full + flen - post, end) != 0)
            problem(path, 0, "changes lines outside the \"your code\" lines "
                    "of %s", starter);
    }
    free(full);
out:
    free(text);
    free(start);
}

/* 1 if index (lines) has a line holding `cell`. */
static int has_row(const sheet_t *index, const char *cell)
{
    for (int k = 0; k < index->nlines; k++)
        if (strstr(index->line[k], cell))
            return 1;
    return 0;
}

/* The decoys of scenario `name` (files NAME-WHAT.patch); returns how
 * many. */
static int check_decoys(const char *name, const char *file,
                        const sheet_t *answers)
{
    int found = 0;
    DIR *dir = opendir(LESSONS "/answers/decoys");
    for (struct dirent *e; dir && (e = readdir(dir));) {
        int len = (int)part_stem(e->d_name);
        if (!named_after(e->d_name, name))
            continue;
        char path[320], note[128], row[128];
        snprintf(path, sizeof path, LESSONS "/answers/decoys/%s", e->d_name);
        snprintf(note, sizeof note, "/* Decoy %.*s: ", len, e->d_name);
        check_part(path, file, note, " Fails: ");
        snprintf(row, sizeof row, "| `%.*s` |", len, e->d_name);
        if (!has_row(answers, row))
            problem(answers->path, 0, "no row for the decoy %.*s", len,
                    e->d_name);
        found++;
    }
    if (dir)
        closedir(dir);
    return found;
}

/* The exercise of scenario sc: the checker's entry, the starter, its row
 * in lessons/exercises/README.md; its answer key and other answers. */
static void check_exercise(const cd_scenario_t *sc, const sheet_t *exercises,
                           const sheet_t *answers)
{
    const cd_exercise_spec_t *ex = cd_exercise_spec(sc->name);
    char file[64], path[320], row[160], note[96];
    if (!ex) {
        if (!excuse_for(sc->name, "exercise"))
            problem("cli/grade.c", 0, "no exercise for the scenario %s",
                    sc->name);
        return;
    }
    cd_exercise_file(ex, file, sizeof file);
    snprintf(path, sizeof path, LESSONS "/exercises/%s", file);
    char *start = cd_grade_read_file(path);
    char harness[160];
    snprintf(harness, sizeof harness, "#include \"harness/%s\"", file);
    harness[strlen(harness) - 2] = 'h';
    int split = start && strstr(start, harness);
    if (!start || cd_exfile_is_part(start) ||
        (!split && (!marker_line(start, "your code") ||
                    !marker_line(start, "end of your code"))))
        problem(path, 0, "no starter here: a learner's part that includes "
                "its %.*s\", or a whole file with its \"your code\" "
                "lines (for the scenario %s)", (int)strlen(harness) - 11,
                harness + 10, sc->name);
    free(start);
    snprintf(row, sizeof row, "| `%s` | `%s` |", sc->name, file);
    if (!has_row(exercises, row))
        problem(exercises->path, 0, "no row \"%s\"", row);

    char key[64];
    cd_exercise_answer(ex, key, sizeof key);
    snprintf(path, sizeof path, LESSONS "/answers/%s", key);
    snprintf(note, sizeof note, "/* Answer key, %s: ", sc->name);
    if (access(path, R_OK) == 0)
        check_part(path, file, note, NULL);
    else if (!excuse_for(sc->name, "answer"))
        problem(path, 0, "no answer key for the exercise %s", sc->name);
    DIR *dir = opendir(LESSONS "/answers");
    for (struct dirent *e; dir && (e = readdir(dir));) {
        if (named_after(e->d_name, sc->name)) {
            snprintf(path, sizeof path, LESSONS "/answers/%s", e->d_name);
            snprintf(note, sizeof note, "/* Another answer, %s: ", sc->name);
            check_part(path, file, note, NULL);
        }
    }
    if (dir)
        closedir(dir);
    if (check_decoys(sc->name, file, answers) == 0 &&
        !excuse_for(sc->name, "decoys"))
        problem(LESSONS "/answers/decoys", 0, "no decoy for the exercise %s "
                "(NAME-WHAT.patch)", sc->name);
}

/* test: every scenario has its worksheet, exercise, answer and decoys */
static void every_scenario_has_its_whole_set(void)
{
    int before = problems, n, nspecs;
    sheet_t exercises = { 0 }, answers = { 0 };
    CU_ASSERT_TRUE_FATAL(load_lines(&exercises, LESSONS "/exercises/README.md")
                         == 0);
    CU_ASSERT_TRUE_FATAL(load_lines(&answers, LESSONS "/answers/README.md")
                         == 0);
    load_sheets();
    const cd_scenario_t *const *all = cd_scenarios(&n);
    const cd_exercise_spec_t *specs = cd_exercise_specs(&nspecs);
    for (int i = 0, k = 0; i < n; i++) {
        char link[96];
        const char *base = strrchr(all[i]->lesson, '/');
        snprintf(link, sizeof link, "](%s)", base ? base + 1 : "?");
        if (access(all[i]->lesson, R_OK) != 0 || !has_row(&readme, link))
            problem(all[i]->lesson, 0, "the worksheet of %s, listed in "
                    LESSONS "/README.md, is missing", all[i]->name);
        check_exercise(all[i], &exercises, &answers);
        /* The checker's table follows the scenario table. */
        if (cd_exercise_spec(all[i]->name) && (k >= nspecs ||
            strcmp(specs[k++].name, all[i]->name) != 0))
            problem("cli/grade.c", 0, "the exercise %s is out of the "
                    "scenario table's order", all[i]->name);
    }
    for (int k = 0; k < nspecs; k++)
        if (!cd_scenario_find(specs[k].name))
            problem("cli/grade.c", 0, "the exercise %s is no scenario's",
                    specs[k].name);
    for (const struct excuse *e = excused; e->scenario; e++)
        if (!cd_scenario_find(e->scenario) || !e->why || !*e->why)
            problem("tests/test_lessons.c", 0, "the excuse for %s names no "
                    "scenario or gives no reason", e->scenario);
    free(exercises.buf);
    free(exercises.line);
    free(answers.buf);
    free(answers.line);
    ASSERT_INT_EQ(problems - before, 0);
}

/* test: answers and decoys are parts, called NAME.patch */
static void answers_and_decoys_are_parts(void)
{
    int before = problems;
    check_parts_in(LESSONS "/answers", "decoys");
    check_parts_in(LESSONS "/answers/decoys", NULL);
    ASSERT_INT_EQ(problems - before, 0);
}

/* The scan above refuses a .c (a whole file, or a part misnamed), any
 * other stray and a .patch that is no part; it takes a part. */
/* test: the parts scan refuses a .c and other strays */
static void the_parts_scan_refuses_strays(void)
{
    static const char *const files[][2] = {
        { "ok.patch", "/* n */\n--- lessons/exercises/race.c\n+++ ok.patch\n"
          "@@ -1 +1 @@\n-a\n+b\n" },
        { "copy.c", "#include \"harness/race.h\"\nint x;\n" },
        { "misnamed.c", "/* n */\n--- lessons/exercises/race.c\n+++ m.c\n" },
        { "notes.txt", "a note\n" },
        { "empty.patch", "int x;\n" },
    };
    const char *dir = "build/lessons-tests/strays";
    mkdir("build", 0755);
    mkdir("build/lessons-tests", 0755);
    mkdir(dir, 0755);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
        FILE *f = fopen(path, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fputs(files[i][1], f);
        fclose(f);
    }
    int before = problems;
    quiet = 1;
    check_parts_in(dir, NULL);
    quiet = 0;
    ASSERT_INT_EQ(problems - before, 4);
    problems = before; /* those were expected */
}

/* Whether this runner runs the worksheets' commands. The TSan runner
 * (make test-tsan) does not: make test runs every line with the binary it
 * names, and here a build/concdemo line would run the TSan build, which no
 * worksheet names, ten times slower (a fifth of the runner's CPU on a
 * 2-core machine), while a build/tsan/concdemo line would run what make
 * test ran. The ASan runner runs them all: a memory error in what the
 * worksheets show is found there. */
static int commands_run_here(void)
{
#ifdef CD_TSAN
    fprintf(stderr, "\n  SKIPPED: make test runs the worksheets' commands "
            "with the binaries they name; this TSan runner would run its "
            "own build for build/concdemo\n");
    return 0;
#else
    return 1;
#endif
}

/* test: sh run commands run, with the exit codes given */
static void commands_in_run_blocks_run(void)
{
    int before = problems, ran = 0;
    if (!commands_run_here())
        return;
    load_sheets();
    build_sheet_programs(); /* what the command sheets run */
    run_ahead();
    for (int i = 0; i < nsheets; i++) {
        const sheet_t *s = &sheets[i];
        block_t b;
        int want;
        for (int at = 0; next_block(s, &at, &b);) {
            if (!run_block(s, &b, &want))
                continue;
            for (int k = b.first; k < b.end; k++) {
                const char *t;
                if (trim(s->line[k], &t) == 0 || *t == '#')
                    continue;
                command_t c;
                char err[160];
                if (parse_command(t, &c, err, sizeof err) == 0 &&
                    !checked_here(&c))
                    continue;
                run_line(s, k, t, &c, want);
                ran++;
            }
        }
    }
    CU_ASSERT_TRUE(ran > 0);
    ASSERT_INT_EQ(problems - before, 0);
}

/* ========================== excerpts of the output ======================= */

#define MAX_QUOTES 128
#define MAX_ALTS 8

/* A "| grep ..." filter as a transcript may use it: the fixed strings a
 * line must contain one of (grep WORD, grep -E 'A|B'). */
typedef struct filter {
    char alt[MAX_ALTS][64];
    int n; /* 0: no filter */
} filter_t;

/* Parses text ("grep trimmer", "grep -E 'timed-out|flush'") into f.
 * Returns 0, or -1 for a filter this test cannot apply. */
static int parse_filter(const char *text, filter_t *f)
{
    char pat[256];
    const char *p = text;
    memset(f, 0, sizeof *f);
    if (!*text)
        return 0;
    if (!starts(p, "grep "))
        return -1;
    p += 5;
    while (*p == ' ')
        p++;
    int ere = starts(p, "-E ");
    if (ere)
        for (p += 3; *p == ' ';)
            p++;
    char quote = (*p == '\'' || *p == '"') ? *p++ : 0;
    size_t n = quote ? strcspn(p, (char[]){ quote, 0 }) : strcspn(p, " ");
    if (n == 0 || n >= sizeof pat || (quote && p[n] != quote) ||
        p[n + (quote != 0)] != '\0')
        return -1;
    snprintf(pat, sizeof pat, "%.*s", (int)n, p);
    /* Fixed strings only, or a line could pass grep and not the test. */
    if (strpbrk(pat, ere ? ".[]*^$\\+?(){}" : ".[]*^$\\|"))
        return -1;
    for (char *a = pat; a && f->n < MAX_ALTS; f->n++) {
        char *bar = ere ? strchr(a, '|') : NULL;
        if (bar)
            *bar = '\0';
        if (!*a || strlen(a) >= sizeof f->alt[0])
            return -1;
        snprintf(f->alt[f->n], sizeof f->alt[0], "%s", a);
        a = bar ? bar + 1 : NULL;
    }
    return 0;
}

/* The lines of a stream that are not blank (a transcript cannot show a
 * blank line), those a filter keeps. */
typedef struct lines {
    char *buf;
    char **line;
    int n;
} lines_t;

static void split_output(const char *text, const filter_t *f, lines_t *l)
{
    l->buf = strdup(text ? text : "");
    l->line = malloc((strlen(l->buf) / 2 + 2) * sizeof *l->line);
    l->n = 0;
    if (!l->buf || !l->line)
        return;
    for (char *p = l->buf; *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        const char *t;
        int keep = trim(p, &t) > 0 && f->n == 0;
        for (int i = 0; i < f->n && !keep; i++)
            keep = strstr(p, f->alt[i]) != NULL;
        if (keep)
            l->line[l->n++] = p;
        if (!nl)
            break;
        p = nl + 1;
    }
}

static void free_lines(lines_t *l)
{
    free(l->buf);
    free(l->line);
}

/* A trace event as concdemo prints it: "   12.500 ms  trimmer ...". */
static int is_trace_line(const char *s)
{
    const char *t;
    trim(s, &t);
    size_t d = strspn(t, "0123456789");
    return d > 0 && t[d] == '.' && strspn(t + d + 1, "0123456789") == 3 &&
           starts(t + d + 4, " ms ");
}

/* One quoted line of a transcript. */
typedef struct quote {
    const char *text;
    int exact;  /* as match_line takes it */
    int gap;    /* a line of "..." came before it */
    int ln;     /* its line in the worksheet (0-based) */
} quote_t;

/* How many of q[idx[0..k)] match consecutive lines of l from line p. */
static int run_at(const quote_t *q, const int *idx, int k, const lines_t *l,
                  int p)
{
    int m = 0;
    while (m < k && p + m < l->n &&
           match_line(q[idx[m]].text, l->line[p + m], q[idx[m]].exact))
        m++;
    return m;
}

/* Checks that excerpt q[0..n) is what it claims: lines quoted one after
 * the other, with no "..." between, are lines printed one after the other
 * (in each stream on its own: how stdout and stderr interleave is the
 * terminal's business), and a quoted trace starts and ends where the
 * printed one does unless "..." says that it goes on (tail_gap: a "..."
 * after the last line). Lines that are printed nowhere are left out (they
 * are reported already). Returns the index of the first quoted line where
 * this fails, or -1; *why says what failed. */
static int excerpt_break(const quote_t *q, int n, int tail_gap,
                         const lines_t *stream[2], const char **why)
{
    int cur[2] = { 0, 0 }, st[MAX_QUOTES], idx[MAX_QUOTES];
    for (int i = 0; i < n; i++) {
        st[i] = -1;
        for (int s = 0; s < 2 && st[i] < 0; s++)
            for (int j = 0; j < stream[s]->n && st[i] < 0; j++)
                if (match_line(q[i].text, stream[s]->line[j], q[i].exact))
                    st[i] = s;
    }
    for (int i = 0, j; i < n; i = j) {
        /* One segment: from a gap (or the start) to the next gap. */
        for (j = i + 1; j < n && !q[j].gap; j++)
            ;
        int first = i == 0 && !q[0].gap, last = j == n && !tail_gap;
        for (int s = 0; s < 2; s++) {
            const lines_t *l = stream[s];
            int k = 0, at = -1, best = 0;
            for (int m = i; m < j; m++)
                if (st[m] == s)
                    idx[k++] = m;
            if (k == 0)
                continue;
            for (int p = cur[s]; p < l->n && at < 0; p++) {
                int m = run_at(q, idx, k, l, p);
                if (m == k)
                    at = p;
                else if (m > best)
                    best = m;
            }
            if (at < 0 && best == 0) {
                *why = "is printed before the lines quoted above it";
                return idx[0];
            }
            if (at < 0) {
                *why = "is not the line printed after the one quoted above "
                       "it: mark the lines left out with a line of \"...\"";
                return idx[best];
            }
            if (first && at > 0 && is_trace_line(l->line[at]) &&
                is_trace_line(l->line[at - 1])) {
                *why = "is not where the trace starts: put a line of \"...\" "
                       "above it for the events left out";
                return idx[0];
            }
            if (last && at + k < l->n && is_trace_line(l->line[at + k - 1]) &&
                is_trace_line(l->line[at + k])) {
                *why = "is not where the trace ends: put a line of \"...\" "
                       "below it for the events left out";
                return idx[k - 1];
            }
            cur[s] = at + k;
        }
    }
    return -1;
}

/* Checks the lines a transcript quotes from output o of command c. */
static void check_excerpt(const sheet_t *s, const command_t *c,
                          const output_t *o, const quote_t *q, int n,
                          int tail_gap)
{
    filter_t f, none = { .n = 0 };
    lines_t out, err;
    const char *why = "";
    if (!o || n == 0)
        return;
    if (parse_filter(c->filter, &f) != 0) {
        problem(s->path, q[0].ln + 1, "a filter the test cannot apply: "
                "| %s (use grep WORD or grep -E 'A|B', fixed strings)",
                c->filter);
        return;
    }
    split_output(o->out, &f, &out);
    split_output(o->err, &none, &err); /* a pipe filters stdout alone */
    const lines_t *stream[2] = { &out, &err };
    int at = excerpt_break(q, n, tail_gap, stream, &why);
    if (at >= 0)
        problem(s->path, q[at].ln + 1, "this line %s:\n    %s", why,
                q[at].text);
    free_lines(&out);
    free_lines(&err);
}

/* Checks one ```text output block against the commands it quotes: each
 * line is printed, and the lines form an honest excerpt (check_excerpt). */
static void check_output_block(const sheet_t *s, const block_t *b)
{
    static quote_t q[MAX_QUOTES];
    const output_t *o = NULL;
    command_t c;
    char err[160];
    int nq = 0, gap = 0, skip = 0; /* skip: its lines are not checked */
    for (int k = b->first; k <= b->end; k++) {
        const char *t = "";
        size_t n = k < b->end ? trim(s->line[k], &t) : 0;
        if (k == b->end || starts(t, "$ ")) {
            check_excerpt(s, &c, o, q, nq, gap);
            nq = gap = 0;
            o = NULL;
            skip = k < b->end && !is_shell_line(s, t + 2) &&
                   parse_command(t + 2, &c, err, sizeof err) == 0 &&
                   !checked_here(&c);
            if (k < b->end && !skip)
                o = is_shell_line(s, t + 2) ? run_shell_line(s, k, t + 2, &c)
                                            : run_line(s, k, t + 2, &c, -1);
            continue;
        }
        if (n == 0 || skip)
            continue;
        if (n == 3 && memcmp(t, "...", 3) == 0) {
            gap = 1;
            continue;
        }
        if (!o) {
            problem(s->path, k + 1, "output before any \"$ command\" line "
                    "(or its command did not run)");
            continue;
        }
        if (strstr(t, EM_EXPECTED) && !is_verdict(t)) {
            problem(s->path, k + 1, "a verdict line cut before \"; observed\"");
            continue;
        }
        int exact = is_verdict(t) ? c.verdict_exact : c.controlled;
        if (text_has(o->out, t, exact) || text_has(o->err, t, exact)) {
            if (nq < MAX_QUOTES)
                q[nq++] = (quote_t){ t, exact, gap, k };
            gap = 0;
            continue;
        }
        /* Reported here; the excerpt check goes on as if cut here. */
        gap = 1;
        problem(s->path, k + 1, "the program does not print this%s:\n    %s"
                "\n  it printed:\n%s%s",
                exact ? "" : " (numbers aside)", t, tail(o->out, 1500),
                tail(o->err, 600));
    }
}

/* test: quoted output matches the program */
static void quoted_output_matches_the_program(void)
{
    int before = problems, blocks = 0;
    if (!commands_run_here())
        return;
    load_sheets();
    build_sheet_programs(); /* what the command sheets run */
    run_ahead();
    for (int i = 0; i < nsheets; i++) {
        block_t b;
        for (int at = 0; next_block(&sheets[i], &at, &b);)
            if (strcmp(b.info, "text output") == 0) {
                check_output_block(&sheets[i], &b);
                blocks++;
            }
    }
    CU_ASSERT_TRUE(blocks > 0);
    ASSERT_INT_EQ(problems - before, 0);
}

/* The trimmed line t (n characters) is a line of f. */
static int has_line(const sheet_t *f, const char *t, size_t n)
{
    for (int j = 0; j < f->nlines; j++) {
        const char *u;
        size_t m = trim(f->line[j], &u);
        if (m == n && memcmp(u, t, n) == 0)
            return 1;
    }
    return 0;
}

/* Checks one ```diff FILE block (demos/X.c: the broken and the fixed code
 * side by side in one file), or ```diff OLD NEW (lessons/watch/X.c and
 * its fixed copy): each line, after its +/-/space column, is a line of
 * the file, or a '-' line of OLD, a '+' line of NEW, a ' ' line of both.
 * Files are under demos/ or lessons/. */
static void check_diff_block(const sheet_t *s, const block_t *b)
{
    char paths[2][128] = { "", "" };
    sheet_t src[2];
    int nfiles = sscanf(b->info + 5, "%127s %127s", paths[0], paths[1]);
    memset(src, 0, sizeof src);
    if (nfiles < 1) {
        problem(s->path, b->fence + 1, "a diff block names no file");
        return;
    }
    for (int i = 0; i < 2; i++) {
        if (i >= nfiles) {
            src[i] = src[0]; /* one file: both sides */
            snprintf(paths[i], sizeof paths[i], "%s", paths[0]);
            continue;
        }
        if ((!starts(paths[i], "demos/") && !starts(paths[i], "lessons/")) ||
            load_lines(&src[i], paths[i]) != 0) {
            problem(s->path, b->fence + 1, "cannot read %s (a diff quotes "
                    "demos/ or lessons/)", paths[i]);
            goto out;
        }
    }
    for (int k = b->first; k < b->end; k++) {
        const char *l = s->line[k], *t;
        if (!*l)
            continue;
        if (*l != '+' && *l != '-' && *l != ' ') {
            problem(s->path, k + 1, "a diff line starts with +, - or a space");
            continue;
        }
        size_t n = trim(l + 1, &t);
        if (n == 0 || (n == 3 && memcmp(t, "...", 3) == 0))
            continue;
        for (int i = 0; i < 2; i++)
            if (*l != (i ? '-' : '+') && !has_line(&src[i], t, n)) {
                problem(s->path, k + 1, "not a line of %s: %.*s", paths[i],
                        (int)n, t);
                break;
            }
    }
out:
    for (int i = 0; i < (nfiles > 1 ? 2 : 1); i++) {
        free(src[i].buf);
        free(src[i].line);
    }
}

/* test: code excerpts come from the demos */
static void code_excerpts_come_from_the_demos(void)
{
    int before = problems, blocks = 0;
    load_sheets();
    for (int i = 0; i < nsheets; i++) {
        block_t b;
        for (int at = 0; next_block(&sheets[i], &at, &b);)
            if (starts(b.info, "diff ")) {
                check_diff_block(&sheets[i], &b);
                blocks++;
            }
    }
    CU_ASSERT_TRUE(blocks > 0);
    ASSERT_INT_EQ(problems - before, 0);
}

/* ======================= paths and source locations ====================== */

static const char *const path_roots[] = { "lessons/", "lib/", "demos/",
                                          "cli/" };

/* A placeholder such as lessons/exercises/NAME.c or demos/FILE.c: a part
 * of the path in capitals only. */
static int is_placeholder(const char *path, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i, caps = 0;
        while (j < n && path[j] != '/' && path[j] != '.')
            caps += isupper((unsigned char)path[j++]) != 0;
        if (caps > 1 && caps == j - i)
            return 1;
        i = j + 1;
    }
    return 0;
}

/* Lines in the file at path, or -1 if it cannot be read. */
static int count_file_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, c, last = '\n';
    if (!f)
        return -1;
    while ((c = fgetc(f)) != EOF) {
        n += c == '\n';
        last = c;
    }
    fclose(f);
    return n + (last != '\n');
}

/* Every path in line text (ln: its index in s) that starts with one of
 * path_roots: it must exist, and when it is a source location
 * ("lib/cd_mutex.c:29") the file must have that line. */
static void check_paths_in(const sheet_t *s, int ln, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (p > text && is_path_char(p[-1]))
            continue; /* inside a word: build/tsan/lib/..., a URL */
        size_t r = 0;
        while (r < sizeof path_roots / sizeof path_roots[0] &&
               !starts(p, path_roots[r]))
            r++;
        if (r == sizeof path_roots / sizeof path_roots[0])
            continue;
        size_t n = 0;
        while (is_path_char(p[n]))
            n++;
        while (n > 0 && p[n - 1] == '.') /* the end of a sentence */
            n--;
        char path[256];
        snprintf(path, sizeof path, "%.*s", (int)n, p);
        int line = 0;
        if (p[n] == ':' && isdigit((unsigned char)p[n + 1]))
            line = atoi(p + n + 1);
        if (is_placeholder(path, n))
            continue;
        if (access(path, F_OK) != 0) {
            problem(s->path, ln + 1, "names %s, which does not exist", path);
            continue;
        }
        int lines = line ? count_file_lines(path) : 0;
        if (line && lines < line)
            problem(s->path, ln + 1, "quotes %s:%d, but %s has %d lines",
                    path, line, path, lines);
        p += n - 1;
    }
}

/* test: every path a worksheet names exists */
static void every_path_named_exists(void)
{
    int before = problems, seen = 0;
    load_sheets();
    for (int i = 0; i <= nsheets; i++) {
        const sheet_t *s = i < nsheets ? &sheets[i] : &readme;
        for (int k = 0; k < s->nlines; k++)
            check_paths_in(s, k, s->line[k]);
        seen += s->nlines > 0;
    }
    CU_ASSERT_TRUE(seen > 1);
    ASSERT_INT_EQ(problems - before, 0);
}

/* The matcher itself: it must refuse what differs, or the checks above
 * could not fail. */
/* test: the matcher refuses changed lines */
static void matcher_refuses_changed_lines(void)
{
    const char *real = "race [broken]: VIOLATED \xe2\x80\x94 expected each of 8 "
                       "orders charged once; observed 16 charges for 8 orders";
    const char *same = real;
    const char *other_count = "race [broken]: VIOLATED \xe2\x80\x94 expected "
                              "each of 8 orders charged once; observed 15 "
                              "charges for 8 orders";
    const char *other_expected = "race [broken]: VIOLATED \xe2\x80\x94 "
                                 "expected each of 9 orders charged once; "
                                 "observed 16 charges for 8 orders";
    const char *other_status = "race [broken]: HELD \xe2\x80\x94 expected "
                               "each of 8 orders charged once; observed 16 "
                               "charges for 8 orders";
    const char *other_word = "race [broken]: VIOLATED \xe2\x80\x94 expected "
                             "each of 8 orders charged once; observed 16 "
                             "refunds for 8 orders";
    const char *elided = "race [broken]: VIOLATED \xe2\x80\x94 expected each "
                         "of 8 orders charged once; observed 16 charges ...";

    CU_ASSERT_TRUE(match_line(same, real, 1));
    CU_ASSERT_FALSE(match_line(other_count, real, 1)); /* controlled */
    CU_ASSERT_TRUE(match_line(other_count, real, 0));  /* free: numbers vary */
    CU_ASSERT_FALSE(match_line(other_expected, real, 0));
    CU_ASSERT_FALSE(match_line(other_status, real, 0));
    CU_ASSERT_FALSE(match_line(other_word, real, 0));
    CU_ASSERT_TRUE(match_line(elided, real, 1));
    CU_ASSERT_FALSE(match_line("16 charges for 8", "16 charges for 8 orders", 1));
    CU_ASSERT_TRUE(match_line("  2.000 ms  checkout-1 ", "2.000 ms  checkout-1", 1));
    CU_ASSERT_FALSE(match_line("2.000 ms  checkout-1", "2.500 ms  checkout-1", 1));
    CU_ASSERT_TRUE(match_line("took 2.6 ms (request-1..6)",
                              "took 13.0 ms (request-1..6)", 0));
    CU_ASSERT_FALSE(match_line("took 2.6 ms", "took 2.6 s", 0));
    /* A count's noun follows the count; no other word does. */
    CU_ASSERT_TRUE(match_line("0 orders left unpaid:", "1 order left unpaid:",
                              0));
    CU_ASSERT_TRUE(match_line("2 charge rows,", "1 charge row,", 0));
    CU_ASSERT_FALSE(match_line("1 order left unpaid", "1 order left unpaids",
                               0));
    CU_ASSERT_FALSE(match_line("orders left", "order left", 0));
    /* A source location is the same line of the same file even where
     * numbers may vary. */
    CU_ASSERT_TRUE(match_line("40.2 ms  unlock  session-1  lib/cd_mutex.c:29",
                              "23.6 ms  unlock  session-1  lib/cd_mutex.c:29",
                              0));
    CU_ASSERT_FALSE(match_line("40.2 ms  unlock  session-1  lib/cd_mutex.c:31",
                               "23.6 ms  unlock  session-1  lib/cd_mutex.c:29",
                               0));
    CU_ASSERT_FALSE(match_line("#0 checkout_broken demos/race.c:84 ...",
                               "#0 checkout_broken demos/race.c:81 (x+0x1)",
                               0));
}

/* The excerpt check: consecutive quoted lines must be consecutive output
 * lines unless "..." stands between them, and a trace quoted from its
 * middle says so at both ends. */
/* test: excerpts must mark the lines they leave out */
static void excerpts_must_mark_left_out_lines(void)
{
    static const char out_text[] =
        "race [broken]: the double charge\n"
        "trace: 4 events\n"
        "      0.000 ms  a  start\n"
        "      0.000 ms  b  start\n"
        "      1.000 ms  a  exit\n"
        "      1.000 ms  b  exit\n"
        "\n"
        "verdict\n";
    filter_t none = { .n = 0 }, grep_f;
    lines_t out, err, out_b;
    const char *why = "";
    split_output(out_text, &none, &out);
    split_output("", &none, &err);
    const lines_t *streams[2] = { &out, &err };
#define Q(text, gap) { text, 1, gap, 0 }
    const quote_t whole[] = { Q("trace: 4 events", 0),
                              Q("0.000 ms  a  start", 0),
                              Q("0.000 ms  b  start", 0),
                              Q("1.000 ms  a  exit", 0),
                              Q("1.000 ms  b  exit", 0), Q("verdict", 0) };
    const quote_t dropped[] = { Q("trace: 4 events", 0),
                                Q("0.000 ms  a  start", 0),
                                Q("1.000 ms  a  exit", 0),
                                Q("1.000 ms  b  exit", 0) };
    const quote_t marked[] = { Q("trace: 4 events", 0),
                               Q("0.000 ms  a  start", 0),
                               Q("1.000 ms  a  exit", 1),
                               Q("1.000 ms  b  exit", 0) };
    const quote_t mid[] = { Q("0.000 ms  b  start", 0),
                            Q("1.000 ms  a  exit", 0) };
    const quote_t mid_marked[] = { Q("0.000 ms  b  start", 1),
                                   Q("1.000 ms  a  exit", 0) };
    const quote_t backwards[] = { Q("verdict", 0), Q("trace: 4 events", 1) };
#undef Q
    ASSERT_INT_EQ(excerpt_break(whole, 6, 0, streams, &why), -1);
    ASSERT_INT_EQ(excerpt_break(dropped, 4, 0, streams, &why), 2);
    ASSERT_INT_EQ(excerpt_break(marked, 4, 0, streams, &why), -1);
    /* From the middle of the trace: "..." above and below, or refused. */
    ASSERT_INT_EQ(excerpt_break(mid, 2, 0, streams, &why), 0);
    ASSERT_INT_EQ(excerpt_break(mid_marked, 2, 0, streams, &why), 1);
    ASSERT_INT_EQ(excerpt_break(mid_marked, 2, 1, streams, &why), -1);
    ASSERT_INT_EQ(excerpt_break(backwards, 2, 0, streams, &why), 1);
    /* Filtered output: what "| grep -E 'a  start|exit'" leaves. */
    CU_ASSERT_EQUAL(parse_filter("grep -E 'a  start|exit'", &grep_f), 0);
    ASSERT_INT_EQ(grep_f.n, 2);
    split_output(out_text, &grep_f, &out_b);
    ASSERT_INT_EQ(out_b.n, 3);
    const lines_t *filtered[2] = { &out_b, &err };
    ASSERT_INT_EQ(excerpt_break(dropped + 1, 3, 0, filtered, &why), -1);
    CU_ASSERT_EQUAL(parse_filter("grep trimmer", &grep_f), 0);
    CU_ASSERT_EQUAL(parse_filter("grep -v trimmer", &grep_f), -1);
    CU_ASSERT_EQUAL(parse_filter("grep 'a.*b'", &grep_f), -1);
    CU_ASSERT_EQUAL(parse_filter("head -3", &grep_f), -1);
    free_lines(&out);
    free_lines(&err);
    free_lines(&out_b);
}

/* Paths: a missing file and a line past the end are refused; a path
 * inside another (build/tsan/lib/...) and placeholders are not paths. */
/* test: named paths must exist, quoted lines too */
static void paths_must_exist(void)
{
    sheet_t fake = { .path = "fake.md" };
    int before = problems;
    quiet = 1;
    check_paths_in(&fake, 0, "Open `lessons/exercises/async_race.c`, see "
                   "demos/race.c:80 and lib/cd_mutex.h.");
    check_paths_in(&fake, 0, "build/tsan/lib/nothing.c, "
                   "lessons/exercises/NAME.c, demos/FILE.c");
    ASSERT_INT_EQ(problems - before, 0);
    check_paths_in(&fake, 0, "Open `lessons/exercises/async-race.c`.");
    ASSERT_INT_EQ(problems - before, 1);
    check_paths_in(&fake, 0, "at demos/race.c:99999");
    ASSERT_INT_EQ(problems - before, 2);
    problems = before; /* those were expected */
    quiet = 0;
}

/* A diff of two files: '-' lines come from the first, '+' lines from the
 * second, ' ' lines from both; a sign the wrong way round is refused. */
/* test: diffs of two files are read by side */
static void diffs_of_two_files_are_read_by_side(void)
{
    static const char *const right[] = {
        "```diff lessons/watch/handoff.c lessons/watch/handoff_fixed.c",
        "     pthread_mutex_lock(&job_lock);",
        "-    pthread_cond_wait(&job_posted, &job_lock); /* BUG: waits for an "
        "event */",
        "+    while (!job_ready) /* FIX: wait for a state, not an event */",
        "```",
    };
    static const char *const wrong[] = {
        "```diff lessons/watch/handoff.c lessons/watch/handoff_fixed.c",
        "+    pthread_cond_wait(&job_posted, &job_lock); /* BUG: waits for an "
        "event */",
        "-    while (!job_ready) /* FIX: wait for a state, not an event */",
        "     job_ready = 1; /* FIX: record it, then signal */",
        "```",
    };
    const char *const *cases[] = { right, wrong };
    int found[2];
    for (int i = 0; i < 2; i++) {
        sheet_t fake = { .path = "fake.md", .nlines = 5 };
        fake.line = (char **)cases[i];
        block_t b;
        int at = 0, before = problems;
        CU_ASSERT_TRUE_FATAL(next_block(&fake, &at, &b));
        quiet = 1;
        check_diff_block(&fake, &b);
        quiet = 0;
        found[i] = problems - before;
        problems = before; /* counted here, not failures of the sheets */
    }
    ASSERT_INT_EQ(found[0], 0);
    ASSERT_INT_EQ(found[1], 3);
}

/* test: commands are parsed as a learner types them */
static void commands_are_parsed_as_a_learner_types_them(void)
{
    command_t c;
    char err[160];
    CU_ASSERT_EQUAL(parse_command("build/concdemo race --view  # live | x", &c,
                                  err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(c.argv[1], "race");
    CU_ASSERT_STRING_EQUAL(c.argv[2], "--view=text");
    CU_ASSERT_PTR_NULL(c.argv[3]);
    CU_ASSERT_EQUAL(parse_command("concdemo race --sched=random:1 | grep x",
                                  &c, err, sizeof err), 0);
    CU_ASSERT_TRUE(c.controlled);
    CU_ASSERT_PTR_NULL(c.argv[3]);
    CU_ASSERT_EQUAL(parse_command("concdemo explore race --sched='pct:1'", &c,
                                  err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(c.argv[3], "--sched=pct:1");
    CU_ASSERT_TRUE(c.verdict_exact);
    CU_ASSERT_FALSE(c.controlled);
    CU_ASSERT_EQUAL(parse_command("make tsan", &c, err, sizeof err), -1);
    CU_ASSERT_EQUAL(parse_command("build/tsan/concdemo race", &c, err,
                                  sizeof err), 0);
    CU_ASSERT_TRUE(c.tsan);
    CU_ASSERT_STRING_EQUAL(c.prog, "build/tsan/concdemo");
    CU_ASSERT_EQUAL(parse_command("build/concdemo backpressure --trace | grep "
                                  "-E 'timed-out|flush'", &c, err,
                                  sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(c.prog, "build/concdemo");
    CU_ASSERT_STRING_EQUAL(c.filter, "grep -E 'timed-out|flush'");
    CU_ASSERT_PTR_NULL(c.argv[3]);
    /* The binary the test ran is named in the output as the worksheet
     * wrote it; only where it is a word of its own. */
    char *o = as_written("replay: build/asan/concdemo race --x\n"
                         "build/asan/concdemo a\n(build/asan/concdemo+0x1)\n",
                         "build/asan/concdemo", "build/concdemo");
    CU_ASSERT_STRING_EQUAL(o, "replay: build/concdemo race --x\n"
                              "build/concdemo a\n(build/asan/concdemo+0x1)\n");
    free(o);
}
