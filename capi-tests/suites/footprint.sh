#!/usr/bin/env bash
# What we ship, for every architecture, against budgets near upstream's and
# against Debian's libaio of that architecture, measured in the same run: a
# stripped libaio.so whose loaded bytes are at most 32 KiB and that needs only
# libc, the same dynamic symbols before and after stripping, a libaio.a whose
# only global symbols are the API, a small program linked with it; here also
# that program runs, and a libaio.a that links beside another Rust static
# library.
#
# The budgets are on the bytes the loader maps from the file (the sum of the
# PT_LOAD segments' sizes in the file): the code and data. The file itself
# also holds the zeros with which GNU ld aligns its segments: a few KiB with
# x86_64's separate code pages; on arm64 and ppc64el, whose kernels may use
# 64 KiB pages, up to 64 KiB to align the RELRO segment's end (Debian's own
# libaio is 67,360 bytes there, 5,676 of them mapped). Both are printed.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"
source "$ROOT/cdylib/arches.sh"
source "$ROOT/capi-tests/archive.sh"

# loaded_bytes ARCH FILE: the sum of FILE's PT_LOAD segments' sizes in the file.
loaded_bytes() {
    local total=0 size
    for size in $("$(tool "$1" readelf)" -lW "$2" | awk '$1 == "LOAD" { print $5 }'); do
        total=$((total + size))
    done
    echo "$total"
}

# within_budget LABEL ARCH OURS_FILE UPSTREAM_FILE BUDGET_BYTES (both stripped)
within_budget() {
    local ours upstream
    ours=$(loaded_bytes "$2" "$3")
    upstream=$(loaded_bytes "$2" "$4")
    echo "footprint: $1: ours $ours bytes loaded ($(stat -c %s "$3") in the file)," \
         "upstream $upstream bytes loaded ($(stat -c %s "$4") in the file), budget $5"
    check "$1: $ours bytes loaded <= $5 (if not, see what grew: nm -S --size-sort $(cargo_release_dir "$2")/libaio.so)" \
        [ "$ours" -le "$5" ]
}

# dynamic_symbols ARCH SO: NAME@[@]VERSION of each defined dynamic symbol,
# without the ABS symbols GNU ld adds for each version name.
dynamic_symbols() {
    "$(tool "$1" nm)" -D --defined-only --with-symbol-versions "$2" | awk '$2 != "A" { print $3 }' | sort
}

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

# footprint ARCH UPSTREAM_SO UPSTREAM_ARCHIVE: the checks for ARCH's build.
footprint() {
    local arch=$1 upstream_so=$2 upstream_archive=$3 label="[$1]"
    local dist="$ROOT/target/dist/$arch" built cc
    built="$ROOT/$(cargo_release_dir "$arch")/libaio.so"
    if [ ! -f "$dist/libaio.so.1.0.2" ] || [ ! -f "$dist/libaio.a" ]; then
        fail "$label target/dist/$arch holds the shipped library (run 'make build ARCH=$arch')"
        return
    fi
    "$(tool "$arch" strip)" -o "$WORK/upstream-$arch.so" "$upstream_so"
    within_budget "$label stripped libaio.so" "$arch" "$dist/libaio.so.1.0.2" "$WORK/upstream-$arch.so" 32768

    local needed
    needed=$(readelf -d "$dist/libaio.so.1.0.2" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    check "$label NEEDED is libc.so.6 only (is: $needed; a new one means std or libgcc_s crept back in)" \
        [ "$needed" = "libc.so.6 " ]

    local api
    api=$(dynamic_symbols "$arch" "$built")
    check "$label stripping keeps the dynamic symbols ($(wc -l <<<"$api"), checked against upstream's in symbols.sh)" \
        [ "$(dynamic_symbols "$arch" "$dist/libaio.so.1.0.2")" = "$api" ]

    local archive_globals
    archive_globals=$("$(tool "$arch" nm)" -g --defined-only "$dist/libaio.a" | awk 'NF == 3 { print $3 }' | sort)
    if [ "$archive_globals" = "$api" ]; then
        pass "$label libaio.a's global symbols are exactly the API that libaio.so exports"
    else
        diff <(echo "$api") <(echo "$archive_globals") | sed 's/^/  (- API, + libaio.a) /'
        fail "$label libaio.a's global symbols are exactly the API (see cdylib/build.sh, which localises the rest)"
    fi

    cc=$(tool "$arch" gcc)
    if build "queue-ours-$arch" "$cc" -I"$OUR_INCLUDE" "$WORK/queue.c" "$dist/libaio.a" &&
       build "queue-upstream-$arch" "$cc" "$WORK/queue.c" "$upstream_archive"; then
        "$(tool "$arch" strip)" "$WORK/queue-ours-$arch" "$WORK/queue-upstream-$arch"
        within_budget "$label a stripped program calling io_queue_init/io_queue_release, libaio.a linked in" \
            "$arch" "$WORK/queue-ours-$arch" "$WORK/queue-upstream-$arch" 65536
        # Elsewhere it runs in the emulated machines (capi-tests/guest).
        [ "$arch" != "$(native_arch)" ] || check "$label that program runs" "$WORK/queue-ours-$arch"
    fi
}

for arch in "${ARCHES[@]}"; do
    if [ "$arch" = "$(native_arch)" ]; then
        footprint "$arch" "$(readlink -f "$SYSTEM_SO")" "/usr/lib/$(gnu_triplet "$arch")/libaio.a"
    elif debian=$(debian_libaio "$arch"); then
        footprint "$arch" "$(debian_libaio_so "$arch")" "$debian/usr/lib/$(gnu_triplet "$arch")/libaio.a"
    else
        fail "[$arch] Debian's libaio for $arch is fetched"
    fi
done
DIST="$ROOT/target/dist/$(native_arch)"

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
