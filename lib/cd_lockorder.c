/*
 * cd_lockorder.c - learning edges, finding order inversions, and how
 * one reads.
 *
 * The fast path reads one bit per held lock. The slow path (a new edge)
 * runs under the registry's find_lock and searches for a path back from
 * the wanted lock to the held one; that path is the other half of the
 * inversion.
 *
 * Gates (see cd_internal.h) make the search ask one more thing: a path
 * back whose edges, with the new one, all carry the same gate closes only
 * if the cycle has no more edges than the gate has permits. While any
 * edge carries a gate, a known edge is looked at under the lock too, to
 * find a thread that takes it outside its gate (for ThreadSanitizer that
 * lock orders the threads that take it, as learning a new edge does).
 */
#include "cd_lockorder.h"

#include <stdio.h>
#include <string.h>

#include "cd_internal.h"

static int has_edge(int from, int to)
{
    uint64_t w = cd__ld(&cd__reg.order_bits[from - 1][(to - 1) / 64]);
    return (int)((w >> ((to - 1) % 64)) & 1);
}

/* Caller holds find_lock. */
static cd_edge_t *find_edge(int from, int to)
{
    for (int i = 0; i < cd__reg.nedges; i++)
        if (cd__reg.edges[i].from == from && cd__reg.edges[i].to == to)
            return &cd__reg.edges[i];
    return NULL;
}

static int permits_of(int gate)
{
    return gate > 0 && gate <= CD_MAX_OBJECTS
               ? cd__ld(&cd__reg.gate_permits[gate - 1])
               : 0;
}

/* The gate edge e carries now: its own while that is still a gate. */
static int edge_gate(const cd_edge_t *e)
{
    return permits_of(e->gate) > 0 ? e->gate : 0;
}

/* Breadth-first search from `start` to `goal`; on success stores the first
 * hop after start in *first_hop. Caller holds find_lock. */
static int path_exists(int start, int goal, int *first_hop)
{
    int queue[CD_MAX_OBJECTS], via[CD_MAX_OBJECTS + 1];
    unsigned char seen[CD_MAX_OBJECTS + 1];
    int head = 0, tail = 0;

    memset(seen, 0, sizeof seen);
    queue[tail++] = start;
    seen[start] = 1;
    via[start] = 0;
    while (head < tail) {
        int u = queue[head++];
        for (int word = 0; word < CD_ORDER_WORDS; word++) {
            uint64_t bits = cd__ld(&cd__reg.order_bits[u - 1][word]);
            while (bits) {
                int v = word * 64 + __builtin_ctzll(bits) + 1;
                bits &= bits - 1;
                if (seen[v])
                    continue;
                seen[v] = 1;
                via[v] = (u == start) ? v : via[u];
                if (v == goal) {
                    *first_hop = via[v];
                    return 1;
                }
                queue[tail++] = v;
            }
        }
    }
    return 0;
}

/* Breadth-first search over the edge list from `start` to `goal` for a
 * way back that a deadlock could use with a new edge inside `gate`: with
 * mixed set, one that takes some edge not carrying the gate (any length
 * will do); with mixed clear, one whose edges all carry it, the shortest.
 * Returns its length in edges (0: none) and its first hop in *first_hop.
 * Caller holds find_lock. */
static int gated_path(int start, int goal, int gate, int mixed,
                      int *first_hop)
{
    /* States: a lock, and (for mixed) whether the way to it has taken an
     * edge outside the gate yet. */
    enum { N = 2 * (CD_MAX_OBJECTS + 1) };
    int queue[N], via[N], dist[N];
    unsigned char seen[N];
    int head = 0, tail = 0;

    memset(seen, 0, sizeof seen);
    queue[tail++] = start * 2;
    seen[start * 2] = 1;
    via[start * 2] = 0;
    dist[start * 2] = 0;
    while (head < tail) {
        int st = queue[head++], u = st / 2, out = st % 2;
        if (u == goal)
            continue; /* a way on from the goal would go round twice */
        for (int i = 0; i < cd__reg.nedges; i++) {
            const cd_edge_t *e = &cd__reg.edges[i];
            int inside = edge_gate(e) == gate;
            if (e->from != u || e->to == start || (!mixed && !inside))
                continue;
            int next = e->to * 2 + (out || !inside);
            if (seen[next])
                continue;
            seen[next] = 1;
            via[next] = u == start ? e->to : via[st];
            dist[next] = dist[st] + 1;
            if (e->to == goal && (!mixed || next % 2)) {
                *first_hop = via[next];
                return dist[next];
            }
            queue[tail++] = next;
        }
    }
    return 0;
}

/* Whether the new edge from -> to, learned inside gate (0: none), closes
 * a cycle that could deadlock: a path back from `to` to `from`, which a
 * gate with fewer permits than the cycle has edges rules out. Stores the
 * path's first hop in *first_hop. Caller holds find_lock. */
static int closes_cycle(int from, int to, int gate, int *first_hop)
{
    int permits = permits_of(gate);
    if (permits <= 0)
        return path_exists(to, from, first_hop);
    if (gated_path(to, from, gate, 1, first_hop) > 0)
        return 1;
    int len = gated_path(to, from, gate, 0, first_hop);
    return len > 0 && len + 1 <= permits;
}

static void report(int thread, int from, int to, cd_site_t held_at,
                   cd_site_t taken_at, int first_hop)
{
    cd_inversion_t inv = {
        .first = from, .second = to, .thread = thread,
        .held_at = held_at, .taken_at = taken_at,
        .direct = (first_hop == from),
        .back_next = first_hop,
    };
    const cd_edge_t *back = find_edge(to, first_hop);
    if (back) {
        inv.back_thread = back->thread;
        inv.back_held_at = back->held_at;
        inv.back_taken_at = back->taken_at;
    }
    cd__reg_add_inversion(&inv);
}

int cd__lockorder_add(int thread, int from, int to, cd_site_t held_at,
                      cd_site_t taken_at)
{
    return cd__lockorder_add_gated(thread, from, to, 0, held_at, taken_at);
}

/* Looks at the edge from -> to again as if it were new, now that it
 * carries no gate; reports the cycle it closes. Caller holds find_lock. */
static int look_again(cd_edge_t *e)
{
    int first_hop = 0;
    if (e->gate) {
        e->gate = 0;
        cd__st(&cd__reg.ngated, cd__ld(&cd__reg.ngated) - 1);
    }
    if (!path_exists(e->to, e->from, &first_hop))
        return 0;
    report(e->thread, e->from, e->to, e->held_at, e->taken_at, first_hop);
    return 1;
}

int cd__lockorder_add_gated(int thread, int from, int to, int gate,
                            cd_site_t held_at, cd_site_t taken_at)
{
    int cycle = 0, first_hop = 0;

    if (from <= 0 || to <= 0 || from > CD_MAX_OBJECTS || to > CD_MAX_OBJECTS)
        return 0;
    if (permits_of(gate) <= 0)
        gate = 0;
    CD_CHECK(pthread_mutex_lock(&cd__reg.find_lock));
    if (!has_edge(from, to) && cd__reg.nedges < CD_MAX_EDGES) {
        cd__reg.edges[cd__reg.nedges++] = (cd_edge_t){
            .from = from, .to = to, .thread = thread, .gate = gate,
            .held_at = held_at, .taken_at = taken_at,
        };
        if (gate)
            cd__st(&cd__reg.ngated, cd__ld(&cd__reg.ngated) + 1);
        if (closes_cycle(from, to, gate, &first_hop)) {
            report(thread, from, to, held_at, taken_at, first_hop);
            cycle = 1;
        }
        cd__st(&cd__reg.graphed[from - 1], 1);
        cd__st(&cd__reg.graphed[to - 1], 1);
        atomic_fetch_or(&cd__reg.order_bits[from - 1][(to - 1) / 64],
                        (uint64_t)1 << ((to - 1) % 64));
    } else if (has_edge(from, to)) {
        /* Known: it loses its gate if this thread took it outside. */
        cd_edge_t *e = find_edge(from, to);
        if (e && e->gate && e->gate != gate) {
            e->thread = thread;
            e->held_at = held_at;
            e->taken_at = taken_at;
            cycle = look_again(e);
        }
    }
    CD_CHECK(pthread_mutex_unlock(&cd__reg.find_lock));
    return cycle;
}

/* Whether thread self holds a permit of gate. */
static int inside(int self, int gate)
{
    int n = cd__ld(&cd__reg.npermits[self - 1]);
    for (int i = 0; i < n && i < CD_MAX_PERMITS; i++)
        if (cd__ld(&cd__reg.permits[self - 1][i]) == gate)
            return 1;
    return 0;
}

/* The gate a new edge of thread self carries: of the gates it is inside,
 * the one with the fewest permits (the tightest bound); 0: none. */
static int gate_of(int self)
{
    int best = 0, n = cd__ld(&cd__reg.npermits[self - 1]);
    for (int i = 0; i < n && i < CD_MAX_PERMITS; i++) {
        int g = cd__ld(&cd__reg.permits[self - 1][i]), p = permits_of(g);
        if (p > 0 && (!best || p < permits_of(best)))
            best = g;
    }
    return best;
}

void cd__lockorder_note(int self, _Atomic int *held, int n, int want,
                        cd_site_t site)
{
    int gated = cd__ld(&cd__reg.ngated) > 0;
    int own = self > 0 && self <= CD_MAX_THREADS ? gate_of(self) : 0;
    if (n > CD_MAX_HELD)
        n = CD_MAX_HELD;
    for (int i = 0; i < n; i++) {
        int h = cd__ld(&held[i]);
        if (h == want || (!gated && has_edge(h, want)))
            continue;
        cd_obj_rec_t *o = cd__obj(h);
        cd_site_t held_at = { cd__ld(&o->site_file), cd__ld(&o->site_line) };
        int gate = own;
        if (gated && has_edge(h, want)) {
            /* The edge keeps its gate if the thread is inside it. */
            CD_CHECK(pthread_mutex_lock(&cd__reg.find_lock));
            const cd_edge_t *e = find_edge(h, want);
            int keep = !e || !e->gate || inside(self, e->gate);
            if (e && e->gate && keep)
                gate = e->gate;
            CD_CHECK(pthread_mutex_unlock(&cd__reg.find_lock));
            if (keep)
                continue;
        }
        cd__lockorder_add_gated(self, h, want, gate, held_at, site);
    }
}

/* ================================= gates ================================= */

void cd__lockorder_gate(int sem, int permits)
{
    if (sem > 0 && sem <= CD_MAX_OBJECTS)
        cd__st(&cd__reg.gate_permits[sem - 1], permits > 0 ? permits : 0);
}

void cd__lockorder_enter(int self, int sem)
{
    if (self <= 0 || self > CD_MAX_THREADS || permits_of(sem) <= 0)
        return;
    int n = cd__ld(&cd__reg.npermits[self - 1]);
    if (n < CD_MAX_PERMITS) {
        cd__st(&cd__reg.permits[self - 1][n], sem);
        cd__st(&cd__reg.npermits[self - 1], n + 1);
    }
}

void cd__lockorder_leave(int self, int sem)
{
    if (self <= 0 || self > CD_MAX_THREADS || permits_of(sem) <= 0)
        return;
    int n = cd__ld(&cd__reg.npermits[self - 1]);
    for (int i = 0; i < n && i < CD_MAX_PERMITS; i++)
        if (cd__ld(&cd__reg.permits[self - 1][i]) == sem) {
            /* Its own permit back: the last one takes its place. */
            cd__st(&cd__reg.permits[self - 1][i],
                   cd__ld(&cd__reg.permits[self - 1][n - 1]));
            cd__st(&cd__reg.npermits[self - 1], n - 1);
            return;
        }
    /* A post by a thread that took nothing: the count no longer bounds
     * who is inside. Every cycle the gate hid is a cycle again. */
    CD_CHECK(pthread_mutex_lock(&cd__reg.find_lock));
    cd__st(&cd__reg.gate_permits[sem - 1], 0);
    for (int i = 0; i < cd__reg.nedges; i++)
        if (cd__reg.edges[i].gate == sem && look_again(&cd__reg.edges[i]))
            break;
    for (int i = 0; i < cd__reg.nedges; i++)
        if (cd__reg.edges[i].gate == sem) {
            cd__reg.edges[i].gate = 0;
            cd__st(&cd__reg.ngated, cd__ld(&cd__reg.ngated) - 1);
        }
    CD_CHECK(pthread_mutex_unlock(&cd__reg.find_lock));
}

/* ================================ the text ================================ */

int cd_inversion_format(const cd_inversion_t *inv, char *buf, size_t size)
{
    size_t at = 0;
    const char *a = cd_reg_object_name(inv->first);
    const char *b = cd_reg_object_name(inv->second);
    if (size)
        buf[0] = '\0';
    cd__appendf(buf, size, &at,
                "%s -> %s in %s (holds %s from %s:%d, takes %s at %s:%d)", a,
                b, cd_reg_thread_name(inv->thread), a,
                inv->held_at.file ? inv->held_at.file : "?",
                inv->held_at.line, b,
                inv->taken_at.file ? inv->taken_at.file : "?",
                inv->taken_at.line);
    if (inv->back_thread)
        cd__appendf(buf, size, &at,
                    "; %s -> %s%s in %s (holds %s from %s:%d, takes %s at "
                    "%s:%d)", b, cd_reg_object_name(inv->back_next),
                    inv->direct ? "" : " -> ...",
                    cd_reg_thread_name(inv->back_thread), b,
                    inv->back_held_at.file ? inv->back_held_at.file : "?",
                    inv->back_held_at.line, cd_reg_object_name(inv->back_next),
                    inv->back_taken_at.file ? inv->back_taken_at.file : "?",
                    inv->back_taken_at.line);
    return (int)at;
}

void cd__lockorder_forget(int obj)
{
    if (obj <= 0 || obj > CD_MAX_OBJECTS || !cd__ld(&cd__reg.graphed[obj - 1]))
        return;
    uint64_t bit = (uint64_t)1 << ((obj - 1) % 64);
    int word = (obj - 1) / 64, kept = 0;

    CD_CHECK(pthread_mutex_lock(&cd__reg.find_lock));
    for (int w = 0; w < CD_ORDER_WORDS; w++)
        cd__st(&cd__reg.order_bits[obj - 1][w], 0);
    for (int a = 0; a < CD_MAX_OBJECTS; a++)
        atomic_fetch_and(&cd__reg.order_bits[a][word], ~bit);
    for (int i = 0; i < cd__reg.nedges; i++) {
        cd_edge_t *e = &cd__reg.edges[i];
        if (e->from == obj || e->to == obj) {
            if (e->gate)
                cd__st(&cd__reg.ngated, cd__ld(&cd__reg.ngated) - 1);
            continue;
        }
        cd__reg.edges[kept++] = *e;
    }
    cd__reg.nedges = kept;
    cd__st(&cd__reg.graphed[obj - 1], 0);
    CD_CHECK(pthread_mutex_unlock(&cd__reg.find_lock));
}
