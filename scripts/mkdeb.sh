#!/bin/sh
# mkdeb.sh ROOT OUTDIR [FILES] - makes a Debian package of ROOT, a tree
# that `make install DESTDIR=ROOT PREFIX=/usr` has just filled, into
# OUTDIR/concdemo_VERSION_ARCH.deb, and prints its path last.
#
# With dpkg's own tools only (dpkg-dev comes with build-essential), not
# debhelper: nothing to install beyond what building concdemo needs. What
# the package holds is what make install installed, plus the two files
# Debian wants in usr/share/doc/concdemo: copyright and changelog.
# DEBIAN/control is generated from debian/control and debian/changelog:
#   ${shlibs:Depends}     the libraries the binaries link (dpkg-shlibdeps);
#   ${concdemo:Check}     the development packages `concdemo check` links
#                         an exercise with, those this build was made with
#                         (build/.config names them);
#   ${concdemo:Recommends} valgrind, when the build used its headers: with
#                         them the installed check's configuration matches
#                         the build's, so that it compiles only the
#                         learner's file (without, it rebuilds the library
#                         once, in the learner's cache).
# MKDEB_COMPRESS: dpkg-deb's compressor (default xz; the install suite
# builds with none, since xz takes 7 of the 8 s a package takes to make,
# and what the package holds does not depend on it).
# FILES is the list dpkg-buildpackage reads (debian/files, from
# debian/rules); make deb needs none.
set -eu
root=$1 out=$2 files=${3:-}
for tool in dpkg-deb dpkg-gencontrol dpkg-shlibdeps dpkg-parsechangelog; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "mkdeb: $tool is missing: apt-get install dpkg-dev" >&2
        exit 2
    }
done
[ -x "$root/usr/bin/concdemo" ] || {
    echo "mkdeb: $root/usr/bin/concdemo is missing: run make install first" >&2
    exit 2
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -n "$files" ] || files=$tmp/files

doc=$root/usr/share/doc/concdemo
mkdir -p "$doc"
cp debian/copyright "$doc/copyright"
gzip -9n < debian/changelog > "$doc/changelog.Debian.gz"

# What `concdemo check` links with, as this build was configured.
config=$root/usr/share/concdemo/build/.config
check="" recommends=""
has() { grep -q -e "$1" "$config"; }
has -DCD_HAVE_SQLITE && check="$check, libsqlite3-dev"
has -DCD_HAVE_PQ && check="$check, libpq-dev"
has -DCD_HAVE_SECCOMP && check="$check, libseccomp-dev"
has -DCD_HAVE_VALGRIND && recommends="valgrind"
{
    echo "concdemo:Check=${check#, }"
    echo "concdemo:Recommends=$recommends"
    echo "misc:Depends="
} > "$tmp/substvars"
# (It warns that the tree is not debian/concdemo, where debhelper would
# have put it: that one warning is dropped.)
dpkg-shlibdeps -T"$tmp/substvars" -e"$root/usr/bin/concdemo" \
    -e"$root/usr/lib/concdemo/libconcdemo-watch.so" 2>"$tmp/err" || {
    cat "$tmp/err" >&2
    exit 1
}
grep -v "should already be installed in their package" "$tmp/err" >&2 || :

# Debian's modes whatever the umask was; then the control file, which
# counts the installed size, and the checksums.
find "$root" -type d -exec chmod 755 {} +
find "$root" -type f ! -perm -100 -exec chmod 644 {} +
rm -rf "$root/DEBIAN"
mkdir -p "$root/DEBIAN"
dpkg-gencontrol -pconcdemo -P"$root" -T"$tmp/substvars" -f"$files"
(cd "$root" && find usr -type f | LC_ALL=C sort | xargs md5sum) \
    > "$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

version=$(dpkg-parsechangelog -SVersion)
arch=$(dpkg --print-architecture)
deb=$out/concdemo_${version}_${arch}.deb
mkdir -p "$out"
# Owned by root in the archive without fakeroot (dpkg 1.19.0 and later).
dpkg-deb --root-owner-group -Z"${MKDEB_COMPRESS:-xz}" --build "$root" "$deb" >/dev/null
echo "$deb"
