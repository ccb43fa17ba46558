/*
 * timeline.h - a picture of a run (--timeline FILE.svg): plain SVG, one
 * lane per thread (or task) over time. Lock holds are coloured bars
 * labelled with the lock, waits hatched bars in the lock's colour with an
 * arrow to the thread that held it, simulated latencies grey bands, named
 * points ticks; the deadlock cycle (or a stuck run's waits) is drawn in
 * red and the verdict is the title. A run of many threads gets thinner
 * lanes; a long run whose finding sits in a short window gets a time axis
 * in pieces: that window keeps most of the width, the rest is squeezed and
 * shaded.
 */
#ifndef CD_TIMELINE_H
#define CD_TIMELINE_H

#include <stdio.h>

#include "run.h"
#include "spans.h"

/* Writes the SVG for run r, read from s (cd_spans_read, marked with
 * cd_spans_mark), to out. Can't fail; the caller checks out for write
 * errors. */
void cd_timeline_write(FILE *out, const cd_spans_t *s,
                       const cd_run_result_t *r);

#endif /* CD_TIMELINE_H */
