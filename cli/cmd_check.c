/*
 * cmd_check.c - `concdemo check EXERCISE`: the table's entry for the
 * checker, whose work (and, for now, its own option parsing) is in
 * cli/check.c.
 */
#include "check.h"
#include "cmd.h"

const cd_cmd_t cd_cmd_check = {
    .name = "check",
    .usage = "concdemo check EXERCISE [--file PATH]",
    .summary = "grade your fix of an exercise",
    .exec = cd_check_main,
};
