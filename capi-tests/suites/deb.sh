#!/usr/bin/env bash
# `make deb`'s packages: what they hold and declare, then installed, used and
# removed where they cannot touch this machine, in throwaway roots (an
# overlay of / in a private mount namespace, chrooted into: see
# capi-tests/deb/throwaway-root.sh): one where Debian's libaio1 stays, one
# where it goes (capi-tests/deb/in-root.sh says what each checks). Last, that
# this machine's libaio, diversions and packages are exactly as they were.
# Root only.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"
source "$ROOT/capi-tests/deb/suites.sh"
suite_needs deb unshare chroot dpkg-deb dpkg-shlibdeps apt-get fio gcc jq readelf man

ARCH=$(dpkg --print-architecture)
LIBDIR=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)

# What a package could change on this machine, and which must not change.
machine_state() {
    sha256sum "$LIBDIR/libaio.so.1.0.2" 2>&1
    ls -l --time-style=full-iso "$LIBDIR"/libaio* 2>&1
    dpkg-divert --list '*libaio*'
    dpkg -l 'libaio*' 2>&1
}
MACHINE_BEFORE=$(machine_state)

package_checks "$ARCH" || finish

for scenario in replace provides; do
    in_throwaway_root "deb[$scenario]" 300 / "$ARCH" "$DEBS" "in-root.sh:$scenario"
done

check "this machine's libaio, diversions and packages are as before" \
    same "machine state" "$MACHINE_BEFORE" "$(machine_state)"
check "no mount of the throwaway roots is left on this machine" not_mounted_under "$WORK"
finish
