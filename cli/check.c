/*
 * check.c - `concdemo check NAME [--file PATH]`: build the learner's
 * exercise, run its stages, judge it under ThreadSanitizer.
 *
 * The grading itself happens in the exercise's own program (cli/exhost.c
 * linked with the learner's file): a bug in the learner's code - a crash,
 * a loop that ignores the run's abort - takes that program down, not this
 * one, which then says what happened. This file finds the sources,
 * drives make, runs the program with a time limit and reads TSan's
 * report.
 */
#define _XOPEN_SOURCE 700 /* realpath */

#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grade.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define HOST_LIMIT_S 300  /* the stages take seconds; this means a hang */
#define TSAN_LIMIT_S 180
#define SHOW_LINES 25     /* compiler output shown to the learner */
#define MAKE_OUT_MAX (256 * 1024)
#define LONG_PATH (2 * PATH_MAX + 64) /* the sources' path + one inside */

static const char usage_text[] =
    "usage: concdemo check NAME [--file PATH] [--no-tsan] [--budget S]\n"
    "       concdemo check NAME [--file PATH] --sched=STRATEGY [--threads N]\n"
    "                      [--workers N] [--iterations N] [--max-steps N]\n"
    "                      [--trace]\n"
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
    "  --file PATH   check this file instead (a copy of the exercise)\n"
    "  --no-tsan     skip the ThreadSanitizer stage (it needs a TSan build)\n"
    "  --budget S    seconds for the exhaustive (dfs) exploration\n"
    "\n"
    "exercises:";

static const char exit_text[] =
    "\n"
    "exit codes: 0 every stage passed, 1 a stage failed, 2 usage error or\n"
    "a file that does not build (the compiler's messages are shown).\n";

typedef struct check {
    const cd_exercise_spec_t *spec;
    const char *file_arg;  /* --file as given, or NULL */
    int no_tsan;
    const char *budget;
    /* Run mode (--sched): the options passed on to the program. */
    int run_mode;
    const char *run_only;  /* an option that needs --sched */
    char *run_args[16];
    int nrun;

    char root[PATH_MAX];   /* the concdemo sources */
    char shown[LONG_PATH]; /* the file, as the learner names it */
    char abs[PATH_MAX];    /* the file, absolute */
    char src[PATH_MAX];    /* the file as make sees it (from root) */
    char bin[PATH_MAX];    /* build/exercises/NAME-ID/NAME, from root */
    char tsan_bin[PATH_MAX];
    char cmd[LONG_PATH];   /* "concdemo check race --file F" */
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

static void print_usage(FILE *out)
{
    int n;
    const cd_exercise_spec_t *all = cd_exercise_specs(&n);
    fputs(usage_text, out);
    for (int i = 0; i < n; i++)
        fprintf(out, "%s %s", i ? "," : "", all[i].name);
    fputs(exit_text, out);
}

static int unknown_exercise(const char *name)
{
    int n;
    const cd_exercise_spec_t *all = cd_exercise_specs(&n);
    fprintf(stderr, "concdemo check: unknown exercise '%s' (exercises:", name);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "%s %s", i ? "," : "", all[i].name);
    fprintf(stderr, ")\n");
    return EXIT_USAGE;
}

/* ================================ arguments ============================== */

static int is_run_flag(const char *a)
{
    return strcmp(a, "--threads") == 0 || strcmp(a, "--workers") == 0 ||
           strcmp(a, "--iterations") == 0 || strcmp(a, "--max-steps") == 0;
}

/* Options for one controlled run, passed on to the exercise's program. */
static int take_run_option(check_t *c, int argc, char **argv, int *i)
{
    const int room = (int)(sizeof c->run_args / sizeof c->run_args[0]) - 2;
    const char *a = argv[*i];

    if (c->nrun >= room)
        return usage_error("%s", "too many options");
    c->run_args[c->nrun++] = argv[*i];
    if (strncmp(a, "--sched=", 8) == 0) {
        c->run_mode = 1;
        return 0;
    }
    c->run_only = a;
    if (!is_run_flag(a))
        return 0; /* --trace */
    if (*i + 1 >= argc)
        return usage_error("%s needs a number", a);
    c->run_args[c->nrun++] = argv[++*i];
    return 0;
}

static int parse_args(check_t *c, int argc, char **argv)
{
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--file") == 0) {
            if (!v || !*v)
                return usage_error("%s", "--file needs a path");
            c->file_arg = argv[++i];
        } else if (strncmp(a, "--file=", 7) == 0) {
            c->file_arg = a + 7;
        } else if (strcmp(a, "--budget") == 0) {
            char *end;
            double s = v ? strtod(v, &end) : 0;
            if (!v || *end || s <= 0 || s > 600)
                return usage_error("--budget must be a number of seconds "
                                   "from 0 to 600 (got %s)", v ? v : "none");
            c->budget = argv[++i];
        } else if (strcmp(a, "--no-tsan") == 0) {
            c->no_tsan = 1;
        } else if (strncmp(a, "--sched=", 8) == 0 ||
                   strcmp(a, "--trace") == 0 || is_run_flag(a)) {
            if (take_run_option(c, argc, argv, &i) != 0)
                return -1;
        } else {
            return usage_error("unexpected argument '%s' (see concdemo check "
                               "--help)", a);
        }
    }
    if (c->run_only && !c->run_mode)
        return usage_error("%s goes with --sched=STRATEGY (one controlled "
                           "run)", c->run_only);
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
    if (c->file_arg) {
        snprintf(c->shown, sizeof c->shown, "%s", c->file_arg);
    } else {
        snprintf(c->shown, sizeof c->shown, "lessons/exercises/%s",
                 c->spec->file);
        if (access(c->shown, R_OK) != 0)
            snprintf(c->shown, sizeof c->shown, "%s/lessons/exercises/%s",
                     c->root, c->spec->file);
    }
    struct stat st;
    if (stat(c->shown, &st) != 0 || !realpath(c->shown, c->abs))
        return usage_error("cannot read %s: %s", c->shown, strerror(errno));
    if (!S_ISREG(st.st_mode) || access(c->abs, R_OK) != 0)
        return usage_error("cannot read %s: not a readable file", c->shown);
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
    if (c->file_arg)
        snprintf(c->cmd, sizeof c->cmd, "concdemo check %s --file %s", name,
                 c->file_arg);
    else
        snprintf(c->cmd, sizeof c->cmd, "concdemo check %s", name);
    return 0;
}

/* ============================ running programs =========================== */

/* Forks argv with stdout/stderr redirected to out_fd/err_fd (-1: keep),
 * an optional "NAME=VALUE" in the environment, and make's own variables
 * removed (a make that runs us must not hand its jobserver to ours).
 * Returns the child's pid, or -1. */
static pid_t start(char *const argv[], int out_fd, int err_fd,
                   const char *env)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (out_fd >= 0)
        dup2(out_fd, 1);
    if (err_fd >= 0)
        dup2(err_fd, 2);
    unsetenv("MAKEFLAGS");
    unsetenv("MFLAGS");
    unsetenv("MAKELEVEL");
    if (env) {
        char copy[256];
        snprintf(copy, sizeof copy, "%s", env);
        char *eq = strchr(copy, '=');
        if (eq) {
            *eq = '\0';
            setenv(copy, eq + 1, 1);
        }
    }
    execvp(argv[0], argv);
    fprintf(stderr, "concdemo check: cannot run %s: %s\n", argv[0],
            strerror(errno));
    _exit(127);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits for pid at most limit_s; kills it at the limit. Returns the wait
 * status, or -1 when it was killed. */
static int wait_limited(pid_t pid, int limit_s)
{
    double deadline = now_s() + limit_s;
    int status;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid)
            return status;
        if (got < 0 && errno != EINTR)
            return -1;
        if (now_s() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        struct timespec nap = { 0, 20 * 1000 * 1000 };
        nanosleep(&nap, NULL);
    }
}

/* Runs make in the sources with the given target, its output (stdout and
 * stderr) captured into out. Returns make's wait status, or -1. */
static int run_make(const check_t *c, const char *target, const char *bin,
                    char *out, size_t size)
{
    char src_var[PATH_MAX + 16], bin_var[PATH_MAX + 16];
    snprintf(src_var, sizeof src_var, "EX_SRC=%s", c->src);
    snprintf(bin_var, sizeof bin_var, "EX_BIN=%s", bin);
    char *argv[] = { "make", "-s", "--no-print-directory", "-C",
                     (char *)c->root, (char *)target, src_var, bin_var, NULL };
    int fds[2];
    size_t len = 0;

    if (pipe(fds) != 0)
        return -1;
    pid_t pid = start(argv, fds[1], fds[1], NULL);
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return -1;
    }
    for (ssize_t got; (got = read(fds[0], out + len, size - 1 - len)) != 0;) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            break;
        len += (size_t)got;
        if (len + 1 >= size) { /* full: keep reading, drop the rest */
            char sink[4096];
            while (read(fds[0], sink, sizeof sink) > 0)
                ;
            break;
        }
    }
    out[len] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
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

/* Builds bin (plain or TSan). Returns 0, or prints why not and returns
 * EXIT_USAGE. */
static int build(const check_t *c, int tsan, int quiet)
{
    static char out[MAKE_OUT_MAX];
    const char *what = tsan ? "tsan" : "build";
    char lib[LONG_PATH];

    /* The first check builds the library too: say why it takes a while. */
    snprintf(lib, sizeof lib, "%s/build/%slib/cd_op.o", c->root,
             tsan ? "tsan/" : "");
    if (access(lib, R_OK) != 0) {
        printf("  %-9s ...   building the %slibrary first (once; a minute "
               "or two)\n", what, tsan ? "ThreadSanitizer " : "");
        fflush(stdout);
    }
    int status = run_make(c, tsan ? "exercise-tsan" : "exercise",
                          tsan ? c->tsan_bin : c->bin, out, sizeof out);

    if (status == -1 || (WIFEXITED(status) && WEXITSTATUS(status) == 127)) {
        printf("  %-9s FAIL  cannot run make in %s: concdemo check needs "
               "make and a C compiler (apt-get install build-essential)\n",
               what, c->root);
        return EXIT_USAGE;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("  %-9s FAIL  %s does not build%s:\n", what, c->shown,
               tsan ? " with ThreadSanitizer" : "");
        show_compiler(out);
        if (strstr(out, "undefined reference to `cd_exercise'"))
            printf("    (the file must define `const cd_scenario_t "
                   "cd_exercise`: the starter does, at its end)\n");
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

/* "crashed (signal 11: Segmentation fault)" or "hung" for a host that did
 * not exit by itself. */
static void describe_end(int status, char *buf, size_t size)
{
    if (status == -1)
        snprintf(buf, size, "did not finish within its time limit (a hang "
                 "the run's watchdog could not end?)");
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "crashed (signal %d: %s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, size, "ended with exit code %d", WEXITSTATUS(status));
}

/* ================================ the stages ============================= */

/* Runs the stages of the exercise's program; fills failed with the names
 * of the stages that failed. Returns 0 all passed, 1 some failed, 2 the
 * program refused the file. */
static int run_stages(const check_t *c, char *failed, size_t size)
{
    char host[LONG_PATH], summary[LONG_PATH + 16], end[128];
    snprintf(host, sizeof host, "%s/%s", c->root, c->bin);
    snprintf(summary, sizeof summary, "%s.failed", host);
    unlink(summary);
    char *argv[16] = { host, "check", (char *)c->spec->name, "--cmd",
                       (char *)c->cmd, "--source", (char *)c->shown,
                       "--summary", summary };
    int n = 9;
    if (c->budget) {
        argv[n++] = "--budget";
        argv[n++] = (char *)c->budget;
    }
    argv[n] = NULL;

    pid_t pid = start(argv, -1, -1, NULL);
    int status = pid < 0 ? -1 : wait_limited(pid, HOST_LIMIT_S);
    failed[0] = '\0';
    FILE *f = fopen(summary, "r");
    if (f) {
        if (fgets(failed, (int)size, f))
            failed[strcspn(failed, "\n")] = '\0';
        fclose(f);
    }
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) <= 2) {
        int rc = WEXITSTATUS(status);
        return rc == 0 && failed[0] ? 1 : rc;
    }
    /* It crashed or hung. A crash named its stage (and the summary has
     * it); a hang, or a crash before any stage, is a stage of its own. */
    describe_end(status, end, sizeof end);
    if (failed[0] && status != -1) {
        printf("%*sthe exercise's program %s%s\n", 18, "", end,
               c->no_tsan ? "" : "; the tsan stage below shows where");
        return 1;
    }
    printf("  %-9s FAIL  the exercise's program %s\n", "run", end);
    snprintf(failed + strlen(failed), size - strlen(failed), "%srun",
             failed[0] ? " " : "");
    return 1;
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


/* Runs the TSan program, its stderr into log. Returns its wait status, or
 * -1 (could not start, or killed at the limit). */
static int run_tsan(const check_t *c, char *host, const char *log)
{
    int err = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int null = open("/dev/null", O_WRONLY);
    char *argv[] = { host, "tsan", (char *)c->spec->name, NULL };
    pid_t pid = err < 0 || null < 0 ? -1 : start(argv, null, err,
                                                 "TSAN_OPTIONS=halt_on_error=0 "
                                                 "exitcode=66");
    if (err >= 0)
        close(err);
    if (null >= 0)
        close(null);
    return pid < 0 ? -1 : wait_limited(pid, TSAN_LIMIT_S);
}

/* Prints the TSan stage's verdict from its log and how the run ended.
 * Returns 1 if it passed. */
static int judge_tsan(const check_t *c, const char *text, int status,
                      const char *failed_before)
{
    char kind[96], first[256], second[256], end[128];
    int reports;

    summarise_tsan(text, &reports, kind, sizeof kind, first, second,
                   sizeof first);
    if (reports == 0 && status != -1 && WIFEXITED(status) &&
        WEXITSTATUS(status) == 0) {
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
        describe_end(status, end, sizeof end);
        printf("  %-9s FAIL  the ThreadSanitizer run %s\n", "tsan", end);
    } else {
        printf("  %-9s FAIL  ThreadSanitizer: %s (%d report%s)\n", "tsan",
               kind, reports, reports == 1 ? "" : "s");
        if (first[0])
            printf("%*s%s\n", 18, "", first);
        if (second[0])
            printf("%*s%s, in another thread\n", 18, "", second);
        if (strstr(kind, "data race") && !failed_before[0])
            printf("%*swhy: the runs held, but two threads touch the same "
                   "memory with\n%*snothing ordering them: the window is "
                   "smaller, not closed\n", 18, "", 18, "");
    }
    printf("%*sfull report: %s/%s.tsan.log\n", 18, "", c->root, c->tsan_bin);
    return 0;
}

/* The TSan stage: one free run of the TSan build. Returns 1 if it passed,
 * 0 if it failed, -1 if the file did not build. */
static int stage_tsan(const check_t *c, const char *failed_before)
{
    char host[LONG_PATH], log[LONG_PATH + 16];

    if (build(c, 1, 1) != 0)
        return -1;
    snprintf(host, sizeof host, "%s/%s", c->root, c->tsan_bin);
    snprintf(log, sizeof log, "%s.tsan.log", host);
    int status = run_tsan(c, host, log);
    char *text = cd_grade_read_file(log);
    int ok = judge_tsan(c, text ? text : "", status, failed_before);
    free(text);
    return ok;
}

/* ================================ the command ============================ */

/* --sched: one controlled run of the learner's program. */
static int run_once(const check_t *c)
{
    char host[LONG_PATH];
    snprintf(host, sizeof host, "%s/%s", c->root, c->bin);
    char *argv[24] = { host, "run", (char *)c->spec->name, "--cmd",
                       (char *)c->cmd };
    int n = 5;
    for (int i = 0; i < c->nrun; i++)
        argv[n++] = c->run_args[i];
    argv[n] = NULL;
    pid_t pid = start(argv, -1, -1, NULL);
    int status = pid < 0 ? -1 : wait_limited(pid, HOST_LIMIT_S);
    if (status != -1 && WIFEXITED(status))
        return WEXITSTATUS(status);
    char end[128];
    describe_end(status, end, sizeof end);
    printf("concdemo check: the exercise's program %s\n", end);
    return EXIT_FAIL;
}

int cd_check_main(int argc, char **argv)
{
    check_t c = { 0 };
    char failed[256];

    if (argc >= 3 && (strcmp(argv[2], "--help") == 0 ||
                      strcmp(argv[2], "-h") == 0)) {
        print_usage(stdout);
        return 0;
    }
    if (argc < 3 || argv[2][0] == '-') {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    c.spec = cd_exercise_spec(argv[2]);
    if (!c.spec)
        return unknown_exercise(argv[2]);
    if (parse_args(&c, argc, argv) != 0 || locate(&c) != 0)
        return EXIT_USAGE;

    if (c.run_mode) {
        int rc = build(&c, 0, 1);
        return rc ? rc : run_once(&c);
    }
    printf("check %s: %s\n  goal: %s\n", c.spec->name, c.shown, c.spec->goal);
    if (build(&c, 0, 0) != 0)
        return EXIT_USAGE;
    int rc = run_stages(&c, failed, sizeof failed);
    if (rc == EXIT_USAGE)
        return EXIT_USAGE;
    if (!c.no_tsan) {
        int t = stage_tsan(&c, failed);
        if (t < 0)
            return EXIT_USAGE;
        if (t == 0)
            snprintf(failed + strlen(failed), sizeof failed - strlen(failed),
                     "%stsan", failed[0] ? " " : "");
    }
    if (failed[0]) {
        printf("FAIL %s: failed: %s. Worksheet: %s\n", c.spec->name, failed,
               c.spec->lesson);
        return EXIT_FAIL;
    }
    printf("PASS %s: every stage passed%s\n", c.spec->name,
           c.no_tsan ? " (ThreadSanitizer skipped: --no-tsan)" : "");
    return 0;
}
