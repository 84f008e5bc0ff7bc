# Helpers for the suites that build C programs and run them against our
# library and the system one; sourced after capi-tests/lib.sh.
API_DIR="$ROOT/capi-tests/api"
# The system library under the name the loader looks for, alone in a directory.
SYSTEM_LIBDIR="$WORK/system-lib"
mkdir -p "$SYSTEM_LIBDIR"
ln -sf "$SYSTEM_SO" "$SYSTEM_LIBDIR/libaio.so.1"
# Compiler flags for a program built against our header and library. RUNPATH
# (not RPATH) so that LD_LIBRARY_PATH can still switch to the system library.
OUR_BUILD=(-Wall -Werror -I"$OUR_INCLUDE" $OUR_LINK -Wl,--enable-new-dtags -ldl)

# check_uses_our_header COMPILER SOURCE: a check that SOURCE, compiled with
# OUR_BUILD's include path, gets libaio.h from $OUR_INCLUDE.
check_uses_our_header() {
    check "$(basename "$2") includes our libaio.h" \
        grep -q "$OUR_INCLUDE/libaio.h" <("$1" -M -I"$OUR_INCLUDE" "$2")
}

# build NAME COMPILER ARGS...: runs COMPILER ARGS -o $WORK/NAME; a check.
# (Inside the function that programs_from runs.)
build() {
    local name=$1; shift
    if "$@" -o "$WORK/$name" >"$WORK/$name.build.log" 2>&1; then
        BUILT+=("$name")
        pass "build $name"
    else
        cat "$WORK/$name.build.log"
        fail "build $name"
        return 1
    fi
}

# build_threaded DIR PROGRAM...: builds each DIR/PROGRAM.c, threaded, against
# our library.
build_threaded() {
    local dir=$1 program
    shift
    for program in "$@"; do
        build "$program" gcc -O2 -pthread "$dir/$program.c" "${OUR_BUILD[@]}"
    done
}

# lacks PATTERN FILE: FILE has no line matching PATTERN.
lacks() {
    ! grep -q -- "$1" "$2"
}

# bound_files TRACE PROGRAM: the files that PROGRAM's io_* references bound
# to, from the LD_DEBUG=bindings output written to TRACE.<pid>.
bound_files() {
    cat "$1".* 2>/dev/null | grep -F "binding file $2 [0] to " | grep -F ": normal symbol \`io_" |
        sed 's/.* to \(.*\) \[0\]: normal symbol.*/\1/' | sort -u
}

# traced TRACE COMMAND...: runs COMMAND with the loader logging its symbol
# bindings to TRACE.<pid> (see bound_files). All are bound at start-up, so
# that no two threads write their lines into the log at once.
traced() {
    local trace=$1; shift
    rm -f "$trace".*
    LD_BIND_NOW=1 LD_DEBUG=bindings LD_DEBUG_OUTPUT="$trace" "$@"
}

# check_bound_to LABEL TRACE PROGRAM LIBRARY: a check that every io_* symbol
# PROGRAM used came from LIBRARY; with LIBRARY empty (a static link), that
# none was bound dynamically.
check_bound_to() {
    local bound what=${4:-nothing}
    bound=$(bound_files "$2" "$3")
    if [ "$bound" = "$4" ]; then
        pass "$1: binds io_* to $what"
    else
        fail "$1: binds io_* to '${bound//$'\n'/ }', not $what"
    fi
}

# relay_checks LABEL FILE: turns the "ok"/"not ok" lines of a test program's
# output into checks named "LABEL: ..."; other lines are shown.
relay_checks() {
    local line
    while IFS= read -r line; do
        case $line in
            "ok "*) pass "$1: ${line#ok }" ;;
            "not ok "*) fail "$1: ${line#not ok }" ;;
            *) echo "$1: $line" ;;
        esac
    done <"$2"
}

# run_relayed LABEL COMMAND...: runs a test program's COMMAND, relays its
# checks (relay_checks), and checks that it exited 0. Its stdout and stderr
# stay in $RUN_OUTPUT until the next run.
RUN_OUTPUT="$WORK/run.out"
run_relayed() {
    local label=$1 status; shift
    "$@" >"$RUN_OUTPUT" 2>&1
    status=$?
    relay_checks "$label" "$RUN_OUTPUT"
    check "$label: exits 0" [ "$status" -eq 0 ]
}

# run_c_test LABEL LIBDIR PROGRAM [VAR=VALUE...]: runs one of the api/ test
# programs with LIBDIR on the library path (and the variables set), relays
# its checks (run_relayed), and checks that its io_* calls went to
# LIBDIR/libaio.so.1 (with LIBDIR empty: that it has libaio linked in
# statically).
run_c_test() {
    local label=$1 libdir=$2 program=$3; shift 3
    local trace="$WORK/run.bindings"
    run_relayed "$label" traced "$trace" env "$@" LD_LIBRARY_PATH="$libdir" TMPDIR="$WORK" "$program"
    check_bound_to "$label" "$trace" "$program" "${libdir:+$libdir/libaio.so.1}"
}
