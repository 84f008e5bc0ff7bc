//! How a reaping call reaches a context's completions: pinned on a live ring
//! by a hazard claim, then alone in user space or as one more thread in the
//! kernel (see the state word in mod.rs).

use super::{
    find, find_live, home, Slot, KERNEL_COUNT, LIVE, OWNER, OWNER_SHIFT, TABLE, USER, WAITERS,
};
use crate::hazard::{self, Hazard};
use crate::ring::{Ring, RingHeader};
use crate::sync::{self, weakened, Ordering, Weakening};

/// A live context whose ring this thread may read: `io_destroy` waits for
/// the claim to be dropped before the kernel unmaps the ring.
pub struct Pinned {
    slot: &'static Slot,
    ctx: usize,
    hazard: Hazard,
}

/// How a reaping call may reach one context's completions.
pub enum Access {
    /// Through the ring: a live context of ours, pinned.
    Ring(Pinned),
    /// Through the kernel; the guard, if any, counts this thread among the
    /// context's kernel consumers, which keeps user-space reapers out.
    Kernel(Option<KernelReap>),
}

/// The common case of [`access`], small enough to inline into every reaping
/// call: this thread's cell is at its home, and so is the live context.
/// `None` says "ask `access`".
#[inline(always)]
pub fn pin(ctx: usize) -> Option<Pinned> {
    let hazard = hazard::protect_at_home(ctx)?;
    let slot = &TABLE[home(ctx)];
    // As in `access`: checked after the claim is published.
    slot.is_live(ctx).then_some(Pinned { slot, ctx, hazard })
}

/// How `ctx` may be reached. Unknown, dead and inherited contexts go to the
/// kernel, which answers for them.
pub fn access(ctx: usize) -> Access {
    let Some(hazard) = hazard::protect(ctx) else {
        return access_without_claim(ctx);
    };
    match find(ctx) {
        // Checked after the claim is published, so a destroyer either sees
        // the claim or has already marked the slot (or recycled it).
        Some(slot) if slot.is_live(ctx) => Access::Ring(Pinned { slot, ctx, hazard }),
        Some(_) => access_past_dying_entry(ctx, hazard),
        None => Access::Kernel(None),
    }
}

/// No claim for this thread (every cell taken, a handler nested in a handler,
/// the fast path off): no ring reading, but its syscall must still keep
/// user-space reapers of `ctx` out.
#[cold]
fn access_without_claim(ctx: usize) -> Access {
    Access::Kernel(find_live(ctx).and_then(|slot| enter_kernel(slot, ctx)))
}

/// The first entry for `ctx` is dying; a newer context may hold the address.
#[cold]
fn access_past_dying_entry(ctx: usize, hazard: Hazard) -> Access {
    match find_live(ctx) {
        Some(slot) if slot.is_live(ctx) => Access::Ring(Pinned { slot, ctx, hazard }),
        _ => Access::Kernel(None),
    }
}

/// Counts the calling thread among `slot`'s kernel consumers, once no thread
/// reaps it in user space. `None` if it is being destroyed (or was recycled).
fn enter_kernel(slot: &'static Slot, ctx: usize) -> Option<KernelReap> {
    let mut backoff = Backoff::default();
    loop {
        let state = slot.state.load(Ordering::Relaxed);
        if state & LIVE == 0 {
            return None;
        }
        if state & USER != 0 {
            backoff.wait(slot, state);
            continue;
        }
        if slot
            .state
            .compare_exchange_weak(state, state + 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            let guard = KernelReap { slot };
            return (slot.key.load(Ordering::Acquire) == ctx).then_some(guard);
        }
    }
}

/// Waiting for the state word to change: a user-space reap of another thread
/// to end, a destroyer's wait for its kernel waiters to leave, a destroy to
/// finish.
#[derive(Default)]
pub(super) struct Backoff(u32);

impl Backoff {
    /// Spins briefly (a reap is a short copy), then sleeps while the state
    /// word still holds `observed`, so that a reaper that lost its CPU gets
    /// it back. Sets `WAITERS` first: whoever next changes the word sees it
    /// in the same read-modify-write, and wakes the sleepers.
    pub(super) fn wait(&mut self, slot: &Slot, observed: u32) {
        const SPINS: u32 = if cfg!(loom) { 1 } else { 64 };
        if self.0 < SPINS {
            self.0 += 1;
            sync::spin_loop();
            return;
        }
        let sleeping = observed | WAITERS;
        if sleeping != observed
            && slot
                .state
                .compare_exchange(observed, sleeping, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return; // it changed already
        }
        sync::futex_wait(&slot.state, sleeping);
    }
}

/// Sets the state word to `next` and wakes the threads that slept waiting
/// for it to change (see `Backoff::wait`). One read-modify-write: a store
/// and a separate load of `WAITERS` could miss a sleeper.
#[inline]
fn set_and_wake(slot: &Slot, next: u32) {
    let before = if weakened(Weakening::StateSwap) {
        let before = slot.state.load(Ordering::Relaxed);
        slot.state.store(next, Ordering::Release);
        before
    } else {
        slot.state.swap(next, Ordering::Release)
    };
    if before & WAITERS != 0 {
        sync::futex_wake_all(&slot.state);
    }
}

impl Pinned {
    /// The context's report record.
    pub fn record(&self) -> u16 {
        self.slot.record()
    }

    #[inline]
    fn header(&self) -> &'static RingHeader {
        // SAFETY: the context is live and the claim in `self` keeps io_destroy
        // from unmapping its ring, which starts with the header; every user of
        // the reference holds `self` (or the UserReap it moves into).
        unsafe { &*(self.ctx as *const RingHeader) }
    }

    /// Whether the ring is empty, read without taking it from other consumers.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.header().is_empty()
    }

    /// Joins the consumers of the ring: alone in user space if nobody else
    /// consumes it, else through the kernel.
    pub fn consume(self) -> Consumer {
        let slot = self.slot;
        let owner = USER | self.hazard.thread_index() << OWNER_SHIFT;
        let mut backoff = Backoff::default();
        loop {
            let state = slot.state.load(Ordering::Relaxed);
            if state & LIVE == 0 {
                return Consumer::Kernel(None);
            }
            if state & USER != 0 {
                if state & (USER | OWNER) == owner {
                    return Consumer::InterruptedOwner;
                }
                backoff.wait(slot, state);
                continue;
            }
            let next = if state == LIVE {
                LIVE | owner
            } else {
                state + 1
            };
            if slot
                .state
                .compare_exchange_weak(state, next, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                if next & USER == 0 {
                    return Consumer::Kernel(Some(KernelReap { slot }));
                }
                break;
            }
        }
        let nr = slot.nr.load(Ordering::Relaxed);
        // SAFETY: the kernel mapped `nr` events after the header, and the
        // claim moves into the UserReap together with the Ring.
        match unsafe { Ring::attach(self.header(), nr) } {
            Some(ring) => Consumer::User(UserReap { ring, pinned: self }),
            None => {
                set_and_wake(slot, LIVE + 1);
                Consumer::Kernel(Some(KernelReap { slot }))
            }
        }
    }
}

/// How a consumer may read completions of one context.
pub enum Consumer {
    /// Alone on a live ring in user space, until dropped.
    User(UserReap),
    /// Through the kernel; the guard (if any) keeps user-space reapers out.
    Kernel(Option<KernelReap>),
    /// Nowhere: a signal handler interrupted its own thread's user-space reap
    /// of this ring. The events that reap copied are not yet given back, so
    /// neither the handler nor the kernel may take any until it resumes.
    InterruptedOwner,
}

/// Exclusive user-space access to one ring.
pub struct UserReap {
    pub ring: Ring<'static>,
    pinned: Pinned,
}

/// Membership of the set of threads reaping through the syscall.
pub struct KernelReap {
    slot: &'static Slot,
}

impl KernelReap {
    /// The context's report record.
    pub fn record(&self) -> u16 {
        self.slot.record()
    }
}

impl Drop for UserReap {
    fn drop(&mut self) {
        set_and_wake(self.pinned.slot, LIVE);
    }
}

impl Drop for KernelReap {
    /// Counts the thread out. A destroyer may be asleep until the count
    /// reaches 0: the same read-modify-write clears `WAITERS`.
    fn drop(&mut self) {
        let before = self
            .slot
            .state
            .fetch_update(Ordering::Release, Ordering::Relaxed, |state| {
                Some((state - 1) & !WAITERS)
            })
            .unwrap_or_else(|state| state);
        debug_assert!(before & KERNEL_COUNT != 0);
        if before & WAITERS != 0 {
            sync::futex_wake_all(&self.slot.state);
        }
    }
}

impl UserReap {
    /// The context's report record.
    pub fn record(&self) -> u16 {
        self.pinned.record()
    }

    /// Turns this user-space reaper into a kernel one, without a gap in which
    /// another thread could consume in user space. The ring claim is dropped:
    /// a thread asleep in the kernel must not hold up io_destroy.
    pub fn into_kernel(self) -> KernelReap {
        let slot = self.pinned.slot;
        set_and_wake(slot, LIVE + 1);
        // Drop the claim without running UserReap's Drop, which would reset the state.
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again; the claim is moved out once.
        drop(unsafe { core::ptr::read(&this.pinned) });
        KernelReap { slot }
    }
}
