# Private namespaces for the Debian roots of the package tests; sourced.
#
# A root of another architecture runs its programs (dpkg's maintainer
# scripts, ldconfig) under qemu-user, through binfmt_misc. Registering
# qemu-user with the machine's binfmt_misc would run every such program on
# the machine through it for as long as the test lasts; since Linux 6.7 a
# user namespace has a binfmt_misc of its own, so the handlers are
# registered there, seen only by the test's processes, and gone with them.
# The user namespace maps every user and group to itself: files keep their
# owners, and its root is root for every file, but not for what only the
# machine's root may do (make device nodes, load modules, set sysctls).

# in_private_namespaces COMMAND...: runs COMMAND as root of a new user, mount
# (private) and PID namespace, and returns its exit status. When COMMAND ends,
# every process it left is killed and every mount it made is gone.
in_private_namespaces() {
    local fifo pid status=0 map
    fifo=$(mktemp -u "${TMPDIR:-/tmp}/libaio-rs-ns.XXXXXX") && mkfifo -m 600 "$fifo" || return 1
    # COMMAND waits until its namespace maps the ids (only its parent can).
    HOST_USER_NAMESPACE=$(readlink /proc/self/ns/user) \
        unshare --user --mount --propagation private --pid --fork --kill-child -- \
        bash -c 'read -r _ < "$0" && rm -f "$0" && exec "$@"' "$fifo" "$@" &
    pid=$!
    while [ "$(readlink "/proc/$pid/ns/user" 2>/dev/null)" = "$(readlink /proc/self/ns/user)" ]; do
        sleep 0.01
    done
    for map in uid_map gid_map; do
        echo '0 0 4294967295' > "/proc/$pid/$map" || { kill "$pid"; rm -f "$fifo"; return 1; }
    done
    echo mapped > "$fifo"
    wait "$pid" || status=$?
    rm -f "$fifo"
    return "$status"
}

# in_own_user_namespace: this process runs in a namespace made by
# in_private_namespaces, not in the machine's.
in_own_user_namespace() {
    [ -n "${HOST_USER_NAMESPACE:-}" ] && [ "$(readlink /proc/self/ns/user)" != "$HOST_USER_NAMESPACE" ]
}

# register_qemu_user ARCH DIR: in a namespace made by in_private_namespaces,
# mounts its own binfmt_misc on DIR and registers qemu-user for ARCH's
# programs there, as Debian's qemu-user-static package describes it
# (/usr/share/binfmts). The interpreter is opened now (flag F), so that it
# need not be in the root the programs run in. Refuses to run where the
# registration would be the machine's.
register_qemu_user() {
    local arch=$1 dir=$2 name description field value magic mask offset interpreter flags=
    if ! in_own_user_namespace; then
        echo "register_qemu_user: not in a namespace of in_private_namespaces: refusing to change the machine's binfmt_misc" >&2
        return 1
    fi
    name=$(qemu_user "$arch") && name=${name%-static}
    description=/usr/share/binfmts/$name
    [ -f "$description" ] || { echo "register_qemu_user: no $description (qemu-user-static)" >&2; return 1; }
    while read -r field value; do
        case $field in
            magic) magic=$value ;;
            mask) mask=$value ;;
            offset) offset=$value ;;
            interpreter) interpreter=$value ;;
            fix_binary) [ "$value" != yes ] || flags+=F ;;
            preserve) [ "$value" != yes ] || flags+=P ;;
            credentials) [ "$value" != yes ] || flags+=C ;;
        esac
    done < "$description"
    mkdir -p "$dir" && mount -t binfmt_misc binfmt_misc "$dir" || {
        echo "register_qemu_user: no binfmt_misc of a user namespace's own (Linux 6.7 or later needed)" >&2
        return 1
    }
    echo ":$name:M:$offset:$magic:$mask:$interpreter:$flags" > "$dir/register"
}

# Run as a script, `namespace.sh COMMAND...` is in_private_namespaces
# COMMAND..., for timeout(1) to run (it stops the whole process group).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    in_private_namespaces "$@"
fi
