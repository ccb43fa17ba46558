/*
 * test_fanin.c - the fan-in benchmark (cli/fanin.h, `concdemo bench
 * fanin`): its check at the far end of the sink, which is what makes a
 * row's figure mean anything, then every method delivering every message
 * in order, a lost message failing the row, and the command's input and
 * output. No test judges a speed: the figures belong to `make bench`.
 *
 * Runs start threads, so each runs in a forked child with a time limit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli/fanin.h"
#include "harness.h"

/* suite: fanin */

#define CMD_LIMIT_MS 60000

/* ================================ the check ============================== */

/* Feeds the check the messages (producer, seq) of pairs[0..n), in bytes
 * split every `chunk` bytes, and returns its verdict. */
static int check_stream(int producers, int messages, const uint32_t *pairs,
                        int n, size_t chunk, char *why, size_t len)
{
    cd_fanin_check_t c;
    unsigned char *bytes = malloc((size_t)n * 8 + 1);
    CU_ASSERT_FATAL(bytes != NULL);
    CU_ASSERT_FATAL(cd_fanin_check_init(&c, producers, messages) == 0);
    for (int i = 0; i < n; i++)
        cd_fanin_encode(bytes + 8 * i, pairs[2 * i], pairs[2 * i + 1]);
    for (size_t at = 0; at < (size_t)n * 8; at += chunk) {
        size_t left = (size_t)n * 8 - at;
        cd_fanin_check_feed(&c, bytes + at, left < chunk ? left : chunk);
    }
    int ok = cd_fanin_check_done(&c, why, len);
    cd_fanin_check_free(&c);
    free(bytes);
    return ok;
}

/* Two producers of three messages each, interleaved: the stream a correct
 * run may deliver. */
static const uint32_t good[] = { 0, 0, 1, 0, 0, 1, 1, 1, 1, 2, 0, 2 };

/* test: the check passes every message in order, however split */
static void test_the_check_passes_every_message_in_order_however_split(void)
{
    char why[200];
    /* 1, 3, 5 and 7 bytes: messages split across reads at every offset. */
    for (size_t chunk = 1; chunk <= 8; chunk += 2)
        CU_ASSERT_TRUE(check_stream(2, 3, good, 6, chunk, why, sizeof why));
    ASSERT_STR_HAS(why, "6 messages");
}

/* test: the check fails a dropped message */
static void test_the_check_fails_a_dropped_message(void)
{
    char why[200];
    /* Producer 1's seq 1 is lost: 5 arrive, and 1's seq 2 is out of order. */
    static const uint32_t dropped[] = { 0, 0, 1, 0, 0, 1, 1, 2, 0, 2 };
    CU_ASSERT_FALSE(check_stream(2, 3, dropped, 5, 8, why, sizeof why));
    ASSERT_STR_HAS(why, "5 of 6 messages arrived");
    /* The last message lost: every count but one is right. */
    CU_ASSERT_FALSE(check_stream(2, 3, good, 5, 8, why, sizeof why));
    ASSERT_STR_HAS(why, "1 of 2 producers complete");
}

/* test: the check fails reordered, repeated and stray messages */
static void test_the_check_fails_reordered_repeated_and_stray_messages(void)
{
    char why[200];
    static const uint32_t swapped[] = { 0, 1, 0, 0, 0, 2, 1, 0, 1, 1, 1, 2 };
    CU_ASSERT_FALSE(check_stream(2, 3, swapped, 6, 8, why, sizeof why));
    ASSERT_STR_HAS(why, "out of order");
    static const uint32_t twice[] = { 0, 0, 0, 0, 0, 1, 0, 2, 1, 0, 1, 1,
                                      1, 2 };
    CU_ASSERT_FALSE(check_stream(2, 3, twice, 7, 8, why, sizeof why));
    ASSERT_STR_HAS(why, "7 of 6 messages arrived");
    static const uint32_t stranger[] = { 0, 0, 0, 1, 0, 2, 1, 0, 1, 1, 1, 2,
                                         7, 0 };
    CU_ASSERT_FALSE(check_stream(2, 3, stranger, 7, 8, why, sizeof why));
    ASSERT_STR_HAS(why, "1 from no producer");
    /* Half a message at the end. */
    cd_fanin_check_t c;
    unsigned char b[8];
    CU_ASSERT_FATAL(cd_fanin_check_init(&c, 1, 1) == 0);
    cd_fanin_encode(b, 0, 0);
    cd_fanin_check_feed(&c, b, 8);
    cd_fanin_check_feed(&c, b, 3);
    CU_ASSERT_FALSE(cd_fanin_check_done(&c, why, sizeof why));
    ASSERT_STR_HAS(why, "3 stray bytes");
    cd_fanin_check_free(&c);
    CU_ASSERT_EQUAL(cd_fanin_check_init(&c, 0, 1), -EINVAL);
}

/* ================================ the runs =============================== */

/* Runs method with 8 producers of 300 messages through sink; losing
 * message drop_nth (0: none). Returns the body's verdict. */
static int run_method(int method, int sink, long drop_nth)
{
    cd_fanin_cfg_t cfg = { .method = method, .producers = 8,
                           .messages = 300, .capacity = 16, .sink = sink,
                           .drop_nth = drop_nth };
    cd_fanin_result_t r;
    EXPECT_EQ(cd_fanin_run(&cfg, &r), 0);
    if (drop_nth == 0) {
        if (!r.ok)
            return fail(__LINE__, cd_fanin_method_name(method), r.why);
        EXPECT(strstr(r.why, "2400 messages") != NULL);
        EXPECT(r.mean_batch >= 1 && r.max_batch >= 1);
        EXPECT(r.peak_bytes > 0);
    } else {
        EXPECT(!r.ok);
        EXPECT(strstr(r.why, "2399 of 2400 messages arrived") != NULL);
    }
    return 0;
}

/* test: every method delivers every message in order */
CHILD_TEST(test_every_method_delivers_every_message_in_order)
{
    for (int m = 0; m < CD_FANIN_NMETHODS; m++)
        if (run_method(m, CD_FANIN_PIPE, 0) != 0)
            return 1;
    return run_method(CD_FANIN_CHAN, CD_FANIN_TCP, 0);
}

/* test: a lost message fails the row of every method */
CHILD_TEST(test_a_lost_message_fails_the_row_of_every_method)
{
    for (int m = 0; m < CD_FANIN_NMETHODS; m++)
        if (run_method(m, CD_FANIN_PIPE, 100 + m * 7) != 0)
            return 1;
    return 0;
}

/* test: bad rows are refused */
CHILD_TEST(test_bad_rows_are_refused)
{
    cd_fanin_result_t r;
    cd_fanin_cfg_t cfg = { .method = CD_FANIN_TASK_AMUTEX,
                           .producers = CD_FANIN_MAX_TASKS + 1,
                           .messages = 1, .capacity = 1 };
    EXPECT_EQ(cd_fanin_run(&cfg, &r), -EINVAL);
    cfg.method = CD_FANIN_NMETHODS;
    cfg.producers = 2;
    EXPECT_EQ(cd_fanin_run(&cfg, &r), -EINVAL);
    cfg.method = CD_FANIN_CHAN;
    cfg.capacity = 0;
    EXPECT_EQ(cd_fanin_run(&cfg, &r), -EINVAL);
    return 0;
}

/* ================================ the command ============================ */

static cmd_out_t out;

static void expect_refused(const char *const args[], const char *culprit)
{
    run_concdemo(&out, args, NULL, CMD_LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 2);
    ASSERT_INT_EQ(count_lines(out.err), 1);
    ASSERT_INT_EQ((long long)strlen(out.out), 0);
    ASSERT_STR_HAS(out.err, culprit);
}

/* test: bad bench input gets one line */
static void test_bad_bench_input_gets_one_line(void)
{
    expect_refused((const char *[]){ "bench", "nope", NULL }, "'nope'");
    expect_refused((const char *[]){ "bench", "fanin", "--max-producers", "1",
                                     NULL }, "between 2 and");
    expect_refused((const char *[]){ "bench", "fanin", "--messages=x", NULL },
                   "'x' is not a whole number");
    expect_refused((const char *[]){ "bench", "fanin", "--methods",
                                     "chan,bogus", NULL }, "'bogus'");
    expect_refused((const char *[]){ "bench", "fanin", "--sink=udp", NULL },
                   "'udp'");
    expect_refused((const char *[]){ "bench", "fanin", "--frobnicate", NULL },
                   "'--frobnicate'");
    expect_refused((const char *[]){ "bench", "fanin", "--csv", NULL },
                   "--csv needs a file name");
    expect_refused((const char *[]){ "bench", NULL },
                   "bench needs a benchmark: fanin");
}

/* test: bench prints a checked table and its csv */
static void test_bench_prints_a_checked_table_and_its_csv(void)
{
    char csv[] = "/tmp/concdemo-fanin-XXXXXX";
    int fd = mkstemp(csv);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    run_concdemo(&out, (const char *[]){ "bench", "fanin", "--quick",
                                         "--max-producers", "8",
                                         "--methods=chan,swap,task-mutex,"
                                         "task-amutex",
                                         "--csv", csv, NULL },
                 NULL, CMD_LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "producers  method");
    ASSERT_STR_HAS(out.out, "messages/s (log scale)");
    ASSERT_STR_HAS(out.out, "crossover: ");
    ASSERT_STR_HAS(out.out, "async mutex: ");
    ASSERT_STR_HAS(out.out, "check: every row's messages arrived");
    /* Not a terminal: no progress line. */
    ASSERT_INT_EQ((long long)strlen(out.err), 0);
    /* 2, 4, 8 producers x 4 methods, each row checked. */
    FILE *f = fopen(csv, "r");
    CU_ASSERT_FATAL(f != NULL);
    char line[256];
    int rows = 0, ok = 0;
    while (fgets(line, sizeof line, f))
        if (rows++ > 0)
            ok += strstr(line, ",ok\n") != NULL;
    fclose(f);
    unlink(csv);
    ASSERT_INT_EQ(rows, 13);
    ASSERT_INT_EQ(ok, 12);
}

/* On a terminal, one line on stderr follows the runs in place - the run
 * going on, then the rate so far and the time left - and is erased
 * before the table. */
/* test: bench shows a progress line on a terminal */
static void test_bench_shows_a_progress_line_on_a_terminal(void)
{
    const char *argv[] = { concdemo_bin(), "bench", "fanin", "--quick",
                           "--max-producers", "4", "--methods=chan,swap",
                           NULL };
    run_cmd_err_tty(&out, argv, CMD_LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.err, "\rfanin: 2 producers, chan         (run 1 of 4)");
    ASSERT_STR_HAS(out.err, "\rfanin: 4 producers, swap         (run 4 of 4, ");
    ASSERT_STR_HAS(out.err, " runs/s, ");
    ASSERT_STR_HAS(out.err, " s left)");
    size_t n = strlen(out.err);
    CU_ASSERT_TRUE(n > 2 && out.err[n - 1] == '\r' && out.err[n - 2] == ' ');
    CU_ASSERT_PTR_NULL(strchr(out.out, '\r'));
    ASSERT_STR_HAS(out.out, "check: every row's messages arrived");
}
