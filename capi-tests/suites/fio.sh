#!/usr/bin/env bash
# The system's fio, its libaio engine served by our library (preloaded):
# writes verified with crc32c, with fio reaping through io_getevents and with
# fio reaping from the ring itself (userspace_reap), on a tmpfs file (requests
# complete inside io_submit) and on a direct-I/O loop device (they complete
# later, from another thread); then two jobs at once and a random read/write
# mix. Every run checks that our file, and no other libaio, was loaded.

# WORK on tmpfs, which takes O_DIRECT (checked below).
TMPDIR=/dev/shm source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/harness/loader.sh"

FIO=$(command -v fio)

# Each run moves a few thousand 4 KiB requests.
# No verify state files: they would land in the working directory.
FIO_OPTIONS=(--ioengine=libaio --direct=1 --verify=crc32c --verify_state_save=0 --bs=4k --iodepth=32 --size=8M)
USERSPACE_REAP=(--userspace_reap=1 --iodepth_batch_complete_min=0)
STATS_LINE='^libaio-rs: [0-9]+ reaping calls served from the ring without a syscall, [0-9]+ reaping syscalls$'

# run_fio NAME [VAR=VALUE...] -- OPTION...: runs fio as job NAME with our
# library preloaded and FIO_OPTIONS then OPTION; keeps its JSON report in
# NAME.json, its stderr in NAME.err and the loader's log in NAME.ld.*.
run_fio() {
    local name=$1 vars=(); shift
    while [ "$1" != -- ]; do vars+=("$1"); shift; done
    shift
    timeout 120 env "${vars[@]}" LD_PRELOAD="$OUR_SO" LD_DEBUG=files LD_DEBUG_OUTPUT="$WORK/$name.ld" \
        "$FIO" --name="$name" "${FIO_OPTIONS[@]}" "$@" \
        --output-format=json --output="$WORK/$name.json" 2> "$WORK/$name.err"
}

# fio_report NAME: the JSON report of run NAME, without the warnings and
# errors that fio writes before it into the same file.
fio_report() { sed -n '/^{$/,$p' "$WORK/$1.json"; }

# verified_run NAME [VAR=VALUE...] -- OPTION...: run_fio, then checks that fio
# succeeded, that each job wrote and read back at least as much as it wrote
# (the verify pass) without error, and that our library was the only libaio
# loaded.
verified_run() {
    local name=$1 status=0
    run_fio "$@" || status=$?
    local jobs
    jobs=$(fio_report "$name" |
        jq -r '.jobs[] | "\(.jobname): \(.write.total_ios) writes, \(.read.total_ios) reads, error \(.error)"')
    { echo "$jobs"; grep -E "$STATS_LINE" "$WORK/$name.err"; } | sed 's/^/    /'
    if [ $status -eq 0 ] && fio_report "$name" |
       jq -e '.jobs | length > 0 and all(.error == 0 and .write.total_ios > 0 and .read.total_ios >= .write.total_ios)' \
           > /dev/null; then
        pass "fio[$name]: writes verified without error"
    else
        fail "fio[$name]: writes verified without error (fio exited $status)"
        cat "$WORK/$name.err"
    fi
    local objects
    objects=$(libaio_objects "$WORK/$name".ld.*)
    if [ "$objects" = "$OUR_SO" ]; then
        pass "fio[$name]: our library is the only libaio loaded"
    else
        fail "fio[$name]: our library is the only libaio loaded, loaded: $objects"
    fi
}

# reaps_from_ring NAME: the run printed our counters, and served at least one
# reaping call from the ring.
reaps_from_ring() {
    [[ $(grep -E "$STATS_LINE" "$WORK/$1.err") =~ ^libaio-rs:\ ([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]
}

# reaped_by_fio NAME: the run printed our counters, and they count no reaping
# call: with USERSPACE_REAP fio reads every completion from the ring itself,
# which it does only if our io_context_t is the kernel's ring (it checks the
# ring's magic and calls io_getevents otherwise).
reaped_by_fio() {
    grep -qx 'libaio-rs: 0 reaping calls served from the ring without a syscall, 0 reaping syscalls' "$WORK/$1.err"
}

check "tmpfs takes O_DIRECT" dd if=/dev/zero of="$WORK/probe" bs=4k count=1 oflag=direct status=none

# The loader maps the preloaded file and satisfies fio's NEEDED libaio.so.1
# with it (same SONAME), without opening the system's. Without the preload it
# maps the system's, found under the NEEDED name: the check tells them apart.
LD_DEBUG=files LD_DEBUG_OUTPUT="$WORK/unpreloaded.ld" "$FIO" --version > /dev/null
check "fio without the preload loads the system libaio" [ "$(libaio_objects "$WORK"/unpreloaded.ld.*)" = libaio.so.1 ]
check "fio's io_* symbols bind to our library when preloaded" bound_only_to "$OUR_SO" "$FIO" LD_PRELOAD="$OUR_SO"
check "fio's io_* symbols bind to the system libaio otherwise" bound_only_to "$SYSTEM_SO" "$FIO"

# Jobs run as threads of the fio process where our counters should print:
# it exits normally, where forked jobs end with _exit, which skips them.
verified_run write-tmpfs LIBAIO_RS_STATS=1 -- --thread --rw=write --filename="$WORK/data"
check "fio[write-tmpfs]: our library served reaping calls from the ring" reaps_from_ring write-tmpfs
verified_run write-tmpfs-userspace-reap LIBAIO_RS_STATS=1 -- --thread --rw=write --filename="$WORK/data" \
    "${USERSPACE_REAP[@]}"
check "fio[write-tmpfs-userspace-reap]: fio reaped from our context's ring itself" \
    reaped_by_fio write-tmpfs-userspace-reap

check "a loop device with direct I/O over tmpfs" attach_loop_device 16M
verified_run write-loop LIBAIO_RS_STATS=1 -- --thread --rw=write --filename="$LOOP_DEVICE"
verified_run write-loop-userspace-reap LIBAIO_RS_STATS=1 -- --thread --rw=write --filename="$LOOP_DEVICE" \
    "${USERSPACE_REAP[@]}"
check "fio[write-loop-userspace-reap]: fio reaped from our context's ring itself" \
    reaped_by_fio write-loop-userspace-reap
# Two threads, each with its own context and its own half of the device.
verified_run two-jobs-loop LIBAIO_RS_STATS=1 -- --thread --numjobs=2 --offset_increment=8M --rw=write \
    --filename="$LOOP_DEVICE"
# Forked job; verify_backlog interleaves verify reads with the writes in flight.
verified_run randrw-loop -- --rw=randrw --rwmixread=25 --verify_backlog=64 --filename="$LOOP_DEVICE"

# The verify checks can fail: one corrupted block makes fio fail with EILSEQ.
EILSEQ=84
FIO_OPTIONS+=(--thread --rw=write --filename="$WORK/corrupt")
check "fio[corrupt-write]: writes without verifying" run_fio corrupt-write -- --do_verify=0
printf garbage | dd of="$WORK/corrupt" bs=1 seek=$((1024 * 1024 + 100)) conv=notrunc status=none
if ! run_fio corrupt-verify -- --verify_only &&
   [ "$(fio_report corrupt-verify | jq '.jobs[0].error')" = $EILSEQ ]; then
    pass "fio[corrupt-verify]: the corrupted block fails verification"
else
    fail "fio[corrupt-verify]: the corrupted block fails verification"
    cat "$WORK/corrupt-verify.err"
fi
finish
