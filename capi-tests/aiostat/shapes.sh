#!/usr/bin/env bash
# shapes.sh OUT BIN OUR_LIBDIR: run by suites/aiostat.sh as the first
# process of a fresh PID namespace (unshare --pid --fork --mount-proc), so
# that its aiostat sees these holders and nothing else of the machine's.
# Starts holders of known shape from BIN (holder, holder-raw,
# holder-static, aiostat), lists them in OUT/holders ("LABEL PID", their
# own output in OUT/LABEL.out), and writes aiostat's views to OUT: as root
# (root.json, root.txt), as nobody (nobody.json), as a user with no
# processes here (stranger.json), and with --pid. When it exits, the
# namespace ends and every holder with it.
set -u
out=$1 bin=$2 ours=$3
STRANGER=4242

# start LABEL COMMAND...: runs COMMAND (a holder) until it says it is ready.
start() {
    local label=$1 attempt; shift
    "$@" > "$out/$label.out" 2>&1 &
    for attempt in $(seq 100); do
        grep -q '^ready ' "$out/$label.out" && break
        sleep 0.05
    done
    echo "$label $(sed -n 's/^ready //p' "$out/$label.out")" >> "$out/holders"
}
: > "$out/holders"
# Sizes below and above 4 x CPUs; ringsizes that pin a range of 64 and
# those where 4 x CPUs widens it.
start upstream env -u LD_LIBRARY_PATH "$bin/holder" --waiting 3 1 100 300
start ours env LD_LIBRARY_PATH="$ours" "$bin/holder" 5 63 1000
start raw "$bin/holder-raw" 8 127 4096
start static "$bin/holder-static" 20 200
start forked env -u LD_LIBRARY_PATH "$bin/holder" --fork 40 90
start destroyed "$bin/holder-raw" --fork --destroy-after-fork 50 150
start nobody setpriv --reuid=nobody --regid=nogroup --clear-groups "$bin/holder" 70

# The destroyed context's ring is truncated once the kernel's RCU work has
# freed it, shortly after io_destroy returned.
for attempt in $(seq 50); do
    "$bin/aiostat" --json > "$out/root.json"
    [ "$(jq .dead_mappings "$out/root.json")" = 1 ] && break
    sleep 0.1
done
"$bin/aiostat" > "$out/root.txt"
as() { setpriv --reuid="$1" --regid="$2" --clear-groups "$bin/aiostat" "${@:3}"; }
as nobody nogroup --json > "$out/nobody.json"
as $STRANGER $STRANGER --json > "$out/stranger.json"
as $STRANGER $STRANGER > "$out/stranger.txt"
upstream=$(awk '$1 == "upstream" { print $2 }' "$out/holders")
child=$(sed -n 's/^child //p' "$out/forked.out")
"$bin/aiostat" --json --pid "$upstream" > "$out/pid.json"
"$bin/aiostat" --pid "$upstream" > "$out/pid.txt"
"$bin/aiostat" --json --pid "$child" > "$out/pid-child.json"
"$bin/aiostat" --pid 99999 > "$out/pid-none.out" 2> "$out/pid-none.err"
echo $? > "$out/pid-none.status"
