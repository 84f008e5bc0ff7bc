# The architectures the C library is built for, by Debian's names, and what
# each one's build and tests need. Sourced by cdylib/build.sh and the tests.
ARCHES=(amd64 arm64 ppc64el s390x riscv64)

# native_arch: this machine's architecture.
native_arch() { dpkg --print-architecture; }

# rust_target ARCH: Rust's name for ARCH's Linux with glibc.
rust_target() {
    case $1 in
        amd64) echo x86_64-unknown-linux-gnu ;;
        arm64) echo aarch64-unknown-linux-gnu ;;
        ppc64el) echo powerpc64le-unknown-linux-gnu ;;
        s390x) echo s390x-unknown-linux-gnu ;;
        riscv64) echo riscv64gc-unknown-linux-gnu ;;
        *) echo "arches.sh: $1 is none of ${ARCHES[*]} (32-bit ABIs are not supported: README, Architectures)" >&2
           return 1 ;;
    esac
}

# gnu_triplet ARCH: the GNU triplet, which prefixes the cross toolchain's
# tools and names the multiarch directory (/usr/lib/TRIPLET).
gnu_triplet() { rust_target "$1" >/dev/null && dpkg-architecture -a"$1" -qDEB_HOST_MULTIARCH 2>/dev/null; }

# tool ARCH NAME: the binutils or gcc tool NAME that builds for ARCH.
tool() {
    if [ "$1" = "$(native_arch)" ]; then echo "$2"; else echo "$(gnu_triplet "$1")-$2"; fi
}

# cargo_release_dir ARCH: where cargo puts ARCH's release build.
cargo_release_dir() {
    if [ "$1" = "$(native_arch)" ]; then echo target/release; else echo "target/$(rust_target "$1")/release"; fi
}

# qemu_user ARCH: qemu-user's emulator for ARCH's programs (for those that
# make no AIO syscall, which qemu-user does not emulate).
qemu_user() {
    case $1 in
        arm64) echo qemu-aarch64-static ;;
        ppc64el) echo qemu-ppc64le-static ;;
        *) echo "qemu-$1-static" ;;
    esac
}
