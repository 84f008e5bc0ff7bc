#!/usr/bin/env bash
# Installs everything the tests and benchmarks need on a fresh Debian 12 machine
# (run as root). Safe to run again: it skips what is already there.
set -eu
packages=(libaio-dev libaio1 fio strace ltrace valgrind gcc g++ gcc-multilib pkg-config
          libgoogle-glog-dev libgflags-dev dpkg-dev e2fsprogs util-linux jq)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
# upstream's harness comes from the Debian source package
src_list=/etc/apt/sources.list.d/libaio-rs-deb-src.sources
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
    cat > "$src_list" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
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
