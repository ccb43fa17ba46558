/*
 * cd_trace.h - the event stream of a run: who did what to which object, when.
 *
 * Every pass through the choke point can append one event. In a free run
 * each thread writes into a ring of its own, stamped with the TSC, and an
 * uncontended lock writes one event that reads back as its lock and its
 * acquired, at the time of the thread's next event (it reads no clock; a
 * waiter that asked meanwhile is still shown after it); a controlled run
 * writes into one ring in the order its threads
 * took turns (the newest CD_TRACE_CAP events are kept). Tracing is off
 * unless cd_reg_set_trace(1) was called, so that an untraced run pays one
 * predictable branch per operation. Events can be read back while the run
 * goes on (the live view's log: an event being written is skipped, never
 * torn) or after the threads were joined, merged into one stream in time
 * order; libconc formats them into caller buffers and never prints.
 */
#ifndef CD_TRACE_H
#define CD_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "cd_common.h"
#include "cd_registry.h"

#define CD_TRACE_CAP 65536

/* Every operation that passes through the choke point. */
typedef enum cd_op {
    CD_OP_NONE = 0,
    CD_OP_SPAWN,     /* obj: the new thread's id */
    CD_OP_START,
    CD_OP_EXIT,
    CD_OP_JOIN,      /* obj: the joined thread's id */
    CD_OP_LOCK,      /* asks for a lock and will wait */
    CD_OP_TRYLOCK,   /* asks without waiting */
    CD_OP_TIMEDLOCK, /* asks, waiting at most arg ms */
    CD_OP_BLOCK,     /* found the lock taken (channel full/empty): waiting */
    CD_OP_ACQUIRED,  /* arg 1: shared with other readers (rwlock) */
    CD_OP_BUSY,      /* trylock found it taken; try send/recv: full/empty */
    CD_OP_TIMEOUT,   /* timed lock (or timed send/recv) gave up */
    CD_OP_UNLOCK,
    CD_OP_LATENCY,   /* begins a simulated latency of arg microseconds */
    CD_OP_WAKE,      /* the latency is over */
    CD_OP_POINT,     /* a named point in a demo (label) */
    CD_OP_ABORT,     /* the run's abort ended this thread */
    CD_OP_SEND,      /* channel send, waits while full */
    CD_OP_TRYSEND,   /* channel send without waiting */
    CD_OP_TIMEDSEND, /* channel send, waiting at most arg ms */
    CD_OP_RECV,      /* channel receive, waits while empty */
    CD_OP_TRYRECV,   /* channel receive without waiting */
    CD_OP_TIMEDRECV, /* channel receive, waiting at most arg ms */
    CD_OP_CLOSE,     /* closes a channel */
    CD_OP_DROP,      /* a try send shed its message; arg: drops so far */
    CD_OP_CLOSED,    /* a send or receive failed: the channel is closed */
    CD_OP_RDLOCK,    /* asks for an rwlock to read (shared) and will wait */
    CD_OP_WRLOCK,    /* asks for an rwlock to write (exclusive) and will wait */
    CD_OP_TRYRDLOCK, /* asks to read without waiting */
    CD_OP_TRYWRLOCK, /* asks to write without waiting */
    /* The executor (cd_exec.h): the thread column names a task. */
    CD_OP_TASK_SPAWN, /* obj: the new task's id */
    CD_OP_AWAIT,     /* begins an await of arg microseconds (label) */
    CD_OP_PARK,      /* the task leaves its worker: obj awaited, or label */
    CD_OP_READY,     /* the task can go on; obj: the worker it waits for */
    CD_OP_RESUME,    /* obj: the worker that runs the task again */
    /* Condition variables (cd_cond.h) and semaphores (cd_sem.h). */
    CD_OP_COND_WAIT, /* lets go of the mutex and waits for a signal */
    CD_OP_COND_TIMEDWAIT, /* the same, waiting at most arg ms */
    CD_OP_SIGNAL,    /* arg: how many it woke, 0 (unheard) or 1 */
    CD_OP_BROADCAST, /* arg: how many it woke (0: unheard) */
    CD_OP_WOKE,      /* a waiter's wait is over: arg CD_WOKE_* */
    CD_OP_SEM_WAIT,  /* takes one from the count, waits while it is 0 */
    CD_OP_SEM_TRYWAIT, /* takes one without waiting (busy: it was 0) */
    CD_OP_SEM_TIMEDWAIT, /* takes one, waiting at most arg ms */
    CD_OP_POST,      /* adds one to the count; arg: the new count */
    /* Broadcast channels (cd_bcast.h). */
    CD_OP_LAGGED,    /* a subscriber fell behind; arg: messages it missed */
    /* Sockets on the executor (cd_io.h). */
    CD_OP_ACCEPT,    /* awaits a connection on a listening socket */
    CD_OP_CONNECT,   /* connects to a listening socket, awaiting it */
    /* Task scopes and the offload pool (cd_scope.h). */
    CD_OP_SCOPE_CLOSE, /* the owner awaits the scope's tasks */
    CD_OP_OFFLOAD,   /* hands a function to the offload pool (label) */
    CD_OP_READ,      /* awaits bytes; arg: how many it asks for */
    CD_OP_WRITE,     /* writes, awaiting room; arg: how many bytes */
    CD_OP_COUNT_
} cd_op_t;

/* How a condition variable's wait ended (the arg of CD_OP_WOKE). */
enum {
    CD_WOKE_SIGNALLED = 0, /* by a signal or broadcast */
    CD_WOKE_TIMED_OUT = 1,
    CD_WOKE_SPURIOUS = 2   /* by nobody: the scheduler's --spurious */
};

typedef struct cd_trace_event {
    uint64_t seq;
    int64_t t_ns;      /* since the run began */
    int thread;
    int op;
    int obj;
    int64_t arg;
    const char *label; /* static string: a latency's or a point's name */
    cd_site_t site;
} cd_trace_event_t;

/* Number of events emitted since the run began (may exceed what is kept). */
uint64_t cd_trace_total(void);

/* Copies the run's newest events, at most max (and at most CD_TRACE_CAP),
 * oldest first, into out; returns how many, or -ENOMEM. *total gets
 * cd_trace_total(). What comes back is always a whole stretch of the run:
 * when events were dropped (more than the trace keeps), only the oldest
 * are missing; an event being written at that moment is left out. Safe
 * from any thread at any time. Each event's seq is its number in the run
 * (the newest is *total - 1). */
int cd_trace_read(cd_trace_event_t *out, size_t max, uint64_t *total);

/* Short verb for an op ("lock", "acquired", ...). */
const char *cd_op_name(int op);

/* What the event acted on, as a name: the thread spawned or joined, the
 * latency's or point's label, or the object. Names come from `names` (an
 * observer's snapshot) or, when it is NULL, from the live registry. */
const char *cd_trace_subject(const cd_trace_event_t *ev,
                             const cd_snapshot_t *names);

/* One aligned line for an event, e.g.
 * "   2.013 ms  checkout-1    acquired  shop-lock   demos/race.c:80".
 * Returns what snprintf returns. */
int cd_trace_format(const cd_trace_event_t *ev, char *buf, size_t size);

#endif /* CD_TRACE_H */
