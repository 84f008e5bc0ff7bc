# The io_setup refusals of suites/report.sh (its section 8), sourced after
# lib.sh and text.sh, with EAGAIN the eagain program: the moment aio-max-nr
# is lowered, the runs of eagain.c that io_setup refuses, and the checks of
# what the report says about them.
source "$ROOT/capi-tests/aio-max-nr.sh"
AIO_NR=/proc/sys/fs/aio-nr
# The limit is global: other programs on the machine get EAGAIN while it is
# lowered. It is lowered for the time one io_setup takes, to what is in use
# plus LIMIT_MARGIN.
LIMIT_MARGIN=64
LIMIT_ASK=128
ORIGINAL_MAX=$(cat "$AIO_MAX_NR")
LOWERED_MAX=
lower_limit() {
    LOWERED_MAX=$(($(cat "$AIO_NR") + LIMIT_MARGIN))
    lower_aio_max_nr "$LOWERED_MAX"
}

# wait_for_ready FILE: waits (10 s at most) until FILE has a line "ready".
wait_for_ready() {
    for _ in $(seq 100); do
        grep -qx ready "$1" 2>/dev/null && return
        sleep 0.1
    done
}

# run_refusal NAME LIBDIR WINDOW MODE ASK OWN...: runs eagain MODE ASK OWN...
# with LIBDIR on the library path and the report on (text in NAME.err, JSON
# in NAME.json); once the program has made its contexts, the shell command
# WINDOW runs just before it calls io_setup(ASK), and restore_aio_max_nr as soon
# as it has ended. Relays its checks, and checks that it exited 0.
run_refusal() {
    local name=$1 libdir=$2 window=$3 go status; shift 3
    rm -f "$WORK/$name.json" "$WORK/$name.in"
    mkfifo "$WORK/$name.in"
    timeout 30 env LD_LIBRARY_PATH="$libdir" LIBAIO_RS_STATS=1 LIBAIO_RS_STATS_JSON="$WORK/$name.json" \
        "$EAGAIN" "$@" <"$WORK/$name.in" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    local pid=$!
    exec {go}>"$WORK/$name.in"
    wait_for_ready "$WORK/$name.out"
    eval "$window"
    # (A program that died early has no reader left on the pipe.)
    (trap '' PIPE; echo go >&"$go") 2>/dev/null
    wait "$pid"
    status=$?
    restore_aio_max_nr
    exec {go}>&-
    relay_checks "$name" "$WORK/$name.out"
    check "$name: exits 0" [ "$status" -eq 0 ]
}

# steady NAME: run NAME's io_setup was refused, and aio-nr was the same just
# before and just after it (no other program made or ended a context).
steady() {
    [ "$(printed "$1" io_setup_result)" = -11 ] && [ "$(printed "$1" aio_nr_before)" = "$(printed "$1" aio_nr_after)" ]
}

# check_refusal NAME ASK MAX LARGEST WHY FILTER: the checks of run NAME, an
# io_setup(ASK) refused with EAGAIN under aio-max-nr MAX, by a program whose
# largest own context asked for LARGEST events: one io_setup report with the
# program's numbers, the diagnosis WHY (the jq FILTER on it), its contexts'
# and process's reports as without the refusal, and the text as the JSON.
check_refusal() {
    local name=$1 ask=$2 max=$3 largest=$4 why=$5 filter=$6 object contexts
    verify "$name: io_setup($ask) answers -EAGAIN" "the program's io_setup got $(printed "$name" io_setup_result)" \
        [ "$(printed "$name" io_setup_result)" = -11 ]
    expect_count "$name" io_setup 1 "$WORK/$name.json"
    object=$(objects io_setup "$WORK/$name.json")
    contexts=$(printed "$name" held_contexts)
    expect "$name: nr_events, aio_nr, aio_max_nr, held_contexts, held_events are the request's, /proc's, the program's" \
        "$object" '.pid == $pid and .nr_events == $ask and .aio_nr == $aio_nr and .aio_max_nr == $max and
            .held_contexts == $contexts and .held_events == $events' \
        "report::setup_failed reads /proc/sys/fs/aio-nr and aio-max-nr after the refusal, and counts the live contexts" \
        --argjson pid "$(printed "$name" pid)" --argjson ask "$ask" --argjson aio_nr "$(printed "$name" aio_nr_after)" \
        --argjson max "$max" --argjson contexts "${contexts:-0}" --argjson events "$(printed "$name" held_events)"
    expect "$name: the diagnosis says $why" "$object" ".diagnosis | $filter" \
        "render::report must pick the sentences the numbers point to (REFUSALS)"
    expect "$name: nothing else changed: $contexts context reports, a process report of $contexts contexts" \
        "$(jq -s -c . "$WORK/$name.json")" \
        '(map(select(.scope == "context")) | length) == $contexts and
         (map(select(.scope == "process")) | length == 1 and .[0].contexts == $contexts and .[0].ring_size == $largest)' \
        "a refused io_setup is no context (contexts::setup registers none)" \
        --argjson contexts "${contexts:-0}" --argjson largest "$largest"
    check_text_matches_json "$name" "$WORK/$name.err" "$WORK/$name.json"
}
