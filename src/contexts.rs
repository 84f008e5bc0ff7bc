//! The table of this process's live contexts and the per-context consumer
//! protocol that keeps every completion delivered exactly once.
//!
//! The table maps a context id (the ring's address) to a slot. Only contexts
//! made by our `io_setup` are in it; anything else (a bogus value, a destroyed
//! context, one inherited across fork, one moved by mremap) is not, and goes
//! to the kernel, which judges it. Lookups are lock-free loads.
//!
//! Each slot's `state` word says who may consume the ring:
//! - `USER`: one thread is reaping in user space (short, never blocks);
//! - a count of threads inside the `io_getevents` syscall, which the kernel
//!   serialises among themselves but not against a user-space reaper;
//! - `DEAD`: `io_destroy` has begun; nobody may touch the ring any more.
//!
//! A user-space reap needs the state to be exactly 0. A thread that must
//! wait in the kernel counts itself in; others then reap through the kernel
//! too, so no two consumers ever race on `head`. Nobody sleeps while holding
//! `USER`, so waiters in the kernel wait in parallel, as with upstream.

use crate::ring::{Ring, RingHeader};
use crate::stats;
use crate::sys::{self, plausible, Errno};
use core::ffi::c_int;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

const SLOTS: usize = 4096;
const EMPTY: usize = 0;
/// A removed entry; page-aligned ring addresses can never equal it.
const TOMBSTONE: usize = 1;
const PAGE_MASK: usize = 4095;

const DEAD: u32 = 1 << 31;
const USER: u32 = 1 << 30;
const KERNEL_COUNT: u32 = USER - 1;

struct Slot {
    key: AtomicUsize,
    state: AtomicU32,
    /// The ring capacity read when the context was created.
    nr: AtomicU32,
}

#[allow(clippy::declare_interior_mutable_const)]
const VACANT: Slot = Slot { key: AtomicUsize::new(EMPTY), state: AtomicU32::new(DEAD), nr: AtomicU32::new(0) };

static TABLE: [Slot; SLOTS] = [VACANT; SLOTS];

fn home(ctx: usize) -> usize {
    ((ctx >> 12).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (usize::BITS - 12)) & (SLOTS - 1)
}

fn probe(ctx: usize) -> impl Iterator<Item = &'static Slot> {
    (0..SLOTS).map(move |i| &TABLE[(home(ctx) + i) % SLOTS])
}

fn find(ctx: usize) -> Option<&'static Slot> {
    if ctx == 0 || ctx & PAGE_MASK != 0 {
        return None;
    }
    probe(ctx)
        .map(|slot| (slot, slot.key.load(Ordering::Acquire)))
        .take_while(|&(_, key)| key != EMPTY)
        .find(|&(_, key)| key == ctx)
        .map(|(slot, _)| slot)
}

/// `io_setup`: the kernel creates the context and maps its ring; we record it.
pub fn setup(maxevents: c_int, ctxp: usize) -> Result<c_int, Errno> {
    stats::init();
    // SAFETY: the kernel checks ctxp before it writes the new context id there.
    let result = unsafe { sys::io_setup(maxevents, ctxp) }?;
    if !stats::force_syscall() {
        // SAFETY: the kernel just wrote the id to *ctxp, so it is readable,
        // and the id is the address of the ring it mapped.
        unsafe { register((ctxp as *const usize).read()) };
    }
    Ok(result)
}

/// `io_queue_init`: like `io_setup`, but checks `maxevents` itself and
/// clears `*ctxp` first, so that a stale value cannot make it fail.
pub fn queue_init(maxevents: c_int, ctxp: usize) -> Result<c_int, Errno> {
    if maxevents <= 0 {
        return Err(Errno::EINVAL);
    }
    if !plausible(ctxp, size_of::<usize>()) {
        return Err(Errno::EFAULT);
    }
    // SAFETY: the C contract makes a plausible ctxp writable.
    unsafe { (ctxp as *mut usize).write(0) };
    setup(maxevents, ctxp)
}

/// Records a context that `io_setup` just created. When the table is full
/// the context simply stays unknown and every call on it takes the syscall.
///
/// # Safety
/// `ctx` must be the address of the ring the kernel just mapped for it.
unsafe fn register(ctx: usize) {
    // SAFETY: the kernel mapped the ring at ctx, page-aligned, header first.
    let header = unsafe { &*(ctx as *const RingHeader) };
    let nr = header.nr.load(Ordering::Relaxed);
    // A stale entry for the same address (a ring that was mremapped away) is reused.
    let slot = find(ctx).or_else(|| {
        probe(ctx).find(|slot| {
            let key = slot.key.load(Ordering::Relaxed);
            (key == EMPTY || key == TOMBSTONE)
                && slot.key.compare_exchange(key, ctx, Ordering::AcqRel, Ordering::Relaxed).is_ok()
        })
    });
    if let Some(slot) = slot {
        slot.nr.store(nr, Ordering::Relaxed);
        slot.state.store(0, Ordering::Release);
    }
}

/// Forgets every context: called in a forked child, where the inherited
/// rings still map the parent's completions but belong to no context.
pub fn forget_all() {
    for slot in &TABLE {
        slot.state.store(DEAD, Ordering::Relaxed);
        slot.key.store(EMPTY, Ordering::Relaxed);
    }
}

/// How a consumer may read completions of one context.
pub enum Consumer<'a> {
    /// Alone on a live ring in user space, until dropped.
    User(UserReap<'a>),
    /// Through the kernel; the guard (if any) keeps user-space reapers out.
    Kernel(Option<KernelReap>),
}

/// Exclusive user-space access to one ring.
pub struct UserReap<'a> {
    slot: &'static Slot,
    pub ring: Ring<'a>,
}

/// Membership of the set of threads reaping through the syscall.
pub struct KernelReap {
    slot: &'static Slot,
}

impl Drop for UserReap<'_> {
    fn drop(&mut self) {
        // Nobody else changes the state while USER is set.
        self.slot.state.store(0, Ordering::Release);
    }
}

impl Drop for KernelReap {
    fn drop(&mut self) {
        self.slot.state.fetch_sub(1, Ordering::Release);
    }
}

impl<'a> UserReap<'a> {
    /// Turns this user-space reaper into a kernel one, without a gap in which
    /// another thread could consume in user space.
    pub fn into_kernel(self) -> KernelReap {
        let slot = self.slot;
        core::mem::forget(self);
        slot.state.store(1, Ordering::Release);
        KernelReap { slot }
    }
}

/// Joins the consumers of `ctx`: in user space if nobody else consumes it,
/// else through the kernel. Unknown and dying contexts go to the kernel
/// unguarded, and the kernel answers for them.
pub fn consumer(ctx: usize) -> Consumer<'static> {
    let Some(slot) = find(ctx) else { return Consumer::Kernel(None) };
    let mut spins = 0u32;
    loop {
        let state = slot.state.load(Ordering::Relaxed);
        let next = match state {
            _ if state & DEAD != 0 => return Consumer::Kernel(None),
            _ if state & USER != 0 => {
                spins += 1;
                if spins % 64 == 0 {
                    std::thread::yield_now();
                } else {
                    core::hint::spin_loop();
                }
                continue;
            }
            0 => USER,
            _ => state + 1,
        };
        if slot.state.compare_exchange_weak(state, next, Ordering::Acquire, Ordering::Relaxed).is_err() {
            continue;
        }
        // The slot may have been recycled for another address since `find`.
        if slot.key.load(Ordering::Acquire) != ctx {
            if next == USER {
                slot.state.store(0, Ordering::Release);
            } else {
                slot.state.fetch_sub(1, Ordering::Release);
            }
            return Consumer::Kernel(None);
        }
        if next != USER {
            debug_assert!(next & KERNEL_COUNT != 0);
            return Consumer::Kernel(Some(KernelReap { slot }));
        }
        let nr = slot.nr.load(Ordering::Relaxed);
        // SAFETY: the slot is live (not DEAD) and we hold USER, so io_destroy
        // cannot unmap the ring until we drop it; the kernel mapped `nr` events.
        let header = unsafe { &*(ctx as *const RingHeader) };
        // SAFETY: as above.
        return match unsafe { Ring::attach(header, nr) } {
            Some(ring) => Consumer::User(UserReap { slot, ring }),
            None => {
                slot.state.store(1, Ordering::Release);
                Consumer::Kernel(Some(KernelReap { slot }))
            }
        };
    }
}

/// `io_destroy`, with the ring protected: user-space reapers are finished and
/// shut out before the kernel unmaps it, and the slot is freed only after
/// every thread that was waiting in the kernel has come back.
pub fn destroy(ctx: usize) -> Result<c_int, Errno> {
    let Some(slot) = find(ctx) else { return sys::io_destroy(ctx) };
    let mut marked = false;
    while !marked {
        let state = slot.state.load(Ordering::Relaxed);
        if state & DEAD != 0 {
            // Another thread is destroying it; the kernel answers this one.
            return sys::io_destroy(ctx);
        }
        if state & USER != 0 {
            std::thread::yield_now();
            continue;
        }
        marked = slot
            .state
            .compare_exchange_weak(state, state | DEAD, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok();
    }
    let result = sys::io_destroy(ctx);
    // The kernel wakes its waiters when it kills the context.
    while slot.state.load(Ordering::Acquire) & KERNEL_COUNT != 0 {
        std::thread::yield_now();
    }
    slot.key.store(TOMBSTONE, Ordering::Release);
    result
}
