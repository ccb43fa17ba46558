/*
 * team.h - the thread run that the harnesses of spurious, backpressure
 * and holdtime share: one thread (a till, a log shipper) beside a team
 * of n (cooks, web workers, handlers). When the team has ended the
 * harness may wind the one thread down (close its queue); then it is
 * joined, the harness adds its last records to the run's books, and the
 * books are closed into the run's verdict. Linked with every exercise;
 * it names no learner's function.
 */
#ifndef EX_TEAM_H
#define EX_TEAM_H

#include "cd_thread.h"
#include "scenario.h"

typedef struct ex_beside {
    const char *name;     /* the one thread: its name and function */
    cd_thread_fn fn;
    int n;                /* the team: n threads "<team>-1".."<team>-n" */
    const char *team;
    const char *members;  /* what they are, for an error ("cooks") */
    cd_team_fn member;
    void (*team_done)(void *ctx); /* after the team, before the join; or NULL */
    void (*books)(void *ctx); /* once all ran and ended: the harness's last
                                 records (cli/ledger.h); or NULL */
    void *ctx;            /* what fn, member, team_done and books are handed */
} ex_beside_t;

/* Runs b's one thread and, beside it, its team; once both have ended,
 * closes the run's books into v (cd_ledger_end_error): an ERROR if the
 * one thread could not start (then nothing ran: "could not start the
 * till") or the team could not (the one thread was still wound down and
 * joined: "could not start 4 cooks"). b->books adds its records only
 * when everyone ran. */
void ex_run_beside(const ex_beside_t *b, cd_verdict_t *v);

#endif /* EX_TEAM_H */
