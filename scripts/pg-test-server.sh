#!/bin/sh
# A throwaway PostgreSQL server for db-race's tests.
#
#   scripts/pg-test-server.sh start DIR   initdb in DIR, start the server,
#                                         print its --db URL on stdout
#   scripts/pg-test-server.sh stop DIR    stop it and remove DIR
#
# The server listens on a Unix socket in DIR only (no TCP port), trusts
# whoever can reach that socket, and runs as an unprivileged user: as root,
# as nobody (PostgreSQL refuses to run as root). Exit 3, with one line on
# stderr, when PostgreSQL cannot be used here (not installed, or initdb or
# the server failed); 2 on a usage error.
set -u
cmd=${1:-}
dir=${2:-}
unusable() {
    echo "pg-test-server: $*" >&2
    exit 3
}
case $cmd in start | stop) ;; *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2 ;;
esac
[ -n "$dir" ] || { echo "usage: $0 $cmd DIR" >&2; exit 2; }

# Debian puts the server's programs under /usr/lib/postgresql/VERSION/bin.
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || bindir=$(dirname "$(command -v pg_ctl 2>/dev/null || echo /x/x)")
if [ "$(id -u)" = 0 ]; then
    user=nobody
    as="setpriv --reuid=$user --regid=$(id -g $user) --clear-groups --"
else
    user=$(id -un)
    as=""
fi

if [ "$cmd" = stop ]; then
    [ -d "$dir/data" ] && $as "$bindir/pg_ctl" -D "$dir/data" -m immediate \
        stop >/dev/null 2>&1
    rm -rf "$dir"
    exit 0
fi

[ -x "$bindir/initdb" ] || unusable "no PostgreSQL server here (make deps installs the postgresql package)"
mkdir -p "$dir" 2>/dev/null || unusable "cannot make $dir"
[ -z "$as" ] || chown "$user" "$dir" || unusable "cannot give $dir to $user"
$as "$bindir/initdb" -D "$dir/data" -A trust -U "$user" --no-sync \
    >"$dir/initdb.log" 2>&1 ||
    unusable "initdb failed: $(tail -n 1 "$dir/initdb.log")"
# fsync off: the data is thrown away; the socket in DIR, no TCP at all.
$as "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses='' -k $dir -c fsync=off -c max_connections=120" \
    start >/dev/null 2>&1 ||
    unusable "the server did not start: $(tail -n 1 "$dir/server.log" 2>/dev/null)"
echo "postgresql:///postgres?host=$dir&user=$user"
