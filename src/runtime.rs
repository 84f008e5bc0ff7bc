//! Process-wide set-up: switches read from the environment, the fork
//! handler, and the optional counters of reaping calls served in user space
//! versus by the kernel.
//!
//! - `LIBAIO_RS_FORCE_SYSCALL=1`: never read the ring; every call makes its
//!   syscall (for strace, valgrind, rr).
//! - `LIBAIO_RS_STATS=1`: print the counters to stderr at exit.

use crate::text::Text;
use core::ffi::CStr;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

/// `init`'s progress: not begun, running in some thread, done.
static INIT: AtomicU8 = AtomicU8::new(NOT_BEGUN);
const NOT_BEGUN: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;

static FORCE_SYSCALL: AtomicBool = AtomicBool::new(false);
static COUNTING: AtomicBool = AtomicBool::new(false);
static USER_REAPS: AtomicU64 = AtomicU64::new(0);
static KERNEL_REAPS: AtomicU64 = AtomicU64::new(0);

/// Whether the environment variable `name` is set to something other than
/// "" or "0".
fn env_flag(name: &CStr) -> bool {
    // SAFETY: `name` is a C string; getenv returns NULL or a C string.
    let value = unsafe { libc::getenv(name.as_ptr()) };
    // SAFETY: a non-NULL result of getenv is a C string.
    !value.is_null() && !matches!(unsafe { CStr::from_ptr(value) }.to_bytes(), b"" | b"0")
}

/// Reads the switches and installs the fork handler; idempotent and cheap
/// after the first call. Called before the
/// first context is registered; a thread that comes while another runs it
/// waits for it (it is short).
pub fn init() {
    if INIT.load(Ordering::Acquire) == DONE {
        return;
    }
    if INIT
        .compare_exchange(NOT_BEGUN, RUNNING, Ordering::Acquire, Ordering::Acquire)
        .is_err()
    {
        while INIT.load(Ordering::Acquire) != DONE {
            core::hint::spin_loop();
        }
        return;
    }
    // First, so that with it nothing else is done that upstream would not do.
    FORCE_SYSCALL.store(env_flag(c"LIBAIO_RS_FORCE_SYSCALL"), Ordering::Relaxed);
    crate::hazard::init();
    if env_flag(c"LIBAIO_RS_STATS") {
        COUNTING.store(true, Ordering::Relaxed);
        // SAFETY: registering a plain extern "C" fn with no captured state.
        unsafe { libc::atexit(print_at_exit) };
    }
    // SAFETY: as above.
    unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
    INIT.store(DONE, Ordering::Release);
}

extern "C" fn after_fork_in_child() {
    crate::contexts::forget_all();
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
    let mut line = Text::new();
    line.push("libaio-rs: ")
        .push_u64(USER_REAPS.load(Ordering::Relaxed))
        .push(" reaping calls served from the ring without a syscall, ")
        .push_u64(KERNEL_REAPS.load(Ordering::Relaxed))
        .push(" reaping syscalls\n");
    line.write_to(libc::STDERR_FILENO);
}
