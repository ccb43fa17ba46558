/*
 * watch.h - `concdemo watch`'s engine: runs a program with the
 * interposition library preloaded (watch/watch.h), reads what its agent
 * finds, stops the program when it is stuck for good, and turns the
 * agent's addresses into names and source lines (addr2line and nm, from
 * binutils) for cmd_watch.c to print.
 */
#ifndef CD_WATCH_CLI_H
#define CD_WATCH_CLI_H

#include <stddef.h>
#include <stdint.h>

#define CD_WATCH_MAX_LINKS 16
#define CD_WATCH_MAX_FINDINGS 32
#define CD_WATCH_TEXT 160

typedef enum cd_watch_verdict {
    CD_WATCH_CLEAN = 0, /* it ran to its end and nothing was found */
    CD_WATCH_DEADLOCK,
    CD_WATCH_STUCK,
    CD_WATCH_TIMEOUT
} cd_watch_verdict_t;

/* One thread of a finding: who, where it waits, what it holds. Names
 * are resolved ("transfer_ab", "mutex_A", "abba.c:16"); "" when none. */
typedef struct cd_watch_link {
    char thread[CD_WATCH_TEXT];    /* its start function, or "main" */
    char thread_at[CD_WATCH_TEXT]; /* where that function is */
    char holds[CD_WATCH_TEXT];     /* deadlock: the lock it holds */
    char held_at[CD_WATCH_TEXT];   /* where it took it */
    char waits[CD_WATCH_TEXT];     /* the lock, condvar, semaphore, thread */
    char waits_kind[16];           /* "mutex", "rwlock", "cond", "sem",
                                      "join" */
    char waits_at[CD_WATCH_TEXT];  /* where it waits */
} cd_watch_link_t;

/* A finding that does not stop the program: a lock-order inversion or a
 * misuse. */
typedef struct cd_watch_finding {
    char kind[16];                 /* "order", "misuse" */
    char what[64];                 /* misuse: "unlock of a mutex it does
                                      not hold", ...; order: "" */
    char text[12 * CD_WATCH_TEXT]; /* the sentence with names and sites */
} cd_watch_finding_t;

typedef struct cd_watch_result {
    int verdict;                   /* cd_watch_verdict_t */
    int nlinks;
    cd_watch_link_t links[CD_WATCH_MAX_LINKS];
    char lost_wakeup[5 * CD_WATCH_TEXT]; /* stuck: a signal nobody heard */
    int nfindings;
    cd_watch_finding_t findings[CD_WATCH_MAX_FINDINGS];
    int orders;                    /* how many findings are inversions */
    /* the summary, when the program ended by itself */
    int have_summary;
    int threads, locks;
    char top_lock[CD_WATCH_TEXT];
    uint64_t top_contended;
    int64_t top_wait_ns;
    char hold_lock[CD_WATCH_TEXT];
    int64_t hold_ns;
    /* how the program ended */
    int exit_code;                 /* its status, 128+N for signal N */
    int stopped;                   /* watch ended it (a deadlock, stuck) */
    int64_t found_ns;              /* when the finding came, from start */
} cd_watch_result_t;

typedef struct cd_watch_opts {
    char *const *argv;             /* the program and its arguments */
    int timeout_ms;                /* 0: none */
    const char *lib;               /* the library to preload */
    int view;                      /* share frames for the live view */
} cd_watch_opts_t;

typedef struct cd_watch cd_watch_t;
struct cd_view_source;

/* The library beside the binary (build/, or PREFIX/lib/concdemo/ when
 * installed), or $CONCDEMO_WATCH_LIB: 0 with its path, or -1. */
int cd_watch_find_lib(char *out, size_t size);

/* Why argv[0] cannot be watched ("not found", "statically linked: ..."),
 * or NULL when it can; path gets the file that will run. */
const char *cd_watch_check_program(const char *prog, char *path,
                                   size_t size);

/* Runs the program under watch and fills *r. 0, or -1 with a line in
 * err (the program could not be started). */
int cd_watch_run(const cd_watch_opts_t *o, cd_watch_result_t *r, char *err,
                 size_t errlen);

/* The same in steps, for the live view: start the program; show it
 * through the source (view.h: sample, screen, q stops it); then finish
 * (waits for its end, fills *r) and free. */
int cd_watch_start(cd_watch_t **out, const cd_watch_opts_t *o, char *err,
                   size_t errlen);
void cd_watch_source(cd_watch_t *w, const char *prog,
                     struct cd_view_source *src);
void cd_watch_stop(cd_watch_t *w);
void cd_watch_finish(cd_watch_t *w, cd_watch_result_t *r);
void cd_watch_free(cd_watch_t *w);

#endif /* CD_WATCH_CLI_H */
