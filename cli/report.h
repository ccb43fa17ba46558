/*
 * report.h - turning a run's result into text or JSON on a stream.
 */
#ifndef CD_REPORT_H
#define CD_REPORT_H

#include <stdio.h>

#include "run.h"

/* The header line printed before a run ("race: the double charge ..."). */
void cd_report_intro(FILE *out, const cd_scenario_t *s, int variant,
                     const cd_params_t *p);
/* The trace, one event per line (text) - after the threads were joined. */
void cd_report_trace(FILE *out);
/* Findings (lock-order inversions) then the one verdict line. */
void cd_report_text(FILE *out, const cd_run_result_t *r);
/* One JSON object, with the trace when with_trace. */
void cd_report_json(FILE *out, const cd_run_result_t *r, int with_trace);
/* The verdict line alone (used by the stuck handler too). */
void cd_report_verdict_line(FILE *out, const char *scenario,
                            const char *variant, const cd_verdict_t *v);

#endif /* CD_REPORT_H */
