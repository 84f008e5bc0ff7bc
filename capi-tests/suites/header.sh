#!/usr/bin/env bash
# include/libaio.h: generated from the crate by the pinned cbindgen, and
# equivalent to the system's (Debian's) libaio.h for every C and C++ user:
# same declarations, macros, layouts, helper bytes and function types.
source "$(dirname "$0")/../lib.sh"
HEADER_DIR="$ROOT/capi-tests/header"
SYSTEM_INCLUDE=/usr/include
STRICT="-Wall -Wextra -Werror"
# Beyond upstream's header, ours also passes the pickier warnings projects enable.
PICKY="-Wpedantic -Wconversion -Wsign-conversion -Wcast-qual -Wshadow"
echo '#include <libaio.h>' > "$WORK/include.c"

# The checked-in header is exactly what `make header` would write now.
bash "$HEADER_DIR/generate.sh" "$WORK/libaio.h"
if diff -u "$OUR_INCLUDE/libaio.h" "$WORK/libaio.h" > "$WORK/generated.diff"; then
    pass "include/libaio.h is up to date with cbindgen.toml and the crate"
else
    head -40 "$WORK/generated.diff"
    fail "include/libaio.h is up to date with cbindgen.toml and the crate (run make header)"
fi

# declarations INCLUDE_DIR: every function the header declares or defines,
# as gcc prints it, without the reserved (__-prefixed) internal helpers.
declarations() {
    gcc -std=gnu11 -I"$1" -aux-info "$WORK/decls.aux" -c "$WORK/include.c" -o /dev/null
    grep -F "$1/libaio.h:" "$WORK/decls.aux" | sed -e 's|^/\*[^*]*\*/ ||' -e 's|; /\*.*|;|' \
        | grep -v '^[a-z ]* __' | sort
}
declarations "$SYSTEM_INCLUDE" > "$WORK/system.decls"
declarations "$OUR_INCLUDE" > "$WORK/our.decls"
if [ -s "$WORK/system.decls" ] && diff -u "$WORK/system.decls" "$WORK/our.decls"; then
    pass "same function declarations as the system header ($(wc -l < "$WORK/our.decls"), no io_queue_wait)"
else
    fail "same function declarations as the system header"
fi

# added_macros INCLUDE_DIR: the macros the header leaves defined, beyond those
# of its three includes.
added_macros() {
    printf '#include <sys/types.h>\n#include <string.h>\n#include <signal.h>\n' > "$WORK/includes.c"
    gcc -std=gnu11 -dM -E "$WORK/includes.c" | sort > "$WORK/includes.macros"
    gcc -std=gnu11 -I"$1" -dM -E "$WORK/include.c" | sort \
        | comm -13 "$WORK/includes.macros" - | awk '{ print $2 }'
}
added_macros "$SYSTEM_INCLUDE" > "$WORK/system.macros"
if [ -s "$WORK/system.macros" ] && diff -u "$WORK/system.macros" <(added_macros "$OUR_INCLUDE"); then
    pass "same macros as the system header: $(tr '\n' ' ' < "$WORK/system.macros")(no IOCB_FLAG_*)"
else
    fail "same macros as the system header"
fi

# Same include guard: whichever header comes first, the other adds nothing.
printf '#include <%s/libaio.h>\n#include <libaio.h>\n#include <%s/libaio.h>\n' \
    "$SYSTEM_INCLUDE" "$SYSTEM_INCLUDE" > "$WORK/system-first.c"
printf '#include <libaio.h>\n#include <%s/libaio.h>\n' "$SYSTEM_INCLUDE" > "$WORK/ours-first.c"
mixed_includes_compile() {
    local first
    for first in system ours; do
        gcc -std=gnu11 $STRICT -I"$OUR_INCLUDE" -c "$WORK/$first-first.c" -o /dev/null || return 1
    done
}
check "same include guard: either header first, the other adds nothing" mixed_includes_compile

# The probe prints layouts and helper bytes; ours must print what upstream's
# does, on every architecture: built with that architecture's compiler
# against Debian's libaio.h of that architecture, and run (under qemu-user
# elsewhere than here: the probe makes no syscall of libaio's). kernel.c
# prints where the kernel's uapi of that architecture puts each field; the
# probe must print the same for libaio.h's name of it.
source "$ROOT/cdylib/arches.sh"
source "$ROOT/capi-tests/archive.sh"
probe() { # probe ARCH NAME SOURCE INCLUDE_DIR COMPILER_FLAGS...: builds and runs SOURCE
    local arch=$1 name=$2 source=$3 include=$4; shift 4
    local program="$WORK/$arch-$name" runner=()
    [ "$arch" = "$(native_arch)" ] || runner=("$(qemu_user "$arch")")
    "$(tool "$arch" gcc)" -static "$@" -I"$include" "$source" -o "$program" &&
        "${runner[@]}" "$program" > "$program.out"
}
for arch in "${ARCHES[@]}"; do
    if [ "$arch" = "$(native_arch)" ]; then
        upstream_include=$SYSTEM_INCLUDE
    else
        upstream_include="$(debian_libaio "$arch")/usr/include" || { fail "[$arch] Debian's libaio.h fetched"; continue; }
    fi
    if ! probe "$arch" upstream "$HEADER_DIR/probe.c" "$upstream_include" -std=gnu11 $STRICT; then
        fail "[$arch] probe builds and runs with upstream's header"
        continue
    fi
    for std in gnu11 c11; do
        if probe "$arch" "ours-$std" "$HEADER_DIR/probe.c" "$OUR_INCLUDE" -std=$std $STRICT $PICKY \
            && diff -u "$WORK/$arch-upstream.out" "$WORK/$arch-ours-$std.out"; then
            pass "[$arch] probe (-std=$std): same sizes, offsets, field types, enum values and helper bytes as upstream's header"
        else
            fail "[$arch] probe (-std=$std): same sizes, offsets, field types, enum values and helper bytes as upstream's header"
        fi
    done
    if probe "$arch" kernel "$HEADER_DIR/kernel.c" "$OUR_INCLUDE" $STRICT &&
       [ "$(grep -c '^field' "$WORK/$arch-kernel.out")" -eq 16 ] &&
       sed 's/ type=[^=]*$//' "$WORK/$arch-ours-gnu11.out" > "$WORK/$arch-ours.layout" &&
       ! grep -vxFf "$WORK/$arch-ours.layout" "$WORK/$arch-kernel.out"; then
        pass "[$arch] struct iocb and io_event as the kernel's linux/aio_abi.h: their 16 fields at the same offsets, of the same sizes"
    else
        fail "[$arch] struct iocb and io_event as the kernel's linux/aio_abi.h (above: the kernel's that ours lacks)"
    fi
done
echo "[s390x] the fields that big-endian swaps:" $(grep -E 'iocb\.(key|aio_rw_flags|u\.poll\.(events|__pad1)) ' "$WORK/s390x-ours-gnu11.out" | sed 's/^field //; s/ size=.*//')

# Each function and typedef against a pointer of its spelled-out type, with the
# header included twice. The system header passing shows signatures.c spells
# upstream's types; c11 is the strict mode in which upstream's header lacks sigset_t.
signatures() { # signatures INCLUDE_DIR COMPILER FLAGS...
    local include=$1 compiler=$2; shift 2
    "$compiler" "$@" $STRICT -I"$include" -c "$HEADER_DIR/signatures.c" -o "$WORK/signatures.o"
}
check "signatures.c spells upstream's types (system header, gcc -std=gnu11)" \
    signatures "$SYSTEM_INCLUDE" gcc -std=gnu11
check "signatures.c spells upstream's types (system header, g++)" \
    signatures "$SYSTEM_INCLUDE" g++ -x c++
check "our header: same signatures, sigset_t callers, picky warnings (gcc -std=gnu11)" \
    signatures "$OUR_INCLUDE" gcc -std=gnu11 $PICKY
check "our header: same signatures, picky warnings (gcc -std=c11)" \
    signatures "$OUR_INCLUDE" gcc -std=c11 $PICKY
check "our header: same signatures, picky warnings (g++)" \
    signatures "$OUR_INCLUDE" g++ -x c++ $PICKY

# On 32-bit ABIs the header must stop at its #error rather than give a layout
# that differs from upstream's. The system header's probe building there shows
# the toolchain supports the ABI, so only our #error can stop ours. (Cross
# compilers, not gcc-multilib, which Debian's cross compilers exclude.)
for compiler in i686-linux-gnu-gcc x86_64-linux-gnux32-gcc arm-linux-gnueabihf-gcc; do
    abi=${compiler%-gcc}
    if ! $compiler -std=gnu11 $STRICT -I"$SYSTEM_INCLUDE" -c "$HEADER_DIR/probe.c" -o /dev/null; then
        fail "$abi: the system header's probe builds (make deps installs $compiler)"
    elif $compiler -std=gnu11 $STRICT -I"$OUR_INCLUDE" -c "$HEADER_DIR/probe.c" -o /dev/null \
            2> "$WORK/abi.err"; then
        fail "$abi: our header refuses an ABI whose layout it does not give"
    elif grep 'error:' "$WORK/abi.err" | grep -qv 'error: #error'; then
        cat "$WORK/abi.err"
        fail "$abi: our header stops at its #error and nowhere else"
    else
        pass "$abi: our header refuses the ABI with its #error"
    fi
done

# Upstream's harness builds and runs against this header in suites/harness.sh.

finish
