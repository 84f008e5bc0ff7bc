#!/usr/bin/env bash
# Programs that sandbox themselves with seccomp (capi-tests/sandbox), as
# stenographer's writer threads do: after their filter is installed, any
# syscall but upstream libaio's and the few the program itself needs kills
# them with SIGSYS. Each runs against the system libaio, ours, and ours with
# LIBAIO_RS_FORCE_SYSCALL=1: it must exit 0, print what it prints with the
# system libaio, and bind io_* to the library meant. strace then checks that
# no thread of them makes a syscall outside the allowlist, and prints the
# threaded program's syscall counts with each library.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"
SANDBOX_DIR="$ROOT/capi-tests/sandbox"
KILLED_BY_SIGSYS=$((128 + 31))
KILLED_BY_SIGALRM=$((128 + 14))

# The programs, and the syscalls' numbers and names from the compiler's
# headers ("NUMBER NAME" a line): those of the architecture built for.
build_programs() {
    local program
    for program in single threaded; do
        build "sandbox-$program" gcc -O2 -pthread "$SANDBOX_DIR/$program.c" "${OUR_BUILD[@]}"
    done
    # Each __NR_ macro expanded by the preprocessor (some are defined by others).
    { echo '#include <sys/syscall.h>'
      printf '#include <sys/syscall.h>\n' | gcc -dM -E - | awk '$2 ~ /^__NR_/ { print "syscall", $2, substr($2, 6) }'
    } | gcc -E -P - | awk '$1 == "syscall" && $2 ~ /^[0-9]+$/ { print $2, $3 }' >"$WORK/syscall-names"
}
programs_from build_programs syscall-names

# syscall_name NUMBER: the name of syscall NUMBER.
syscall_name() {
    awk -v nr="$1" '$1 == nr { print $2; exit }' "$WORK/syscall-names"
}

# Why strace cannot be used here, if it cannot.
STRACE_PROBLEM=
if ! command -v strace >/dev/null; then
    STRACE_PROBLEM="strace is not installed (capi-tests/deps.sh installs it)"
elif ! strace -qq -o /dev/null true 2>/dev/null; then
    STRACE_PROBLEM="strace cannot trace here (is ptrace forbidden?)"
fi
DMESG_READABLE=1
if ! dmesg >/dev/null 2>&1; then
    DMESG_READABLE=
    echo "dmesg is not readable (it needs root or kernel.dmesg_restrict=0): killing syscalls are found with strace"
fi

# audit_line_syscall PID: the number of the syscall the kernel's audit line
# (type=1326) says the filter killed process PID for. The line comes from a
# kernel thread a moment later, and printk's rate limit may drop it.
audit_line_syscall() {
    local nr
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        nr=$(dmesg | grep 'type=1326' | grep " pid=$1 " | tail -n 1 | sed -n 's/.* syscall=\([0-9]*\) .*/\1/p')
        [ -z "$nr" ] || { echo "$nr"; return; }
        sleep 0.1
    done
}

# killing_syscall PID COMMAND...: the syscall the filter killed process PID,
# which ran COMMAND, for: from its audit line in dmesg; where dmesg cannot
# be read or has no such line, the last syscall strace sees before the kill
# when COMMAND runs again.
killing_syscall() {
    local pid=$1 nr=; shift
    [ -z "$DMESG_READABLE" ] || nr=$(audit_line_syscall "$pid")
    if [ -n "$nr" ]; then
        echo "$(syscall_name "$nr") (syscall $nr, from the kernel's audit line)"
        return
    fi
    [ -z "$STRACE_PROBLEM" ] || { echo "a syscall that neither dmesg nor strace could name ($STRACE_PROBLEM)"; return; }
    strace -f -qq -o "$WORK/killed.strace" "$@" >/dev/null 2>&1
    sed -n '/+++ killed by SIGSYS/q; s/^[0-9]* *\([a-z0-9_]*\)(.*/\1/p' "$WORK/killed.strace" | tail -n 1 |
        sed 's/$/ (the last syscall strace saw before the kill)/'
}

# run_sandboxed LABEL LIBDIR PROGRAM [VAR=VALUE...]: runs PROGRAM with LIBDIR
# on the library path, relays its checks and checks that it exited 0, not
# killed by its filter, and that its io_* calls went to LIBDIR/libaio.so.1.
# Its output stays in $WORK/LABEL.out.
run_sandboxed() {
    local label=$1 libdir=$2 program=$3; shift 3
    local command=(env "$@" LD_LIBRARY_PATH="$libdir" TMPDIR="$WORK" "$program")
    local output="$WORK/$label.out" trace="$WORK/sandbox.bindings" pid status
    "${command[@]}" >"$output" 2>"$WORK/$label.err" &
    pid=$!
    wait "$pid" 2>/dev/null
    status=$?
    relay_checks "$label" "$output"
    sed "s/^/$label: stderr: /" "$WORK/$label.err"
    case $status in
        0) pass "$label: exits 0, not killed by the seccomp filter" ;;
        "$KILLED_BY_SIGSYS")
            fail "$label: killed by SIGSYS (status $status): the seccomp filter caught $(killing_syscall "$pid" \
                "${command[@]}"); the library may make no syscall but io_setup, io_destroy, io_submit, io_cancel, \
io_getevents, io_pgetevents (and futex where threads share a context)" ;;
        "$KILLED_BY_SIGALRM") fail "$label: hung until its 30 s watchdog (SIGALRM): a lost completion or wake-up" ;;
        *)
            if [ "$status" -gt 128 ]; then
                fail "$label: killed by SIG$(kill -l $((status - 128))) (status $status), want exit 0"
            else
                fail "$label: exits $status, want 0 (see its 'not ok' lines)"
            fi ;;
    esac
    # LD_DEBUG writes again at exit, with getpid, which the filter forbids:
    # the bindings come from a run without it.
    traced "$trace" env SANDBOX_NO_FILTER=1 "${command[@]:1}" >/dev/null 2>&1
    check_bound_to "$label" "$trace" "$program" "$libdir/libaio.so.1"
}

# check_same_output LABEL REFERENCE: a check that LABEL's run printed what REFERENCE's did.
check_same_output() {
    local output="$WORK/$1.out" reference="$WORK/$2.out" lines
    lines=$(wc -l <"$output")
    if cmp -s "$reference" "$output"; then
        pass "$1: prints what $2 prints"
    elif cmp -s <(head -n "$lines" "$reference") "$output"; then
        fail "$1: stops after $lines of the $(wc -l <"$reference") lines $2 prints (see how it ended, above)"
    else
        diff -u "$reference" "$output" | tail -n +3 | head -n 12 | sed "s/^/$1: /"
        fail "$1: prints other lines than $2 (diff above, at most 12 lines): each step must answer as with the system libaio"
    fi
}

for program in single threaded; do
    run_sandboxed "${program}[system]" "$SYSTEM_LIBDIR" "$WORK/sandbox-$program"
    run_sandboxed "${program}[ours]" "$OUR_LIBDIR" "$WORK/sandbox-$program"
    check_same_output "${program}[ours]" "${program}[system]"
    run_sandboxed "${program}[ours, syscalls only]" "$OUR_LIBDIR" "$WORK/sandbox-$program" LIBAIO_RS_FORCE_SYSCALL=1
    check_same_output "${program}[ours, syscalls only]" "${program}[system]"
done
# The control of single's first step, an io_setup refused with EAGAIN: with
# the report on, the library reads /proc/sys/fs there, which the filter
# forbids, so the runs above show that with it off it adds no syscall.
env LIBAIO_RS_STATS=1 LD_LIBRARY_PATH="$OUR_LIBDIR" TMPDIR="$WORK" "$WORK/sandbox-single" >"$WORK/report-on.out" 2>/dev/null &
pid=$!
wait "$pid" 2>/dev/null
status=$?
if [ "$status" -eq "$KILLED_BY_SIGSYS" ] && [ ! -s "$WORK/report-on.out" ] &&
   killed_by=$(killing_syscall "$pid" env LIBAIO_RS_STATS=1 LD_LIBRARY_PATH="$OUR_LIBDIR" TMPDIR="$WORK" \
       "$WORK/sandbox-single") && [[ $killed_by == openat* ]]; then
    pass "single[ours, report on]: killed in its first step, the refused io_setup, by $killed_by"
else
    fail "single[ours, report on]: with LIBAIO_RS_STATS=1 the refused io_setup's read of /proc/sys/fs must kill it" \
        "(status $status, want $KILLED_BY_SIGSYS; it printed $(wc -l <"$WORK/report-on.out") lines, want none;" \
        "killed by ${killed_by:-?}): report::setup_failed reads /proc only with the report on"
fi

# A reaper polling in user space while io_destroy runs: ours only (upstream
# reads the unmapped ring there and crashes); it ends with -EINVAL all the same.
for mode in "" "syscalls only"; do
    label="threaded[ours, ${mode:+$mode, }polling through io_destroy]"
    run_sandboxed "$label" "$OUR_LIBDIR" "$WORK/sandbox-threaded" SANDBOX_POLL_THROUGH_DESTROY=1 \
        ${mode:+LIBAIO_RS_FORCE_SYSCALL=1}
    check_same_output "$label" "threaded[system]"
done

# syscalls_after_filter_point LOG: the syscalls that strace log LOG shows,
# in any thread, after the PR_SET_NO_NEW_PRIVS prctl that precedes the filter.
syscalls_after_filter_point() {
    sed -n '/prctl(PR_SET_NO_NEW_PRIVS/,$p' "$1" | tail -n +2 | grep -vF '<... prctl resumed>' |
        sed -nE 's/^[0-9]+ +(<\.\.\. )?([a-z0-9_]+)(\(| resumed>).*/\2/p' | sort -u
}

# check_within_allowlist LABEL LIBDIR PROGRAM [VAR=VALUE...]: runs PROGRAM
# without its filter under strace -f; a check that no thread makes a
# syscall outside PROGRAM's allowlist where the filter would be installed.
check_within_allowlist() {
    local label=$1 libdir=$2 program=$3 outside status; shift 3
    # (The braces keep the shell's own line about a crash out of the output.)
    { strace -f -qq -o "$WORK/allowlist.strace" env "$@" SANDBOX_NO_FILTER=1 LD_LIBRARY_PATH="$libdir" \
        TMPDIR="$WORK" "$program" >/dev/null 2>&1; } 2>/dev/null
    status=$?
    SANDBOX_LIST_ALLOWED=1 "$program" | sort >"$WORK/allowed"
    outside=$(comm -23 <(syscalls_after_filter_point "$WORK/allowlist.strace") "$WORK/allowed")
    if [ -n "$outside" ]; then
        fail "$label: under strace, without the filter, some thread makes ${outside//$'\n'/, }, outside the allowlist;" \
            "a sandbox that allows libaio's syscalls kills it there: the library must make none of them"
    elif [ "$status" -ne 0 ]; then
        fail "$label: under strace, without the filter, the program did not run to its end (status $status)," \
            "so strace saw only part of its syscalls (see $label's run above)"
    else
        pass "$label: under strace, no thread makes a syscall outside the allowlist"
    fi
}

# print_syscall_counts LABEL LIBDIR [VAR=VALUE...]: prints strace -f -c's
# table for the threaded program without its filter (for notes; no check).
print_syscall_counts() {
    local label=$1 libdir=$2; shift 2
    strace -f -qq -c -o "$WORK/counts.strace" env "$@" SANDBOX_NO_FILTER=1 LD_LIBRARY_PATH="$libdir" \
        TMPDIR="$WORK" "$WORK/sandbox-threaded" >/dev/null 2>&1
    echo "strace -f -c of threaded[$label], whole run without the filter:"
    sed 's/^/    /' "$WORK/counts.strace"
}

if [ -z "$STRACE_PROBLEM" ]; then
    for program in single threaded; do
        check_within_allowlist "${program}[system]" "$SYSTEM_LIBDIR" "$WORK/sandbox-$program"
        check_within_allowlist "${program}[ours]" "$OUR_LIBDIR" "$WORK/sandbox-$program"
        check_within_allowlist "${program}[ours, syscalls only]" "$OUR_LIBDIR" "$WORK/sandbox-$program" \
            LIBAIO_RS_FORCE_SYSCALL=1
    done
    check_within_allowlist "threaded[ours, polling through io_destroy]" "$OUR_LIBDIR" "$WORK/sandbox-threaded" \
        SANDBOX_POLL_THROUGH_DESTROY=1
    print_syscall_counts system "$SYSTEM_LIBDIR"
    print_syscall_counts ours "$OUR_LIBDIR"
    print_syscall_counts "ours, syscalls only" "$OUR_LIBDIR" LIBAIO_RS_FORCE_SYSCALL=1
else
    fail "strace: cannot check the syscalls each thread makes ($STRACE_PROBLEM)"
fi
finish
