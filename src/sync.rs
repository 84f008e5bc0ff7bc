//! The atomics, fences, spinning and sleeping that the reap protocol is made
//! of: natively core's and the kernel's futex, and under `--cfg loom` loom's
//! model of them, so that the model check runs the protocol's own code.

#[cfg(not(loom))]
pub use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
#[cfg(loom)]
pub use loom::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// Where a SeqCst store (or read-modify-write) of one word is followed by a
/// SeqCst load of another. Natively that pair alone keeps the two in order
/// (C++20's single total order of SeqCst operations: on x86 the store is an
/// `xchg`, on Arm `stlr` then `ldar`), so nothing is emitted. Loom treats
/// SeqCst accesses as AcqRel, which would let the load pass the store, so
/// under the model this is the `fence(SeqCst)` that gives back that order.
#[inline(always)]
pub fn seqcst_store_load_order() {
    #[cfg(loom)]
    loom::sync::atomic::fence(Ordering::SeqCst);
}

/// What the model check's controls take away, one at a time, to show that
/// the models catch the loss (see src/model). Natively nothing is weakened
/// and every test of it folds away.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Weakening {
    /// The reader's claim is not ordered before its liveness check.
    ClaimOrder,
    /// `tail` is read Relaxed.
    TailAcquire,
    /// `head` is published Relaxed.
    HeadRelease,
    /// The state word is given back with a store and a separate load.
    StateSwap,
    /// A lookup does not read the key again after the state.
    SecondKeyCheck,
    /// A nested (signal handler's) claim overwrites its thread's claim.
    NestedClaim,
    /// A second destroyer goes to the kernel while the first still waits.
    SecondDestroyerWaits,
    /// `io_setup` keeps a context at the address of one whose destroyer
    /// still waits for its kernel waiters.
    NoQuarantine,
}

#[cfg(not(loom))]
#[inline(always)]
pub const fn weakened(_: Weakening) -> bool {
    false
}

#[cfg(loom)]
pub use control::{set_weakening, weakened};

/// Under the model: the one weakening that the running control asks for.
#[cfg(loom)]
mod control {
    extern crate std;
    use super::Weakening;
    use std::sync::{Mutex, MutexGuard};

    static CONTROL: Mutex<Option<Weakening>> = Mutex::new(None);

    fn control() -> MutexGuard<'static, Option<Weakening>> {
        CONTROL
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn weakened(weakening: Weakening) -> bool {
        *control() == Some(weakening)
    }

    /// Puts `weakening` in force (None: the protocol as it is) for the models that run next.
    pub fn set_weakening(weakening: Option<Weakening>) {
        *control() = weakening;
    }
}

/// `order`, or Relaxed where the control takes `weakening` away.
#[inline(always)]
pub fn unless_weakened(weakening: Weakening, order: Ordering) -> Ordering {
    if weakened(weakening) {
        Ordering::Relaxed
    } else {
        order
    }
}

/// One turn of a spin-wait.
#[inline(always)]
pub fn spin_loop() {
    #[cfg(not(loom))]
    core::hint::spin_loop();
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// `static NAME: [T; N]` with every element `INIT`: natively a constant, so
/// that a table whose `INIT` is all zero bits lies in .bss, not in the file;
/// under loom made anew for each execution.
macro_rules! static_array {
    ($(#[$attr:meta])* $name:ident: [$t:ty; $n:expr] = $init:expr) => {
        #[cfg(not(loom))]
        $(#[$attr])*
        static $name: [$t; $n] = {
            #[allow(clippy::declare_interior_mutable_const)]
            const INIT: $t = $init;
            [INIT; $n]
        };
        #[cfg(loom)]
        loom::lazy_static! {
            $(#[$attr])*
            static ref $name: [$t; $n] = core::array::from_fn(|_| $init);
        }
    };
}
pub(crate) use static_array;

/// Sleeps while `*word == expected`, until `futex_wake_all(word)` (or a
/// signal, or for no reason: callers check again).
#[cfg(not(loom))]
pub fn futex_wait(word: &AtomicU32, expected: u32) {
    crate::sys::futex_wait(word, expected, None);
}

/// Wakes every thread asleep in `futex_wait` on `word`.
#[cfg(not(loom))]
pub fn futex_wake_all(word: &AtomicU32) {
    crate::sys::futex_wake_all(word);
}

/// Sleeps about `micros` microseconds: a futex wait that nobody wakes, so
/// that a thread waiting on others in a sandbox needs no other syscall.
#[cfg(not(loom))]
pub fn pause(micros: u32) {
    let nobody_changes_this = AtomicU32::new(0);
    crate::sys::futex_wait(&nobody_changes_this, 0, Some(micros));
}

#[cfg(loom)]
pub use model_futex::{futex_wait, futex_wake_all, pause};

/// The futex under the model: checking the word and going to sleep happen
/// under one lock, as the kernel's hash-bucket lock makes them atomic, so a
/// wake-up that the protocol forgets shows as a deadlock.
#[cfg(loom)]
mod model_futex {
    use super::{AtomicU32, Ordering};
    use loom::sync::{Condvar, Mutex};

    loom::lazy_static! {
        static ref SLEEPERS: (Mutex<()>, Condvar) = (Mutex::new(()), Condvar::new());
    }

    pub fn futex_wait(word: &AtomicU32, expected: u32) {
        let (lock, condvar) = &*SLEEPERS;
        let guard = lock.lock().unwrap();
        if word.load(Ordering::SeqCst) == expected {
            drop(condvar.wait(guard).unwrap());
        }
    }

    pub fn futex_wake_all(_word: &AtomicU32) {
        let (lock, condvar) = &*SLEEPERS;
        let _guard = lock.lock().unwrap();
        condvar.notify_all();
    }

    pub fn pause(_micros: u32) {
        loom::thread::yield_now();
    }
}
