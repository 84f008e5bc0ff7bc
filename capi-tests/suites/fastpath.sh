#!/usr/bin/env bash
# The user-space reaping fast path (programs in capi-tests/fastpath): its
# answers on live contexts and the reaping syscalls it leaves (counted with
# strace), the kernel's answers for bad arguments and dead contexts, fork,
# the multi-threaded ledger test, the LIBAIO_RS_* switches, and reaping
# syscalls per 1000 I/Os next to the system libaio, in C and under fio.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"
FASTPATH_DIR="$ROOT/capi-tests/fastpath"

TMPFS_DIR=$(mktemp -d /dev/shm/capi-fastpath.XXXXXX)
at_exit "rm -rf '$TMPFS_DIR'"

# calls_in LOG NAME: how many NAME syscalls strace log LOG shows.
calls_in() {
    grep -cE "(^|[[:space:]])$2\\(" "$1"
}

# run_traced LABEL LIBDIR [VAR=VALUE...] PROGRAM [ARGS...]: runs PROGRAM with
# LIBDIR on the library path under strace -f, relays its checks and checks
# that it exits 0. Sets GETEVENTS_SYSCALLS and PGETEVENTS_SYSCALLS to the
# calls strace saw; the output stays in $RUN_OUTPUT.
run_traced() {
    local label=$1 libdir=$2 status; shift 2
    strace -f -qq --seccomp-bpf -e trace=io_getevents,io_pgetevents -o "$WORK/strace.log" \
        env LD_LIBRARY_PATH="$libdir" TMPDIR="$WORK" "$@" >"$RUN_OUTPUT" 2>&1
    status=$?
    relay_checks "$label" "$RUN_OUTPUT"
    check "$label: exits 0" [ "$status" -eq 0 ]
    GETEVENTS_SYSCALLS=$(calls_in "$WORK/strace.log" io_getevents)
    PGETEVENTS_SYSCALLS=$(calls_in "$WORK/strace.log" io_pgetevents)
}

# check_expected_syscalls LABEL: a check that the last run_traced saw the
# syscalls that the program's "expect syscalls:" lines add up to.
check_expected_syscalls() {
    local want seen="$GETEVENTS_SYSCALLS $PGETEVENTS_SYSCALLS"
    want=$(awk -F'[= ]' '/^expect syscalls:/ { g += $4; p += $6 } END { print g + 0, p + 0 }' "$RUN_OUTPUT")
    if [ "$seen" = "$want" ]; then
        pass "$1: strace saw exactly the io_getevents and io_pgetevents calls that had to wait ($want)"
    else
        fail "$1: strace saw io_getevents and io_pgetevents calls '$seen', want '$want'"
    fi
}

# observe LABEL PROGRAM: shows what PROGRAM's isolated checks do with the
# system libaio, without judging it.
observe() {
    FASTPATH_OBSERVE=1 LD_LIBRARY_PATH="$SYSTEM_LIBDIR" "$2" 2>&1 | grep -E '^(observed|not ok)' | sed "s/^/$1: /"
}

build_programs() {
    local program
    for program in semantics answers lifetime fork stress reapcount; do
        build "fastpath-$program" gcc -O2 -pthread "$FASTPATH_DIR/$program.c" "${OUR_BUILD[@]}"
    done
}
programs_from build_programs

# Live contexts: every check passes with all three; only ours skips syscalls.
run_traced "semantics[ours]" "$OUR_LIBDIR" "$WORK/fastpath-semantics"
check_expected_syscalls "semantics[ours]"
run_c_test "semantics[ours, syscalls only]" "$OUR_LIBDIR" "$WORK/fastpath-semantics" LIBAIO_RS_FORCE_SYSCALL=1
run_c_test "semantics[system]" "$SYSTEM_LIBDIR" "$WORK/fastpath-semantics"

run_c_test "answers[ours]" "$OUR_LIBDIR" "$WORK/fastpath-answers"
run_c_test "answers[ours, syscalls only]" "$OUR_LIBDIR" "$WORK/fastpath-answers" LIBAIO_RS_FORCE_SYSCALL=1
observe "answers[system, for contrast]" "$WORK/fastpath-answers"

run_c_test "lifetime[ours]" "$OUR_LIBDIR" "$WORK/fastpath-lifetime"
run_c_test "lifetime[ours, syscalls only]" "$OUR_LIBDIR" "$WORK/fastpath-lifetime" LIBAIO_RS_FORCE_SYSCALL=1
observe "lifetime[system, for contrast]" "$WORK/fastpath-lifetime"

run_traced "fork[ours]" "$OUR_LIBDIR" "$WORK/fastpath-fork"
check_expected_syscalls "fork[ours]"
run_c_test "fork[system]" "$SYSTEM_LIBDIR" "$WORK/fastpath-fork"

# The ledger test, with a loop device (O_DIRECT over a tmpfs file) for
# completions that come from a kernel worker, when losetup can make one.
if attach_loop_device 64M 2>"$WORK/losetup.err"; then
    echo "stress: loop device $LOOP_DEVICE with direct I/O"
else
    echo "stress: SKIPPING loop device reads, losetup failed: $(cat "$WORK/losetup.err")"
fi
# Its floor follows the machine's speed: reads of /dev/zero submitted and
# reaped one at a time through the system libaio, per second, measured here.
# Its phases, 2.5 times FASTPATH_STRESS_SECONDS, must make 1% of what that
# pace gives in their time: 100,000 in 25 s on an x86_64 VM doing 400,000 a
# second; emulated machines are 30 to 100 times slower.
SPEED_IOS=50000
start_ns=$(date +%s%N)
check "speed: $SPEED_IOS reads through the system libaio" \
    env LD_LIBRARY_PATH="$SYSTEM_LIBDIR" "$WORK/fastpath-reapcount" getevents $SPEED_IOS >/dev/null
speed=$((SPEED_IOS * 1000000000 / ($(date +%s%N) - start_ns)))
echo "stress: the system libaio submits and reaps $speed reads of /dev/zero a second, one at a time"
stress_floor() { echo $((speed * $1 / 40)); }
run_c_test "stress[ours]" "$OUR_LIBDIR" "$WORK/fastpath-stress" LIBAIO_RS_STATS=1 FASTPATH_LOOP_DEVICE="$LOOP_DEVICE" \
    FASTPATH_STRESS_MIN_IOS="$(stress_floor 10)"
# The same ledger with the kernel alone: the test's own control.
run_c_test "stress[ours, syscalls only]" "$OUR_LIBDIR" "$WORK/fastpath-stress" LIBAIO_RS_FORCE_SYSCALL=1 \
    FASTPATH_STRESS_SECONDS=2 FASTPATH_STRESS_MIN_IOS="$(stress_floor 2)" FASTPATH_LOOP_DEVICE="$LOOP_DEVICE"

# Reaping syscalls per 1000 I/Os, each reaped right after io_submit.
IOS=1000
for mode in getevents getevents-poll pgetevents queue-run queue-wait; do
    run_traced "reapcount $mode[ours]" "$OUR_LIBDIR" "$WORK/fastpath-reapcount" "$mode" "$IOS"
    ours=$((GETEVENTS_SYSCALLS + PGETEVENTS_SYSCALLS))
    run_traced "reapcount $mode[ours, syscalls only]" "$OUR_LIBDIR" LIBAIO_RS_FORCE_SYSCALL=1 \
        "$WORK/fastpath-reapcount" "$mode" "$IOS"
    forced=$((GETEVENTS_SYSCALLS + PGETEVENTS_SYSCALLS))
    run_traced "reapcount $mode[system]" "$SYSTEM_LIBDIR" "$WORK/fastpath-reapcount" "$mode" "$IOS"
    echo "reaping syscalls per $IOS $mode calls: ours $ours, ours with LIBAIO_RS_FORCE_SYSCALL=1 $forced, system libaio $((GETEVENTS_SYSCALLS + PGETEVENTS_SYSCALLS))"
    check "reapcount $mode: ours makes at most 10 reaping syscalls per $IOS ($ours)" [ "$ours" -le 10 ]
    # io_queue_run makes one more call to find the ring empty.
    if [ "$mode" = queue-run ]; then
        check "reapcount $mode: LIBAIO_RS_FORCE_SYSCALL=1 makes every reap a syscall ($forced)" [ "$forced" -ge "$IOS" ]
    else
        check "reapcount $mode: LIBAIO_RS_FORCE_SYSCALL=1 makes every call a syscall ($forced)" [ "$forced" -eq "$IOS" ]
    fi
done

# LIBAIO_RS_STATS=1 prints the counters at exit, first in the process's report.
reaping_stats() {
    env "$@" LIBAIO_RS_STATS=1 LD_LIBRARY_PATH="$OUR_LIBDIR" "$WORK/fastpath-reapcount" getevents "$IOS" 2>&1 >/dev/null |
        grep '^libaio-rs: [0-9]* reaping calls'
}
check "LIBAIO_RS_STATS=1: $IOS reaps from the ring" [ "$(reaping_stats)" = \
    "libaio-rs: $IOS reaping calls served from the ring without a syscall, 0 reaping syscalls" ]
check "LIBAIO_RS_STATS=1 with LIBAIO_RS_FORCE_SYSCALL=1: $IOS reaping syscalls" [ "$(reaping_stats LIBAIO_RS_FORCE_SYSCALL=1)" = \
    "libaio-rs: 0 reaping calls served from the ring without a syscall, $IOS reaping syscalls" ]

# fio, random 4 KiB reads of a tmpfs file at depth 32, reaping as soon as one
# I/O is done: io_getevents syscalls per 1000 I/Os, ours (LD_PRELOAD) and the
# system libaio's. The system libaio's syscalls each stop under strace: the
# I/Os are what the machine does in 1/40 s at the pace measured above (10,240
# here), 1,024 at least.
FIO_IOS=$((speed / 40 > 1024 ? speed / 40 : 1024))
truncate -s 64M "$TMPFS_DIR/fio-data"
fio_getevents_per_1000() {
    strace -f -qq --seccomp-bpf -e trace=io_getevents -o "$WORK/fio.strace" env LD_PRELOAD="$1" \
        fio --name=fastpath --filename="$TMPFS_DIR/fio-data" --size=64M --io_size=$((FIO_IOS * 4))k --rw=randread --bs=4k \
        --ioengine=libaio --iodepth=32 --iodepth_batch_complete_min=1 --output-format=terse --terse-version=3 \
        >"$WORK/fio.out" 2>&1 || return 1
    local syscalls ios
    syscalls=$(calls_in "$WORK/fio.strace" io_getevents)
    ios=$(awk -F';' 'NF > 6 { print $6 / 4 }' "$WORK/fio.out") # read KiB / 4 KiB
    [ "${ios:-0}" -eq "$FIO_IOS" ] || return 1
    echo $((syscalls * 1000 / ios))
}
if ours=$(fio_getevents_per_1000 "$OUR_SO") && system=$(fio_getevents_per_1000 "$SYSTEM_SO"); then
    echo "fio randread 4k, iodepth 32, iodepth_batch_complete_min 1: io_getevents syscalls per 1000 I/Os: ours $ours, system libaio $system"
    check "fio: ours makes at most 100 io_getevents syscalls per 1000 I/Os ($ours)" [ "$ours" -le 100 ]
else
    cat "$WORK/fio.out"
    fail "fio: $FIO_IOS reads of a tmpfs file through libaio"
fi
finish
