# The test programs of the suites that run in the guest, cross-compiled on
# this machine (a compiler under emulation would take minutes); sourced after
# arch.sh and archive.sh. Each suite runs here in its first half (see
# programs_from in capi-tests/lib.sh) with the architecture's cross compiler
# first on PATH, as gcc and cc, and Debian's libaio-dev of that architecture
# on its include and library paths after the program's own: the programs
# built "against the system libaio" are built against the guest's, those
# built against ours link with ours (Debian 13's SONAME is libaio.so.1t64).

# guest_programs OUT SUITE...: builds the programs of each SUITE into OUT
# (OUT/SUITE), against GUEST_OUR_SO; prints the suites' checks. Each suite's
# $WORK, where the guest runs it too, is in /var/tmp: the guest's ext4 disk,
# which takes O_DIRECT, as the disk of this machine's /tmp does (the guests'
# kernels' tmpfs does not, before Linux 6.6).
guest_programs() {
    local out=$1 bin="$ARCHIVE_CACHE/guest/$GUEST_ARCH/cross-bin" sysroot tool
    shift
    sysroot=$(debian_libaio "$GUEST_ARCH") && mkdir -p "$bin" || return 1
    for tool in gcc cc; do
        printf '#!/bin/sh\nexec %s-gcc -isystem "%s/usr/include" "$@" -L"%s/usr/lib/%s"\n' \
            "$GUEST_TRIPLE" "$sysroot" "$sysroot" "$GUEST_TRIPLE" >"$bin/$tool"
        chmod +x "$bin/$tool"
    done
    local suite
    for suite in "$@"; do
        echo "=== suites/$suite.sh: build for $GUEST_ARCH"
        PATH="$bin:$PATH" CAPI_PROGRAMS_OUT="$out" CAPI_OUR_SO="$GUEST_OUR_SO" TMPDIR=/var/tmp \
            bash "$GUEST_ROOT_DIR/capi-tests/suites/$suite.sh" 2>&1
    done
}
