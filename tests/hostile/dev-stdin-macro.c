/*
 * Hostile: includes the grader's standard input through a macro, which a
 * look at the #include lines does not see.
 */
#define INPUT "/dev/stdin"
#include INPUT

#include "exercises/race.c"
