#!/usr/bin/env bash
# Usage: generate.sh OUTPUT
# Writes the header that the pinned cbindgen generates from the crate with
# cbindgen.toml. `make header` writes include/libaio.h; the header suite
# writes a scratch copy and compares.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
pinned="cbindgen 0.29.4"
cbindgen=$(command -v cbindgen || echo "$HOME/.cargo/bin/cbindgen")
if [ "$("$cbindgen" --version 2>/dev/null)" != "$pinned" ]; then
    echo "generate.sh: needs $pinned (make deps installs it)" >&2
    exit 1
fi
"$cbindgen" --quiet --config "$root/cbindgen.toml" --crate libaio-rs --output "$1" "$root"
