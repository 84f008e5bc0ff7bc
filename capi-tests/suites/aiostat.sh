#!/usr/bin/env bash
# aiostat(1) against processes of known shape (capi-tests/aiostat/holder.c):
# contexts of several sizes made through the system libaio, ours, a static
# libaio.a and raw syscalls, a forked child's inherited and destroyed rings,
# and another user's process. They run in a fresh PID namespace
# (aiostat/shapes.sh), so that the rows must be exactly theirs whatever the
# rest of the machine does. Then, on the whole machine: the total against
# aio-nr, io_setup refused with EAGAIN under a lowered fs.aio-max-nr and
# aiostat naming the holder, --watch, usage errors, the JSON against the
# schema in aiostat(1), and make install.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/capi-tests/api/lib.sh"
source "$ROOT/capi-tests/aio-max-nr.sh"
HOLDER_SOURCE="$ROOT/capi-tests/aiostat/holder.c"
AIOSTAT="$ROOT/target/release/aiostat"
PAGE="$ROOT/debian/man/aiostat.1"

if [ ! -x "$AIOSTAT" ]; then
    fail "no target/release/aiostat: run make build"
    finish
fi
# Other users run the programs: they live in a directory all may enter.
BIN=$(mktemp -d "${TMPDIR:-/tmp}/aiostat-suite.XXXXXX")
at_exit "rm -rf '$BIN'"
chmod 755 "$BIN"
cp "$AIOSTAT" "$BIN/aiostat"
build holder gcc -Wall -Werror "$HOLDER_SOURCE" -laio || finish
build holder-raw gcc -Wall -Werror -DRAW_SYSCALLS "$HOLDER_SOURCE" || finish
build holder-static gcc -Wall -Werror "$HOLDER_SOURCE" "$(gcc -print-file-name=libaio.a)" || finish
cp "$WORK"/holder "$WORK"/holder-raw "$WORK"/holder-static "$BIN/"
check "holder-static has libaio linked in (no NEEDED libaio)" lacks libaio <(readelf -d "$BIN/holder-static")

# expect NAME FILE FILTER [JQ ARGS...]: a check that jq FILTER holds for FILE.
expect() {
    local name=$1 file=$2 filter=$3; shift 3
    if jq -e "$@" "$filter" "$file" > /dev/null 2>&1; then
        pass "$name"
    else
        fail "$name"
        echo "    '$filter' does not hold for $file:"
        head -c 2000 "$file" | sed 's/^/    /'
        echo
    fi
}

# 1. The shapes, in a fresh PID namespace.
SHAPES="$WORK/shapes"
mkdir "$SHAPES"
timeout --foreground 120 unshare --pid --fork --mount-proc --kill-child \
    bash "$ROOT/capi-tests/aiostat/shapes.sh" "$SHAPES" "$BIN" "$OUR_LIBDIR" > "$WORK/shapes.log" 2>&1
check "shapes.sh ran in a fresh PID namespace" [ $? -eq 0 ]
cat "$WORK/shapes.log"
pid_of() { awk -v label="$1" '$1 == label { print $2 }' "$SHAPES/holders"; }
# contexts_of LABEL: "[[nr_events, "0xaddress"], ...]" as the holder printed them.
contexts_of() {
    awk '$1 == "context" { printf "%s[%s,\"%s\"]", n++ ? "," : "[", $2, $3 } END { print n ? "]" : "[]" }' \
        "$SHAPES/$1.out"
}
for label in upstream ours raw static forked destroyed nobody; do
    check "$label: the holder is ready (pid $(pid_of "$label"))" [ -n "$(pid_of "$label")" ]
done
ROOT_JSON="$SHAPES/root.json"
expect "the rows are exactly the holders'" "$ROOT_JSON" \
    '[.processes[].pid] | sort == ($holders | sort)' \
    --argjson holders "[$(awk '{ print $2 }' "$SHAPES/holders" | paste -sd,)]"
# The destroyed holder still holds its first context; its last is destroyed.
sizes_held() { contexts_of "$1" | jq -c --arg holder "$1" 'if $holder == "destroyed" then .[:-1] else . end'; }
for label in upstream ours raw static forked destroyed nobody; do
    pid=$(pid_of "$label")
    held=$(sizes_held "$label")
    expect "$label: its contexts are the ones it made, by address" "$ROOT_JSON" \
        '.processes[] | select(.pid == $pid) | [.rings[].address] | sort == ($held | map(.[1]) | sort)' \
        --argjson pid "${pid:-0}" --argjson held "$held"
    expect "$label: each context's nr_events ($(jq -c 'map(.[0])' <<<"$held")) lies in its range, at most half a page of events wide unless 4 x CPUs widens it" \
        "$ROOT_JSON" '. as $all | .processes[] | select(.pid == $pid) | .rings | length > 0 and all(.[];
            .address as $address | ($held | map(select(.[1] == $address))[0][0]) as $n |
            .nr_events_min <= $n and $n <= .nr_events_max and
            (.nr_events_min == 1 or .nr_events_max - .nr_events_min < $all.page_size / 64))' \
        --argjson pid "${pid:-0}" --argjson held "$held"
    expect "$label: the row adds up its contexts" "$ROOT_JSON" \
        '.processes[] | select(.pid == $pid) | .contexts == (.rings | length) and
         .ring_slots == ([.rings[].ring_slots] | add) and .nr_events_min == ([.rings[].nr_events_min] | add) and
         .nr_events_max == ([.rings[].nr_events_max] | add)' --argjson pid "${pid:-0}"
done
libaio_is() {
    expect "$1: LIBAIO is $2" "$ROOT_JSON" ".processes[] | select(.pid == \$pid) | [.libaio[] | [.kind, .version]] == $2" \
        --argjson pid "$(pid_of "$1")"
}
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/aiostat/Cargo.toml")
libaio_is upstream '[["upstream", null]]'
libaio_is forked '[["upstream", null]]'
libaio_is nobody '[["upstream", null]]'
libaio_is ours "[[\"libaio-rs\", \"$VERSION\"]]"
libaio_is raw '[]'
libaio_is static '[]'
expect "upstream: 3 completions waiting in its first ring, none in the others" "$ROOT_JSON" \
    '.processes[] | select(.pid == $pid) | .waiting == 3 and ([.rings[] | .waiting] | sort) == [0, 0, 3]' \
    --argjson pid "$(pid_of upstream)"
expect "the other holders have nothing waiting" "$ROOT_JSON" \
    '[.processes[] | select(.pid != $pid) | .waiting] | all(. == 0)' --argjson pid "$(pid_of upstream)"
expect "forked children: 3 inherited rings counted at their owners, 1 destroyed ring counted nowhere" "$ROOT_JSON" \
    '.inherited_mappings == 3 and .dead_mappings == 1'
expect "every ring was read (verified), nothing refused" "$ROOT_JSON" \
    '.unverified_rings == 0 and .mem_refused_pids == [] and all(.processes[].rings[]; .verified)'
known_total=$(for label in upstream ours raw static forked destroyed nobody; do sizes_held "$label"; done |
    jq -s 'map(map(.[0])) | add | add')
expect "the total range holds the $known_total events the holders asked for" "$ROOT_JSON" \
    '.total.nr_events_min <= $known and $known <= .total.nr_events_max and .total.contexts == 15 and .total.processes == 7' \
    --argjson known "$known_total"
expect "rows sorted by what they hold, most first" "$ROOT_JSON" \
    '[.processes[] | .nr_events_min + .nr_events_max] | . == (sort | reverse)'
expect "users: nobody's holder is nobody's, the others root's" "$ROOT_JSON" \
    '[.processes[] | [.pid, .user]] | all(.[1] == (if .[0] == $nobody then "nobody" else "root" end))' \
    --argjson nobody "$(pid_of nobody)"
expect "in a PID namespace of its own: not the initial one, no narrowing by the machine's aio-nr" "$ROOT_JSON" \
    '.initial_pid_namespace == false and .narrowed_by_aio_nr == false'
check "the text says processes outside this PID namespace are not read" \
    grep -q '^not read: processes outside this PID namespace' "$SHAPES/root.txt"
for label in upstream ours raw static; do
    pid=$(pid_of "$label")
    row=$(jq -r --argjson pid "$pid" '.processes[] | select(.pid == $pid) |
        "\(.contexts) \(.ring_slots) \(.nr_events_min)..\(.nr_events_max) \(.waiting)"' "$ROOT_JSON")
    libaio=$(case $label in upstream) echo upstream ;; ours) echo "libaio-rs $VERSION" ;; *) echo none ;; esac)
    check "text: the row of $label shows '$row $libaio'" \
        grep -qE "^ *$pid root +holder[a-z-]* +$(sed 's/ / +/g; s/\./\\./g' <<<"$row") +$libaio\$" "$SHAPES/root.txt"
done
cat "$SHAPES/root.txt"

# Another user's process, read by aiostat run as that user and as neither.
expect "aiostat as nobody: the one row is nobody's holder; root's processes are counted as not read" \
    "$SHAPES/nobody.json" '[.processes[].pid] == [$nobody] and (.unreadable_pids | index($upstream) != null)' \
    --argjson nobody "$(pid_of nobody)" --argjson upstream "$(pid_of upstream)"
expect "aiostat as uid 4242: no row; nobody's holder is counted as not read" "$SHAPES/stranger.json" \
    '.processes == [] and (.unreadable_pids | index($nobody) != null)' --argjson nobody "$(pid_of nobody)"
check "aiostat as uid 4242: the text says so, and to run as root" \
    grep -qE '^not read: [0-9]+ processes \(uids 0, 65534\): .*run as root' "$SHAPES/stranger.txt"

expect "--pid: the upstream holder's row alone" "$SHAPES/pid.json" '[.processes[].pid] == [$pid]' \
    --argjson pid "$(pid_of upstream)"
check "--pid, text: one row, and the total line says it is the machine's" \
    eval '[ "$(grep -cE "^ *[0-9]+ root " "$SHAPES/pid.txt")" = 1 ] && grep -qE "^machine total: [0-9]+ contexts in 7 processes" "$SHAPES/pid.txt"'
expect "--pid of a forked child: no row (its rings are its parent's)" "$SHAPES/pid-child.json" '.processes == []'
check "--pid of no process: exit 1, 'aiostat: no process 99999' on stderr" \
    eval '[ "$(cat "$SHAPES/pid-none.status")" = 1 ] && grep -qx "aiostat: no process 99999" "$SHAPES/pid-none.err"'

# 2. The whole machine: the total against aio-nr. Other processes make and
# destroy contexts at any time: a snapshot counts when aio-nr was the same
# just before and just after it.
steady=
for attempt in $(seq 200); do
    before=$(cat /proc/sys/fs/aio-nr)
    "$AIOSTAT" --json > "$WORK/machine.json"
    if [ "$(cat /proc/sys/fs/aio-nr)" = "$before" ] && [ "$(jq .aio_nr "$WORK/machine.json")" = "$before" ]; then
        steady=$attempt
        break
    fi
    sleep 0.05
done
if [ -z "$steady" ]; then
    fail "a snapshot of the machine while aio-nr held still: it changed during each of 200 (other processes make and destroy contexts without pause)"
else
    expect "the machine (snapshot $steady): the rows hold no more than aio-nr" "$WORK/machine.json" \
        '.total.nr_events_min <= .aio_nr'
    if [ "$(jq '.unreadable_pids | length' "$WORK/machine.json")" = 0 ]; then
        expect "the machine: every process read, the rows account for all of aio-nr" "$WORK/machine.json" \
            '.aio_nr <= .total.nr_events_max'
    else
        # Refused even to root here: the text must say what it could not count.
        "$AIOSTAT" > "$WORK/machine.txt"
        check "the machine: $(jq -c .unreadable_pids "$WORK/machine.json") refused even to root, and the text says so" \
            grep -q '^not read: .*refused even to root' "$WORK/machine.txt"
    fi
fi

# 3. EAGAIN for real: a holder of 4096 events, then fs.aio-max-nr lowered to
# aio-nr for as long as one io_setup and one aiostat take. Processes that
# destroy contexts meanwhile leave room: then again, a few times.
max_before=$(cat /proc/sys/fs/aio-max-nr)
"$BIN/holder" 4096 > "$WORK/big.out" 2>&1 &
big=$!
at_exit "kill $big 2>/dev/null"
for attempt in $(seq 50); do grep -q '^ready ' "$WORK/big.out" && break; sleep 0.05; done
for attempt in $(seq 5); do
    lower_aio_max_nr "$(cat /proc/sys/fs/aio-nr)" || break
    "$BIN/holder" --expect-eagain 512 > "$WORK/eagain.out" 2>&1
    "$AIOSTAT" --json > "$WORK/eagain.json"
    "$AIOSTAT" > "$WORK/eagain.txt"
    restore_aio_max_nr
    grep -q '^had room$' "$WORK/eagain.out" || break
done
cat "$WORK/eagain.out"
check "io_setup(512) refused with EAGAIN under the lowered aio-max-nr" grep -qx refused "$WORK/eagain.out"
check "fs.aio-max-nr restored to $max_before" [ "$(cat /proc/sys/fs/aio-max-nr)" = "$max_before" ]
expect "aiostat at the refusal: the 4096-event holder is named, with its range" "$WORK/eagain.json" \
    '.processes[] | select(.pid == $pid) | .nr_events_min <= 4096 and 4096 <= .nr_events_max' --argjson pid $big
expect "aiostat at the refusal: less free than the 512 asked" "$WORK/eagain.json" '.free < 512'
check "the text names the holder's pid" grep -qE "^ *$big root +holder " "$WORK/eagain.txt"
grep -E '^aio-nr|^ *PID|^ *'$big' ' "$WORK/eagain.txt"

# 4. --watch: blocks headed by the time, with the change in aio-nr.
"$AIOSTAT" --watch 0.2 --count 3 > "$WORK/watch.txt"
mapfile -t heads < <(grep -E '^[0-9]{2}:[0-9]{2}:[0-9]{2} aio-nr ' "$WORK/watch.txt")
check "--watch 0.2 --count 3: three snapshots, each headed by the time" [ ${#heads[@]} -eq 3 ]
consistent=yes
for index in 1 2; do
    previous=$(awk '{ print $3 }' <<<"${heads[index - 1]}")
    current=$(awk '{ print $3 }' <<<"${heads[index]}")
    change=$(sed -n 's/^[^ ]* aio-nr [0-9]* (\([-+][0-9]*\)).*/\1/p' <<<"${heads[index]}")
    [ -n "$change" ] && [ $((current - previous)) -eq $((change)) ] || consistent=no
done
[[ ${heads[0]%% of aio-max-nr*} == *"("* ]] && consistent=no
check "--watch: each later head shows its change in aio-nr, the first none" [ $consistent = yes ]
"$AIOSTAT" --json --watch 0.2 --count 3 > "$WORK/watch.json"
check "--json --watch: one object per line, 3 lines" \
    eval '[ "$(jq -c . "$WORK/watch.json" | wc -l)" -eq 3 ] && [ "$(wc -l < "$WORK/watch.json")" -eq 3 ]'
# holds JQ-ARGS...: jq -e, its output dropped.
holds() { jq -e "$@" > /dev/null; }
check "--json --watch: aio_nr_change null first, then each the difference" \
    holds -s '.[0].aio_nr_change == null and .[1].aio_nr_change == .[1].aio_nr - .[0].aio_nr and
        .[2].aio_nr_change == .[2].aio_nr - .[1].aio_nr' "$WORK/watch.json"
timeout 10 bash -c '"$0" --watch 0.1 | head -n 1 > /dev/null; exit ${PIPESTATUS[0]}' "$AIOSTAT" 2> "$WORK/pipe.err"
status=$?
check "--watch into a pipe closed early ends quietly, with status 0 (got $status)" \
    eval '[ $status -eq 0 ] && [ ! -s "$WORK/pipe.err" ]'

# 5. Usage errors: status 2, one line on stderr, nothing on stdout.
for arguments in "--bogus" "--watch" "--watch 0" "--watch x" "--pid x" "--count 2" "extra"; do
    "$AIOSTAT" $arguments > "$WORK/usage.out" 2> "$WORK/usage.err"
    status=$?
    check "aiostat $arguments: exit 2, one line on stderr ($(head -n 1 "$WORK/usage.err"))" \
        eval '[ $status -eq 2 ] && [ "$(wc -l < "$WORK/usage.err")" -eq 1 ] && [ ! -s "$WORK/usage.out" ]'
done
"$AIOSTAT" --help > "$WORK/help.out"
status=$?
check "aiostat --help: exit 0, the usage on stdout" eval '[ $status -eq 0 ] && grep -q "^usage: aiostat" "$WORK/help.out"'
options_of_help=$(grep -oE '^  --[a-z]+' "$WORK/help.out" | tr -d ' ' | sort)
options_of_page=$(LC_ALL=C MANWIDTH=200 man -l "$PAGE" 2> /dev/null | sed -n '/^OPTIONS/,/^[A-Z]/p' |
    grep -oE '^       (-h, )?--[a-z]+' | sed 's/.*--/--/' | sort)
check "aiostat(1) documents each option of --help, and no other" [ "$options_of_help" = "$options_of_page" ]

# 6. Every JSON output against the schema in aiostat(1)'s JSON OUTPUT: each
# key "name (type)" or "name (type or null)", with [] for an array's elements.
LC_ALL=C MANWIDTH=200 man -l "$PAGE" 2> /dev/null | sed -n '/^JSON OUTPUT/,/^[A-Z]/p' |
    sed -nE 's/^       ([a-z_.]+(\[\][a-z_.]*)*) \(([a-z ]+)\)$/\1 \3/p' | sed 's/ or / /' | sort > "$WORK/schema"
check "aiostat(1) documents at least 40 JSON keys ($(wc -l < "$WORK/schema"))" [ "$(wc -l < "$WORK/schema")" -ge 40 ]
# Every key path in the outputs and its type, arrays' indices as [].
cat "$SHAPES"/*.json "$WORK"/machine.json "$WORK"/eagain.json "$WORK"/watch.json |
    jq -r 'paths as $path | select(($path[-1] | type) != "number" or (getpath($path) | type) != "object") | ($path | reduce .[] as $step (""; if ($step | type) == "number" then . + "[]"
        elif . == "" then $step else . + "." + $step end)) + " " + (getpath($path) | type)' |
    sort -u > "$WORK/seen"
undocumented=$(awk 'NR == FNR { for (i = 2; i <= NF; i++) types[$1 " " $i] = 1; next } !($0 in types)' \
    "$WORK/schema" "$WORK/seen")
check "every key and type in the JSON is in aiostat(1)'s schema${undocumented:+ (not: ${undocumented//$'\n'/, })}" \
    [ -z "$undocumented" ]
# No process here has /proc/PID/mem refused while its maps are readable
# (that takes ptrace rules such as Yama's, which this kernel lacks): the
# key is checked empty instead; the refusal itself is a unit test's.
UNSEEN_HERE="mem_refused_pids[]"
expect "mem_refused_pids is empty here, its element type unseen" "$SHAPES/root.json" '.mem_refused_pids == []'
unseen=$(awk -v exempt="$UNSEEN_HERE" 'NR == FNR { seen[$1] = 1; next } !($1 in seen) && $1 != exempt { print $1 }' \
    "$WORK/seen" "$WORK/schema")
check "every key of aiostat(1)'s schema is in the JSON${unseen:+ (not: ${unseen//$'\n'/, })}" [ -z "$unseen" ]
check "every object has every key its schema level lists" holds -s --rawfile schema "$WORK/schema" '
    ($schema | split("\n") | map(select(. != "") | split(" ")[0])) as $keys |
    def keys_at($prefix): $keys | map(select(startswith($prefix) and (.[($prefix | length):] | test("^[a-z_]+$")))
        | .[($prefix | length):]) | sort;
    all(.[]; (keys | sort) == keys_at("") and all(.processes[]; (keys | sort) == keys_at("processes[].")
        and all(.rings[]; (keys | sort) == keys_at("processes[].rings[].")))
        and (.total | keys | sort) == keys_at("total."))' "$SHAPES/root.json" "$WORK/machine.json"

# 7. make install: the stripped aiostat in bin, its page in man1.
STAGE="$WORK/stage"
if make -C "$ROOT" install PREFIX=/usr DESTDIR="$STAGE" > "$WORK/install.log" 2>&1; then
    check "make install: usr/bin/aiostat is target/dist's, stripped" \
        eval 'cmp -s "$STAGE/usr/bin/aiostat" "$ROOT/target/dist/$(dpkg --print-architecture)/aiostat" && lacks "\.symtab" <(readelf -S -W "$STAGE/usr/bin/aiostat")'
    check "make install: usr/share/man/man1/aiostat.1" cmp -s "$STAGE/usr/share/man/man1/aiostat.1" "$PAGE"
else
    cat "$WORK/install.log"
    fail "make install PREFIX=/usr DESTDIR=..."
fi
finish
