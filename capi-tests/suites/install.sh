#!/usr/bin/env bash
# `make install` into a DESTDIR: the files and links a libaio package has
# (a stripped library, its debug info apart), a pkg-config file that builds a
# working program against them, and a libaio.a that links statically the way
# upstream's harness links it.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"

root="$WORK/root"
lib="$root/usr/lib"
if make -C "$ROOT" install PREFIX=/usr DESTDIR="$root" >"$WORK/install.log" 2>&1; then
    pass "make install PREFIX=/usr DESTDIR=..."
else
    cat "$WORK/install.log"
    fail "make install PREFIX=/usr DESTDIR=..."
fi

DIST="$ROOT/target/dist/$(dpkg --print-architecture)"
check "libaio.so.1.0.2 is the built library, stripped" cmp -s "$lib/libaio.so.1.0.2" "$DIST/libaio.so.1.0.2"
check "libaio.so.1.0.2 has no symbol table and no debug info" \
    lacks -e '\.symtab' -e '\.debug_' <(readelf -S -W "$lib/libaio.so.1.0.2")
debug_file="$root/usr/lib/debug/usr/lib/libaio.so.1.0.2.debug"
check "its debug info is installed as $debug_file, with the same build id" \
    [ "$(readelf -n "$debug_file" | grep 'Build ID')" = "$(readelf -n "$lib/libaio.so.1.0.2" | grep 'Build ID')" ]
check "its .gnu_debuglink names libaio.so.1.0.2.debug" \
    grep -q 'libaio.so.1.0.2.debug' <(readelf -p .gnu_debuglink "$lib/libaio.so.1.0.2")
for link in libaio.so.1 libaio.so.1t64; do
    check "$link links to libaio.so.1.0.2" [ "$(readlink "$lib/$link")" = libaio.so.1.0.2 ]
done
check "libaio.so leads to libaio.so.1.0.2" [ "$(readlink -f "$lib/libaio.so")" = "$lib/libaio.so.1.0.2" ]
check "libaio.a is the built archive" cmp -s "$lib/libaio.a" "$DIST/libaio.a"
check "include/libaio.h is our header" cmp -s "$root/usr/include/libaio.h" "$OUR_INCLUDE/libaio.h"

export PKG_CONFIG_PATH="$lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" PKG_CONFIG_LIBDIR=
check "pkg-config finds libaio 0.3.113" [ "$(pkg-config --modversion libaio)" = 0.3.113 ]
cflags=$(pkg-config --cflags libaio)
check "pkg-config's cflags give the installed libaio.h" \
    grep -q "$root/usr/include/libaio.h" <(gcc -M $cflags "$API_DIR/versions.c")

# A program built with pkg-config's flags runs with the installed library.
if build versions-pkg-config gcc "$API_DIR/versions.c" $cflags $(pkg-config --libs libaio); then
    run_c_test "built with pkg-config" "$lib" "$WORK/versions-pkg-config"
fi

# libaio.a links into a program with no extra flags, and the program carries
# no dependency on libaio.so.1.
if build versions-static-libaio gcc "$API_DIR/versions.c" $cflags "$lib/libaio.a"; then
    run_c_test "libaio.a linked in" "" "$WORK/versions-static-libaio"
    check "libaio.a linked in: no NEEDED libaio" lacks libaio <(readelf -d "$WORK/versions-static-libaio")
fi
# A fully static build with pkg-config --static also works: nothing in
# Libs.private may name a library that has no static archive (like -lgcc_s).
if build versions-static gcc -static "$API_DIR/versions.c" $cflags $(pkg-config --static --libs libaio); then
    run_c_test "fully static" "" "$WORK/versions-static"
fi
finish
