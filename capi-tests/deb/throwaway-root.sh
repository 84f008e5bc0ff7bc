#!/usr/bin/env bash
# throwaway-root.sh MOUNTPOINT LOWER ARCH INPUTS STEP...: run by the deb
# suites as the first process of private mount and PID namespaces: `unshare
# --mount --propagation private --pid --kill-child` for a copy of this
# machine's root (LOWER /), in_private_namespaces (namespace.sh) for a Debian
# root of debian-root.sh (LOWER its directory, ARCH its architecture). Makes
# a throwaway copy of LOWER at MOUNTPOINT, an overlay whose changes go to a
# tmpfs, binds into it the directory INPUTS (the packages and what else the
# scenarios use) and this one (the tests), read-only, and runs each STEP:
#   SCRIPT:SCENARIO  `SCRIPT SCENARIO` chrooted there (SCRIPT: in-*.sh here)
#   snapshot         writes the root as it is now to $SNAPSHOT, a cpio
#                    archive (an initramfs, to boot it)
# and stops at the first that fails. A root of another architecture than
# this machine's runs its programs under qemu-user, registered with the
# namespace's own binfmt_misc. Every mount exists only in the namespace:
# when its last process ends, the root and every change made in it are
# gone, and the machine never saw them. Nothing here writes outside
# MOUNTPOINT's tmpfs but the snapshot, and nothing inside the root can reach
# the machine's /dev but through its device nodes.
set -euo pipefail
mountpoint=$1 lower=$2 arch=$3 inputs=$4
shift 4
tests=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$tests/../../cdylib/arches.sh"
source "$tests/namespace.sh"

mount -t tmpfs -o size=4g,mode=755 libaio-rs-throwaway "$mountpoint"
mkdir "$mountpoint/upper" "$mountpoint/work" "$mountpoint/root"
root="$mountpoint/root"
options="lowerdir=$lower,upperdir=$mountpoint/upper,workdir=$mountpoint/work"
# A user namespace's overlay keeps what it knows of renamed directories in
# user.* attributes (it may not set trusted.* ones): else dpkg's renames of
# directories fail with EXDEV.
if in_own_user_namespace; then
    options+=,userxattr
fi
mount -t overlay overlay -o "$options" "$root"
mount -t proc proc "$root/proc"
# With what is mounted under it: a user namespace may not bind /dev alone.
mount --rbind /dev "$root/dev"
mount -o remount,bind,ro "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mkdir -p "$root/libaio-rs-test/inputs" "$root/libaio-rs-test/tests"
mount --bind -o ro "$inputs" "$root/libaio-rs-test/inputs"
mount --bind -o ro "$tests" "$root/libaio-rs-test/tests"
# apt resolves names inside the root: give it this machine's resolver
# settings even where /etc/resolv.conf links into /run, which the overlay
# does not show.
if [ -e /etc/resolv.conf ]; then
    cp --remove-destination --dereference /etc/resolv.conf "$root/etc/resolv.conf"
fi
if [ "$arch" != "$(native_arch)" ]; then
    register_qemu_user "$arch" "$mountpoint/binfmt_misc"
fi

for step in "$@"; do
    if [ "$step" = snapshot ]; then
        # Only the root's own filesystem: not /proc, /dev, /tmp or the inputs.
        (cd "$root" && find . -xdev -mindepth 1 | cpio -o -H newc --quiet) > "$SNAPSHOT"
        continue
    fi
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive bash "/libaio-rs-test/tests/${step%%:*}" "${step#*:}"
done
