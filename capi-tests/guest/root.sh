# The guest's kernel and root, made from Debian's packages for its
# architecture; sourced after arch.sh and archive.sh. The root is an
# initramfs: the kernel unpacks it into memory and runs its /init, so no
# driver is needed before the tests start. It is cached under
# target/cache/guest, keyed by the packages' versions: a new version in the
# archive makes a new root.

# What runs in the guest: a shell and the tools the suites use, fio, strace,
# jq, the loader's tools (nm), make for upstream's harness, and Debian's libaio.
# (usr-is-merged stands in for usrmerge, which would bring perl.)
GUEST_PACKAGES=(bash dash coreutils util-linux mount e2fsprogs kmod grep sed gawk findutils diffutils procps
                libc-bin make binutils strace fio jq usr-is-merged)

# guest_packages ARCH RELEASE PACKAGE...: "NAME VERSION" of each package that
# installing PACKAGEs pulls in (without recommends), from apt's simulation.
guest_packages() {
    local arch=$1 release=$2; shift 2
    archive_apt "$arch" "$release" apt-get install -s -y --no-install-recommends "$@" | awk '$1 == "Inst" { print $2, substr($3, 2) }'
}

# module_field FILE FIELD: FIELD of kernel module FILE's .modinfo (such as depends).
module_field() {
    case $1 in
        *.xz) xz -dc "$1" ;;
        *) cat "$1" ;;
    esac | tr '\0' '\n' | sed -n "s/^$2=//p"
}

# module_files MODULES_DIR NAME...: the files of modules NAME and of those they
# depend on, dependencies first, each once; built-in modules are left out.
module_files() {
    local dir=$1; shift
    local name file dependency
    for name in "$@"; do
        name=${name//-/_}
        [[ " ${MODULES_SEEN:-} " == *" $name "* ]] && continue
        MODULES_SEEN+=" $name"
        file=$(find "$dir/kernel" \( -name "$name.ko*" -o -name "${name//_/-}.ko*" \) | head -n 1)
        if [ -z "$file" ]; then
            grep -qE "/(${name}|${name//_/-})\.ko$" "$dir/modules.builtin" && continue
            echo "guest: kernel module $name is neither in $dir nor built in" >&2
            return 1
        fi
        for dependency in $(module_field "$file" depends | tr ',' ' '); do
            module_files "$dir" "$dependency" || return 1
        done
        echo "$file"
    done
}

# guest_root: makes (or finds in the cache) the kernel and the base root for
# guest_arch's architecture: sets GUEST_KERNEL_IMAGE and GUEST_ROOT_CPIO.
guest_root() {
    local cache="$ARCHIVE_CACHE/guest/$GUEST_ARCH" packages kernel key
    mkdir -p "$cache/debs"
    packages=$(guest_packages "$GUEST_ARCH" "$GUEST_RELEASE" "${GUEST_PACKAGES[@]}" "$GUEST_LIBAIO") &&
        kernel=$(guest_packages "$GUEST_ARCH" "$GUEST_RELEASE" "$GUEST_KERNEL" | grep '^linux-image-[0-9]') || {
        echo "guest: apt could not resolve the $GUEST_ARCH packages of $GUEST_RELEASE" >&2
        return 1
    }
    key=$( (echo "${GUEST_MODULES[*]}"; echo "$packages"; echo "$kernel"; cat "${BASH_SOURCE[0]}") | sha256sum | cut -c1-16)
    GUEST_KERNEL_IMAGE="$cache/kernel-$key"
    GUEST_ROOT_CPIO="$cache/root-$key.cpio"
    [ -f "$GUEST_KERNEL_IMAGE" ] && [ -f "$GUEST_ROOT_CPIO" ] && return 0

    # The .deb of each package at the version apt chose, downloaded unless it is there.
    local debs=() wanted=() name version deb i
    while read -r name version; do
        deb=$(ls "$cache/debs/${name}_${version//:/%3a}_"*.deb 2>/dev/null) || wanted+=("$name=$version")
        debs+=("${deb:-$name=$version}")
    done <<<"$packages"$'\n'"$kernel"
    if [ ${#wanted[@]} -gt 0 ]; then
        (cd "$cache/debs" && archive_apt "$GUEST_ARCH" "$GUEST_RELEASE" apt-get download "${wanted[@]}") >"$cache/fetch.log" 2>&1 ||
            { cat "$cache/fetch.log" >&2; return 1; }
        for ((i = 0; i < ${#debs[@]}; i++)); do
            [[ ${debs[i]} == *=* ]] || continue
            name=${debs[i]%%=*} version=${debs[i]#*=}
            debs[i]=$(ls "$cache/debs/${name}_${version//:/%3a}_"*.deb) || return 1
        done
    fi
    local kernel_deb=${debs[-1]}
    unset 'debs[-1]'

    local stage="$cache/stage"
    rm -rf "$stage" && mkdir -p "$stage/root" "$stage/kernel" || return 1
    for deb in "${debs[@]}"; do
        dpkg-deb -x "$deb" "$stage/root" || return 1
    done
    dpkg-deb -x "$kernel_deb" "$stage/kernel" || return 1

    # A merged /usr, as Debian installs it since release 12 (/lib a link to
    # usr/lib: the loader's paths are this machine's); what maintainer
    # scripts would have made: /bin/sh and awk, a root user. Without what no
    # test reads, which would only cost the guest time to unpack.
    local root="$stage/root" dir
    rm -rf "$root"/usr/share/{doc,man,info,locale,lintian,bash-completion}
    for dir in bin sbin lib; do
        if [ -d "$root/$dir" ] && [ ! -L "$root/$dir" ]; then
            mkdir -p "$root/usr/$dir" && cp -a "$root/$dir/." "$root/usr/$dir/" && rm -rf "${root:?}/$dir" || return 1
        fi
        [ -e "$root/$dir" ] || ln -s "usr/$dir" "$root/$dir"
    done
    ln -sf dash "$root/bin/sh"
    ln -sf gawk "$root/usr/bin/awk"
    mkdir -p "$root"/{dev,proc,sys,tmp,run,var/tmp,root,etc}
    echo 'root:x:0:0:root:/root:/bin/bash' >"$root/etc/passwd"
    echo 'root:x:0:' >"$root/etc/group"

    # The kernel, and the modules the guest loads (in order, in /etc/guest-modules).
    local modules_dir image module
    modules_dir=$(ls -d "$stage/kernel"/{,usr/}lib/modules/* 2>/dev/null | head -n 1)
    image=$(ls "$stage/kernel"/boot/vmlinu* | head -n 1)
    MODULES_SEEN=
    module_files "$modules_dir" "${GUEST_MODULES[@]}" >"$stage/modules" || return 1
    : >"$root/etc/guest-modules"
    while read -r module; do
        mkdir -p "$root/lib/modules"
        cp "$module" "$root/lib/modules/"
        echo "/lib/modules/${module##*/}" >>"$root/etc/guest-modules"
    done <"$stage/modules"
    # QEMU loads a gzip-compressed kernel for arm64 only: unpack it for the others.
    if gzip -t "$image" 2>/dev/null; then
        gzip -dc "$image" >"$stage/kernel-image"
    else
        cp "$image" "$stage/kernel-image"
    fi

    (cd "$root" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) >"$stage/root.cpio" || return 1
    rm -f "$cache"/kernel-* "$cache"/root-*.cpio
    mv "$stage/kernel-image" "$GUEST_KERNEL_IMAGE"
    mv "$stage/root.cpio" "$GUEST_ROOT_CPIO"
    rm -rf "$stage"
}
