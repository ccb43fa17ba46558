/*
 * support.c - the mechanics every scenario's run shares (support.h).
 */
#include "support.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/cd_registry.h"
#include "../lib/cd_scope.h"

void cd_demo_run(const cd_demo_steps_t *steps, void *state,
                 const cd_params_t *p, int variant, cd_verdict_t *v)
{
    if (steps->setup(state, p, variant) != 0) {
        cd_verdict_observe(v, CD_ERROR, "could not set up %s",
                           steps->subject);
        steps->teardown(state);
        return;
    }
    int64_t t0 = cd_reg_elapsed_ns(); /* the virtual clock under --sched */
    int rc = steps->serve(state, v);
    int64_t ns = cd_reg_elapsed_ns() - t0;
    if (rc == 0)
        steps->check(state, ns, v);
    steps->teardown(state);
}

/* One task of an each() batch: what it runs it finds from k. */
typedef struct each_slot {
    const cd_demo_batch_t *b;
    int k;
} each_slot_t;

static void each_task(void *arg)
{
    const each_slot_t *t = arg;
    t->b->each(t->b->ctx, t->k);
}

/* Spawns task k of b on e. Returns its id, or < 0. */
static int spawn_one(const cd_demo_batch_t *b, cd_exec_t *e, int k,
                     each_slot_t *slots)
{
    void *arg;
    cd_task_fn fn = b->fn;
    if (b->each) {
        slots[k] = (each_slot_t){ b, k };
        arg = &slots[k];
        fn = each_task;
    } else {
        arg = (char *)b->args + (size_t)k * b->size;
    }
    const void *about = b->each ? b->ctx : arg;
    char name[CD_NAME_MAX];
    if (b->name)
        b->name(about, k, name, sizeof name);
    else
        snprintf(name, sizeof name, "%s-%d", b->prefix, k + 1);
    return b->worker ? cd_exec_spawn_on(e, b->worker(about, k), name, fn, arg)
                     : cd_exec_spawn(e, name, fn, arg);
}

int cd_demo_run_batch(const cd_demo_batch_t *b, cd_verdict_t *v)
{
    cd_exec_t *e = NULL;
    int rc = -1;
    each_slot_t *slots =
        b->each ? calloc((size_t)(b->n > 0 ? b->n : 1), sizeof *slots) : NULL;

    if ((b->each ? !slots : !b->args) || cd_exec_create(&e, b->nworkers) != 0)
        goto out;
    for (int k = 0; k < b->n; k++)
        if (spawn_one(b, e, k, slots) < 0)
            goto out;
    if (b->offload)
        (void)cd_exec_offload_start(e); /* else the first offload starts it */
    rc = cd_exec_run(e) < 0 ? -1 : 0;
    if (b->after)
        b->after(b->ctx);
out:
    cd_exec_destroy(e);
    free(slots);
    if (rc != 0 && b->what)
        cd_verdict_observe(v, CD_ERROR, "could not run %d %s tasks on %d "
                           "workers", b->n, b->what, b->nworkers);
    return rc;
}

/* The sentence for what could not start: the thread (team 0) or the
 * team. */
static void not_started(const cd_demo_beside_t *b, int team, cd_verdict_t *v)
{
    if (!b->who)
        cd_verdict_observe(v, CD_ERROR, "could not start %d threads",
                           b->n + 1);
    else if (team)
        cd_verdict_observe(v, CD_ERROR, "could not start %d %s", b->n,
                           b->what);
    else
        cd_verdict_observe(v, CD_ERROR, "could not start %s", b->who);
}

int cd_demo_beside(const cd_demo_beside_t *b, cd_verdict_t *v)
{
    cd_thread_t t;
    if (cd_thread_spawn(&t, b->name, b->fn, b->ctx) != 0) {
        not_started(b, 0, v);
        return -1;
    }
    int rc = cd_team_run(b->n, b->prefix, b->team, b->ctx);
    if (b->between)
        b->between(b->ctx);
    cd_thread_join(&t);
    if (rc < 0) {
        not_started(b, 1, v);
        return -1;
    }
    return 0;
}

void cd_demo_figures(const char *total, int64_t n, ...)
{
    if (total)
        cd_reg_gauge_set(cd_reg_gauge(total), n);
    va_list ap;
    va_start(ap, n);
    for (const char *name; (name = va_arg(ap, const char *)) != NULL;) {
        int *id = va_arg(ap, int *);
        *id = cd_reg_gauge(name);
    }
    va_end(ap);
}

cd_demo_tally_t cd_demo_tally(const atomic_int *count, int n,
                              memory_order order)
{
    cd_demo_tally_t t = { 0 };
    for (int i = 0; i < n; i++) {
        int c = atomic_load_explicit(&count[i], order);
        t.total += c;
        t.twice += c > 1;
        t.never += c == 0;
    }
    return t;
}

void cd_demo_show_tally(const atomic_int *count, int n, int total_id,
                        int twice_id)
{
    cd_demo_tally_t t = cd_demo_tally(count, n, memory_order_relaxed);
    cd_reg_gauge_set(total_id, t.total);
    cd_reg_gauge_set(twice_id, t.twice);
}

cd_demo_shop_t cd_demo_shop_books(const atomic_int *charges, int norders,
                                  const atomic_long *balance,
                                  int ncustomers, long price,
                                  cd_verdict_t *v)
{
    cd_demo_tally_t t = cd_demo_tally(charges, norders, memory_order_seq_cst);
    cd_demo_shop_t b = { .total = t.total, .twice = t.twice,
                         .unpaid = t.never };
    for (int c = 0; c < ncustomers; c++)
        if (atomic_load(&balance[c]) < atomic_load(&balance[b.worst]))
            b.worst = c;
    /* Orders go round the customers: customer c pays for its share. */
    b.start = price * ((norders - b.worst + ncustomers - 1) / ncustomers);
    b.low = atomic_load(&balance[b.worst]);

    cd_verdict_expect(v, "each of %d %s charged once, every balance "
                      "ending at 0", norders,
                      cd_plural(norders, "order", "orders"));
    cd_verdict_num(v, "orders", norders);
    cd_verdict_num(v, "charges", b.total);
    cd_verdict_num(v, "double_charged", b.twice);
    cd_verdict_num(v, "unpaid", b.unpaid);
    cd_verdict_num(v, "customers", ncustomers);
    return b;
}

size_t cd_demo_append(char *buf, size_t size, size_t at, const char *fmt,
                      ...)
{
    if (at >= size)
        return at;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + at, size - at, fmt, ap);
    va_end(ap);
    return w > 0 ? at + (size_t)w : at;
}

void cd_demo_join(char *buf, size_t size, const int *c, int n)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < n; i++)
        at = cd_demo_append(buf, size, at, "%s%d", i ? "/" : "", c[i]);
}

const char *cd_demo_bytes(char *buf, size_t size, double bytes)
{
    const char *unit = "B";
    if (bytes >= 1024.0 * 1024) {
        bytes /= 1024.0 * 1024;
        unit = "MiB";
    } else if (bytes >= 1024) {
        bytes /= 1024;
        unit = "KiB";
    }
    if (bytes == (double)(long)bytes)
        snprintf(buf, size, "%.0f %s", bytes, unit);
    else
        snprintf(buf, size, "%.1f %s", bytes, unit);
    return buf;
}
