#!/bin/sh
# install.sh DESTDIR PREFIX BUILD - what `make install` installs:
#   PREFIX/bin/concdemo
#   PREFIX/share/man/man1/concdemo.1.gz
#   PREFIX/share/bash-completion/completions/concdemo
#   PREFIX/lib/concdemo/libconcdemo-watch.so  (concdemo watch preloads it)
#   PREFIX/share/concdemo/   the tree `concdemo check` builds with: the
#       Makefile, the sources and headers, the lessons (worksheets,
#       starters, harnesses, answers), and the prebuilt objects and library
#       archives (plain and ThreadSanitizer), their times kept so that make
#       finds them up to date and compiles only the learner's file.
# Every file and every directory it creates is listed in
# PREFIX/share/concdemo/.installed, which `make uninstall` reads back, so
# that it removes exactly what was installed.
set -eu
destdir=$1 prefix=$2 b=$3
dest=$destdir$prefix
# Absolute: put_all copies from inside other directories.
case $dest in /*) ;; *) dest=$PWD/$dest ;; esac
share=$dest/share/concdemo
list=$(mktemp)
trap 'rm -f "$list"' EXIT

# dir PATH: creates PATH and its missing parents, noting each one made.
dir() {
    [ -d "$1" ] && return 0
    dir "$(dirname "$1")"
    mkdir "$1"
    case $1 in
    "$dest") echo "d ." >> "$list" ;;
    "$dest"/*) echo "d ${1#"$dest"/}" >> "$list" ;;
    esac
}

# put MODE FROM TO: one file, its time kept.
put() {
    dir "$(dirname "$3")"
    cp -p "$2" "$3"
    chmod "$1" "$3"
    echo "f ${3#"$dest"/}" >> "$list"
}

dir "$dest"
put 755 "$b/concdemo" "$dest/bin/concdemo"
dir "$dest/share/man/man1"
gzip -9n < "$b/concdemo.1" > "$dest/share/man/man1/concdemo.1.gz"
echo "f share/man/man1/concdemo.1.gz" >> "$list"
put 644 scripts/concdemo.bash "$dest/share/bash-completion/completions/concdemo"
# concdemo watch's preloaded library, where the installed binary looks.
put 644 "$b/libconcdemo-watch.so" "$dest/lib/concdemo/libconcdemo-watch.so"

# put_all MODE FROM TO: the files named on stdin (one per line, relative
# to FROM) to the same names under TO, their times kept. A few processes
# in all, not a few per file: the tree is hundreds of files, and each
# process costs milliseconds.
put_all() {
    files=$(cat)
    [ -n "$files" ] || return 0
    dir "$3"
    # Every directory above a file, each parent before its children.
    printf '%s\n' "$files" | awk -v to="$3" '{
        n = split($0, part, "/"); d = to
        for (i = 1; i < n; i++) {
            d = d "/" part[i]
            if (!(d in seen)) { seen[d] = 1; print d }
        }
    }' | while IFS= read -r d; do
        [ -d "$d" ] || { mkdir "$d"; echo "d ${d#"$dest"/}" >> "$list"; }
    done
    (cd "$2" && printf '%s\n' "$files" | xargs -d '\n' cp -p --parents -t "$3")
    (cd "$3" && printf '%s\n' "$files" | xargs -d '\n' chmod "$1")
    printf '%s\n' "$files" | sed "s|^|f ${3#"$dest"/}/|" >> "$list"
}

# The tree: what the Makefile's exercise rules read.
{ ls Makefile scripts/exsyms.sh lib/*.[ch] demos/*.[ch] cli/*.[ch]
  find lessons -type f | sort; } | put_all 644 . "$share"
# Its build: configuration, archives and objects, plain and TSan (the
# tests', benchmarks' and exercises' outputs stay behind).
for sub in "" /tsan; do
    [ -f "$b$sub/libconcdemo.a" ] || continue
    (cd "$b" && { ls ".${sub}/.config" ".${sub}/libconcdemo.a" 2>/dev/null
                  find ".${sub}/lib" ".${sub}/demos" ".${sub}/cli" \
                       ".${sub}/lessons" -name '*.o' -type f 2>/dev/null |
                      sort; } | sed 's|^\./||') |
        put_all 644 "$b" "$share/build"
done
echo "f share/concdemo/.installed" >> "$list"
cp "$list" "$share/.installed"
chmod 644 "$share/.installed"
echo "installed concdemo in $dest ($(grep -c '^f' "$list") files)"
