# What differs between the architectures the guests emulate; sourced after
# cdylib/arches.sh (names, triplets, build directories) and archive.sh
# (which Debian release serves each).
# guest_arch ARCH (Debian's name: arm64, ppc64el, s390x, riscv64) sets:
#   GUEST_RELEASE   the Debian release whose kernel and packages the guest runs
#   GUEST_TRIPLE    the GNU triplet: cross compiler, multiarch directory
#   GUEST_KERNEL    Debian's package for the architecture's kernel
#   GUEST_LIBAIO    Debian's libaio package (renamed libaio1t64 in Debian 13)
#   GUEST_QEMU      the qemu-system binary, its machine and CPU
#   GUEST_CONSOLE, GUEST_DISK_DEVICE  the kernel's console, the disk's virtio device
#   GUEST_MEMORY    the machine's memory
#   GUEST_MODULES   the kernel modules the guest loads: the disk's, ext4,
#                   loop devices (root.sh adds what they depend on)
guest_arch() {
    GUEST_ARCH=$1
    GUEST_TRIPLE=$(gnu_triplet "$1") || return 1
    GUEST_RELEASE=$(debian_release "$1")
    GUEST_LIBAIO=libaio1
    GUEST_MODULES=(virtio_pci virtio_blk crc32c_generic ext4 loop)
    GUEST_DISK_DEVICE=virtio-blk-pci
    GUEST_MEMORY=2G
    case $1 in
        arm64)
            GUEST_KERNEL=linux-image-arm64
            # pauth-impdef: pointer authentication with a hash that is cheap to emulate.
            GUEST_QEMU=(qemu-system-aarch64 -machine virt -cpu max,pauth-impdef=on)
            GUEST_CONSOLE=ttyAMA0 ;;
        ppc64el)
            GUEST_KERNEL=linux-image-powerpc64le
            # x-vof: QEMU's own small firmware instead of SLOF, which takes seconds to start.
            GUEST_QEMU=(qemu-system-ppc64 -machine pseries,x-vof=on,cap-ccf-assist=off -cpu power9 -vga none)
            # Debian's ppc64el kernel has 64 KiB pages, each ring one at least:
            # upstream's case 18 maps 65,509 rings (until vm.max_map_count), 4 GiB.
            GUEST_MEMORY=6G
            GUEST_CONSOLE=hvc0 ;;
        s390x)
            GUEST_KERNEL=linux-image-s390x
            GUEST_QEMU=(qemu-system-s390x -machine s390-ccw-virtio -cpu max)
            # virtio over channel I/O, built into the kernel: no virtio_pci.
            GUEST_MODULES=("${GUEST_MODULES[@]:1}")
            GUEST_CONSOLE=ttysclp0 GUEST_DISK_DEVICE=virtio-blk-ccw ;;
        riscv64)
            GUEST_KERNEL=linux-image-riscv64 GUEST_LIBAIO=libaio1t64
            GUEST_QEMU=(qemu-system-riscv64 -machine virt -cpu rv64)
            GUEST_CONSOLE=ttyS0 ;;
        *)
            echo "guest: no guest for '$1' (Debian's names: arm64, ppc64el, s390x, riscv64)" >&2
            return 1 ;;
    esac
}
