/*
 * cmd_watch.c - `concdemo watch [--json] [--timeout MS] [--allow-order]
 * -- PROG [ARGS...]`: any dynamically linked pthread program, watched by
 * the same registry and detectors as the demos (cli/watch.h), and the
 * verdict with names and source lines.
 *
 * Exit: 1 when something was found (a deadlock, a stuck program, a time
 * limit reached, a lock-order inversion unless --allow-order, a misuse);
 * else the program's own exit code; 2 when it could not be watched.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "options.h"
#include "screen.h"
#include "view.h"
#include "watch.h"

typedef struct watch_args {
    int json, allow_order, timeout_ms;
    int view; /* 1: the live view; 2: --view=text */
    int prog; /* index of the program in argv */
} watch_args_t;

static void watch_usage(FILE *out)
{
    fprintf(out,
        "usage: concdemo watch [--view | --view=text | --json] [--timeout MS]\n"
        "                      [--allow-order] -- PROG [ARGS...]\n"
        "Runs PROG (a dynamically linked program) with concdemo's pthread\n"
        "wrappers preloaded and watches its threads, mutexes, rwlocks,\n"
        "condition variables, semaphores and barriers. Stops it and says\n"
        "why, with source lines (build it with -g), when its threads\n"
        "deadlock or are stuck for good (a lost wake-up, a join that\n"
        "never ends); after it ends, reports locks taken in opposite\n"
        "orders and misuse (unlock of an unheld mutex, ...).\n"
        "  --view          watch it live in the terminal (q stops it)\n"
        "  --view=text     the same frames as plain text, as they change\n"
        "  --json          one JSON object instead of text\n"
        "  --timeout MS    stop it after MS milliseconds (default: none)\n"
        "  --allow-order   a lock-order inversion alone does not exit 1\n"
        "Exit: 1 when something was found, else PROG's own exit code;\n"
        "2 when PROG cannot be watched.\n"
        "A worked example, a program that hangs: see lessons/23-watch.md.\n");
}

static int parse(watch_args_t *a, int argc, char **argv)
{
    char err[256];
    *a = (watch_args_t){ 0 };
    for (int i = 2; i < argc; i++) {
        const char *w = argv[i];
        if (strcmp(w, "--") == 0 || w[0] != '-') {
            a->prog = strcmp(w, "--") == 0 ? i + 1 : i;
            break;
        }
        if (strcmp(w, "--json") == 0) {
            a->json = 1;
        } else if (strcmp(w, "--view") == 0) {
            a->view = 1;
        } else if (strcmp(w, "--view=text") == 0) {
            a->view = 2;
        } else if (strcmp(w, "--allow-order") == 0) {
            a->allow_order = 1;
        } else if (strncmp(w, "--timeout", 9) == 0 && (!w[9] || w[9] == '=')) {
            const char *v = w[9] == '=' ? w + 10 : i + 1 < argc ? argv[++i] : "";
            if (cd_opt_parse_int("--timeout", v, 1, 86400000, &a->timeout_ms,
                                 err, sizeof err) != 0) {
                fprintf(stderr, "concdemo: watch: %s\n", err);
                return -1;
            }
        } else {
            return cd_cmd_usage_error("watch: unknown option '%s'", w), -1;
        }
    }
    if (a->prog == 0 || a->prog >= argc) {
        fprintf(stderr, "concdemo: watch needs a program: concdemo watch -- "
                        "PROG [ARGS...]\n");
        return -1;
    }
    return 0;
}

/* ================================= text ================================= */

static void print_link(const cd_watch_link_t *l)
{
    printf("  %s", l->thread);
    if (l->thread_at[0])
        printf(" (%s)", l->thread_at);
    if (l->holds[0])
        printf(" holds %s (taken at %s) and", l->holds,
               l->held_at[0] ? l->held_at : "?");
    if (!strcmp(l->waits_kind, "join"))
        printf(" waits to join %s", l->waits);
    else if (l->waits[0])
        printf(" waits for %s %s", l->waits_kind, l->waits);
    else
        printf(" is blocked");
    if (l->waits_at[0])
        printf(" at %s", l->waits_at);
    printf("\n");
}

static void print_text(const cd_watch_result_t *r, const watch_args_t *a,
                       char **argv)
{
    const char *prog = argv[a->prog];
    switch (r->verdict) {
    case CD_WATCH_DEADLOCK:
        printf("DEADLOCK: %d threads of %s wait for each other for ever\n",
               r->nlinks, prog);
        break;
    case CD_WATCH_STUCK:
        printf("STUCK: every thread of %s waits, and none can wake another\n",
               prog);
        break;
    case CD_WATCH_TIMEOUT:
        printf("TIMEOUT: %s ran past %d ms; stopped\n", prog, a->timeout_ms);
        break;
    default:
        break;
    }
    for (int k = 0; k < r->nlinks; k++)
        print_link(&r->links[k]);
    if (r->lost_wakeup[0])
        printf("  %s\n", r->lost_wakeup);
    for (int k = 0; k < r->nfindings; k++) {
        const cd_watch_finding_t *f = &r->findings[k];
        printf("%s: %s\n", !strcmp(f->kind, "order") ? "LOCK ORDER"
                           : "MISUSE", f->text);
    }
    if (r->have_summary) {
        printf("summary: %d thread%s, %d lock%s", r->threads,
               r->threads == 1 ? "" : "s", r->locks, r->locks == 1 ? "" : "s");
        if (r->top_lock[0] && r->top_wait_ns > 0)
            printf("; most waited for: %s (%llu waits, %.1f ms in all)",
                   r->top_lock, (unsigned long long)r->top_contended,
                   r->top_wait_ns / 1e6);
        if (r->hold_lock[0] && r->hold_ns > 0)
            printf("; longest hold: %s, %.1f ms", r->hold_lock,
                   r->hold_ns / 1e6);
        printf("\n");
    }
    if (r->stopped)
        printf("concdemo watch stopped %s after %.1f s\n", prog,
               r->found_ns / 1e9);
    else
        printf("%s exited with %d\n", prog, r->exit_code);
}

/* ================================= JSON ================================= */

static void json_str(const char *key, const char *v, int comma)
{
    printf("\"%s\":\"", key);
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    printf("\"%s", comma ? "," : "");
}

static void print_json(const cd_watch_result_t *r, int found)
{
    static const char *const verdicts[] = { "clean", "deadlock", "stuck",
                                            "timeout" };
    printf("{");
    json_str("verdict", found && r->verdict == CD_WATCH_CLEAN
                            ? (r->orders ? "lock-order" : "misuse")
                            : verdicts[r->verdict], 1);
    printf("\"threads\":[");
    for (int k = 0; k < r->nlinks; k++) {
        const cd_watch_link_t *l = &r->links[k];
        printf("%s{", k ? "," : "");
        json_str("thread", l->thread, 1);
        json_str("thread_at", l->thread_at, 1);
        json_str("holds", l->holds, 1);
        json_str("held_at", l->held_at, 1);
        json_str("waits_kind", l->waits_kind, 1);
        json_str("waits", l->waits, 1);
        json_str("waits_at", l->waits_at, 0);
        printf("}");
    }
    printf("],");
    json_str("lost_wakeup", r->lost_wakeup, 1);
    printf("\"findings\":[");
    for (int k = 0; k < r->nfindings; k++) {
        printf("%s{", k ? "," : "");
        json_str("kind", r->findings[k].kind, 1);
        json_str("what", r->findings[k].what, 1);
        json_str("text", r->findings[k].text, 0);
        printf("}");
    }
    printf("],");
    if (r->have_summary) {
        printf("\"summary\":{\"threads\":%d,\"locks\":%d,", r->threads,
               r->locks);
        json_str("most_waited", r->top_lock, 1);
        printf("\"waits\":%llu,\"wait_ns\":%lld,",
               (unsigned long long)r->top_contended,
               (long long)r->top_wait_ns);
        json_str("longest_hold", r->hold_lock, 1);
        printf("\"hold_ns\":%lld},", (long long)r->hold_ns);
    }
    printf("\"stopped\":%s,\"exit_code\":%d}\n", r->stopped ? "true" : "false",
           r->exit_code);
}

/* ================================= views ================================= */

/* What a frame shows that matters: who runs, waits, holds what; the end. */
static unsigned long frame_signature(const cd_screen_in_t *in)
{
    unsigned long h = in->verdict ? 1 : 0;
    h = h * 31 + (in->cycle != NULL) + 2 * (in->stuck != NULL);
    for (int i = 0; in->snap && i < in->snap->nthreads; i++) {
        const cd_thread_info_t *t = &in->snap->threads[i];
        /* Unsigned: the frame is the program's, any values at all. */
        h = h * 1000003 + (unsigned long)t->state * 7 +
            (unsigned long)t->waiting_on * 131 +
            (unsigned long)t->nheld * 8191 + (unsigned long)t->joining;
    }
    return h;
}

/* --view=text: a frame each time it changes (at most 5 a second), and the
 * last one. */
static void text_frames(const cd_view_source_t *src)
{
    cd_grid_t g = { 0 };
    unsigned long last = 0;
    int shown = 0;
    if (cd_grid_resize(&g, 100, 30) != 0)
        return;
    for (;;) {
        src->sample(src->self);
        cd_screen_in_t in;
        src->screen(src->self, &in);
        int done = src->finished(src->self);
        unsigned long sig = frame_signature(&in);
        if (in.snap->nthreads && (!shown || sig != last || done)) {
            cd_screen_render(&g, &in);
            cd_grid_print(&g, stdout);
            printf("\n");
            fflush(stdout);
            last = sig;
            shown = 1;
        }
        if (done)
            break;
        struct timespec ts = { 0, 200 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    cd_grid_free(&g);
}

static int run_viewed(const cd_watch_opts_t *o, const watch_args_t *a,
                      char **argv, cd_watch_result_t *r, char *err,
                      size_t errlen)
{
    cd_watch_t *w;
    if (a->view == 1 && cd_view_check(err, errlen) != 0)
        return -1;
    if (cd_watch_start(&w, o, err, errlen) != 0)
        return -1;
    cd_view_source_t src;
    cd_watch_source(w, argv[a->prog], &src);
    int signo = 0;
    if (a->view == 2)
        text_frames(&src);
    else if (cd_view_drive(&src, err, errlen, &signo) != 0)
        cd_watch_stop(w);
    cd_watch_finish(w, r);
    cd_watch_free(w);
    return 0;
}

/* ================================ command ================================ */

int cd_cmd_watch(int argc, char **argv)
{
    if (argc >= 3 && cd_cmd_is_help_flag(argv[2])) {
        watch_usage(stdout);
        return 0;
    }
    watch_args_t a;
    if (parse(&a, argc, argv) != 0)
        return CD_EXIT_USAGE;
    char path[4096], lib[4096], err[512];
    const char *why = cd_watch_check_program(argv[a.prog], path, sizeof path);
    if (why) {
        fprintf(stderr, "concdemo: watch: %s: %s\n", argv[a.prog], why);
        return CD_EXIT_USAGE;
    }
    if (cd_watch_find_lib(lib, sizeof lib) != 0) {
        fprintf(stderr, "concdemo: watch: libconcdemo-watch.so is missing "
                        "beside the concdemo binary (make builds it)\n");
        return CD_EXIT_USAGE;
    }
    cd_watch_result_t *r = malloc(sizeof *r);
    if (!r)
        return CD_EXIT_USAGE;
    fflush(stdout); /* the program writes to the same stdout */
    cd_watch_opts_t o = { .argv = argv + a.prog, .timeout_ms = a.timeout_ms,
                          .lib = lib, .view = a.view };
    if ((a.view ? run_viewed(&o, &a, argv, r, err, sizeof err)
                : cd_watch_run(&o, r, err, sizeof err)) != 0) {
        fprintf(stderr, "concdemo: watch: %s\n", err);
        free(r);
        return CD_EXIT_USAGE;
    }
    int misuse = r->nfindings - r->orders;
    int found = r->verdict != CD_WATCH_CLEAN || misuse > 0 ||
                (r->orders > 0 && !a.allow_order);
    if (a.json)
        print_json(r, found);
    else
        print_text(r, &a, argv);
    int rc = found ? 1 : r->exit_code;
    free(r);
    return rc;
}
