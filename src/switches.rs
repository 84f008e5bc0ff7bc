//! The `LIBAIO_RS_*` switches, read from the environment when the first
//! context is set up (`runtime::init`), and the one the fast path consults:
//!
//! - `LIBAIO_RS_FORCE_SYSCALL=1`: never read the ring; every call makes its
//!   syscall (for strace, valgrind, rr), and the library makes no syscall
//!   that upstream would not make.
//! - the report's switches (`LIBAIO_RS_STATS*`, see report/mod.rs).

use core::ffi::CStr;
use core::sync::atomic::{AtomicBool, Ordering};

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

/// Reads `LIBAIO_RS_FORCE_SYSCALL`.
pub fn read_force_syscall() {
    FORCE_SYSCALL.store(env_flag(c"LIBAIO_RS_FORCE_SYSCALL"), Ordering::Relaxed);
}

/// Whether the user-space fast path is switched off.
pub fn force_syscall() -> bool {
    FORCE_SYSCALL.load(Ordering::Relaxed)
}
