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

#include <stddef.h>

#include "cd_registry.h"

/* How a finding reads: "acct-A -> acct-B in transfer-1 (holds acct-A from
 * demos/x.c:70, takes acct-B at demos/x.c:74); acct-B -> acct-A in
 * transfer-2 (...)". Returns what snprintf returns. (Learning edges is
 * libconc's own business: cd_internal.h.) */
int cd_inversion_format(const cd_inversion_t *inv, char *buf, size_t size);

#endif /* CD_LOCKORDER_H */
