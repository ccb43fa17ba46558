/*
 * cd_detect.h - the deadlock and stuck-run watchdog.
 *
 * The watchdog is a plain pthread, invisible to the registry, that takes a
 * snapshot every period and looks for a cycle in its wait-for graph
 * (cd_waitfor.h). It reports one once it has seen the very same waits
 * twice in a row (a wait is identified by its wait_seq, so a thread that
 * moved in between cannot be mistaken for a stuck one): it records the
 * cycle and aborts the run (CD_ABORT_DEADLOCK). Without a cycle it asks
 * whether the run is stuck - every live thread waiting for something no
 * thread will bring - and says so once the same waits have stayed stuck
 * for 3 scans and 200 ms (a woken waiter may take that long to run on a
 * busy machine): it records what each thread waits for and aborts the
 * run (CD_ABORT_STUCK). (A controlled run finds both itself, when nobody
 * can run: cd_sched.h.) It also enforces the run's hard time
 * limit (time spent paused does not count). A run that reaches the limit
 * on a starved machine (cd_load.h: its threads waited for a CPU longer
 * than they ran) gets the limit again, twice at most, before it is
 * stopped: a busy machine must not fail a correct run, and a hung one
 * still ends.
 */
#ifndef CD_DETECT_H
#define CD_DETECT_H

#include <stdint.h>

typedef struct cd_watchdog cd_watchdog_t;

/* Called by the watchdog when threads ignored an abort for grace_ms (a
 * thread spinning outside libconc): the caller's last chance to report and
 * exit the process. */
typedef void (*cd_stuck_fn)(int abort_reason);

/* Starts the watchdog: scans every period_ms, aborts the run with
 * CD_ABORT_TIMEOUT after timeout_ms of unpaused time (0: no limit), and
 * calls on_stuck (if not NULL) when the run is still going grace_ms after
 * an abort (a few graces more while the machine is starved: threads that
 * get no CPU cannot see the abort). Returns 0 or -errno. */
int cd_watchdog_start(cd_watchdog_t **out, int timeout_ms, int period_ms,
                      int grace_ms, cd_stuck_fn on_stuck);

/* What the machine gave the run, for a verdict that reached its limit. */
typedef struct cd_run_load {
    int measured;      /* 0: too short a run to measure (under 100 ms) */
    int starved;       /* cd_load_starved() said so at the last look */
    int limit_ms;      /* the limit in force: timeout_ms, or more when it
                          was extended for a starved machine */
    int64_t wall_ns, cpu_ns, queued_ns; /* as in cd_load_t */
    int more_graces;    /* how often the grace after an abort started
                           again for a starved machine */
} cd_run_load_t;

/* Fills *out with the run's figures up to now. Can't fail. */
void cd_watchdog_load(cd_watchdog_t *w, cd_run_load_t *out);

/* One watchdog for many runs (an exploration runs thousands a second,
 * and a thread and its 400 KiB started for each would cost more than the
 * run): idle stops it watching the run that ended - it neither scans nor
 * aborts nor calls on_stuck until rearmed - and rearm makes it watch the
 * run about to start as if it had just been started for it (its limit,
 * the load, the abort's grace all begin again). Can't fail. */
void cd_watchdog_idle(cd_watchdog_t *w);
void cd_watchdog_rearm(cd_watchdog_t *w);

/* Stops and frees it. Safe with NULL. */
void cd_watchdog_stop(cd_watchdog_t *w);

#endif /* CD_DETECT_H */
