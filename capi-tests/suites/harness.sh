#!/usr/bin/env bash
# Upstream's test harness, from Debian's libaio source package fetched at test
# time, run through our library twice: built against our header and library,
# then built against the system's header and library and run with ours
# preloaded; then those binaries once more with the system libaio. Each run
# does partcheck and, as root, extracheck (cases 8 and 10 on loop-mounted
# ext2 images).
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/harness/loader.sh"

HARNESS_VERSION=0.3.113-4
# This version's partcheck runs cases 2 to 22 (there is no 9) without 8 and 10,
# which need root (extracheck), and 23, which Debian's patch 0001 disables.
PARTCHECK_CASES=18
# HARNESS_SKIP (case numbers, space-separated) leaves those out of partcheck:
# make test's emulated machines leave out the six that take a minute or more
# there (capi-tests/suites/guest.sh); make test-arch runs them all.
read -ra harness_skip <<<"${HARNESS_SKIP:-}"
PARTCHECK_RESULT="Pass: $((PARTCHECK_CASES - ${#harness_skip[@]}))  Fail: 0  Skip: 0"
[ ${#harness_skip[@]} -eq 0 ] || PARTCHECK_RESULT+=" (cases ${harness_skip[*]} left out)"
# extracheck runs case 10, then case 8, each on its own mount.
EXTRACHECK_CASES="cases/10.p cases/8.p"

unmount_under_work() {
    findmnt -rn -o TARGET | grep "^$WORK/" | xargs -r umount
}
# extracheck unmounts after each case; this is for a run cut short.
at_exit unmount_under_work

# run_logged LOG CMD...: CMD with its output in LOG, and a line as each case
# starts, so that a run its time limit cuts short shows the case it was in: a
# hang, or only slow cases. (An exit trap would not do: the guest's timeout
# signals the whole suite while it waits in the harness's make.)
run_logged() {
    local log=$1
    shift
    "$@" 2>&1 | tee "$log" | sed -un 's/^Starting /    starting /p'
    return "${PIPESTATUS[0]}"
}

# fetch_harness: upstream's source with Debian's patches, in $source_dir.
source_dir="$WORK/libaio-${HARNESS_VERSION%-*}"
fetch_harness() {
    (cd "$WORK" && apt-get source -qq "libaio=$HARNESS_VERSION") > "$WORK/fetch.log" 2>&1
    if ! grep -qx '0001-harness-Disable-failing-test-23.patch' "$source_dir/.pc/applied-patches" 2>/dev/null; then
        fail "fetched libaio $HARNESS_VERSION with Debian's patches applied"
        cat "$WORK/fetch.log"
        return 1
    fi
    pass "fetched libaio $HARNESS_VERSION with Debian's patches applied"
}

# Each run has its own copy of harness/ in run/NAME. Only harness/ is copied:
# the Makefile puts -I../src before CFLAGS, and ../src (upstream's header)
# must not exist for the header we choose to win.
use_harness() { harness="$WORK/run/$1/harness"; }

# in_harness CMD...: runs CMD in the harness folder.
in_harness() { (cd "$harness" && "$@"); }

# included_header CFLAGS: the libaio.h that the Makefile's compile command for
# a case includes.
included_header() {
    local command
    command=$(CFLAGS=$1 in_harness make -s -n -B cases/3.p | sed 's| -o [^ ]*| -E -H -o /dev/null|')
    in_harness eval "$command" 2>&1 >/dev/null | sed -n 's/^\. \(.*libaio\.h\)$/\1/p'
}

# show_results LOG: the harness's result lines, for the CI log.
show_results() {
    grep -E '^(Pass: |Completed .* (FAILED|SKIPPED))' "$1" | sed 's/^/    /'
}

# show_failures LOG: the output of each failed case, or all of LOG if no case
# failed (make itself did).
show_failures() {
    local failed
    failed=$(awk '/^Starting / { out = "" } { out = out $0 "\n" } / -- FAILED\.$/ { printf "%s", out }' "$1")
    if [ -n "$failed" ]; then echo "$failed"; else cat "$1"; fi
}

# harness_build NAME HEADER CFLAGS LIBAIO: builds every case in run/NAME with
# CFLAGS and LIBAIO, and checks that they include HEADER.
harness_build() {
    local name=$1 header=$2 cflags=$3 libaio=$4
    local log="$WORK/$name"
    use_harness "$name"
    mkdir -p "$WORK/run/$name"
    cp -r "$source_dir/harness" "$WORK/run/$name/"
    if ! CFLAGS=$cflags in_harness make -s -j2 all LIBAIO="$libaio" > "$log.build" 2>&1; then
        fail "harness[$name]: every case builds with $cflags"
        cat "$log.build"
        return
    fi
    pass "harness[$name]: every case builds with $cflags"

    local used
    used=$(included_header "$cflags")
    if [ "$used" = "$header" ]; then
        pass "harness[$name]: the cases include $header"
    else
        fail "harness[$name]: the cases include $header, not: $used"
    fi
}

# harness_run NAME BUILT LIBRARY [VAR=VALUE...]: checks that the io_* symbols
# of run/BUILT's cases bind to LIBRARY under the VAR=VALUE environment, then
# runs partcheck and extracheck in that environment.
harness_run() {
    local name=$1 built=$2 library=$3; shift 3
    local log="$WORK/$name"
    use_harness "$built"
    if [ ! -x "$harness/cases/3.p" ]; then
        fail "harness[$name]: runs (its cases were not built)"
        return
    fi
    local program unbound=()
    for program in "$harness"/cases/*.p; do
        bound_only_to "$library" "$program" "$@" || unbound+=("${program##*/}")
    done
    if [ ${#unbound[@]} -eq 0 ]; then
        pass "harness[$name]: every case's io_* symbols bind to $library"
    else
        fail "harness[$name]: io_* symbols bind elsewhere in: ${unbound[*]}"
    fi

    local status=0
    local partprogs=()
    if [ ${#harness_skip[@]} -gt 0 ]; then
        # The Makefile's own list, without the skipped cases.
        mapfile -t partprogs < <(in_harness make -s -p -n partcheck 2>/dev/null | sed -n 's/^PARTPROGS := //p' |
            tr ' ' '\n' | grep . | grep -vxF -f <(printf 'cases/%s.p\n' "${harness_skip[@]}"))
        partprogs=("PARTPROGS=${partprogs[*]}")
    fi
    run_logged "$log.partcheck" in_harness env "$@" make -s partcheck "${partprogs[@]}" || status=$?
    echo "harness[$name] partcheck:"
    show_results "$log.partcheck"
    if [ $status -eq 0 ] && [ "$(grep '^Pass: ' "$log.partcheck")" = "${PARTCHECK_RESULT% (*}" ]; then
        pass "harness[$name]: partcheck $PARTCHECK_RESULT"
    else
        fail "harness[$name]: partcheck $PARTCHECK_RESULT (make exited $status)"
        show_failures "$log.partcheck"
    fi

    if [ "$(id -u)" -ne 0 ]; then
        fail "harness[$name]: extracheck needs root"
        return
    fi
    status=0
    run_logged "$log.extracheck" in_harness env "$@" make -s extracheck || status=$?
    echo "harness[$name] extracheck:"
    show_results "$log.extracheck"
    local passed
    passed=$(sed -n 's/^Completed \(.*\) with 0\.$/\1/p' "$log.extracheck" | xargs)
    if [ $status -eq 0 ] && [ "$passed" = "$EXTRACHECK_CASES" ]; then
        pass "harness[$name]: extracheck passes $EXTRACHECK_CASES"
    else
        fail "harness[$name]: extracheck passes $EXTRACHECK_CASES, passed: $passed (make exited $status)"
        show_failures "$log.extracheck"
    fi
    local left
    left=$(findmnt -rn -o TARGET | grep "^$WORK/"
           losetup -j "$harness/ext2.img" 2>/dev/null; losetup -j "$harness/ext2-enospc.img" 2>/dev/null)
    if [ -z "$left" ]; then
        pass "harness[$name]: extracheck leaves nothing mounted"
    else
        fail "harness[$name]: extracheck leaves nothing mounted, left: $left"
        unmount_under_work
    fi
}

base_cflags="-Wall -Werror -g -O2"
build_programs() {
    fetch_harness || return
    # The libaio.h the compiler finds by itself: the system's.
    local system_header
    system_header=$(echo '#include <libaio.h>' | gcc -E -H -o /dev/null - 2>&1 | sed -n 's/^\. \(.*libaio\.h\)$/\1/p')
    harness_build ours "$OUR_INCLUDE/libaio.h" "$base_cflags -I$OUR_INCLUDE" "$OUR_LINK"
    harness_build preloaded "$system_header" "$base_cflags" -laio
}
programs_from build_programs run

harness_run ours ours "$OUR_LIBDIR/libaio.so.1"
harness_run preloaded preloaded "$OUR_SO" LD_PRELOAD="$OUR_SO"
# The same binaries without the preload: the system libaio, for reference
# (and the binding check tells the two libraries apart).
harness_run system preloaded "$SYSTEM_SO"
finish
