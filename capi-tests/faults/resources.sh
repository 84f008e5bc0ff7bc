# What the fault programs need, set up by the suites that run them (sourced
# after capi-tests/lib.sh; needs root) and undone at exit: SMALL_FS, a
# 64 KiB tmpfs to fill up; LOOP_DEVICE, a loop device with direct I/O (see
# attach_loop_device), whose O_DIRECT reads complete in a kernel worker (empty if
# losetup failed); and a headroom under aio-max-nr that max_contexts can
# fill with sixteen contexts of sane size.
SMALL_FS="$WORK/small-fs"
mkdir -p "$SMALL_FS"
if mount -t tmpfs -o size=64k,mode=0700 capi-faults "$SMALL_FS"; then
    at_exit "umount '$SMALL_FS'"
    pass "mount a 64 KiB tmpfs"
else
    fail "mount a 64 KiB tmpfs"
fi

if attach_loop_device 1M; then
    pass "loop device $LOOP_DEVICE with direct I/O"
else
    fail "a loop device with direct I/O"
    LOOP_DEVICE=
fi

AIO_MAX_NR=/proc/sys/fs/aio-max-nr
saved_aio_max_nr=$(cat "$AIO_MAX_NR")
aio_nr=$(cat /proc/sys/fs/aio-nr)
if [ $((saved_aio_max_nr - aio_nr)) -gt 262144 ]; then
    echo "aio-max-nr lowered from $saved_aio_max_nr to $((aio_nr + 65536)) while the suite runs"
    at_exit "echo $saved_aio_max_nr >$AIO_MAX_NR"
    echo $((aio_nr + 65536)) >"$AIO_MAX_NR"
fi

# The environment each fault program runs with.
declare -A FAULTS_ENV=(
    [destroy_in_flight]="FAULTS_LOOP_DEVICE=$LOOP_DEVICE"
    [nospace]="FAULTS_SMALL_FS=$SMALL_FS"
)
