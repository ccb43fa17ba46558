/*
 * Hostile: includes the grader's standard input, which would leave the
 * build waiting for a terminal nobody types into.
 */
#include "/dev/stdin"

#include "exercises/race.c"
