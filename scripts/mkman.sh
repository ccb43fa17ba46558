#!/bin/sh
# mkman.sh BIN > concdemo.1 - the manual page, made from the binary itself:
# its commands, options and exit codes from `BIN --help` (and each
# command's options from `BIN CMD --help`), its scenarios and
# their fixes from `BIN list`. So the page cannot fall behind the program;
# only the prose around them (description, examples, files) is written here.
set -eu
bin=${1:?usage: mkman.sh path/to/concdemo}
version=$("$bin" --version | sed 's/^concdemo //')
help=$("$bin" --help)

# roff: a leading dot or quote would start a request; backslashes and
# hyphens are escaped so that they print as typed.
esc() { sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

cat <<EOF
.TH CONCDEMO 1 "" "concdemo $version" "User Commands"
.SH NAME
concdemo \\- cause, watch and fix concurrency bugs on real threads
.SH SYNOPSIS
EOF
# The usage lines: "usage: concdemo ...   summary" and the indented rest.
echo "$help" | sed -n '/^usage:/,/^$/p' | sed -e 's/^usage: //' -e 's/^ *//' |
    sed -e '/^$/d' -e 's/   *.*$//' | esc | sed 's/^/.br\n.B /' | sed '1d'
cat <<'EOF'
.SH DESCRIPTION
.B concdemo
runs a concurrency bug on real POSIX threads \- a race, a deadlock,
starvation, a lost wake-up and more \- then the fixes of the same program,
and ends every run with one verdict line: the invariant that should hold,
and what was observed. The same runs can be watched live
.RB ( \-\-view ),
repeated exactly under a controlled scheduler
.RB ( \-\-sched ),
searched for the schedule that breaks them
.RB ( explore ),
and fixed by the learner
.RB ( check ),
with a worksheet per scenario.
.SH COMMANDS
EOF
echo "$help" | sed -n '/^usage:/,/^$/p' | sed -e 's/^usage: //' -e 's/^ *//' -e '/^$/d' |
    while IFS= read -r line; do
        synopsis=$(printf '%s\n' "$line" | sed 's/   *.*$//')
        summary=$(printf '%s\n' "$line" | sed -n 's/^.*[^ ]   *//p')
        printf '.TP\n.B %s\n%s\n' "$(printf '%s' "$synopsis" | esc)" \
            "$(printf '%s' "${summary:-}" | esc)"
    done
echo ".SH SCENARIOS"
# `concdemo list`: "NAME TITLE: PITFALL" then "     variants: ...".
"$bin" list | while IFS= read -r line; do
    case $line in
    " "*) printf '%s\n' "$line" | sed 's/^ *//' | esc ;;
    *)    name=${line%% *}
          printf '.TP\n.B %s\n%s\n.br\n' "$(printf '%s' "$name" | esc)" \
              "$(printf '%s\n' "${line#* }" | sed 's/^ *//' | esc)" ;;
    esac
done
echo ".SH OPTIONS"
# "  --flag ARG    text" starts an option; deeper lines continue its text.
echo "$help" | sed -n '/^options:/,/^$/p' | sed -e '1d' -e '/^$/d' | esc |
    awk '/^  \\-/ { sub(/^  /, ""); split($0, a, /   +/);
                    print ".TP"; print ".B " a[1];
                    rest = substr($0, length(a[1]) + 1); sub(/^ +/, "", rest);
                    print rest; next }
         { sub(/^ +/, ""); print }'
# Each command's own options: its `BIN CMD --help`, as printed.
echo ".SH COMMAND OPTIONS"
for cmd in explore check bench watch; do
    printf '.SS concdemo %s\n.nf\n' "$cmd"
    "$bin" "$cmd" --help | esc
    echo ".fi"
done
echo ".SH EXIT STATUS"
echo "$help" | sed -n '/^exit codes:/,$p' | sed -e '1d' -e '/^$/d' | esc |
    awk '/^  [0-9] / { sub(/^  /, ""); print ".TP"; print ".B " substr($0, 1, 1);
                       rest = substr($0, 2); sub(/^ +/, "", rest); print rest; next }
         { sub(/^ +/, ""); print }'
cat <<'EOF'
.SH EXAMPLES
.TP
.B concdemo race
The double charge: two checkouts of one order charge the customer twice;
exits 1.
.TP
.B concdemo race \-\-fixed=keyed
One lock per customer: no order is charged twice; exits 0.
.TP
.B concdemo deadlock \-\-view
Watch two transfers lock their accounts in opposite orders, and the
deadlock cycle that stops them.
.TP
.B concdemo explore race \-\-strategy=pct
Search controlled schedules until one breaks the invariant, and print the
command that replays it.
.TP
.B concdemo check race \-\-file my\-race.c
Grade a fix of the race exercise: it is built, run under the sanitizer
and the controlled scheduler, and judged by the money it moved.
.TP
.B concdemo bench fanin \-\-quick
Many producers, one consumer: a channel, a swapped buffer, an async mutex
and a lock\-free list, every message checked.
.SH FILES
.TP
.I PREFIX/share/concdemo/lessons/
The worksheets (one per scenario), the exercises' starters and harnesses.
.TP
.I PREFIX/share/concdemo/
What
.B concdemo check
builds an exercise with: the library archive and headers, the exercise
host and the build rules.
.TP
.I $XDG_CACHE_HOME/concdemo/
(else
.IR ~/.cache/concdemo/ )
Where an installed
.B concdemo check
builds the learner's programs.
.SH ENVIRONMENT
.TP
.B CONCDEMO_ROOT
The concdemo tree
.B concdemo check
builds in, instead of the one found beside the binary.
.SH SEE ALSO
.BR valgrind (1),
.BR gdb (1),
.BR pthreads (7),
.BR pthread_mutex_lock (3p),
.BR pthread_cond_wait (3p),
.BR sem_overview (7)
EOF
