#!/usr/bin/env bash
# The Rust unit tests and the ring fuzzer (tests/ring_fuzz.rs), built for each
# other architecture and run under qemu-user, which runs them as they make no
# AIO syscall: the ring reader, the report's counters and the text on a
# big-endian machine and the weakly ordered ones. What needs the kernel's AIO
# runs in the emulated machines (capi-tests/guest).
source "$(dirname "$0")/../lib.sh"
source "$ROOT/cdylib/arches.sh"

for arch in "${ARCHES[@]}"; do
    [ "$arch" != "$(native_arch)" ] || continue
    target=$(rust_target "$arch")
    variable=CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$target")
    # Each test binary runs as qemu-user RUNNER -L SYSROOT BINARY.
    if (cd "$ROOT" && env "${variable}_LINKER=$(tool "$arch" gcc)" \
            "${variable}_RUNNER=$(qemu_user "$arch") -L /usr/$(gnu_triplet "$arch")" \
            cargo test --release --target "$target" -p libaio-rs --lib --test ring_fuzz) >"$WORK/$arch.log" 2>&1; then
        pass "[$arch] the Rust unit tests and the ring fuzzer pass under qemu-user: $(grep -o '^test result: ok. [0-9]* passed' "$WORK/$arch.log" | awk '{ n += $4 } END { print n }') tests"
    else
        tail -40 "$WORK/$arch.log"
        fail "[$arch] the Rust unit tests and the ring fuzzer pass under qemu-user"
    fi
done
finish
