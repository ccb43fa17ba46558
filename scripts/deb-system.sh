#!/bin/sh
# deb-system.sh DEB_DIR - the package made by `make deb` through the real
# system's dpkg, as a user of it would: dpkg -i, then from an empty
# temporary directory `concdemo race --fixed`, `man concdemo`, `concdemo
# check race` (the starter must fail) and `concdemo check race --file
# copy.c` (a copy of the answer must pass), then dpkg -r, after which no
# file of the package may be left. Root only (make check runs it when root,
# as CI is; the install suite does the same as any user in a temporary
# root). It leaves alone a concdemo that is installed already, and removes
# its own on every way out. CONCDEMO_NO_SYSTEM_DEB=1 skips it.
set -u
dir=$1
say() { echo "deb-system: $*"; }
deb=$(ls "$dir"/concdemo_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { say "no package in $dir: run make deb"; exit 2; }
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
if [ -n "${CONCDEMO_NO_SYSTEM_DEB:-}" ]; then
    say "SKIPPED: CONCDEMO_NO_SYSTEM_DEB is set"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    say "needs root: it installs $deb into this system (make check" \
        "runs it only as root)"
    exit 2
fi

# Two round trips on one machine take turns; a concdemo already there
# (a package, even half removed, or a make install) is someone's own.
exec 9>/tmp/concdemo-deb-system.lock
flock 9
status=$(dpkg-query -W -f='${db:Status-Abbrev}' concdemo 2>/dev/null)
if [ -n "$status" ] && [ "${status#un}" = "$status" ] ||
   [ -e /usr/bin/concdemo ] || [ -e /usr/share/concdemo ]; then
    say "SKIPPED: concdemo is installed in this system already; left alone"
    exit 0
fi

tmp=$(mktemp -d)
installed=0
cleanup() {
    if [ "$installed" = 1 ]; then
        say "removing the package after a failure"
        dpkg --purge concdemo >/dev/null 2>&1 ||
            say "dpkg --purge concdemo FAILED: remove it by hand"
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() {
    say "FAILED: $*"
    [ -f "$tmp/out" ] && sed 's/^/  | /' "$tmp/out" | tail -n 30
    exit 1
}
# dpkg, waiting while another program (apt) holds its lock.
dpkg_retry() {
    n=0
    while ! dpkg "$@" >"$tmp/out" 2>&1; do
        grep -q "lock" "$tmp/out" && [ $n -lt 60 ] || return 1
        n=$((n + 1))
        sleep 2
    done
}

# The package's files, as dpkg lists them: all must be gone at the end.
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print substr($6, 2) }' > "$tmp/files"
grep -q '^/usr/bin/concdemo$' "$tmp/files" || fail "cannot list $deb"

say "root: installing $deb into this system (dpkg -i), then removing it"
installed=1
dpkg_retry -i "$deb" || fail "dpkg -i $deb"
mkdir "$tmp/home" "$tmp/work"
cd "$tmp/work" || fail "cd $tmp/work"
export HOME="$tmp/home"
unset CONCDEMO_ROOT XDG_CACHE_HOME

/usr/bin/concdemo race --fixed >"$tmp/out" 2>&1 ||
    fail "concdemo race --fixed"
grep -q "HELD" "$tmp/out" || fail "concdemo race --fixed: no verdict"

if ! command -v man >/dev/null 2>&1; then
    say "man concdemo NOT CHECKED: man is missing (apt-get install man-db)"
elif [ ! -f /usr/share/man/man1/concdemo.1.gz ]; then
    say "man concdemo NOT CHECKED: dpkg's configuration here leaves" \
        "manual pages out (path-exclude in /etc/dpkg/dpkg.cfg.d)"
else
    MANPAGER=cat MANWIDTH=80 man concdemo >"$tmp/out" 2>&1 &&
        grep -q "SCENARIOS" "$tmp/out" || fail "man concdemo"
fi

/usr/bin/concdemo check race >"$tmp/out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "FAIL race: failed:" "$tmp/out" ||
    fail "concdemo check race: exit $rc, not the starter's failure"
/usr/bin/concdemo check race --print-full \
    --file /usr/share/concdemo/lessons/answers/race.patch > copy.c ||
    fail "concdemo check race --print-full"
/usr/bin/concdemo check race --file copy.c >"$tmp/out" 2>&1 &&
    grep -q "PASS race: every stage passed" "$tmp/out" ||
    fail "concdemo check race --file copy.c"
cd / || exit 1

dpkg_retry -r concdemo || fail "dpkg -r concdemo"
installed=0
left=$(while IFS= read -r f; do [ -e "$f" ] && echo "$f"; done < "$tmp/files")
for d in /usr/share/concdemo /usr/lib/concdemo /usr/share/doc/concdemo; do
    [ -e "$d" ] && left="$left $d"
done
[ -z "$left" ] || { say "FAILED: dpkg -r left:$left"; exit 1; }
status=$(dpkg-query -W -f='${db:Status-Abbrev}' concdemo 2>/dev/null)
[ -z "$status" ] || [ "${status#un}" != "$status" ] ||
    { say "FAILED: dpkg still lists concdemo ($status)"; exit 1; }
say "PASS: installed, ran, graded, read the manual, removed; nothing left"
