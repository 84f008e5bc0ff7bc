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

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: deb: needs root (a mount namespace, chroot, and dpkg inside it)"
    finish
fi
missing=$(for tool in unshare chroot dpkg-deb dpkg-shlibdeps apt-get fio gcc jq readelf man; do
    command -v "$tool" > /dev/null || echo -n "$tool "
done)
if [ -n "$missing" ]; then
    fail "deb: missing $missing(make deps installs them)"
    finish
fi

LIBDIR=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)
DEBS="$ROOT/target/deb"

# What a package could change on this machine, and which must not change.
machine_state() {
    sha256sum "$LIBDIR/libaio.so.1.0.2" 2>&1
    ls -l --time-style=full-iso "$LIBDIR"/libaio* 2>&1
    dpkg-divert --list '*libaio*'
    dpkg -l 'libaio*' 2>&1
}
MACHINE_BEFORE=$(machine_state)

if make -C "$ROOT" deb > "$WORK/make-deb.log" 2>&1; then
    pass "make deb"
else
    cat "$WORK/make-deb.log"
    fail "make deb (see its output above)"
    finish
fi
RUNTIME_DEB=$(echo "$DEBS"/libaio-rs1_*.deb)
DEV_DEB=$(echo "$DEBS"/libaio-rs-dev_*.deb)
TOOLS_DEB=$(echo "$DEBS"/libaio-rs-tools_*.deb)
for deb in "$RUNTIME_DEB" "$DEV_DEB" "$TOOLS_DEB"; do
    echo "--- dpkg-deb -c ${deb#"$DEBS/"}"
    dpkg-deb -c "$deb"
    echo "--- dpkg-deb -f ${deb#"$DEBS/"}"
    dpkg-deb -f "$deb"
done

# contents DEB: its files and links ("PATH" or "PATH -> TARGET"), sorted.
contents() {
    dpkg-deb -c "$1" | awk '$1 !~ /^d/ { $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print }' | sort
}
# same WHAT EXPECTED ACTUAL: EXPECTED = ACTUAL, or prints both.
same() {
    [ "$2" = "$3" ] && return 0
    printf '%s, expected:\n%s\nfound:\n%s\n' "$1" "$2" "$3"
    return 1
}
not_mounted_under() { ! grep -qF " $1/" /proc/self/mountinfo; }
build_id() { readelf -n "$1" | sed -n 's/.*Build ID: //p'; }

check "libaio-rs1 has the library, its links libaio.so.1 and libaio.so.1t64, its doc, and nothing else" \
    same "libaio-rs1's files" "$(printf '%s\n' ".$LIBDIR/libaio.so.1 -> libaio.so.1.0.2" ".$LIBDIR/libaio.so.1.0.2" \
        ".$LIBDIR/libaio.so.1t64 -> libaio.so.1.0.2" ./usr/share/doc/libaio-rs1/changelog.Debian.gz \
        ./usr/share/doc/libaio-rs1/copyright)" "$(contents "$RUNTIME_DEB")"
for entry in ./usr/include/libaio.h ".$LIBDIR/libaio.a" ".$LIBDIR/libaio.so -> libaio.so.1" \
             ".$LIBDIR/pkgconfig/libaio.pc" ./usr/share/doc/libaio-rs-dev/copyright; do
    check "libaio-rs-dev has $entry" grep -qxF -- "$entry" <(contents "$DEV_DEB")
done
check "libaio-rs-tools has aiostat, its page, its doc, and nothing else" \
    same "libaio-rs-tools' files" "$(printf '%s\n' ./usr/bin/aiostat ./usr/share/doc/libaio-rs-tools/changelog.Debian.gz \
        ./usr/share/doc/libaio-rs-tools/copyright ./usr/share/man/man1/aiostat.1.gz)" "$(contents "$TOOLS_DEB")"
check "libaio-rs-tools is Section admin, Architecture $(dpkg-architecture -qDEB_HOST_ARCH), depends on libc6" \
    same "Section, Architecture, Depends" "admin $(dpkg-architecture -qDEB_HOST_ARCH) libc6" \
    "$(dpkg-deb -f "$TOOLS_DEB" Section Architecture Depends | sed 's/^[A-Za-z]*: //; s/ (.*//' | paste -sd ' ')"
check "libaio-rs-dev has no aiostat" lacks aiostat <(contents "$DEV_DEB")
dpkg-deb --fsys-tarfile "$RUNTIME_DEB" | tar -xO ".$LIBDIR/libaio.so.1.0.2" > "$WORK/packaged.so"
check "the packaged libaio.so.1.0.2 is this build's (same build-id as $OUR_SO)" \
    same "build-id" "$(build_id "$OUR_SO")" "$(build_id "$WORK/packaged.so")"
version=$(dpkg-deb -f "$RUNTIME_DEB" Version)
check "libaio-rs1 provides libaio1 and libaio1t64 at its version" \
    same Provides "libaio1 (= $version), libaio1t64 (= $version)" "$(dpkg-deb -f "$RUNTIME_DEB" Provides)"
check "libaio-rs1 has ldconfig run as dh_makeshlibs would (triggers: activate-noawait ldconfig)" \
    grep -qx 'activate-noawait ldconfig' <(dpkg-deb --ctrl-tarfile "$RUNTIME_DEB" | tar -xO ./triggers)

# in_throwaway_root SCENARIO: in-root.sh SCENARIO in a new throwaway root,
# its checks relayed; it must run to its end within the time given.
in_throwaway_root() {
    local scenario=$1 seconds=300 status=0
    mkdir "$WORK/$scenario"
    timeout --foreground "$seconds" unshare --mount --propagation private --pid --kill-child -- \
        bash "$ROOT/capi-tests/deb/throwaway-root.sh" "$WORK/$scenario" "$DEBS" "$scenario" \
        > "$WORK/$scenario.out" 2>&1 || status=$?
    relay_checks "deb[$scenario]" "$WORK/$scenario.out"
    if grep -q '^not ok ' "$WORK/$scenario.out"; then
        echo "deb[$scenario]: each check above is a line of capi-tests/deb/in-root.sh; what it tests is built by" \
             "debian/make-debs.sh from debian/control and debian/libaio-rs1.{preinst,postrm,triggers}"
    fi
    case $status in
        0) pass "deb[$scenario]: ran to its end" ;;
        124) fail "deb[$scenario]: ran to its end: timed out after $seconds s (apt's archive slow or unreachable?)" ;;
        130) fail "deb[$scenario]: ran to its end: interrupted"; finish ;;
        *) fail "deb[$scenario]: ran to its end: stopped with status $status at the first failure above" ;;
    esac
}
in_throwaway_root replace
in_throwaway_root provides

check "this machine's libaio, diversions and packages are as before" \
    same "machine state" "$MACHINE_BEFORE" "$(machine_state)"
check "no mount of the throwaway roots is left on this machine" not_mounted_under "$WORK"
finish
