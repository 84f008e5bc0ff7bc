# Readers of the text report (LIBAIO_RS_STATS=1) for suites/report.sh;
# sourced. A report begins with its header line, "libaio-rs: SCOPE ... of pid
# N...:", and runs on over indented lines: a line indented by two spaces
# begins a labelled section ("  time: ..."), one indented further continues
# it (a wrapped line, a list, a histogram bar). The JSON object of the same
# event holds the same numbers under the same keys.

# The awk program's common part: REPORT is the number of the report the line
# belongs to (0 outside any), SECTION its section's label.
REPORT_AWK='
/^libaio-rs: [a-z_]+ .*of pid [0-9]+.*:$/ { report++; inside = 1; section = ""; next }
/^[^ ]/ { inside = 0; next }
!inside { next }
/^  [^ ]/ { section = $1; prefix = "" }
'

# text_numbers FILE N: the numbers of the Nth text report in FILE, one
# "key=value" a line, sorted; a list's entries as "list.key=value", the
# histogram's as "submit_us_histogram.<bound=calls" (its bars left out),
# slowest_submit_o_direct's answer as in JSON.
text_numbers() {
    awk -v n="$2" "$REPORT_AWK"'
    report != n || section == "diagnosis:" { next }
    {
        for (i = 1; i <= NF; i++) {
            if ($i ~ /:$/) { prefix = ($i == section) ? "" : substr($i, 1, length($i) - 1) "."; continue }
            if ($i !~ /=/) continue
            if ($i == "slowest_submit_o_direct=unknown") $i = "slowest_submit_o_direct=null"
            if ($i == "slowest_submit_o_direct=no") $i = "slowest_submit_o_direct=false"
            if ($i == "slowest_submit_o_direct=yes") $i = "slowest_submit_o_direct=true"
            print prefix $i
        }
    }' "$1" | sort
}

# json_numbers OBJECT: the numbers of the JSON report OBJECT, as text_numbers
# gives them.
json_numbers() {
    jq -r 'del(.scope, .pid, .ctx, .diagnosis)
        | (.submit_us_histogram // [] | .[] | "submit_us_histogram.<\(.[0])=\(.[1])"),
          (del(.submit_us_histogram) | to_entries[]
           | if (.value | type) == "object"
             then .key as $list | .value | to_entries[] | "\($list).\(.key)=\(.value)"
             else "\(.key)=\(.value)" end)' <<<"$1" | sort
}

# text_diagnosis FILE N: the diagnosis of the Nth text report, its lines
# joined into one (nothing if it has none).
text_diagnosis() {
    awk -v n="$2" "$REPORT_AWK"'
    report != n || section != "diagnosis:" { next }
    { sub(/^ *(diagnosis: )?/, ""); text = text (text == "" ? "" : " ") $0 }
    END { printf "%s", text }' "$1"
}

# text_sections FILE N: the labels of the Nth text report's sections, in order.
text_sections() {
    awk -v n="$2" "$REPORT_AWK"'report == n && /^  [^ ]/ { print $1 }' "$1"
}

# text_reports FILE: how many text reports FILE holds.
text_reports() {
    awk "$REPORT_AWK"'END { print report + 0 }' "$1"
}

# bad_bars FILE: the histogram lines of FILE's reports whose bar is not as
# long as the bucket's share of the report's submit_calls (a # for each 2%,
# rounded up), or does not start in the column where the report's first bar
# does.
bad_bars() {
    awk "$REPORT_AWK"'
    {
        for (i = 1; i <= NF; i++)
            if ($i ~ /^submit_calls=/) { calls = substr($i, 14) + 0; column = 0 }
    }
    /^ +<[0-9]+=[0-9]+/ {
        bucket_calls = substr($1, index($1, "=") + 1) + 0
        want = int((bucket_calls * 50 + calls - 1) / calls)
        if (!column) column = index($0, "#")
        if ($2 !~ /^#+$/ || length($2) != want || index($0, "#") != column)
            print "report " report ": " $0 " (submit_calls=" calls ", want " want " #, from column " column ")"
    }' "$1"
}

# The files that hold text reports, for the layout checks at the end.
TEXT_OUTPUTS=()

# check_text_matches_json LABEL TEXT JSON: a check that the text reports in
# the file TEXT are the JSON objects in the file JSON, one for one and in
# order: the header names the scope, ctx and pid; the same numbers under the
# same keys; the same diagnosis, first if there is one. TEXT joins the files
# the layout checks read.
check_text_matches_json() {
    local label=$1 text=$2 json=$3 count n object want problems=
    TEXT_OUTPUTS+=("$text")
    count=$(text_reports "$text")
    [ "$count" -gt 0 ] && [ "$count" -eq "$(jq -s length "$json")" ] ||
        problems+=" $count text reports, $(jq -s length "$json" 2>&1) JSON objects;"
    for n in $(seq "$count"); do
        object=$(jq -c -s ".[$((n - 1))]" "$json")
        want=$(jq -r '"libaio-rs: \(.scope)\(if .ctx then " " + .ctx else "" end) of pid \(.pid)" +
            (if .scope == "io_setup" then " failed with EAGAIN" else "" end) + ":"' <<<"$object")
        [ "$(grep -E '^libaio-rs: [a-z_]+ .*of pid [0-9]+.*:$' "$text" | sed -n "${n}p")" = "$want" ] ||
            problems+=" report $n's header is not '$want';"
        [ "$(text_numbers "$text" "$n")" = "$(json_numbers "$object")" ] ||
            problems+=" report $n's numbers differ: $(diff <(text_numbers "$text" "$n") <(json_numbers "$object") |
                grep '^[<>]' | tr '\n' ' ');"
        [ "$(text_diagnosis "$text" "$n")" = "$(jq -r .diagnosis <<<"$object")" ] ||
            problems+=" report $n's diagnosis differs;"
        want=$(jq -r '[if .diagnosis != "" then "diagnosis:" else empty end] +
            if .scope == "io_setup" then ["io_setup:"] else ["io_setup:", "io_submit:", "time:", "completions:",
                "in_flight:"] end | join(" ")' <<<"$object")
        [ "$(text_sections "$text" "$n" | tr '\n' ' ')" = "$want " ] ||
            problems+=" report $n's sections are '$(text_sections "$text" "$n" | tr '\n' ' ')', not '$want';"
    done
    if [ -z "$problems" ]; then
        pass "$label: $count text report(s), each its JSON object's numbers and diagnosis, the diagnosis first"
    else
        fail "$label: the text must show the JSON's numbers under its keys (render::report):$problems"
        sed 's/^/    /' "$text"
    fi
}
