/*
 * test_step.c - step mode in the view: the keys, the STEP panel of the
 * screen model on made-up decisions, the mailbox between the run's chooser
 * and the view, and scripted `--view=text --sched=step` runs whose
 * schedules must be the ones the answers imply. (The terminal view itself
 * is driven in tmux by suite_view.)
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../cli/report.h"
#include "../cli/screen.h"
#include "../cli/step.h"
#include "../lib/cd_sched.h"
#include "harness.h"
#include "screen_probe.h"

/* suite: step */

#define LIMIT_MS 60000

static cmd_out_t out, out2;

/* ============================== the keys ================================= */

/* test: keys follow thread ids, without a, h and q */
static void keys_follow_thread_ids_without_the_command_letters(void)
{
    CU_ASSERT_EQUAL(cd_step_key(1), '1');
    CU_ASSERT_EQUAL(cd_step_key(9), '9');
    CU_ASSERT_EQUAL(cd_step_key(10), 'b');
    CU_ASSERT_EQUAL(cd_step_key(15), 'g');
    CU_ASSERT_EQUAL(cd_step_key(16), 'i'); /* h is help */
    CU_ASSERT_EQUAL(cd_step_key(23), 'p');
    CU_ASSERT_EQUAL(cd_step_key(24), 'r'); /* q is quit */
    CU_ASSERT_EQUAL(cd_step_key(32), 'z');
    CU_ASSERT_EQUAL(cd_step_key(33), 0);
    CU_ASSERT_EQUAL(cd_step_key(0), 0);
    /* No key twice, and none is a command. */
    for (int a = 1; a <= 32; a++) {
        CU_ASSERT_TRUE(strchr("ahq", cd_step_key(a)) == NULL);
        for (int b = a + 1; b <= 32; b++)
            CU_ASSERT_NOT_EQUAL(cd_step_key(a), cd_step_key(b));
    }
}

static cd_step_ask_t ask; /* a decision built by hand */

static void add_choice(int id, int op, int obj, const char *label,
                       const char *file, int line)
{
    ask.choice[ask.n++] = (cd_step_choice_t){
        .id = id, .op = op, .obj = obj, .label = label,
        .site = { file, line },
    };
}

/* Step 7 of the double charge: checkout-1's gateway call is over,
 * checkout-2 (which ran last) waits at "check status", and thread 12 can
 * run too. */
static void race_ask(void)
{
    memset(&ask, 0, sizeof ask);
    ask.number = 7;
    ask.prev = 3;
    ask.fallback = 3;
    add_choice(2, CD_OP_LATENCY, 0, "payment-gateway", "demos/race.c", 61);
    add_choice(3, CD_OP_POINT, 0, "check status", "demos/race.c", 80);
    add_choice(12, CD_OP_LOCK, 1, NULL, "demos/race.c", 95);
}

/* test: keys and lines answer the decision */
static void keys_and_lines_answer_the_decision(void)
{
    int id = 0;
    race_ask();
    ASSERT_INT_EQ(cd_step_key_action(&ask, '2', &id), CD_STEP_PICK);
    ASSERT_INT_EQ(id, 2);
    ASSERT_INT_EQ(cd_step_key_action(&ask, 'd', &id), CD_STEP_PICK);
    ASSERT_INT_EQ(id, 12);
    ASSERT_INT_EQ(cd_step_key_action(&ask, '\n', &id), CD_STEP_PICK);
    ASSERT_INT_EQ(id, 3); /* Enter: the one that ran last */
    ASSERT_INT_EQ(cd_step_key_action(&ask, '1', &id), CD_STEP_BAD);
    ASSERT_INT_EQ(cd_step_key_action(&ask, 'x', &id), CD_STEP_BAD);
    ASSERT_INT_EQ(cd_step_key_action(&ask, 'a', &id), CD_STEP_AUTO);
    ASSERT_INT_EQ(cd_step_key_action(&ask, 'q', &id), CD_STEP_QUIT);
    ASSERT_INT_EQ(cd_step_key_action(NULL, 'q', &id), CD_STEP_QUIT);
    ASSERT_INT_EQ(cd_step_key_action(NULL, '2', &id), CD_STEP_BAD);

    ASSERT_INT_EQ(cd_step_line_action(&ask, "", &id), CD_STEP_PICK);
    ASSERT_INT_EQ(id, 3);
    ASSERT_INT_EQ(cd_step_line_action(&ask, "12", &id), CD_STEP_PICK);
    ASSERT_INT_EQ(id, 12); /* a number is the thread id */
    ASSERT_INT_EQ(cd_step_line_action(&ask, "d", &id), CD_STEP_PICK);
    ASSERT_INT_EQ(id, 12); /* a letter is its key */
    ASSERT_INT_EQ(cd_step_line_action(&ask, "2", &id), CD_STEP_PICK);
    ASSERT_INT_EQ(id, 2);
    ASSERT_INT_EQ(cd_step_line_action(&ask, "a", &id), CD_STEP_AUTO);
    ASSERT_INT_EQ(cd_step_line_action(&ask, "q", &id), CD_STEP_QUIT);
    ASSERT_INT_EQ(cd_step_line_action(&ask, "4", &id), CD_STEP_BAD);
    ASSERT_INT_EQ(cd_step_line_action(&ask, "2x", &id), CD_STEP_BAD);
    ASSERT_INT_EQ(cd_step_line_action(&ask, "nonsense", &id), CD_STEP_BAD);
}

/* ============================ the STEP panel ============================= */

static cd_snapshot_t fake;

static void add_thread(int id, const char *name, int state)
{
    while (fake.nthreads < id) {
        cd_thread_info_t *t = &fake.threads[fake.nthreads++];
        memset(t, 0, sizeof *t);
        t->id = fake.nthreads;
        t->state = CD_T_UNUSED;
    }
    cd_thread_info_t *t = &fake.threads[id - 1];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->state = state;
}

static void race_snapshot(void)
{
    memset(&fake, 0, sizeof fake);
    fake.t_ns = 2000000; /* the virtual clock: 2 ms */
    add_thread(1, "main", CD_T_RUNNING);
    add_thread(2, "checkout-1", CD_T_SLEEPING);
    fake.threads[1].what = "payment-gateway";
    add_thread(3, "checkout-2", CD_T_RUNNING);
    add_thread(12, "auditor", CD_T_RUNNING);
    cd_obj_info_t *o = &fake.objs[fake.nobjs++];
    memset(o, 0, sizeof *o);
    o->id = 1;
    snprintf(o->name, sizeof o->name, "shop-lock");
    o->kind = CD_OBJ_MUTEX;
    o->live = 1;
}

static cd_screen_in_t step_input(void)
{
    return (cd_screen_in_t){
        .scenario = cd_scenario_find("race"),
        .variant = 0,
        .snap = &fake,
        .latency_permille = 1000,
        .interactive = 1,
        .step = &ask,
        .stepping = 1,
        .virtual_clock = 1,
    };
}

/* test: screen: the panel lists each runnable thread, key, next op */
static void panel_lists_each_runnable_thread_with_key_and_next_op(void)
{
    race_ask();
    race_snapshot();
    cd_screen_in_t in = step_input();
    probe_render(&in, 80, 24);
    ASSERT_INT_EQ(count_lines(probe_text), 24);
    ASSERT_STR_HAS(probe_row_with("YOUR MOVE (step 7)"), "who goes on?");
    ASSERT_STR_HAS(probe_row_with("YOUR MOVE (step 7)"), "clock 2.000ms");
    /* One row per runnable thread: key, name, what it waits to do, where. */
    const char *r = probe_row_with("[2] checkout-1");
    ASSERT_STR_HAS(r, "latency payment-gateway (over)");
    ASSERT_STR_HAS(r, "race.c:61");
    CU_ASSERT_PTR_NULL(strstr(r, "ran last"));
    r = probe_row_with("[3] checkout-2");
    ASSERT_STR_HAS(r, "point check status");
    ASSERT_STR_HAS(r, "race.c:80");
    ASSERT_STR_HAS(r, "ran last");
    r = probe_row_with("[d] auditor");
    ASSERT_STR_HAS(r, "lock shop-lock");
    /* main cannot run: no row for it in the panel. */
    CU_ASSERT_PTR_NULL(strstr(probe_text, "[1] main"));
    ASSERT_INT_EQ(probe_style_at("[2] checkout-1", 1), CD_S_KEY);
    ASSERT_INT_EQ(probe_style_at("YOUR MOVE (step", 0), CD_S_WARN);
    /* The title says whose move it is, on the virtual clock. */
    ASSERT_STR_HAS(probe_row_with(" concdemo race [broken]"), "virtual 2.000ms");
    ASSERT_STR_HAS(probe_row_with(" concdemo race [broken]"), "YOUR MOVE");
    /* The status line: the keys, and who Enter lets go on. */
    const char *status = probe_row_with("run it");
    ASSERT_STR_HAS(status, "2 3 d run it");
    ASSERT_STR_HAS(status, "Enter checkout-2 goes on");
    ASSERT_STR_HAS(status, "a auto to the end");
    ASSERT_STR_HAS(status, "q quit");
    CU_ASSERT_PTR_NULL(strstr(status, "pause"));
    char row[CD_SCREEN_MAX_W + 1];
    for (int y = 0; y < probe_grid.h; y++) {
        cd_grid_row(&probe_grid, y, row, sizeof row);
        CU_ASSERT_TRUE(strlen(row) <= 80);
    }
}

/* test: screen: text frames say how to answer */
static void panel_in_text_frames_says_how_to_answer(void)
{
    race_ask();
    race_snapshot();
    cd_screen_in_t in = step_input();
    in.interactive = 0;
    probe_render(&in, 80, 24);
    ASSERT_STR_HAS(probe_text, "answer: 2 3 d | empty line: checkout-2 goes on | "
                         "a: auto | q: quit");
    /* A key that ran nothing is named on the panel. */
    in.interactive = 1;
    in.bad_key = '7';
    probe_render(&in, 80, 24);
    ASSERT_STR_HAS(probe_row_with("YOUR MOVE (step"), "'7' cannot run now");
}

/* test: screen: a short screen cuts the panel, keeps the Enter row */
static void a_short_screen_cuts_the_panel_but_keeps_the_enter_row(void)
{
    /* Twelve runnable threads on the smallest screen: the panel takes
     * some rows, says how many it left out, and still shows the thread
     * that Enter would run (the last one here). */
    memset(&ask, 0, sizeof ask);
    memset(&fake, 0, sizeof fake);
    ask.number = 3;
    for (int id = 1; id <= 12; id++) {
        char name[16];
        snprintf(name, sizeof name, "worker-%d", id);
        add_thread(id, name, CD_T_RUNNING);
        add_choice(id, CD_OP_POINT, 0, "work", "demos/x.c", id);
    }
    ask.prev = ask.fallback = 12;
    cd_screen_in_t in = step_input();
    in.scenario = cd_scenario_find("race");
    probe_render(&in, CD_SCREEN_MIN_W, CD_SCREEN_MIN_H);
    ASSERT_INT_EQ(count_lines(probe_text), CD_SCREEN_MIN_H);
    ASSERT_STR_HAS(probe_row_with("YOUR MOVE (step 3)"), "more)");
    ASSERT_STR_HAS(probe_row_with("[d] worker-12"), "ran last");
    ASSERT_STR_HAS(probe_text, "[1] worker-1 ");
    /* The threads and the log keep rows of their own. */
    ASSERT_STR_HAS(probe_text, "THREAD");
    ASSERT_STR_HAS(probe_text, "EVENTS");
}

/* test: screen: the final frame shows schedule and replay */
static void final_frame_shows_schedule_and_replay_command(void)
{
    static cd_verdict_t v;
    race_snapshot();
    memset(&v, 0, sizeof v);
    cd_verdict_expect(&v, "each of 1 orders charged once");
    cd_verdict_observe(&v, CD_VIOLATED, "2 charges for 1 orders");
    cd_screen_in_t in = step_input();
    in.step = NULL;
    in.stepping = 0;
    in.verdict = &v;
    in.schedule = "2.3*2.2*4.1.3*3";
    in.nchoices = 11;
    in.replay = "concdemo race --threads 2 --iterations 1 "
                "--sched=replay:2.3*2.2*4.1.3*3";
    probe_render(&in, 80, 24);
    ASSERT_STR_HAS(probe_text, "race [broken]: VIOLATED - expected each of 1");
    ASSERT_STR_HAS(probe_row_with("schedule: "),
                   "schedule: 2.3*2.2*4.1.3*3 (11 choices)");
    /* The command wraps between words; its rows joined give it back. */
    int x, y;
    CU_ASSERT_FATAL(cd_grid_find(&probe_grid, "replay: concdemo race", &x, &y));
    char joined[512] = "", row[CD_SCREEN_MAX_W + 1];
    for (int r = y; r < probe_grid.h - 1; r++) {
        cd_grid_row(&probe_grid, r, row, sizeof row);
        if (!row[0])
            break;
        if (joined[0])
            strcat(joined, " ");
        strcat(joined, row);
    }
    CU_ASSERT_STRING_EQUAL(joined, "replay: concdemo race --threads 2 "
                           "--iterations 1 --sched=replay:2.3*2.2*4.1.3*3");
    ASSERT_STR_HAS(probe_row_with("press any key"), "run over");
    CU_ASSERT_PTR_NULL(strstr(probe_text, "YOUR MOVE"));
}

/* The replay command starts with the program as the user ran it, so that
 * pasting it into the same shell runs it: a path as given, quoted when
 * the shell needs it; a bare name (found on PATH) as "concdemo". */
/* test: the replay command names the program as it was run */
static void replay_command_names_the_program_as_it_was_run(void)
{
    static cd_run_result_t r;
    static const struct {
        const char *argv0, *program;
    } cases[] = {
        { "./build/concdemo", "./build/concdemo" },
        { "build/tsan/concdemo", "build/tsan/concdemo" },
        { "/usr/local/bin/concdemo", "/usr/local/bin/concdemo" },
        { "concdemo", "concdemo" },
        { "cd-demo", "concdemo" },
        { "/home/a b/it's/concdemo", "'/home/a b/it'\\''s/concdemo'" },
    };
    char buf[512], want[512];
    memset(&r, 0, sizeof r);
    r.scenario = cd_scenario_find("race");
    r.params = (cd_params_t){ .threads = 2, .iterations = 1 };
    r.controlled = 1;
    r.verdict.status = CD_VIOLATED;
    snprintf(r.schedule, sizeof r.schedule, "2.3*2");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cd_report_set_program(cases[i].argv0);
        cd_report_replay_command(&r, 1000, NULL, buf, sizeof buf);
        snprintf(want, sizeof want, "%s race --threads 2 --iterations 1 "
                 "--sched=replay:2.3*2", cases[i].program);
        CU_ASSERT_STRING_EQUAL(buf, want);
    }
    cd_report_set_program(NULL); /* back to the default for other tests */
    cd_report_replay_command(&r, 1000, NULL, buf, sizeof buf);
    ASSERT_STR_HAS(buf, "concdemo race --threads 2");
    CU_ASSERT_TRUE(strncmp(buf, "concdemo ", 9) == 0);
}

/* ============================== the mailbox ============================== */

typedef struct chooser_run {
    cd_step_box_t *box;
    int picks[3];
} chooser_run_t;

static int64_t ms_now(void) { return cd_now_ns() / 1000000; }

/* Plays the run's side: three decisions among threads 1 and 2. */
static void *chooser_side(void *arg)
{
    chooser_run_t *c = arg;
    static const int runnable[] = { 1, 2 };
    for (int k = 0; k < 3; k++)
        c->picks[k] = cd_step_box_chooser(runnable, 2, 2, c->box);
    cd_step_box_close(c->box);
    return NULL;
}

/* Waits (10 s at most) until the box holds an ask numbered above after. */
static int await_ask(cd_step_box_t *b, long after, cd_step_ask_t *a)
{
    for (int64_t end = ms_now() + 10000; ms_now() < end;)
        if (cd_step_box_wait(b, after, 100) && cd_step_box_peek(b, a) &&
            a->number > after)
            return 1;
    return 0;
}

/* In a child: the view's side answers the first decision, hands the
 * second to auto, and the third is never asked. */
static int mailbox_child(void)
{
    static cd_step_box_t box;
    static cd_step_ask_t a;
    chooser_run_t c = { .box = &box };
    pthread_t pt;

    cd_reg_reset();
    cd_step_box_init(&box);
    EXPECT(!cd_step_box_peek(&box, &a));
    EXPECT(pthread_create(&pt, NULL, chooser_side, &c) == 0);
    EXPECT(await_ask(&box, 0, &a));
    EXPECT_EQ(a.number, 1);
    EXPECT_EQ(a.n, 2);
    EXPECT_EQ(a.choice[0].id, 1);
    EXPECT_EQ(a.choice[1].id, 2);
    EXPECT_EQ(a.prev, 2);
    EXPECT_EQ(a.fallback, 2);
    /* Waiting for the learner counts as paused (the hard limit skips it). */
    EXPECT(cd_reg_paused());
    cd_step_box_answer(&box, 1);
    EXPECT(await_ask(&box, 1, &a));
    EXPECT_EQ(a.number, 2);
    cd_step_box_auto(&box);
    /* The box closes after the third decision, which asks nobody. */
    EXPECT(!cd_step_box_wait(&box, 2, 10000));
    EXPECT(pthread_join(pt, NULL) == 0);
    EXPECT_EQ(c.picks[0], 1);
    EXPECT_EQ(c.picks[1], 0); /* 0: the default policy decides */
    EXPECT_EQ(c.picks[2], 0);
    EXPECT(!cd_reg_paused());
    EXPECT(!cd_step_box_peek(&box, &a));
    cd_step_box_destroy(&box);
    return 0;
}

/* test: mailbox: each decision goes to the view and back */
static void mailbox_hands_each_decision_to_the_view_and_back(void)
{
    CU_ASSERT_TRUE(passes_in_child("mailbox_child", mailbox_child, LIMIT_MS));
}

/* ===================== --view=text --sched=step, scripted ================ */

static void step_run(cmd_out_t *o, const char *scenario, const char *view,
                     const char *input)
{
    const char *argv[] = { concdemo_bin(), scenario, "--sched=step",
                           "--threads=2", "--iterations=1", view, NULL };
    run_cmd_input(o, argv, "TSAN_OPTIONS=exitcode=1", input, LIMIT_MS);
}

/* The thread marked "ran last" in the frame of decision n: the one an
 * empty line lets go on. */
static int ran_last_at(const char *frames, int n)
{
    char head[64];
    snprintf(head, sizeof head, "YOUR MOVE (step %d)", n);
    const char *p = strstr(frames, head);
    if (!p)
        return 0;
    const char *end = strstr(p, "EVENTS");
    for (const char *row = strstr(p, "\n [");
         row && (!end || row < end); row = strstr(row + 1, "\n [")) {
        const char *eol = strchr(row + 1, '\n');
        const char *tag = strstr(row, "ran last");
        if (tag && (!eol || tag < eol))
            return row[3] - '0';
    }
    return 0;
}

/* test: --view=text: the answers imply the schedule; it replays */
static void scripted_text_view_plays_the_schedule_its_answers_imply(void)
{
    char sched[512], verdict[1024], replay[1024], err[128];
    uint16_t ids[512];

    /* Four answers - checkout-1, checkout-2, Enter, checkout-1 - then auto. */
    step_run(&out, "race", "--view=text", "2\n3\n\n2\na\n");
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "YOUR MOVE (step 1)");
    ASSERT_STR_HAS(out.out, " [2] checkout-1   go to the start gate");
    /* Four picks, and `a` answers the fifth decision: no sixth is shown. */
    ASSERT_STR_HAS(out.out, "YOUR MOVE (step 5)");
    CU_ASSERT_PTR_NULL(strstr(out.out, "YOUR MOVE (step 6)"));
    ASSERT_STR_HAS(out.out, "answer: 1 2 | empty line: main goes on");
    ASSERT_STR_HAS(out.out, "\n> 2\n");
    /* The final frame has the schedule and the replay command too, which
     * names the program as it was run ($CONCDEMO). */
    char want[256];
    snprintf(want, sizeof want, "\nreplay: %s race --threads 2",
             concdemo_bin());
    ASSERT_STR_HAS(out.out, want);
    CU_ASSERT_PTR_NOT_NULL_FATAL(line_after(out.out, "\nschedule: ", sched,
                                            sizeof sched));
    CU_ASSERT_PTR_NOT_NULL_FATAL(line_after(out.out, "race [broken]: ",
                                            verdict, sizeof verdict));
    *strchr(sched, ' ') = '\0';
    int n = cd_sched_parse_schedule(sched, ids, 512, err, sizeof err);
    CU_ASSERT_FATAL(n > 4);
    /* The first four decisions are the answers, Enter being whoever the
     * third frame marked as having run last. */
    int enter = ran_last_at(out.out, 3);
    CU_ASSERT_TRUE(enter == 2 || enter == 3);
    ASSERT_INT_EQ(ids[0], 2);
    ASSERT_INT_EQ(ids[1], 3);
    ASSERT_INT_EQ(ids[2], enter);
    ASSERT_INT_EQ(ids[3], 2);

    /* The plain prompt, given the same answers, plays the same run. */
    step_run(&out2, "race", NULL, "2\n3\n\n2\na\n");
    char sched2[512];
    CU_ASSERT_PTR_NOT_NULL_FATAL(line_after(out2.out, "schedule: ", sched2,
                                            sizeof sched2));
    *strchr(sched2, ' ') = '\0';
    CU_ASSERT_STRING_EQUAL(sched2, sched);
    ASSERT_STR_HAS(out2.out, verdict);

    /* And the replay command, run word for word as printed (its program
     * too, as a learner pastes it), gives the same verdict. The line after
     * the frames: the last frame wraps it. */
    const char *last = NULL;
    for (const char *p = out.out; (p = strstr(p, "\nreplay: ")) != NULL; p++)
        last = p;
    CU_ASSERT_PTR_NOT_NULL_FATAL(last);
    CU_ASSERT_PTR_NOT_NULL_FATAL(line_after(last, "\nreplay: ", replay,
                                            sizeof replay));
    expect_printed_run_repeats(&out2, replay, NULL, verdict,
                               "TSAN_OPTIONS=exitcode=1", LIMIT_MS);
    char replayed[640];
    snprintf(replayed, sizeof replayed, "schedule: %s (", sched);
    ASSERT_STR_HAS(out2.out, replayed);
}

/* test: --view=text: a thread that cannot run is refused */
static void scripted_text_view_refuses_a_thread_that_cannot_run(void)
{
    /* At the first decision only main and checkout-1 can run. */
    step_run(&out, "race", "--view=text", "3\n9\nzz\n2\n");
    ASSERT_STR_HAS(out.out, "'3' is not the key of a thread that can run");
    ASSERT_STR_HAS(out.out, "'9' is not the key of a thread that can run");
    ASSERT_STR_HAS(out.out, "'zz' is not the key of a thread that can run");
    /* The end of the input hands the rest to auto. */
    ASSERT_STR_HAS(out.out, "(end of input: auto)");
    char sched[512];
    CU_ASSERT_PTR_NOT_NULL_FATAL(line_after(out.out, "\nschedule: ", sched,
                                            sizeof sched));
    CU_ASSERT_TRUE(strncmp(sched, "2.", 2) == 0 || strncmp(sched, "2*", 2) == 0);
}

/* test: --view=text: q stops a step run where it stands */
static void quitting_a_step_run_stops_it_where_it_stands(void)
{
    /* Two transfers that would deadlock if auto played on: q must stop
     * the run at once (STOPPED), not let the default policy finish it. */
    step_run(&out, "deadlock", "--view=text", "2\nq\n");
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "deadlock [broken]: STOPPED");
    ASSERT_STR_HAS(out.out, "stopped by the user");
    ASSERT_STR_HAS(out.out, "schedule: 2 (1 choice");
    CU_ASSERT_PTR_NULL(strstr(out.out, "DEADLOCK \xe2\x80\x94"));
    /* A stopped run is not replayable: no replay command. */
    CU_ASSERT_PTR_NULL(strstr(out.out, "replay:"));
}

/* The mailbox's lock is taken inside the scheduler, where ThreadSanitizer
 * ignores synchronisation: answering the learner must neither add a
 * report to a fixed variant nor hide the broken race. */
/* long test: --view=text under TSan: stepping adds and hides no report */
static void stepping_in_the_view_adds_and_hides_no_tsan_report(void)
{
    require_tsan_bin();
    const char *fixed[] = { concdemo_tsan_bin(), "race", "--fixed=mutex",
                            "--sched=step", "--threads=2", "--iterations=1",
                            "--view=text", NULL };
    run_cmd_input(&out, fixed, "TSAN_OPTIONS=halt_on_error=0 exitcode=66",
                  "2\n3\n2\n\n3\na\n", LIMIT_MS);
    expect_no_tsan_report(&out, "race --fixed=mutex --sched=step", 0);
    ASSERT_STR_HAS(out.out, "race [mutex]: HELD");
    ASSERT_STR_HAS(out.out, "YOUR MOVE (step 3)");
    const char *broken[] = { concdemo_tsan_bin(), "race", "--sched=step",
                             "--threads=2", "--iterations=1", "--view=text",
                             NULL };
    run_cmd_input(&out, broken, "TSAN_OPTIONS=halt_on_error=0 exitcode=66",
                  "2\n3\n3\n2\na\n", LIMIT_MS);
    ASSERT_STR_HAS(out.err, "WARNING: ThreadSanitizer: data race");
    ASSERT_STR_HAS(out.err, "checkout_broken demos/race.c:");
    ASSERT_INT_EQ(out.exit_code, 66);
}

/* test: --view: step mode needs a terminal too */
static void step_mode_under_the_terminal_view_needs_a_terminal(void)
{
    const char *argv[] = { concdemo_bin(), "race", "--sched=step", "--view",
                           NULL };
    run_cmd_input(&out, argv, NULL, "2\n", LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 2);
    ASSERT_STR_HAS(out.err, "--view needs a terminal");
}

/* A waiter on a condition variable that may go on (signalled, or woken
 * for nothing under --spurious) leaves its wait: nothing is "free". */
/* test: screen: a condvar's waiter wakes (not: free now) */
static void panel_says_a_condvar_waiter_wakes(void)
{
    race_ask();
    race_snapshot();
    cd_obj_info_t *o = &fake.objs[fake.nobjs++];
    memset(o, 0, sizeof *o);
    o->id = 2;
    snprintf(o->name, sizeof o->name, "not-empty");
    o->kind = CD_OBJ_COND;
    o->live = 1;
    fake.threads[11].state = CD_T_BLOCKED;
    fake.threads[11].waiting_on = 2;
    ask.choice[2].op = CD_OP_COND_WAIT;
    ask.choice[2].obj = 2;
    cd_screen_in_t in = step_input();
    probe_render(&in, 80, 24);
    ASSERT_STR_HAS(probe_row_with("[d] auditor"), "cond-wait not-empty (wakes)");
    /* Blocked on a lock, it could have it: "free now". */
    fake.threads[11].waiting_on = 1;
    ask.choice[2].op = CD_OP_LOCK;
    ask.choice[2].obj = 1;
    probe_render(&in, 80, 24);
    ASSERT_STR_HAS(probe_row_with("[d] auditor"), "lock shop-lock (free now)");
}
