#!/usr/bin/env bash
# Races of issue 15 (programs in capi-tests/races): a thread polling a
# context that another thread destroys must get -EINVAL, never a crash, when
# a signal handler of its own polls another context meanwhile
# (handler_claim) and when two threads destroy the context at once
# (double_destroy). Each runs many rounds against our library, then with
# the fast path off: the harness's own control, which reads no ring and so
# must never crash. Ours only: upstream reads the unmapped ring and crashes
# in every round.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"
RACES_DIR="$ROOT/capi-tests/races"

PROGRAMS=(handler_claim double_destroy)
build_programs() { build_threaded "$RACES_DIR" "${PROGRAMS[@]}"; }
programs_from build_programs

for program in "${PROGRAMS[@]}"; do
    [ -x "$WORK/$program" ] || continue
    run_c_test "$program[ours]" "$OUR_LIBDIR" "$WORK/$program"
    run_c_test "$program[ours, syscalls only]" "$OUR_LIBDIR" "$WORK/$program" LIBAIO_RS_FORCE_SYSCALL=1
done
finish
