//! Process-wide set-up, done by the first `io_setup` (or `io_queue_init`):
//! the switches (switches.rs), the hazard cells' exit key, the report, and
//! the fork handler that keeps a child off its parent's rings.

use core::sync::atomic::{AtomicU8, Ordering};

/// `init`'s progress: not begun, running in some thread, done.
static INIT: AtomicU8 = AtomicU8::new(NOT_BEGUN);
const NOT_BEGUN: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;

/// Sets the process up; idempotent and cheap after the first call. Called
/// before the first context is registered; a thread that comes while another
/// runs it waits for it (it is short).
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
    crate::switches::read_force_syscall();
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
