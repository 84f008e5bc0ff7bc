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
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
"$cbindgen" --quiet --config "$root/cbindgen.toml" --crate libaio-rs --output "$raw" "$root"
# cbindgen ends a field it puts under #if with a ";" after the #endif (its
# issue 1058), an empty declaration in the struct where the field is left
# out, which -Wpedantic rejects: the ";" goes back to the field, inside.
awk '
    { line[NR] = $0 }
    END {
        for (i = 1; i <= NR; i++) {
            if (i + 2 <= NR && line[i + 1] ~ /^#endif/ && line[i + 2] ~ /^ *;$/) {
                print line[i] ";"; print line[i + 1]; i += 2
            } else {
                print line[i]
            }
        }
    }' "$raw" > "$1"
