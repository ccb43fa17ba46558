#!/bin/sh
# Installs the Debian packages concdemo needs, when they are missing.
# As root it installs them with apt-get; otherwise it prints the command.
set -u
# libsqlite3-dev, libpq-dev: db-race's databases; postgresql: the server
# that scripts/pg-test-server.sh starts for its tests. libxml2-utils:
# xmllint, which the timeline suite checks the SVG with. man-db: `man
# concdemo` in make deb-system (build-essential brings dpkg-dev, which
# make deb builds the package with).
need="build-essential libncurses-dev libcunit1-dev libseccomp-dev tmux valgrind
      libsqlite3-dev libpq-dev postgresql libxml2-utils man-db"
missing=""
for p in $need; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "concdemo: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && $cmd >/dev/null || {
        echo "concdemo: could not install$missing; try: $cmd" >&2
        exit 2
    }
else
    echo "concdemo: missing Debian packages:$missing" >&2
    echo "concdemo: install them with: sudo $cmd" >&2
    exit 2
fi
