/*
 * cd_trace.c - the event ring.
 *
 * The ring may be read while it is written (the live view shows the newest
 * events of a running demo), so every slot is a small seqlock made of
 * atomics only: the writer stamps the slot odd, stores the fields, then
 * stamps it even; a reader keeps what it read only if it saw the same even
 * stamp before and after. Writers only store into slots and readers only
 * load from them, so the ring orders nothing between the demo's threads
 * (ThreadSanitizer still sees their races); it orders a writer before the
 * reader that copies its event, which is what makes the copy whole.
 */
#include "cd_trace.h"

#include <errno.h>
#include <stdio.h>

#include "cd_internal.h"

#define ACQ memory_order_acquire
#define REL memory_order_release

void cd__trace_emit(int thread, int op, int obj, int64_t arg,
                    const char *label, cd_site_t site)
{
    /* Relaxed on purpose: the trace must not create happens-before edges
     * between demo threads, or ThreadSanitizer would miss their races. */
    uint64_t seq = atomic_fetch_add_explicit(&cd__reg.trace_next, 1,
                                             memory_order_relaxed);
    cd_trace_slot_t *sl = &cd__reg.trace[seq % CD_TRACE_CAP];

    /* Odd first. Each field store is a release so that none of them can
     * become visible before the odd stamp (x86: plain moves). */
    cd__st(&sl->stamp, 2 * seq + 1);
    atomic_store_explicit(&sl->t_ns, cd_reg_elapsed_ns(), REL);
    atomic_store_explicit(&sl->thread, thread, REL);
    atomic_store_explicit(&sl->op, op, REL);
    atomic_store_explicit(&sl->obj, obj, REL);
    atomic_store_explicit(&sl->arg, arg, REL);
    atomic_store_explicit(&sl->label, label, REL);
    atomic_store_explicit(&sl->file, site.file, REL);
    atomic_store_explicit(&sl->line, site.line, REL);
    atomic_store_explicit(&sl->stamp, 2 * seq + 2, REL);
}

uint64_t cd_trace_total(void) { return cd__ld(&cd__reg.trace_next); }

int cd_trace_get(uint64_t seq, cd_trace_event_t *out)
{
    uint64_t total = cd_trace_total();
    if (seq >= total || total - seq > CD_TRACE_CAP)
        return -ENOENT;
    cd_trace_slot_t *sl = &cd__reg.trace[seq % CD_TRACE_CAP];
    uint64_t want = 2 * seq + 2;

    if (atomic_load_explicit(&sl->stamp, ACQ) != want)
        return -ENOENT; /* not written yet, being written, or overwritten */
    /* Acquire loads: the second stamp load cannot move above them, so if
     * a later writer touched any field, the stamp below shows it. */
    out->seq = seq;
    out->t_ns = atomic_load_explicit(&sl->t_ns, ACQ);
    out->thread = atomic_load_explicit(&sl->thread, ACQ);
    out->op = atomic_load_explicit(&sl->op, ACQ);
    out->obj = atomic_load_explicit(&sl->obj, ACQ);
    out->arg = atomic_load_explicit(&sl->arg, ACQ);
    out->label = atomic_load_explicit(&sl->label, ACQ);
    out->site.file = atomic_load_explicit(&sl->file, ACQ);
    out->site.line = atomic_load_explicit(&sl->line, ACQ);
    return cd__ld(&sl->stamp) == want ? 0 : -ENOENT;
}

const char *cd_op_name(int op)
{
    static const char *const names[CD_OP_COUNT_] = {
        [CD_OP_NONE] = "-",           [CD_OP_SPAWN] = "spawn",
        [CD_OP_START] = "start",      [CD_OP_EXIT] = "exit",
        [CD_OP_JOIN] = "join",        [CD_OP_LOCK] = "lock",
        [CD_OP_TRYLOCK] = "trylock",  [CD_OP_TIMEDLOCK] = "timedlock",
        [CD_OP_BLOCK] = "blocked",    [CD_OP_ACQUIRED] = "acquired",
        [CD_OP_BUSY] = "busy",        [CD_OP_TIMEOUT] = "timed-out",
        [CD_OP_UNLOCK] = "unlock",    [CD_OP_LATENCY] = "latency",
        [CD_OP_WAKE] = "wake",        [CD_OP_POINT] = "point",
        [CD_OP_ABORT] = "aborted",
        [CD_OP_SEND] = "send",        [CD_OP_TRYSEND] = "trysend",
        [CD_OP_TIMEDSEND] = "timedsend", [CD_OP_RECV] = "recv",
        [CD_OP_TRYRECV] = "tryrecv",  [CD_OP_TIMEDRECV] = "timedrecv",
        [CD_OP_CLOSE] = "close",      [CD_OP_DROP] = "drop",
        [CD_OP_CLOSED] = "closed",
        [CD_OP_RDLOCK] = "rdlock",    [CD_OP_WRLOCK] = "wrlock",
        [CD_OP_TRYRDLOCK] = "tryrdlock", [CD_OP_TRYWRLOCK] = "trywrlock",
        [CD_OP_TASK_SPAWN] = "spawn-task",
        [CD_OP_AWAIT] = "await",      [CD_OP_PARK] = "parked",
        [CD_OP_READY] = "ready",      [CD_OP_RESUME] = "resumed",
        [CD_OP_COND_WAIT] = "cond-wait", [CD_OP_COND_TIMEDWAIT] = "cond-timed",
        [CD_OP_SIGNAL] = "signal",    [CD_OP_BROADCAST] = "broadcast",
        [CD_OP_WOKE] = "woke",        [CD_OP_SEM_WAIT] = "sem-wait",
        [CD_OP_SEM_TRYWAIT] = "sem-try", [CD_OP_SEM_TIMEDWAIT] = "sem-timed",
        [CD_OP_POST] = "post",
        [CD_OP_ACCEPT] = "accept",    [CD_OP_READ] = "read",
        [CD_OP_WRITE] = "write",     [CD_OP_CONNECT] = "connect",
        [CD_OP_SCOPE_CLOSE] = "scope-close", [CD_OP_OFFLOAD] = "offload",
    };
    if (op < 0 || op >= CD_OP_COUNT_ || !names[op])
        return "?";
    return names[op];
}

const char *cd_trace_subject(const cd_trace_event_t *ev,
                             const cd_snapshot_t *names)
{
    switch (ev->op) {
    case CD_OP_SPAWN:
    case CD_OP_JOIN:
    case CD_OP_TASK_SPAWN:
        return names ? cd_snap_thread_name(names, ev->obj)
                     : cd_reg_thread_name(ev->obj);
    case CD_OP_LATENCY:
    case CD_OP_WAKE:
    case CD_OP_POINT:
    case CD_OP_AWAIT:
    case CD_OP_OFFLOAD:
        return ev->label ? ev->label : "";
    default:
        if (ev->obj)
            return names ? cd_snap_object_name(names, ev->obj)
                         : cd_reg_object_name(ev->obj);
        return ev->label ? ev->label : "";
    }
}

/* The words after the subject that say what arg means, or nothing. */
static void format_arg(const cd_trace_event_t *ev, char *extra, size_t size)
{
    long long arg = (long long)ev->arg;

    switch (ev->op) {
    case CD_OP_LATENCY:
    case CD_OP_AWAIT:
        snprintf(extra, size, "%.3f ms", (double)ev->arg / 1000.0);
        break;
    case CD_OP_TIMEDLOCK:
    case CD_OP_TIMEDSEND:
    case CD_OP_TIMEDRECV:
    case CD_OP_COND_TIMEDWAIT:
    case CD_OP_SEM_TIMEDWAIT:
        snprintf(extra, size, "<= %lld ms", arg);
        break;
    case CD_OP_DROP:
        snprintf(extra, size, "drop #%lld", arg);
        break;
    case CD_OP_ACQUIRED:
        if (arg == 1)
            snprintf(extra, size, "shared");
        break;
    case CD_OP_SIGNAL:
    case CD_OP_BROADCAST:
        /* A wake-up nobody heard is the lesson of a lost wake-up. */
        if (arg == 0)
            snprintf(extra, size, "unheard");
        else
            snprintf(extra, size, "woke %lld", arg);
        break;
    case CD_OP_WOKE:
        snprintf(extra, size, "%s", arg == CD_WOKE_TIMED_OUT ? "timed out"
                                    : arg == CD_WOKE_SPURIOUS ? "spurious"
                                                              : "signalled");
        break;
    case CD_OP_POST:
        snprintf(extra, size, "count %lld", arg);
        break;
    case CD_OP_READ:
    case CD_OP_WRITE:
        snprintf(extra, size, "%lld bytes", arg);
        break;
    default:
        break;
    }
}

int cd_trace_format(const cd_trace_event_t *ev, char *buf, size_t size)
{
    char extra[32] = "";

    format_arg(ev, extra, sizeof extra);
    if (ev->site.file)
        return snprintf(buf, size, "%9.3f ms  %-14s %-10s %-16s %-10s %s:%d",
                        (double)ev->t_ns / 1e6, cd_reg_thread_name(ev->thread),
                        cd_op_name(ev->op), cd_trace_subject(ev, NULL), extra,
                        ev->site.file, ev->site.line);
    return snprintf(buf, size, "%9.3f ms  %-14s %-10s %-16s %s",
                    (double)ev->t_ns / 1e6, cd_reg_thread_name(ev->thread),
                    cd_op_name(ev->op), cd_trace_subject(ev, NULL), extra);
}
