/*
 * test_view.c - the live view: the screen model on made-up snapshots, the
 * registry's pause and live figures, the observer on real runs,
 * --view=text, and the ncurses view itself driven in tmux.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../cli/observer.h"
#include "../cli/screen.h"
#include "../lib/cd_oneshot.h"
#include "../lib/cd_thread.h"
#include "../lib/cd_waitfor.h"
#include "harness.h"
#include "screen_probe.h"

/* suite: view; after each test: stop_tmux */

#define LIMIT_MS 30000
/* How long a tmux test waits for what it expects: generous, for the
 * sanitizer builds on a busy two-core machine. */
#define PANE_WAIT_MS 30000

static const char cycle_line[] =
    "transfer-1 holds acct-A -> waits acct-B -> held by transfer-2 -> waits "
    "acct-A";

/* ============================ made-up snapshots ========================== */

static cd_snapshot_t fake; /* a snapshot built by hand */
static cd_history_t hist;

static int add_thread(const char *name, int state, int waiting_on,
                      int held)
{
    cd_thread_info_t *t = &fake.threads[fake.nthreads++];
    memset(t, 0, sizeof *t);
    t->id = fake.nthreads;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->state = state;
    t->waiting_on = waiting_on;
    t->last_op = waiting_on ? CD_OP_LOCK : CD_OP_NONE;
    t->last_obj = waiting_on;
    if (held) {
        t->nheld = 1;
        t->held[0] = held;
    }
    return t->id;
}

static int add_lock(const char *name, int owner, int acquisitions)
{
    cd_obj_info_t *o = &fake.objs[fake.nobjs++];
    memset(o, 0, sizeof *o);
    o->id = fake.nobjs;
    snprintf(o->name, sizeof o->name, "%s", name);
    o->kind = CD_OBJ_MUTEX;
    o->live = 1;
    o->owner = owner;
    o->acquisitions = (uint64_t)acquisitions;
    o->site = (cd_site_t){ "demos/deadlock.c", 64 };
    return o->id;
}

static void add_gauge(const char *name, int64_t value)
{
    cd_gauge_info_t *g = &fake.gauges[fake.ngauges++];
    snprintf(g->name, sizeof g->name, "%s", name);
    g->value = value;
}

/* The ABBA picture: transfer-1 holds acct-A and waits for acct-B, which
 * transfer-2 holds while it waits for acct-A. */
static void abba(void)
{
    memset(&fake, 0, sizeof fake);
    fake.t_ns = 1500000000;
    add_thread("transfer-1", CD_T_BLOCKED, 2, 1);
    add_thread("transfer-2", CD_T_BLOCKED, 1, 2);
    add_lock("acct-A", 1, 1);
    add_lock("acct-B", 2, 1);
    fake.objs[0].nwaiters = fake.objs[1].nwaiters = 1;
    add_gauge("transfers done", 0);
}

static const cd_cycle_t abba_cycle = {
    .len = 2,
    .link = { { .thread = 1, .holds = 1, .waits = 2 },
              { .thread = 2, .holds = 2, .waits = 1 } },
};

static cd_screen_in_t input(void)
{
    return (cd_screen_in_t){
        .scenario = cd_scenario_find("deadlock"),
        .variant = 0,
        .snap = &fake,
        .latency_permille = 1000,
        .interactive = 1,
    };
}

/* The style of row y's first cell after the indent. */
static int style_of_row(int y)
{
    return cd_grid_at(&probe_grid, 2, y)->style;
}

static int style_of(const char *needle)
{
    int x, y;
    if (!cd_grid_find(&probe_grid, needle, &x, &y))
        return -1;
    return cd_grid_at(&probe_grid, x, y)->style;
}

/* ============================== screen model ============================= */

/* test: screen: a blocked thread shows the lock it waits for */
static void blocked_thread_shows_the_lock_it_waits_for(void)
{
    abba();
    cd_screen_in_t in = input();
    probe_render(&in, 80, 24);
    /* transfer-1: blocked on acct-B, for 1.5 s, holding acct-A. */
    const char *row = probe_row_with("transfer-1 ");
    ASSERT_STR_HAS(row, "blocked on acct-B 1.5s");
    ASSERT_STR_HAS(row, "acct-A");
    ASSERT_INT_EQ(style_of("blocked on acct-B"), CD_S_BLOCKED);
    /* No cycle was given: nothing is drawn as one. */
    CU_ASSERT_PTR_NULL(strstr(probe_text, "DEADLOCK"));
    ASSERT_INT_EQ(style_of("transfer-1"), CD_S_NORMAL);
}

/* test: screen: the holder is the owner, with its waiter */
static void holder_is_shown_as_the_owner_with_its_waiter(void)
{
    abba();
    cd_screen_in_t in = input();
    probe_render(&in, 80, 24);
    const char *row = probe_row_with("acct-A       mutex");
    ASSERT_STR_HAS(row, "mutex transfer-1  transfer-2");
    ASSERT_STR_HAS(row, "at deadlock.c:64");
    ASSERT_STR_HAS(probe_row_with("acct-B       mutex"), "transfer-2  transfer-1");
}

/* test: screen: the deadlock cycle is spelled out and highlighted */
static void deadlock_cycle_is_spelled_out_and_highlighted(void)
{
    abba();
    cd_screen_in_t in = input();
    in.cycle = &abba_cycle;
    probe_render(&in, 80, 24);
    ASSERT_STR_HAS(probe_text, cycle_line);
    ASSERT_STR_HAS(probe_text, "DEADLOCK: each thread waits for a lock the next");
    ASSERT_INT_EQ(style_of("transfer-1 "), CD_S_CYCLE);
    ASSERT_INT_EQ(style_of("transfer-2 "), CD_S_CYCLE);
    ASSERT_INT_EQ(style_of("acct-A       mutex"), CD_S_CYCLE);
    ASSERT_INT_EQ(style_of(cycle_line), CD_S_CYCLE);

    char line[256];
    cd_screen_cycle_line(&abba_cycle, &fake, line, sizeof line);
    CU_ASSERT_STRING_EQUAL(line, cycle_line);
}

/* Two receivers on a channel nobody sends on, main joining the first:
 * the view names what each waits for, in the cycle's colour. */
/* test: screen: a stuck run is spelled out and highlighted */
static void stuck_run_is_spelled_out_and_highlighted(void)
{
    static const char waits[] = "rx-1 waits on channel jobs; rx-2 waits on "
                                "channel jobs; main joins rx-1";
    cd_stuck_t st;
    cd_verdict_t v = { 0 };
    memset(&fake, 0, sizeof fake);
    fake.t_ns = 2000000000;
    int main_id = add_thread("main", CD_T_BLOCKED, 0, 0);
    int jobs = add_lock("jobs", 0, 0);
    int rx1 = add_thread("rx-1", CD_T_BLOCKED, jobs, 0);
    add_thread("rx-2", CD_T_BLOCKED, jobs, 0);
    add_thread("helper", CD_T_DONE, 0, 0);
    fake.objs[jobs - 1].kind = CD_OBJ_CHAN;
    fake.objs[jobs - 1].chan_capacity = 4;
    fake.objs[jobs - 1].nwaiters = 2;
    fake.threads[1].last_op = fake.threads[2].last_op = CD_OP_RECV;
    fake.threads[main_id - 1].joining = rx1;
    fake.threads[main_id - 1].since_ns = 500000000;
    fake.abort_reason = CD_ABORT_STUCK;
    CU_ASSERT_FATAL(cd_waitfor_stuck(&fake));
    cd_waitfor_describe(&fake, &st);

    /* Before the verdict: the join reads as one, the block and colours. */
    cd_screen_in_t in = input();
    in.stuck = &st;
    probe_render(&in, 80, 24);
    ASSERT_STR_HAS(probe_row_with("main "), "joining rx-1 1.5s");
    ASSERT_STR_HAS(probe_row_with("concdemo deadlock"), "STUCK FOUND");
    ASSERT_STR_HAS(probe_text, "STUCK: no thread can run; each waits for "
                               "what no running thread brings");
    ASSERT_INT_EQ(style_of("STUCK: no thread"), CD_S_BAD);
    ASSERT_STR_HAS(probe_text, waits);
    ASSERT_INT_EQ(style_of(waits), CD_S_CYCLE);
    ASSERT_INT_EQ(style_of("rx-1 "), CD_S_CYCLE);
    ASSERT_INT_EQ(style_of("main "), CD_S_CYCLE);
    ASSERT_INT_EQ(style_of("helper "), CD_S_NORMAL);
    ASSERT_INT_EQ(style_of("jobs         chan"), CD_S_CYCLE);

    /* After: the verdict in the colour of a failure, and the aborted
     * receivers still say what they waited for. */
    fake.threads[1].state = fake.threads[2].state = CD_T_ABORTED;
    fake.threads[main_id - 1].state = CD_T_DONE;
    cd_verdict_expect(&v, "every receiver gets a message");
    cd_verdict_observe(&v, CD_STUCK, "no thread can run: %s (0 received)",
                       waits);
    in.verdict = &v;
    probe_render(&in, 80, 24);
    ASSERT_STR_HAS(probe_row_with("rx-2 "), "aborted: waited jobs");
    ASSERT_STR_HAS(probe_text, "deadlock [broken]: STUCK - expected every");
    ASSERT_INT_EQ(style_of("deadlock [broken]: STUCK"), CD_S_BAD);
}

/* A busy final frame: more threads than rows, a long log, the cycle and
 * the verdict. */
static cd_verdict_t verdict;
static cd_trace_event_t events[64];

static cd_screen_in_t busy(void)
{
    abba();
    for (int i = 3; i <= 14; i++) {
        char name[16];
        snprintf(name, sizeof name, "worker-%d", i);
        add_thread(name, i % 2 ? CD_T_SLEEPING : CD_T_DONE, 0, 0);
        fake.threads[i - 1].what = "payment-gateway";
    }
    for (int i = 0; i < 64; i++)
        events[i] = (cd_trace_event_t){ .seq = (uint64_t)i,
                                        .t_ns = i * 1000000,
                                        .thread = 1 + i % 2,
                                        .op = CD_OP_LOCK,
                                        .obj = 1 + i % 2,
                                        .site = { "demos/deadlock.c", 66 } };
    memset(&verdict, 0, sizeof verdict);
    cd_verdict_expect(&verdict, "all 10 transfers complete and the 2000 in "
                      "the bank stays 2000");
    cd_verdict_observe(&verdict, CD_DEADLOCK, "transfer-1 holds acct-A, "
                       "waits acct-B; transfer-2 holds acct-B, waits acct-A "
                       "(0 of 10 transfers completed, total 2000)");
    cd_screen_in_t in = input();
    in.cycle = &abba_cycle;
    in.verdict = &verdict;
    in.log = events;
    in.nlog = 64;
    return in;
}

/* test: screen: everything fits in 80x24 */
static void everything_fits_in_80x24(void)
{
    cd_screen_in_t in = busy();
    probe_render(&in, 80, 24);
    ASSERT_INT_EQ(count_lines(probe_text), 24);
    char row[CD_SCREEN_MAX_W + 1];
    for (int y = 0; y < probe_grid.h; y++) {
        cd_grid_row(&probe_grid, y, row, sizeof row);
        CU_ASSERT_TRUE(strlen(row) <= 80);
    }
    cd_grid_row(&probe_grid, 0, row, sizeof row);
    ASSERT_STR_HAS(row, "concdemo deadlock [broken]");
    ASSERT_STR_HAS(row, "DEADLOCK");
    ASSERT_STR_HAS(probe_text, cycle_line);
    ASSERT_STR_HAS(probe_text, "deadlock [broken]: DEADLOCK - expected all 10");
    ASSERT_STR_HAS(probe_text, "(0 of 10 transfers completed, total 2000)");
    ASSERT_STR_HAS(probe_text, "more not shown)");
    /* The cycle's threads come first when not all threads fit. */
    ASSERT_STR_HAS(probe_text, "transfer-2 ");
    cd_grid_row(&probe_grid, 23, row, sizeof row);
    ASSERT_STR_HAS(row, "press any key to leave");
    ASSERT_INT_EQ(style_of(" run over"), CD_S_BAR);
}

/* test: screen: narrow wraps and cuts cleanly */
static void narrow_screen_wraps_and_cuts_cleanly(void)
{
    cd_screen_in_t in = busy();
    probe_render(&in, CD_SCREEN_MIN_W, CD_SCREEN_MIN_H);
    ASSERT_INT_EQ(count_lines(probe_text), CD_SCREEN_MIN_H);
    /* The cycle wraps between words: its rows, joined, are the line. */
    int x, y;
    CU_ASSERT_FATAL(cd_grid_find(&probe_grid, "transfer-1 holds acct-A", &x, &y));
    char joined[512] = "", row[CD_SCREEN_MAX_W + 1];
    for (int r = y; r < probe_grid.h && style_of_row(r) == CD_S_CYCLE; r++) {
        cd_grid_row(&probe_grid, r, row, sizeof row);
        if (joined[0])
            strcat(joined, " ");
        strcat(joined, row + 2);
    }
    CU_ASSERT_STRING_EQUAL(joined, cycle_line);
    /* Every row fits, and a cut is never in the middle of a name. */
    for (int r = 0; r < probe_grid.h; r++) {
        cd_grid_row(&probe_grid, r, row, sizeof row);
        CU_ASSERT_TRUE(strlen(row) <= CD_SCREEN_MIN_W);
    }
    ASSERT_STR_HAS(probe_text, "deadlock [broken]: DEADLOCK");
}

/* test: screen: too small says so */
static void too_small_a_screen_says_so(void)
{
    cd_screen_in_t in = busy();
    probe_render(&in, 40, 10);
    ASSERT_STR_HAS(probe_text, "too small");
    ASSERT_STR_HAS(probe_text, "(40x10)");
    ASSERT_STR_HAS(probe_text, "60x18");
    CU_ASSERT_PTR_NULL(strstr(probe_text, "transfer-1"));
}

/* test: screen: history, one mark per frame */
static void history_shows_one_mark_per_frame(void)
{
    abba();
    memset(&hist, 0, sizeof hist);
    static const int states[] = { CD_T_NEW, CD_T_RUNNING, CD_T_SLEEPING,
                                  CD_T_RUNNING, CD_T_PAUSED, CD_T_BLOCKED };
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        fake.threads[0].state = states[i];
        cd_history_push(&hist, &fake);
    }
    cd_screen_in_t in = input();
    in.hist = &hist;
    probe_render(&in, 80, 24);
    const char *row = probe_row_with("transfer-1 ");
    size_t n = strlen(row);
    CU_ASSERT_FATAL(n > 6);
    CU_ASSERT_STRING_EQUAL(row + n - 6, ".=~=|#");
    ASSERT_INT_EQ(style_of(".=~=|#") , CD_S_NORMAL);
}

/* test: screen: live figures; unused locks counted */
static void live_figures_and_unused_locks(void)
{
    abba();
    add_gauge("charges", 9);
    add_gauge("customer-1 balance", -100);
    add_lock("shop-lock", 0, 0); /* never taken: counted, not listed */
    cd_screen_in_t in = input();
    probe_render(&in, 100, 30);
    ASSERT_STR_HAS(probe_text, "live: transfers done 0 | charges 9 | customer-1 "
                         "balance -100");
    ASSERT_STR_HAS(probe_text, "(1 not taken yet)");
    CU_ASSERT_PTR_NULL(strstr(probe_text, "shop-lock"));
}

/* A lost wake-up as the view draws it: two consumers wait on a condition
 * variable that signalled twice into the void (from the line it names),
 * and a semaphore shows its count and its waiter. */
/* test: screen: a condvar and a semaphore show their figures */
static void a_condvar_and_a_semaphore_show_their_figures(void)
{
    memset(&fake, 0, sizeof fake);
    fake.t_ns = 2000000000;
    add_thread("consumer-1", CD_T_BLOCKED, 1, 0);
    add_thread("consumer-2", CD_T_BLOCKED, 1, 0);
    add_thread("loader", CD_T_BLOCKED, 2, 0);
    cd_obj_info_t *c = &fake.objs[fake.nobjs++];
    *c = (cd_obj_info_t){ .id = 1, .name = "not-empty", .kind = CD_OBJ_COND,
                          .live = 1, .nwaiters = 2, .cond_signals = 5,
                          .cond_unheard = 2, .cond_unheard_thread = 3,
                          .cond_unheard_site = { "demos/lost_wakeup.c", 57 },
                          .cond_pending = 1 };
    cd_obj_info_t *m = &fake.objs[fake.nobjs++];
    *m = (cd_obj_info_t){ .id = 2, .name = "slots", .kind = CD_OBJ_SEM,
                          .live = 1, .nwaiters = 1, .sem_count = 0 };
    cd_screen_in_t in = input();
    probe_render(&in, 110, 30);
    const char *row = probe_row_with("not-empty    cond");
    ASSERT_STR_HAS(row, "2: consumer-1 +1");
    ASSERT_STR_HAS(row, "signals 5, unheard 2 (last lost_wakeup.c:57), "
                        "waking 1");
    row = probe_row_with("slots        sem");
    ASSERT_STR_HAS(row, "loader");
    ASSERT_STR_HAS(row, "count 0");
    ASSERT_STR_HAS(probe_row_with("consumer-1 "), "blocked on not-empty");

    /* Narrower: the line of the last unheard signal goes first. */
    probe_render(&in, 80, 24);
    row = probe_row_with("not-empty    cond");
    ASSERT_STR_HAS(row, "signals 5, unheard 2");
    CU_ASSERT_PTR_NULL(strstr(row, "lost_wakeup.c"));
}

/* A broadcast channel with a subscriber that keeps up and one that fell
 * past the ring (its lag is what its next read will be told), and the
 * oneshot a requester waits on for its reply. */
/* test: screen: broadcast subscribers' lag, a oneshot's reply */
static void broadcast_subscribers_show_their_lag_and_a_oneshot_its_reply(void)
{
    memset(&fake, 0, sizeof fake);
    fake.t_ns = 2000000000;
    add_thread("handler", CD_T_BLOCKED, 4, 0);
    add_thread("fast-sub", CD_T_BLOCKED, 2, 0);
    cd_obj_info_t *o = &fake.objs[fake.nobjs++];
    *o = (cd_obj_info_t){ .id = 1, .name = "config-bus", .kind = CD_OBJ_BCAST,
                          .live = 1, .chan_capacity = 8, .chan_depth = 8,
                          .chan_sent = 40 };
    o = &fake.objs[fake.nobjs++];
    *o = (cd_obj_info_t){ .id = 2, .name = "fast", .kind = CD_OBJ_BSUB,
                          .live = 1, .nwaiters = 1, .chan_capacity = 8,
                          .chan_depth = 0, .chan_received = 40 };
    o = &fake.objs[fake.nobjs++];
    *o = (cd_obj_info_t){ .id = 3, .name = "slow", .kind = CD_OBJ_BSUB,
                          .live = 1, .chan_capacity = 8, .chan_depth = 20,
                          .chan_received = 12, .chan_drops = 8 };
    o = &fake.objs[fake.nobjs++];
    *o = (cd_obj_info_t){ .id = 4, .name = "get-reply", .kind = CD_OBJ_ONESHOT,
                          .live = 1, .nwaiters = 1,
                          .oneshot_state = CD_ONESHOT_EMPTY };
    cd_screen_in_t in = input();
    probe_render(&in, 110, 30);
    ASSERT_STR_HAS(probe_row_with("config-bus"), "kept 8/8, sent 40");
    const char *row = probe_row_with("fast         sub");
    ASSERT_STR_HAS(row, "fast-sub");
    ASSERT_STR_HAS(row, "behind 0/8, missed 0, got 40");
    ASSERT_STR_HAS(probe_row_with("slow         sub"),
                   "LAGGED by 12, missed 8, got 12");
    row = probe_row_with("get-reply    1sht");
    ASSERT_STR_HAS(row, "handler");
    ASSERT_STR_HAS(row, "awaiting reply");
    fake.objs[3].oneshot_state = CD_ONESHOT_DROPPED;
    probe_render(&in, 110, 30);
    ASSERT_STR_HAS(probe_row_with("get-reply    1sht"), "DROPPED");
}

/* test: screen: help lists the keys */
static void help_lists_the_keys(void)
{
    abba();
    cd_screen_in_t in = input();
    in.help = 1;
    probe_render(&in, 80, 24);
    ASSERT_STR_HAS(probe_text, "p      pause / resume");
    ASSERT_STR_HAS(probe_text, "+ -    slower / faster");
    ASSERT_STR_HAS(probe_text, "# blocked on a lock");
}

/* Word k (0 first) of row y, into buf ("" if the row has fewer words). */
static const char *word_of_row(int y, int k, char *buf, size_t size)
{
    char row[CD_SCREEN_MAX_W + 1];
    cd_grid_row(&probe_grid, y, row, sizeof row);
    const char *p = row;
    for (int i = 0;; i++) {
        p += strspn(p, " ");
        size_t n = strcspn(p, " ");
        if (i == k || n == 0) {
            snprintf(buf, size, "%.*s", (int)n, p);
            return buf;
        }
        p += n;
    }
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

/* The three rows under the section header `header`: word k of each must
 * end in its own "-10", "-11", "-12" (and so differ from the others). */
static void expect_three_distinct(const char *header, int k, int width)
{
    static const char *const tails[] = { "-10", "-11", "-12" };
    char words[3][CD_SCREEN_MAX_W + 1];
    int x, y;
    CU_ASSERT_FATAL(cd_grid_find(&probe_grid, header, &x, &y));
    for (int i = 0; i < 3; i++) {
        word_of_row(y + 1 + i, k, words[i], sizeof words[i]);
        if (!ends_with(words[i], tails[i]))
            fprintf(stderr, "\n  %d columns, %s, row %d: \"%s\" does not "
                    "end in %s:\n%s", width, header, i + 1, words[i],
                    tails[i], probe_text);
        CU_ASSERT_TRUE(ends_with(words[i], tails[i]));
    }
    CU_ASSERT_STRING_NOT_EQUAL(words[0], words[1]);
    CU_ASSERT_STRING_NOT_EQUAL(words[1], words[2]);
    CU_ASSERT_STRING_NOT_EQUAL(words[0], words[2]);
}

/* Three threads (and their locks) whose long names share their start:
 * wherever the view shows a name - thread rows, lock rows and their
 * owners, the event log, the step panel - the three must stay apart at
 * every width, so a name too long for its column keeps its end. */
/* test: screen: long names that share a prefix stay distinct */
static void long_names_that_share_a_prefix_stay_distinct(void)
{
    static cd_trace_event_t log[3];
    static const int widths[] = { CD_SCREEN_MIN_W, 80, 100, 160 };
    memset(&fake, 0, sizeof fake);
    memset(&hist, 0, sizeof hist);
    fake.t_ns = 1000000;
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "checkout-worker-%d", 10 + i);
        add_thread(name, CD_T_RUNNING, 0, i + 1);
        fake.threads[i].last_op = CD_OP_ACQUIRED;
        fake.threads[i].last_obj = i + 1;
    }
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "customer-lock-%d", 10 + i);
        add_lock(name, i + 1, 1);
        log[i] = (cd_trace_event_t){ .seq = (uint64_t)i, .thread = i + 1,
                                     .op = CD_OP_ACQUIRED, .obj = i + 1 };
    }
    cd_history_push(&hist, &fake);
    static cd_step_ask_t ask;
    ask = (cd_step_ask_t){ .number = 1, .n = 3, .fallback = 1, .prev = 1 };
    for (int i = 0; i < 3; i++)
        ask.choice[i] = (cd_step_choice_t){ .id = i + 1, .op = CD_OP_LOCK,
                                            .obj = i + 1 };
    cd_screen_in_t in = input();
    in.hist = &hist;
    in.log = log;
    in.nlog = 3;
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        in.step = NULL;
        probe_render(&in, widths[w], 30);
        expect_three_distinct("THREAD", 0, widths[w]);
        expect_three_distinct("THREAD", 2, widths[w]); /* what it holds */
        if (widths[w] >= 80) /* narrower, the column holds the op alone */
            expect_three_distinct("THREAD", 4, widths[w]); /* acquired X */
        expect_three_distinct("LOCK/OBJECT", 0, widths[w]); /* the lock */
        expect_three_distinct("LOCK/OBJECT", 2, widths[w]); /* its owner */
        expect_three_distinct("EVENTS", 1, widths[w]);
        in.step = &ask;
        probe_render(&in, widths[w], 30);
        expect_three_distinct("YOUR MOVE (step", 1, widths[w]);
        expect_three_distinct("YOUR MOVE (step", 3, widths[w]); /* lock X */
    }
    /* With room to spare the name column widens: names are whole. */
    probe_render(&in, 160, 30);
    ASSERT_STR_HAS(probe_text, "\ncheckout-worker-10 ");
    /* The audit's case at the size of a terminal: checkout-10, -11, -12. */
    for (int i = 0; i < 3; i++)
        snprintf(fake.threads[i].name, sizeof fake.threads[i].name,
                 "checkout-%d", 10 + i);
    in.step = NULL;
    probe_render(&in, 80, 24);
    expect_three_distinct("THREAD", 0, 80);
    ASSERT_STR_HAS(probe_row_with("checkout-11"), "running");
}

/* ============================ registry: gauges =========================== */

/* test: registry: gauges */
static void gauges_are_named_once_and_read_in_snapshots(void)
{
    cd_reg_reset();
    int a = cd_reg_gauge("charges"), b = cd_reg_gauge("balance");
    CU_ASSERT_TRUE(a > 0 && b > 0 && a != b);
    ASSERT_INT_EQ(cd_reg_gauge("charges"), a);
    cd_reg_gauge_set(a, 5);
    cd_reg_gauge_add(a, 2);
    cd_reg_gauge_add(b, -100);
    ASSERT_INT_EQ(cd_reg_gauge_get(a), 7);
    for (int i = 2; i < CD_MAX_GAUGES; i++) {
        char name[16];
        snprintf(name, sizeof name, "g%d", i);
        CU_ASSERT_TRUE(cd_reg_gauge(name) > 0);
    }
    ASSERT_INT_EQ(cd_reg_gauge("one too many"), 0);
    cd_reg_gauge_set(0, 42); /* the full table's id: does nothing */
    cd_reg_snapshot(&fake);
    ASSERT_INT_EQ(fake.ngauges, CD_MAX_GAUGES);
    CU_ASSERT_STRING_EQUAL(fake.gauges[1].name, "balance");
    ASSERT_INT_EQ(fake.gauges[0].value, 7);
    ASSERT_INT_EQ(fake.gauges[1].value, -100);
    cd_reg_reset();
    cd_reg_snapshot(&fake);
    ASSERT_INT_EQ(fake.ngauges, 0);
}

/* ============================ registry: notes ============================ */

/* Notes are lines of text, copied whole into the snapshot (cut at
 * CD_NOTE_MAX), cleared by "" or a reset, and drawn under the figures. */
/* test: registry: notes, drawn under the figures */
static void notes_are_copied_whole_and_drawn_under_the_figures(void)
{
    char longer[2 * CD_NOTE_MAX];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    cd_reg_reset();
    cd_reg_note(0, "instance 1  pid 42  order 3: payment gateway");
    cd_reg_note(2, longer);
    cd_reg_note(CD_MAX_NOTES, "out of the table: ignored");
    cd_reg_snapshot(&fake);
    ASSERT_INT_EQ(fake.nnotes, 3);
    CU_ASSERT_STRING_EQUAL(fake.notes[0],
                           "instance 1  pid 42  order 3: payment gateway");
    CU_ASSERT_STRING_EQUAL(fake.notes[1], "");
    ASSERT_INT_EQ((int)strlen(fake.notes[2]), CD_NOTE_MAX - 1);
    cd_reg_note(2, "");
    cd_reg_snapshot(&fake);
    ASSERT_INT_EQ(fake.nnotes, 1);
    cd_screen_in_t in = busy(); /* (a fresh snapshot: the note again) */
    fake.nnotes = 1;
    snprintf(fake.notes[0], CD_NOTE_MAX, "instance 1  pid 42  order 3");
    probe_render(&in, 80, 30);
    int live = -1, note = -1;
    char row[CD_SCREEN_MAX_W + 1];
    for (int y = 0; y < probe_grid.h; y++) {
        cd_grid_row(&probe_grid, y, row, sizeof row);
        if (strncmp(row, "live:", 5) == 0 && live < 0)
            live = y;
        if (strncmp(row, "instance 1  pid 42  order 3", 27) == 0)
            note = y;
    }
    /* Its own row, the first after the figures (one row of them here). */
    CU_ASSERT_TRUE(live >= 0);
    ASSERT_INT_EQ(note, live + 1);
    cd_reg_reset();
    cd_reg_snapshot(&fake);
    ASSERT_INT_EQ(fake.nnotes, 0);
}

/* ============================ registry: pause ============================ */

static void spinner(void *ctx, int index)
{
    (void)ctx;
    (void)index;
    for (;;) {
        cd_point("spin");
        cd_latency("work", 1000);
    }
}

static void finite(void *ctx, int index)
{
    (void)ctx;
    (void)index;
    for (int i = 0; i < 20; i++)
        cd_point("step");
}

static int64_t ms_now(void) { return cd_now_ns() / 1000000; }

/* Waits (10 s at most) until n threads show `state`. */
static int wait_for_state(int state, int n)
{
    static cd_snapshot_t s;
    for (int64_t end = ms_now() + 10000; ms_now() < end;) {
        cd_reg_snapshot(&s);
        int k = 0;
        for (int i = 0; i < s.nthreads; i++)
            k += s.threads[i].state == state;
        if (k >= n)
            return 1;
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, NULL);
    }
    return 0;
}

static uint64_t total_ops(void)
{
    static cd_snapshot_t s;
    uint64_t n = 0;
    cd_reg_snapshot(&s);
    for (int i = 0; i < s.nthreads; i++)
        n += s.threads[i].nops;
    return n;
}

typedef struct pause_check {
    int failed; /* the first check that failed, 0 if none */
} pause_check_t;

static void *pause_controller(void *arg)
{
    pause_check_t *c = arg;
    /* Both workers stop at the choke point and stay there. */
    if (!wait_for_state(CD_T_PAUSED, 2)) {
        c->failed = 10;
        return NULL;
    }
    uint64_t before = total_ops();
    int64_t paused_from = cd_reg_elapsed_ns();
    struct timespec ts = { 0, 50000000 };
    nanosleep(&ts, NULL);
    if (total_ops() != before)
        c->failed = 11;
    /* Paused time does not count towards the hard timeout. */
    int64_t paused = cd_reg_elapsed_ns() - paused_from;
    if (cd_reg_active_ns() > cd_reg_elapsed_ns() - paused + 1000000)
        c->failed = 12;
    cd_reg_set_paused(0);
    return NULL;
}

/* In a child: a paused team stops at the choke point, stays stopped, and
 * finishes once resumed. Returns 0 or the number of the failed check. */
static int pause_child(void)
{
    pthread_t ctl;
    pause_check_t c = { 0 };

    cd_reg_reset();
    cd_reg_set_paused(1);
    pthread_create(&ctl, NULL, pause_controller, &c);
    if (cd_team_run(2, "worker", finite, NULL) != 0)
        return 1;
    pthread_join(ctl, NULL);
    if (c.failed)
        return c.failed;

    return 0;
}

static void *abort_when_paused(void *arg)
{
    int *ok = arg;
    *ok = wait_for_state(CD_T_PAUSED, 2);
    cd_reg_abort(CD_ABORT_USER);
    return NULL;
}

/* In a child: a paused team whose run is aborted (q in the view) ends. */
static int pause_abort_child(void)
{
    pthread_t ctl;
    int ok = 0;

    cd_reg_reset();
    cd_reg_set_paused(1);
    pthread_create(&ctl, NULL, abort_when_paused, &ok);
    int aborted = cd_team_run(2, "worker", spinner, NULL);
    pthread_join(ctl, NULL);
    if (!ok)
        return 20;
    return aborted == 2 ? 0 : 21;
}

/* test: registry: pause holds threads until resumed */
static void pause_holds_threads_until_resumed(void)
{
    CU_ASSERT_TRUE(passes_in_child("pause_child", pause_child, LIMIT_MS));
}

/* test: registry: paused threads end when the run is aborted */
static void paused_threads_end_when_the_run_is_aborted(void)
{
    CU_ASSERT_TRUE(passes_in_child("pause_abort_child", pause_abort_child, LIMIT_MS));
}

/* ================================ observer =============================== */

static cd_run_opts_t view_opts(const char *name)
{
    const cd_scenario_t *s = cd_scenario_find(name);
    return (cd_run_opts_t){ .params = s->defaults, .timeout_ms = 20000,
                            .latency_permille = CD_VIEW_SCALE_PERMILLE };
}

/* In a child: q in the middle of a run ends it as STOPPED. */
static int stop_child(void)
{
    const cd_scenario_t *s = cd_scenario_find("deadlock");
    cd_run_opts_t o = view_opts("deadlock");
    cd_observer_t *obs;
    cd_run_result_t r;
    cd_screen_in_t in;

    if (cd_observer_start(&obs, s, cd_scenario_variant(s, "ordering"), &o))
        return 30;
    /* Wait until a transfer is inside its 100 ms fraud check. */
    for (int64_t end = ms_now() + 10000;; ) {
        cd_observer_sample(obs);
        cd_observer_screen(obs, &in);
        int sleeping = 0;
        for (int i = 0; i < in.snap->nthreads; i++)
            sleeping += in.snap->threads[i].state == CD_T_SLEEPING;
        if (sleeping)
            break;
        if (ms_now() > end)
            return 31;
        struct timespec ts = { 0, 5000000 };
        nanosleep(&ts, NULL);
    }
    cd_observer_stop(obs);
    cd_observer_finish(obs, &r);
    if (r.verdict.status != CD_STOPPED)
        return 32;
    if (!strstr(r.verdict.observed, "stopped by the user"))
        return 33;
    return 0;
}

/* test: observer: quitting mid-run gives STOPPED */
static void quitting_mid_run_stops_it(void)
{
    CU_ASSERT_TRUE(passes_in_child("stop_child", stop_child, LIMIT_MS));
}

/* In a child: after a deadlock the final frame keeps the cycle although
 * the abort ended both threads. */
static int cycle_child(void)
{
    const cd_scenario_t *s = cd_scenario_find("deadlock");
    cd_run_opts_t o = view_opts("deadlock");
    /* Controlled: a starved free run may let one transfer finish before
     * the other takes its first account, a lucky run with no cycle. */
    cd_sched_cfg_t cfg = sched_cfg(CD_SCHED_RANDOM, 1);
    o.sched = &cfg;
    cd_observer_t *obs;
    cd_run_result_t r;
    cd_screen_in_t in;

    if (cd_observer_start(&obs, s, 0, &o))
        return 40;
    for (int64_t end = ms_now() + 20000; !cd_observer_finished(obs);) {
        cd_observer_sample(obs);
        if (ms_now() > end)
            return 41;
        struct timespec ts = { 0, CD_FRAME_MS * 1000000L };
        nanosleep(&ts, NULL);
    }
    cd_observer_screen(obs, &in);
    if (!in.cycle || in.cycle->len != 2 || !in.verdict)
        return 42;
    for (int k = 0; k < 2; k++)
        if (in.snap->threads[in.cycle->link[k].thread - 1].state !=
            CD_T_ABORTED)
            return 43;
    cd_grid_t g = { 0 };
    cd_grid_resize(&g, 80, 24);
    cd_screen_render(&g, &in);
    int x, y, found = cd_grid_find(&g, cycle_line, &x, &y);
    cd_grid_free(&g);
    cd_observer_finish(obs, &r);
    if (!found)
        return 44;
    return r.verdict.status == CD_DEADLOCK ? 0 : 45;
}

/* test: observer: the final frame keeps the cycle */
static void final_frame_keeps_the_cycle_after_the_abort(void)
{
    CU_ASSERT_TRUE(passes_in_child("cycle_child", cycle_child, LIMIT_MS));
}

/* ============================== --view=text ============================== */

static cmd_out_t out;

/* Runs SCENARIO --view=text [FIX] with $CONCDEMO, where a TSan report
 * (make test-tsan) exits 1 like a broken variant, so a fixed variant with
 * a report fails its exit-code check. */
static void run_view_text(const char *scenario, const char *fix)
{
    const char *argv[] = { concdemo_bin(), scenario, "--view=text", fix,
                           NULL };
    run_cmd(&out, argv, "TSAN_OPTIONS=exitcode=1", LIMIT_MS);
}

/* test: --view=text: deadlock shows the cycle */
static void text_view_of_deadlock_shows_the_cycle(void)
{
    /* Controlled: a starved free run may let one transfer finish before
     * the other takes its first account, a lucky run with no cycle. */
    run_view_text("deadlock", "--sched=random:1");
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, cycle_line);
    ASSERT_STR_HAS(out.out, "DEADLOCK: each thread waits");
    ASSERT_STR_HAS(out.out, "live: transfers 20 | transfers done 0");
    /* The normal verdict line follows the frames. */
    ASSERT_STR_HAS(out.out, "deadlock [broken]: DEADLOCK \xe2\x80\x94 expected");
    /* After the abort the cycle's threads still say what they waited for. */
    ASSERT_STR_HAS(out.out, "aborted: waited acct-B");
    ASSERT_STR_HAS(out.out, "aborted: waited acct-A");
}

/* test: --view=text: race shows the live figures */
static void text_view_of_race_shows_the_figures(void)
{
    /* Exact figures need every pair of checkouts to overlap, which only
     * the controlled scheduler's virtual clock promises: a starved free
     * run may finish one submission before its twin checks. */
    run_view_text("race", "--sched=random:1");
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "race [broken]: VIOLATED");
    ASSERT_STR_HAS(out.out, "charges 16 | charged twice 8");
    ASSERT_STR_HAS(out.out, "customer-1 balance -400");
    ASSERT_STR_HAS(out.out, "no lock has been taken so far");
    run_view_text("race", "--fixed=keyed");
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "race [keyed]: HELD");
    ASSERT_STR_HAS(out.out, "charges 8 | charged twice 0");
    ASSERT_STR_HAS(out.out, "customer[0]");
    /* a row per live key, of kind "key" */
    ASSERT_STR_HAS(out.out, "customer[0]  key ");
}

/* The last frame's live figures in out.out as one line, the rows the view
 * wrapped them onto joined again ("live: a 1 | b 2 | ..."); "" if none. */
static const char *last_live_line(char *buf, size_t size)
{
    const char *at = NULL;
    for (const char *p = out.out; (p = strstr(p, "live:")) != NULL; p++)
        if (p == out.out || p[-1] == '\n')
            at = p;
    size_t n = 0;
    buf[0] = '\0';
    while (at) {
        const char *end = strchr(at, '\n');
        size_t len = end ? (size_t)(end - at) : strlen(at);
        n += (size_t)snprintf(buf + n, size - n, "%s%.*s", n ? " " : "",
                              (int)len, at);
        if (!end || n >= size)
            break;
        at = end + 1 + strspn(end + 1, " "); /* a wrapped row: "   | x 1" */
        if (at[0] != '|' || at == end + 1)
            break;
    }
    return buf;
}

/* SCENARIO --view=text --sched=random:1 [ARG...]: a controlled run, the
 * same every time, whose last frame must show `figures` and whose verdict
 * must say `observed` - the live figures agree with what the run found.
 * In a TSan build a report exits 1 as well: a broken variant's data race
 * (publication's) is no surprise, and a fix's still fails exit_code 0. */
static void expect_live_figures(const char *const args[], int exit_code,
                                const char *figures, const char *observed)
{
    const char *argv[12] = { concdemo_bin() };
    int n = 1;
    for (int i = 0; args[i] && n < 8; i++)
        argv[n++] = args[i];
    argv[n++] = "--view=text";
    argv[n++] = "--sched=random:1";
    argv[n] = NULL;
    run_cmd(&out, argv, "TSAN_OPTIONS=halt_on_error=0 exitcode=1", LIMIT_MS);
    char live[512];
    ASSERT_INT_EQ(out.exit_code, exit_code);
    ASSERT_STR_HAS(last_live_line(live, sizeof live), figures);
    ASSERT_STR_HAS(out.out, observed);
}

/* test: --view=text: the other scenarios' live figures agree with their verdicts */
static void text_view_of_the_other_scenarios_shows_their_figures(void)
{
    static const char *const starvation[] = { "starvation", "--iterations",
                                              "100", NULL };
    static const char *const backpressure[] = { "backpressure", NULL };
    static const char *const timeout[] = { "backpressure", "--fixed=timeout",
                                           NULL };
    static const char *const drop[] = { "backpressure", "--fixed=drop", NULL };
    static const char *const await[] = { "await", NULL };
    static const char *const scope[] = { "await", "--fixed=scope", NULL };
    static const char *const async_race[] = { "async-race", NULL };
    static const char *const keyed[] = { "async-race", "--fixed=keyed", NULL };
    static const char *const publication[] = { "publication", NULL };
    static const char *const pub_mutex[] = { "publication", "--fixed=mutex",
                                             NULL };
    static const char *const livelock[] = { "livelock", NULL };
    static const char *const backoff[] = { "livelock", "--fixed=backoff",
                                           NULL };
    static const char *const stampede[] = { "stampede", NULL };
    static const char *const single[] = { "stampede", "--fixed=singleflight",
                                          NULL };
    static const char *const webhook[] = { "webhook", NULL };
    static const char *const wh_keyed[] = { "webhook", "--fixed=keyed", NULL };
    static const char *const wh_claim[] = { "webhook", "--fixed=idempotency",
                                            NULL };
    static const char *const inventory[] = { "inventory", NULL };
    static const char *const inv_keyed[] = { "inventory", "--fixed=keyed",
                                             NULL };
    static const char *const inv_reserve[] = { "inventory",
                                               "--fixed=reserve", NULL };
    static const char *const counter[] = { "counter", NULL };
    static const char *const ctr_actor[] = { "counter", "--fixed=actor",
                                             NULL };

    expect_live_figures(starvation, 1,
                        "reads 100 | reads past trimmer 89 | trims 5 | "
                        "trimmer waiting ms 0 | longest wait ms 92",
                        "waited 92 ms for the write lock while 89 reads");
    expect_live_figures(backpressure, 1,
                        "produced 2299 | delivered 250 | dropped 0 | given up "
                        "0 | queued 2049 | queue KiB 2048",
                        "the queue held 2049 lines");
    expect_live_figures(timeout, 0,
                        "produced 3000 | delivered 2890 | dropped 0 | given up "
                        "110 | queued 0",
                        "2890 delivered, 0 dropped, 110 given up");
    expect_live_figures(drop, 0,
                        "produced 3000 | delivered 428 | dropped 2572 | given "
                        "up 0 | queued 0",
                        "428 delivered, 2572 dropped, 0 given up");
    expect_live_figures(await, 1, "requests 9 | finished 0 | saves in flight 1",
                        "0 of 9 requests finished");
    expect_live_figures(scope, 0, "requests 9 | finished 9 | saves in flight 0",
                        "all 9 requests finished");
    expect_live_figures(async_race, 1,
                        "checkouts done 12 | charges 12 | charged twice 6 | "
                        "at the gateway 0 | customer-1 balance -200",
                        "12 charges for 6 orders (6 charged twice");
    expect_live_figures(keyed, 0,
                        "checkouts done 12 | charges 6 | charged twice 0 | "
                        "at the gateway 0 | customer-1 balance 0",
                        "6 charges for 6 orders, all balances 0");
    expect_live_figures(publication, 1,
                        "connections 8 | published 8 | reads 32 | stale "
                        "reads 32", "32 of 32 reads saw the ready flag");
    expect_live_figures(pub_mutex, 0,
                        "connections 8 | published 8 | reads 32 | stale "
                        "reads 0", "32 reads, each found the session");
    expect_live_figures(livelock, 1,
                        "transfers 40 | transfers done 0 | retries 40 | "
                        "retries in a row 40",
                        "LIVELOCK \xe2\x80\x94 expected all 40 transfers");
    expect_live_figures(backoff, 0,
                        "transfers 40 | transfers done 40 | retries 16 | "
                        "retries in a row 0", "all 40 transfers completed");
    expect_live_figures(stampede, 1,
                        "keys 3 | requests 150 | requests done 150 | "
                        "database queries 150 | queries in flight 0",
                        "150 database queries for 3 keys (50 per key)");
    expect_live_figures(single, 0,
                        "keys 3 | requests 150 | requests done 150 | "
                        "database queries 3 | queries in flight 0",
                        "3 queries for 3 keys, 150 requests served");
    expect_live_figures(webhook, 1,
                        "events 8 | deliveries done 24 | fulfilments 24 | "
                        "fulfilled twice+ 8 | at the warehouse 0",
                        "24 fulfilments for 8 events (8 fulfilled 3 times)");
    expect_live_figures(wh_keyed, 0,
                        "events 8 | deliveries done 24 | fulfilments 8 | "
                        "fulfilled twice+ 0 | at the warehouse 0",
                        "8 fulfilments for 8 events, 16 retries");
    expect_live_figures(wh_claim, 0,
                        "events 8 | deliveries done 24 | fulfilments 8 | "
                        "fulfilled twice+ 0 | at the warehouse 0",
                        "8 fulfilments for 8 events, 16 retries");
    expect_live_figures(inventory, 1,
                        "buyers done 120 | sold 75 | oversold 45 | declined "
                        "15 | returned 0 | at payment 0 | lamp stock -15",
                        "25 sold of 10 in stock per product: 15 oversold");
    expect_live_figures(inv_keyed, 0,
                        "buyers done 120 | sold 30 | oversold 0 | declined 6 "
                        "| returned 0 | at payment 0 | lamp stock 0",
                        "10 sold of 10 in stock per product, none oversold");
    expect_live_figures(inv_reserve, 0,
                        "buyers done 120 | sold 30 | oversold 0 | declined 6 "
                        "| returned 6 | at payment 0 | lamp stock 0",
                        "6 declined, each unit given back");
    expect_live_figures(counter, 1, "views served 24 | views counted 6",
                        "24 views served, 6 counted: 18 lost");
    expect_live_figures(ctr_actor, 0, "views served 24 | views counted 24",
                        "24 views served, 24 counted, none lost");
}

/* The view reads the registry and the trace while the demo's threads
 * write them: under ThreadSanitizer, no report for a fixed variant, and
 * the broken race is still reported (watching did not hide it). */
/* The runs of the test below (the TSan binary, where a report exits 66),
 * and what each must end with. */
static const char *const tsan_views[][3] = {
    /* scenario, fix (NULL: broken), exit code */
    { "race", "--fixed=keyed", "0" },
    { "race", "--fixed=mutex", "0" },
    { "deadlock", "--fixed=timeout", "0" },
    { "webhook", "--fixed=keyed", "0" },
    { "inventory", "--fixed=keyed", "0" },
    { "race", NULL, "66" },
};
#define NTSAN_VIEWS (int)(sizeof tsan_views / sizeof tsan_views[0])

static void tsan_view_ended(int i, const cmd_out_t *o, void *arg)
{
    (void)arg;
    if (tsan_views[i][1]) {
        char what[96];
        snprintf(what, sizeof what, "%s %s", tsan_views[i][0],
                 tsan_views[i][1]);
        expect_no_tsan_report(o, what, 0);
        return;
    }
    /* Watching did not hide the broken race. */
    ASSERT_STR_HAS(o->err, "checkout_broken demos/race.c:");
    ASSERT_INT_EQ(o->exit_code, atoi(tsan_views[i][2]));
}

/* long test: --view=text under TSan: no report from watching */
static void text_view_adds_no_tsan_report(void)
{
    /* Side by side: each run mostly sleeps through the view's slowed
     * latency. */
    const char *argv[NTSAN_VIEWS][5];
    cmd_spec_t cmds[NTSAN_VIEWS];
    require_tsan_bin();
    for (int i = 0; i < NTSAN_VIEWS; i++) {
        const char *a[] = { concdemo_tsan_bin(), tsan_views[i][0],
                            "--view=text", tsan_views[i][1], NULL };
        memcpy(argv[i], a, sizeof a);
        cmds[i] = (cmd_spec_t){ argv[i],
                                "TSAN_OPTIONS=halt_on_error=0 exitcode=66" };
    }
    ASSERT_INT_EQ(run_cmds(cmds, NTSAN_VIEWS, NTSAN_VIEWS, LIMIT_MS,
                           tsan_view_ended, NULL), 0);
}

/* test: --view without a terminal: usage error */
static void view_without_a_terminal_is_a_usage_error(void)
{
    const char *argv[] = { concdemo_bin(), "deadlock", "--view", NULL };
    run_cmd(&out, argv, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 2);
    ASSERT_INT_EQ(count_lines(out.err), 1);
    ASSERT_STR_HAS(out.err, "--view needs a terminal");
    ASSERT_INT_EQ((long long)strlen(out.out), 0);
    const char *bad[] = { concdemo_bin(), "race", "--view=fancy", NULL };
    run_cmd(&out, bad, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 2);
    ASSERT_STR_HAS(out.err, "--view takes no value or =text");
}

/* ========================= the real view, in tmux ======================== */

/* The tmux server of the test that runs now ("" when none): its socket's
 * name (tmux -L), and the files its pane writes. */
static char sock[64], errfile[128], pidfile[128];

static void stop_tmux(void);

/* Every server of this runner is called concdemo-test-PID-N. */
static int sock_prefix(char *buf, size_t size)
{
    return snprintf(buf, size, "concdemo-test-%d-", (int)getpid());
}

/* The directory where tmux -L puts its sockets: $TMUX_TMPDIR or /tmp,
 * then tmux-UID, as tmux itself builds it. */
static void sock_dir(char *buf, size_t size)
{
    const char *tmp = getenv("TMUX_TMPDIR");
    snprintf(buf, size, "%s/tmux-%ld", tmp && *tmp ? tmp : "/tmp",
             (long)getuid());
}

/* Runs tmux on this test's own server with the given arguments. */
static void tmux(cmd_out_t *o, const char *a1, const char *a2, const char *a3,
                 const char *a4, const char *a5)
{
    const char *argv[] = { "tmux", "-L", sock, "-f", "/dev/null",
                           a1, a2, a3, a4, a5, NULL };
    run_cmd(o, argv, NULL, LIMIT_MS);
}

static int have_tmux(void)
{
    const char *argv[] = { "tmux", "-V", NULL };
    run_cmd(&out, argv, NULL, LIMIT_MS);
    if (out.exit_code == 0)
        return 1;
    fprintf(stderr, "\n  SKIPPED: tmux is not installed, so the terminal "
            "view was not driven (scripts/deps.sh installs it)\n");
    return 0;
}

/* Starts `concdemo ARGS --view` in a w x h tmux pane. After the view the
 * pane's shell prints the exit code and the tty's icanon/echo modes, then
 * waits, so that the test can read them. */
static void start_view_sized(const char *args, int w, int h)
{
    char size_w[16], size_h[16];
    char cmd[1024], cwd[512];
    static int nth;
    /* A server of its own per test: a new session on the socket of a
     * server that is still shutting down would fail. */
    stop_tmux(); /* one server at a time: end the last one first */
    int n = sock_prefix(sock, sizeof sock);
    snprintf(sock + n, sizeof sock - (size_t)n, "%d", ++nth);
    snprintf(errfile, sizeof errfile, "/tmp/concdemo-view-%d.err",
             (int)getpid());
    snprintf(pidfile, sizeof pidfile, "/tmp/concdemo-view-%d.pid",
             (int)getpid());
    unlink(pidfile);
    CU_ASSERT_FATAL(getcwd(cwd, sizeof cwd) != NULL);
    snprintf(cmd, sizeof cmd,
             "sh -c 'echo $$ >%s; exec %s %s --view' 2>%s; rc=$?; "
             "echo \"view-exit=$rc tty=[$(stty -a | tr ' ;' '\n\n' | "
             "grep -E '^-?(icanon|echo)$' | tr '\n' ' ')]\"; sleep 120",
             pidfile, concdemo_bin(), args, errfile);
    snprintf(size_w, sizeof size_w, "%d", w);
    snprintf(size_h, sizeof size_h, "%d", h);
    const char *argv[] = { "tmux", "-L", sock, "-f", "/dev/null",
                           "new-session", "-d", "-x", size_w, "-y", size_h,
                           "-s", "view", "-c", cwd, cmd, NULL };
    run_cmd(&out, argv, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 0);
}

static void start_view(const char *args)
{
    start_view_sized(args, 100, 30);
}

/* Polls the pane until it shows needle; 1 then (the screen is in
 * out.out), 0 at the deadline (the last screen is printed). */
static int wait_pane(const char *needle)
{
    for (int64_t end = ms_now() + PANE_WAIT_MS; ms_now() < end;) {
        tmux(&out, "capture-pane", "-p", "-t", "view", NULL);
        if (strstr(out.out, needle))
            return 1;
        struct timespec ts = { 0, 50000000 };
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "\n  the pane never showed \"%s\"; it shows:\n%s\n",
            needle, out.out);
    return 0;
}

static void keys(const char *k)
{
    tmux(&out, "send-keys", "-t", "view", k, NULL);
}

/* After the view: the pane shows `exit_line` and what (the verdict line
 * left in the terminal); tty modes back, normal screen, cursor visible.
 * report NULL: nothing on stderr from a sanitizer; otherwise stderr must
 * hold report (the view let a sanitizer's report through). */
static void expect_terminal_back_with(const char *exit_line, const char *what,
                                      const char *report)
{
    /* The pane's shell prints exit code and tty modes in one line. */
    CU_ASSERT_FATAL(wait_pane(" tty=["));
    ASSERT_STR_HAS(out.out, exit_line);
    ASSERT_STR_HAS(out.out, " tty=[icanon echo ]");
    ASSERT_STR_HAS(out.out, what);
    tmux(&out, "display-message", "-p", "-t", "view",
         "alternate screen #{alternate_on}, cursor shown #{cursor_flag}");
    ASSERT_STR_HAS(out.out, "alternate screen 0, cursor shown 1");
    FILE *f = fopen(errfile, "r");
    if (f) {
        char err[4096] = "";
        size_t n = fread(err, 1, sizeof err - 1, f);
        err[n] = '\0';
        fclose(f);
        if (report) {
            ASSERT_STR_HAS(err, report);
            return;
        }
        if (strstr(err, "Sanitizer"))
            fprintf(stderr, "\n  stderr of the view:\n%s\n", err);
        CU_ASSERT_PTR_NULL(strstr(err, "Sanitizer"));
    } else {
        CU_ASSERT_PTR_NULL(report);
    }
}

static void expect_terminal_back(const char *exit_line, const char *what)
{
    expect_terminal_back_with(exit_line, what, NULL);
}

/* Ends the test's tmux server and removes what it left: tmux keeps its
 * socket file after kill-server, so each run would leave one per test.
 * The suite's teardown, so it runs after every test, also one that a
 * failed fatal assertion ended midway. */
static void stop_tmux(void)
{
    char path[256];
    if (!sock[0])
        return;
    tmux(&out, "kill-server", NULL, NULL, NULL, NULL);
    sock_dir(path, sizeof path);
    size_t n = strlen(path);
    snprintf(path + n, sizeof path - n, "/%s", sock);
    unlink(path);
    unlink(errfile);
    unlink(pidfile);
    sock[0] = '\0';
}

/* After the tmux tests: no socket named for this runner is left. */
/* test: tmux: the tests leave no socket behind */
static void tmux_tests_leave_no_socket_behind(void)
{
    char dir[256], prefix[64];
    sock_dir(dir, sizeof dir);
    size_t n = (size_t)sock_prefix(prefix, sizeof prefix);
    DIR *d = opendir(dir);
    if (!d)
        return; /* no tmux server ever ran here: nothing was left */
    int left = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strncmp(e->d_name, prefix, n) == 0) {
            fprintf(stderr, "\n  left behind: %s/%s\n", dir, e->d_name);
            left++;
        }
    closedir(d);
    ASSERT_INT_EQ(left, 0);
}

/* The view's process id, from the pane's pid file. */
static pid_t view_pid(void)
{
    long pid = 0;
    FILE *f = fopen(pidfile, "r");
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return (pid_t)pid;
}

/* test: tmux: deadlock drawn, terminal given back */
static void terminal_view_draws_the_deadlock_and_gives_the_terminal_back(void)
{
    if (!have_tmux())
        return;
    start_view("deadlock");
    CU_ASSERT_TRUE(wait_pane(cycle_line));
    ASSERT_STR_HAS(out.out, "concdemo deadlock [broken]");
    ASSERT_STR_HAS(out.out, "DEADLOCK: each thread waits");
    /* The verdict stays until a key is pressed. */
    CU_ASSERT_TRUE(wait_pane("press any key to leave"));
    keys("q");
    expect_terminal_back("view-exit=1 ", "deadlock [broken]: DEADLOCK");
}

/* test: tmux: p pauses, + slows, q quits */
static void terminal_view_pauses_slows_and_quits(void)
{
    if (!have_tmux())
        return;
    start_view("race --fixed=mutex --iterations 200");
    CU_ASSERT_TRUE(wait_pane("RUNNING"));
    keys("p");
    CU_ASSERT_TRUE(wait_pane(" PAUSED "));
    /* The thread that holds the lock is held at the choke point (the
     * others wait for the lock, so never reach it). */
    CU_ASSERT_TRUE(wait_pane(" paused "));
    keys("+");
    CU_ASSERT_TRUE(wait_pane("latency x200"));
    keys("q");
    expect_terminal_back("view-exit=1 ", "race [mutex]: STOPPED");
}

/* test: tmux: Ctrl-C ends cleanly */
static void terminal_view_ends_cleanly_on_ctrl_c(void)
{
    if (!have_tmux())
        return;
    start_view("race --fixed=mutex --iterations 200");
    CU_ASSERT_TRUE(wait_pane("RUNNING"));
    keys("C-c");
    expect_terminal_back("view-exit=130 ", "race [mutex]: STOPPED");
}

/* test: tmux: a crash gives the terminal back */
static void terminal_view_gives_the_terminal_back_on_a_crash(void)
{
    if (!have_tmux())
        return;
    start_view("race --fixed=mutex --iterations 200");
    /* Mid-run, its threads at work. A SIGABRT sent while the TSan build
     * was still starting them (the view showed only "spawn checkout-1")
     * ended it with a SIGSEGV and the screen not given back, once in three
     * loaded CI runs; not reproduced idle (5 of 5 gave it back), cause not
     * found. A crash mid-run is what this test is about. */
    CU_ASSERT_TRUE(wait_pane(" acquired "));
    pid_t pid = view_pid();
    CU_ASSERT_FATAL(pid > 0);
    /* What a failed CD_CHECK does: abort(). */
    kill(pid, SIGABRT);
    expect_terminal_back("view-exit=134 ", "race [mutex]");
}

/* A client of chat --serve on 127.0.0.1:port that says lines and reads
 * nothing (rcvbuf: its receive buffer, set before the handshake), or -1. */
static int chat_client(int port, const char *lines, int rcvbuf)
{
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = { .tv_sec = 1 };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        send(fd, lines, strlen(lines), MSG_NOSIGNAL) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The learner's experiment of lesson 20 in the real view: one nc stops
 * reading (Ctrl-Z), another talks; the view shows the sleeper's
 * connection with its writes blocked while the broadcaster holds the
 * room's lock; Ctrl-C ends the server and gives the terminal back. */
/* test: tmux: chat --serve, a sleeping client stalls the room */
static void terminal_view_shows_a_chat_server_stall(void)
{
    if (!have_tmux())
        return;
    start_view_sized("chat --serve 0", 120, 40);
    CU_ASSERT_FATAL(wait_pane("nc 127.0.0.1 "));
    int port = atoi(strstr(out.out, "nc 127.0.0.1 ") + 13);
    CU_ASSERT_FATAL(port > 0);
    int sleeper = chat_client(port, "/name sleeper\n/join lobby\n", 4096);
    CU_ASSERT_FATAL(sleeper >= 0);
    CU_ASSERT_TRUE(wait_pane("clients 1"));
    int talker = chat_client(port, "/name ada\n/join lobby\n", 0);
    CU_ASSERT_FATAL(talker >= 0);
    char line[1024], sink[65536];
    memset(line, 'z', sizeof line);
    line[sizeof line - 1] = '\n';
    /* Far more than the sleeper's path holds; the talker reads its own
     * lines back as they come, so that only the sleeper's path fills. */
    for (int i = 0; i < 100; i++) {
        if (send(talker, line, sizeof line, MSG_NOSIGNAL) < 0)
            break;
        while (recv(talker, sink, sizeof sink, MSG_DONTWAIT) > 0)
            ;
    }
    CU_ASSERT_TRUE(wait_pane("WRITES BLOCKED"));
    /* The session stuck in the write holds the room (its row). A frame
     * may show the connection's blocked writes before the session's row
     * shows its write (a loaded machine drew one in CI): wait for both. */
    CU_ASSERT_TRUE(wait_pane("write conn-1"));
    const char *row = strstr(out.out, "write conn-1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(row);
    while (row > out.out && row[-1] != '\n')
        row--;
    char held[256];
    snprintf(held, sizeof held, "%.*s", (int)strcspn(row, "\n"), row);
    ASSERT_STR_HAS(held, "room-lobby");
    keys("C-c");
    expect_terminal_back("view-exit=130 ", "chat [broken]: STOPPED");
    close(sleeper);
    close(talker);
}

/* Step mode in the terminal, at the size a learner's terminal has: the
 * learner picks two steps, sees the panel follow, hands the rest to auto
 * and gets the verdict with the schedule that was played. */
/* test: tmux: step mode, the learner plays the scheduler */
static void terminal_view_lets_the_learner_play_the_scheduler(void)
{
    if (!have_tmux())
        return;
    start_view_sized("race --sched=step --threads 2 --iterations 1", 80, 24);
    CU_ASSERT_TRUE(wait_pane("YOUR MOVE (step 1)"));
    ASSERT_STR_HAS(out.out, " [1] main ");
    ASSERT_STR_HAS(out.out, " [2] checkout-1 ");
    ASSERT_STR_HAS(out.out, "Enter main goes on");
    /* checkout-2 is not spawned yet: no key for it. */
    CU_ASSERT_PTR_NULL(strstr(out.out, "[3] checkout-2"));
    keys("2");
    CU_ASSERT_TRUE(wait_pane("YOUR MOVE (step 2)"));
    ASSERT_STR_HAS(out.out, " [3] checkout-2 ");
    keys("3");
    CU_ASSERT_TRUE(wait_pane("YOUR MOVE (step 3)"));
    /* The thread just picked is the one that ran last. */
    const char *row = strstr(out.out, " [3] checkout-2 ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(row);
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)strcspn(row, "\n"), row);
    ASSERT_STR_HAS(line, "ran last");
    ASSERT_STR_HAS(out.out, "Enter checkout-2 goes on");
    keys("a");
    CU_ASSERT_TRUE(wait_pane("press any key to leave"));
    ASSERT_STR_HAS(out.out, "race [broken]: ");
    ASSERT_STR_HAS(out.out, "schedule: 2.3");
    /* The replay command names the program as the pane ran it. */
    char replay[256];
    snprintf(replay, sizeof replay,
             "replay: %s race --threads 2 --iterations 1", concdemo_bin());
    ASSERT_STR_HAS(out.out, replay);
    CU_ASSERT_PTR_NULL(strstr(out.out, "YOUR MOVE (step"));
    keys("x");
#ifdef CD_TSAN
    /* The binary under test is the TSan build (make test-tsan): stepping
     * must not hide the broken checkout's race from it. */
    expect_terminal_back_with("view-exit=66 ", "schedule: 2.3",
                              "checkout_broken demos/race.c:");
#else
    expect_terminal_back("view-exit=1 ", "schedule: 2.3");
#endif
}
