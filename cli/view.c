/*
 * view.c - the live view on a terminal: the one file that uses ncurses.
 *
 * The run goes on its own thread (observer.c). This thread samples it,
 * has screen.c lay out a frame, paints the frame, and waits for a key
 * until the next frame is due (getch with a timeout: no busy loop), at a
 * steady CD_FRAME_MS. Everything that ends the view - the normal end,
 * `q`, a signal, a crash, exit() - gives the terminal back through
 * cd_view_restore(), as htop does: an interrupted view must never leave
 * the learner's shell without echo, in raw mode or on the alternate
 * screen.
 */
#define _DEFAULT_SOURCE /* syscall(): the terminal's reset from a handler */
#include "view.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>

#include "observer.h"
#include "screen.h"

/* After the verdict nothing moves: look for a key (or a resize) less often. */
#define IDLE_FRAME_MS 250

/* ============================ the terminal back ========================== */

/* What giving the terminal back needs, prepared while taking it, so that
 * cd_view_restore() can run inside a signal handler: only write(),
 * tcsetattr(), dup2(), lseek(), read() there. */
static struct {
    atomic_int on;         /* the view owns the screen */
    atomic_int given_back; /* cd_view_restore() ran */
    pthread_t ui;          /* the thread that may call endwin() */
    struct termios tio;    /* the tty modes before the view */
    int have_tio;
    char reset[256];       /* attributes off, cursor on, normal screen */
    size_t nreset;
    int real_err;          /* the real stderr while it is held, else -1 */
    int held_err;          /* the temporary file it goes to meanwhile */
    SCREEN *scr;
} tty = { .real_err = -1, .held_err = -1 };

/* Atomics, not volatile sig_atomic_t: a signal is handled on whichever
 * thread the kernel picks (a demo's, often), and the UI thread reads these
 * (lock-free atomics are safe in a handler). */
static atomic_int in_handler; /* restore from a signal handler */
static atomic_int quit_signal;

static const int quit_sigs[] = { SIGINT, SIGTERM, SIGHUP };
static const int fatal_sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
                                  SIGQUIT };
#define NQUIT (int)(sizeof quit_sigs / sizeof quit_sigs[0])
#define NFATAL (int)(sizeof fatal_sigs / sizeof fatal_sigs[0])
static struct sigaction old_quit[NQUIT], old_fatal[NFATAL];

/* Writes straight to the kernel: this runs in signal handlers, where under
 * ThreadSanitizer write()'s interceptor may first run the runtime's
 * pending signals, and a crash in there would leave the screen as it was. */
static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        long k = syscall(SYS_write, fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        p += k;
        n -= (size_t)k;
    }
}

/* Sends stderr back where it was and writes out what was held meanwhile. */
static void release_stderr(void)
{
    char buf[4096];
    ssize_t n;

    if (tty.real_err < 0)
        return;
    dup2(tty.real_err, STDERR_FILENO);
    close(tty.real_err);
    tty.real_err = -1;
    if (lseek(tty.held_err, 0, SEEK_SET) == 0)
        while ((n = read(tty.held_err, buf, sizeof buf)) > 0)
            write_all(STDERR_FILENO, buf, (size_t)n);
    close(tty.held_err);
    tty.held_err = -1;
}

/* Holds stderr in an unlinked temporary file while curses owns the screen
 * (if there is no such file, stderr stays as it is). */
static void hold_stderr(void)
{
    char path[] = "/tmp/concdemo-stderr-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return;
    unlink(path);
    tty.real_err = dup(STDERR_FILENO);
    if (tty.real_err < 0 || dup2(fd, STDERR_FILENO) < 0) {
        if (tty.real_err >= 0)
            close(tty.real_err);
        tty.real_err = -1;
        close(fd);
        return;
    }
    tty.held_err = fd;
}

/* The terminal's own reset sequence and the saved tty modes, as prepared.
 * Harmless twice. */
static void reset_terminal(void)
{
    write_all(STDOUT_FILENO, tty.reset, tty.nreset);
    if (tty.have_tio)
        tcsetattr(STDIN_FILENO, TCSANOW, &tty.tio);
}

void cd_view_restore(void)
{
    if (!atomic_load(&tty.on))
        return;
    if (in_handler) {
        /* A handler gives the screen back even when someone is at it
         * already: a second fatal signal (another thread's crash, or one
         * inside the first handler) would otherwise die before the first
         * had written anything. */
        int saved = errno;
        reset_terminal();
        if (!atomic_exchange(&tty.given_back, 1))
            release_stderr();
        errno = saved;
        return;
    }
    if (atomic_exchange(&tty.given_back, 1))
        return;
    /* endwin() only from the painting thread; anywhere else the same
     * effect from what was prepared. */
    if (pthread_equal(pthread_self(), tty.ui))
        endwin();
    else
        reset_terminal();
    release_stderr();
}

static void at_exit(void) { cd_view_restore(); }

/* Ctrl-C, SIGTERM, SIGHUP: the view ends the run and leaves. Asked twice
 * (or stuck), it leaves at once. */
static void on_quit(int sig)
{
    int saved = errno;
    if (quit_signal) {
        in_handler = 1;
        cd_view_restore();
        _exit(128 + sig);
    }
    quit_signal = sig;
    errno = saved;
}

/* A crash or abort(): give the terminal back, then let the signal do what
 * it did before (a sanitizer's handler, or the default: die). */
static void on_fatal(int sig)
{
    in_handler = 1;
    cd_view_restore();
    for (int i = 0; i < NFATAL; i++)
        if (fatal_sigs[i] == sig)
            sigaction(sig, &old_fatal[i], NULL);
    raise(sig);
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_quit;
    for (int i = 0; i < NQUIT; i++)
        sigaction(quit_sigs[i], &sa, &old_quit[i]);
    sa.sa_handler = on_fatal;
    for (int i = 0; i < NFATAL; i++)
        sigaction(fatal_sigs[i], &sa, &old_fatal[i]);
}

static void uncatch_signals(void)
{
    for (int i = 0; i < NQUIT; i++)
        sigaction(quit_sigs[i], &old_quit[i], NULL);
    for (int i = 0; i < NFATAL; i++)
        sigaction(fatal_sigs[i], &old_fatal[i], NULL);
}

/* Appends capability cap (without padding marks "$<..>") to the reset. */
static void add_reset(const char *cap)
{
    char *s = tigetstr((char *)cap);
    if (!s || s == (char *)-1)
        return;
    for (; *s && tty.nreset < sizeof tty.reset; s++) {
        if (s[0] == '$' && s[1] == '<') {
            while (*s && *s != '>')
                s++;
            if (!*s)
                break;
            continue;
        }
        tty.reset[tty.nreset++] = *s;
    }
}

/* ============================== the screen =============================== */

static attr_t attrs[CD_S_COUNT_];

static void init_styles(void)
{
    int colour = has_colors() && start_color() == OK;
    short bg = COLOR_BLACK;
    if (colour && use_default_colors() == OK)
        bg = -1;
    if (colour) {
        init_pair(1, COLOR_GREEN, bg);
        init_pair(2, COLOR_CYAN, bg);
        init_pair(3, COLOR_RED, bg);
        init_pair(4, COLOR_MAGENTA, bg);
        init_pair(5, COLOR_WHITE, COLOR_RED);
        init_pair(6, COLOR_YELLOW, bg);
    }
    attr_t green = colour ? COLOR_PAIR(1) : A_NORMAL;
    attr_t red = colour ? COLOR_PAIR(3) : A_NORMAL;
    attrs[CD_S_NORMAL] = A_NORMAL;
    attrs[CD_S_DIM] = A_DIM;
    attrs[CD_S_HEADER] = A_BOLD;
    attrs[CD_S_BAR] = A_REVERSE;
    attrs[CD_S_KEY] = A_REVERSE | A_BOLD;
    attrs[CD_S_RUNNING] = green;
    attrs[CD_S_SLEEPING] = colour ? COLOR_PAIR(2) : A_NORMAL;
    attrs[CD_S_BLOCKED] = red | A_BOLD;
    attrs[CD_S_PAUSED] = colour ? COLOR_PAIR(4) | A_BOLD : A_UNDERLINE;
    attrs[CD_S_ABORTED] = colour ? red : A_DIM;
    attrs[CD_S_CYCLE] = colour ? COLOR_PAIR(5) | A_BOLD : A_REVERSE | A_BOLD;
    attrs[CD_S_GOOD] = green | A_BOLD;
    attrs[CD_S_BAD] = red | A_BOLD;
    attrs[CD_S_WARN] = colour ? COLOR_PAIR(6) | A_BOLD : A_BOLD;
}

/* Takes the terminal: tty modes saved, signals caught, stderr held, curses
 * started. Returns 0, or -1 with the reason in why (nothing is left
 * changed then). */
static int take_screen(char *why, size_t size)
{
    static int registered;

    tty.have_tio = tcgetattr(STDIN_FILENO, &tty.tio) == 0;
    tty.ui = pthread_self();
    quit_signal = 0;
    in_handler = 0;
    /* Before newterm(): ncurses leaves SIGINT and SIGTERM alone once the
     * program handles them. */
    catch_signals();
    tty.scr = newterm(NULL, stdout, stdin);
    if (!tty.scr) {
        uncatch_signals();
        const char *term = getenv("TERM");
        snprintf(why, size, "--view cannot drive this terminal (TERM=%s); "
                 "--view=text prints plain frames", term ? term : "unset");
        return -1;
    }
    set_term(tty.scr);
    tty.nreset = 0;
    add_reset("sgr0");
    add_reset("cnorm");
    add_reset("rmcup");
    hold_stderr();
    atomic_store(&tty.given_back, 0);
    atomic_store(&tty.on, 1);
    if (!registered && atexit(at_exit) == 0)
        registered = 1;
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    intrflush(stdscr, FALSE);
    curs_set(0);
    init_styles();
    return 0;
}

/* Ends curses for good (after cd_view_restore). */
static void drop_screen(void)
{
    cd_view_restore();
    uncatch_signals();
    atomic_store(&tty.on, 0);
    delscreen(tty.scr);
    tty.scr = NULL;
}

static void paint(const cd_grid_t *g)
{
    if (atomic_load(&tty.given_back))
        return; /* the stuck handler gave the terminal back meanwhile */
    for (int y = 0; y < g->h; y++) {
        move(y, 0);
        for (int x = 0; x < g->w; x++) {
            const cd_cell_t *c = cd_grid_at(g, x, y);
            addch((chtype)(unsigned char)c->ch | attrs[c->style]);
        }
    }
    refresh();
}

static void fit_grid(cd_grid_t *g)
{
    int h, w;
    getmaxyx(stdscr, h, w);
    if (w != g->w || h != g->h) {
        cd_grid_resize(g, w, h);
        erase();
    }
}

/* ================================ the loop =============================== */

int cd_view_check(char *why, size_t size)
{
    struct winsize ws;

    if (!isatty(STDOUT_FILENO)) {
        snprintf(why, size, "--view needs a terminal, and standard output is "
                 "not one (--view=text prints plain frames)");
        return -1;
    }
    if (!isatty(STDIN_FILENO)) {
        snprintf(why, size, "--view reads keys from the terminal, and "
                 "standard input is not one (--view=text needs none)");
        return -1;
    }
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 &&
        (ws.ws_col < CD_SCREEN_MIN_W || ws.ws_row < CD_SCREEN_MIN_H)) {
        snprintf(why, size, "--view needs a terminal of at least %dx%d "
                 "characters; this one is %dx%d", CD_SCREEN_MIN_W,
                 CD_SCREEN_MIN_H, ws.ws_col, ws.ws_row);
        return -1;
    }
    /* The terminal type: known, and able to place the cursor. */
    const char *term = getenv("TERM");
    int err = 0, ok = setupterm(NULL, STDOUT_FILENO, &err) == OK;
    if (ok) {
        char *cup = tigetstr("cup");
        ok = cup && cup != (char *)-1;
        del_curterm(cur_term);
    }
    if (!ok) {
        snprintf(why, size, "--view cannot drive this terminal (TERM=%s); "
                 "--view=text prints plain frames", term ? term : "unset");
        return -1;
    }
    return 0;
}

typedef struct ui {
    const cd_view_source_t *src;
    cd_grid_t grid;
    int help;
    char bad_key; /* step mode: the last key answered nothing */
    int leaving; /* q or a signal: leave as soon as the run is over */
    int done;    /* leave now */
} ui_t;

static int src_stepping(const ui_t *u)
{
    return u->src->stepping && u->src->stepping(u->src->self);
}

static const cd_step_ask_t *src_ask(const ui_t *u)
{
    return u->src->ask ? u->src->ask(u->src->self) : NULL;
}

/* Step mode: a key answers the decision, hands the rest to auto, quits,
 * or opens the help. Returns 0 for a key that means none of these. */
static int on_step_key(ui_t *u, int ch)
{
    int id;
    if (ch == KEY_ENTER)
        ch = '\n';
    u->bad_key = 0;
    switch (cd_step_key_action(src_ask(u), ch, &id)) {
    case CD_STEP_PICK:
        u->src->answer(u->src->self, id);
        return 1;
    case CD_STEP_AUTO:
        u->src->autoplay(u->src->self);
        return 1;
    case CD_STEP_QUIT:
        u->src->stop(u->src->self);
        u->leaving = 1;
        return 1;
    default:
        /* A printable key that is no command: say so on the panel. */
        if (ch > ' ' && ch < 127 && ch != '?' && src_ask(u))
            u->bad_key = (char)ch;
        return 0;
    }
}

static void on_key(ui_t *u, int ch)
{
    const cd_view_source_t *s = u->src;
    if (ch == KEY_RESIZE) {
        fit_grid(&u->grid);
        return;
    }
    if (u->help) { /* any key closes the help */
        u->help = 0;
        return;
    }
    if (s->finished(s->self)) { /* any key leaves the verdict */
        u->done = 1;
        return;
    }
    if (src_stepping(u) && on_step_key(u, ch))
        return;
    switch (ch) {
    case 'q':
    case 'Q':
        s->stop(s->self);
        u->leaving = 1;
        break;
    case 'p':
    case 'P':
    case ' ':
        if (s->pause)
            s->pause(s->self);
        break;
    case '+':
    case '=':
        if (s->scale)
            s->scale(s->self, +1);
        break;
    case '-':
    case '_':
        if (s->scale)
            s->scale(s->self, -1);
        break;
    case '?':
    case 'h':
        u->help = 1;
        break;
    case 12: /* Ctrl-L: repaint everything */
        clearok(curscr, TRUE);
        break;
    default:
        break;
    }
}

static void frame(ui_t *u)
{
    cd_screen_in_t in;
    u->src->screen(u->src->self, &in);
    in.interactive = 1;
    in.help = u->help;
    in.bad_key = u->bad_key;
    cd_screen_render(&u->grid, &in);
    paint(&u->grid);
}

int cd_view_drive(const cd_view_source_t *src, char *why, size_t size,
                  int *signo)
{
    ui_t u = { .src = src };

    *signo = 0;
    if (take_screen(why, size) != 0)
        return -1;
    fit_grid(&u.grid);
    int64_t next = cd_now_ns() / 1000000;
    while (!u.done) {
        src->sample(src->self);
        if (quit_signal && !u.leaving) {
            src->stop(src->self);
            u.leaving = 1;
        }
        if (u.leaving && src->finished(src->self))
            break;
        frame(&u);
        int64_t now = cd_now_ns() / 1000000;
        int wait = (int)(next - now);
        timeout(wait > 0 ? wait : 0);
        int ch = getch();
        if (ch != ERR) {
            on_key(&u, ch); /* then repaint at once */
            continue;
        }
        now = cd_now_ns() / 1000000;
        next += src->finished(src->self) ? IDLE_FRAME_MS : CD_FRAME_MS;
        if (next <= now)
            next = now + CD_FRAME_MS; /* late: no burst of frames */
    }
    *signo = quit_signal;
    cd_grid_free(&u.grid);
    drop_screen();
    return 0;
}

/* ======================== a scenario's run as a source ==================== */

static void obs_sample(void *o) { cd_observer_sample(o); }
static int obs_finished(void *o) { return cd_observer_finished(o); }
static void obs_screen(void *o, cd_screen_in_t *in)
{
    cd_observer_screen(o, in);
}
static void obs_stop(void *o) { cd_observer_stop(o); }
static void obs_pause(void *o) { cd_observer_toggle_pause(o); }
static void obs_scale(void *o, int dir) { cd_observer_scale(o, dir); }
static int obs_stepping(void *o) { return cd_observer_stepping(o); }
static const cd_step_ask_t *obs_ask(void *o) { return cd_observer_ask(o); }
static void obs_answer(void *o, int id) { cd_observer_answer(o, id); }
static void obs_auto(void *o) { cd_observer_auto(o); }

int cd_view_run(const cd_scenario_t *s, int variant, const cd_run_opts_t *o,
                cd_run_result_t *r, cd_view_end_t *end)
{
    cd_observer_t *obs;

    memset(end, 0, sizeof *end);
    /* The screen first: a terminal that cannot take it runs nothing. */
    char why[sizeof end->why];
    if (cd_view_check(why, sizeof why) != 0) {
        snprintf(end->why, sizeof end->why, "%s", why);
        return -1;
    }
    int rc = cd_observer_start(&obs, s, variant, o);
    if (rc != 0) {
        snprintf(end->why, sizeof end->why, "could not start the run: %s",
                 strerror(-rc));
        return -1;
    }
    cd_view_source_t src = {
        .self = obs, .sample = obs_sample, .finished = obs_finished,
        .screen = obs_screen, .stop = obs_stop, .pause = obs_pause,
        .scale = obs_scale, .stepping = obs_stepping, .ask = obs_ask,
        .answer = obs_answer, .autoplay = obs_auto,
    };
    if (cd_view_drive(&src, end->why, sizeof end->why, &end->signo) != 0) {
        cd_observer_stop(obs);
        cd_observer_finish(obs, r);
        return -1;
    }
    end->run_rc = cd_observer_finish(obs, r);
    return 0;
}
