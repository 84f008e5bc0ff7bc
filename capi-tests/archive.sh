# The Debian archive this machine is configured with, reused by the tests
# for what they fetch (upstream's source, other architectures' and releases'
# packages), so that no archive host is written in the project. Sourced.
#
# archive_stanza TYPES SUITE: a deb822 stanza "Types: TYPES" for SUITE on the
# archive of this machine's first enabled "deb" entry for its own release
# (its URIs, components and Signed-By). Fails, saying so, if there is none.
archive_stanza() {
    local types=$1 suite=$2 release configured
    release=$(. /etc/os-release && echo "$VERSION_CODENAME")
    # deb822 files: the first enabled "Types: deb" stanza that lists this release.
    configured=$(find /etc/apt/sources.list.d -name '*.sources' ! -name 'libaio-rs-*' -print0 | sort -z |
        xargs -0r awk -v release="$release" '
            function flush() {
                if (!done && types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " release " ")) {
                    printf "URIs: %s\nComponents: %s\n", uris, components
                    if (signed != "") printf "Signed-By: %s\n", signed
                    done = 1
                }
                types = uris = suites = components = signed = enabled = ""
            }
            FNR == 1 { flush() }
            /^[[:space:]]*#/ { next }
            /^[[:space:]]*$/ { flush(); next }
            { key = tolower($1); $1 = ""; sub(/^ +/, "") }
            key == "types:" { types = $0 } key == "uris:" { uris = $0 } key == "suites:" { suites = $0 }
            key == "components:" { components = $0 } key == "signed-by:" { signed = $0 } key == "enabled:" { enabled = $0 }
            END { flush() }')
    # The one-line format, in /etc/apt/sources.list: "deb [options] URI SUITE COMPONENTS...".
    if [ -z "$configured" ] && [ -f /etc/apt/sources.list ]; then
        configured=$(awk -v release="$release" '
            $1 == "deb" && !done {
                options = ""; i = 2
                if ($2 ~ /^\[/) { while ($i !~ /\]$/) options = options " " $(i++); options = options " " $(i++) }
                if ($(i + 1) != release) next
                printf "URIs: %s\nComponents:", $i
                for (j = i + 2; j <= NF; j++) printf " %s", $j
                printf "\n"
                if (match(options, /signed-by=[^] ]*/)) printf "Signed-By: %s\n", substr(options, RSTART + 10, RLENGTH - 10)
                done = 1
            }' /etc/apt/sources.list)
    fi
    if [ -z "$configured" ]; then
        echo "archive.sh: found no 'deb' entry for $release in /etc/apt/sources.list{,.d/}: configure the archive, then run again" >&2
        return 1
    fi
    printf 'Types: %s\nSuites: %s\n%s\n' "$types" "$suite" "$configured"
}

# archive_uri: the URI of that entry (for debootstrap, which takes one).
archive_uri() {
    archive_stanza deb "$(. /etc/os-release && echo "$VERSION_CODENAME")" | sed -n 's/^URIs: *\([^ ]*\).*/\1/p'
}

# The cache of what the tests fetch: downloads kept between runs.
ARCHIVE_CACHE=${LIBAIO_RS_CACHE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target/cache}

# archive_apt ARCH SUITE TOOL ARGS...: TOOL (apt-get or apt-cache) with a
# private state of its own for ARCH's packages of SUITE, which leaves this
# machine's apt and dpkg alone. Its package lists are fetched once a day.
archive_apt() {
    local arch=$1 suite=$2 tool=$3; shift 3
    local state="$ARCHIVE_CACHE/apt/$suite-$arch"
    local options=(-o "Dir::State=$state" -o "Dir::State::status=$state/status" -o "Dir::Cache=$state/cache"
        -o "Dir::Etc::SourceList=$state/sources.list" -o "Dir::Etc::SourceParts=$state/parts"
        -o "Dir::Etc::Preferences=$state/preferences" -o "Dir::Etc::PreferencesParts=$state/parts"
        -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch" -o "Debug::NoLocking=1"
        -o "Acquire::Languages=none" -o "APT::Sandbox::User=root" -q)
    if [ -z "$(find "$state/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null)" ]; then
        mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/parts"
        : > "$state/status"
        : > "$state/preferences"
        rm -f "$state/sources.list"
        archive_stanza deb "$suite" > "$state/parts/archive.sources" || return 1
        apt-get "${options[@]}" update >"$state/update.log" 2>&1 || { cat "$state/update.log" >&2; return 1; }
    fi
    "$tool" "${options[@]}" "$@"
}

# fetch_debs ARCH SUITE DIR PACKAGE...: downloads each PACKAGE (of ARCH, from
# SUITE) into DIR, unless a .deb of it is there already.
fetch_debs() {
    local arch=$1 suite=$2 dir=$3; shift 3
    local package wanted=()
    mkdir -p "$dir"
    for package in "$@"; do
        compgen -G "$dir/${package}_*_$arch.deb" >/dev/null ||
            compgen -G "$dir/${package}_*_all.deb" >/dev/null || wanted+=("$package")
    done
    [ ${#wanted[@]} -eq 0 ] || (cd "$dir" && archive_apt "$arch" "$suite" apt-get download "${wanted[@]}")
}

# debian_release ARCH: the Debian release whose packages the tests take for
# ARCH: this machine's, but riscv64, which Debian releases from 13 on.
debian_release() {
    local release
    release=$(. /etc/os-release && echo "$VERSION_CODENAME")
    if [ "$1" = riscv64 ] && [ "$release" = bookworm ]; then echo trixie; else echo "$release"; fi
}

# debian_libaio ARCH: a directory with Debian's libaio packages for ARCH
# unpacked (the runtime package, libaio1 or Debian 13's libaio1t64, and
# libaio-dev): the library of that architecture our tests compare with.
debian_libaio() {
    local arch=$1 release dir runtime deb
    release=$(debian_release "$arch")
    dir="$ARCHIVE_CACHE/debian-libaio/$arch"
    if [ ! -f "$dir/usr/include/libaio.h" ]; then
        runtime=$(archive_apt "$arch" "$release" apt-cache show libaio-dev | sed -n 's/^Depends:.*\(libaio1[a-z0-9]*\) .*/\1/p' | head -n 1)
        fetch_debs "$arch" "$release" "$ARCHIVE_CACHE/debs/$arch" "${runtime:-libaio1}" libaio-dev >&2 || return 1
        mkdir -p "$dir"
        for deb in "$ARCHIVE_CACHE/debs/$arch"/{"${runtime:-libaio1}",libaio-dev}_*.deb; do
            dpkg-deb -x "$deb" "$dir"
        done
    fi
    echo "$dir"
}

# debian_libaio_so ARCH: that package's library file.
debian_libaio_so() {
    local dir
    dir=$(debian_libaio "$1") || return 1
    find "$dir/usr/lib" -name 'libaio.so.1*' -type f | head -n 1
}
