#!/usr/bin/env bash
# `make deb`: target/deb/libaio-rs1_*.deb (the library, in place of Debian's
# libaio1 and libaio1t64), target/deb/libaio-rs-dev_*.deb (in place of
# libaio-dev) and target/deb/libaio-rs-tools_*.deb (aiostat), from what our
# own `make install` puts in a staging tree.
# Only dpkg-dev's tools: dpkg-shlibdeps, dpkg-gencontrol from debian/control,
# and dpkg-deb --root-owner-group, which needs no fakeroot. Not debhelper (a
# build dependency for a few files), not cargo-deb (another tool from
# crates.io, which makes neither diversions nor two packages from one
# `make install`).
#
# The version is Cargo.toml's (libaio's, whose ABI we have) + "+rs", with
# Debian revision 1: it sorts after every Debian revision of libaio 0.3.113
# and before 0.3.114, so that what we provide satisfies `libaio1 (>= 0.3.113)`
# and the like, but not `libaio1 (= 0.3.113-4)`, and is not caught by the
# `Breaks: libaio1 (<< 0.3.113-N)` of the t64 packages.
set -euo pipefail
umask 022
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$ROOT/target/deb"
cd "$ROOT"

upstream_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
version="$upstream_version+rs-1"
libdir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)
maintainer=$(sed -n 's/^Maintainer: //p' debian/control)
# Reproducible: every date in the packages is the last commit's.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH

rm -rf "$OUT"
mkdir -p "$OUT"
# $BUILD is laid out as a source tree after `make install`, for dpkg-dev's
# tools: debian/control, debian/changelog, and debian/PACKAGE/ holding the
# package's files (DEBIAN/: its control files). Under TMPDIR, not in the
# checkout: make install's DESTDIR may not hold a space.
BUILD=$(mktemp -d "${TMPDIR:-/tmp}/libaio-rs-deb.XXXXXX")
trap 'rm -rf "$BUILD"' EXIT
mkdir "$BUILD/debian"
cp debian/control "$BUILD/debian/control"
stage="$BUILD/install"
make -C "$ROOT" install PREFIX=/usr LIBDIR="$libdir" DESTDIR="$stage"
# Man pages compressed as Debian's own are (gzip -9n: no name, no date).
if [ -d "$stage/usr/share/man" ]; then
    find "$stage/usr/share/man" -type f ! -name '*.gz' -exec gzip -9n {} +
fi

# The runtime package has the library and its two SONAME links; the
# development package everything else that make install made.
runtime="$BUILD/debian/libaio-rs1"
install -d "$runtime$libdir" "$runtime/DEBIAN"
for name in libaio.so.1.0.2 libaio.so.1 libaio.so.1t64; do
    mv "$stage$libdir/$name" "$runtime$libdir/"
done
# The tools package has aiostat and its page.
tools="$BUILD/debian/libaio-rs-tools"
install -d "$tools/usr/bin" "$tools/usr/share/man/man1"
mv "$stage/usr/bin/aiostat" "$tools/usr/bin/"
mv "$stage/usr/share/man/man1/aiostat.1.gz" "$tools/usr/share/man/man1/"
rmdir "$stage/usr/bin" "$stage/usr/share/man/man1"
mv "$stage" "$BUILD/debian/libaio-rs-dev"

# Maintainer scripts, and the shlibs file from which dpkg-shlibdeps makes the
# programs built against us depend on libaio1 (>= 0.3.113), as Debian's
# libaio1 does: ours provides it.
for script in preinst postrm; do
    sed "s|@LIBDIR@|$libdir|g" "debian/libaio-rs1.$script" > "$runtime/DEBIAN/$script"
    chmod 755 "$runtime/DEBIAN/$script"
done
install -m 644 debian/libaio-rs1.triggers "$runtime/DEBIAN/triggers"
echo "libaio 1 libaio1 (>= $upstream_version)" > "$runtime/DEBIAN/shlibs"

commit=$(git describe --always --dirty 2>/dev/null || echo "a tree outside git")
printf '%s\n' "libaio-rs ($version) unstable; urgency=medium" "" \
    "  * Built by make deb from libaio-rs $commit." "" \
    " -- $maintainer  $(date -R -u -d "@$SOURCE_DATE_EPOCH")" > "$BUILD/debian/changelog"

cd "$BUILD"
dpkg-shlibdeps -Tdebian/libaio-rs1.substvars "debian/libaio-rs1$libdir/libaio.so.1.0.2"
dpkg-shlibdeps -Tdebian/libaio-rs-tools.substvars debian/libaio-rs-tools/usr/bin/aiostat
for package in libaio-rs1 libaio-rs-dev libaio-rs-tools; do
    dir="debian/$package"
    doc="$dir/usr/share/doc/$package"
    install -d "$doc" "$dir/DEBIAN"
    install -m 644 "$ROOT/debian/copyright" "$doc/copyright"
    gzip -9n < debian/changelog > "$doc/changelog.Debian.gz"
    (cd "$dir" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 -r md5sum) \
        > "$dir/DEBIAN/md5sums"
    touch "debian/$package.substvars"
    dpkg-gencontrol -p"$package" -T"debian/$package.substvars" -P"$dir"
    dpkg-deb --root-owner-group --build "$dir" "$OUT"
done
