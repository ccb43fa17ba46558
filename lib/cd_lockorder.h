/*
 * cd_lockorder.h - the lock-order graph, as lockdep keeps it.
 *
 * Each time a thread that holds locks asks for another one with a blocking
 * lock, the graph learns an edge held -> wanted. An edge that closes a cycle
 * means two code paths take the same locks in opposite orders: a potential
 * deadlock, reported even when the threads happened not to collide. Try and
 * timed acquisitions add no edge: they cannot wait forever. The report
 * names both edges' threads and source sites.
 */
#ifndef CD_LOCKORDER_H
#define CD_LOCKORDER_H

#include <stdatomic.h>

#include "cd_common.h"

/* The thread `self`, holding the n locks in held[], asks for `want` at
 * site. Cheap when every edge is known already. Can't fail; a full graph
 * stops learning new edges. */
void cd_lockorder_note(int self, _Atomic int *held, int n, int want,
                       cd_site_t site);

/* Adds one edge directly (tests build graphs this way); returns 1 if it
 * closed a cycle and was reported, else 0. */
int cd_lockorder_add(int thread, int from, int to, cd_site_t held_at,
                     cd_site_t taken_at);

#endif /* CD_LOCKORDER_H */
