#!/usr/bin/env bash
# What we ship, against budgets near upstream's: a stripped libaio.so of at
# most 32 KiB that needs only libc, the same dynamic symbols before and after
# stripping, a libaio.a whose only global symbols are the API, a small static
# program, and a libaio.a that links beside another Rust static library.
# Each size is printed next to the system libaio's.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"
DIST="$ROOT/target/dist"
SYSTEM_ARCHIVE=/usr/lib/x86_64-linux-gnu/libaio.a
if [ ! -f "$DIST/libaio.so.1.0.2" ] || [ ! -f "$DIST/libaio.a" ]; then
    fail "target/dist holds the shipped library (run 'make build', which runs cdylib/dist.sh)"
    finish
fi

# within_budget LABEL OURS_FILE SYSTEM_FILE BUDGET_BYTES
within_budget() {
    local ours system
    ours=$(stat -c %s "$2")
    system=$(stat -c %s "$3")
    echo "footprint: $1: ours $ours bytes, system libaio $system bytes, budget $4"
    check "$1: $ours bytes <= $4 (if not, see what grew: nm -S --size-sort target/release/libaio.so)" [ "$ours" -le "$4" ]
}

system_stripped="$WORK/system-libaio.so"
strip -o "$system_stripped" "$(readlink -f "$SYSTEM_SO")"
within_budget "stripped libaio.so" "$DIST/libaio.so.1.0.2" "$system_stripped" 32768

needed=$(readelf -d "$DIST/libaio.so.1.0.2" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
check "NEEDED is libc.so.6 only (is: $needed; a new one means std or libgcc_s crept back in)" [ "$needed" = "libc.so.6 " ]

# dynamic_symbols SO: NAME@[@]VERSION of each defined dynamic symbol, without
# the ABS symbols GNU ld adds for each version name.
dynamic_symbols() {
    nm -D --defined-only --with-symbol-versions "$1" | awk '$2 != "A" { print $3 }' | sort
}
api=$(dynamic_symbols "$OUR_SO")
check "stripping keeps the dynamic symbols ($(wc -l <<<"$api"), checked against upstream's in symbols.sh)" \
    [ "$(dynamic_symbols "$DIST/libaio.so.1.0.2")" = "$api" ]

archive_globals=$(nm -g --defined-only "$DIST/libaio.a" | awk 'NF == 3 { print $3 }' | sort)
if [ "$archive_globals" = "$api" ]; then
    pass "libaio.a's global symbols are exactly the API that libaio.so exports"
else
    diff <(echo "$api") <(echo "$archive_globals") | sed 's/^/  (- API, + libaio.a) /'
    fail "libaio.a's global symbols are exactly the API (see cdylib/dist.sh, which localises the rest)"
fi

# A program that only creates and releases a queue, linked with each archive.
cat > "$WORK/queue.c" <<'C'
#include <libaio.h>
#include <stdio.h>
int main(void)
{
    io_context_t ctx = 0;
    int init = io_queue_init(8, &ctx), release = io_queue_release(ctx);
    printf("io_queue_init %d, io_queue_release %d\n", init, release);
    return init || release;
}
C
if build queue-ours gcc -I"$OUR_INCLUDE" "$WORK/queue.c" "$DIST/libaio.a" &&
   build queue-system gcc "$WORK/queue.c" "$SYSTEM_ARCHIVE"; then
    strip "$WORK/queue-ours" "$WORK/queue-system"
    within_budget "a stripped program calling io_queue_init/io_queue_release, libaio.a linked in" \
        "$WORK/queue-ours" "$WORK/queue-system" 65536
    check "that program runs" "$WORK/queue-ours"
fi

# Another Rust static library, with std, built here: both link into one
# program and work.
other="$WORK/other-rust"
mkdir -p "$other/src"
cat > "$other/Cargo.toml" <<'TOML'
[package]
name = "other-rust"
version = "0.1.0"
edition = "2021"
[lib]
crate-type = ["staticlib"]
[workspace]
TOML
cat > "$other/src/lib.rs" <<'RUST'
/// Sums 1..=n on another thread, through a heap-allocated string: std at work.
#[no_mangle]
pub extern "C" fn other_rust_library_sum(n: u32) -> u32 {
    let text = std::thread::spawn(move || format!("{}", (1..=n).sum::<u32>())).join().unwrap();
    text.parse().unwrap()
}
RUST
cat > "$WORK/two-rust.c" <<'C'
#include <libaio.h>
#include <stdio.h>
unsigned other_rust_library_sum(unsigned n);
int main(void)
{
    io_context_t ctx = 0;
    int init = io_queue_init(8, &ctx), release = io_queue_release(ctx);
    unsigned sum = other_rust_library_sum(10);
    printf("io_queue_init %d, io_queue_release %d, the other library's sum %u\n", init, release, sum);
    return init || release || sum != 55;
}
C
if (cd "$other" && CARGO_TARGET_DIR="$other/target" cargo build --release --offline --quiet) >"$WORK/other.log" 2>&1; then
    if build two-rust gcc -I"$OUR_INCLUDE" "$WORK/two-rust.c" "$DIST/libaio.a" "$other/target/release/libother_rust.a" -lgcc_s; then
        check "our libaio.a and another Rust static library (std) in one program" "$WORK/two-rust"
    fi
else
    cat "$WORK/other.log"
    fail "build a second Rust static library with cargo (offline, no dependencies)"
fi
finish
