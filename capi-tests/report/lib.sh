# Shared by suites/report.sh, sourced after capi-tests/lib.sh and
# capi-tests/api/lib.sh: its kinds of checks, and how it runs the programs
# of capi-tests/report and reads what they print and report.

# verify LABEL ADVICE COMMAND...: a check that COMMAND succeeds; on failure
# it says what to do (ADVICE).
verify() {
    local label=$1 advice=$2; shift 2
    if "$@"; then pass "$label"; else fail "$label: $advice"; fi
}

# verify_text LABEL ADVICE PATTERN FILE: a check that FILE, a text report,
# has a line matching the extended regexp PATTERN; on failure it shows FILE.
verify_text() {
    if grep -qE -- "$3" "$4"; then
        pass "$1"
    else
        fail "$1: $2"
        sed 's/^/    /' "$4"
    fi
}

# run_report NAME LIBDIR [VAR=VALUE...] -- COMMAND...: runs COMMAND (the
# report program, maybe under strace) with LIBDIR on the library path and
# the variables set; its stdout in NAME.out, its stderr in NAME.err. Relays
# the program's checks, checks that it exited 0 and that the program's io_*
# calls went to LIBDIR/libaio.so.1.
run_report() {
    local name=$1 libdir=$2 vars=() status; shift 2
    while [ "$1" != -- ]; do vars+=("$1"); shift; done
    shift
    traced "$WORK/$name.bindings" env "${vars[@]}" LD_LIBRARY_PATH="$libdir" "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.err"
    status=$?
    relay_checks "$name" "$WORK/$name.out"
    check "$name: exits 0" [ "$status" -eq 0 ]
    check_bound_to "$name" "$WORK/$name.bindings" "$REPORT" "$libdir/libaio.so.1"
}

# printed NAME KEY: what run NAME printed on its "KEY VALUE" line.
printed() { awk -v key="$2" '$1 == key { print $2 }' "$WORK/$1.out"; }

# at_least VALUE MIN: VALUE is a number, at least MIN.
at_least() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ]; }

# objects SCOPE FILE...: the JSON objects of scope SCOPE in FILEs, one a line.
objects() {
    local scope=$1; shift
    cat "$@" 2>/dev/null | jq -c --arg scope "$scope" 'select(.scope == $scope)'
}

# expect_count LABEL SCOPE N FILE...: a check that FILEs hold N objects of SCOPE.
expect_count() {
    local label=$1 scope=$2 want=$3 count; shift 3
    count=$(objects "$scope" "$@" | wc -l)
    verify "$label: $want report(s) of scope $scope" \
        "found $count: a context reports when io_destroy ends it, a process at exit (src/report/mod.rs)" \
        [ "$count" -eq "$want" ]
}

# expect LABEL OBJECT FILTER ADVICE [JQ OPTION...]: a check that the jq
# FILTER holds for the JSON OBJECT; on failure it shows both and ADVICE.
expect() {
    local label=$1 object=$2 filter=$3 advice=$4; shift 4
    if [ "$(jq "$@" "$filter" <<<"$object" 2>&1)" = true ]; then
        pass "$label"
    else
        fail "$label: $advice"
        echo "    '$filter' does not hold for: ${object:-(nothing)}"
    fi
}
