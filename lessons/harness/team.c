/*
 * team.c - one thread beside a team, for the harnesses (team.h).
 */
#include "harness/team.h"
#include "../../cli/ledger.h"

void ex_run_beside(const ex_beside_t *b, cd_verdict_t *v)
{
    cd_thread_t t;

    if (cd_thread_spawn(&t, b->name, b->fn, b->ctx) != 0) {
        cd_ledger_end_error(v, 1, "could not start the %s", b->name);
        return;
    }
    int rc = cd_team_run(b->n, b->team, b->member, b->ctx);
    if (b->team_done)
        b->team_done(b->ctx);
    cd_thread_join(&t);
    if (rc >= 0 && b->books)
        b->books(b->ctx);
    cd_ledger_end_error(v, rc < 0, "could not start %d %s", b->n,
                        b->members);
}
