/*
 * check.h - `concdemo check`: grades a learner's exercise file.
 *
 * The command finds the concdemo sources (next to the binary, in the
 * current directory, or $CONCDEMO_ROOT), has make build the exercise
 * file into a program of its own (the file + cli/exhost.c + the library:
 * `make exercise`), runs that program's stages - free runs, explored
 * schedules, parallelism, timing - then builds it against the
 * ThreadSanitizer library and runs it once more under TSan. It prints one
 * PASS/FAIL line per stage with the reason, and for a failing schedule
 * the command that replays it. See cli/grade.h for the exercises.
 */
#ifndef CD_CHECK_H
#define CD_CHECK_H

/* `concdemo check ...`: argv[1] is "check". Returns the exit code: 0 every
 * stage passed (or, with --sched, the run held), 1 a stage failed, 2 a
 * usage error, a file that does not build, or no sources to build with. */
int cd_check_main(int argc, char **argv);

#endif /* CD_CHECK_H */
