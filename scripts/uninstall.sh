#!/bin/sh
# uninstall.sh DESTDIR PREFIX - removes what install.sh listed in
# PREFIX/share/concdemo/.installed: its files, then the directories it
# made, deepest first, each only if it is empty (a file the user put
# there keeps its directory).
set -eu
dest=$1$2
list=$dest/share/concdemo/.installed
if [ ! -f "$list" ]; then
    echo "uninstall: nothing to do: $list is missing (not installed there?)" >&2
    exit 1
fi
saved=$(cat "$list")
echo "$saved" | sed -n 's/^f //p' | while IFS= read -r f; do
    rm -f "$dest/$f"
done
echo "$saved" | sed -n 's/^d //p' | sed '1!G;h;$!d' | while IFS= read -r d; do
    [ "$d" = . ] && d=$dest || d=$dest/$d
    rmdir "$d" 2>/dev/null || true
done
echo "removed concdemo from $dest"
