# Shared set-up for the capi-tests suites; sourced, not run.
# Each suite is a script capi-tests/suites/NAME.sh that calls `pass`/`fail`
# for each check and exits non-zero if any failed.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/capi-tests.XXXXXX")
# The checkout may live at a path with spaces, which link flags, make,
# LD_PRELOAD and LD_LIBRARY_PATH all split: the suites reach the library and
# the header through links in $WORK instead.
OUR_LIBDIR="$WORK/lib"
OUR_INCLUDE="$WORK/include"
OUR_SO="$OUR_LIBDIR/libaio.so"
mkdir "$OUR_LIBDIR"
ln -s "$ROOT/target/release/libaio.so" "$OUR_SO"
ln -s libaio.so "$OUR_LIBDIR/libaio.so.1"
ln -s "$ROOT/include" "$OUR_INCLUDE"
SYSTEM_SO=/lib/x86_64-linux-gnu/libaio.so.1
# Link flags for a program built against our header and library.
OUR_LINK="-L$OUR_LIBDIR -Wl,-rpath,$OUR_LIBDIR -laio"
FAILED=0

# at_exit COMMAND: runs COMMAND (a shell string) at exit, last added first,
# before $WORK is removed.
EXIT_COMMANDS=()
at_exit() { EXIT_COMMANDS=("$1" "${EXIT_COMMANDS[@]}"); }
run_exit_commands() {
    local command
    for command in "${EXIT_COMMANDS[@]}"; do eval "$command"; done
    rm -rf "$WORK"
}
trap run_exit_commands EXIT

# attach_loop_device SIZE: sets LOOP_DEVICE to a new loop device doing direct
# I/O over a tmpfs file of SIZE (its O_DIRECT requests complete later, in a
# kernel worker), detached at exit. Returns non-zero, with LOOP_DEVICE empty
# and the reason on stderr, where losetup cannot make one (no root, no loop).
attach_loop_device() {
    local backing
    backing=$(mktemp /dev/shm/capi-tests-loop.XXXXXX) && truncate -s "$1" "$backing" || return 1
    at_exit "rm -f '$backing'"
    LOOP_DEVICE=$(losetup --find --show --direct-io=on "$backing") || { LOOP_DEVICE=; return 1; }
    at_exit "losetup -d '$LOOP_DEVICE'"
    [ "$(cat "/sys/block/${LOOP_DEVICE#/dev/}/loop/dio")" = 1 ] || { echo "$LOOP_DEVICE: no direct I/O" >&2; return 1; }
}

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
# check NAME COMMAND...: runs COMMAND, passes if it exits 0.
check() {
    local name=$1; shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
finish() { exit $((FAILED > 0)); }
