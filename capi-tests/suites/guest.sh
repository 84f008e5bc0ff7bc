#!/usr/bin/env bash
# The suites on other architectures, for real: each guest boots Debian's
# kernel for its architecture under QEMU's full-system emulation (qemu-user
# answers ENOSYS to the AIO syscalls) with a root of Debian's packages, runs
# the suites with programs cross-compiled here, against our library built
# for it (make build ARCH=...) and against Debian's libaio of that
# architecture, and reports back on its console (see capi-tests/guest).
# GUEST_ARCHES (default: arm64 s390x, the little- and the big-endian
# representative) and GUEST_SCOPE (quick, for make test; full, for
# make test-arch) choose what runs.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/archive.sh"
source "$ROOT/cdylib/arches.sh"
source "$ROOT/capi-tests/guest/arch.sh"
source "$ROOT/capi-tests/guest/qemu.sh"
source "$ROOT/capi-tests/guest/root.sh"
source "$ROOT/capi-tests/guest/programs.sh"
source "$ROOT/capi-tests/guest/boot.sh"
GUEST_ROOT_DIR=$ROOT

# What runs in each guest (GUEST_SUITES, space-separated, overrides it).
if [ -n "${GUEST_SUITES:-}" ]; then
    read -ra GUEST_SUITES <<<"$GUEST_SUITES"
else
    GUEST_SUITES=(api fastpath faults races sandbox report harness)
fi
# make test's scope (quick) leaves out the six cases of upstream's harness
# that take a minute or more each in an emulated machine (18 takes three),
# 8 of its 9 minutes per library; make test-arch's (full) runs them all.
GUEST_ENV=()
# A suite's time limit: upstream's harness runs its cases three times, which
# takes up to 40 minutes in full in arm64's guest on a busy machine. The
# limits hold for a guest as fast as arm64's: each guest measures its speed
# and scales them (capi-tests/guest/init); GUEST_SPEED_REFERENCE_MS is its
# speed probe's time in arm64's guest (measured beside a make test run;
# riscv64's took three times as long).
GUEST_ENV+=("GUEST_SPEED_REFERENCE_MS=${GUEST_SPEED_REFERENCE_MS:-3300}")
case ${GUEST_SCOPE:-quick} in
    quick) GUEST_ENV+=("HARNESS_SKIP=6 11 14 17 18 20") GUEST_SUITE_SECONDS=1800 ;;
    full) GUEST_SUITE_SECONDS=5400 ;;
    *) fail "GUEST_SCOPE is quick or full, not '$GUEST_SCOPE'"; finish ;;
esac
# No line on the console for this long (its init prints one each minute):
# the guest's kernel hangs.
GUEST_SILENCE_SECONDS=300

check "QEMU's system emulators, unpacked from Debian's packages" guest_qemu_unpack

# tally LOG ARCH: the guest's checks by library, from the relayed lines.
tally() {
    awk -v arch="$2" '
        /^(PASS|FAIL): / {
            who = "other"
            if ($0 ~ /\[system/) who = "system"; else if ($0 ~ /\[ours|harness\[preloaded\]/) who = "ours"
            count[who, $1]++
        }
        END {
            printf "guest %s: ours %d passed, %d failed; Debian'"'"'s libaio %d passed, %d failed; other checks %d passed, %d failed\n",
                arch, count["ours", "PASS:"], count["ours", "FAIL:"], count["system", "PASS:"], count["system", "FAIL:"],
                count["other", "PASS:"], count["other", "FAIL:"]
        }' "$1"
}

for arch in ${GUEST_ARCHES:-arm64 s390x}; do
    guest_arch "$arch" || { fail "guest $arch: a known architecture"; continue; }
    GUEST_OUR_SO=$ROOT/$(cargo_release_dir "$arch")/libaio.so
    if [ ! -f "$GUEST_OUR_SO" ]; then
        fail "guest $arch: our library built for it ($GUEST_OUR_SO: run 'make build ARCH=$arch')"
        continue
    fi
    dir="$WORK/$arch"
    mkdir -p "$dir"
    start=$SECONDS
    if ! guest_root; then
        fail "guest $arch: Debian's kernel and root for it"
        continue
    fi
    root_seconds=$((SECONDS - start))

    start=$SECONDS
    guest_programs "$dir/programs" "${GUEST_SUITES[@]}" | relay_guest
    build_seconds=$((SECONDS - start))
    guest_payload "$dir" "$dir/programs" "$GUEST_SUITE_SECONDS" "${GUEST_SUITES[@]}" ||
        { fail "guest $arch: its payload"; continue; }

    start=$SECONDS
    limit=$((GUEST_SUITE_SECONDS * ${#GUEST_SUITES[@]} + 300))
    status=0
    guest_boot "$dir" "$limit" "$GUEST_SILENCE_SECONDS" || status=$?
    boot_seconds=$((SECONDS - start))
    if grep -q '^guest: finished' "$dir/console"; then
        pass "guest $arch: ran to its end and powered off"
    elif [ -n "$GUEST_STOPPED" ]; then
        fail "guest $arch: ran to its end: stopped, $GUEST_STOPPED (its console above)"
    else
        fail "guest $arch: ran to its end: QEMU exited with $status before (a panic? its console above)"
    fi
    tally "$dir/relayed" "$arch"
    echo "guest $arch: root ready in $root_seconds s, programs built in $build_seconds s, booted and ran in $boot_seconds s"
    grep -E '^guest: (.* booted in|suites/)' "$dir/console" | sed "s/^guest: /guest $arch: /"
done
finish
