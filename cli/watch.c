/*
 * watch.c - runs a program under the interposition library and makes
 * sense of what its agent reports (see watch.h; the lines it reads are
 * described at the top of watch/agent.c).
 */
#define _GNU_SOURCE /* pipe2 */
#include "watch.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/cd_registry.h"
#include "../watch/watch.h"
#include "view.h"

extern char **environ;

#define MAX_MODS 64
#define MAX_IDS 1100   /* thread and object ids: at most 512 and 1024 */
#define MAX_LOCS 1024
#define LINE_MAX_LEN 2048

/* ================================ the program ============================ */

int cd_watch_find_lib(char *out, size_t size)
{
    static const char *const beside[] = {
        "libconcdemo-watch.so",        /* build/concdemo */
        "../libconcdemo-watch.so",     /* build/tsan/concdemo */
        "../lib/concdemo/libconcdemo-watch.so", /* PREFIX/bin/concdemo */
    };
    const char *env = getenv("CONCDEMO_WATCH_LIB");
    if (env && *env)
        return access(env, R_OK) == 0 && realpath(env, out) ? 0 : -1;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    for (size_t i = 0; i < sizeof beside / sizeof beside[0]; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", exe, beside[i]);
        if (access(path, R_OK) == 0 && realpath(path, out))
            return 0;
    }
    (void)size;
    return -1;
}

/* prog as execvp would find it. */
static int find_program(const char *prog, char *path, size_t size)
{
    if (strchr(prog, '/')) {
        snprintf(path, size, "%s", prog);
        return access(path, F_OK) == 0 ? 0 : -1;
    }
    const char *dirs = getenv("PATH");
    if (!dirs)
        dirs = "/usr/local/bin:/usr/bin:/bin";
    while (*dirs) {
        size_t len = strcspn(dirs, ":");
        snprintf(path, size, "%.*s/%s", (int)len, len ? dirs : ".", prog);
        if (access(path, X_OK) == 0)
            return 0;
        dirs += len + (dirs[len] == ':');
    }
    return -1;
}

const char *cd_watch_check_program(const char *prog, char *path, size_t size)
{
    if (find_program(prog, path, size) != 0)
        return "not found";
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
        access(path, X_OK) != 0)
        return "not an executable file";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return "cannot be read";
    Elf64_Ehdr eh;
    ssize_t got = read(fd, &eh, sizeof eh);
    const char *why = NULL;
    if (got >= 2 && memcmp(&eh, "#!", 2) == 0) {
        why = NULL; /* a script: its interpreter is what runs */
    } else if (got < (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
        why = "not a program concdemo can start (no ELF header, no #!)";
    } else if (eh.e_ident[EI_CLASS] != ELFCLASS64) {
        why = "a 32-bit program: concdemo watch runs 64-bit programs";
    } else {
        int dynamic = 0;
        for (int i = 0; i < eh.e_phnum; i++) {
            Elf64_Phdr ph;
            off_t at = (off_t)eh.e_phoff + (off_t)i * eh.e_phentsize;
            if (pread(fd, &ph, sizeof ph, at) != (ssize_t)sizeof ph)
                break;
            dynamic |= ph.p_type == PT_INTERP;
        }
        if (!dynamic)
            why = "statically linked: its pthread calls cannot be "
                  "interposed (link it dynamically, the default)";
    }
    close(fd);
    return why;
}

/* ================================ reading ================================ */

typedef struct loc {
    int mod;           /* -1: unknown */
    uintptr_t addr;
} loc_t;

typedef struct raw {
    char mod_path[MAX_MODS][PATH_MAX];
    uintptr_t mod_base[MAX_MODS];
    int nmods;
    loc_t thread_start[MAX_IDS];
    int have_thread[MAX_IDS];
    loc_t obj_at[MAX_IDS];
    int obj_kind[MAX_IDS];
    /* the finding that stopped it */
    int verdict;
    int nlinks;
    struct { int thread, holds, waits, kind, joins; loc_t held_at, waits_at; }
        links[CD_WATCH_MAX_LINKS];
    int lost_obj, lost_thread;
    loc_t lost_at;
    /* findings that did not */
    int nfind;
    struct { int order, what, a, b, thread, thread2; loc_t at[4]; }
        find[CD_WATCH_MAX_FINDINGS];
    int have_summary, threads, locks, top, hold;
    unsigned long long top_contended;
    long long top_wait_ns, hold_ns;
    int ended;      /* "end": a finding that stops it came */
    int exited;     /* "exit": it ended by itself */
} raw_t;

static loc_t parse_loc(const char *s)
{
    loc_t l = { -1, 0 };
    const char *colon = s ? strchr(s, ':') : NULL;
    if (!colon)
        return l;
    l.addr = (uintptr_t)strtoull(colon + 1, NULL, 16); /* "(nil)": 0 */
    if (s[0] != '-')
        l.mod = atoi(s);
    return l;
}

static int valid_id(int id)
{
    return id > 0 && id < MAX_IDS;
}

/* Splits line into tab-separated fields (at most max). */
static int fields(char *line, char **f, int max)
{
    int n = 0;
    for (char *save = NULL, *t = strtok_r(line, "\t", &save); t && n < max;
         t = strtok_r(NULL, "\t", &save))
        f[n++] = t;
    return n;
}

static void take_line(raw_t *r, char *line)
{
    char *f[12];
    int n = fields(line, f, 12);
    if (n == 0)
        return;
    if (!strcmp(f[0], "M") && n >= 4) {
        int m = atoi(f[1]);
        if (m >= 0 && m < MAX_MODS) {
            snprintf(r->mod_path[m], PATH_MAX, "%s", f[3]);
            r->mod_base[m] = (uintptr_t)strtoull(f[2], NULL, 16);
            if (m >= r->nmods)
                r->nmods = m + 1;
        }
    } else if (!strcmp(f[0], "T") && n >= 3 && valid_id(atoi(f[1]))) {
        r->thread_start[atoi(f[1])] = parse_loc(f[2]);
        r->have_thread[atoi(f[1])] = 1;
    } else if (!strcmp(f[0], "O") && n >= 4 && valid_id(atoi(f[1]))) {
        r->obj_kind[atoi(f[1])] = atoi(f[2]);
        r->obj_at[atoi(f[1])] = parse_loc(f[3]);
    } else if (!strcmp(f[0], "deadlock")) {
        r->verdict = CD_WATCH_DEADLOCK;
    } else if (!strcmp(f[0], "stuck")) {
        r->verdict = CD_WATCH_STUCK;
    } else if (!strcmp(f[0], "timeout")) {
        r->verdict = CD_WATCH_TIMEOUT;
    } else if (!strcmp(f[0], "L") && n >= 6 && r->nlinks < CD_WATCH_MAX_LINKS) {
        int k = r->nlinks++;
        r->links[k].thread = atoi(f[1]);
        r->links[k].holds = atoi(f[2]);
        r->links[k].waits = atoi(f[3]);
        r->links[k].held_at = parse_loc(f[4]);
        r->links[k].waits_at = parse_loc(f[5]);
    } else if (!strcmp(f[0], "W") && n >= 8 && r->nlinks < CD_WATCH_MAX_LINKS) {
        int k = r->nlinks++;
        r->links[k].thread = atoi(f[1]);
        r->links[k].waits = atoi(f[3]);
        r->links[k].kind = atoi(f[4]);
        r->links[k].joins = atoi(f[6]);
        r->links[k].waits_at = parse_loc(f[7]);
    } else if (!strcmp(f[0], "X") && n >= 4) {
        r->lost_obj = atoi(f[1]);
        r->lost_thread = atoi(f[2]);
        r->lost_at = parse_loc(f[3]);
    } else if (!strcmp(f[0], "order") && n >= 9 &&
               r->nfind < CD_WATCH_MAX_FINDINGS) {
        int k = r->nfind++;
        r->find[k].order = 1;
        r->find[k].a = atoi(f[1]);
        r->find[k].b = atoi(f[2]);
        r->find[k].thread = atoi(f[3]);
        r->find[k].at[0] = parse_loc(f[4]);
        r->find[k].at[1] = parse_loc(f[5]);
        r->find[k].thread2 = atoi(f[6]);
        r->find[k].at[2] = parse_loc(f[7]);
        r->find[k].at[3] = parse_loc(f[8]);
    } else if (!strcmp(f[0], "misuse") && n >= 6 &&
               r->nfind < CD_WATCH_MAX_FINDINGS) {
        int k = r->nfind++;
        r->find[k].what = atoi(f[1]);
        r->find[k].thread = atoi(f[2]);
        r->find[k].a = atoi(f[3]);
        r->find[k].b = atoi(f[4]);
        r->find[k].at[0] = parse_loc(f[5]);
    } else if (!strcmp(f[0], "summary") && n >= 8) {
        r->have_summary = 1;
        r->threads = atoi(f[1]);
        r->locks = atoi(f[2]);
        r->top = atoi(f[3]);
        r->top_contended = strtoull(f[4], NULL, 10);
        r->top_wait_ns = strtoll(f[5], NULL, 10);
        r->hold = atoi(f[6]);
        r->hold_ns = strtoll(f[7], NULL, 10);
    } else if (!strcmp(f[0], "end")) {
        r->ended = 1;
    } else if (!strcmp(f[0], "exit")) {
        r->exited = 1;
    }
}

/* =============================== resolving =============================== */

/* Runs argv and returns its stdout (malloc'd, NUL-terminated), or NULL. */
static char *capture(char *const argv[])
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    for (ssize_t got; buf; len += (size_t)got) {
        if (len + 1 >= cap) {
            char *more = cap < (64u << 20) ? realloc(buf, cap *= 2) : NULL;
            if (!more) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = more;
        }
        got = read(p[0], buf + len, cap - len - 1);
        if (got < 0 && errno == EINTR) {
            got = 0;
            continue;
        }
        if (got <= 0)
            break;
    }
    if (buf)
        buf[len] = '\0';
    close(p[0]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return buf;
}

/* A module's symbols (nm): sorted by address. */
typedef struct sym {
    uintptr_t addr, size;
    char name[96];
    int code;
} sym_t;

typedef struct mod {
    int is_exec;   /* ET_EXEC: addresses are absolute */
    sym_t *syms;
    int nsyms, loaded;
} mod_t;

static int cmp_sym(const void *x, const void *y)
{
    const sym_t *a = x, *b = y;
    return (a->addr > b->addr) - (a->addr < b->addr);
}

static void load_module(const raw_t *r, mod_t *m, int idx)
{
    if (m->loaded)
        return;
    m->loaded = 1;
    int fd = open(r->mod_path[idx], O_RDONLY | O_CLOEXEC);
    Elf64_Ehdr eh;
    if (fd >= 0 && read(fd, &eh, sizeof eh) == (ssize_t)sizeof eh)
        m->is_exec = eh.e_type == ET_EXEC;
    if (fd >= 0)
        close(fd);
    char *argv[] = { "nm", "-C", "-S", "--defined-only",
                     (char *)r->mod_path[idx], NULL };
    char *text = capture(argv);
    if (!text)
        return;
    int cap = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        unsigned long long a, s;
        char type, name[96];
        if (sscanf(l, "%llx %llx %c %95[^\n]", &a, &s, &type, name) != 4)
            continue;
        if (m->nsyms == cap) {
            cap = cap ? cap * 2 : 1024;
            sym_t *more = realloc(m->syms, (size_t)cap * sizeof *more);
            if (!more)
                break;
            m->syms = more;
        }
        sym_t *sy = &m->syms[m->nsyms++];
        sy->addr = (uintptr_t)a;
        sy->size = (uintptr_t)s;
        sy->code = type == 't' || type == 'T';
        snprintf(sy->name, sizeof sy->name, "%s", name);
    }
    free(text);
    qsort(m->syms, (size_t)m->nsyms, sizeof *m->syms, cmp_sym);
}

/* The address as the module's files know it. */
static uintptr_t file_addr(const raw_t *r, const mod_t *m, loc_t l)
{
    return m->is_exec ? l.addr : l.addr - r->mod_base[l.mod];
}

/* The symbol holding a (within its size). */
static const sym_t *sym_at(const mod_t *m, uintptr_t a)
{
    int lo = 0, hi = m->nsyms - 1, best = -1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (m->syms[mid].addr <= a) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    for (; best >= 0 && m->syms[best].addr == m->syms[best < 1 ? 0 : best].addr;
         best--)
        if (a < m->syms[best].addr + (m->syms[best].size ? m->syms[best].size : 1))
            return &m->syms[best];
    return NULL;
}

typedef struct resolver {
    const raw_t *r;
    mod_t mods[MAX_MODS];
} resolver_t;

static mod_t *module_of(resolver_t *z, loc_t l)
{
    if (l.mod < 0 || l.mod >= z->r->nmods || !z->r->mod_path[l.mod][0])
        return NULL;
    load_module(z->r, &z->mods[l.mod], l.mod);
    return &z->mods[l.mod];
}

/* A variable's name ("mutex_A", "accounts+16"), or its address. */
static void data_name(resolver_t *z, loc_t l, size_t elem, char *out,
                      size_t size)
{
    mod_t *m = module_of(z, l);
    const sym_t *s = m ? sym_at(m, file_addr(z->r, m, l)) : NULL;
    if (s && !s->code) {
        uintptr_t off = file_addr(z->r, m, l) - s->addr;
        /* Inside an array of such primitives: its element. */
        if (off && elem && off % elem == 0 && s->size % elem == 0)
            snprintf(out, size, "%s[%lu]", s->name,
                     (unsigned long)(off / elem));
        else if (off)
            snprintf(out, size, "%s+%lu", s->name, (unsigned long)off);
        else
            snprintf(out, size, "%s", s->name);
    } else if (l.addr) {
        snprintf(out, size, "%#lx", (unsigned long)l.addr);
    } else {
        snprintf(out, size, "?");
    }
}

/* The source line of code at l ("abba.c:16"); a return address (ret)
 * points past its call, so the line of the byte before is asked for.
 * Without debug information: "function+0xoff"; with no module: "". With
 * fn, the function's name goes there too. */
static void code_site(resolver_t *z, loc_t l, int ret, char *out, size_t size,
                      char *fn, size_t fnsize)
{
    out[0] = '\0';
    if (fn)
        fn[0] = '\0';
    mod_t *m = module_of(z, l);
    if (!m)
        return;
    uintptr_t a = file_addr(z->r, m, l) - (ret ? 1 : 0);
    char hex[32];
    snprintf(hex, sizeof hex, "%#lx", (unsigned long)a);
    char *argv[] = { "addr2line", "-f", "-C", "-e",
                     (char *)z->r->mod_path[l.mod], hex, NULL };
    char *text = capture(argv);
    char func[256] = "", where[PATH_MAX] = "";
    if (text && sscanf(text, "%255[^\n]\n%4095[^\n]", func, where) >= 1) {
        char *disc = strstr(where, " (discriminator");
        if (disc)
            *disc = '\0';
    }
    free(text);
    const sym_t *s = sym_at(m, a);
    if (fn)
        snprintf(fn, fnsize, "%s",
                 func[0] && strcmp(func, "??") ? func : s ? s->name : "");
    if (where[0] && where[0] != '?') {
        const char *base = strrchr(where, '/');
        snprintf(out, size, "%s", base ? base + 1 : where);
    } else if (s) {
        snprintf(out, size, "%s+%#lx", s->name,
                 (unsigned long)(a + (ret ? 1 : 0) - s->addr));
    }
}

static void thread_name(resolver_t *z, int id, char *out, size_t size,
                        char *at, size_t atsize)
{
    at[0] = '\0';
    if (!valid_id(id) || !z->r->have_thread[id] ||
        z->r->thread_start[id].mod < 0) {
        /* The first thread the agent met is the one that runs main. */
        snprintf(out, size, id == 1 ? "main" : "thread-%d", id);
        return;
    }
    code_site(z, z->r->thread_start[id], 0, at, atsize, out, size);
    if (!out[0])
        snprintf(out, size, "thread-%d", id);
}

static const char *kind_word(int kind)
{
    switch (kind) {
    case CD_OBJ_RWLOCK: return "rwlock";
    case CD_OBJ_COND: return "cond";
    case CD_OBJ_SEM: return "sem";
    default: return "mutex";
    }
}

/* The size of one primitive of kind: for naming array elements. */
static size_t kind_size(int kind)
{
    switch (kind) {
    case CD_OBJ_RWLOCK: return sizeof(pthread_rwlock_t);
    case CD_OBJ_COND: return sizeof(pthread_cond_t);
    case CD_OBJ_SEM: return sizeof(sem_t);
    default: return sizeof(pthread_mutex_t);
    }
}

static void obj_name(resolver_t *z, int id, char *out, size_t size)
{
    if (!valid_id(id)) {
        out[0] = '\0';
        return;
    }
    data_name(z, z->r->obj_at[id], kind_size(z->r->obj_kind[id]), out, size);
}

static const char *misuse_word(int what)
{
    switch (what) {
    case 1: return "unlock of a mutex it does not hold";
    case 2: return "destroy of a locked mutex";
    case 3: return "wait on a condition variable without holding its mutex";
    default: return "a condition variable used with two mutexes";
    }
}

/* The sentence of a misuse: who, what, which, where. */
static void misuse_text(char *out, size_t size, int what, const char *who,
                        const char *a, const char *b, const char *at)
{
    switch (what) {
    case 1:
        snprintf(out, size, "%s unlocked %s at %s, which it did not hold",
                 who, a, at);
        break;
    case 2:
        snprintf(out, size, "%s destroyed %s at %s while it was locked", who,
                 a, at);
        break;
    case 3:
        snprintf(out, size, "%s waited on %s at %s without holding its "
                 "mutex %s", who, a, at, b);
        break;
    default:
        snprintf(out, size, "%s waited on %s at %s with a second mutex (it "
                 "was used with %s before)", who, a, at, b);
        break;
    }
}

/* "main signalled job_posted at handoff.c:34 before anyone waited: ..."
 * from the agent's report of a lost wake-up, or "" when there was none. */
static void lost_wakeup_text(resolver_t *z, char *out, size_t size)
{
    const raw_t *r = z->r;
    out[0] = '\0';
    if (!r->lost_obj)
        return;
    char cond[CD_WATCH_TEXT], who[CD_WATCH_TEXT], at[CD_WATCH_TEXT],
        where[CD_WATCH_TEXT];
    obj_name(z, r->lost_obj, cond, sizeof cond);
    thread_name(z, r->lost_thread, who, sizeof who, at, sizeof at);
    code_site(z, r->lost_at, 1, where, sizeof where, NULL, 0);
    snprintf(out, size, "%s signalled %s at %s before anyone waited: nobody "
             "heard it (a lost wake-up)", who, cond, where[0] ? where : "?");
}

static void resolve_links(resolver_t *z, cd_watch_result_t *out)
{
    const raw_t *r = z->r;
    out->nlinks = r->nlinks;
    for (int k = 0; k < r->nlinks; k++) {
        cd_watch_link_t *l = &out->links[k];
        char tmp[CD_WATCH_TEXT];
        thread_name(z, r->links[k].thread, l->thread, sizeof l->thread,
                    l->thread_at, sizeof l->thread_at);
        code_site(z, r->links[k].waits_at, 1, l->waits_at, sizeof l->waits_at,
                  NULL, 0);
        if (r->links[k].joins) {
            thread_name(z, r->links[k].joins, l->waits, sizeof l->waits, tmp,
                        sizeof tmp);
            snprintf(l->waits_kind, sizeof l->waits_kind, "join");
        } else if (r->links[k].waits) {
            obj_name(z, r->links[k].waits, l->waits, sizeof l->waits);
            snprintf(l->waits_kind, sizeof l->waits_kind, "%s",
                     kind_word(r->obj_kind[valid_id(r->links[k].waits)
                                               ? r->links[k].waits : 0]));
        }
        if (r->links[k].holds) {
            obj_name(z, r->links[k].holds, l->holds, sizeof l->holds);
            code_site(z, r->links[k].held_at, 1, l->held_at,
                      sizeof l->held_at, NULL, 0);
        }
    }
    lost_wakeup_text(z, out->lost_wakeup, sizeof out->lost_wakeup);
}

static void resolve_findings(resolver_t *z, cd_watch_result_t *out)
{
    const raw_t *r = z->r;
    for (int k = 0; k < r->nfind; k++) {
        cd_watch_finding_t *f = &out->findings[out->nfindings++];
        char a[CD_WATCH_TEXT], b[CD_WATCH_TEXT], t1[CD_WATCH_TEXT],
            t2[CD_WATCH_TEXT], s[4][CD_WATCH_TEXT], at[CD_WATCH_TEXT];
        obj_name(z, r->find[k].a, a, sizeof a);
        obj_name(z, r->find[k].b, b, sizeof b);
        thread_name(z, r->find[k].thread, t1, sizeof t1, at, sizeof at);
        for (int i = 0; i < 4; i++)
            code_site(z, r->find[k].at[i], 1, s[i], sizeof s[i], NULL, 0);
        if (r->find[k].order) {
            thread_name(z, r->find[k].thread2, t2, sizeof t2, at, sizeof at);
            snprintf(f->kind, sizeof f->kind, "order");
            snprintf(f->text, sizeof f->text,
                     "%s took %s (%s) while holding %s (%s); %s took %s (%s) "
                     "while holding %s (%s): opposite orders, a deadlock on "
                     "another run", t1, b, s[1], a, s[0], t2, a, s[3], b,
                     s[2]);
            out->orders++;
        } else {
            snprintf(f->kind, sizeof f->kind, "misuse");
            snprintf(f->what, sizeof f->what, "%s",
                     misuse_word(r->find[k].what));
            misuse_text(f->text, sizeof f->text, r->find[k].what, t1, a, b,
                        s[0][0] ? s[0] : "?");
        }
    }
}

static void resolve(const raw_t *r, cd_watch_result_t *out)
{
    resolver_t *z = calloc(1, sizeof *z);
    if (!z)
        return;
    z->r = r;
    out->verdict = r->verdict;
    resolve_links(z, out);
    resolve_findings(z, out);
    out->have_summary = r->have_summary;
    out->threads = r->threads;
    out->locks = r->locks;
    out->top_contended = r->top_contended;
    out->top_wait_ns = r->top_wait_ns;
    out->hold_ns = r->hold_ns;
    obj_name(z, r->top, out->top_lock, sizeof out->top_lock);
    obj_name(z, r->hold, out->hold_lock, sizeof out->hold_lock);
    for (int m = 0; m < MAX_MODS; m++)
        free(z->mods[m].syms);
    free(z);
}

/* ================================= running =============================== */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A watched program in progress. */
struct cd_watch {
    raw_t *r;
    pid_t pid;
    int fd, open_fd;       /* the agent's pipe, until it closes */
    int status, reaped;
    int stopped;           /* killed by watch: a finding, or q */
    int64_t t0, found_ns;
    char buf[LINE_MAX_LEN * 4];
    size_t len;
    /* the live view */
    cd_watch_page_t *page;
    cd_snapshot_t *snap;   /* the frame shown */
    cd_snapshot_t *next;   /* the one being read */
    int has_snap;
    cd_cycle_t cycle;
    cd_stuck_t stuck;
    int has_cycle, has_stuck;
    cd_history_t *hist;
    cd_verdict_t verdict;
    int finished;
    resolver_t *z;         /* names for the view, made as ids appear */
    char tname[MAX_IDS][CD_NAME_MAX], oname[MAX_IDS][CD_NAME_MAX];
    unsigned char named_t[MAX_IDS], named_o[MAX_IDS];
    cd_variant_t variant;
    cd_scenario_t scenario;
    char title[96];
};

static void child(const cd_watch_opts_t *o, int fd, int errfd, int shm)
{
    /* A watch that is killed takes its program with it: a program the
     * agent holds still would otherwise wait for ever. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char num[16], limit[16], page[16], preload[PATH_MAX * 2];
    snprintf(num, sizeof num, "%d", fd);
    snprintf(limit, sizeof limit, "%d", o->timeout_ms);
    const char *old = getenv("LD_PRELOAD");
    snprintf(preload, sizeof preload, "%s%s%s", o->lib, old && *old ? " " : "",
             old ? old : "");
    setenv("LD_PRELOAD", preload, 1);
    setenv("CONCDEMO_WATCH_FD", num, 1);
    setenv("CONCDEMO_WATCH_TIMEOUT_MS", limit, 1);
    if (shm >= 0) {
        snprintf(page, sizeof page, "%d", shm);
        setenv("CONCDEMO_WATCH_SHM", page, 1);
    }
    execvp(o->argv[0], o->argv);
    int e = errno;
    ssize_t w = write(errfd, &e, sizeof e);
    (void)w;
    _exit(127);
}

/* A page shared with the agent for the live view: fd (inherited by the
 * program), or -1. */
static int make_page(cd_watch_t *w)
{
    int fd = memfd_create("concdemo-watch", 0);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, sizeof *w->page) != 0 ||
        (w->page = mmap(NULL, sizeof *w->page, PROT_READ | PROT_WRITE,
                        MAP_SHARED, fd, 0)) == MAP_FAILED) {
        w->page = NULL;
        close(fd);
        return -1;
    }
    return fd;
}

int cd_watch_start(cd_watch_t **out, const cd_watch_opts_t *o, char *err,
                   size_t errlen)
{
    int rep[2], ex[2], shm = -1;
    cd_watch_t *w = calloc(1, sizeof *w);
    if (!w || !(w->r = calloc(1, sizeof *w->r))) {
        free(w);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (o->view && (shm = make_page(w)) < 0) {
        snprintf(err, errlen, "cannot share a page with the program: %s",
                 strerror(errno));
        cd_watch_free(w);
        return -1;
    }
    if (pipe(rep) != 0 || pipe2(ex, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
        cd_watch_free(w);
        return -1;
    }
    fcntl(rep[0], F_SETFD, FD_CLOEXEC);
    w->t0 = now_ns();
    w->pid = fork();
    if (w->pid == 0) {
        close(rep[0]);
        close(ex[0]);
        child(o, rep[1], ex[1], shm);
    }
    close(rep[1]);
    close(ex[1]);
    if (shm >= 0)
        close(shm);
    int e = 0;
    if (w->pid < 0 || read(ex[0], &e, sizeof e) == (ssize_t)sizeof e) {
        snprintf(err, errlen, "cannot start %s: %s", o->argv[0],
                 strerror(w->pid < 0 ? errno : e));
        if (w->pid > 0)
            waitpid(w->pid, NULL, 0);
        close(rep[0]);
        close(ex[0]);
        cd_watch_free(w);
        return -1;
    }
    close(ex[0]);
    w->fd = rep[0];
    w->open_fd = 1;
    *out = w;
    return 0;
}

/* Reads what the agent wrote, waiting at most wait_ms for it; stops the
 * program once a finding that ends it came. Notices the program's end. */
static void pump(cd_watch_t *w, int wait_ms)
{
    if (w->open_fd) {
        struct pollfd p = { w->fd, POLLIN, 0 };
        if (poll(&p, 1, wait_ms) > 0) {
            ssize_t got = read(w->fd, w->buf + w->len,
                               sizeof w->buf - w->len - 1);
            if (got <= 0) {
                w->open_fd = 0;
            } else {
                w->len += (size_t)got;
                w->buf[w->len] = '\0';
                char *start = w->buf, *nl;
                while ((nl = strchr(start, '\n'))) {
                    *nl = '\0';
                    take_line(w->r, start);
                    start = nl + 1;
                }
                w->len -= (size_t)(start - w->buf);
                memmove(w->buf, start, w->len);
                if (w->len == sizeof w->buf - 1)
                    w->len = 0; /* a line too long to be the agent's */
            }
        }
    }
    if (w->r->ended && !w->stopped) {
        w->found_ns = now_ns() - w->t0;
        kill(w->pid, SIGKILL);
        w->stopped = 1;
    }
    if (!w->reaped) {
        pid_t got = waitpid(w->pid, &w->status, w->open_fd ? WNOHANG : 0);
        if (got == w->pid || (got < 0 && errno != EINTR))
            w->reaped = 1;
    }
}

/* Over: the program is gone and what it said is read (a program whose
 * children keep the pipe open is over when it is gone and the agent said
 * its last word, or said nothing more for a moment). */
static int over(cd_watch_t *w)
{
    if (!w->reaped)
        return 0;
    if (!w->open_fd || w->r->exited || w->r->ended)
        return 1;
    struct pollfd p = { w->fd, POLLIN, 0 };
    return poll(&p, 1, 50) <= 0;
}

void cd_watch_stop(cd_watch_t *w)
{
    if (!w->reaped && !w->stopped) {
        kill(w->pid, SIGKILL);
        w->stopped = 1;
        w->found_ns = now_ns() - w->t0;
    }
}

void cd_watch_finish(cd_watch_t *w, cd_watch_result_t *out)
{
    while (!over(w))
        pump(w, 100);
    memset(out, 0, sizeof *out);
    resolve(w->r, out);
    out->stopped = w->stopped;
    out->found_ns = w->found_ns;
    out->exit_code = WIFEXITED(w->status) ? WEXITSTATUS(w->status)
                   : WIFSIGNALED(w->status) ? 128 + WTERMSIG(w->status) : 1;
}

void cd_watch_free(cd_watch_t *w)
{
    if (!w)
        return;
    if (w->open_fd)
        close(w->fd);
    if (w->page)
        munmap(w->page, sizeof *w->page);
    if (w->z) {
        for (int m = 0; m < MAX_MODS; m++)
            free(w->z->mods[m].syms);
        free(w->z);
    }
    free(w->snap);
    free(w->next);
    free(w->hist);
    free(w->r);
    free(w);
}

int cd_watch_run(const cd_watch_opts_t *o, cd_watch_result_t *out, char *err,
                 size_t errlen)
{
    cd_watch_t *w;
    if (cd_watch_start(&w, o, err, errlen) != 0)
        return -1;
    cd_watch_finish(w, out);
    cd_watch_free(w);
    return 0;
}

/* ================================ the view =============================== */

/* An int from the program's page, brought into 0..max. */
static int clamp(int n, int max)
{
    return n < 0 ? 0 : n > max ? max : n;
}

/* A string from the program's page, ended within its array. */
#define END_STRING(a) ((a)[sizeof(a) - 1] = '\0')

/* The frame came from the program, whose code may write anywhere in its
 * own memory, the shared page included: it is made safe to show before
 * anything reads it. Its pointers (a sleep's label, the sites, which are
 * the agent's own) mean nothing here: sites become the lines the agent's
 * reports gave, or none. Counts are brought within their arrays, strings
 * are ended within theirs. */
static void make_frame_safe(cd_snapshot_t *s, cd_cycle_t *cycle,
                            cd_stuck_t *stuck)
{
    s->nthreads = clamp(s->nthreads, CD_MAX_THREADS);
    s->nobjs = clamp(s->nobjs, CD_MAX_OBJECTS);
    s->ngauges = clamp(s->ngauges, CD_MAX_GAUGES);
    s->nnotes = clamp(s->nnotes, CD_MAX_NOTES);
    for (int i = 0; i < s->nthreads; i++) {
        s->threads[i].what = NULL;
        s->threads[i].nheld = clamp(s->threads[i].nheld, CD_MAX_HELD);
        END_STRING(s->threads[i].name);
    }
    for (int i = 0; i < s->nobjs; i++) {
        s->objs[i].site = (cd_site_t){ 0 };
        s->objs[i].cond_unheard_site = (cd_site_t){ 0 };
        END_STRING(s->objs[i].name);
    }
    for (int i = 0; i < s->ngauges; i++)
        END_STRING(s->gauges[i].name);
    for (int i = 0; i < CD_MAX_NOTES; i++)
        END_STRING(s->notes[i]);
    cycle->len = clamp(cycle->len, CD_MAX_CYCLE);
    stuck->len = clamp(stuck->len, CD_MAX_STUCK);
    END_STRING(stuck->lost_wakeup);
}

/* Names from the program's files for the ids the frame shows, made once
 * each (addr2line runs once per thread's start function). */
static void name_ids(cd_watch_t *w)
{
    if (!w->z && !(w->z = calloc(1, sizeof *w->z)))
        return;
    w->z->r = w->r;
    cd_snapshot_t *s = w->snap;
    for (int i = 0; i < s->nthreads && i + 1 < MAX_IDS; i++) {
        int id = s->threads[i].id;
        if (!valid_id(id))
            continue;
        if (!w->named_t[id] && (w->r->have_thread[id] || id == 1)) {
            char at[CD_WATCH_TEXT];
            thread_name(w->z, id, w->tname[id], sizeof w->tname[id], at,
                        sizeof at);
            w->named_t[id] = 1;
        }
        if (w->named_t[id])
            snprintf(s->threads[i].name, sizeof s->threads[i].name, "%s",
                     w->tname[id]);
    }
    for (int i = 0; i < s->nobjs && i + 1 < MAX_IDS; i++) {
        int id = s->objs[i].id;
        if (!valid_id(id))
            continue;
        if (!w->named_o[id] && w->r->obj_at[id].addr) {
            obj_name(w->z, id, w->oname[id], sizeof w->oname[id]);
            w->named_o[id] = 1;
        }
        if (w->named_o[id])
            snprintf(s->objs[i].name, sizeof s->objs[i].name, "%s",
                     w->oname[id]);
    }
}

/* Copies the agent's newest frame, reading again if it was being
 * written meanwhile. The copy goes to a frame of its own and becomes the
 * shown one only once a read was whole: a torn one (the program wrote
 * while it was read, each try) is dropped, and the last whole frame
 * stays. */
static void copy_page(cd_watch_t *w)
{
    if (!w->page || (!w->snap && !(w->snap = calloc(1, sizeof *w->snap))) ||
        (!w->next && !(w->next = calloc(1, sizeof *w->next))))
        return;
    for (int tries = 0; tries < 8; tries++) {
        unsigned seq = atomic_load_explicit(&w->page->seq,
                                            memory_order_acquire);
        if (seq & 1 || seq == 0)
            continue;
        memcpy(w->next, &w->page->snap, sizeof *w->next);
        int has_cycle = w->page->has_cycle, has_stuck = w->page->has_stuck;
        cd_cycle_t cycle = w->page->cycle;
        cd_stuck_t stuck = w->page->stuck;
        /* The copy's reads stay before the second look at seq. */
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&w->page->seq, memory_order_relaxed) != seq)
            continue;
        make_frame_safe(w->next, &cycle, &stuck);
        cd_snapshot_t *shown = w->snap;
        w->snap = w->next;
        w->next = shown;
        w->has_cycle = has_cycle;
        w->cycle = cycle;
        w->has_stuck = has_stuck;
        w->stuck = stuck;
        w->has_snap = 1;
        return;
    }
}

static void set_verdict(cd_watch_t *w)
{
    cd_verdict_t *v = &w->verdict;
    memset(v, 0, sizeof *v);
    snprintf(v->expected, sizeof v->expected,
             "the program runs to its end, no thread waiting for ever");
    switch (w->r->verdict) {
    case CD_WATCH_DEADLOCK:
        v->status = CD_DEADLOCK;
        snprintf(v->observed, sizeof v->observed, "a deadlock: stopped");
        break;
    case CD_WATCH_STUCK:
        v->status = CD_STUCK;
        snprintf(v->observed, sizeof v->observed,
                 "every thread waits and none can wake another: stopped");
        break;
    case CD_WATCH_TIMEOUT:
        v->status = CD_TIMEOUT;
        snprintf(v->observed, sizeof v->observed, "its time limit: stopped");
        break;
    default:
        v->status = w->stopped ? CD_STOPPED : CD_HELD;
        snprintf(v->observed, sizeof v->observed, w->stopped
                 ? "stopped before its end" : "it exited with %d",
                 WIFEXITED(w->status) ? WEXITSTATUS(w->status) : 1);
        break;
    }
}

static void live_sample(void *self)
{
    cd_watch_t *w = self;
    pump(w, 0);
    copy_page(w);
    if (w->has_snap) {
        name_ids(w);
        /* The agent wrote its lost wake-up with its own names and sites;
         * the view shows the one the report gives, or none yet. */
        if (w->z)
            lost_wakeup_text(w->z, w->stuck.lost_wakeup,
                             sizeof w->stuck.lost_wakeup);
        if (!w->hist)
            w->hist = calloc(1, sizeof *w->hist);
        if (w->hist && !w->finished)
            cd_history_push(w->hist, w->snap);
    }
    if (!w->finished && over(w)) {
        w->finished = 1;
        set_verdict(w);
    }
}

static int live_finished(void *self)
{
    return ((cd_watch_t *)self)->finished;
}

static void live_screen(void *self, cd_screen_in_t *in)
{
    cd_watch_t *w = self;
    memset(in, 0, sizeof *in);
    in->scenario = &w->scenario;
    /* Before the program's first frame: an empty one. */
    if (!w->snap)
        w->snap = calloc(1, sizeof *w->snap);
    in->snap = w->snap;
    in->hist = w->hist;
    in->cycle = w->has_cycle ? &w->cycle : NULL;
    in->stuck = w->has_stuck ? &w->stuck : NULL;
    in->verdict = w->finished ? &w->verdict : NULL;
    in->latency_permille = 1000;
}

static void live_stop(void *self)
{
    cd_watch_stop(self);
}

void cd_watch_source(cd_watch_t *w, const char *prog, cd_view_source_t *src)
{
    const char *base = strrchr(prog, '/');
    snprintf(w->title, sizeof w->title, "%s", base ? base + 1 : prog);
    w->variant = (cd_variant_t){ "watched", "the program as it is" };
    w->scenario = (cd_scenario_t){ .name = w->title,
                                   .title = "a watched program",
                                   .pitfall = "concdemo watch",
                                   .variants = &w->variant, .nvariants = 1 };
    *src = (cd_view_source_t){ .self = w, .sample = live_sample,
                               .finished = live_finished,
                               .screen = live_screen, .stop = live_stop };
}
