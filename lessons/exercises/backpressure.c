/*
 * Exercise: backpressure - the logger that eats all memory
 * (worksheet: lessons/04-backpressure.md).
 *
 * Task:  web workers hand their log lines to a queue; one shipper writes
 *        them to a log store that is 10 times slower than the workers log.
 *        The queue below has no limit, so the backlog grows in memory until
 *        the process is killed. Keep the queue within its 1 MiB budget,
 *        with every line delivered or, if you give some up, accounted for.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, timing, ThreadSanitizer).
 * Check: concdemo check backpressure  or: make check-exercise EX=backpressure
 *
 * This file is yours, all of it: lessons/harness/backpressure.h says what
 * it must define and what it may call; the harness (workers, shipper,
 * budget, the invariant) is built by the project. You may need
 * lib/cd_chan.h (bounded channels; send, try send, timed send).
 */
#include <errno.h>

#include "cd_chan.h"
#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/backpressure.h"

/* Creates the queue of log lines (each sizeof(log_line_t) bytes) before
 * the workers start: 0, or a negative errno. */
int queue_init(cd_chan_t *queue)
{
    /* No limit: the queue never says "wait" or "no". */
    return cd_chan_init(queue, "log-queue", sizeof(log_line_t),
                        CD_CHAN_UNBOUNDED);
}

/* A web worker logs one line. Count it in w->sent when it went into the
 * queue; a line you give up on must be counted too: in w->gave_up, or as
 * a drop the channel counts (cd_chan_try_send with CD_CHAN_SHED). */
void log_line(cd_chan_t *queue, worker_t *w, const log_line_t *line)
{
    if (cd_chan_send(queue, line) == 0)
        w->sent++;
}
