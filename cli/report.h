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
/* s as a JSON string, quoted and escaped (NULL: ""). */
void cd_report_json_str(FILE *out, const char *s);
/* One JSON object, with the trace when with_trace. */
void cd_report_json(FILE *out, const cd_run_result_t *r, int with_trace);
/* Sets the program name replay commands start with, from main's argv[0]:
 * the path as given when it has a slash ("./build/concdemo", quoted for the
 * shell if it needs it), else "concdemo" (found on PATH; also the default
 * when this is never called). Call once, before any run. */
void cd_report_set_program(const char *argv0);
/* The command that replays controlled run r: "concdemo race --fixed=mutex
 * --threads 2 --iterations 1 --sched=replay:2.1*3" (or "./build/concdemo
 * race ...": see cd_report_set_program), with the latency scale
 * when it is not 1 and, when the schedule was too long to keep in r,
 * replay:@save_path (if there is one). Empty when there is nothing to
 * replay: no schedule, or a run the user stopped (its end was the user's,
 * not the schedule's). */
void cd_report_replay_command(const cd_run_result_t *r, int latency_permille,
                              const char *save_path, char *buf, size_t size);
/* Writes the whole schedule of the last controlled run to path, one line
 * (however long: a run's own copy in cd_run_result_t may have been cut).
 * 0, or -1 with one line in err ("--save-schedule: cannot write ..."). */
int cd_report_save_schedule(const char *path, char *err, size_t errlen);
/* How every controlled run a command reports ends: the schedule saved to
 * save_path when there is one, then r->replay filled (see
 * cd_report_replay_command). 0, or -1 with one line in err when the file
 * could not be written (r->replay is then left empty). */
int cd_report_replay(cd_run_result_t *r, int latency_permille,
                     const char *save_path, char *err, size_t errlen);
/* The pictures of a run a command was asked for (--timeline,
 * --trace-out): files opened before the run, so that a path that cannot be
 * written is refused before anything runs, and written after it. */
typedef struct cd_pictures {
    const char *svg_path, *json_path; /* NULL: not asked for */
    FILE *svg, *json;
} cd_pictures_t;
/* Opens (creates or empties) the files p names. 0, or -1 with one line in
 * err ("--timeline: cannot write x/y.svg: No such file or directory"),
 * having closed what it opened. */
int cd_report_pictures_open(cd_pictures_t *p, char *err, size_t errlen);
/* Draws the run r just made (its trace is still in the registry: call
 * before the next run) into the open files and closes them. 0, or -1
 * with one line in err when a file could not be written. */
int cd_report_pictures_write(cd_pictures_t *p, const cd_run_result_t *r,
                             char *err, size_t errlen);
/* Closes what is open without writing (a run that did not happen). */
void cd_report_pictures_close(cd_pictures_t *p);
/* The verdict line alone (used by the stuck handler too). */
void cd_report_verdict_line(FILE *out, const char *scenario,
                            const char *variant, const cd_verdict_t *v);

#endif /* CD_REPORT_H */
