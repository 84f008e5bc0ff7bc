# Shared set-up for the capi-tests suites; sourced, not run.
# Each suite is a script capi-tests/suites/NAME.sh that calls `pass`/`fail`
# for each check and exits non-zero if any failed.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUR_SO="$ROOT/target/release/libaio.so"
OUR_INCLUDE="$ROOT/include"
SYSTEM_SO=/lib/x86_64-linux-gnu/libaio.so.1
# A directory that holds our library under the names the loader and -laio look for.
OUR_LIBDIR="$ROOT/target/capi-tests/lib"
mkdir -p "$OUR_LIBDIR"
ln -sf "$OUR_SO" "$OUR_LIBDIR/libaio.so.1"
ln -sf "$OUR_SO" "$OUR_LIBDIR/libaio.so"
# Link flags for a program built against our header and library.
OUR_LINK="-L$OUR_LIBDIR -Wl,-rpath,$OUR_LIBDIR -laio"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/capi-tests.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=0

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
# check NAME COMMAND...: runs COMMAND, passes if it exits 0.
check() {
    local name=$1; shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
finish() { exit $((FAILED > 0)); }
