# Boots a guest and relays what it reports; sourced after arch.sh, root.sh
# and qemu.sh. The initramfs is the cached root (root.sh) followed by this
# run's payload: /init, the checkout's capi-tests and header, our library
# for the architecture, the cross-compiled programs and guest.conf. The
# kernel unpacks both, the second over the first.

# guest_payload DIR PROGRAMS SECONDS SUITE...: writes DIR/payload.cpio, which
# runs each SUITE in the guest (within SECONDS each) with the programs in
# PROGRAMS, GUEST_OUR_SO as our library and the VAR=VALUE settings of
# GUEST_ENV in its environment.
guest_payload() {
    local dir=$1 programs=$2 seconds=$3
    shift 3
    local tree="$dir/payload"
    mkdir -p "$tree/capi/target/release" || return 1
    install -m 755 "$GUEST_ROOT_DIR/capi-tests/guest/init" "$tree/init"
    cp -r "$GUEST_ROOT_DIR/capi-tests" "$GUEST_ROOT_DIR/include" "$tree/capi/"
    cp "$GUEST_OUR_SO" "$tree/capi/target/release/libaio.so"
    cp -a "$programs" "$tree/capi/programs"
    {
        printf 'GUEST_SUITES=(%s)\nGUEST_SUITE_SECONDS=%s\n' "$*" "$seconds"
        [ ${#GUEST_ENV[@]} -eq 0 ] || printf 'export %q\n' "${GUEST_ENV[@]}"
    } >"$tree/capi/guest.conf"
    (cd "$tree" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) >"$dir/payload.cpio"
}

# relay_guest: the console's lines, each prefixed with the architecture:
# PASS: and FAIL: lines stay checks ("PASS: arm64: ..."); the guest's signs
# of life are left out.
relay_guest() {
    local line
    while IFS= read -r line; do
        line=${line%$'\r'}
        case $line in
            "guest: alive") ;;
            "PASS: "* | "FAIL: "*) echo "${line%%: *}: $GUEST_ARCH: ${line#*: }" ;;
            *) echo "$GUEST_ARCH: $line" ;;
        esac
    done
}

# guest_boot DIR SECONDS SILENCE: boots the kernel with the root and
# DIR/payload.cpio, two CPUs, GUEST_MEMORY and a 2 GiB virtio disk, and relays its
# console as it comes (its log stays in DIR/console, what was relayed in
# DIR/relayed). Stops QEMU, and
# fails, after SECONDS (scaled as the guest scales its suites' limits), or
# when the console has been silent for SILENCE seconds (a hung kernel);
# GUEST_STOPPED says which.
guest_boot() {
    local dir=$1 seconds=$2 silence=$3 qemu status=0 start=$SECONDS scale=
    cat "$GUEST_ROOT_CPIO" "$dir/payload.cpio" >"$dir/initrd" && truncate -s 2G "$dir/disk" && : >"$dir/console" ||
        return 1
    # init=/init too: if /init cannot run, the kernel panics (and QEMU
    # exits) instead of starting a shell on the console.
    "$GUEST_QEMU_DIR/usr/bin/${GUEST_QEMU[0]}" -L "$GUEST_QEMU_DIR/usr/share/qemu" "${GUEST_QEMU[@]:1}" \
        -smp 2 -m "$GUEST_MEMORY" -display none -monitor none -serial stdio -nic none -no-reboot \
        -kernel "$GUEST_KERNEL_IMAGE" -initrd "$dir/initrd" \
        -append "console=$GUEST_CONSOLE rdinit=/init init=/init panic=-1 quiet" \
        -drive "file=$dir/disk,format=raw,if=none,id=disk" -device "$GUEST_DISK_DEVICE,drive=disk" \
        </dev/null >"$dir/console" 2>&1 &
    qemu=$!
    at_exit "kill $qemu 2>/dev/null"
    tail -n +1 -f --pid="$qemu" "$dir/console" | relay_guest | tee "$dir/relayed" &
    GUEST_STOPPED=
    while kill -0 "$qemu" 2>/dev/null; do
        sleep 5
        if [ -z "$scale" ]; then
            scale=$(sed -n 's/^guest: time limits at \([0-9]*\) %.*/\1/p' "$dir/console")
            [ -z "$scale" ] || seconds=$((seconds * scale / 100))
        fi
        if [ $((SECONDS - start)) -gt "$seconds" ]; then
            GUEST_STOPPED="still running after $seconds s"
        elif [ $(($(date +%s) - $(stat -c %Y "$dir/console"))) -gt "$silence" ]; then
            GUEST_STOPPED="its console silent for $silence s"
        fi
        [ -z "$GUEST_STOPPED" ] || { kill "$qemu"; break; }
    done
    wait "$qemu" || status=$?
    wait
    rm -f "$dir/initrd" "$dir/disk"
    [ -z "$GUEST_STOPPED" ] && return "$status"
}
