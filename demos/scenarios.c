/*
 * scenarios.c - the table of scenarios and the verdict helpers.
 *
 * Adding a scenario: write demos/<name>.c exporting cd_scenario_<name>,
 * declare it below and add it to the table. The table is the one list of
 * scenarios: its worksheet, exercise, answer and decoys are found by the
 * name (the checklist is in docs/ARCHITECTURE.md, "Adding a scenario").
 */
#include "scenario.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

extern const cd_scenario_t cd_scenario_race;
extern const cd_scenario_t cd_scenario_deadlock;
extern const cd_scenario_t cd_scenario_starvation;
extern const cd_scenario_t cd_scenario_backpressure;
extern const cd_scenario_t cd_scenario_await;
extern const cd_scenario_t cd_scenario_async_race;
extern const cd_scenario_t cd_scenario_lost_wakeup;
extern const cd_scenario_t cd_scenario_spurious;
extern const cd_scenario_t cd_scenario_order_violation;
extern const cd_scenario_t cd_scenario_philosophers;
extern const cd_scenario_t cd_scenario_publication;
extern const cd_scenario_t cd_scenario_livelock;
extern const cd_scenario_t cd_scenario_stampede;
extern const cd_scenario_t cd_scenario_webhook;
extern const cd_scenario_t cd_scenario_inventory;
extern const cd_scenario_t cd_scenario_counter;
extern const cd_scenario_t cd_scenario_broadcast;
extern const cd_scenario_t cd_scenario_db_race;
extern const cd_scenario_t cd_scenario_holdtime;
extern const cd_scenario_t cd_scenario_chat;
extern const cd_scenario_t cd_scenario_orphans;
extern const cd_scenario_t cd_scenario_offload;

static const cd_scenario_t *const table[] = {
    &cd_scenario_race,
    &cd_scenario_deadlock,
    &cd_scenario_starvation,
    &cd_scenario_backpressure,
    &cd_scenario_await,
    &cd_scenario_async_race,
    &cd_scenario_lost_wakeup,
    &cd_scenario_spurious,
    &cd_scenario_order_violation,
    &cd_scenario_philosophers,
    &cd_scenario_publication,
    &cd_scenario_livelock,
    &cd_scenario_stampede,
    &cd_scenario_webhook,
    &cd_scenario_inventory,
    &cd_scenario_counter,
    &cd_scenario_broadcast,
    &cd_scenario_db_race,
    &cd_scenario_holdtime,
    &cd_scenario_chat,
    &cd_scenario_orphans,
    &cd_scenario_offload,
};

const cd_scenario_t *const *cd_scenarios(int *count)
{
    *count = (int)(sizeof table / sizeof table[0]);
    return table;
}

const cd_scenario_t *cd_scenario_find(const char *name)
{
    int n;
    const cd_scenario_t *const *all = cd_scenarios(&n);
    for (int i = 0; i < n; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

int cd_scenario_variant(const cd_scenario_t *s, const char *name)
{
    for (int i = 0; i < s->nvariants; i++)
        if (strcmp(s->variants[i].name, name) == 0)
            return i;
    return -1;
}

void cd_verdict_expect(cd_verdict_t *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->expected, sizeof v->expected, fmt, ap);
    va_end(ap);
}

void cd_verdict_observe(cd_verdict_t *v, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cd_verdict_vobserve(v, status, fmt, ap);
    va_end(ap);
}

void cd_verdict_vobserve(cd_verdict_t *v, int status, const char *fmt,
                         va_list ap)
{
    vsnprintf(v->observed, sizeof v->observed, fmt, ap);
    v->status = status;
}

static cd_fig_t *new_fig(cd_verdict_t *v, const char *key)
{
    if (v->nfigs >= CD_MAX_FIGS)
        return NULL;
    cd_fig_t *f = &v->figs[v->nfigs++];
    memset(f, 0, sizeof *f);
    snprintf(f->key, sizeof f->key, "%s", key);
    return f;
}

void cd_verdict_num(cd_verdict_t *v, const char *key, int64_t value)
{
    cd_fig_t *f = new_fig(v, key);
    if (f) {
        f->is_num = 1;
        f->num = value;
    }
}

void cd_verdict_str(cd_verdict_t *v, const char *key, const char *fmt, ...)
{
    cd_fig_t *f = new_fig(v, key);
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->str, sizeof f->str, fmt, ap);
    va_end(ap);
}

int64_t cd_verdict_get_num(const cd_verdict_t *v, const char *key)
{
    for (int i = 0; i < v->nfigs; i++)
        if (v->figs[i].is_num && strcmp(v->figs[i].key, key) == 0)
            return v->figs[i].num;
    return -1;
}

const char *cd_verdict_get_str(const cd_verdict_t *v, const char *key)
{
    for (int i = 0; i < v->nfigs; i++)
        if (!v->figs[i].is_num && strcmp(v->figs[i].key, key) == 0)
            return v->figs[i].str;
    return NULL;
}

const char *cd_status_name(int status)
{
    switch (status) {
    case CD_HELD: return "HELD";
    case CD_VIOLATED: return "VIOLATED";
    case CD_DEADLOCK: return "DEADLOCK";
    case CD_TIMEOUT: return "TIMEOUT";
    case CD_POTENTIAL: return "POTENTIAL DEADLOCK";
    case CD_STOPPED: return "STOPPED";
    case CD_STUCK: return "STUCK";
    case CD_LIVELOCK: return "LIVELOCK";
    default: return "ERROR";
    }
}

const char *cd_plural(long n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}
