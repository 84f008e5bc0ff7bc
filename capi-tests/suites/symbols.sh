#!/usr/bin/env bash
# The dynamic ABI of target/release/libaio.so: the same versioned symbols as
# the system libaio.so.1, plus upstream's inline helpers as functions in our
# own node, and nothing else; the same SONAME; programs linked against either
# library load and bind with the other. The same for each other architecture's
# build, against Debian's libaio of that architecture.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"
source "$ROOT/cdylib/arches.sh"
source "$ROOT/capi-tests/archive.sh"

HELPERS_NODE=LIBAIO_RS_0.3.113

# defined_symbols ARCH SO: "TYPE NAME@[@]VERSION" for each defined dynamic
# symbol, leaving out the ABS symbols GNU ld adds for each version name.
defined_symbols() {
    "$(tool "$1" nm)" -D --with-symbol-versions --defined-only "$2" | awk '$2 != "A" { print $2, $3 }' | sort
}
# upstream_inline_helpers HEADER: the functions upstream's header defines inline.
upstream_inline_helpers() {
    sed -n 's/^static inline [a-z ]*[ *]\(io_[a-z0-9_]*\)(.*/\1/p' "$1" | sort
}

# same_abi LABEL ARCH OURS UPSTREAM HEADER: checks that OURS exports what
# UPSTREAM (upstream's library, HEADER its header) does, plus the helpers.
same_abi() {
    local label=$1 arch=$2 ours=$3 upstream helpers expected
    upstream=$(defined_symbols "$arch" "$4")
    check "$label the upstream libaio exports 13 versioned functions" \
        [ "$(grep -c '^T io_[a-z_]*@@*LIBAIO_0\.[145]$' <<<"$upstream")" -eq 13 ]
    helpers=$(upstream_inline_helpers "$5")
    check "$label upstream's header has 14 inline helpers" [ "$(wc -l <<<"$helpers")" -eq 14 ]
    expected=$( (echo "$upstream"; sed "s/.*/T &@@$HELPERS_NODE/" <<<"$helpers") | sort)
    ours=$(defined_symbols "$arch" "$ours")
    if [ "$ours" = "$expected" ]; then
        pass "$label our dynamic symbols are upstream's, with the same @@/@ marks, plus the helpers at @@$HELPERS_NODE"
        echo "$label the 13 both export:" $(grep -v "@@$HELPERS_NODE" <<<"$ours" | cut -d' ' -f2)
    else
        diff <(echo "$expected") <(echo "$ours") | sed 's/^/  (- expected, + ours) /'
        fail "$label our dynamic symbols differ from upstream's plus the helpers"
    fi
    check "$label SONAME is libaio.so.1" \
        [ "$(readelf -d "$3" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')" = libaio.so.1 ]
    # NEEDED: see footprint.sh.
}

same_abi "[$(native_arch)]" "$(native_arch)" "$OUR_SO" "$SYSTEM_SO" /usr/include/libaio.h
for arch in "${ARCHES[@]}"; do
    [ "$arch" != "$(native_arch)" ] || continue
    ours="$ROOT/$(cargo_release_dir "$arch")/libaio.so"
    if [ ! -f "$ours" ]; then
        fail "[$arch] our library is built (make build ARCH=$arch)"
    elif ! debian=$(debian_libaio "$arch"); then
        fail "[$arch] Debian's libaio for $arch is fetched"
    else
        same_abi "[$arch, against Debian $(debian_release "$arch")'s]" "$arch" "$ours" \
            "$(debian_libaio_so "$arch")" "$debian/usr/include/libaio.h"
    fi
done

# imported_versions PROGRAM: "(VERSION) NAME" for each io_* it imports.
imported_versions() {
    objdump -T "$1" | awk '$NF ~ /^io_/ { print $(NF-1), $NF }' | sort
}
# needed_versions PROGRAM: the versions of libaio.so.1 it records as needed.
needed_versions() {
    readelf -V "$1" | awk '/File: / { in_libaio = /File: libaio.so.1 / } in_libaio && /Name: / { print $3 }' | sort
}

# A program built against the system header and library runs with ours.
if build versions-system gcc "$API_DIR/versions.c" -Wall -Werror -laio; then
    run_c_test "linked to the system libaio, run with ours" "$OUR_LIBDIR" "$WORK/versions-system"
    check "no loader version complaints with ours" lacks version "$RUN_OUTPUT"
fi
# The same program built against ours records the same imports and versions.
if build versions-ours gcc "$API_DIR/versions.c" "${OUR_BUILD[@]}"; then
    run_c_test "linked to ours, run with the system libaio" "$SYSTEM_LIBDIR" "$WORK/versions-ours"
    check "no loader version complaints with the system libaio" lacks version "$RUN_OUTPUT"
    check "linked to ours, it needs LIBAIO_0.1, LIBAIO_0.4 and LIBAIO_0.5" \
        [ "$(needed_versions "$WORK/versions-ours" | tr '\n' ' ')" = "LIBAIO_0.1 LIBAIO_0.4 LIBAIO_0.5 " ]
    check "linked to ours, it imports its 5 io_* functions with versions" \
        [ "$(imported_versions "$WORK/versions-ours" | grep -c '^(LIBAIO_0\.[145]) io_')" -eq 5 ]
    if [ -f "$WORK/versions-system" ]; then
        check "linked to ours or the system libaio, it imports the same io_* versions" \
            [ "$(imported_versions "$WORK/versions-ours")" = "$(imported_versions "$WORK/versions-system")" ]
        check "and it needs the same versions" \
            [ "$(needed_versions "$WORK/versions-ours")" = "$(needed_versions "$WORK/versions-system")" ]
    fi
fi
finish
