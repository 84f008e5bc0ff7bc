//! Process-wide set-up: the switches read from the environment, and the
//! fork handler.
//!
//! - `LIBAIO_RS_FORCE_SYSCALL=1`: never read the ring; every call makes its
//!   syscall (for strace, valgrind, rr), and the library makes no syscall
//!   that upstream would not make.
//! - the report's switches (`LIBAIO_RS_STATS*`, see report/mod.rs).

use core::ffi::CStr;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// `init`'s progress: not begun, running in some thread, done.
static INIT: AtomicU8 = AtomicU8::new(NOT_BEGUN);
const NOT_BEGUN: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;

static FORCE_SYSCALL: AtomicBool = AtomicBool::new(false);

/// The value of the environment variable `name`, if it is set.
pub fn env_value(name: &CStr) -> Option<&'static [u8]> {
    // SAFETY: `name` is a C string; getenv returns NULL or a C string, which
    // stays while nobody changes the environment (read once, at start-up).
    let value = unsafe { libc::getenv(name.as_ptr()) };
    // SAFETY: as above.
    (!value.is_null()).then(|| unsafe { CStr::from_ptr(value) }.to_bytes())
}

/// Whether the environment variable `name` is set to something other than
/// "" or "0".
pub fn env_flag(name: &CStr) -> bool {
    env_value(name).is_some_and(|value| !matches!(value, b"" | b"0"))
}

/// Reads the switches and installs the fork handler; idempotent and cheap
/// after the first call. Called before the first context is registered; a
/// thread that comes while another runs it waits for it (it is short).
#[inline]
pub fn init() {
    if INIT.load(Ordering::Acquire) != DONE {
        init_once();
    }
}

#[cold]
#[inline(never)]
fn init_once() {
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
    crate::report::init();
    // SAFETY: registering a plain extern "C" fn with no captured state.
    unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
    INIT.store(DONE, Ordering::Release);
}

extern "C" fn after_fork_in_child() {
    crate::contexts::forget_all();
    crate::report::forget_all();
}

/// Whether the user-space fast path is switched off.
pub fn force_syscall() -> bool {
    FORCE_SYSCALL.load(Ordering::Relaxed)
}
