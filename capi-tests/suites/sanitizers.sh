#!/usr/bin/env bash
# Every C test program in capi-tests/{api,fastpath,faults} built with
# AddressSanitizer and UndefinedBehaviorSanitizer and run against our library:
# no report allowed. Then some of them, built plainly, under valgrind's
# memcheck with our library: no error allowed, with the ring fast path on and
# with it off. Needs root for the fault programs' resources.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"
source "$ROOT/capi-tests/faults/resources.sh"

# -fsanitize puts libasan first among the NEEDED libraries, ahead of ours.
SANITIZE=(-fsanitize=address,undefined -fno-omit-frame-pointer -g -O1 -pthread)
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# The environment or arguments some programs need; the rest need none.
declare -A RUN_ENV=(
    [fastpath-stress]="FASTPATH_STRESS_SECONDS=1 FASTPATH_LOOP_DEVICE=$LOOP_DEVICE"
)
for program in "${!FAULTS_ENV[@]}"; do
    RUN_ENV[faults-$program]=${FAULTS_ENV[$program]}
done
# Half its waiters reap from the ring in user space, racing io_destroy.
RUN_ENV[faults-destroy_while_waiting]=FAULTS_SPINNERS=1
declare -A RUN_ARGS=([fastpath-reapcount]="queue-run 200")

# no_sanitizer_report LABEL: a check that the last run printed no report.
no_sanitizer_report() {
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$RUN_OUTPUT"; then
        cat "$RUN_OUTPUT"
        fail "$1: sanitizer report"
    else
        pass "$1: no sanitizer report"
    fi
}

# run_checked LABEL COMMAND...: runs COMMAND with its output in $RUN_OUTPUT;
# a check that it exits 0 (showing the output if not).
run_checked() {
    local label=$1; shift
    if TMPDIR="$WORK" "$@" >"$RUN_OUTPUT" 2>&1; then
        pass "$label: exits 0"
    else
        cat "$RUN_OUTPUT"
        fail "$label: exits 0"
    fi
}

for source in "$ROOT"/capi-tests/{api,fastpath,faults}/*.c; do
    grep -q '^int main' "$source" || continue
    name=$(basename "$(dirname "$source")")-$(basename "$source" .c)
    # It loads the library with dlopen alone, and checks that dlclose unloads it.
    [ "$name" = api-unload ] && continue
    # -O1 brings warnings the suites' plain builds do not have; not errors here.
    build "$name-sanitized" gcc "${SANITIZE[@]}" "$source" "${OUR_BUILD[@]}" -Wno-error || continue
    label="$name[asan+ubsan]"
    if [ -n "${RUN_ARGS[$name]:-}" ]; then
        run_checked "$label" env LD_LIBRARY_PATH="$OUR_LIBDIR" "$WORK/$name-sanitized" ${RUN_ARGS[$name]}
    else
        run_c_test "$label" "$OUR_LIBDIR" "$WORK/$name-sanitized" ${RUN_ENV[$name]:-}
    fi
    no_sanitizer_report "$label"
done

# Valgrind registers the ring that io_setup maps with the size the caller
# asked for, not the size the kernel chose (up to twice the requests, more
# with many CPUs, rounded up to pages), so a read of the ring's later pages
# looks like one of unmapped memory. Only the copy of events out of the ring
# reads there; that reader is fuzzed within guard pages by tests/ring_fuzz.rs.
cat >"$WORK/ring.supp" <<'SUPP'
{
   ring events past the size valgrind assumes for the io_setup mapping
   Memcheck:Addr8
   ...
   fun:consume
}
SUPP
# Valgrind runs one thread at a time. Its default lock is unfair: a thread
# that polls the ring without a syscall keeps it, and destroy_while_waiting's
# other threads starved for 24 to 96 s a round (its 60 s watchdog fired in 2
# of 5 runs); --fair-sched=yes hands the lock round, and a round takes 0.7 s.
VALGRIND=(valgrind -q --fair-sched=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
# One round: the rest of its 12 add time under valgrind, not coverage.
declare -A VALGRIND_ENV=([faults-destroy_while_waiting]=FAULTS_ROUNDS=1)
# Programs that hand the kernel no bad pointer on purpose (valgrind reports
# those as the caller's errors) and need no io_pgetevents (valgrind 3.19
# answers -ENOSYS for it).
user_reaps=0
for name in api-callbacks api-eventfd fastpath-reapcount faults-full_ring faults-nospace faults-destroy_in_flight \
    faults-destroy_while_waiting faults-max_contexts; do
    source="$ROOT/capi-tests/${name%%-*}/${name#*-}.c"
    build "$name" gcc -g -O1 -pthread "$source" "${OUR_BUILD[@]}" || continue
    run=(env LD_LIBRARY_PATH="$OUR_LIBDIR" ${RUN_ENV[$name]:-} ${VALGRIND_ENV[$name]:-})
    args=(${RUN_ARGS[$name]:-})
    run_checked "$name[valgrind]" "${run[@]}" LIBAIO_RS_STATS=1 "${VALGRIND[@]}" --suppressions="$WORK/ring.supp" \
        "$WORK/$name" "${args[@]}"
    reaps=$(sed -n 's/^libaio-rs: \([0-9]*\) reaping calls served from the ring.*/\1/p' "$RUN_OUTPUT")
    echo "$name[valgrind]: ${reaps:-no} reaping calls served from the ring"
    user_reaps=$((user_reaps + ${reaps:-0}))
    run_checked "$name[valgrind, syscalls only]" "${run[@]}" LIBAIO_RS_FORCE_SYSCALL=1 "${VALGRIND[@]}" \
        "$WORK/$name" "${args[@]}"
done
check "under valgrind, the fast path served reaping calls from the ring ($user_reaps)" [ "$user_reaps" -gt 0 ]
finish
