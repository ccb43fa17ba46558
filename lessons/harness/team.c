/*
 * team.c - one thread beside a team, for the harnesses (team.h).
 */
#include "harness/team.h"

int ex_run_beside(const ex_beside_t *b, int *team_rc)
{
    cd_thread_t t;

    if (cd_thread_spawn(&t, b->name, b->fn, b->ctx) != 0)
        return -1;
    *team_rc = cd_team_run(b->n, b->team, b->member, b->ctx);
    if (b->team_done)
        b->team_done(b->ctx);
    cd_thread_join(&t);
    return 0;
}
