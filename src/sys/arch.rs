//! What differs between the architectures the library is built and tested
//! for (x86_64, aarch64, powerpc64, s390x, riscv64; 64-bit Linux), in one
//! place: how a syscall is made without touching `errno`, the number of
//! `io_pgetevents`, and the thread pointer that names the running thread.
//! Struct layouts differ by byte order, not by architecture: see abi.rs.

use core::ffi::c_long;

#[cfg(not(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "powerpc64",
        target_arch = "s390x",
        target_arch = "riscv64"
    )
)))]
compile_error!(
    "libaio-rs is built and tested for 64-bit Linux on x86_64, aarch64, powerpc64, s390x and \
     riscv64 only: another architecture needs its entries in src/sys/arch.rs"
);

/// `__NR_io_pgetevents`, which the libc crate does not name on every target.
#[cfg(target_arch = "x86_64")]
pub const SYS_IO_PGETEVENTS: c_long = 333;
#[cfg(any(target_arch = "aarch64", target_arch = "riscv64"))]
pub const SYS_IO_PGETEVENTS: c_long = 292; // asm-generic
#[cfg(target_arch = "powerpc64")]
pub const SYS_IO_PGETEVENTS: c_long = 388;
#[cfg(target_arch = "s390x")]
pub const SYS_IO_PGETEVENTS: c_long = 382;

/// Syscall `nr`: the raw return value, `-errno` on failure.
///
/// # Safety
/// The arguments must satisfy syscall `nr`'s contract.
#[cfg(target_arch = "x86_64")]
#[inline]
pub unsafe fn syscall6(nr: c_long, args: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the caller upholds the syscall's contract; `syscall` clobbers
    // only rcx and r11 besides the return register.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") args[0], in("rsi") args[1], in("rdx") args[2],
            in("r10") args[3], in("r8") args[4], in("r9") args[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

#[cfg(target_arch = "aarch64")]
#[inline]
pub unsafe fn syscall6(nr: c_long, args: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the caller upholds the syscall's contract; `svc 0` returns in
    // x0 and preserves every other register.
    unsafe {
        core::arch::asm!(
            "svc 0",
            in("x8") nr,
            inlateout("x0") args[0] as isize => ret,
            in("x1") args[1], in("x2") args[2], in("x3") args[3],
            in("x4") args[4], in("x5") args[5],
            options(nostack),
        );
    }
    ret
}

#[cfg(target_arch = "riscv64")]
#[inline]
pub unsafe fn syscall6(nr: c_long, args: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the caller upholds the syscall's contract; `ecall` returns in
    // a0 and preserves every other register.
    unsafe {
        core::arch::asm!(
            "ecall",
            in("a7") nr,
            inlateout("a0") args[0] as isize => ret,
            in("a1") args[1], in("a2") args[2], in("a3") args[3],
            in("a4") args[4], in("a5") args[5],
            options(nostack),
        );
    }
    ret
}

#[cfg(target_arch = "s390x")]
#[inline]
pub unsafe fn syscall6(nr: c_long, args: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the caller upholds the syscall's contract; `svc 0` takes the
    // number in r1, returns in r2 and preserves every other register.
    unsafe {
        core::arch::asm!(
            "svc 0",
            in("r1") nr,
            inlateout("r2") args[0] as isize => ret,
            in("r3") args[1], in("r4") args[2], in("r5") args[3],
            in("r6") args[4], in("r7") args[5],
            options(nostack),
        );
    }
    ret
}

/// `sc` reports an error by setting CR0's summary-overflow bit, with the
/// positive errno in r3: negated here, as the other architectures return it.
#[cfg(target_arch = "powerpc64")]
#[inline]
pub unsafe fn syscall6(nr: c_long, args: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the caller upholds the syscall's contract; the kernel may
    // change r0 and r4-r12, CR0, CTR and XER, and preserves the rest.
    unsafe {
        core::arch::asm!(
            "sc",
            "bns+ 2f",
            "neg 3, 3",
            "2:",
            inlateout("r0") nr => _,
            inlateout("r3") args[0] as isize => ret,
            inlateout("r4") args[1] => _, inlateout("r5") args[2] => _,
            inlateout("r6") args[3] => _, inlateout("r7") args[4] => _,
            inlateout("r8") args[5] => _,
            out("r9") _, out("r10") _, out("r11") _, out("r12") _,
            out("cr0") _, out("ctr") _, out("xer") _,
            options(nostack),
        );
    }
    ret
}

/// A non-zero value unique to the running thread, read without a call: the
/// thread pointer (on x86_64 the TCB's pointer to itself at %fs:0).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn thread_pointer() -> usize {
    let id: usize;
    // SAFETY: reads the TCB's self pointer at %fs:0; no side effects.
    unsafe {
        core::arch::asm!("mov {}, qword ptr fs:[0]", out(reg) id, options(nostack, readonly, preserves_flags))
    };
    id
}

#[cfg(target_arch = "aarch64")]
#[inline(always)]
pub fn thread_pointer() -> usize {
    let id: usize;
    // SAFETY: reads the thread pointer register; no side effects.
    unsafe {
        core::arch::asm!("mrs {}, tpidr_el0", out(reg) id, options(nomem, nostack, preserves_flags))
    };
    id
}

#[cfg(target_arch = "riscv64")]
#[inline(always)]
pub fn thread_pointer() -> usize {
    let id: usize;
    // SAFETY: reads the thread pointer register; no side effects.
    unsafe { core::arch::asm!("mv {}, tp", out(reg) id, options(nomem, nostack, preserves_flags)) };
    id
}

#[cfg(target_arch = "s390x")]
#[inline(always)]
pub fn thread_pointer() -> usize {
    let (high, low): (u32, u32);
    // SAFETY: reads access registers 0 and 1, the thread pointer's halves.
    unsafe {
        core::arch::asm!(
            "ear {0}, %a0",
            "ear {1}, %a1",
            out(reg) high, out(reg) low,
            options(nomem, nostack, preserves_flags),
        )
    };
    (high as usize) << 32 | low as usize
}

#[cfg(target_arch = "powerpc64")]
#[inline(always)]
pub fn thread_pointer() -> usize {
    let id: usize;
    // SAFETY: reads r13, the thread pointer; no side effects.
    unsafe { core::arch::asm!("mr {}, 13", out(reg) id, options(nomem, nostack, preserves_flags)) };
    id
}
