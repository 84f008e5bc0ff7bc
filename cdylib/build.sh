#!/usr/bin/env bash
# Usage: build.sh [ARCH] (Debian's name; default: this machine's). `make build`.
#
# Builds the C library for ARCH with cargo and the toolchain Debian provides
# for ARCH (gcc and GNU ld; a cross toolchain elsewhere than this machine):
# - libaio.so, linked by gcc from cargo's static library with upstream's
#   SONAME and version nodes (libaio.map), next to cargo's output (where the
#   tests load it). rustc does not link it: for a cdylib it passes a version
#   script of its own, which GNU ld refuses to combine with ours;
# - in target/dist/ARCH, what `make install` ships: libaio.so.1.0.2,
#   stripped, with a .gnu_debuglink to libaio.so.1.0.2.debug (its debug info,
#   kept apart as distributions do), and libaio.a, one object whose only
#   global symbols are the libaio API, so that it links beside any other Rust
#   static library: the core's code and the compiler builtins it uses are
#   local to it; and aiostat, stripped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source cdylib/arches.sh
arch=${1:-$(native_arch)}
target=$(rust_target "$arch")
cc=$(tool "$arch" gcc)
if ! command -v "$cc" >/dev/null; then
    echo "build.sh: no $cc for $arch: run 'make deps' (capi-tests/deps.sh installs the cross toolchains)" >&2
    exit 1
fi

if [ "$arch" = "$(native_arch)" ]; then
    cargo build --release
else
    # Programs of the workspace (aiostat) are linked by ARCH's gcc too.
    linker_variable=CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$target")_LINKER
    env "$linker_variable=$cc" cargo build --release --target "$target"
fi
release=$(cargo_release_dir "$arch")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The crate's own object (cargo names it after the crate, "aio"); the
# archive's other members (compiler builtins) are linked as it needs them.
member=$(ar t "$release/libaio.a" | grep '^aio[-.].*\.aio\.')
[ "$(wc -l <<<"$member")" -eq 1 ] || { echo "build.sh: expected one aio object in libaio.a, found: $member" >&2; exit 1; }
(cd "$work" && ar x "$root/$release/libaio.a" "$member")
# Debian's hardening for libraries (relro, now); --as-needed keeps libgcc_s
# out of NEEDED; no C start files (cdylib/src/lib.rs stands in for them).
"$cc" -shared -nostartfiles -o "$release/libaio.so" "$work/$member" "$release/libaio.a" \
    -Wl,-soname,libaio.so.1 -Wl,--version-script=libaio.map -Wl,--gc-sections \
    -Wl,-z,relro -Wl,-z,now -Wl,--as-needed

dist="target/dist/$arch"
so=libaio.so.1.0.2
mkdir -p "$dist"
"$(tool "$arch" objcopy)" --only-keep-debug "$release/libaio.so" "$dist/$so.debug"
# --add-gnu-debuglink names the file the link records: run it where both are.
(cd "$dist" && "$(tool "$arch" objcopy)" --strip-all --add-gnu-debuglink="$so.debug" "$root/$release/libaio.so" "$so")

"$(tool "$arch" ld)" -r -o "$work/libaio.o" "$work/$member" "$release/libaio.a"
"$(tool "$arch" nm)" -D --defined-only --with-symbol-versions "$release/libaio.so" | awk '$2 != "A" { print $3 }' > "$work/api"
"$(tool "$arch" objcopy)" --strip-debug --keep-global-symbols="$work/api" "$work/libaio.o"
rm -f "$dist/libaio.a"
"$(tool "$arch" ar)" rcsD "$dist/libaio.a" "$work/libaio.o"
"$(tool "$arch" objcopy)" --strip-all "$release/aiostat" "$dist/aiostat"
