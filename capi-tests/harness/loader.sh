# What the dynamic loader did with libaio in a real program: which file each
# io_* symbol binds to, and which libaio files it mapped. Sourced after lib.sh
# by the suites that run real programs (harness.sh, fio.sh).

# io_bindings PROGRAM [VAR=VALUE...]: "SYMBOL FILE" for each io_* symbol the
# loader binds in PROGRAM itself (not in the libraries it loads). The loader
# only relocates, as `ldd -r` does: the program does not run.
io_bindings() {
    local program=$1; shift
    env "$@" LD_TRACE_LOADED_OBJECTS=1 LD_BIND_NOW=1 LD_WARN=yes LD_DEBUG=bindings "$program" 2>&1 >/dev/null |
        grep -F "binding file $program [0] to " |
        sed -n "s/.* to \([^ ]*\) \[0\]: normal symbol \`\(io_[a-z0-9_]*\)'.*/\2 \1/p" |
        sort -u
}

# bound_only_to FILE PROGRAM [VAR=VALUE...]: every io_* symbol PROGRAM imports
# (at least one) binds to FILE. Prints both lists when they differ.
bound_only_to() {
    local file=$1 program=$2; shift 2
    local imported bound
    imported=$(nm -D --undefined-only "$program" |
        awk -v file="$file" '{ sub(/@.*/, "", $2) } $2 ~ /^io_/ { print $2, file }' | sort -u)
    bound=$(io_bindings "$program" "$@")
    [ -n "$imported" ] && [ "$imported" = "$bound" ] && return 0
    printf '%s imports:\n%s\nbound:\n%s\n' "$program" "$imported" "$bound"
    return 1
}

# libaio_objects LOG...: the libaio files that the loader mapped, from
# LD_DEBUG=files logs (one name per line, as the loader named them: the path
# for a preloaded file, the NEEDED name for one found by search).
libaio_objects() {
    sed -n 's/.*file=\([^ ]*libaio[^ ]*\) \[[0-9]*\];  generating link map.*/\1/p' "$@" | sort -u
}
