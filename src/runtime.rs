//! Process-wide set-up: switches read from the environment, the fork
//! handler, and the optional counters of reaping calls served in user space
//! versus by the kernel.
//!
//! - `LIBAIO_RS_FORCE_SYSCALL=1`: never read the ring; every call makes its
//!   syscall (for strace, valgrind, rr).
//! - `LIBAIO_RS_STATS=1`: print the counters to stderr at exit.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Once;

static INIT: Once = Once::new();
static FORCE_SYSCALL: AtomicBool = AtomicBool::new(false);
static COUNTING: AtomicBool = AtomicBool::new(false);
static USER_REAPS: AtomicU64 = AtomicU64::new(0);
static KERNEL_REAPS: AtomicU64 = AtomicU64::new(0);

fn env_flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Reads the switches, installs the fork handler and registers for
/// membarrier; idempotent and cheap after the first call. Called before the
/// first context is registered.
pub fn init() {
    INIT.call_once(|| {
        let fast_path = crate::hazard::init() && !env_flag("LIBAIO_RS_FORCE_SYSCALL");
        FORCE_SYSCALL.store(!fast_path, Ordering::Relaxed);
        if env_flag("LIBAIO_RS_STATS") {
            COUNTING.store(true, Ordering::Relaxed);
            // SAFETY: registering a plain extern "C" fn with no captured state.
            unsafe { libc::atexit(print_at_exit) };
        }
        // SAFETY: as above.
        unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
    });
}

extern "C" fn after_fork_in_child() {
    crate::contexts::forget_all();
    if !crate::hazard::init() {
        FORCE_SYSCALL.store(true, Ordering::Relaxed);
    }
}

/// Whether the user-space fast path is switched off.
pub fn force_syscall() -> bool {
    FORCE_SYSCALL.load(Ordering::Relaxed)
}

/// Counts a reaping call served from the ring without a syscall.
#[inline]
pub fn count_user_reap() {
    if COUNTING.load(Ordering::Relaxed) {
        USER_REAPS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts a reaping call that went to the kernel.
#[inline]
pub fn count_kernel_reap() {
    if COUNTING.load(Ordering::Relaxed) {
        KERNEL_REAPS.fetch_add(1, Ordering::Relaxed);
    }
}

extern "C" fn print_at_exit() {
    eprintln!(
        "libaio-rs: {} reaping calls served from the ring without a syscall, {} reaping syscalls",
        USER_REAPS.load(Ordering::Relaxed),
        KERNEL_REAPS.load(Ordering::Relaxed)
    );
}
