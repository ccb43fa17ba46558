#!/bin/sh
# exsyms.sh OBJECT HEADER - the build stage's check of a learner's file.
#
# An exercise's harness (lessons/harness/NAME.c) is compiled by the
# project; the learner's file is its own translation unit, linked with it.
# HEADER's "exercise-defines:" line lists the globals that file must
# define. Any other global it defines - a harness name, cd_exercise, a
# library function, a helper left non-static - is refused here, before
# the link, in one line a learner can act on; so is a use of the grader's
# own functions. Exit 1 if so.
obj=$1 header=$2
allowed=$(sed -n 's/^ \* exercise-defines: *//p' "$header")
if [ -z "$allowed" ]; then
    echo "$header: no 'exercise-defines:' line" >&2
    exit 1
fi
# Without nm the check cannot be made: fail, never pass unchecked. One
# listing of the globals, defined ("ADDR TYPE NAME") and used ("U NAME",
# "w NAME"): each nm loads the linker plugins, a tenth of a second.
globals=$(nm -g "$obj") || {
    echo "cannot list the globals of $obj: the check needs nm (apt-get install binutils)"
    exit 1
}
status=0
for sym in $(printf '%s\n' "$globals" | awk 'NF == 3 { print $3 }'); do
    case " $allowed " in
    *" $sym "*) ;;
    *)
        echo "your file defines $sym, which is not part of the exercise"
        status=1 ;;
    esac
done
[ $status = 0 ] ||
    echo "($header lists what it defines: $allowed;" \
         "make a helper of yours static)"
# The grader's side of the sandbox (cli/sandbox.h) and the program's real
# main are not the learner's to call: a file that runs main again could
# start stages of its own choosing.
for sym in $(printf '%s\n' "$globals" | awk 'NF == 2 { print $2 }'); do
    case $sym in
    cd_sandbox_* | __real_main | __wrap_main)
        echo "your file uses $sym, which belongs to the grader"
        status=1 ;;
    esac
done
exit $status
