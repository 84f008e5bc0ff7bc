#!/usr/bin/env bash
# This machine's packages in Debian 13 (trixie), where Debian's libaio is
# libaio1t64, its SONAME libaio.so.1t64: in a throwaway copy of a Debian 13
# root (debootstrap from the configured archive, cached:
# capi-tests/deb/debian-root.sh) with Debian 13's fio, ours replaces the real
# libaio1t64, is used by that fio and by sysbench installed from Debian 13's
# archive, keeps apt satisfied, and its removal gives Debian 13's files back
# byte for byte (capi-tests/deb/in-debian13-root.sh). Root only.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"
source "$ROOT/capi-tests/deb/suites.sh"
suite_needs deb-debian13 unshare chroot debootstrap dpkg-deb dpkg-shlibdeps

ARCH=$(native_arch)
if make -C "$ROOT" deb > "$WORK/make-deb.log" 2>&1; then
    pass "make deb"
else
    cat "$WORK/make-deb.log"
    fail "make deb (see its output above)"
    finish
fi
start=$SECONDS
if root=$(debian_root "$ARCH" trixie libaio1t64 fio jq); then
    pass "a Debian 13 root of $ARCH with fio, made or found in the cache in $((SECONDS - start)) s: $root"
    in_throwaway_root deb-debian13 600 "$root" "$ARCH" "$DEBS" in-debian13-root.sh:all
else
    fail "a Debian 13 root of $ARCH with fio (debootstrap)"
fi
check "no mount of the throwaway roots is left on this machine" not_mounted_under "$WORK"
finish
