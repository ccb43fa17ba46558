/*
 * chrome.h - a run's trace in the Chrome trace-event JSON format
 * (--trace-out), for the Perfetto UI and chrome://tracing: each thread a
 * track, each lock hold and latency a slice, each wait a slice with a
 * flow arrow from the thread that held the lock, each named point an
 * instant, the verdict an instant over the whole run.
 */
#ifndef CD_CHROME_H
#define CD_CHROME_H

#include <stdio.h>

#include "run.h"
#include "spans.h"

/* Writes the JSON object for run r, read from s (cd_spans_read), to out.
 * Can't fail; the caller checks out for write errors. */
void cd_chrome_write(FILE *out, const cd_spans_t *s, const cd_run_result_t *r);

#endif /* CD_CHROME_H */
