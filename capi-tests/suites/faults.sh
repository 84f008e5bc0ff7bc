#!/usr/bin/env bash
# Faults (programs in capi-tests/faults): what the caller gets, and that no
# completion is lost, when a signal interrupts a wait, io_destroy meets
# requests in flight or threads waiting, a filesystem fills up or a file
# reaches RLIMIT_FSIZE, the ring fills up, and contexts reach aio-max-nr.
# Each runs against our library (also with the fast path off) and the system
# libaio. Needs root: a tmpfs mount, a loop device, maybe the aio-max-nr sysctl.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"
FAULTS_DIR="$ROOT/capi-tests/faults"
FAULT_PROGRAMS=(signal destroy_in_flight destroy_while_waiting nospace full_ring max_contexts)

build_programs() { build_threaded "$FAULTS_DIR" "${FAULT_PROGRAMS[@]}"; }
programs_from build_programs
source "$ROOT/capi-tests/faults/resources.sh"

# run_everywhere PROGRAM [VAR=VALUE...]: PROGRAM against our library, with
# the fast path and without, and against the system libaio.
run_everywhere() {
    local program=$1; shift
    run_c_test "$program[ours]" "$OUR_LIBDIR" "$WORK/$program" "$@"
    run_c_test "$program[ours, syscalls only]" "$OUR_LIBDIR" "$WORK/$program" LIBAIO_RS_FORCE_SYSCALL=1 "$@"
    run_c_test "$program[system]" "$SYSTEM_LIBDIR" "$WORK/$program" "$@"
}

for program in "${FAULT_PROGRAMS[@]}"; do
    run_everywhere "$program" ${FAULTS_ENV[$program]:-}
done
# Waiters polling the ring in user space while io_destroy runs: ours only
# (upstream reads the unmapped ring there and crashes).
run_c_test "destroy_while_waiting[ours, zero-timeout pollers]" "$OUR_LIBDIR" "$WORK/destroy_while_waiting" \
    FAULTS_SPINNERS=1
finish
