#!/usr/bin/env bash
# in-multiarch-root.sh PHASE: runs as root inside a throwaway copy of a Debian
# root of another architecture than this machine's (debian-root.sh made it,
# with Debian's libaio runtime package and libsanlock1, which depends on it),
# whose programs run under qemu-user. Both architectures' packages of ours
# go in, each replacing its Debian libaio, as on a multiarch system:
#   install  this machine's architecture added, with Debian's libc6 and
#            libaio of it (INPUTS/debian); the root's own libaio-rs1 and
#            libaio-rs-dev installed with apt, then this machine's; their
#            files, diversions and ldconfig, apt satisfied (libsanlock1,
#            which depends on Debian's libaio, stays without it), and each
#            architecture's aio-client (INPUTS) loading ours: this machine's
#            run natively, the root's under qemu-user (which has no AIO: its
#            loader alone is checked)
#   remove   the root's architecture's removed: its Debian files back byte
#            for byte, the other's still ours; then the other's purged, and
#            everything as before
# (between them, the suite boots a snapshot of the root: guest-init).
# Prints "ok ..."/"not ok ..." lines for capi-tests' relay_checks, and stops
# early, with exit status 1, when a step the rest depends on failed.
set -u
source /libaio-rs-test/tests/checks.sh
cd /tmp || exit 1
ROOT_ARCH=$(dpkg --print-architecture)
HOST_ARCH=$(dpkg-deb -f "$(echo "$INPUTS"/debian/libc6_*.deb)" Architecture)

phase_install() {
    expect "[$ROOT_ARCH] before: Debian's $DEBIAN_LIBAIO is installed" installed "$DEBIAN_LIBAIO"
    expect "[$ROOT_ARCH] before: libsanlock1 is installed" installed libsanlock1
    record "$ROOT_ARCH"
    must "dpkg --add-architecture $HOST_ARCH" dpkg --add-architecture "$HOST_ARCH"
    must "[$HOST_ARCH] dpkg -i Debian's $(cd "$INPUTS/debian" && echo *.deb)" dpkg -i "$INPUTS"/debian/*.deb
    record "$HOST_ARCH"

    use_arch "$ROOT_ARCH"
    must "[$ROOT_ARCH] apt-get install libaio-rs1 libaio-rs-dev" "${APT[@]}" install "$RUNTIME_DEB" "$DEV_DEB"
    installed_here "$ROOT_ARCH"
    traced client-qemu "$INPUTS/aio-client.$ROOT_ARCH" /tmp/client-qemu.data
    expect "[$ROOT_ARCH] aio-client (under qemu-user, without its AIO): the loader initialised our libaio alone" \
        loads_ours client-qemu
    expect "[$ROOT_ARCH] apt-get -s remove $DEBIAN_LIBAIO: would remove it alone, libsanlock1 stays" \
        [ "$("${APT[@]}" -s remove "$DEBIAN_LIBAIO" | grep '^Remv ' | cut -d ' ' -f 2)" = "$DEBIAN_LIBAIO" ]

    use_arch "$HOST_ARCH"
    must "[$HOST_ARCH] apt-get install libaio-rs1 libaio-rs-dev beside $ROOT_ARCH's" \
        "${APT[@]}" install "$RUNTIME_DEB" "$DEV_DEB"
    installed_here "$HOST_ARCH"
    client "[$HOST_ARCH] aio-client" "$INPUTS/aio-client.$HOST_ARCH"
    installed_here "$ROOT_ARCH"
    expect "libaio-rs1 diverts the 4 names of each architecture's directory, and nothing else" \
        same "libaio-rs1's diversions" 8 "$(dpkg-divert --list | grep -c ' by libaio-rs1$')"
    expect "libaio.h is libaio-rs-dev:$ROOT_ARCH's" owned_by "libaio-rs-dev:$ROOT_ARCH" /usr/include/libaio.h
    expect "libaio.h is libaio-rs-dev:$HOST_ARCH's too" owned_by "libaio-rs-dev:$HOST_ARCH" /usr/include/libaio.h
}

phase_remove() {
    must "[$ROOT_ARCH] apt-get purge libaio-rs-dev libaio-rs1" \
        "${APT[@]}" purge "libaio-rs-dev:$ROOT_ARCH" "libaio-rs1:$ROOT_ARCH"
    removed_here "$ROOT_ARCH"
    traced client-qemu-after "$INPUTS/aio-client.$ROOT_ARCH" /tmp/client-qemu.data
    expect "[$ROOT_ARCH] aio-client (under qemu-user) loads Debian's libaio again" loads_debian client-qemu-after
    installed_here "$HOST_ARCH"

    must "[$HOST_ARCH] dpkg -P libaio-rs-dev libaio-rs1" dpkg -P "libaio-rs-dev:$HOST_ARCH" "libaio-rs1:$HOST_ARCH"
    removed_here "$HOST_ARCH"
    traced client-after "$INPUTS/aio-client.$HOST_ARCH" /tmp/client.data
    expect "[$HOST_ARCH] aio-client loads Debian's libaio again" loads_debian client-after
    expect "no diversion of libaio-rs1 is left" no_diversion_of_ours
    expect "dpkg knows libaio-rs1 no more" not known_to_dpkg libaio-rs1
    expect "dpkg knows libaio-rs-dev no more" not known_to_dpkg libaio-rs-dev
    expect "apt-get check: every dependency is satisfied" quietly apt-get check
}

case "${1:-}" in
    install) phase_install ;;
    remove) phase_remove ;;
    *) echo "usage: in-multiarch-root.sh install|remove" >&2; exit 2 ;;
esac
