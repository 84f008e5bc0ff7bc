#!/usr/bin/env bash
# The report (src/report/: LIBAIO_RS_STATS, LIBAIO_RS_STATS_JSON,
# LIBAIO_RS_SLOW_SUBMIT_US) against what really happened: a submission that
# blocks (timed by the program itself, with the system libaio too),
# O_DIRECT reads of tmpfs that do not, counts against strace, fio's forked
# jobs, errors in res by errno, fork, silence when it is off, an io_setup
# refused with EAGAIN explained (the limit lowered for real, the request over
# it alone, an EAGAIN that is not the limit's), and the text's layout: the
# JSON's numbers, the diagnosis first, bars, lines under 100 columns. The
# workloads are capi-tests/report/report.c's and eagain.c's modes.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"
source "$ROOT/capi-tests/report/lib.sh"
source "$ROOT/capi-tests/report/text.sh"
# Switches inherited from the caller would change every run below.
unset LIBAIO_RS_STATS LIBAIO_RS_STATS_JSON LIBAIO_RS_SLOW_SUBMIT_US LIBAIO_RS_FORCE_SYSCALL

REPORT="$WORK/report"
build_programs() {
    build report gcc -O2 -pthread "$ROOT/capi-tests/report/report.c" "${OUR_BUILD[@]}"
    build eagain gcc -O2 "$ROOT/capi-tests/report/eagain.c" "${OUR_BUILD[@]}"
}
programs_from build_programs
[ -x "$REPORT" ] || finish
TMPFS_DIR=$(mktemp -d /dev/shm/capi-report.XXXXXX)
at_exit "rm -rf '$TMPFS_DIR'"
# A disk filesystem (not tmpfs, which takes misaligned O_DIRECT buffers).
DISK_DIR=$(mktemp -d /var/tmp/capi-report.XXXXXX)
at_exit "rm -rf '$DISK_DIR'"

# 1. A read of an empty pipe blocks inside io_submit until another thread
# writes, 50 ms later; three reads of /dev/zero before it do not. The slow
# threshold, 10 ms, is far above what a read of /dev/zero takes even on a
# busy machine and far below the blocked call.
SLOW_US=10000
FAST_READS=3
run_report "blocking-pipe[system]" "$SYSTEM_LIBDIR" -- "$REPORT" blocking-pipe $FAST_READS
verify "blocking-pipe[system]: io_submit blocked >= 45 ms ($(printed "blocking-pipe[system]" submit_us) µs)" \
    "the kernel no longer blocks a pipe read inside io_submit: give report.c's blocking-pipe a read that does" \
    at_least "$(printed "blocking-pipe[system]" submit_us)" 45000
run_report "blocking-pipe[ours]" "$OUR_LIBDIR" LIBAIO_RS_SLOW_SUBMIT_US=$SLOW_US \
    LIBAIO_RS_STATS_JSON="$WORK/blocking.json" -- "$REPORT" blocking-pipe $FAST_READS
measured=$(printed "blocking-pipe[ours]" submit_us)
verify "blocking-pipe[ours]: io_submit blocked >= 45 ms ($measured µs)" \
    "it did with the system libaio: our io_submit must not do the I/O differently (src/submit.rs)" \
    at_least "$measured" 45000
expect_count "blocking-pipe[ours]" context 1 "$WORK/blocking.json"
context=$(objects context "$WORK/blocking.json")
expect "blocking-pipe[ours]: slow_submit_us is LIBAIO_RS_SLOW_SUBMIT_US" "$context" ".slow_submit_us == $SLOW_US" \
    "report::init must read the threshold"
expect "blocking-pipe[ours]: $((FAST_READS + 1)) calls, 1 slow" "$context" \
    '.submit_calls == $calls and .slow_submits == 1' \
    "every io_submit counts, and as slow only if it took the threshold or more (report::submitted)" \
    --argjson calls $((FAST_READS + 1))
expect "blocking-pipe[ours]: slowest call's fd is the pipe's" "$context" '.slowest_submit_fd == $fd' \
    "note_slowest must keep the first iocb of the slowest call (src/report/counters.rs)" \
    --argjson fd "$(printed "blocking-pipe[ours]" pipe_read_fd)"
expect "blocking-pipe[ours]: slowest call is one 1-byte IO_CMD_PREAD" "$context" \
    '.slowest_submit_opcode == 0 and .slowest_submit_ios == 1 and .slowest_submit_bytes == 1' \
    "note_slowest must keep aio_lio_opcode, nbytes and the call's I/O count"
expect "blocking-pipe[ours]: slowest_submit_us within 45 ms and the program's own $measured µs + 5 ms" "$context" \
    '.slowest_submit_us >= 45000 and .slowest_submit_us <= $measured + 5000' \
    "the library must time io_submit with CLOCK_MONOTONIC around the syscall, in µs" \
    --argjson measured "${measured:-0}"
expect "blocking-pipe[ours]: slowest call not on an O_DIRECT file" "$context" '.slowest_submit_o_direct == false' \
    "a pipe has no O_DIRECT: fcntl(F_GETFL) of the slowest call's fd tells (report::opened_with_o_direct)"
expect "blocking-pipe[ours]: the histogram holds every call, the slow one in its power-of-two bucket" "$context" \
    '. as $r | (.submit_us_histogram | map(.[1]) | add) == .submit_calls and
     (.submit_us_histogram | map(select(.[0] > $r.slow_submit_us))) as $slow |
     ($slow | length) == 1 and $slow[0][1] == 1 and
     $slow[0][0] / 2 <= $r.slowest_submit_us and $r.slowest_submit_us < $slow[0][0]' \
    "bucket i counts calls of 2^(i-1) to 2^i µs, and only its non-empty buckets are listed (Counters::count_submit_time)"
run_report "blocking-pipe[ours, text]" "$OUR_LIBDIR" LIBAIO_RS_SLOW_SUBMIT_US=$SLOW_US LIBAIO_RS_STATS=1 \
    LIBAIO_RS_STATS_JSON="$WORK/blocking-text.json" -- "$REPORT" blocking-pipe $FAST_READS
text="$WORK/blocking-pipe[ours, text].err"
check_text_matches_json "blocking-pipe[ours, text]" "$text" "$WORK/blocking-text.json"
verify_text "blocking-pipe[ours, text]: a context report 'libaio-rs: context 0x... of pid N:'" \
    "render::text must begin each context's report so" '^libaio-rs: context 0x[0-9a-f]+ of pid [0-9]+:' "$text"
verify_text "blocking-pipe[ours, text]: shows slow_submits=1" "the text must show the JSON's key=value" \
    '(^| )slow_submits=1( |$)' "$text"
verify_text "blocking-pipe[ours, text]: has a diagnosis: line" \
    "a call in $((FAST_READS + 1)) blocked: render::diagnosis must say so" '^ *diagnosis: .' "$text"

# 2. O_DIRECT reads of a tmpfs file complete inside io_submit without
# blocking: the report calls none slow. Slow is 50 µs by default, about six
# times what such a call takes on a native machine (7-9 µs here); an
# emulated one is 10 to 100 times slower, so the threshold follows the
# machine: five times the median call of a first run, or the default where
# that is less. The VM itself stalls syscalls past 50 µs now and then: in 20
# to 55% of runs of 200 calls one call or more did, with the system libaio
# too, and the stalls come in bursts. The library's clock reads lie within
# the program's, around each io_submit, so the report may count no more slow
# calls than the program saw; and a run where the program saw none, run
# again until there is one, must report none.
if ! dd if=/dev/zero of="$TMPFS_DIR/direct" bs=4k count=64 oflag=direct status=none 2>"$WORK/dd.err"; then
    echo "SKIP: direct-reads: tmpfs refuses O_DIRECT before Linux 6.6 ($(uname -r)): $(cat "$WORK/dd.err")"
else
    run_report "direct-reads[ours, timing]" "$OUR_LIBDIR" -- "$REPORT" direct-reads "$TMPFS_DIR/direct" 50
    median=$(printed "direct-reads[ours, timing]" median_call_us)
    at_least "$median" 0 || median=0
    slow_us=$((median * 5 > 50 ? median * 5 : 50))
    threshold=()
    [ "$slow_us" = 50 ] || threshold=(LIBAIO_RS_SLOW_SUBMIT_US=$slow_us)
    echo "direct-reads: the median io_submit of 8 O_DIRECT reads took $median µs here: slow is $slow_us µs" \
        "(${threshold[*]:-the default})"
    overcounted=
    for attempt in $(seq 20); do
        rm -f "$WORK/direct.json"
        run_report "direct-reads[ours]" "$OUR_LIBDIR" LIBAIO_RS_STATS=1 LIBAIO_RS_STATS_JSON="$WORK/direct.json" \
            "${threshold[@]}" -- "$REPORT" direct-reads "$TMPFS_DIR/direct" "$slow_us"
        stalls=$(printed "direct-reads[ours]" slow_by_own_clock)
        counted=$(objects context "$WORK/direct.json" | jq .slow_submits)
        if at_least "$stalls" 0 && ! at_least "$stalls" "${counted:-0}"; then
            overcounted+=" run $attempt: $counted, program: $stalls;"
        fi
        at_least "$stalls" 1 || break # no stall (or no answer): this run decides
        echo "direct-reads: run $attempt disturbed: $stalls io_submit calls took >= $slow_us µs by the program's" \
            "own clock (the report says slow_submits=$counted); again"
    done
    verify "direct-reads: never more slow calls than the program's own clock saw" \
        "the library counts calls as slow that were not:$overcounted see report::submitted" [ -z "$overcounted" ]
    verify "direct-reads: a run without a stall of the machine" \
        "the program failed (above), or saw stalls in each of 20 runs: run the suite on a quieter machine" \
        [ "$stalls" = 0 ]
    context=$(objects context "$WORK/direct.json")
    expect "direct-reads: 1600 reads in 200 calls, none slow at $slow_us µs, no diagnosis" "$context" \
        ".slow_submit_us == $slow_us and .submit_calls == 200 and .slow_submits == 0 and .diagnosis == \"\"" \
        "none took $slow_us µs by the program's clock: the library's timing of io_submit is wrong (report::submitted)"
    expect "direct-reads: ios and ios_by_opcode count 1600 preads" "$context" \
        '.ios == 1600 and .ios_by_opcode == {"pread": 1600}' "report::submitted must count each accepted iocb by opcode"
    check_text_matches_json "direct-reads[ours]" "$WORK/direct-reads[ours].err" "$WORK/direct.json"
fi

# 3. The report's counts against strace's: io_submit calls, the I/Os they
# accepted, reaping syscalls; every I/O reaped once, from the ring or not.
run_report "mix[ours, strace]" "$OUR_LIBDIR" LIBAIO_RS_STATS_JSON="$WORK/mix.json" -- \
    strace -f -qq --seccomp-bpf -e trace=io_submit,io_getevents,io_pgetevents -o "$WORK/mix.strace" "$REPORT" mix
# calls_of NAME...: how many calls of the syscalls NAME strace logged.
calls_of() { grep -cE "(^|[[:space:]])($(IFS='|'; echo "$*"))\\(" "$WORK/mix.strace"; }
expect_count "mix" context 1 "$WORK/mix.json"
context=$(objects context "$WORK/mix.json")
expect "mix: submit_calls is strace's io_submit count, and the program's" "$context" \
    '.submit_calls == $strace and .submit_calls == $program' \
    "every io_submit the library makes must be counted once (report::submitted)" \
    --argjson strace "$(calls_of io_submit)" --argjson program "$(printed "mix[ours, strace]" submit_calls)"
expect "mix: ios is the sum of io_submit's answers" "$context" '.ios == $ios' \
    "ios must add what each io_submit accepted" --argjson ios "$(printed "mix[ours, strace]" ios)"
expect "mix: reap_syscalls is strace's io_getevents + io_pgetevents count" "$context" '.reap_syscalls == $strace' \
    "every reaping syscall the library makes must be counted once (report::reaped_by_syscall)" \
    --argjson strace "$(calls_of io_getevents io_pgetevents)"
expect "mix: reaped_from_ring + reaped_by_syscall == ios" "$context" '.reaped_from_ring + .reaped_by_syscall == .ios' \
    "each event the library hands out must be counted once, where it came from (src/reap.rs)"
expect "mix: the waits that had to wait are counted, with their time" "$context" \
    '.waits >= $waits and .wait_us >= $wait_us' \
    "a reaping syscall that may wait counts as a wait, with the time it took (report::reaped_by_syscall)" \
    --argjson waits "$(printed "mix[ours, strace]" waits_at_least)" \
    --argjson wait_us "$(printed "mix[ours, strace]" wait_us_at_least)"
expect "mix: the process report adds up its one context" "$(objects process "$WORK/mix.json")" \
    'del(.scope, .pid) == ($context | del(.scope, .pid, .ctx))' \
    "io_destroy must add the context's counters to the process total (report::context_destroyed)" \
    --argjson context "${context:-null}"

# 4. fio's forked jobs io_destroy their contexts, then _exit: one context
# report each, from its own process. The main process never calls io_setup,
# so it has nothing to report: the report starts with a process's first
# io_setup. Without verify or fsync options, fio's own counts are exactly
# the reads and writes it submitted. (On tmpfs; before Linux 6.6, whose
# tmpfs refuses O_DIRECT, on the disk.)
FIO_DIR="$TMPFS_DIR/fio"
dd if=/dev/zero of="$TMPFS_DIR/probe" bs=4k count=1 oflag=direct status=none 2>/dev/null || FIO_DIR="$DISK_DIR/fio"
FIO_IODEPTH=8
mkdir "$FIO_DIR"
# sh execs fio in its own process, so the pid it writes is fio's.
timeout 60 sh -c 'echo $$ > "$0"; exec "$@"' "$WORK/fio.pid" \
    env LD_PRELOAD="$OUR_SO" LIBAIO_RS_STATS=1 LIBAIO_RS_STATS_JSON="$FIO_DIR/report.%p.json" \
    fio --name=report --numjobs=3 --ioengine=libaio --direct=1 --rw=randrw --bs=4k --iodepth=$FIO_IODEPTH --size=2M \
    --directory="$FIO_DIR" --output-format=json --output="$WORK/fio.json" 2>"$WORK/fio.err"
if [ $? -eq 0 ]; then
    pass "fio: 3 forked jobs ran"
else
    fail "fio: 3 forked jobs ran: fio failed (its stderr below); it needs $FIO_DIR to take O_DIRECT"
    sed 's/^/    /' "$WORK/fio.err"
fi
fio_pid=$(cat "$WORK/fio.pid")
TEXT_OUTPUTS+=("$WORK/fio.err")
expect_count "fio" context 3 "$FIO_DIR"/report.*.json
expect_count "fio" process 0 "$FIO_DIR"/report.*.json
verify "fio: each report is in the file its pid names" "LIBAIO_RS_STATS_JSON's %p must be the writer's pid" \
    bash -c 'for file; do pid=${file##*report.}; jq -e -s --argjson pid "${pid%.json}" "all(.pid == \$pid)" \
        "$file" >/dev/null 2>&1 || exit 1; done' _ "$FIO_DIR"/report.*.json
expect "fio: the context reports come from 3 other processes, one each" \
    "$(objects context "$FIO_DIR"/report.*.json | jq -s -c 'map(.pid)')" \
    'unique | length == 3 and all(. != $fio)' "each forked job's io_destroy must report its context" \
    --argjson fio "$fio_pid"
expect "fio: each job's reads and writes are what fio counted" \
    "$(objects context "$FIO_DIR"/report.*.json | jq -s -c 'map([.ios_by_opcode.pread // 0, .ios_by_opcode.pwrite // 0, .ios, .ring_size]) | sort')" \
    '. == $fio and all(.[2] > 0)' \
    "per job [preads, pwrites, ios, ring_size] must be fio's [read.total_ios, write.total_ios, their sum, iodepth]" \
    --argjson fio "$(sed -n '/^{$/,$p' "$WORK/fio.json" |
        jq -c --argjson depth $FIO_IODEPTH \
            '[.jobs[] | [.read.total_ios, .write.total_ios, .read.total_ios + .write.total_ios, $depth]] | sort')"

# 5. Errors in res, by errno: reads into unmapped memory (EFAULT), O_DIRECT
# reads into a misaligned buffer on a filesystem that refuses them (EINVAL).
fstype=$(stat -f -c %T "$DISK_DIR")
if [[ $fstype != ext2/ext3 && $fstype != xfs ]] ||
   ! dd if=/dev/zero of="$DISK_DIR/direct" bs=4k count=2 oflag=direct status=none 2>/dev/null; then
    echo "SKIP: res-errors: $DISK_DIR is on $fstype, not an ext4 or xfs that takes O_DIRECT"
else
    run_report "res-errors[ours]" "$OUR_LIBDIR" LIBAIO_RS_STATS=1 LIBAIO_RS_STATS_JSON="$WORK/errors.json" \
        -- "$REPORT" res-errors "$DISK_DIR/direct"
    expect "res-errors: res_errors is {EFAULT: 3, EINVAL: 2}" "$(objects context "$WORK/errors.json")" \
        '.res_errors == {"EFAULT": 3, "EINVAL": 2}' "Counters::finished must count each negative res by errno"
    # In either order.
    for entry in EFAULT=3 EINVAL=2; do
        verify_text "res-errors[text]: res_errors: lists $entry" "render::text must list each errno=count" \
            "res_errors:( [A-Za-z0-9_]+=[0-9]+)* $entry( |\$)" "$WORK/res-errors[ours].err"
    done
    check_text_matches_json "res-errors[ours]" "$WORK/res-errors[ours].err" "$WORK/errors.json"
fi

# 6. Off by default: the same mix, without the switches, writes nothing to
# stderr and creates no file; with them the same trace shows both (so that
# the check can see them).
# traced_off NAME [VAR=VALUE...]: runs the mix under strace, logging opens and writes to NAME.strace
# (open and creat where the architecture has them: riscv64 has openat only).
traced_off() {
    local name=$1; shift
    strace -f -qq -e trace='?open,openat,?creat,write' -o "$WORK/$name.strace" \
        env "$@" LD_LIBRARY_PATH="$OUR_LIBDIR" "$REPORT" mix >"$WORK/$name.out" 2>"$WORK/$name.err"
}
# report_traces NAME: what run NAME wrote to stderr, and its traced writes
# to stderr and opens that create a file.
report_traces() {
    cat "$WORK/$1.err"
    grep -E 'write\(2,|O_CREAT|creat\(' "$WORK/$1.strace"
}
traced_off off
relay_checks "mix[off]" "$WORK/off.out"
if [ -z "$(report_traces off)" ]; then
    pass "mix[off]: no report on stderr, no file created"
else
    fail "mix[off]: no report on stderr, no file created: with no LIBAIO_RS_STATS* set the library must write nothing"
    report_traces off | sed 's/^/    /'
fi
traced_off on LIBAIO_RS_STATS=1 LIBAIO_RS_STATS_JSON="$WORK/on.json"
verify "mix[on]: the same trace shows the report" \
    "strace must log the report's write(2, ...) and its O_CREAT open, or the check above sees nothing" \
    eval 'grep -q "write(2," "$WORK/on.strace" && grep -q O_CREAT "$WORK/on.strace"'
check_text_matches_json "mix[on]" "$WORK/on.err" "$WORK/on.json"

# 7. fork: the child's reports count the child's context only.
FORK_DIR="$WORK/fork"
mkdir "$FORK_DIR"
run_report "fork[ours]" "$OUR_LIBDIR" LIBAIO_RS_STATS_JSON="$FORK_DIR/report.%p.json" -- "$REPORT" fork
parent=$(printed "fork[ours]" parent_pid)
child=$(printed "fork[ours]" child_pid)
verify "fork: one report file per process" "each process must write to the file its pid names" \
    [ "$(ls "$FORK_DIR" | sort)" = "$(printf 'report.%s.json\n' "$parent" "$child" | sort)" ]
expect "fork: the child's context report is its own, 2 reads" "$(objects context "$FORK_DIR/report.$child.json")" \
    '.pid == $child and .contexts == 1 and .ios == 2' "the child's io_destroy must report the child's context" \
    --argjson child "${child:-0}"
expect "fork: the child's process report counts its own context only" \
    "$(objects process "$FORK_DIR/report.$child.json")" '.pid == $child and .contexts == 1 and .ios == 2' \
    "the fork handler must forget the parent's counters and contexts (report::forget_all)" --argjson child "${child:-0}"
expect "fork: the parent's process report counts its own context only" \
    "$(objects process "$FORK_DIR/report.$parent.json")" '.pid == $parent and .contexts == 1 and .ios == 3' \
    "the child's counts must not reach the parent" --argjson parent "${parent:-0}"

# 8. An io_setup refused with EAGAIN, explained when the report is on: the
# request, aio-nr and aio-max-nr read at that moment, what this process holds
# (its live contexts' events), and what to do. eagain.c's programs print what
# they asked for and what /proc said just before and after the call. The
# kernel refuses when aio-nr + nr_events would pass aio-max-nr (lowered here
# for a moment, with another process holding contexts), when nr_events alone
# is over it, and for other reasons (a seccomp filter stands in for them).
EAGAIN="$WORK/eagain"
[ -x "$EAGAIN" ] || finish
source "$ROOT/capi-tests/report/eagain.sh"

# The limit: another process holds 3 contexts of 100 events; this one holds
# 64 + 32 and asks for LIMIT_ASK more, with aio-max-nr at aio-nr +
# LIMIT_MARGIN. Run again while another program changes aio-nr meanwhile.
mkfifo "$WORK/hold.in"
LD_LIBRARY_PATH="$SYSTEM_LIBDIR" "$EAGAIN" hold 100 3 <"$WORK/hold.in" >"$WORK/hold.out" 2>&1 &
holder=$!
exec {hold_in}>"$WORK/hold.in"
wait_for_ready "$WORK/hold.out"
for attempt in 1 2 3 4 5; do
    run_refusal limit "$OUR_LIBDIR" lower_limit refuse $LIMIT_ASK 64 32
    steady limit && break
    echo "limit: attempt $attempt disturbed: io_setup answered $(printed limit io_setup_result), aio-nr went from" \
        "$(printed limit aio_nr_before) to $(printed limit aio_nr_after); again"
done
verify "limit: fs.aio-max-nr is back to $ORIGINAL_MAX" "restore_aio_max_nr must put it back" \
    [ "$(cat "$AIO_MAX_NR")" = "$ORIGINAL_MAX" ]
exec {hold_in}>&-
wait "$holder"
relay_checks holder "$WORK/hold.out"
check_refusal limit $LIMIT_ASK "${LOWERED_MAX:-0}" 64 "aio-nr + nr_events is over aio-max-nr, aiostat, sysctl" \
    'contains("aio-nr + nr_events is over aio-max-nr") and contains("aiostat") and contains("sysctl fs.aio-max-nr")
     and (contains("alone") or contains("Not the limit") | not)'
expect "limit: aio_nr counts the other process's $(printed hold held_events) events besides this one's" \
    "$(objects io_setup "$WORK/limit.json")" '.aio_nr >= .held_events + $holder' \
    "aio-nr is read from /proc/sys/fs/aio-nr" --argjson holder "$(printed hold held_events)"

# nr_events alone over aio-max-nr (the kernel answers EINVAL instead above
# 4194304 events, its own bound on a ring). The system libaio answers the same.
ALONE_ASK=$(($(cat "$AIO_MAX_NR") + 1))
if [ "$ALONE_ASK" -gt 4194304 ]; then
    echo "SKIP: alone: fs.aio-max-nr is $((ALONE_ASK - 1)): io_setup($ALONE_ASK) gets EINVAL, not EAGAIN"
else
    for attempt in 1 2 3 4 5; do
        run_refusal alone "$OUR_LIBDIR" : refuse $ALONE_ASK 16
        steady alone && break
    done
    check_refusal alone $ALONE_ASK "$(printed alone aio_max_nr)" 16 "nr_events alone is over aio-max-nr, sysctl" \
        'contains("nr_events alone is over aio-max-nr") and contains("sysctl fs.aio-max-nr")
         and (contains("aio-nr + nr_events") or contains("Not the limit") | not)'
    run_refusal "alone[system]" "$SYSTEM_LIBDIR" : refuse $ALONE_ASK 16
    verify "alone[system]: io_setup($ALONE_ASK) answers -EAGAIN with the system libaio too" \
        "our answer must be upstream's (contexts::setup)" [ "$(printed "alone[system]" io_setup_result)" = -11 ]
fi

# An EAGAIN that is not the limit's: the numbers are within it, and the
# diagnosis says so rather than blaming it.
for attempt in 1 2 3 4 5; do
    run_refusal filtered "$OUR_LIBDIR" : filtered 16 8
    steady filtered && break
done
check_refusal filtered 16 "$(printed filtered aio_max_nr)" 8 "not the limit" \
    'contains("Not the limit") and (contains("over aio-max-nr") or contains("sysctl") | not)'
expect "filtered: the numbers are within the limit" "$(objects io_setup "$WORK/filtered.json")" \
    '.aio_nr + .nr_events <= .aio_max_nr' "the filter, not the limit, refused it"

# With the report off, an EAGAIN makes no syscall beyond the kernel's answer
# (suites/sandbox.sh runs one under a seccomp allowlist); on, it reads the
# two files of /proc/sys/fs (so that the check of the other can fail).
for state in off on; do
    switch=LIBAIO_RS_STATS=0
    [ "$state" = off ] || switch=LIBAIO_RS_STATS=1
    strace -f -qq -e trace=openat,write -o "$WORK/eagain-$state.strace" env "$switch" LD_LIBRARY_PATH="$OUR_LIBDIR" \
        "$EAGAIN" filtered 16 8 <<<go >"$WORK/eagain-$state.out" 2>&1
done
if [ -z "$(grep -E 'openat\(AT_FDCWD, "/proc/sys/fs/|write\(2,' "$WORK/eagain-off.strace")" ]; then
    pass "eagain[off]: no read of /proc/sys/fs, nothing written"
else
    fail "eagain[off]: with the report off the library reads and writes nothing (report::setup_failed checks on())"
    grep -E 'openat\(AT_FDCWD, "/proc/sys/fs/|write\(2,' "$WORK/eagain-off.strace" | sed 's/^/    /'
fi
verify "eagain[on]: the trace shows the reads of /proc/sys/fs/aio-nr and aio-max-nr" \
    "report::setup_failed must read both, or the check above sees nothing" \
    eval 'grep -q "openat(AT_FDCWD, \"/proc/sys/fs/aio-nr\"" "$WORK/eagain-on.strace" &&
          grep -q "openat(AT_FDCWD, \"/proc/sys/fs/aio-max-nr\"" "$WORK/eagain-on.strace"'

# 9. The text's layout, over every text report above: lines under 100
# columns, and a histogram bar for each bucket, as long as its share of the
# calls, all from one column.
long=$(awk '(/^libaio-rs: / || /^ /) && length > 99 { print "    " FILENAME ": " length " columns: " $0 }' \
    "${TEXT_OUTPUTS[@]}")
verify "layout: no line of the reports in ${#TEXT_OUTPUTS[@]} text outputs reaches 100 columns" \
    "render::report wraps them (Text::wrap at WIDTH):"$'\n'"$long" [ -z "$long" ]
bars=$(cat "${TEXT_OUTPUTS[@]}" | grep -cE '^ +<[0-9]+=[0-9]+')
bad=$(for file in "${TEXT_OUTPUTS[@]}"; do bad_bars "$file" | sed "s|^|    $(basename "$file"): |"; done)
verify "layout: the $bars histogram lines each have a # for each 2% of their report's calls, from one column" \
    "render's histogram draws ceil(calls * 50 / submit_calls) #:"$'\n'"$bad" eval '[ -z "$bad" ] && [ "$bars" -gt 0 ]'
finish
