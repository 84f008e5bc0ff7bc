#!/usr/bin/env bash
# Installs everything the tests and benchmarks need on a fresh Debian 12 machine
# (run as root). Safe to run again: it skips what is already there.
set -eu
if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: installing the test dependencies needs root (apt-get); run make as root" >&2
    exit 1
fi
packages=(libaio-dev libaio1 fio strace ltrace valgrind gcc g++ pkg-config
          libgoogle-glog-dev libgflags-dev dpkg-dev e2fsprogs util-linux jq man-db groff-base
          qemu-user-static debootstrap cpio)
# The cross toolchains: for the other architectures' builds (cdylib/arches.sh)
# and for the 32-bit ABIs the header refuses (suites/header.sh). Not
# gcc-multilib, which Debian's cross compilers exclude.
for triplet in aarch64-linux-gnu powerpc64le-linux-gnu s390x-linux-gnu riscv64-linux-gnu i686-linux-gnu \
               x86-64-linux-gnux32 arm-linux-gnueabihf; do
    packages+=("gcc-$triplet")
done
packages+=(libc6-dev-arm64-cross libc6-dev-ppc64el-cross libc6-dev-s390x-cross libc6-dev-riscv64-cross
           libc6-dev-i386-cross libc6-dev-x32-cross libc6-dev-armhf-cross)
source "$(dirname "$0")/archive.sh"
# The guests (capi-tests/guest): their initramfs is a cpio archive; QEMU's
# system emulators run from the cache, unpacked from Debian's packages, and
# only the libraries they link with are installed (the packages would
# replace a newer qemu-utils).
packages+=(cpio)
source "$(dirname "$0")/guest/qemu.sh"
guest_qemu_unpack
mapfile -t -O "${#packages[@]}" packages < <(guest_qemu_libraries)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done

# Upstream's harness comes from the Debian source package: a deb-src entry for
# the archive this machine already uses, so that no archive host is written here.
src_list=/etc/apt/sources.list.d/libaio-rs-deb-src.sources
configured=$(archive_stanza deb-src "$(. /etc/os-release && echo "$VERSION_CODENAME")")
if [ "$(cat "$src_list" 2>/dev/null)" != "$configured" ]; then
    echo "$configured" > "$src_list"
    need_update=1
fi
if [ ${#missing[@]} -gt 0 ] || [ -n "${need_update:-}" ]; then
    apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# the header generator, pinned: include/libaio.h must not change with its version
if [ "$(cbindgen --version 2>/dev/null)" != "cbindgen 0.29.4" ]; then
    cargo install cbindgen --version 0.29.4 --locked --quiet
fi
# Rust's standard library for the other architectures (the library needs only
# core; the tests and programs need std).
source "$(dirname "$0")/../cdylib/arches.sh"
for arch in "${ARCHES[@]}"; do
    target=$(rust_target "$arch")
    rustup target list --installed | grep -qx "$target" || rustup target add "$target" >/dev/null
done
