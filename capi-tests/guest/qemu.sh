# QEMU's full-system emulators, from Debian's packages for this machine,
# unpacked into the cache and run from there; sourced after archive.sh.
# Installing them would replace this machine's qemu-system-common and
# qemu-utils, which may be newer (from backports): only the libraries their
# binaries link with are installed (capi-tests/deps.sh), and each binary
# finds its firmware with -L.
GUEST_QEMU_PACKAGES=(qemu-system-arm qemu-system-ppc qemu-system-misc qemu-system-data)
GUEST_QEMU_DIR="$ARCHIVE_CACHE/guest/qemu"

# guest_qemu_unpack: fetches and unpacks the emulators (once): their binaries
# in $GUEST_QEMU_DIR/usr/bin, their firmware in $GUEST_QEMU_DIR/usr/share/qemu.
guest_qemu_unpack() {
    local release debs="$ARCHIVE_CACHE/guest/qemu-debs" deb
    release=$(. /etc/os-release && echo "$VERSION_CODENAME")
    [ -x "$GUEST_QEMU_DIR/usr/bin/qemu-system-s390x" ] && return 0
    mkdir -p "$debs" || return 1
    fetch_debs "$(dpkg --print-architecture)" "$release" "$debs" "${GUEST_QEMU_PACKAGES[@]}" >"$debs.log" 2>&1 ||
        { cat "$debs.log" >&2; return 1; }
    rm -rf "$GUEST_QEMU_DIR.new"
    for deb in "$debs"/*.deb; do
        dpkg-deb -x "$deb" "$GUEST_QEMU_DIR.new" || return 1
    done
    rm -rf "$GUEST_QEMU_DIR" && mv "$GUEST_QEMU_DIR.new" "$GUEST_QEMU_DIR"
}

# guest_qemu_libraries: the packages the emulators depend on, but QEMU's own
# (one a line).
guest_qemu_libraries() {
    local deb
    for deb in "$ARCHIVE_CACHE/guest/qemu-debs"/*.deb; do
        dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/ //g'
    done | grep -v '^qemu-' | grep . | sort -u
}
