//! The model check of the reap protocol with loom: the library's own code
//! (hazard cells, the context table, the state word, the ring reader, the
//! destroy path) runs against a model kernel (kernel.rs), with loom's
//! atomics, fences, locks and futex (src/sync.rs) standing for the real ones.
//! Loom runs every interleaving and every outcome its memory model allows,
//! up to a bound on preemptions.
//!
//! Run: `make model` (or `RUSTFLAGS="--cfg loom" cargo test --release -p
//! libaio-rs --lib model`). Each model has controls: the same model with one
//! ordering or step taken away (`sync::Weakening`), which must fail, so that
//! the model is shown to catch what it checks.

extern crate std;

pub mod kernel;

use crate::abi::io_event;
use loom::cell::UnsafeCell;
use loom::sync::Mutex;

/// Slots per model ring (it holds one event fewer).
pub const MODEL_NR: usize = 3;

/// What a ring holds beyond its header, under the model: the events, the
/// kernel's lock for its reapers, and the mapping: true until the model
/// kernel's `io_destroy` writes false. Every read of the ring reads it, so
/// loom reports a read that is not ordered before the unmapping, and the
/// assertion one that comes after it.
pub struct RingMemory {
    mapped: UnsafeCell<bool>,
    events: [UnsafeCell<io_event>; MODEL_NR],
    ring_lock: Mutex<()>,
}

impl RingMemory {
    fn new() -> RingMemory {
        RingMemory {
            mapped: UnsafeCell::new(true),
            events: core::array::from_fn(|_| {
                UnsafeCell::new(io_event {
                    data: core::ptr::null_mut(),
                    obj: core::ptr::null_mut(),
                    res: 0,
                    res2: 0,
                })
            }),
            ring_lock: Mutex::new(()),
        }
    }

    /// A read of the ring.
    pub fn touch(&self) {
        // SAFETY: loom checks the access.
        self.mapped
            .with(|mapped| assert!(unsafe { *mapped }, "a read of an unmapped ring"));
    }

    /// The event in slot `index`, read as a consumer copies it.
    pub fn event(&self, index: usize) -> io_event {
        self.touch();
        // SAFETY: loom checks the access.
        self.events[index].with(|event| unsafe { *event })
    }

    fn write_event(&self, index: usize, event: io_event) {
        // SAFETY: loom checks the access.
        self.events[index].with_mut(|slot| unsafe { *slot = event });
    }

    fn unmap(&self) {
        // SAFETY: loom checks the access.
        self.mapped.with_mut(|mapped| unsafe { *mapped = false });
    }
}

#[cfg(test)]
mod models;
