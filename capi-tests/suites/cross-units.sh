#!/usr/bin/env bash
# What runs of each other architecture's build under qemu-user, which runs
# programs but answers ENOSYS to every AIO syscall: the Rust unit tests and
# the ring fuzzer (tests/ring_fuzz.rs), which make no AIO syscall (the ring
# reader, the report's counters and the text on a big-endian machine and the
# weakly ordered ones), and the library's own syscalls (cross/syscalls.c).
# What needs the kernel's AIO runs in the emulated machines (capi-tests/guest).
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"
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

    libdir="$WORK/lib-$arch"
    mkdir -p "$libdir"
    ln -s "$ROOT/$(cargo_release_dir "$arch")/libaio.so" "$libdir/libaio.so.1"
    build "syscalls-$arch" "$(tool "$arch" gcc)" -Wall -Werror -I"$OUR_INCLUDE" "$ROOT/capi-tests/cross/syscalls.c" \
        "$libdir/libaio.so.1" || continue
    # qemu-user runs the program with ARCH's loader and libc, and ours.
    "$(qemu_user "$arch")" -L "/usr/$(gnu_triplet "$arch")" -E LD_LIBRARY_PATH="$libdir" -E LIBAIO_RS_STATS=1 \
        "$WORK/syscalls-$arch" > "$WORK/syscalls-$arch.out" 2> "$WORK/syscalls-$arch.err" &
    pid=$!
    wait "$pid"
    check "[$arch] syscalls: the program exits 0" [ $? -eq 0 ]
    relay_checks "[$arch] syscalls" "$WORK/syscalls-$arch.out"
    check "[$arch] syscalls: the report at exit, written with write, names the pid getpid gave ($pid)" \
        grep -q "^libaio-rs: process of pid $pid:" "$WORK/syscalls-$arch.err"
done
finish
