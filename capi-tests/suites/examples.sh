#!/usr/bin/env bash
# Existing AIO programs (../shared/examples beside the checkout, or
# $EXAMPLES_DIR), compiled unchanged against our header and library, print
# what they print with the system libaio, and really use our library.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"
EXAMPLES_DIR=${EXAMPLES_DIR:-$ROOT/../shared/examples}
if [ ! -f "$EXAMPLES_DIR/aio_adder.cc" ]; then
    fail "the examples are in $EXAMPLES_DIR (clone the project next to its shared/ folder, or set EXAMPLES_DIR)"
    finish
fi

# Paths are relative to $WORK, which stays reachable as the working
# directory when raw_syscall_write's private /tmp hides it (see below).
cd "$WORK"

# run_example LABEL LIBDIR EXPECTED PROGRAM COMMAND...: runs COMMAND, which
# runs the example PROGRAM, with LIBDIR on the library path; checks that its
# stdout is EXPECTED and that PROGRAM's io_* calls went to LIBDIR/libaio.so.1.
run_example() {
    local label=$1 libdir=$2 expected=$3 program=$4; shift 4
    local trace=example.bindings output
    output=$(traced "$trace" env LD_LIBRARY_PATH="$libdir" "$@" 2>example.stderr)
    if [ "$output" = "$expected" ]; then
        pass "$label: prints '$expected'"
    else
        tail -5 example.stderr
        fail "$label: prints '$output', not '$expected'"
    fi
    check_bound_to "$label" "$trace" "$program" "$libdir/libaio.so.1"
}

# aio_adder writes N blocks with O_DIRECT (so $WORK's filesystem must take
# O_DIRECT: ext4, xfs, tmpfs since Linux 6.6), reaping with io_getevents as
# it goes, then reads them back and adds them up. glog writes to stderr.
blocks=400
check_uses_our_header g++ "$EXAMPLES_DIR/aio_adder.cc"
if build aio_adder g++ "$EXAMPLES_DIR/aio_adder.cc" -I"$OUR_INCLUDE" $OUR_LINK -Wl,--enable-new-dtags -lglog -lgflags; then
    for lib in ours system; do
        libdir=$OUR_LIBDIR; [ $lib = system ] && libdir=$SYSTEM_LIBDIR
        rm -f adder.data
        run_example "aio_adder[$lib]" "$libdir" \
            "Successfully calculated that the sum of integers from 0 to $((blocks - 1)) is $((blocks * (blocks - 1) / 2))" \
            ./aio_adder ./aio_adder --path=adder.data --file_size=$blocks
    done
fi

# raw_syscall_write defines its own non-static inline io_* wrappers, which
# gcc does not emit at -O0, so the calls bind to the library's functions.
# It always writes /tmp/test: each run gets a private /tmp (a mount
# namespace, which needs no root with user namespaces, with $WORK/tmp bound
# over /tmp). That hides whatever lives under /tmp, the checkout and $WORK
# included, so the binary is reached through the working directory and the
# library is a copy in the private /tmp (/tmp/ours or /tmp/system).
if build raw_syscall_write gcc -O0 "$EXAMPLES_DIR/raw_syscall_write.c" $OUR_LINK -Wl,--enable-new-dtags; then
    for lib in ours system; do
        libdir=$OUR_LIBDIR; [ $lib = system ] && libdir=$(dirname "$SYSTEM_SO")
        rm -rf tmp
        mkdir -p "tmp/$lib"
        cp -L "$libdir/libaio.so.1" "tmp/$lib/"
        run_example "raw_syscall_write[$lib]" "/tmp/$lib" "events: 1" ./raw_syscall_write \
            unshare --map-root-user --mount sh -c 'mount --bind tmp /tmp && exec ./raw_syscall_write'
        check "raw_syscall_write[$lib] wrote 4096 'A's to its private /tmp/test" \
            cmp -s tmp/test <(head -c 4096 /dev/zero | tr '\0' A)
    done
fi
finish
