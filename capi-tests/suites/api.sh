#!/usr/bin/env bash
# The API the upstream harness never calls (io_cancel, the io_queue_* helpers,
# callbacks, eventfd, RWF flags, errno, the LIBAIO_0.1 compat entries): each
# program in capi-tests/api runs against our library, our library with the
# ring fast path off, and the system libaio, which must all agree.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"

TESTS=(cancel queue callbacks rwflags eventfd errno compat)
# The exported helpers exist only in our library; they are compared with our
# header's inline helpers and with the system header's (upstream's).
build_programs() {
    check_uses_our_header gcc "$API_DIR/check.h"
    local test
    for test in "${TESTS[@]}"; do
        build "$test" gcc "$API_DIR/$test.c" "${OUR_BUILD[@]}"
    done
    build helpers gcc "$API_DIR/helpers.c" "${OUR_BUILD[@]}"
    build helpers-upstream-header gcc "$API_DIR/helpers.c" -Wall -Werror $OUR_LINK -ldl
    build unload gcc "$API_DIR/unload.c" -Wall -Werror -I"$OUR_INCLUDE" -ldl
}
programs_from build_programs

for test in "${TESTS[@]}"; do
    [ -x "$WORK/$test" ] || continue
    run_c_test "$test[ours]" "$OUR_LIBDIR" "$WORK/$test"
    run_c_test "$test[ours, syscalls only]" "$OUR_LIBDIR" "$WORK/$test" LIBAIO_RS_FORCE_SYSCALL=1
    run_c_test "$test[system]" "$SYSTEM_LIBDIR" "$WORK/$test"
done

# The two runs of our library differ as intended: only the first reaps in
# user space (the eventfd test's reaps all have a zero timeout).
reaping_stats() {
    env "$@" LIBAIO_RS_STATS=1 LD_LIBRARY_PATH="$OUR_LIBDIR" TMPDIR="$WORK" "$WORK/eventfd" 2>&1 >/dev/null
}
check "eventfd[ours] reaps without syscalls" grep -q ', 0 reaping syscalls$' <(reaping_stats)
check "eventfd[ours, syscalls only] reaps only with syscalls" \
    grep -q '^libaio-rs: 0 reaping calls served from the ring' <(reaping_stats LIBAIO_RS_FORCE_SYSCALL=1)

# dlopen, io_setup, dlclose, then fork and exit: the handlers the library
# registered with glibc leave with it. (dlsym leaves no binding to trace:
# the program checks which file it loaded.)
run_unload() {
    local label=$1 libdir=$2; shift 2
    run_relayed "$label" env "$@" UNLOAD_EXPECTS="$libdir/libaio.so.1" LD_LIBRARY_PATH="$libdir" "$WORK/unload"
}
if [ -x "$WORK/unload" ]; then
    run_unload "unload[ours]" "$OUR_LIBDIR"
    run_unload "unload[ours, report on]" "$OUR_LIBDIR" LIBAIO_RS_STATS=1
    run_unload "unload[system]" "$SYSTEM_LIBDIR"
fi

[ -x "$WORK/helpers" ] && run_c_test "helpers[our header]" "$OUR_LIBDIR" "$WORK/helpers"
[ -x "$WORK/helpers-upstream-header" ] &&
    run_c_test "helpers[system header]" "$OUR_LIBDIR" "$WORK/helpers-upstream-header"
finish
