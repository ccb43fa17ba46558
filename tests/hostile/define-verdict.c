/*
 * Hostile: renames the verdicts, hoping that a broken run reads as HELD.
 */
#include "scenario.h"
#define CD_VIOLATED CD_HELD
#define CD_DEADLOCK CD_HELD

#include "exercises/race.c"
