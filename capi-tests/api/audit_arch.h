/* THIS_AUDIT_ARCH: the seccomp_data.arch of the architecture compiled for, which a
 * filter checks before it trusts the syscall's number (an x86_64 program's
 * int 0x80, say, has another architecture's numbers). */
#ifndef CAPI_TESTS_AUDIT_ARCH_H
#define CAPI_TESTS_AUDIT_ARCH_H
#include <linux/audit.h>

#if defined(__x86_64__) && !defined(__ILP32__)
#define THIS_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__) && !defined(__ILP32__)
#define THIS_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define THIS_AUDIT_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define THIS_AUDIT_ARCH AUDIT_ARCH_S390X
#elif defined(__riscv) && __riscv_xlen == 64
#define THIS_AUDIT_ARCH AUDIT_ARCH_RISCV64
#else
#error "no AUDIT_ARCH_* for this architecture here: add it"
#endif
#endif
