#!/usr/bin/env bash
# `make bench`: our libaio against the system one, same code on both sides.
#   1. library overhead (benches/aio_bench.c): both libraries dlopen'ed in one
#      process, rounds alternating system, ours;
#   2. instructions per call under callgrind (stable on a noisy machine);
#   3. fio --ioengine=libaio, 4k randread at QD1 and QD32, on a tmpfs file and
#      on a direct-I/O loop device over tmpfs (root only), with ours
#      LD_PRELOADed against none, rounds alternating; reaping syscall counts
#      from shorter runs under strace and from our own counters.
# Timing never fails the run; a broken measurement (wrong result, our library
# not the one loaded, a tool failing) does.
# Knobs: BENCH_ROUNDS (default 7), BENCH_FIO_ROUNDS (5), BENCH_FIO_SECONDS (2).
set -euo pipefail
source "$(dirname "$0")/../capi-tests/lib.sh"
ROUNDS=${BENCH_ROUNDS:-7}
FIO_ROUNDS=${BENCH_FIO_ROUNDS:-5}
FIO_SECONDS=${BENCH_FIO_SECONDS:-2}
BIN="$ROOT/target/bench"
mkdir -p "$BIN"

echo "## Machine"
echo
echo "$(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo

echo "## Library overhead (512 B reads of /dev/zero, complete inside io_submit; $ROUNDS rounds)"
echo
gcc -O2 -Wall -Wextra -Werror -rdynamic -o "$BIN/aio_bench" "$ROOT/benches/aio_bench.c" -ldl
"$BIN/aio_bench" --rounds "$ROUNDS" "$SYSTEM_SO" "$OUR_SO"
echo

echo "## The same with our report switched on (LIBAIO_RS_STATS_JSON; $ROUNDS rounds)"
echo
echo "Ours now counts every call and times each io_submit and each reap that may wait; the system library"
echo "ignores the switch, so its column is the yardstick for the change in ours."
echo
LIBAIO_RS_STATS_JSON="$WORK/report.%p.json" "$BIN/aio_bench" --rounds "$ROUNDS" "$SYSTEM_SO" "$OUR_SO"
reported=$(cat "$WORK"/report.*.json | jq -s 'map(select(.scope == "context") | .submit_calls) | add')
[ "${reported:-0}" -gt 0 ] || { echo "the report was not on: no context reports in $WORK"; exit 1; }
echo
echo "(the report counted $reported io_submit calls in the contexts it reported)"
echo

echo "## Instructions per call (callgrind, user space only: the system library's syscall counts as one instruction)"
echo
# Prints the instructions executed inside io_getevents per op of WORKLOAD,
# with our report off (as it is by default).
instructions_per_op() { # LIB WORKLOAD SCALE EVENTS_PER_OP
    local lib=$1 workload=$2 scale=$3 per_op=$4 out="$WORK/callgrind.$1.$2"
    local bench=("$BIN/aio_bench" --only "$lib" --workload "$workload" --rounds 1 --scale "$scale" "$SYSTEM_SO" "$OUR_SO")
    valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect='io_getevents*' "${bench[@]}" \
        > "$WORK/callgrind.log" 2>&1 || { cat "$WORK/callgrind.log"; exit 1; }
    local ops instructions
    ops=$(sed -n "s/^  $lib: [0-9]* over \([0-9]*\) ops .*/\1/p" "$WORK/callgrind.log")
    instructions=$(sed -n 's/^summary: //p' "$out")
    [ -n "$ops" ] && [ -n "$instructions" ] || { echo "no callgrind result:"; cat "$WORK/callgrind.log"; exit 1; }
    # Under valgrind our library must still reap from the ring, or the count
    # means nothing: the same run again, with the report, which counts them.
    if [ "$lib" = ours ]; then
        LIBAIO_RS_STATS=1 valgrind --tool=none "${bench[@]}" > "$WORK/valgrind.log" 2>&1 || true
        grep -q "^libaio-rs: $ops reaping calls served from the ring without a syscall, 0 reaping syscalls" \
            "$WORK/valgrind.log" || { echo "our library did not reap from the ring under valgrind:" >&2
                                     cat "$WORK/valgrind.log" >&2; exit 1; }
    fi
    awk -v i="$instructions" -v n="$ops" -v e="$per_op" 'BEGIN { printf "%.1f", i / (n * e) }'
}
# Assignments, so that a failed measurement stops the script (set -e).
reap_system=$(instructions_per_op system reap32_ready 0.01 32)
reap_ours=$(instructions_per_op ours reap32_ready 0.01 32)
poll_system=$(instructions_per_op system empty_poll 0.0001 1)
poll_ours=$(instructions_per_op ours empty_poll 0.0001 1)
one_system=$(instructions_per_op system qd1_wait 0.05 1)
one_ours=$(instructions_per_op ours qd1_wait 0.05 1)
echo "| op | system | ours |"
echo "|---|---|---|"
echo "| reap32_ready: io_getevents per reaped event | $reap_system | $reap_ours |"
echo "| empty_poll: io_getevents per call | $poll_system | $poll_ours |"
echo "| qd1_wait: io_getevents per call (1 event) | $one_system | $one_ours |"
echo

echo "## fio 4k randread (--ioengine=libaio --direct=1, ${FIO_SECONDS}s x $FIO_ROUNDS rounds per side)"
echo
if LD_PRELOAD="$OUR_SO" ldd "$(command -v fio)" | grep -q "$SYSTEM_SO\|libaio.so.1 =>"; then
    echo "fio would still load the system libaio under LD_PRELOAD"; exit 1
fi
DATA=$(mktemp -d /dev/shm/libaio-rs-bench.XXXXXX)
LOOP=
cleanup() {
    [ -z "$LOOP" ] || losetup -d "$LOOP"
    rm -rf "$DATA" "$WORK"
}
trap cleanup EXIT
dd if=/dev/urandom of="$DATA/file" bs=1M count=256 status=none

# Runs fio once; leaves its JSON report in $WORK/fio.json and its stderr in
# $WORK/fio.err. Extra arguments go before fio (a wrapper such as strace). The
# job is a thread, so that our LIBAIO_RS_STATS line is printed at exit.
# LIB is system, ours, or ours-syscalls (ours with LIBAIO_RS_FORCE_SYSCALL=1).
run_fio() { # LIB TARGET QD SECONDS [WRAPPER...]
    local lib=$1 target=$2 qd=$3 seconds=$4
    shift 4
    local preload=()
    [ "$lib" = system ] || preload=(LD_PRELOAD="$OUR_SO")
    [ "$lib" != ours-syscalls ] || preload+=(LIBAIO_RS_FORCE_SYSCALL=1)
    "$@" env "${preload[@]}" fio --thread --name=randread --ioengine=libaio --rw=randread --bs=4k \
        --direct=1 --iodepth="$qd" --filename="$target" --time_based --runtime="$seconds" --randrepeat=0 \
        --output-format=json --output="$WORK/fio.json" > /dev/null 2> "$WORK/fio.err"
    [ "$(jq '.jobs[0].error' "$WORK/fio.json")" = 0 ] || { echo "fio failed"; cat "$WORK/fio.json"; exit 1; }
}
# IOPS and CPU ns per I/O (the job's user+sys time over its I/Os) of the last run.
fio_iops_cpu() {
    jq -r '.jobs[0] | "\(.read.iops) \((.usr_cpu + .sys_cpu) / 100 * .job_runtime * 1e6 / .read.total_ios)"' "$WORK/fio.json"
}
per_kio() { # COUNT: per 1000 I/O of the last run
    awk -v c="$1" -v n="$(jq '.jobs[0].read.total_ios' "$WORK/fio.json")" 'BEGIN { printf "%.0f", c * 1000 / n }'
}
# Reaping syscalls (io_getevents + io_pgetevents) per 1000 I/O, from a run under strace.
reaping_syscalls_strace() { # LIB TARGET QD
    run_fio "$1" "$2" "$3" 1 strace -f -c -o "$WORK/strace.txt" -e trace=io_getevents,io_pgetevents
    per_kio "$(awk '$NF ~ /^io_p?getevents$/ { n += $4 } END { print n + 0 }' "$WORK/strace.txt")"
}
# The same for ours from its own counters, in a run that strace does not slow
# down (under strace more completions are already in the ring when fio reaps).
reaping_syscalls_counted() { # OURS TARGET QD
    run_fio "$1" "$2" "$3" 1 env LIBAIO_RS_STATS=1
    local syscalls
    syscalls=$(sed -n 's/^libaio-rs: [0-9]* reaping calls served from the ring without a syscall, \([0-9]*\) reaping syscalls$/\1/p' "$WORK/fio.err")
    [ -n "$syscalls" ] || { echo "no LIBAIO_RS_STATS line from fio:"; cat "$WORK/fio.err"; exit 1; }
    per_kio "$syscalls"
}
# median min max of the numbers on stdin
summary() { sort -g | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%s %s %s\n", m, v[1], v[NR] }'; }

echo "| workload | IOPS system [min-max] | IOPS ours [min-max] | IOPS ours/system (target >= 0.97) | CPU ns/IO system | CPU ns/IO ours | CPU ours/system (target <= 1.03) | reaping syscalls per 1000 I/O: system (strace) | ours (strace) | ours (own counters) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
fio_workload() { # NAME TARGET QD [OURS: ours (default) or ours-syscalls]
    local name=$1 target=$2 qd=$3 ours=${4:-ours} lib round iops cpu
    : > "$WORK/iops.system"; : > "$WORK/iops.$ours"; : > "$WORK/cpu.system"; : > "$WORK/cpu.$ours"
    for ((round = 0; round < FIO_ROUNDS; round++)); do
        for lib in system "$ours"; do
            run_fio "$lib" "$target" "$qd" "$FIO_SECONDS"
            read -r iops cpu < <(fio_iops_cpu)
            echo "$iops" >> "$WORK/iops.$lib"
            echo "$cpu" >> "$WORK/cpu.$lib"
        done
    done
    local si si_min si_max so so_min so_max sc oc gs go gc
    read -r si si_min si_max < <(summary < "$WORK/iops.system")
    read -r so so_min so_max < <(summary < "$WORK/iops.$ours")
    read -r sc _ _ < <(summary < "$WORK/cpu.system")
    read -r oc _ _ < <(summary < "$WORK/cpu.$ours")
    gs=$(reaping_syscalls_strace system "$target" "$qd")
    go=$(reaping_syscalls_strace "$ours" "$target" "$qd")
    gc=$(reaping_syscalls_counted "$ours" "$target" "$qd")
    awk -v n="$name" -v si="$si" -v si0="$si_min" -v si1="$si_max" -v so="$so" -v so0="$so_min" -v so1="$so_max" \
        -v sc="$sc" -v oc="$oc" -v gs="$gs" -v go="$go" -v gc="$gc" 'BEGIN {
        ri = so / si; rc = oc / sc
        printf "| %s | %.0f [%.0f-%.0f] | %.0f [%.0f-%.0f] | %.3fx %s | %.0f | %.0f | %.3fx %s | %s | %s | %s |\n",
            n, si, si0, si1, so, so0, so1, ri, (ri >= 0.97 ? "PASS" : "MISS"), sc, oc, rc, (rc <= 1.03 ? "PASS" : "MISS"), gs, go, gc }'
}
fio_workload "tmpfs file QD1" "$DATA/file" 1
fio_workload "tmpfs file QD32" "$DATA/file" 32
if [ "$(id -u)" != 0 ]; then
    echo
    echo "loop device workloads skipped: losetup needs root"
elif ! LOOP=$(losetup --direct-io=on --find --show "$DATA/file" 2>"$WORK/losetup.err"); then
    echo
    echo "loop device workloads skipped: losetup failed: $(cat "$WORK/losetup.err")"
    LOOP=
else
    [ "$(cat "/sys/block/${LOOP#/dev/}/loop/dio")" = 1 ] || { echo "$LOOP did not get direct I/O"; exit 1; }
    fio_workload "loop dio QD1" "$LOOP" 1
    fio_workload "loop dio QD32" "$LOOP" 32
    # The control for the row above: ours reaping through the syscall only.
    fio_workload "loop dio QD32, ours with LIBAIO_RS_FORCE_SYSCALL=1" "$LOOP" 32 ours-syscalls
fi
echo
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
