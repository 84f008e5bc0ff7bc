#!/usr/bin/env bash
# The packages of the other architectures (`make deb ARCH=...`): what they
# hold and declare, against Debian's libaio of each (capi-tests/deb/suites.sh:
# package_checks), for every architecture of cdylib/arches.sh. Then, for the
# architectures in LIBAIO_RS_DEB_ROOTS (default arm64; "all" for every one;
# "none"), in a Debian root of that architecture (debootstrap, cached:
# capi-tests/deb/debian-root.sh) copied into a throwaway root whose programs
# run under qemu-user: ours installed with apt over Debian's libaio, this
# machine's beside it, both removed again exactly
# (capi-tests/deb/in-multiarch-root.sh); and, in between, a snapshot of the
# root booted under qemu-system as the guest suites boot theirs
# (capi-tests/guest), where a program built against Debian's libaio of the
# architecture must reap from the ring through ours
# (capi-tests/deb/guest-init). Root only.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"
source "$ROOT/capi-tests/deb/suites.sh"
suite_needs deb-arches unshare chroot debootstrap dpkg-deb dpkg-shlibdeps cpio gcc readelf qemu-aarch64-static

HOST_ARCH=$(native_arch)
case ${LIBAIO_RS_DEB_ROOTS:-arm64} in
    all) ROOT_ARCHES=("${ARCHES[@]}") ;;
    none) ROOT_ARCHES=() ;;
    *) read -r -a ROOT_ARCHES <<< "${LIBAIO_RS_DEB_ROOTS:-arm64}" ;;
esac

# This machine's packages, which the roots install beside theirs (the deb
# suite checks them).
if ! make -C "$ROOT" deb > "$WORK/make-deb.log" 2>&1; then
    cat "$WORK/make-deb.log"
    fail "make deb (see its output above)"
    finish
fi
for arch in "${ARCHES[@]}"; do
    [ "$arch" = "$HOST_ARCH" ] || package_checks "$arch"
done

# root_inputs ARCH ROOT DIR: what in-multiarch-root.sh and guest-init use, in
# DIR: our packages of ARCH and of this machine, Debian's packages of this
# machine that go beside ROOT's at the same versions, and aio-client.ARCH
# and aio-client.HOST, built against Debian's libaio-dev of each.
root_inputs() {
    local arch=$1 root=$2 dir=$3 debian
    debian=$(debian_libaio "$arch") &&
        mkdir -p "$dir" && cp "$DEBS"/*_"$arch".deb "$DEBS"/*_"$HOST_ARCH".deb "$dir/" &&
        debian_debs_of "$root" "$HOST_ARCH" "$(debian_release "$arch")" "$dir/debian" \
            libc6 libgcc-s1 'gcc-*-base' 'libaio1*' &&
        gcc -Wall -Werror -o "$dir/aio-client.$HOST_ARCH" "$ROOT/capi-tests/deb/aio-client.c" -laio &&
        "$(tool "$arch" gcc)" -Wall -Werror -isystem "$debian/usr/include" -o "$dir/aio-client.$arch" \
            "$ROOT/capi-tests/deb/aio-client.c" -L"$debian/usr/lib/$(gnu_triplet "$arch")" -laio
}

# boot_snapshot ARCH: boots the snapshot of ARCH's root with guest-init, in
# the guest suites' emulated machine of ARCH (their kernel and QEMU), and
# relays its checks.
boot_snapshot() {
    local arch=$1 dir="$WORK/$1.guest" start=$SECONDS
    mkdir -p "$dir/payload/libaio-rs-test/tests" "$dir/payload/libaio-rs-test/inputs"
    local part
    for part in arch qemu root boot; do
        source "$ROOT/capi-tests/guest/$part.sh" || { fail "deb-arches[$arch guest]: capi-tests/guest/$part.sh"; return; }
    done
    if ! guest_arch "$arch" || ! guest_root || ! guest_qemu_unpack; then
        fail "deb-arches[$arch guest]: the emulated machine's kernel and QEMU (capi-tests/guest)"
        return
    fi
    GUEST_ROOT_CPIO="$WORK/$arch.cpio"
    install -m 755 "$ROOT/capi-tests/deb/guest-init" "$dir/payload/init"
    cp "$ROOT/capi-tests/deb/checks.sh" "$dir/payload/libaio-rs-test/tests/"
    cp "$DEBS"/libaio-rs1_*_"$arch".deb "$WORK/$arch.inputs/aio-client.$arch" "$dir/payload/libaio-rs-test/inputs/"
    (cd "$dir/payload" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) > "$dir/payload.cpio"
    guest_boot "$dir" 600 300 > /dev/null 2>&1
    tr -d '\r' < "$dir/console" > "$dir/console.lines"
    # The checks, our report and guest-init's lines; the whole console if it stopped early.
    relay_checks "deb-arches[$arch guest]" <(grep -E '^(ok |not ok |guest: |libaio-rs: |  [a-z_]+: |mapped: )' "$dir/console.lines")
    if ! grep -q '^guest: finished' "$dir/console.lines"; then
        sed "s/^/deb-arches[$arch guest] console: /" "$dir/console.lines"
    fi
    check "deb-arches[$arch guest]: booted and ran to its end, in $((SECONDS - start)) s" \
        grep -q '^guest: finished' "$dir/console.lines"
}

for arch in "${ROOT_ARCHES[@]}"; do
    [ "$arch" != "$HOST_ARCH" ] || continue
    start=$SECONDS
    if ! root=$(debian_root "$arch" "$(debian_release "$arch")" "$(debian_runtime_package "$arch")" libsanlock1); then
        fail "[$arch] a Debian $(debian_release "$arch") root of $arch (debootstrap)"
        continue
    fi
    pass "[$arch] a Debian $(debian_release "$arch") root of $arch, made or found in the cache in $((SECONDS - start)) s: $root"
    if ! root_inputs "$arch" "$root" "$WORK/$arch.inputs"; then
        fail "[$arch] Debian's packages of $HOST_ARCH to go beside the root's, and aio-client"
        continue
    fi
    export SNAPSHOT="$WORK/$arch.cpio"
    in_throwaway_root "deb-arches[$arch]" 900 "$root" "$arch" "$WORK/$arch.inputs" \
        in-multiarch-root.sh:install snapshot in-multiarch-root.sh:remove
    if [ -s "$SNAPSHOT" ]; then
        boot_snapshot "$arch"
    else
        fail "deb-arches[$arch guest]: a snapshot of the root with ours installed, to boot (the install failed above)"
    fi
done
check "no mount of the throwaway roots is left on this machine" not_mounted_under "$WORK"
finish
