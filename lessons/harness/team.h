/*
 * team.h - the thread run that the harnesses of spurious, backpressure
 * and holdtime share: one thread (a till, a log shipper) beside a team
 * of n (cooks, web workers, handlers). When the team has ended the
 * harness may wind the one thread down (close its queue); then it is
 * joined. Linked with every exercise; it names no learner's function.
 */
#ifndef EX_TEAM_H
#define EX_TEAM_H

#include "cd_thread.h"

typedef struct ex_beside {
    const char *name;     /* the one thread: its name and function */
    cd_thread_fn fn;
    int n;                /* the team: n threads "<team>-1".."<team>-n" */
    const char *team;
    cd_team_fn member;
    void (*team_done)(void *ctx); /* after the team, before the join; or NULL */
    void *ctx;            /* what fn, member and team_done are handed */
} ex_beside_t;

/* Runs b's one thread and, beside it, its team; returns once both have
 * ended: 0 with *team_rc = cd_team_run's result (< 0: the team could not
 * start, yet the one thread was wound down and joined), or -1 if the one
 * thread could not start (then nothing ran). */
int ex_run_beside(const ex_beside_t *b, int *team_rc);

#endif /* EX_TEAM_H */
