#!/usr/bin/env bash
# second-stage.sh ROOT ARCH: run by debian_root (debian-root.sh) as the first
# process of in_private_namespaces: debootstrap's second stage in ROOT,
# which its first stage unpacked, with qemu-user registered in the
# namespace's own binfmt_misc when ARCH is not this machine's.
set -euo pipefail
root=$1 arch=$2
tests=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$tests/../../cdylib/arches.sh"
source "$tests/namespace.sh"
if [ "$arch" != "$(native_arch)" ]; then
    binfmt=$(mktemp -d)
    trap 'umount "$binfmt" 2>/dev/null; rmdir "$binfmt"' EXIT
    register_qemu_user "$arch" "$binfmt"
fi
# debootstrap checks that it can make device nodes, which no user namespace
# can, unless it runs in an LXC container, whose check it takes on trust;
# the first stage, as the machine's root, made the root's /dev.
container=lxc chroot "$root" /debootstrap/debootstrap --second-stage
