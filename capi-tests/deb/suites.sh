# What the deb suites share: the checks of one architecture's packages, and
# the scenarios run in throwaway roots; sourced after capi-tests/lib.sh and
# capi-tests/api/lib.sh.
source "$ROOT/capi-tests/archive.sh"
source "$ROOT/cdylib/arches.sh"
source "$ROOT/capi-tests/deb/namespace.sh"
source "$ROOT/capi-tests/deb/debian-root.sh"
DEBS="$ROOT/target/deb"

# suite_needs SUITE TOOL...: stops SUITE, skipped, unless it runs as root (it
# makes namespaces, chroots, and runs dpkg in them), and with a failure
# unless every TOOL is there.
suite_needs() {
    local suite=$1 missing
    shift
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: $suite: needs root (namespaces, chroot, and dpkg inside them)"
        finish
    fi
    missing=$(for tool in "$@"; do command -v "$tool" > /dev/null || echo -n "$tool "; done)
    if [ -n "$missing" ]; then
        fail "$suite: missing $missing(make deps installs them)"
        finish
    fi
}

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
# elf_kind FILE: the class, byte order and machine readelf gives FILE.
elf_kind() { readelf -h "$1" | sed -n 's/^ *\(Class\|Data\|Machine\): *//p' | paste -sd ' '; }
# fields DEB FIELD...: the FIELDs of DEB's control, in that order, one a line:
# "Field: value", or only the value for one FIELD.
fields() { dpkg-deb -f "$1" "${@:2}"; }

# package_checks ARCH: `make deb ARCH=ARCH` (its output shown), and what each
# of its three packages holds and declares, against the build it comes from
# and against Debian's libaio of that architecture (archive.sh:
# debian_libaio), whose names, versions and files ours must take over. Sets
# RUNTIME_DEB, DEV_DEB and TOOLS_DEB.
package_checks() {
    local arch=$1 libdir version debian_runtime debian_package debian_version name
    if make -C "$ROOT" deb ARCH="$arch" > "$WORK/make-deb-$arch.log" 2>&1; then
        pass "[$arch] make deb ARCH=$arch"
    else
        cat "$WORK/make-deb-$arch.log"
        fail "[$arch] make deb ARCH=$arch (see its output above)"
        return 1
    fi
    RUNTIME_DEB=$(echo "$DEBS"/libaio-rs1_*_"$arch".deb)
    DEV_DEB=$(echo "$DEBS"/libaio-rs-dev_*_"$arch".deb)
    TOOLS_DEB=$(echo "$DEBS"/libaio-rs-tools_*_"$arch".deb)
    local deb
    for deb in "$RUNTIME_DEB" "$DEV_DEB" "$TOOLS_DEB"; do
        echo "--- dpkg-deb -c ${deb#"$DEBS/"}"
        dpkg-deb -c "$deb"
        echo "--- dpkg-deb -f ${deb#"$DEBS/"}"
        dpkg-deb -f "$deb"
    done
    libdir=/usr/lib/$(gnu_triplet "$arch")
    version=$(dpkg-deb -f "$RUNTIME_DEB" Version)

    check "[$arch] libaio-rs1 has the library in $libdir, its links libaio.so.1 and libaio.so.1t64, its doc, and nothing else" \
        same "libaio-rs1's files" "$(printf '%s\n' ".$libdir/libaio.so.1 -> libaio.so.1.0.2" ".$libdir/libaio.so.1.0.2" \
            ".$libdir/libaio.so.1t64 -> libaio.so.1.0.2" ./usr/share/doc/libaio-rs1/changelog.Debian.gz \
            ./usr/share/doc/libaio-rs1/copyright)" "$(contents "$RUNTIME_DEB")"
    for entry in ./usr/include/libaio.h ".$libdir/libaio.a" ".$libdir/libaio.so -> libaio.so.1" \
                 ".$libdir/pkgconfig/libaio.pc" "./usr/lib/debug$libdir/libaio.so.1.0.2.debug" \
                 ./usr/share/doc/libaio-rs-dev/copyright; do
        check "[$arch] libaio-rs-dev has $entry" grep -qxF -- "$entry" <(contents "$DEV_DEB")
    done
    check "[$arch] libaio-rs-dev has no aiostat" lacks aiostat <(contents "$DEV_DEB")
    check "[$arch] libaio-rs-tools has aiostat, its page, its doc, and nothing else" \
        same "libaio-rs-tools' files" "$(printf '%s\n' ./usr/bin/aiostat ./usr/share/doc/libaio-rs-tools/changelog.Debian.gz \
            ./usr/share/doc/libaio-rs-tools/copyright ./usr/share/man/man1/aiostat.1.gz)" "$(contents "$TOOLS_DEB")"
    check "[$arch] Architecture and Multi-Arch: libaio-rs1 and libaio-rs-dev co-install with other architectures' (same), libaio-rs-tools stands for all (foreign)" \
        same "Architecture, Multi-Arch" "$(printf 'Architecture: %s\nMulti-Arch: %s\n' "$arch" same "$arch" same "$arch" foreign)" \
        "$(for deb in "$RUNTIME_DEB" "$DEV_DEB" "$TOOLS_DEB"; do fields "$deb" Architecture Multi-Arch; done)"
    check "[$arch] libaio-rs-tools is Section admin" same Section admin "$(fields "$TOOLS_DEB" Section)"
    dpkg-deb --fsys-tarfile "$RUNTIME_DEB" | tar -xO ".$libdir/libaio.so.1.0.2" > "$WORK/packaged-$arch.so"
    local built="$ROOT/$(cargo_release_dir "$arch")/libaio.so"
    check "[$arch] the packaged libaio.so.1.0.2 is this build's (same build-id as $built)" \
        same "build-id" "$(build_id "$built")" "$(build_id "$WORK/packaged-$arch.so")"
    check "[$arch] libaio-rs1 provides libaio1 and libaio1t64 at its version" \
        same Provides "libaio1 (= $version), libaio1t64 (= $version)" "$(fields "$RUNTIME_DEB" Provides)"
    check "[$arch] libaio-rs1 has ldconfig run as dh_makeshlibs would (triggers: activate-noawait ldconfig)" \
        grep -qx 'activate-noawait ldconfig' <(dpkg-deb --ctrl-tarfile "$RUNTIME_DEB" | tar -xO ./triggers)

    # Against Debian's libaio of the architecture, and its libc6.
    debian_runtime=$(debian_libaio "$arch") || { fail "[$arch] Debian's libaio packages of $arch (archive.sh)"; return 1; }
    name=$(debian_runtime_package "$arch")
    debian_package=$(ls "$ARCHIVE_CACHE/debs/$arch/${name}"_*_"$arch".deb | tail -n 1)
    debian_version=$(dpkg-deb -f "$debian_package" Version)
    check "[$arch] the packaged library is of the kind of Debian's $name: $(elf_kind "$(debian_libaio_so "$arch")")" \
        same "class, byte order, machine" "$(elf_kind "$(debian_libaio_so "$arch")")" "$(elf_kind "$WORK/packaged-$arch.so")"
    check "[$arch] libaio-rs1 provides $name, Debian's libaio of $arch" \
        grep -q "\(^\|, \)$name (= " <(fields "$RUNTIME_DEB" Provides)
    check "[$arch] version $version sorts after Debian's $name $debian_version and before 0.3.114" \
        sorts_between "$version" "$debian_version" 0.3.114
    check "[$arch] libaio-rs1 depends on libc6 alone, at a version from Debian's symbols, no cross package" \
        grep -Eqx 'libc6 \(>= [0-9.]+\)' <(fields "$RUNTIME_DEB" Depends)
    check "[$arch] libaio-rs-tools depends on libc6 and libgcc-s1, from Debian's symbols, no cross package" \
        grep -Eqx 'libc6 \(>= [0-9.]+\), libgcc-s1 \(>= [0-9.]+\)' <(fields "$TOOLS_DEB" Depends)
    local libc6_version
    libc6_version=$(archive_apt "$arch" "$(debian_release "$arch")" apt-cache show libc6 | sed -n 's/^Version: //p' | head -n 1)
    check "[$arch] Debian $(debian_release "$arch")'s libc6 of $arch ($libc6_version) satisfies libaio-rs1's and libaio-rs-tools' Depends" \
        libc6_satisfies "$libc6_version" "$RUNTIME_DEB" "$TOOLS_DEB"
    local files
    files=$(dpkg-deb -c "$debian_package" | awk '$1 !~ /^d/ { print $6 }' | grep "^\.$libdir/")
    check "[$arch] Debian's $name installs its files in $libdir too" [ -n "$files" ]
    for file in $files; do
        check "[$arch] libaio-rs1's preinst diverts $file of Debian's $name" \
            grep -Eq "(^| )${file##*/}( |;|\$)" <(dpkg-deb --ctrl-tarfile "$RUNTIME_DEB" | tar -xO ./preinst)
    done
}
# sorts_between VERSION LOW HIGH: LOW < VERSION < HIGH, as dpkg sorts them.
sorts_between() { dpkg --compare-versions "$1" gt "$2" && dpkg --compare-versions "$1" lt "$3"; }
# libc6_satisfies VERSION DEB...: every "libc6 (>= V)" of the DEBs' Depends
# is met by libc6 VERSION.
libc6_satisfies() {
    local version=$1 needed
    shift
    for needed in $(for deb in "$@"; do fields "$deb" Depends; done | sed -n 's/.*libc6 (>= \([^)]*\)).*/\1/p'); do
        dpkg --compare-versions "$version" ge "$needed" || return 1
    done
}

# in_throwaway_root LABEL SECONDS LOWER ARCH INPUTS STEP...: throwaway-root.sh
# runs the STEPs in a throwaway copy of LOWER, of architecture ARCH, with
# INPUTS, and must get to its end within SECONDS; their checks are relayed as
# "LABEL: ...". A copy of this machine's root (LOWER /) is made as the
# machine's root, in private mount and PID namespaces; a Debian root's in
# a user namespace of its own too (namespace.sh).
in_throwaway_root() {
    local label=$1 seconds=$2 lower=$3 arch=$4 inputs=$5
    shift 5
    local out="$WORK/$label.out" mountpoint="$WORK/$label.root" namespaces status=0 start=$SECONDS
    if [ "$lower" = / ]; then
        namespaces=(unshare --mount --propagation private --pid --kill-child --)
    else
        namespaces=(bash "$ROOT/capi-tests/deb/namespace.sh")
    fi
    mkdir "$mountpoint"
    # Not --foreground: at the time limit, timeout stops the namespaces' parent too.
    timeout "$seconds" "${namespaces[@]}" bash "$ROOT/capi-tests/deb/throwaway-root.sh" \
        "$mountpoint" "$lower" "$arch" "$inputs" "$@" > "$out" 2>&1 || status=$?
    relay_checks "$label" "$out"
    if grep -q '^not ok ' "$out"; then
        echo "$label: each check above is a line of capi-tests/deb/in-*.sh; what it tests is built by" \
             "debian/make-debs.sh from debian/control and debian/libaio-rs1.{preinst,postrm,triggers}"
    fi
    case $status in
        0) pass "$label: ran to its end, in $((SECONDS - start)) s" ;;
        124) fail "$label: ran to its end: timed out after $seconds s (apt's archive slow or unreachable?)" ;;
        130) fail "$label: ran to its end: interrupted"; finish ;;
        *) fail "$label: ran to its end: stopped with status $status at the first failure above" ;;
    esac
}
