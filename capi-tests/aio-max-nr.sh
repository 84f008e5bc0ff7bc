# Lowering fs.aio-max-nr for a moment (the aiostat and report suites' EAGAIN
# for real), sourced after capi-tests/lib.sh. The sysctl is global and other
# programs on the machine (another checkout's suites) may lower it too:
# whoever lowers it holds LOCK, so that no one saves another's lowered value
# as the one to restore; restore_aio_max_nr puts it back once, and at_exit
# does if the suite stops before, on a signal too.
AIO_MAX_NR=/proc/sys/fs/aio-max-nr
AIO_MAX_NR_LOCK=/run/lock/libaio-rs.aio-max-nr.lock
AIO_MAX_NR_SAVED=

# lower_aio_max_nr VALUE: takes the lock (waiting up to a minute), saves the
# value in force and sets VALUE.
lower_aio_max_nr() {
    if [ -z "$AIO_MAX_NR_SAVED" ]; then
        if ! { exec {AIO_MAX_NR_LOCK_FD}>>"$AIO_MAX_NR_LOCK" && flock -w 60 "$AIO_MAX_NR_LOCK_FD"; }; then
            fail "lower fs.aio-max-nr: take $AIO_MAX_NR_LOCK within a minute"
            return 1
        fi
        AIO_MAX_NR_SAVED=$(cat "$AIO_MAX_NR")
        at_exit restore_aio_max_nr
        trap 'exit 129' HUP
        trap 'exit 130' INT
        trap 'exit 143' TERM
    fi
    echo "$1" > "$AIO_MAX_NR"
}

restore_aio_max_nr() {
    [ -n "$AIO_MAX_NR_SAVED" ] || return 0
    echo "$AIO_MAX_NR_SAVED" > "$AIO_MAX_NR"
    AIO_MAX_NR_SAVED=
    exec {AIO_MAX_NR_LOCK_FD}>&-
}
