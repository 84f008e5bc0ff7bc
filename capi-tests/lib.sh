# Shared set-up for the capi-tests suites; sourced, not run.
# Each suite is a script capi-tests/suites/NAME.sh that calls `pass`/`fail`
# for each check and exits non-zero if any failed.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# CAPI_WORK: the path a guest runs a suite at (see programs_from).
WORK=${CAPI_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/capi-tests.XXXXXX")}
mkdir -p "$WORK"
# The checkout may live at a path with spaces, which link flags, make,
# LD_PRELOAD and LD_LIBRARY_PATH all split: the suites reach the library and
# the header through links in $WORK instead.
OUR_LIBDIR="$WORK/lib"
OUR_INCLUDE="$WORK/include"
OUR_SO="$OUR_LIBDIR/libaio.so"
mkdir "$OUR_LIBDIR"
# Our library as built for this machine, or CAPI_OUR_SO: another
# architecture's, which capi-tests/guest cross-compiles the programs against.
ln -s "${CAPI_OUR_SO:-$ROOT/target/release/libaio.so}" "$OUR_SO"
ln -s libaio.so "$OUR_LIBDIR/libaio.so.1"
ln -s "$ROOT/include" "$OUR_INCLUDE"
# The system libaio, in the multiarch directory of the libc this shell runs
# on (the loader's path for it), by its SONAME: libaio.so.1, or libaio.so.1t64
# since Debian 13.
MULTIARCH=$(sed -n 's|.*/\([^/]*\)/libc\.so\.6$|\1|p' /proc/$$/maps | head -n 1)
SYSTEM_SO=$(ls /lib/"$MULTIARCH"/libaio.so.1{,t64} 2>/dev/null | head -n 1 || true) # ls fails for the missing one: pipefail (benches/run.sh)
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
# kernel worker), detached at exit; before Linux 6.6, whose tmpfs refuses
# O_DIRECT, over a file in /var/tmp. Returns non-zero, with LOOP_DEVICE empty
# and the reason on stderr, where losetup cannot make one (no root, no loop).
attach_loop_device() {
    local backing dir
    for dir in /dev/shm /var/tmp; do
        backing=$(mktemp "$dir/capi-tests-loop.XXXXXX") || return 1
        at_exit "rm -f '$backing'"
        dd if=/dev/zero of="$backing" bs=4k count=1 oflag=direct status=none 2>/dev/null && break
    done
    truncate -s "$1" "$backing" || return 1
    LOOP_DEVICE=$(losetup --find --show --direct-io=on "$backing") || { LOOP_DEVICE=; return 1; }
    at_exit "losetup -d '$LOOP_DEVICE'"
    [ "$(cat "/sys/block/${LOOP_DEVICE#/dev/}/loop/dio")" = 1 ] || { echo "$LOOP_DEVICE: no direct I/O" >&2; return 1; }
}

# programs_from BUILD [PATH...]: runs the function BUILD, which compiles the
# suite's programs into $WORK (`build` names each; PATHs, relative to $WORK,
# are more of its output). For another architecture's guest
# (capi-tests/guest) a suite runs in two halves: on this machine, with
# CAPI_PROGRAMS_OUT=DIR and the cross compiler first on PATH, it builds, saves
# what it built in DIR/SUITE and ends here; in the guest, with
# CAPI_PROGRAMS_IN=DIR, BUILD does not run: the programs come from DIR/SUITE.
# The guest runs the suite with CAPI_WORK set to DIR/SUITE/work, the $WORK
# they were built in, which their RUNPATH and the checks' paths name.
BUILT=()
programs_from() {
    local build=$1 suite saved
    shift
    suite=$(basename "$0" .sh)
    saved="${CAPI_PROGRAMS_IN:-${CAPI_PROGRAMS_OUT:-}}/$suite"
    if [ -n "${CAPI_PROGRAMS_IN:-}" ]; then
        [ "$(cat "$saved/work" 2>/dev/null)" = "$WORK" ] && cp -a "$saved/." "$WORK/" && return
        fail "$suite: its programs, cross-compiled on the host in $(cat "$saved/work" 2>/dev/null), are in $saved"
        finish
    fi
    "$build"
    if [ -n "${CAPI_PROGRAMS_OUT:-}" ]; then
        mkdir -p "$saved" && echo "$WORK" >"$saved/work"
        [ $((${#BUILT[@]} + $#)) -eq 0 ] || (cd "$WORK" && cp -a "${BUILT[@]}" "$@" "$saved/") ||
            fail "$suite: save its programs in $saved"
        finish
    fi
}

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
# check NAME COMMAND...: runs COMMAND, passes if it exits 0.
check() {
    local name=$1; shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
finish() { exit $((FAILED > 0)); }
