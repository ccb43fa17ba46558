/*
 * exfile.h - an exercise file, whole or as a part: the change a fix makes
 * to its starter.
 *
 * The answers and decoys of lessons/answers/ hold only what they change:
 * a note (comment lines: what it tries, and why it fails or holds), then
 * the output of `diff -u` of the starter (lessons/exercises/NAME.c) and
 * the fixed file. A teacher reads the few lines that are the lesson, and
 * a change to an exercise's harness needs no edit of them: a change is
 * found in the starter by its lines (its context and the lines it
 * removes), not by the line numbers of its "@@" header. They are called
 * NAME.patch, but a part is told by what it holds, whatever its name:
 * `concdemo check --file` takes either form and builds the whole file
 * from a part. Text in, text out: nothing here reads files or prints.
 */
#ifndef CD_EXFILE_H
#define CD_EXFILE_H

#include <stddef.h>

/* 1 if text is a part: after blank lines and comment lines (its note),
 * a "--- " line then a "+++ " line (a unified diff's header); else 0 (a
 * whole exercise file, or anything else, which the compiler judges). */
int cd_exfile_is_part(const char *text);

/* The file the part's "--- " line names (up to a tab or the line's end)
 * copied into buf; "" when text is no part. */
void cd_exfile_part_of(const char *text, char *buf, size_t size);

/* Applies part (cd_exfile_is_part) to starter. Each change ("@@" hunk)
 * must match the starter's lines exactly, at the place nearest the one
 * its header names, after the previous change. Returns the whole file in
 * malloc'd memory, or NULL with one sentence in err that names the part's
 * line and starter_name (no match, a change cut short, out of memory).
 * With line_marks, #line directives make each line of the result say
 * where it came from: the starter's lines starter_name:N, the added ones
 * part_name:N (so compiler messages, traces and ThreadSanitizer name the
 * part's own lines). */
char *cd_exfile_splice(const char *starter, const char *part,
                       const char *starter_name, const char *part_name,
                       int line_marks, char *err, size_t errsize);

/* The part's added lines alone, each at its own line number without its
 * '+', every other line left empty: what a fix wrote, for the rules that
 * read a learner's source. malloc'd; NULL when text is no part or memory
 * ran out. */
char *cd_exfile_added(const char *part);

#endif /* CD_EXFILE_H */
