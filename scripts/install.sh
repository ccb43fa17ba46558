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

# The tree: what the Makefile's exercise rules read.
for f in Makefile scripts/exsyms.sh lib/*.[ch] demos/*.[ch] cli/*.[ch] \
         $(find lessons -type f | sort); do
    put 644 "$f" "$share/$f"
done
# Its build: configuration, archives and objects, plain and TSan (the
# tests', benchmarks' and exercises' outputs stay behind).
for sub in "$b" "$b/tsan"; do
    [ -f "$sub/libconcdemo.a" ] || continue
    for f in "$sub/.config" "$sub/libconcdemo.a" \
             $(find "$sub/lib" "$sub/demos" "$sub/cli" "$sub/lessons" \
                    -name '*.o' 2>/dev/null | sort); do
        [ -f "$f" ] && put 644 "$f" "$share/build/${f#"$b"/}"
    done
done
echo "f share/concdemo/.installed" >> "$list"
cp "$list" "$share/.installed"
chmod 644 "$share/.installed"
echo "installed concdemo in $dest ($(grep -c '^f' "$list") files)"
