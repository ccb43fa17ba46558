/*
 * check.c - `concdemo check NAME [--file PATH]`: build the learner's
 * exercise, run its stages, judge it under ThreadSanitizer.
 *
 * The grading itself happens in the exercise's own program (cli/exhost.c
 * linked with the learner's file): a bug in the learner's code - a crash,
 * a loop that ignores the run's abort - takes that program down, not this
 * one, which then says what happened. This file finds the sources,
 * builds a part (an answer's change alone: cli/exfile.h) into the whole
 * file, drives make, runs the program with a time limit and reads TSan's
 * report.
 *
 * Nothing here trusts the learner's file. Make and the program run in
 * sessions and process groups of their own with time limits
 * (cli/spawn.c), stopped with the check; the build reads no input. Each
 * run of the program is sandboxed (cli/sandbox.h): resource limits, a
 * watch on its memory, a seccomp filter that ends it at the first thing
 * an exercise never does (a fork, a signal to another process ...), and
 * a limit on the time before its first stage (a constructor that never
 * returns). The program's verdict comes through a pipe of this check's
 * own (cli/books.h): its verdict counts only to fail, or when it is
 * complete, the exit code agrees with it and the books of every run -
 * what the harness's services did, judged here again against what each
 * stage asks for - bear it out. Builds take a lock and each check runs its own copy of the program, so that two
 * checks of one file at the same time cannot overwrite what the other
 * runs. While a stage runs, a progress line says so.
 */
#define _GNU_SOURCE /* flock, mkdtemp, mkostemp, realpath */

#include "check.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "books.h"
#include "exdb.h"
#include "exfile.h"
#include "grade.h"
#include "options.h"
#include "sandbox.h"
#include "spawn.h"
#include "workspace.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define HOST_LIMIT_S 300  /* the stages take seconds; this means a hang */
#define TSAN_LIMIT_S 180
#define BUILD_LIMIT_S 120 /* one file builds in seconds; this never ends */
#define LIB_LIMIT_S 1800  /* the library, the first time: minutes */
#define FILE_MAX (256 * 1024) /* an exercise is a few KiB */
#define SHOW_LINES 25     /* compiler output shown to the learner */
#define MAKE_OUT_MAX (256 * 1024)
#define LONG_PATH (2 * PATH_MAX + 64) /* the sources' path + one inside */
#define START_LIMIT_S 10  /* to reach the first stage (it takes ms);
                             $CONCDEMO_START_LIMIT sets it */
#define GiB (1ULL << 30)
#define MiB (1ULL << 20)
/* A run's memory: the exercises use a few MiB (ThreadSanitizer's tens).
 * Resident memory is watched from here, since TSan's shadow reserves
 * terabytes of address space; the plain program gets an address-space
 * limit too, so that no allocation beyond it succeeds; and no single
 * mapping may be larger than the run's memory (the seccomp filter). */
#define RUN_MEMORY (1 * GiB)
#define RUN_ADDRESS_SPACE (8 * GiB) /* threads' stacks, malloc's arenas */
#define OUTPUT_MAX (256 * 1024) /* the program's stdout passed on */
#define PROGRESS_EVERY_S 10 /* without a terminal: a line this often */

static const char usage_text[] =
    "usage: concdemo check NAME [--file PATH] [--no-tsan] [--budget S]\n"
    "       concdemo check NAME [--file PATH] --sched=STRATEGY [--threads N]\n"
    "                      [--workers N] [--iterations N] [--max-steps N]\n"
    "                      [--spurious] [--trace]\n"
    "       concdemo check NAME --file PATH --print-full\n"
    "\n"
    "Grades your fix of an exercise (default file: lessons/exercises/NAME.c,\n"
    "async_race.c for async-race):\n"
    "builds it with the library, runs it free several times, explores its\n"
    "schedules with the controlled scheduler, checks that independent work\n"
    "still overlaps and that the fix does not depend on timing, then runs it\n"
    "under ThreadSanitizer. One PASS/FAIL line per stage; a failing schedule\n"
    "comes with the command that replays it (--sched=replay:..., add --trace\n"
    "to see every step, or --sched=step to choose each step yourself).\n"
    "\n"
    "  --file PATH   check this file instead: a copy of the exercise, or a\n"
    "                part (a comment, then diff -u of the exercise and yours,\n"
    "                as in lessons/answers/*.patch), built into the exercise\n"
    "  --print-full  print the whole file that would be built, and stop\n"
    "  --no-tsan     skip the ThreadSanitizer stage (it needs a TSan build)\n"
    "  --budget S    seconds for the exhaustive (dfs) exploration\n"
    "  CONCDEMO_BUILD_LIMIT=S (environment) seconds your file may take to\n"
    "                build (default 120; a file over 256 KiB is refused)\n"
    "  CONCDEMO_START_LIMIT=S (environment) seconds the program may take to\n"
    "                reach its first stage (default 10)\n"
    "  CONCDEMO_MEMORY_LIMIT=MIB (environment) the memory a run may use, in\n"
    "                MiB (default 1024, 64..8192)\n"
    "\n"
    "exercises:";

static const char exit_text[] =
    "\n"
    "exit codes: 0 every stage passed, 1 a stage failed, 2 usage error or\n"
    "a file that does not build (the compiler's messages are shown).\n";

typedef struct check {
    const cd_exercise_spec_t *spec;
    char file[64];         /* "async_race.c": the exercise's file name */
    const char *file_arg;  /* --file as given, or NULL */
    int no_tsan;
    int print_full;
    const char *budget;
    double budget_s;       /* --budget, parsed (0: the exercise's own) */
    /* Run mode (--sched): the options passed on to the program. */
    int run_mode;
    const char *run_only;  /* an option that needs --sched */
    char *run_args[16];
    int nrun;

    char root[PATH_MAX];   /* the concdemo sources */
    char shown[LONG_PATH]; /* the file, as the learner names it */
    char abs[PATH_MAX];    /* the file, absolute */
    char src[PATH_MAX];    /* the file as make sees it (from root) */
    int part;              /* it is a part: make builds full, not src */
    char full[PATH_MAX + 8]; /* a part's whole file (from root) */
    char bin[PATH_MAX];    /* build/exercises/NAME-ID/NAME, from root */
    char tsan_bin[PATH_MAX];
    char cmd[LONG_PATH];   /* "concdemo check race --file F" */
    double build_limit_s;  /* for the learner's file ($CONCDEMO_BUILD_LIMIT) */
    double start_limit_s;  /* to the first stage ($CONCDEMO_START_LIMIT) */
    unsigned long long memory; /* a run's, bytes ($CONCDEMO_MEMORY_LIMIT) */

    /* This check's own directory (mkdtemp) with its copies of the
     * programs and the TSan log. */
    char own[PATH_MAX + 64];
    char prog[PATH_MAX + 128], tsan_prog[PATH_MAX + 128];
    char tsan_log[PATH_MAX + 128];
} check_t;

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("concdemo check: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

/* " race, deadlock, ...": the scenarios that have an exercise, in the
 * scenario table's order. */
static void list_exercises(FILE *out)
{
    int n, listed = 0;
    const cd_scenario_t *const *all = cd_scenarios(&n);
    for (int i = 0; i < n; i++)
        if (cd_exercise_spec(all[i]->name))
            fprintf(out, "%s %s", listed++ ? "," : "", all[i]->name);
}

static void print_usage(FILE *out)
{
    fputs(usage_text, out);
    list_exercises(out);
    fputs(exit_text, out);
}

static int unknown_exercise(const char *name)
{
    fprintf(stderr, "concdemo check: unknown exercise '%s' (exercises:", name);
    list_exercises(stderr);
    fprintf(stderr, ")\n");
    return EXIT_USAGE;
}

/* A number of seconds in (0, max], all of text: no nan, inf, overflow or
 * trailing junk. Returns 0 and sets *out, or -1. */
static int parse_seconds(const char *text, double max, double *out)
{
    char *end;
    if (!text || !*text || isspace((unsigned char)*text))
        return -1;
    errno = 0;
    double v = strtod(text, &end);
    if (*end || errno == ERANGE || !isfinite(v) || !(v > 0 && v <= max))
        return -1;
    *out = v;
    return 0;
}

/* A whole number of MiB in [lo, hi], as bytes in *out; -1 if not. */
static int parse_mib(const char *text, unsigned long lo, unsigned long hi,
                     unsigned long long *out)
{
    char *end;
    if (!text || !isdigit((unsigned char)*text))
        return -1;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (*end || errno == ERANGE || v < lo || v > hi)
        return -1;
    *out = (unsigned long long)v * MiB;
    return 0;
}

/* A run option (concdemo's table, cli/options.c: the same forms and
 * messages as `concdemo SCENARIO`) at argv[*i]: checked here as far as
 * this side can (sizes as numbers; the exercise's program checks its
 * ranges), then passed on word for word. 1 taken, 0 not a run option,
 * -1 after the usage error. */
static int take_run_option(check_t *c, int argc, char **argv, int *i)
{
    const int room = (int)(sizeof c->run_args / sizeof c->run_args[0]) - 2;
    cd_runargs_t ra = { .scenario = NULL };
    char err[CD_TEXT_MAX];
    int first = *i;

    int rc = cd_opt_parse(&ra, CD_OPT_CHECK, argc, argv, i, err, sizeof err);
    cd_runargs_free(&ra);
    if (rc == 0)
        return 0;
    if (rc < 0) {
        usage_error("%s", err);
        return -1;
    }
    if (c->nrun + (*i - first + 1) > room) {
        usage_error("%s", "too many options");
        return -1;
    }
    for (int k = first; k <= *i; k++)
        c->run_args[c->nrun++] = argv[k];
    if (ra.has_sched)
        c->run_mode = 1;
    else
        c->run_only = argv[first];
    return 1;
}

static int parse_args(check_t *c, int argc, char **argv)
{
    int rc;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--file") == 0) {
            if (!v || !*v)
                return usage_error("%s", "--file needs a path");
            c->file_arg = argv[++i];
        } else if (strncmp(a, "--file=", 7) == 0) {
            c->file_arg = a + 7;
        } else if (strcmp(a, "--budget") == 0 ||
                   strncmp(a, "--budget=", 9) == 0) {
            const char *s = a[8] == '=' ? a + 9 : v;
            if (parse_seconds(s, 600, &c->budget_s) != 0)
                return usage_error("--budget must be a number of seconds "
                                   "from 0 to 600 (got %s)", s ? s : "none");
            c->budget = s;
            if (a[8] != '=')
                i++;
        } else if (strcmp(a, "--no-tsan") == 0) {
            c->no_tsan = 1;
        } else if (strcmp(a, "--print-full") == 0) {
            c->print_full = 1;
        } else if ((rc = take_run_option(c, argc, argv, &i)) != 0) {
            if (rc < 0)
                return -1;
        } else {
            return usage_error("unexpected argument '%s' (see concdemo check "
                               "--help)", a);
        }
    }
    if (c->run_only && !c->run_mode)
        return usage_error("%s goes with --sched=STRATEGY (one controlled "
                           "run)", c->run_only);
    if (c->print_full && !c->file_arg)
        return usage_error("%s", "--print-full goes with --file PATH (the "
                           "file to print whole)");
    /* Tests (and slow machines) set the limit for the learner's file. */
    const char *limit = getenv("CONCDEMO_BUILD_LIMIT");
    c->build_limit_s = BUILD_LIMIT_S;
    if (limit && *limit && parse_seconds(limit, 86400, &c->build_limit_s))
        return usage_error("CONCDEMO_BUILD_LIMIT must be a number of seconds "
                           "above 0, at most 86400 (got %s)", limit);
    /* Learner code that keeps main from beginning is stopped at this
     * limit: graders on slow machines (and tests) set it. */
    limit = getenv("CONCDEMO_START_LIMIT");
    c->start_limit_s = START_LIMIT_S;
    if (limit && *limit && parse_seconds(limit, 3600, &c->start_limit_s))
        return usage_error("CONCDEMO_START_LIMIT must be a number of seconds "
                           "above 0, at most 3600 (got %s)", limit);
    /* A small machine's grader (and the tests, whose hostile files fill
     * the limit page by page) may lower what a run may use. */
    limit = getenv("CONCDEMO_MEMORY_LIMIT");
    c->memory = RUN_MEMORY;
    if (limit && *limit && parse_mib(limit, 64, RUN_ADDRESS_SPACE / MiB,
                                     &c->memory))
        return usage_error("CONCDEMO_MEMORY_LIMIT must be a whole number of "
                           "MiB from 64 to 8192 (got %s)", limit);
    return 0;
}

/* ============================ finding the sources ======================== */

static int exists(const char *dir, const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return access(path, R_OK) == 0;
}

static int is_root(const char *dir)
{
    return exists(dir, "Makefile") && exists(dir, "lib/cd_op.h") &&
           exists(dir, "cli/exhost.c");
}

/* The concdemo sources: $CONCDEMO_ROOT, else the directory the binary was
 * built in (build/concdemo, build/tsan/concdemo), else the current one. */
static int find_root(char *out)
{
    char dir[PATH_MAX];
    const char *env = getenv("CONCDEMO_ROOT");

    if (env && *env && is_root(env) && realpath(env, out))
        return 0;
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n > 0) {
        dir[n] = '\0';
        for (int up = 0; up < 4; up++) {
            char *slash = strrchr(dir, '/');
            if (!slash || slash == dir)
                break;
            *slash = '\0';
            if (is_root(dir) && realpath(dir, out))
                return 0;
        }
    }
    if (is_root(".") && realpath(".", out))
        return 0;
    /* Installed: PREFIX/bin/concdemo beside PREFIX/share/concdemo. (The
     * walk above cut dir up: read the link again.) */
    if ((n = readlink("/proc/self/exe", dir, sizeof dir - 32)) > 0) {
        dir[n] = '\0';
        char *slash = strrchr(dir, '/');
        if (slash) {
            snprintf(slash, sizeof dir - (size_t)(slash - dir),
                     "/../share/concdemo");
            if (is_root(dir) && realpath(dir, out))
                return 0;
        }
    }
    return -1;
}

/* Characters make cannot carry in a file name. */
static int make_safe(const char *path)
{
    return strpbrk(path, " \t\n$#:;%*?[]\\\"'=") == NULL;
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Works out the file's names and the programs' paths. */
static int locate(check_t *c)
{
    const char *name = c->spec->name;

    if (find_root(c->root) != 0)
        return usage_error("%s", "cannot find the concdemo sources (Makefile, "
                           "lib/, cli/exhost.c) next to this binary or in the "
                           "current directory: run it from the top of the "
                           "repository, or set CONCDEMO_ROOT");
    if (cd_workspace_needed(c->root)) {
        char ws[PATH_MAX], why[PATH_MAX + 128];
        if (cd_workspace_for(c->root, ws, sizeof ws, why, sizeof why) != 0)
            return usage_error("%s", why);
        snprintf(c->root, sizeof c->root, "%s", ws);
    }
    if (c->file_arg) {
        snprintf(c->shown, sizeof c->shown, "%s", c->file_arg);
    } else {
        snprintf(c->shown, sizeof c->shown, "lessons/exercises/%s",
                 c->file);
        if (access(c->shown, R_OK) != 0)
            snprintf(c->shown, sizeof c->shown, "%s/lessons/exercises/%s",
                     c->root, c->file);
    }
    struct stat st;
    if (stat(c->shown, &st) != 0 || !realpath(c->shown, c->abs))
        return usage_error("cannot read %s: %s", c->shown, strerror(errno));
    if (!S_ISREG(st.st_mode) || access(c->abs, R_OK) != 0)
        return usage_error("cannot read %s: not a readable file", c->shown);
    if (st.st_size > FILE_MAX)
        return usage_error("%s is too big to be an exercise (%lld KiB; "
                           "check takes at most %d KiB)", c->shown,
                           (long long)(st.st_size + 1023) / 1024,
                           FILE_MAX / 1024);
    if (!make_safe(c->abs))
        return usage_error("cannot build %s: make cannot handle spaces or "
                           "any of $#:;%%*?[]\\\"'= in a path; copy it to a "
                           "plainer one", c->shown);

    size_t n = strlen(c->root);
    const char *rel = strncmp(c->abs, c->root, n) == 0 && c->abs[n] == '/'
                          ? c->abs + n + 1 : c->abs;
    snprintf(c->src, sizeof c->src, "%s", rel);
    snprintf(c->bin, sizeof c->bin, "build/exercises/%s-%08x/%s", name,
             (unsigned)fnv1a(c->abs), name);
    snprintf(c->tsan_bin, sizeof c->tsan_bin, "build/tsan/exercises/%s-%08x/%s",
             name, (unsigned)fnv1a(c->abs), name);
    snprintf(c->full, sizeof c->full, "%s.c", c->bin);
    if (c->file_arg)
        snprintf(c->cmd, sizeof c->cmd, "concdemo check %s --file %s", name,
                 c->file_arg);
    else
        snprintf(c->cmd, sizeof c->cmd, "concdemo check %s", name);
    return 0;
}

/* ============================ this check's files ========================= */

/* mkdir -p path. Returns 0 or -1 (errno set). */
static int make_dirs(const char *path)
{
    char dir[LONG_PATH];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(dir, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Removes the directories of checks that were killed before they could
 * (SIGKILL): .check-PID-XXXXXX whose PID is gone. */
static void sweep_dead_checks(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char *end, path[PATH_MAX + 320];
        if (strncmp(e->d_name, ".check-", 7) != 0)
            continue;
        long pid = strtol(e->d_name + 7, &end, 10);
        if (*end != '-' || pid <= 0 || kill((pid_t)pid, 0) == 0 ||
            errno != ESRCH)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        DIR *own = opendir(path);
        for (struct dirent *f; own && (f = readdir(own));) {
            char file[PATH_MAX + 600];
            snprintf(file, sizeof file, "%s/%s", path, f->d_name);
            if (f->d_name[0] != '.')
                unlink(file);
        }
        if (own)
            closedir(own);
        rmdir(path);
    }
    if (d)
        closedir(d);
}

/* This check's own directory, build/exercises/.check-PID-XXXXXX: nothing
 * in it is shared with another check. */
static int make_own_dir(check_t *c)
{
    char dir[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/build/exercises", c->root);
    snprintf(c->own, sizeof c->own, "%s/.check-%ld-XXXXXX", dir,
             (long)getpid());
    if (make_dirs(dir) != 0 || !mkdtemp(c->own)) {
        c->own[0] = '\0';
        return usage_error("cannot make a directory in %s: %s", dir,
                           strerror(errno));
    }
    sweep_dead_checks(dir);
    snprintf(c->prog, sizeof c->prog, "%s/%s", c->own, c->spec->name);
    snprintf(c->tsan_prog, sizeof c->tsan_prog, "%s/%s-tsan", c->own,
             c->spec->name);
    snprintf(c->tsan_log, sizeof c->tsan_log, "%s/tsan.log", c->own);
    return 0;
}

/* Where the program saves a schedule too long to print: next to its
 * build, where it stays (the printed replay command reads it). */
static void schedule_dir(const check_t *c, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%.*s", c->root,
             (int)(strrchr(c->bin, '/') - c->bin), c->bin);
}

/* Removes this check's directory and what is in it. */
static void remove_own_files(const check_t *c)
{
    if (!c->own[0])
        return;
    unlink(c->prog);
    unlink(c->tsan_prog);
    unlink(c->tsan_log);
    rmdir(c->own);
}

/* ============================== a part of a file ========================= */

/* Writes text to path unless path holds it already (so that make
 * rebuilds only what changed), through a rename: a check building it
 * meanwhile sees the old file or the new one, whole. Returns 0 or -1
 * (errno set). */
static int write_if_changed(const char *path, const char *text)
{
    char *old = cd_grade_read_file(path);
    int same = old && strcmp(old, text) == 0;
    free(old);
    if (same)
        return 0;
    char tmp[LONG_PATH + 32];
    snprintf(tmp, sizeof tmp, "%s", path);
    char *slash = strrchr(tmp, '/');
    if (slash) {
        *slash = '\0';
        if (make_dirs(tmp) != 0)
            return -1;
    }
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = strlen(text), put = 0;
    while (put < len) {
        ssize_t w = write(fd, text + put, len - put);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            break;
        put += (size_t)w;
    }
    int err = put < len ? errno : 0;
    if (close(fd) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err) {
        unlink(tmp);
        errno = err;
        return -1;
    }
    return 0;
}

/* A part names the file it changes ("--- lessons/exercises/deadlock.c"):
 * one of another exercise is refused by name, before its changes fail to
 * match. */
static int part_of_another(const check_t *c, const char *text)
{
    char of[PATH_MAX], file[64];
    int n;
    cd_exfile_part_of(text, of, sizeof of);
    const char *base = strrchr(of, '/') ? strrchr(of, '/') + 1 : of;
    const cd_exercise_spec_t *all = cd_exercise_specs(&n);
    for (int i = 0; i < n; i++) {
        cd_exercise_file(&all[i], file, sizeof file);
        if (&all[i] != c->spec && strcmp(base, file) == 0)
            return usage_error("%s is a change to %s, not to the exercise "
                               "'%s' (lessons/exercises/%s): concdemo check "
                               "%s --file %s", c->shown, of, c->spec->name,
                               c->file, all[i].name, c->shown);
    }
    return 0;
}

/* A whole file that includes another exercise's interface
 * ("harness/deadlock.h") is that exercise's: refused by name, before it
 * fails to build against this one's harness. */
static int file_of_another(const check_t *c, const char *text)
{
    char want[96], file[64];
    int n;
    const cd_exercise_spec_t *all = cd_exercise_specs(&n);
    for (int i = 0; i < n; i++) {
        cd_exercise_file(&all[i], file, sizeof file);
        snprintf(want, sizeof want, "#include \"harness/%.*s.h\"",
                 (int)strcspn(file, "."), file);
        if (&all[i] != c->spec && strstr(text, want))
            return usage_error("%s is the exercise '%s' (it includes "
                               "harness/%.*s.h), not the exercise '%s': "
                               "concdemo check %s --file %s", c->shown,
                               all[i].name, (int)strcspn(file, "."), file,
                               c->spec->name, all[i].name, c->shown);
    }
    return 0;
}

/* Reads the file. A part (cli/exfile.h) is applied to the exercise's
 * starter, and the whole file written to build/exercises/NAME-ID/NAME.c
 * for make, its lines marked with where they came from. With
 * --print-full, prints the whole file instead (a whole file as it is).
 * Returns 0, or says why not in one line and returns EXIT_USAGE. */
static int prepare_source(check_t *c)
{
    char starter[LONG_PATH], rel[96], err[512], path[LONG_PATH + 16];
    char *text = cd_grade_read_file(c->abs), *start = NULL, *full = NULL;
    int rc = EXIT_USAGE;

    if (!text)
        return usage_error("cannot read %s: %s", c->shown, strerror(errno));
    c->part = cd_exfile_is_part(text);
    if (!c->part) {
        if (file_of_another(c, text) != 0) {
            free(text);
            return EXIT_USAGE;
        }
        if (c->print_full)
            fputs(text, stdout);
        free(text);
        return 0;
    }
    snprintf(rel, sizeof rel, "lessons/exercises/%s", c->file);
    snprintf(starter, sizeof starter, "%s/%s", c->root, rel);
    if (part_of_another(c, text) != 0)
        goto out;
    start = cd_grade_read_file(starter);
    if (!start) {
        usage_error("cannot read the starter %s: %s", starter,
                    strerror(errno));
        goto out;
    }
    full = cd_exfile_splice(start, text, rel, c->src, !c->print_full, err,
                            sizeof err);
    snprintf(path, sizeof path, "%s/%s", c->root, c->full);
    if (!full)
        usage_error("%s: %s", c->shown, err);
    else if (c->print_full)
        rc = fputs(full, stdout) < 0 ? EXIT_USAGE : 0;
    else if (write_if_changed(path, full) != 0)
        usage_error("cannot write %s: %s", path, strerror(errno));
    else
        rc = 0;
out:
    free(text);
    free(start);
    free(full);
    return rc;
}

/* ================================ progress =============================== */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The line that says a stage is still running, so that a slow one never
 * looks like a hang. On a terminal (stderr): one line rewritten in place
 * each second ("  explore   ... 12 s"; the explore stage adds the
 * schedules the books hold, their rate and the time its budget leaves),
 * erased before anything else is printed. When neither stderr nor stdout
 * is a terminal (a log): a line of the report of its own every
 * PROGRESS_EVERY_S seconds, and none for a stage that ends sooner. */
static struct progress {
    int tty;          /* stderr is a terminal (-1: not looked at yet) */
    int log;          /* neither stderr nor stdout is */
    char label[32];   /* the stage running, or "" */
    double since;     /* when it began */
    int shown;        /* the seconds shown last */
    int width;        /* the line on the terminal, to be erased (0: none) */
    const cd_books_t *books; /* the running program's, if it writes any */
    double budget_s;  /* --budget (0: the exercise's own dfs budget) */
    double dfs_since; /* when the explore stage's pct schedules were done */
} progress = { .tty = -1 };

static void progress_erase(void)
{
    if (progress.width > 0) {
        fflush(stdout);
        fprintf(stderr, "\r%*s\r", progress.width > 40 ? progress.width : 40,
                "");
        fflush(stderr);
        progress.width = 0;
    }
}

/* Stage `label` runs from now on (the same one again changes nothing). */
static void progress_stage(const char *label)
{
    if (strcmp(progress.label, label) == 0)
        return;
    progress_erase();
    snprintf(progress.label, sizeof progress.label, "%s", label);
    progress.since = now_s();
    progress.shown = 0;
    progress.dfs_since = 0;
}

/* Nothing runs any more. */
static void progress_done(void)
{
    progress_erase();
    progress.label[0] = '\0';
    progress.books = NULL;
}

/* ", 1234 schedules, 410/s, up to 3 s left" while the explore stage runs
 * (pct's fixed number of schedules, then dfs for its budget), else "". */
static void explore_counts(char *buf, size_t size, double s)
{
    const cd_books_t *b = progress.books;
    buf[0] = '\0';
    if (!b || b->stage != CD_STAGE_EXPLORE || s <= 0)
        return;
    const cd_exercise_spec_t *spec = b->spec;
    int runs = b->st[CD_STAGE_EXPLORE].runs;
    double rate = runs / s, left;
    double budget = progress.budget_s > 0 ? progress.budget_s
                                          : spec->dfs_budget_s;
    if (runs < spec->pct_runs) {
        left = rate > 0 ? (spec->pct_runs - runs) / rate + budget : -1;
    } else {
        if (progress.dfs_since == 0)
            progress.dfs_since = now_s();
        left = budget - (now_s() - progress.dfs_since);
    }
    int n = snprintf(buf, size, ", %d schedules, %.0f/s", runs, rate);
    if (left >= 0.5 && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, ", up to %.0f s left", left);
}

static void progress_tick(void)
{
    if (progress.tty < 0) {
        progress.tty = isatty(2);
        progress.log = !progress.tty && !isatty(1);
    }
    if (!progress.label[0])
        return;
    double at = now_s() - progress.since;
    int s = (int)at;
    if (progress.tty && s >= 1 && s != progress.shown) {
        char counts[96];
        explore_counts(counts, sizeof counts, at);
        fflush(stdout);
        int n = fprintf(stderr, "\r  %-9s ... %d s%s ", progress.label, s,
                        counts);
        /* Blanks over what a longer line before left. */
        if (n - 1 < progress.width)
            fprintf(stderr, "%*s", progress.width - (n - 1), "");
        fflush(stderr);
        if (n - 1 > progress.width)
            progress.width = n - 1;
        progress.shown = s;
    } else if (progress.log && s / PROGRESS_EVERY_S >
                                   progress.shown / PROGRESS_EVERY_S) {
        printf("  %-9s ... still running after %d s\n", progress.label, s);
        fflush(stdout);
        progress.shown = s;
    }
}

/* cd_spawn_wait's watch for a build: the progress line only. */
static int watch_build(cd_child_t *ch, double elapsed_s, void *arg)
{
    (void)ch;
    (void)elapsed_s;
    (void)arg;
    progress_tick();
    return 0;
}

/* ================================ building =============================== */

/* Takes the lock of the build directory (build/ or build/tsan/): one
 * check builds there at a time, so that two never write the same object,
 * library or program. Returns the lock's fd (closing it lets go), or -1
 * after saying why. */
static int lock_builds(const check_t *c, const char *what, int tsan)
{
    char path[LONG_PATH];
    snprintf(path, sizeof path, "%s/build/%sexercises", c->root,
             tsan ? "tsan/" : "");
    make_dirs(path);
    strncat(path, "/.lock", sizeof path - strlen(path) - 1);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        printf("  %-9s FAIL  cannot open %s: %s\n", what, path,
               strerror(errno));
        return -1;
    }
    /* The holder's builds have limits of their own; this one is a
     * backstop against a check that was stopped (^Z) while building. */
    double deadline = now_s() + LIB_LIMIT_S + c->build_limit_s;
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const char *why = NULL;
        if (errno != EWOULDBLOCK && errno != EINTR)
            why = strerror(errno);
        else if (now_s() > deadline)
            why = "another check kept the build busy until the time limit";
        if (why)
            printf("  %-9s FAIL  cannot lock %s: %s\n", what, path, why);
        if (why || cd_spawn_signalled()) {
            close(fd);
            return -1;
        }
        struct timespec t = { 0, 50 * 1000 * 1000 };
        nanosleep(&t, NULL);
    }
    return fd;
}

/* Runs make TARGET in the sources, its output (stdout and stderr) into
 * out, for at most limit_s. Returns make's wait status or a
 * CD_SPAWN_... code. */
static int run_make(const check_t *c, const char *target, const char *bin,
                    double limit_s, char *out, size_t size)
{
    char src_var[PATH_MAX + 16], bin_var[PATH_MAX + 16], harness_var[96];
    snprintf(src_var, sizeof src_var, "EX_SRC=%s", c->part ? c->full : c->src);
    snprintf(bin_var, sizeof bin_var, "EX_BIN=%s", bin);
    /* The harness the learner's file is linked with: race.c's is race. */
    snprintf(harness_var, sizeof harness_var, "EX_HARNESS=%.*s",
             (int)strcspn(c->file, "."), c->file);
    char *argv[] = { "make", "-s", "--no-print-directory", "-C",
                     (char *)c->root, (char *)target, src_var, harness_var,
                     bin_var, NULL };
    int fds[2];

    /* A compiler needs a few hundred MiB; a file that includes an
     * endless device (/dev/zero) must not take the machine's memory. */
    static const cd_spawn_limits_t limits = { .as = 4 * GiB,
                                              .fsize = 1 * GiB,
                                              .no_core = 1 };

    out[0] = '\0';
    if (cd_spawn_pipe(fds) != 0)
        return CD_SPAWN_FAILED;
    cd_child_t ch = { .in = { { .fd = fds[0], .buf = out, .size = size } },
                      .nin = 1, .watch = watch_build };
    cd_spawn_opts_t o = { .out_fd = fds[1], .err_fd = fds[1],
                          .keep_fd = { -1, -1 }, .limits = &limits };
    int started = cd_spawn(&ch, argv, &o);
    close(fds[1]);
    int status = started == 0 ? cd_spawn_wait(&ch, limit_s)
                              : started == -EINTR ? CD_SPAWN_SIGNALLED
                                                  : CD_SPAWN_FAILED;
    close(fds[0]);
    progress_erase();
    return status;
}

/* Make's own lines ("make: *** [Makefile:80: ...] Error 1") say nothing
 * a learner needs. */
static int make_noise(const char *line, size_t len)
{
    return (len >= 5 && strncmp(line, "make:", 5) == 0) ||
           (len >= 5 && strncmp(line, "make[", 5) == 0);
}

/* Prints the compiler's messages, at most SHOW_LINES of them. */
static void show_compiler(const char *out)
{
    int shown = 0, left = 0;
    for (const char *p = out; *p;) {
        size_t len = strcspn(p, "\n");
        if (!make_noise(p, len)) {
            if (shown < SHOW_LINES)
                printf("    %.*s\n", (int)len, p);
            else
                left++;
            shown++;
        }
        p += len + (p[len] == '\n');
    }
    if (left)
        printf("    ... (%d more lines)\n", left);
}

/* Says why make did not succeed (nothing if the check was signalled).
 * Returns 1 if it did not. */
static int make_failed(const check_t *c, const char *what, const char *whose,
                       int status, double limit_s, const char *out)
{
    if (status == CD_SPAWN_SIGNALLED)
        return 1;
    if (status == CD_SPAWN_FAILED ||
        (WIFEXITED(status) && WEXITSTATUS(status) == 127)) {
        printf("  %-9s FAIL  cannot run make in %s: concdemo check needs "
               "make and a C compiler (apt-get install build-essential)\n",
               what, c->root);
        return 1;
    }
    if (status == CD_SPAWN_TIMEOUT) {
        printf("  %-9s FAIL  the build took longer than %g s and was "
               "stopped\n", what, limit_s);
        return 1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    printf("  %-9s FAIL  %s does not build%s:\n", what, whose,
           strcmp(what, "tsan") == 0 ? " with ThreadSanitizer" : "");
    show_compiler(out);
    char header[LONG_PATH];
    snprintf(header, sizeof header, "%s/lessons/harness/%.*s.h", c->root,
             (int)strcspn(c->file, "."), c->file);
    if (strstr(out, "undefined reference to `") && whose == c->shown &&
        access(header, R_OK) == 0)
        printf("    (your file must define every function that "
               "lessons/harness/%.*s.h lists as yours)\n",
               (int)strcspn(c->file, "."), c->file);
    if (c->part && whose == c->shown)
        printf("    (%s is a part: it was built into lessons/exercises/%s "
               "as %s; --print-full shows that file)\n", c->shown, c->file,
               c->full);
    return 1;
}

/* The first #include in text that names a path of its own choosing - an
 * absolute one ("/dev/stdin") or one that climbs out (".."), into buf.
 * Returns 1 if there is one. What the compiler reads from there could be
 * a device that never ends, or a file of someone else's shown in the
 * error messages. (A path made by a macro gets past this: the build's
 * stdin, limits and time limit are the defence there.) */
static int outside_include(const char *text, char *buf, size_t size)
{
    static const char *const words[] = { "include_next", "include",
                                         "import" };
    for (const char *p = text; *p;) {
        const char *q = p + strspn(p, " \t");
        size_t len = strcspn(q, "\n");
        if (*q == '#') {
            q += 1 + strspn(q + 1, " \t");
            for (size_t w = 0; w < 3; w++) {
                size_t k = strlen(words[w]);
                if (strncmp(q, words[w], k) != 0)
                    continue;
                const char *name = q + k + strspn(q + k, " \t");
                size_t n = strcspn(name, "\n");
                if ((*name == '"' || *name == '<') &&
                    (name[1] == '/' || strncmp(name + 1, "../", 3) == 0 ||
                     memmem(name, n, "/../", 4))) {
                    snprintf(buf, size, "%.*s", (int)n, name);
                    return 1;
                }
                break;
            }
        }
        p = q + len + (q[len] == '\n');
    }
    return 0;
}

/* Refuses a file that includes a path of its own (outside_include).
 * Returns 0, or 1 after saying why. */
static int check_includes(const check_t *c, const char *what)
{
    char path[LONG_PATH + 16], name[256];
    snprintf(path, sizeof path, "%s/%s", c->root, c->part ? c->full : c->src);
    char *text = cd_grade_read_file(c->part ? path : c->abs);
    int bad = text && outside_include(text, name, sizeof name);
    free(text);
    if (bad)
        printf("  %-9s FAIL  your file includes %s: an exercise includes the "
               "project's headers and the system's by name, not a file by a "
               "path of its own\n", what, name);
    return bad;
}

/* Copies the program just built (from) to this check's own path (to). */
static int copy_program(const char *from, const char *to)
{
    /* A hard link costs nothing, where a copy writes 14 MiB (make
     * replaces a rebuilt program by a rename, never in place: the link
     * keeps the program this check built). A copy when there is no link:
     * another file system, or one without hard links. */
    unlink(to);
    if (link(from, to) == 0)
        return 0;
    char buf[1 << 16];
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = in < 0 ? -1 : open(to, O_WRONLY | O_CREAT | O_TRUNC |
                                         O_CLOEXEC, 0755);
    int rc = in < 0 || out < 0 ? -1 : 0;
    for (ssize_t got; rc == 0 && (got = read(in, buf, sizeof buf)) != 0;) {
        if (got < 0 && errno == EINTR)
            continue;
        for (ssize_t put = 0, w; rc == 0 && got > 0 && put < got; put += w)
            if ((w = write(out, buf + put, (size_t)(got - put))) < 0)
                rc = -1;
        if (got < 0)
            rc = -1;
    }
    int err = errno;
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0)
        rc = -1;
    errno = err;
    return rc;
}

/* Builds and copies, holding the lock (see build()). */
static int build_locked(const check_t *c, int tsan, int quiet, char *out,
                        size_t size)
{
    const char *what = tsan ? "tsan" : "build";
    const char *bin = tsan ? c->tsan_bin : c->bin;
    char lib[LONG_PATH], path[LONG_PATH + 8];

    progress_stage(what);
    /* The first check builds the library too: say why it takes a while. */
    snprintf(lib, sizeof lib, "%s/build/%slib/cd_op.o", c->root,
             tsan ? "tsan/" : "");
    if (access(lib, R_OK) != 0) {
        printf("  %-9s ...   building the %slibrary first (once; a minute "
               "or two)\n", what, tsan ? "ThreadSanitizer " : "");
        fflush(stdout);
    }
    /* The library alone first, with a limit of its own: the learner's
     * file gets a short one, and a library that is merely out of date
     * must not eat it. */
    int status = run_make(c, tsan ? "exercise-lib-tsan" : "exercise-lib",
                          bin, LIB_LIMIT_S, out, size);
    if (make_failed(c, what, "the concdemo library", status, LIB_LIMIT_S,
                    out))
        return EXIT_USAGE;
    if (check_includes(c, what))
        return EXIT_USAGE;
    status = run_make(c, tsan ? "exercise-tsan" : "exercise", bin,
                      c->build_limit_s, out, size);
    if (status == CD_SPAWN_TIMEOUT || status == CD_SPAWN_SIGNALLED) {
        /* Whatever the stopped compiler left is no build of the file (and
         * a half-written .d would break every make: they are included). */
        const char *ext[] = { "", ".o", ".d", ".new" };
        for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
            snprintf(path, sizeof path, "%s/%s%s", c->root, bin, ext[i]);
            unlink(path);
        }
    }
    if (make_failed(c, what, c->shown, status, c->build_limit_s, out))
        return EXIT_USAGE;
    snprintf(path, sizeof path, "%s/%s", c->root, bin);
    if (copy_program(path, tsan ? c->tsan_prog : c->prog) != 0) {
        printf("  %-9s FAIL  cannot copy %s to %s: %s\n", what, path, c->own,
               strerror(errno));
        return EXIT_USAGE;
    }
    if (!quiet && !tsan) {
        printf("  %-9s ok    %s\n", what, c->bin);
        if (out[0]) {
            printf("%*swith warnings (worth fixing):\n", 18, "");
            show_compiler(out);
        }
    }
    return 0;
}

/* Builds the program (plain or TSan) and copies it into this check's
 * directory: another check may rebuild the shared one while this one
 * runs its copy. Returns 0, or prints why not and returns EXIT_USAGE. */
static int build(const check_t *c, int tsan, int quiet)
{
    static char out[MAKE_OUT_MAX];
    int lock = lock_builds(c, tsan ? "tsan" : "build", tsan);
    if (lock < 0)
        return EXIT_USAGE;
    int rc = build_locked(c, tsan, quiet, out, sizeof out);
    close(lock);
    progress_done();
    return rc;
}

/* "crashed (signal 11: Segmentation fault)" or "hung" for a program that
 * did not end as it should; limit_s is the time limit it had. */
static void describe_end(int status, double limit_s, char *buf, size_t size)
{
    if (status == CD_SPAWN_TIMEOUT)
        snprintf(buf, size, "did not finish within its time limit of %g s "
                 "(a hang the run's watchdog could not end?)", limit_s);
    else if (status < 0)
        snprintf(buf, size, "could not be started");
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "%s (signal %d: %s)",
                 WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM ||
                 WTERMSIG(status) == SIGHUP ? "was stopped" : "crashed",
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(buf, size, "ended with exit code %d", WEXITSTATUS(status));
}

/* ============================ a sandboxed run ============================ */

/* One run of the learner's program in the sandbox (sandbox.h). */
typedef struct run {
    const char *label;     /* the progress line's stage until one is told */
    int out_fd, err_fd;    /* its stdout and stderr (-1: ours) ... */
    int pass_output;       /* ... or its stdout passed on through here */
    const char *env;       /* one more "NAME=VALUE", or NULL */
    int interactive;       /* it may read our terminal */
    unsigned long long memory, address_space; /* 0: no limit */
    double limit_s;
    int results;           /* it writes result records (--result-fd) */
    char fd_arg[16];       /* the --result-fd argument, filled here */
    /* What came of it. */
    cd_books_t *books;     /* the result pipe, as read (results only) */
    cd_sandbox_t sb;       /* the channel, and what was said on it */
    cd_sandbox_report_t said;
    int status;            /* wait status or CD_SPAWN_ code */
    double start_limit_s;  /* to start: reach main, then the first stage */
    int late;              /* stopped: not started within start_limit_s */
    int started;
    size_t passed;         /* bytes of its stdout passed on */
    int mid_line;          /* the last of them was no newline */
} run_t;

/* The result pipe as it comes, into the run's books. */
static void pass_records(void *arg, const char *data, size_t n)
{
    run_t *r = arg;
    cd_books_feed(r->books, data, n);
}

/* Whether any record came whole (the program's harness is running). */
static int any_record(const cd_books_t *b)
{
    if (b->ended || b->refused || b->fault[0] || b->stage || b->tsan_run)
        return 1;
    for (int s = CD_STAGE_FREE; s <= CD_STAGES; s++)
        if (b->st[s].begun)
            return 1;
    return 0;
}

/* The program's stdout, passed on as it comes (at most OUTPUT_MAX). */
static void pass_output(void *arg, const char *data, size_t n)
{
    run_t *r = arg;
    size_t room = r->passed < OUTPUT_MAX ? OUTPUT_MAX - r->passed : 0;
    size_t put = n < room ? n : room;
    if (put == 0) {
        r->passed += n > 0;
        return;
    }
    progress_erase();
    fwrite(data, 1, put, stdout);
    fflush(stdout);
    r->passed += put;
    r->mid_line = data[put - 1] != '\n';
}

/* The seconds of a start that count against the start limit: the wall
 * time less what the program's processes spent waiting for a CPU, so that
 * a busy machine does not fail a program that starts at once. At most
 * three quarters are left out: a start that never gets a CPU still ends,
 * at four times the limit. A constructor that sleeps waits for no CPU:
 * all of its time counts. */
static double start_time_s(cd_child_t *ch, double elapsed_s)
{
    double queued = cd_spawn_queued_s(ch);
    if (queued > 0.75 * elapsed_s)
        queued = 0.75 * elapsed_s;
    return elapsed_s - queued;
}

/* cd_spawn_wait's watch for a run: the progress line, following the
 * stages the program announces; and the limit on its start. */
static int watch_run(cd_child_t *ch, double elapsed_s, void *arg)
{
    run_t *r = arg;
    const char *stage = r->results ? cd_books_running(r->books) : NULL;
    if (stage)
        progress_stage(stage);
    progress.books = r->results ? r->books : NULL;
    progress_tick();
    if (r->started)
        return 0;
    /* Started: it reached main (the sandbox says so before main runs),
     * and, when it writes records, the first one came - a record the
     * learner's code cannot forge, as it could the "main". */
    cd_sandbox_report(&r->sb, &r->said);
    r->started = r->said.reached_main &&
                 (!r->results || any_record(r->books));
    if (!r->started && elapsed_s >= r->start_limit_s &&
        start_time_s(ch, elapsed_s) >= r->start_limit_s) {
        r->late = 1;
        return 1;
    }
    return 0;
}

/* Runs argv (one of whose words is r->fd_arg when r->results) as r says.
 * Fills r's results. */
static void run_program(run_t *r, char *argv[])
{
    int res[2] = { -1, -1 }, out[2] = { -1, -1 };
    const cd_spawn_limits_t limits = { .as = r->address_space,
                                       .fsize = 64 * MiB, .nofile = 512,
                                       .no_core = 1 };
    r->status = CD_SPAWN_FAILED;
    r->late = r->started = 0;
    r->passed = 0;
    r->mid_line = 0;
    memset(&r->said, 0, sizeof r->said);
    /* Tests turn the filter off to see what holds without it. */
    const char *filter = getenv("CONCDEMO_SANDBOX_FILTER");
    if (cd_sandbox_open(&r->sb, r->memory ? r->memory : RUN_MEMORY,
                        !filter || strcmp(filter, "off") != 0) != 0)
        return;
    if ((r->results && cd_spawn_pipe(res) != 0) ||
        (r->pass_output && cd_spawn_pipe(out) != 0)) {
        cd_sandbox_close(&r->sb);
        return;
    }
    snprintf(r->fd_arg, sizeof r->fd_arg, "%d", res[1]);

    cd_child_t ch = { .watch = watch_run, .arg = r, .kill_at_once = 1,
                      .rss_limit = r->memory };
    ch.in[ch.nin++] = (cd_spawn_input_t){ .fd = r->sb.fds[0],
                                          .buf = r->sb.said,
                                          .size = sizeof r->sb.said };
    if (r->results)
        ch.in[ch.nin++] = (cd_spawn_input_t){ .fd = res[0],
                                              .pass = pass_records };
    if (r->pass_output)
        ch.in[ch.nin++] = (cd_spawn_input_t){ .fd = out[0],
                                              .pass = pass_output };
    cd_spawn_opts_t o = { .out_fd = r->pass_output ? out[1] : r->out_fd,
                          .err_fd = r->err_fd,
                          .keep_fd = { r->sb.fds[1], res[1] },
                          .env = { r->sb.env, r->env },
                          .interactive = r->interactive,
                          .limits = &limits };
    progress_stage(r->label);
    int started = cd_spawn(&ch, argv, &o);
    /* The program holds the only write ends. */
    close(r->sb.fds[1]);
    r->sb.fds[1] = -1;
    if (res[1] >= 0)
        close(res[1]);
    if (out[1] >= 0)
        close(out[1]);
    r->status = started == 0 ? cd_spawn_wait(&ch, r->limit_s)
                             : started == -EINTR ? CD_SPAWN_SIGNALLED
                                                 : CD_SPAWN_FAILED;
    progress_done();
    if (r->mid_line)
        putchar('\n');
    if (r->passed > OUTPUT_MAX)
        printf("%*s(the program's output was cut at %d KiB)\n", 18, "",
               OUTPUT_MAX / 1024);
    if (res[0] >= 0)
        close(res[0]);
    if (out[0] >= 0)
        close(out[0]);
    cd_sandbox_report(&r->sb, &r->said);
    cd_sandbox_close(&r->sb);
}

/* Why the sandbox stopped the run, into buf; 0 if it did not. */
static int sandbox_stop(const run_t *r, char *buf, size_t size)
{
    if (r->said.denied[0]) {
        cd_sandbox_explain(&r->said, buf, size);
    } else if (r->status == CD_SPAWN_MEMORY) {
        snprintf(buf, size, "your code used more than %llu MiB of memory, "
                 "the most a run may use: stopped", r->memory / MiB);
    } else if (r->late && !r->said.reached_main) {
        snprintf(buf, size, "code of yours that runs before main (a "
                 "constructor?) did not finish within %g s: stopped",
                 r->start_limit_s);
    } else if (r->late) {
        snprintf(buf, size, "the exercise's program did not start its "
                 "first stage within %g s: stopped", r->start_limit_s);
    } else if (r->status >= 0 && WIFSIGNALED(r->status) &&
               WTERMSIG(r->status) == SIGSYS) {
        snprintf(buf, size, "the sandbox stopped your code (SIGSYS): it made "
                 "a system call an exercise may not make");
    } else {
        return 0;
    }
    return 1;
}

/* Once per check: a sandbox without its seccomp filter is weaker, and
 * the learner (or the teacher) should know. */
static void sandbox_note(const run_t *r)
{
    static int told;
    if (r->said.filter == 0 && !told++)
        printf("  %-9s -     no seccomp filter: %s\n", "sandbox",
               r->said.filter_why);
}

/* ================================ the stages ============================= */

/* The grader's part. The exercise's program says which stage runs and
 * whether it passed; the books (cli/books.c) hold what its harness's
 * services did in every run. A stage the program failed is failed; one
 * it passed counts only when the books bear it out. */

static void add_name(char *list, size_t size, const char *name)
{
    size_t n = strlen(name), len = strlen(list);
    for (const char *p = strstr(list, name); p; p = strstr(p + 1, name))
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
            return;
    snprintf(list + len, size - len, "%s%s", len ? " " : "", name);
}

/* The stages every check of spec's exercise makes. */
static int stage_expected(const cd_exercise_spec_t *spec, int stage)
{
    return stage != CD_STAGE_PARALLEL || spec->overlap;
}

/* The checker's own reading of the file: the program's timing stage is
 * its word; this is the checker's. Returns 1 if it finds no wait. */
static int timing_holds(const check_t *c, char *why, size_t size)
{
    cd_wait_finding_t f[CD_GRADE_MAX_FINDINGS];
    int n = cd_grade_scan_waits(c->spec, c->abs, f, CD_GRADE_MAX_FINDINGS);
    if (n == 0)
        return 1;
    if (n < 0)
        snprintf(why, size, "cannot read the file: %s", strerror(-n));
    else
        snprintf(why, size, "the file waits on purpose: line %d %s",
                 f[0].line, f[0].what);
    return 0;
}

/* Holds every stage the program passed against the books; prints a FAIL
 * line for each that they do not bear out and adds it to failed. */
static void confirm_stages(const check_t *c, const cd_books_t *b,
                           char *failed, size_t size)
{
    char why[CD_TEXT_MAX + 160];
    for (int stage = CD_STAGE_FREE; stage <= CD_STAGES; stage++) {
        const char *name = cd_stage_name(stage);
        const cd_stage_books_t *st = &b->st[stage];
        if (!stage_expected(c->spec, stage) || (st->ended && !st->passed))
            continue;
        /* After a failure the program skips the parallel stage, and
         * stops at a stage whose threads it could not stop: failed
         * already, it need not have run the rest. */
        if (!st->begun && failed[0])
            continue;
        int ok = cd_books_confirm(b, stage, why, sizeof why);
        if (ok && stage == CD_STAGE_TIMING)
            ok = timing_holds(c, why, sizeof why);
        if (ok)
            continue;
        printf("  %-9s FAIL  the checker's books: %s\n", name, why);
        add_name(failed, size, name);
    }
}

/* The verdict counts when it is complete, the exit code agrees with it
 * and the books bear out what it passed; anything else is a failure of
 * its own. Returns 0, 1 or 2 as run_stages. */
static int judge_stages(const check_t *c, const run_t *r, char *failed,
                        size_t size)
{
    const cd_books_t *b = r->books;
    int status = r->status;
    int code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    const char *running = cd_books_running(b);
    const char *stage = running ? running : "run";
    char end[160], why[256];

    snprintf(failed, size, "%s", b->failed);
    sandbox_note(r);
    if (b->refused && code == 2)
        return EXIT_USAGE; /* it said why, on stderr */
    if (sandbox_stop(r, why, sizeof why)) {
        printf("  %-9s FAIL  %s\n", r->late ? "run" : stage, why);
        add_name(failed, size, r->late ? "run" : stage);
        return 1;
    }
    if (b->fault[0]) {
        printf("  %-9s FAIL  the exercise's program sent records out of "
               "place (%s): not the checker's program\n", "run", b->fault);
        add_name(failed, size, "run");
        return 1;
    }
    if (b->ended && code == (failed[0] ? 1 : 0)) {
        confirm_stages(c, b, failed, size);
        return failed[0] ? 1 : 0;
    }
    describe_end(status, r->limit_s, end, sizeof end);
    if (!b->ended && running && status >= 0 && WIFSIGNALED(status)) {
        /* A crash in a stage: its handler printed the stage's FAIL line. */
        add_name(failed, size, running);
        printf("%*sthe exercise's program %s%s\n", 18, "", end,
               c->no_tsan ? "" : "; the tsan stage below shows where");
        return 1;
    }
    if (status == CD_SPAWN_TIMEOUT || status == CD_SPAWN_FAILED)
        printf("  %-9s FAIL  the exercise's program %s\n", "run", end);
    else if (b->ended)
        printf("  %-9s FAIL  the exercise's program %s after its verdict\n",
               "run", end);
    else
        printf("  %-9s FAIL  the exercise's program %s before its verdict%s"
               "%s%s\n", "run", end, running ? " (in stage " : "",
               running ? running : "", running ? ")" : "");
    add_name(failed, size, "run");
    return 1;
}

/* Runs the stages of the exercise's program; fills failed with the names
 * of the stages that failed, and *late with whether it never started
 * them. Returns 0 all passed, 1 some failed, 2 the program refused the
 * file. */
static int run_stages(const check_t *c, char *failed, size_t size, int *late)
{
    static run_t r; /* large: off the stack */
    static cd_books_t books;
    char sched[LONG_PATH];

    failed[0] = '\0';
    cd_books_init(&books, c->spec);
    progress.budget_s = c->budget_s;
    schedule_dir(c, sched, sizeof sched);
    r = (run_t){ .label = "run", .out_fd = -1, .err_fd = -1,
                 .pass_output = 1, .memory = c->memory,
                 .address_space = RUN_ADDRESS_SPACE,
                 /* A longer exploration asked for is no hang. */
                 .limit_s = HOST_LIMIT_S + c->budget_s, .results = 1,
                 .start_limit_s = c->start_limit_s, .books = &books };
    char *argv[20] = { (char *)c->prog, "check", (char *)c->spec->name,
                       "--cmd", (char *)c->cmd, "--source", (char *)c->shown,
                       "--result-fd", r.fd_arg, "--schedule-dir", sched };
    int n = 11;
    if (c->budget) {
        argv[n++] = "--budget";
        argv[n++] = (char *)c->budget;
    }
    argv[n] = NULL;
    run_program(&r, argv);
    *late = r.late;
    int rc = 1;
    if (r.status != CD_SPAWN_SIGNALLED && !cd_spawn_signalled())
        rc = judge_stages(c, &r, failed, size);
    cd_books_free(&books);
    return rc;
}

/* One frame of a TSan stack, "#1 checkout lessons/exercises/race.c:77
 * (race+0x593d)", as "checkout lessons/exercises/race.c:77". */
static void frame_text(const char *hash, char *buf, size_t size)
{
    const char *f = hash + 1;
    while (*f >= '0' && *f <= '9')
        f++;
    f += *f == ' ';
    size_t len = strcspn(f, "\n");
    const char *paren = memchr(f, '(', len);
    if (paren && paren > f)
        len = (size_t)(paren - f - 1);
    snprintf(buf, size, "%.*s", (int)len, f);
}

/* The access described at `at` (" of size 4 at 0x.. by thread T2:" and
 * its stack): "write in checkout lessons/exercises/race.c:80", or "read
 * (earlier) in ..." for TSan's "Previous read". */
static void access_frame(const char *log, const char *at, char *buf,
                         size_t size)
{
    const char *line = at;
    while (line > log && line[-1] != '\n')
        line--;
    line += strspn(line, " ");
    int previous = strncmp(line, "Previous ", 9) == 0;
    if (previous)
        line += 9;
    size_t kind = strcspn(line, " ");
    const char *f = strstr(at, "#0 ");
    char frame[256] = "?";
    if (f)
        frame_text(f, frame, sizeof frame);
    snprintf(buf, size, "%c%.*s%s in %s", line[0] | 0x20, (int)kind - 1,
             line + 1, previous ? " (earlier)" : "", frame);
}

/* Summarises TSan's first report in log: its kind and the two accesses. */
static void summarise_tsan(const char *log, int *reports, char *kind,
                           size_t ksize, char *first, char *second,
                           size_t fsize)
{
    const char *w = strstr(log, "WARNING: ThreadSanitizer: ");
    *reports = 0;
    kind[0] = first[0] = second[0] = '\0';
    for (const char *p = w; p; p = strstr(p + 1, "WARNING: ThreadSanitizer: "))
        (*reports)++;
    if (!w)
        return;
    w += strlen("WARNING: ThreadSanitizer: ");
    size_t len = strcspn(w, "\n");
    const char *pid = strstr(w, " (pid=");
    if (pid && pid < w + len)
        len = (size_t)(pid - w);
    snprintf(kind, ksize, "%.*s", (int)len, w);
    const char *a = strstr(w, " of size ");
    if (a)
        access_frame(log, a, first, fsize);
    const char *b = a ? strstr(a + 1, " of size ") : NULL;
    const char *next = strstr(w, "WARNING: ThreadSanitizer: ");
    if (b && (!next || b < next))
        access_frame(log, b, second, fsize);
}

/* A crash TSan caught ("ERROR: ThreadSanitizer: SEGV on unknown
 * address"): what it was, where, and the first frame in the learner's
 * file. Returns 1 if log holds one. */
static int summarise_crash(const char *log, const char *file, char *kind,
                           size_t ksize, char *top, char *yours,
                           size_t fsize)
{
    const char *e = strstr(log, "ERROR: ThreadSanitizer: ");
    kind[0] = top[0] = yours[0] = '\0';
    if (!e)
        return 0;
    e += strlen("ERROR: ThreadSanitizer: ");
    snprintf(kind, ksize, "%.*s", (int)strcspn(e, " \n"), e);
    const char *f0 = strstr(e, "#0 ");
    if (f0)
        frame_text(f0, top, fsize);
    /* Frame lines: "    #1 checkout lessons/exercises/race.c:77 (...)". */
    for (const char *f = strstr(e, "    #"); f; f = strstr(f, "\n    #")) {
        f += f[0] == '\n';
        size_t len = strcspn(f, "\n");
        const char *in = strstr(f, file);
        if (in && in < f + len) {
            frame_text(f + strspn(f, " "), yours, fsize);
            break;
        }
        f += len;
    }
    return 1;
}


/* Runs this check's copy of the TSan program, its stderr into the log;
 * the result in r. */
static void run_tsan(const check_t *c, run_t *r, cd_books_t *books)
{
    int err = open(c->tsan_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                   0644);
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    *r = (run_t){ .label = "tsan", .out_fd = null, .err_fd = err,
                  .env = "TSAN_OPTIONS=halt_on_error=0 exitcode=66",
                  .memory = c->memory, .limit_s = TSAN_LIMIT_S,
                  .start_limit_s = c->start_limit_s, .results = 1,
                  .books = books,
                  .status = CD_SPAWN_FAILED };
    char *argv[] = { (char *)c->tsan_prog, "tsan", (char *)c->spec->name,
                     "--result-fd", r->fd_arg, NULL };
    if (err >= 0 && null >= 0)
        run_program(r, argv);
    if (err >= 0)
        close(err);
    if (null >= 0)
        close(null);
}

/* Prints lead then text under a stage's line, from column 18, wrapped at
 * spaces before column 78. */
static void print_wrapped(const char *lead, const char *text)
{
    int col = printf("%*s%s", 18, "", lead);
    for (int first = 1; *text; first = 0) {
        int word = (int)strcspn(text, " ");
        if (!first && col + 1 + word > 78)
            col = printf("\n%*s", 18, "") - 1;
        else if (!first)
            col += printf(" ");
        col += printf("%.*s", word, text);
        text += word;
        text += strspn(text, " ");
    }
    printf("\n");
}

/* Prints the TSan stage's verdict from its log and how the run ended;
 * report is where the log is kept. Returns 1 if it passed. */
static int judge_tsan(const check_t *c, const char *text, const run_t *r,
                      const char *failed_before, const char *report)
{
    char kind[96], first[256], second[256], end[160], why[256];
    int reports, status = r->status;
    int ended = r->books->ended;

    sandbox_note(r);
    if (sandbox_stop(r, why, sizeof why)) {
        printf("  %-9s FAIL  %s\n", "tsan", why);
        return 0;
    }
    summarise_tsan(text, &reports, kind, sizeof kind, first, second,
                   sizeof first);
    if (reports == 0 && status >= 0 && WIFEXITED(status) &&
        WEXITSTATUS(status) == 0 && ended) {
        printf("  %-9s PASS  no report in a free run\n", "tsan");
        return 1;
    }
    if (reports == 0 && summarise_crash(text, c->src, kind, sizeof kind,
                                        first, second, sizeof first)) {
        printf("  %-9s FAIL  the program crashed (%s) in %s\n", "tsan", kind,
               first);
        if (second[0] && strcmp(first, second) != 0)
            printf("%*scalled from your code: %s\n", 18, "", second);
    } else if (reports == 0) {
        /* No report, and no run either: a program that left early is no
         * pass. */
        describe_end(status, r->limit_s, end, sizeof end);
        printf("  %-9s FAIL  the ThreadSanitizer run %s%s\n", "tsan", end,
               ended ? "" : " before its verdict");
    } else {
        printf("  %-9s FAIL  ThreadSanitizer: %s (%d report%s)\n", "tsan",
               kind, reports, reports == 1 ? "" : "s");
        if (first[0])
            printf("%*s%s\n", 18, "", first);
        if (second[0])
            printf("%*s%s, in another thread\n", 18, "", second);
        if (strstr(kind, "data race") && !failed_before[0] &&
            c->spec->race_why)
            print_wrapped("why: ", c->spec->race_why);
        else if (strstr(kind, "data race") && !failed_before[0])
            printf("%*swhy: the runs held, but two threads touch the same "
                   "memory with\n%*snothing ordering them: the window is "
                   "smaller, not closed\n", 18, "", 18, "");
    }
    printf("%*sfull report: %s\n", 18, "", report);
    return 0;
}

/* The TSan stage: one free run of the TSan build. Returns 1 if it passed,
 * 0 if it failed, -1 if the file did not build. */
static int stage_tsan(const check_t *c, const char *failed_before)
{
    static run_t r; /* large: off the stack */
    static cd_books_t books;
    char report[LONG_PATH + 16];

    if (build(c, 1, 1) != 0)
        return -1;
    cd_books_init(&books, c->spec);
    run_tsan(c, &r, &books);
    cd_books_free(&books); /* (what judge_tsan reads, ended, stays) */
    if (r.status == CD_SPAWN_SIGNALLED || cd_spawn_signalled())
        return 0;
    char *text = cd_grade_read_file(c->tsan_log);
    /* The log moves next to the TSan program's build, where it stays; a
     * rename, so a check running alongside never sees half of it. */
    snprintf(report, sizeof report, "%s/%s.tsan.log", c->root, c->tsan_bin);
    if (rename(c->tsan_log, report) != 0)
        snprintf(report, sizeof report, "%s", c->tsan_log);
    int ok = judge_tsan(c, text ? text : "", &r, failed_before, report);
    free(text);
    return ok;
}

/* ========================= an exercise of processes ====================== */

/* db-race: its checkouts are instances of a service, processes that share
 * a database. The checker makes the database (cli/exdb.h), starts the
 * instances as copies of the learner's program in one sandboxed group
 * (cd_spawn_opts_t.copies: the program itself may start no process), lets
 * them go together once every one is connected, and judges the database
 * when they have ended. What an instance says on its channel ("K ready
 * PID", "K fail ORDER WHY", "K error WHY") starts the run and explains a
 * failure; it decides nothing. */

#define FLEET_LIMIT_S 60 /* a run takes a fraction of a second */

typedef struct fleet {
    int n;               /* instances */
    int ready, gone;     /* how many said ready; the start was given */
    int chan;            /* the checker's end of the instances' channel */
    char said[16384];    /* what they said on it */
    int late, broken;    /* not all ready in time; one could not start */
    run_t *run;          /* where their stdout is counted, passed on */
} fleet_t;

/* The instances' stdout, passed on as any exercise's (at most
 * OUTPUT_MAX). */
static void fleet_output(void *arg, const char *data, size_t n)
{
    fleet_t *f = arg;
    if (data)
        pass_output(f->run, data, n);
}

/* cd_spawn_wait's watch: counts the instances that are ready, lets them
 * go together, and stops a start that fails or never comes. */
static int watch_fleet(cd_child_t *ch, double elapsed_s, void *arg)
{
    fleet_t *f = arg;
    progress_tick();
    if (f->gone)
        return 0;
    int ready = 0;
    for (const char *l = f->said; *l;) {
        size_t len = strcspn(l, "\n");
        int k;
        char word[8];
        if (sscanf(l, "%d %7s", &k, word) == 2) {
            ready += strcmp(word, "ready") == 0;
            f->broken |= strcmp(word, "error") == 0;
        }
        l += len + (l[len] != 0);
    }
    f->ready = ready;
    if (f->broken)
        return 1;
    if (ready >= f->n) {
        shutdown(f->chan, SHUT_WR); /* EOF: go */
        f->gone = 1;
        return 0;
    }
    if (elapsed_s >= f->run->start_limit_s &&
        start_time_s(ch, elapsed_s) >= f->run->start_limit_s) {
        f->late = 1;
        return 1;
    }
    return 0;
}

/* The first line the instances said that starts with word, after its
 * instance number, into buf (without the number and word). 0: none. */
static int fleet_line(const fleet_t *f, const char *word, char *buf,
                      size_t size)
{
    for (const char *l = f->said; *l;) {
        size_t len = strcspn(l, "\n");
        int k, at = 0;
        char w[8];
        if (sscanf(l, "%d %7s %n", &k, w, &at) >= 2 && at > 0 &&
            strcmp(w, word) == 0 && (size_t)at <= len) {
            snprintf(buf, size, "instance %d: %.*s", k + 1,
                     (int)(len - (size_t)at), l + at);
            return 1;
        }
        l += len + (l[len] != 0);
    }
    return 0;
}

/* A stage's line, "  instances FAIL  text", wrapped as the program's. */
static void say_stage(const char *stage, const char *mark, const char *text)
{
    int col = printf("  %-9s %-4s ", stage, mark);
    for (int first = 1; *text; first = 0) {
        int word = (int)strcspn(text, " ");
        if (!first && col + 1 + word > 78)
            col = printf("\n%*s", 18, "") - 1;
        else
            col += printf(" ");
        col += printf("%.*s", word, text);
        text += word;
        text += strspn(text, " ");
    }
    printf("\n");
}

/* What the databases hold, judged: 1 held, else 0 with why. */
static int fleet_held(const cd_exdb_result_t *d, int norders,
                      const fleet_t *f, char *why, size_t size)
{
    char failed[400] = "";
    if (fleet_line(f, "fail", failed + 2, sizeof failed - 4)) {
        failed[0] = ' ', failed[1] = '(';
        strcat(failed, ")");
    }
    if (d->orders != norders)
        snprintf(why, size, "the shop's table holds %d of the %d orders: "
                 "a checkout must not delete them", d->orders, norders);
    else if (d->twice)
        snprintf(why, size, "order %d charged %d times, %d of %d orders "
                 "charged more than once (counted in the bank's database): "
                 "both instances that got an order went on to the gateway. "
                 "A lock in one process's memory does not reach the others, "
                 "a plain BEGIN takes no lock until its first write, and a "
                 "check is no claim unless the statement that claims says "
                 "it won: an UPDATE ... WHERE status = 'pending' whose "
                 "changed rows you read, or BEGIN IMMEDIATE",
                 d->first_twice, d->first_times, d->twice, norders);
    else if (d->stray)
        snprintf(why, size, "%ld charges of orders that do not exist",
                 d->stray);
    else if (d->never && failed[0])
        snprintf(why, size, "order %d never charged, %d of %d orders: a "
                 "checkout failed%s - a transaction that reads, then "
                 "writes, is refused when another instance wrote first: "
                 "take the write lock first (BEGIN IMMEDIATE), or retry "
                 "the whole transaction", d->first_never, d->never, norders,
                 failed);
    else if (d->never)
        snprintf(why, size, "order %d never charged, %d of %d orders: no "
                 "checkout called the gateway for it", d->first_never,
                 d->never, norders);
    else if (d->unpaid)
        snprintf(why, size, "order %d charged but not 'paid', %d of %d "
                 "orders%s", d->first_unpaid, d->unpaid, norders, failed);
    else
        return 1;
    return 0;
}

/* One run of size p: the database made, the instances run, the database
 * judged. Returns 1 held, 0 failed (why says it), -1 the checker could
 * not make its database (why says it). */
static int fleet_run(const check_t *c, const cd_params_t *p, char *why,
                     size_t size)
{
    static fleet_t f;
    static run_t r; /* for the sandbox's words on how it ended */
    int chan[2], out[2];
    char err[512], fd_arg[16], orders[16], copies[16], end[160];
    cd_exdb_result_t d;

    if (cd_exdb_make(c->own, p->iterations, p->instances, err,
                     sizeof err) != 0) {
        snprintf(why, size, "could not make the run's database: %s", err);
        return -1;
    }
    memset(&f, 0, sizeof f);
    r = (run_t){ .memory = c->memory, .limit_s = FLEET_LIMIT_S,
                 .start_limit_s = c->start_limit_s };
    f.n = p->instances;
    f.run = &r;
    const char *filter = getenv("CONCDEMO_SANDBOX_FILTER");
    if (cd_spawn_pipe(out) != 0) {
        snprintf(why, size, "could not open a pipe: %s", strerror(errno));
        return -1;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, chan) != 0 ||
        cd_sandbox_open(&r.sb, c->memory,
                        !filter || strcmp(filter, "off") != 0) != 0) {
        snprintf(why, size, "could not open the instances' channel: %s",
                 strerror(errno));
        close(out[0]);
        close(out[1]);
        return -1;
    }
    fcntl(chan[0], F_SETFL, fcntl(chan[0], F_GETFL) | O_NONBLOCK);
    f.chan = chan[0];
    snprintf(fd_arg, sizeof fd_arg, "%d", chan[1]);
    snprintf(orders, sizeof orders, "%d", p->iterations);
    snprintf(copies, sizeof copies, "%d", p->instances);
    char *argv[] = { (char *)c->prog, "instance", (char *)c->spec->name,
                     fd_arg, (char *)c->own, orders, copies, NULL };
    const cd_spawn_limits_t limits = { .as = RUN_ADDRESS_SPACE,
                                       .fsize = 64 * MiB, .nofile = 512,
                                       .no_core = 1 };
    cd_child_t ch = { .watch = watch_fleet, .arg = &f, .kill_at_once = 1,
                      .rss_limit = c->memory };
    ch.in[ch.nin++] = (cd_spawn_input_t){ .fd = r.sb.fds[0],
                                          .buf = r.sb.said,
                                          .size = sizeof r.sb.said };
    ch.in[ch.nin++] = (cd_spawn_input_t){ .fd = chan[0], .buf = f.said,
                                          .size = sizeof f.said };
    ch.in[ch.nin++] = (cd_spawn_input_t){ .fd = out[0],
                                          .pass = fleet_output };
    cd_spawn_opts_t o = { .out_fd = out[1], .err_fd = -1,
                          .keep_fd = { r.sb.fds[1], chan[1] },
                          .env = { r.sb.env, NULL }, .limits = &limits,
                          .copies = p->instances };
    int started = cd_spawn(&ch, argv, &o);
    close(r.sb.fds[1]);
    r.sb.fds[1] = -1;
    close(chan[1]);
    close(out[1]);
    r.status = started == 0 ? cd_spawn_wait(&ch, FLEET_LIMIT_S)
                            : started == -EINTR ? CD_SPAWN_SIGNALLED
                                                : CD_SPAWN_FAILED;
    close(chan[0]);
    close(out[0]);
    if (r.mid_line)
        putchar('\n');
    cd_sandbox_report(&r.sb, &r.said);
    cd_sandbox_close(&r.sb);
    sandbox_note(&r);
    r.late = f.late;
    int held = 0;
    if (r.status == CD_SPAWN_SIGNALLED || cd_spawn_signalled()) {
        snprintf(why, size, "stopped");
    } else if (sandbox_stop(&r, why, size)) {
        /* (its words) */
    } else if (f.broken && fleet_line(&f, "error", err, sizeof err)) {
        snprintf(why, size, "an instance could not start: %s", err);
    } else if (f.late) {
        snprintf(why, size, "%d of %d instances got ready within %g s",
                 f.ready, f.n, r.start_limit_s);
    } else if (r.status < 0 || !WIFEXITED(r.status) ||
               WEXITSTATUS(r.status) != 0) {
        describe_end(r.status, FLEET_LIMIT_S, end, sizeof end);
        snprintf(why, size, "an instance %s", end);
    } else if (cd_exdb_judge(c->own, p->iterations, &d, err,
                             sizeof err) != 0) {
        snprintf(why, size, "the databases cannot be read after the run: "
                 "%s", err);
    } else {
        held = fleet_held(&d, p->iterations, &f, why, size);
    }
    cd_exdb_remove(c->own);
    return held;
}

/* The stages of an exercise of processes: its runs, then the timing
 * rule on the source; the stages of threads do not apply. Returns 0
 * passed, 1 failed, 2 the checker could not run it. */
static int fleet_stages(const check_t *c, char *failed, size_t size)
{
    const cd_exercise_spec_t *spec = c->spec;
    char why[1024], text[1200], sz[64], sizes[160] = "";
    int runs = 0, total = spec->nfree * spec->free_runs;
    double t0 = now_s();

    failed[0] = '\0';
    progress_stage("instances");
    for (int s = 0; s < spec->nfree; s++) {
        for (int i = 0; i < spec->free_runs; i++) {
            int held = fleet_run(c, &spec->free[s], why, sizeof why);
            runs++;
            if (cd_spawn_signalled())
                return EXIT_FAIL;
            if (held == 1)
                continue;
            progress_done();
            snprintf(text, sizeof text, "run %d of %d (%s): %s", runs, total,
                     cd_exercise_size_text(&spec->free[s], sz, sizeof sz),
                     why);
            say_stage("instances", held < 0 ? "-" : "FAIL", text);
            if (held < 0)
                return EXIT_USAGE;
            add_name(failed, size, "instances");
            goto timing;
        }
        snprintf(sizes + strlen(sizes), sizeof sizes - strlen(sizes), "%s%s",
                 s ? "; " : "",
                 cd_exercise_size_text(&spec->free[s], sz, sizeof sz));
    }
    progress_done();
    snprintf(text, sizeof text, "%d runs held (%s): every order charged once "
             "and paid, counted in the databases (%.1f s)", runs, sizes,
             now_s() - t0);
    say_stage("instances", "PASS", text);
timing:
    if (timing_holds(c, why, sizeof why)) {
        say_stage("timing", "PASS", "no sleeps, yields or extra waits");
    } else {
        say_stage("timing", "FAIL", why);
        add_name(failed, size, "timing");
    }
    if (!c->no_tsan)
        say_stage("tsan", "-", "not run: each instance is one thread, and "
                  "the race is between processes, which ThreadSanitizer "
                  "does not see");
    return failed[0] ? EXIT_FAIL : 0;
}

/* ================================ the command ============================ */

/* --sched: one controlled run of the learner's program. It may read the
 * terminal (--sched=step), so its stdin is ours, and its output (a trace
 * can be long) goes straight to ours. */
static int run_once(const check_t *c)
{
    static run_t r; /* large: off the stack */
    char sched[LONG_PATH], why[256], end[160];
    char *argv[28] = { (char *)c->prog, "run", (char *)c->spec->name,
                       "--cmd", (char *)c->cmd, "--schedule-dir", sched };
    int n = 7;
    schedule_dir(c, sched, sizeof sched);
    for (int i = 0; i < c->nrun; i++)
        argv[n++] = c->run_args[i];
    argv[n] = NULL;
    r = (run_t){ .label = "run", .out_fd = -1, .err_fd = -1,
                 .interactive = 1, .memory = c->memory,
                 .address_space = RUN_ADDRESS_SPACE, .limit_s = HOST_LIMIT_S,
                 .start_limit_s = c->start_limit_s };
    run_program(&r, argv);
    int status = r.status;
    if (status == CD_SPAWN_SIGNALLED || cd_spawn_signalled())
        return EXIT_FAIL;
    if (sandbox_stop(&r, why, sizeof why)) {
        printf("concdemo check: %s\n", why);
        return EXIT_FAIL;
    }
    if (status >= 0 && WIFEXITED(status))
        return WEXITSTATUS(status);
    describe_end(status, r.limit_s, end, sizeof end);
    printf("concdemo check: the exercise's program %s\n", end);
    return EXIT_FAIL;
}

/* The stages of an exercise of threads: the program's own (free,
 * explore, parallel, timing), then TSan's. Fills failed; returns 2 when
 * the check cannot go on, else 0 (failed says what failed). */
static int thread_stages(const check_t *c, char *failed, size_t size)
{
    int late = 0;
    int rc = run_stages(c, failed, size, &late);
    if (rc == EXIT_USAGE || cd_spawn_signalled())
        return rc;
    if (!c->no_tsan && late) {
        /* Its TSan build would hang in the same place. */
        printf("  %-9s -     skipped: the program did not start (above)\n",
               "tsan");
    } else if (!c->no_tsan) {
        int t = stage_tsan(c, failed);
        if (t < 0)
            return EXIT_USAGE;
        if (t == 0)
            snprintf(failed + strlen(failed), size - strlen(failed),
                     "%stsan", failed[0] ? " " : "");
    }
    return 0;
}

/* Everything after the arguments: build, stages, TSan, the last line. */
static int check_file(const check_t *c)
{
    char failed[256];

    if (c->run_mode) {
        int rc = build(c, 0, 1);
        return rc ? rc : run_once(c);
    }
    printf("check %s: %s\n  goal: %s\n", c->spec->name, c->shown,
           c->spec->goal);
    if (build(c, 0, 0) != 0)
        return EXIT_USAGE;
    int rc = c->spec->processes ? fleet_stages(c, failed, sizeof failed)
                                : thread_stages(c, failed, sizeof failed);
    if (rc == EXIT_USAGE)
        return rc;
    if (cd_spawn_signalled())
        return EXIT_FAIL;
    if (failed[0]) {
        printf("FAIL %s: failed: %s. Worksheet: %s\n", c->spec->name, failed,
               cd_exercise_lesson(c->spec));
        return EXIT_FAIL;
    }
    printf("PASS %s: every stage passed%s\n", c->spec->name,
           c->no_tsan ? " (ThreadSanitizer skipped: --no-tsan)" : "");
    return 0;
}

int cd_check_main(int argc, char **argv)
{
    check_t c = { 0 };

    if (argc >= 3 && (strcmp(argv[2], "--help") == 0 ||
                      strcmp(argv[2], "-h") == 0)) {
        print_usage(stdout);
        return 0;
    }
    if (argc < 3 || argv[2][0] == '-') {
        /* One line that names what is missing, as every command's bad
         * input gets; the exercises are listed so that the next try can
         * be right. */
        fprintf(stderr, "concdemo check: which exercise? (exercises:");
        list_exercises(stderr);
        fprintf(stderr, "; concdemo check --help)\n");
        return EXIT_USAGE;
    }
    c.spec = cd_exercise_spec(argv[2]);
    if (!c.spec)
        return unknown_exercise(argv[2]);
    cd_exercise_file(c.spec, c.file, sizeof c.file);
    if (parse_args(&c, argc, argv) != 0)
        return EXIT_USAGE;
    if (c.spec->processes && c.run_mode)
        return usage_error("--sched schedules the threads of one process; "
                           "the instances of %s are processes",
                           c.spec->name);
    if (c.spec->processes && !cd_exdb_available())
        return usage_error("%s needs SQLite, which this concdemo was built "
                           "without: make deps (libsqlite3-dev), then "
                           "make", c.spec->name);
    if (locate(&c) != 0 || prepare_source(&c) != 0)
        return EXIT_USAGE;
    if (c.print_full)
        return fflush(stdout) == 0 ? 0 : EXIT_USAGE;
    /* From here on, ^C or a kill stops the build or the program too. */
    cd_spawn_catch_signals();
    if (make_own_dir(&c) != 0)
        return EXIT_USAGE;
    int rc = check_file(&c);
    fflush(stdout);
    remove_own_files(&c);
    if (cd_spawn_signalled())
        cd_spawn_reraise();
    return rc;
}
