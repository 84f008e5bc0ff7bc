#!/usr/bin/env bash
# Turns cargo's output into what `make install` ships, in target/dist:
# - libaio.so.1.0.2, stripped, with a .gnu_debuglink to libaio.so.1.0.2.debug
#   (its debug info, kept apart as distributions do);
# - libaio.a, one object whose only global symbols are the libaio API (the
#   names libaio.so exports), so that it links beside any other Rust static
#   library: the core library's code and the compiler builtins it uses are
#   local to it;
# - aiostat, stripped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
release="$root/target/release"
dist="$root/target/dist"
so=libaio.so.1.0.2
mkdir -p "$dist"

objcopy --only-keep-debug "$release/libaio.so" "$dist/$so.debug"
# --add-gnu-debuglink names the file the link records: run it where both are.
(cd "$dist" && objcopy --strip-all --add-gnu-debuglink="$so.debug" "$release/libaio.so" "$so")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The crate's own object (cargo names it after the crate, "aio"), linked with
# the members of the archive it needs, and nothing else of the archive.
member=$(ar t "$release/libaio.a" | grep '^aio\.aio\.')
[ "$(wc -l <<<"$member")" -eq 1 ] || { echo "dist.sh: expected one aio.aio.* object in libaio.a, found: $member" >&2; exit 1; }
(cd "$work" && ar x "$release/libaio.a" "$member")
ld -r -o "$work/libaio.o" "$work/$member" "$release/libaio.a"
nm -D --defined-only --with-symbol-versions "$release/libaio.so" | awk '$2 != "A" { print $3 }' > "$work/api"
objcopy --strip-debug --keep-global-symbols="$work/api" "$work/libaio.o"
rm -f "$dist/libaio.a"
ar rcsD "$dist/libaio.a" "$work/libaio.o"

objcopy --strip-all "$release/aiostat" "$dist/aiostat"
