#!/usr/bin/env bash
# Installs everything the tests and benchmarks need on a fresh Debian 12 machine
# (run as root). Safe to run again: it skips what is already there.
set -eu
if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: installing the test dependencies needs root (apt-get); run make as root" >&2
    exit 1
fi
packages=(libaio-dev libaio1 fio strace ltrace valgrind gcc g++ gcc-multilib pkg-config
          libgoogle-glog-dev libgflags-dev dpkg-dev e2fsprogs util-linux jq man-db groff-base)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done

# Upstream's harness comes from the Debian source package: a deb-src entry for
# the archive this machine already uses (its first deb entry for this
# release), so that no archive host is written here.
src_list=/etc/apt/sources.list.d/libaio-rs-deb-src.sources
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
# deb822 files: the first enabled "Types: deb" stanza that lists this release.
configured=$(find /etc/apt/sources.list.d -name '*.sources' ! -path "$src_list" -print0 | sort -z |
    xargs -0r awk -v suite="$codename" '
        function flush() {
            if (!done && types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " suite " ")) {
                printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", uris, suite, components
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
    configured=$(awk -v suite="$codename" '
        $1 == "deb" && !done {
            options = ""; i = 2
            if ($2 ~ /^\[/) { while ($i !~ /\]$/) options = options " " $(i++); options = options " " $(i++) }
            if ($(i + 1) != suite) next
            printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents:", $i, suite
            for (j = i + 2; j <= NF; j++) printf " %s", $j
            printf "\n"
            if (match(options, /signed-by=[^] ]*/)) printf "Signed-By: %s\n", substr(options, RSTART + 10, RLENGTH - 10)
            done = 1
        }' /etc/apt/sources.list)
fi
if [ -z "$configured" ]; then
    echo "deps.sh: found no 'deb' entry for $codename in /etc/apt/sources.list{,.d/}: configure the archive, then run again" >&2
    exit 1
fi
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
