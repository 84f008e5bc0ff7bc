#!/usr/bin/env bash
# A real AIO workload (fio, ioengine=libaio) through the system libaio and
# through ours, side by side: IOPS, and which libaio.so the process loaded.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FILE=$(mktemp /dev/shm/libaio-rs-demo.XXXXXX)
# LD_PRELOAD splits at spaces, which the checkout's path may have: preload a link.
OUR_SO="$FILE.libaio.so"
ln -s "$ROOT/target/release/libaio.so" "$OUR_SO"
trap 'rm -f "$FILE" "$FILE".ld.* "$FILE.err" "$OUR_SO"' EXIT
command -v fio >/dev/null || { echo "fio is missing: run 'make deps' first" >&2; exit 1; }
fio --name=prefill --filename="$FILE" --size=64M --rw=write --bs=1M --ioengine=psync >/dev/null

# run LABEL [ENV...]: 4k random reads at queue depth 32 for 3 seconds
# (--thread: jobs run in fio's own process, whose exit prints our counters).
run() {
    local label=$1; shift
    local iops loaded
    iops=$(env "$@" LD_DEBUG=files LD_DEBUG_OUTPUT="$FILE.ld" \
        fio --thread --name=demo --filename="$FILE" --size=64M --rw=randread --bs=4k --direct=1 \
            --ioengine=libaio --iodepth=32 --iodepth_batch_complete_min=1 \
            --time_based --runtime=3 --output-format=terse --terse-version=3 2>"$FILE.err" | cut -d';' -f8)
    loaded=$(grep -ho 'calling init: [^ ]*libaio[^ ]*' "$FILE".ld.* | sed 's/calling init: //' | sort -u | tr '\n' ' ')
    rm -f "$FILE".ld.*
    printf '%-16s %10s IOPS   libaio loaded: %s\n' "$label" "$iops" "$loaded"
    sed 's/^/                 /' "$FILE.err"
}
echo "fio 4k randread, iodepth 32, O_DIRECT on a tmpfs file, 3 s each:"
run "system libaio"
run "libaio-rs" LD_PRELOAD="$OUR_SO" LIBAIO_RS_STATS=1
