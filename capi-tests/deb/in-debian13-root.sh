#!/usr/bin/env bash
# in-debian13-root.sh all: runs as root inside a throwaway copy of a Debian 13
# (trixie) root of this machine's architecture (debian-root.sh made it, with
# Debian 13's libaio1t64, its SONAME libaio.so.1t64, and Debian 13's fio,
# which asks for that SONAME). Ours replaces the real libaio1t64: its files
# diverted, trixie's fio using ours without LD_PRELOAD and reaping from the
# ring, apt satisfied: libaio1t64 removed while fio stays, sysbench (Depends:
# libaio1t64) installed from the archive without it and using ours,
# libaio1t64 back under ours; then ours purged, and Debian 13's files as
# they were, byte for byte. Prints "ok ..."/"not ok ..." lines for capi-tests'
# relay_checks, and stops early, with exit status 1, when a step the rest
# depends on failed.
set -u
[ "${1:-}" = all ] || { echo "usage: in-debian13-root.sh all" >&2; exit 2; }
source /libaio-rs-test/tests/checks.sh
cd /tmp || exit 1
use_arch "$(dpkg --print-architecture)"
expect "before: Debian 13's libaio1t64 is installed" installed libaio1t64
expect "before: Debian 13's fio asks for libaio.so.1t64" grep -q '^[[:space:]]*libaio\.so\.1t64 => ' <(ldd /usr/bin/fio)
record "$ARCH"
# apt installs libaio1t64 again at this version, so that its files are these.
LIBAIO1T64=libaio1t64=$(dpkg-query -W -f='${Version}' libaio1t64)

must "apt-get install libaio-rs1 libaio-rs-dev" "${APT[@]}" install "$RUNTIME_DEB" "$DEV_DEB"
installed_here "$ARCH"
fio_verified_write

must "apt-get update" "${APT[@]}" update
expect "apt-get -s remove libaio1t64: would remove libaio1t64 alone" \
    [ "$("${APT[@]}" -s remove libaio1t64 | grep '^Remv ' | cut -d ' ' -f 2)" = libaio1t64 ]
must "apt-get remove libaio1t64" "${APT[@]}" remove libaio1t64
expect "libaio1t64 is gone" not installed libaio1t64
expect "fio (Depends: libaio1t64) stays" installed fio
expect "libaio.so.1.0.2 is still ours" ours_in_place
must "apt-get install sysbench (Depends: libaio1t64), from Debian 13's archive" "${APT[@]}" install sysbench
expect "libaio1t64 is still not installed" not installed libaio1t64
sysbench_async
must "apt-get install $LIBAIO1T64, under ours" "${APT[@]}" install "$LIBAIO1T64"
installed_here "$ARCH"

must "apt-get purge libaio-rs-dev libaio-rs1" "${APT[@]}" purge libaio-rs-dev libaio-rs1
removed_here "$ARCH"
traced fio-after fio --version
expect "after the purge: fio loads Debian 13's libaio.so.1t64.0.2" loads_debian fio-after
expect "after the purge: no diversion of libaio-rs1 is left" no_diversion_of_ours
expect "after the purge: dpkg knows libaio-rs1 no more" not known_to_dpkg libaio-rs1
expect "after the purge: apt-get check: every dependency is satisfied" quietly apt-get check
