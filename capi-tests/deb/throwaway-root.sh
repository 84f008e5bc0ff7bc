#!/usr/bin/env bash
# throwaway-root.sh MOUNTPOINT DEBS SCENARIO: run by capi-tests/suites/deb.sh
# as the first process of a private mount and PID namespace
# (`unshare --mount --propagation private --pid --kill-child`). Makes a
# throwaway copy of this machine's root at MOUNTPOINT, an overlay of / whose
# changes go to a tmpfs, binds into it the directory DEBS (the packages) and
# this one (the tests), read-only, and runs `in-root.sh SCENARIO` chrooted
# there. Every mount exists only in this namespace: when its last process
# ends, the root and every change made in it are gone, and the machine never
# saw them. Nothing here writes outside MOUNTPOINT's tmpfs, and nothing
# inside the root can reach the machine's /dev but through its device nodes.
set -euo pipefail
mountpoint=$1 debs=$2 scenario=$3
tests=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

mount -t tmpfs -o size=4g,mode=755 libaio-rs-throwaway "$mountpoint"
mkdir "$mountpoint/upper" "$mountpoint/work" "$mountpoint/root"
root="$mountpoint/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$mountpoint/upper,workdir=$mountpoint/work" "$root"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount -o remount,bind,ro "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mkdir -p "$root/libaio-rs-test/debs" "$root/libaio-rs-test/tests"
mount --bind -o ro "$debs" "$root/libaio-rs-test/debs"
mount --bind -o ro "$tests" "$root/libaio-rs-test/tests"
# apt resolves names inside the root: give it this machine's resolver
# settings even where /etc/resolv.conf links into /run, which the overlay
# does not show.
if [ -e /etc/resolv.conf ]; then
    cp --remove-destination --dereference /etc/resolv.conf "$root/etc/resolv.conf"
fi

exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive bash /libaio-rs-test/tests/in-root.sh "$scenario"
