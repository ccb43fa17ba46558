/*
 * cd_lockorder.c - learning edges, finding order inversions, and how
 * one reads.
 *
 * The fast path reads one bit per held lock. The slow path (a new edge)
 * runs under the registry's find_lock and searches for a path back from
 * the wanted lock to the held one; that path is the other half of the
 * inversion.
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

static const cd_edge_t *find_edge(int from, int to)
{
    for (int i = 0; i < cd__reg.nedges; i++)
        if (cd__reg.edges[i].from == from && cd__reg.edges[i].to == to)
            return &cd__reg.edges[i];
    return NULL;
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
    int cycle = 0, first_hop = 0;

    if (from <= 0 || to <= 0 || from > CD_MAX_OBJECTS || to > CD_MAX_OBJECTS)
        return 0;
    CD_CHECK(pthread_mutex_lock(&cd__reg.find_lock));
    if (!has_edge(from, to) && cd__reg.nedges < CD_MAX_EDGES) {
        cd__reg.edges[cd__reg.nedges++] = (cd_edge_t){
            .from = from, .to = to, .thread = thread,
            .held_at = held_at, .taken_at = taken_at,
        };
        if (path_exists(to, from, &first_hop)) {
            report(thread, from, to, held_at, taken_at, first_hop);
            cycle = 1;
        }
        atomic_fetch_or(&cd__reg.order_bits[from - 1][(to - 1) / 64],
                        (uint64_t)1 << ((to - 1) % 64));
    }
    CD_CHECK(pthread_mutex_unlock(&cd__reg.find_lock));
    return cycle;
}

void cd__lockorder_note(int self, _Atomic int *held, int n, int want,
                        cd_site_t site)
{
    if (n > CD_MAX_HELD)
        n = CD_MAX_HELD;
    for (int i = 0; i < n; i++) {
        int h = cd__ld(&held[i]);
        if (h == want || has_edge(h, want))
            continue;
        cd_obj_rec_t *o = cd__obj(h);
        cd_site_t held_at = { cd__ld(&o->site_file), cd__ld(&o->site_line) };
        cd__lockorder_add(self, h, want, held_at, site);
    }
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
