/*
 * test_watch.c - `concdemo watch` on real programs: the small C programs
 * of tests/watch/ (each a textbook bug, or a correct program that must be
 * reported clean), built here with -g, then the commands a user would
 * try it on (a shell script, ls, a static program, nothing at all).
 *
 * Each case checks the JSON verdict and the source lines it names. The
 * lines are looked up in the program's source (the line of a given
 * statement), so that editing a program's comments cannot break a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* suite: watch */

#define LIMIT_MS 60000

static cmd_out_t out;
static char dir[] = "/tmp/concdemo-watch-XXXXXX";
static int built;
static pid_t dir_owner; /* the suite's runner, which made dir */

/* dir goes when the suite's runner ends (at exit; not when a child forked
 * for a test exits). */
static void remove_programs(void)
{
    char cmd[64 + sizeof dir];
    if (getpid() != dir_owner)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "\n  could not remove %s\n", dir);
}

/* Builds every program of tests/watch/ into dir, once. */
static int build_programs(void)
{
    if (built)
        return built > 0;
    built = -1;
    if (!mkdtemp(dir))
        return 0;
    dir_owner = getpid();
    atexit(remove_programs);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "for f in tests/watch/*.c; do n=$(basename $f .c); "
             "cc -g -O0 -pthread -o %s/$n $f || exit 1; done", dir);
    const char *argv[] = { "sh", "-c", cmd, NULL };
    run_cmd(&out, argv, NULL, LIMIT_MS);
    if (out.exit_code != 0) {
        fprintf(stderr, "\n  cannot build tests/watch: %s\n", out.err);
        return 0;
    }
    built = 1;
    return 1;
}

/* "file.c:N" for the nth (1-based) line of tests/watch/FILE holding text. */
static const char *line_of(const char *file, const char *text, int nth,
                           char *buf, size_t size)
{
    char path[256], line[512];
    snprintf(path, sizeof path, "tests/watch/%s", file);
    FILE *f = fopen(path, "r");
    buf[0] = '\0';
    for (int n = 1; f && fgets(line, sizeof line, f); n++)
        if (strstr(line, text) && --nth == 0) {
            snprintf(buf, size, "%s:%d", file, n);
            break;
        }
    if (f)
        fclose(f);
    return buf;
}

/* concdemo watch --json [extra] -- dir/prog */
static void watch(const char *prog, const char *extra)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, prog);
    const char *with[] = { "watch", "--json", extra, "--", path, NULL };
    const char *without[] = { "watch", "--json", "--", path, NULL };
    run_concdemo(&out, extra ? with : without, NULL, LIMIT_MS);
}

static int count_occurrences(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void expect_has(const char *what)
{
    ASSERT_STR_HAS(out.out, what);
}

/* "key":"value" in the JSON. */
static void expect_field(const char *key, const char *value)
{
    char want[512];
    snprintf(want, sizeof want, "\"%s\":\"%s\"", key, value);
    ASSERT_STR_HAS(out.out, want);
}

/* Builds the programs (once) and watches prog, with --json; fails the test
 * unless the exit code and the verdict are the ones given. */
static void watch_expect(const char *prog, int exit_code, const char *verdict)
{
    CU_ASSERT_FATAL(build_programs());
    watch(prog, NULL);
    ASSERT_INT_EQ(out.exit_code, exit_code);
    expect_field("verdict", verdict);
}

/* test: abba is a deadlock with its lines */
static void test_abba_is_a_deadlock_with_its_lines(void)
{
    char l[64];
    watch_expect("abba", 1, "deadlock");
    expect_field("thread", "transfer_ab");
    expect_field("thread", "transfer_ba");
    expect_field("holds", "mutex_A");
    /* transfer_ab takes A, then waits for B; transfer_ba the other way. */
    expect_field("held_at", line_of("abba.c", "mutex_lock(&mutex_A)", 1, l,
                                    64));
    expect_field("waits", "mutex_B");
    expect_field("waits_at", line_of("abba.c", "mutex_lock(&mutex_B)", 1, l,
                                     64));
    expect_field("held_at", line_of("abba.c", "mutex_lock(&mutex_B)", 2, l,
                                    64));
    expect_field("waits_at", line_of("abba.c", "mutex_lock(&mutex_A)", 2, l,
                                     64));
    expect_has("\"stopped\":true");
}

/* test: three philosophers are a cycle of three */
static void test_three_philosophers_are_a_cycle_of_three(void)
{
    watch_expect("cycle3", 1, "deadlock");
    expect_field("holds", "forks[1]");
    expect_field("waits", "forks[2]");
    expect_field("holds", "forks");
    ASSERT_INT_EQ(count_occurrences(out.out, "\"thread\":\"philosopher\""), 3);
}

/* test: a cycle through an rwlock is found */
static void test_a_cycle_through_an_rwlock_is_found(void)
{
    char l[64];
    watch_expect("rwlock_cycle", 1, "deadlock");
    expect_field("holds", "config");
    expect_field("waits", "log_lock");
    expect_field("waits_kind", "rwlock");
    expect_field("waits_at", line_of("rwlock_cycle.c", "wrlock(&config)", 2,
                                     l, 64));
}

/* test: a lost wake-up is stuck and names the signal */
static void test_a_lost_wakeup_is_stuck_and_names_the_signal(void)
{
    char l[64], want[128];
    watch_expect("lost_wakeup", 1, "stuck");
    expect_field("thread", "main");
    expect_field("waits_kind", "cond");
    expect_field("waits", "ready");
    expect_field("waits_at", line_of("lost_wakeup.c", "cond_wait", 1, l, 64));
    snprintf(want, sizeof want, "producer signalled ready at %s before anyone "
             "waited", line_of("lost_wakeup.c", "cond_signal", 1, l, 64));
    expect_has(want);
}

/* test: a join on a waiting thread is stuck */
static void test_a_join_on_a_waiting_thread_is_stuck(void)
{
    watch_expect("join_cycle", 1, "stuck");
    expect_field("waits_kind", "join");
    expect_field("waits", "worker");
    expect_field("waits_kind", "sem");
    expect_field("waits", "go");
}

/* test: a lucky run of opposite orders is a lock-order finding */
static void test_a_lucky_run_of_opposite_orders_is_a_lock_order_finding(void)
{
    char l[64];
    watch_expect("lucky_order", 1, "lock-order");
    expect_has(line_of("lucky_order.c", "mutex_lock(&audit)", 1, l, 64));
    expect_has(line_of("lucky_order.c", "mutex_lock(&accounts)", 2, l, 64));
    expect_has("\"exit_code\":0");
    /* --allow-order: the finding stays, the exit code is the program's. */
    watch("lucky_order", "--allow-order");
    ASSERT_INT_EQ(out.exit_code, 0);
    expect_has("\"kind\":\"order\"");
}

/* test: an unlock of an unheld mutex is a misuse */
static void test_an_unlock_of_an_unheld_mutex_is_a_misuse(void)
{
    char l[64], want[160];
    watch_expect("unlock_unheld", 1, "misuse");
    snprintf(want, sizeof want, "counter unlocked stats_lock at %s",
             line_of("unlock_unheld.c", "mutex_unlock", 1, l, 64));
    expect_has(want);
}

/* test: a correct producer/consumer is clean */
static void test_a_correct_producer_consumer_is_clean(void)
{
    watch_expect("prodcons", 0, "clean");
    expect_has("\"findings\":[]");
    expect_has("\"threads\":2,\"locks\":1");
}

/* test: a thousand threads finish clean */
static void test_a_thousand_threads_finish_clean(void)
{
    watch_expect("many", 0, "clean");
    expect_has("\"threads\":1001");
    expect_has("100000\n");
}

/* Commands a user may try: the exit code passes through when nothing was
 * found, and what cannot be watched gets one line and exit 2. */
/* test: other programs and bad input */
static void test_other_programs_and_bad_input(void)
{
    const char *sh[] = { "watch", "--", "sh", "-c", "echo hi; exit 7", NULL };
    run_concdemo(&out, sh, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 7);
    ASSERT_STR_HAS(out.out, "hi\n");
    const char *ls[] = { "watch", "--", "ls", "/", NULL };
    run_concdemo(&out, ls, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 0);
    /* concdemo itself, as a pthread program: the plain build (a TSan
     * build's own interceptors and the preloaded wrappers are not meant
     * to meet). */
    const char *self_bin = access("build/concdemo", X_OK) == 0
                               ? "build/concdemo" : concdemo_bin();
    const char *self[] = { "watch", "--json", "--", self_bin, "race",
                           "--fixed", NULL };
    run_concdemo(&out, self, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "race [keyed]: HELD");

    static const struct { const char *a[7]; const char *culprit; } bad[] = {
        { { "watch", NULL }, "needs a program" },
        { { "watch", "--", "no-such-program-here", NULL }, "not found" },
        { { "watch", "--frob", "--", "ls", NULL }, "'--frob'" },
        { { "watch", "--timeout", "x", "--", "ls", NULL }, "'x'" },
        { { "watch", "--", "/etc/passwd", NULL }, "not an executable" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_concdemo(&out, bad[i].a, NULL, LIMIT_MS);
        ASSERT_INT_EQ(out.exit_code, 2);
        ASSERT_INT_EQ(count_lines(out.err), 1);
        ASSERT_STR_HAS(out.err, bad[i].culprit);
    }
}

/* test: a static program cannot be watched */
static void test_a_static_program_cannot_be_watched(void)
{
    CU_ASSERT_FATAL(build_programs());
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cc -static -O0 -pthread tests/watch/abba.c "
             "-o %s/abba-static 2>/dev/null || echo no-static", dir);
    const char *argv[] = { "sh", "-c", cmd, NULL };
    run_cmd(&out, argv, NULL, LIMIT_MS);
    if (strstr(out.out, "no-static")) {
        fprintf(stderr, "\n  SKIPPED: no static C library to build with\n");
        return;
    }
    watch("abba-static", NULL);
    ASSERT_INT_EQ(out.exit_code, 2);
    ASSERT_STR_HAS(out.err, "statically linked");
}

/* test: a time limit stops a spinning program */
static void test_a_time_limit_stops_a_spinning_program(void)
{
    const char *spin[] = { "watch", "--timeout", "300", "--json", "--", "sh",
                           "-c", "while :; do :; done", NULL };
    run_concdemo(&out, spin, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 1);
    expect_field("verdict", "timeout");
    expect_has("\"stopped\":true");
}

/* test: the text view shows threads, locks and the cycle */
static void test_the_text_view_shows_threads_locks_and_the_cycle(void)
{
    CU_ASSERT_FATAL(build_programs());
    char path[256];
    snprintf(path, sizeof path, "%s/abba", dir);
    const char *args[] = { "watch", "--view=text", "--", path, NULL };
    run_concdemo(&out, args, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "transfer_ab blocked on mutex_B");
    ASSERT_STR_HAS(out.out, "mutex_A      mutex transfer_ab");
    ASSERT_STR_HAS(out.out, "DEADLOCK: each thread waits for a lock the next "
                            "one holds");
    /* The verdict after the frames, as without the view. */
    ASSERT_STR_HAS(out.out, "DEADLOCK: 2 threads of");
}

/* The view's STUCK block names the lost signal as the report does: the
 * program's names and lines, not the agent's addresses. */
/* test: the text view names the lost signal */
static void test_the_text_view_names_the_lost_signal(void)
{
    char l[64], want[160], path[256];
    CU_ASSERT_FATAL(build_programs());
    snprintf(path, sizeof path, "%s/lost_wakeup", dir);
    const char *args[] = { "watch", "--view=text", "--", path, NULL };
    run_concdemo(&out, args, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 1);
    const char *block = strstr(out.out, "STUCK: no thread can run");
    CU_ASSERT_PTR_NOT_NULL_FATAL(block);
    snprintf(want, sizeof want, "producer signalled ready at %s before",
             line_of("lost_wakeup.c", "cond_signal", 1, l, 64));
    /* The frame wraps at 100 columns: compare with the breaks taken out. */
    char flat[4096];
    size_t n = 0;
    for (const char *p = block; *p && n + 1 < sizeof flat; p++) {
        if (*p == '\n') {
            while (p[1] == ' ')
                p++;
            if (n && flat[n - 1] != ' ')
                flat[n++] = ' ';
            continue;
        }
        flat[n++] = *p;
    }
    flat[n] = '\0';
    ASSERT_STR_HAS(flat, want);
    CU_ASSERT_PTR_NULL(strstr(block, "<pc>"));
}

/* The view's page is in the watched program's memory, where its code may
 * write anything (tests/watch/scribble.c fills it with one byte, counts
 * and pointers included, and marks the frame whole): the view must show
 * such a frame without reading past its arrays or through its pointers,
 * and the watch end as usual. Before, it crashed (SIGSEGV; in the ASan
 * build an index out of bounds). */
/* test: a program that writes over the view's page does not break it */
static void test_a_program_that_writes_over_the_page_does_not_break_it(void)
{
    char path[256];
    CU_ASSERT_FATAL(build_programs());
    snprintf(path, sizeof path, "%s/scribble", dir);
    const char *args[] = { "watch", "--view=text", "--", path, NULL };
    run_concdemo(&out, args, NULL, LIMIT_MS);
    if (out.exit_code != 0)
        fprintf(stderr, "\n  stderr:\n%.3000s\n", out.err);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "scribble exited with 0");
    /* It drew the frames it was given. */
    ASSERT_STR_HAS(out.out, "scribble [watched]");
    CU_ASSERT_PTR_NULL(strstr(out.err, "runtime error"));
}
