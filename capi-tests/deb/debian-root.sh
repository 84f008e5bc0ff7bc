# Debian roots for the package tests to install ours in, made with
# debootstrap from the archive this machine is configured with, and kept in
# the cache (target/cache/roots); sourced after capi-tests/archive.sh,
# cdylib/arches.sh and namespace.sh. Each is the base of throwaway roots
# (throwaway-root.sh): it is never changed once made.
DEB_TESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# debian_root ARCH SUITE PACKAGE...: prints the directory of a root of
# Debian SUITE for ARCH, debootstrap's minbase with the PACKAGEs, made unless
# the cache has it. The cache is keyed by the versions apt would install for
# the PACKAGEs today, so that a new version in the archive makes a new root
# (and the older one of ARCH and SUITE goes). debootstrap --foreign unpacks
# the packages here as this machine's root (it makes /dev's nodes); its
# second stage configures them chrooted, in private namespaces where
# qemu-user runs ARCH's programs (namespace.sh). Its log is ROOT.log.
debian_root() {
    local arch=$1 suite=$2; shift 2
    local cache="$ARCHIVE_CACHE/roots" key root uri keyring=() packages old
    packages=$(IFS=,; echo "$*")
    key=$( { echo "$arch $suite $packages"; cat "${BASH_SOURCE[0]}" "$DEB_TESTS/second-stage.sh"
             archive_apt "$arch" "$suite" apt-get install -s -y --no-install-recommends "$@" |
                 awk '$1 == "Inst" { print $2, $3 }'; } | sha256sum | cut -c 1-16) || return 1
    root="$cache/$suite-$arch-$key"
    if [ -d "$root" ]; then echo "$root"; return 0; fi
    uri=$(archive_uri) || return 1
    # The archive's key, where apt's entry names it by its file.
    keyring=($(archive_stanza deb "$suite" | sed -n 's|^Signed-By: *\(/[^ ]*\)$|--keyring=\1|p'))
    mkdir -p "$cache" && rm -rf "$root.new" "$root.log" || return 1
    # debootstrap splits its target's path at spaces when it resolves the
    # packages' dependencies (and then unpacks the required ones only): it
    # gets a link to the cache whose path has none.
    local link status=0
    link=$(mktemp -u /tmp/libaio-rs-roots.XXXXXX) && ln -s "$cache" "$link" || return 1
    debootstrap --foreign --arch="$arch" --variant=minbase --include="$packages" "${keyring[@]}" \
        "$suite" "$link/${root##*/}.new" "$uri" > "$root.log" 2>&1 || status=$?
    rm -f "$link"
    if [ $status -ne 0 ] ||
       ! in_private_namespaces bash "$DEB_TESTS/second-stage.sh" "$root.new" "$arch" >> "$root.log" 2>&1; then
        echo "debian_root: debootstrap of $suite for $arch failed; the end of $root.log:" >&2
        tail -n 20 "$root.log" >&2
        return 1
    fi
    for old in "$cache/$suite-$arch-"*; do
        [ "${old#"$root"}" != "$old" ] || rm -rf "$old"
    done
    mv "$root.new" "$root" && echo "$root"
}

# debian_debs_of ROOT ARCH SUITE DIR PACKAGE...: downloads into DIR each
# PACKAGE installed in ROOT (a pattern, as dpkg-query takes), for ARCH at the
# version ROOT has: what another architecture needs beside ROOT's own
# packages, whose versions must be the same (Multi-Arch: same).
debian_debs_of() {
    local root=$1 arch=$2 suite=$3 dir=$4; shift 4
    local wanted
    wanted=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Package}=${Version}\n' "$@") || return 1
    rm -rf "$dir" && mkdir -p "$dir" &&
        (cd "$dir" && archive_apt "$arch" "$suite" apt-get download $wanted > download.log 2>&1) ||
        { cat "$dir/download.log" >&2; return 1; }
    rm -f "$dir/download.log"
}
