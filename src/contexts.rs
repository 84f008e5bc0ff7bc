//! The table of this process's live contexts and the per-context consumer
//! protocol that keeps every completion delivered exactly once.
//!
//! The table maps a context id (the ring's address) to a slot. Only contexts
//! made by our `io_setup` are in it; anything else (a bogus value, a destroyed
//! context, one inherited across fork, one moved by mremap) is not, and goes
//! to the kernel, which judges it. Lookups are lock-free loads.
//!
//! Each slot's `state` word says who may consume the ring:
//! - `USER` and the reaping thread's number: one thread is reaping in user
//!   space (short, never blocks);
//! - a count of threads inside the `io_getevents` syscall, which the kernel
//!   serialises among themselves but not against a user-space reaper;
//! - without `LIVE`: `io_destroy` has begun (or the slot is vacant); nobody
//!   may touch the ring any more.
//!
//! A user-space reap needs the state to be exactly `LIVE`. A thread that must
//! wait in the kernel counts itself in; others then reap through the kernel
//! too, so no two consumers ever race on `head`. Nobody sleeps while holding
//! `USER`, so waiters in the kernel wait in parallel, as with upstream.
//! Nobody but the reaper changes the state while it holds `USER`, so the
//! reaper gives it back with a plain store.

use crate::hazard::{self, Hazard};
use crate::ring::{Ring, RingHeader};
use crate::runtime;
use crate::sys::{self, plausible, Errno};
use core::ffi::c_int;
use core::sync::atomic::{compiler_fence, AtomicU32, AtomicUsize, Ordering};

const SLOTS: usize = 4096;
const EMPTY: usize = 0;
/// A removed entry; page-aligned ring addresses can never equal it.
const TOMBSTONE: usize = 1;

/// Created by our `io_setup`, and no `io_destroy` has begun. A vacant slot's
/// state is 0, so the table starts out zeroed (in .bss, not the file).
const LIVE: u32 = 1 << 31;
const USER: u32 = 1 << 30;
/// With USER: which thread reaps (its hazard cell number).
const OWNER_SHIFT: u32 = 20;
const OWNER: u32 = 0xff << OWNER_SHIFT;
const KERNEL_COUNT: u32 = (1 << OWNER_SHIFT) - 1;
const _: () = assert!(crate::hazard::CELLS <= 1 << 8);

struct Slot {
    key: AtomicUsize,
    state: AtomicU32,
    /// The ring capacity read when the context was created.
    nr: AtomicU32,
    /// Threads asleep on `state` until a user-space reap ends.
    sleepers: AtomicU32,
}

#[allow(clippy::declare_interior_mutable_const)]
const VACANT: Slot = Slot {
    key: AtomicUsize::new(EMPTY),
    state: AtomicU32::new(0),
    nr: AtomicU32::new(0),
    sleepers: AtomicU32::new(0),
};

static TABLE: [Slot; SLOTS] = [VACANT; SLOTS];

#[inline]
/// Rings are page-aligned and the kernel maps them near each other, so the
/// page number alone spreads them well.
fn home(ctx: usize) -> usize {
    (ctx >> 12) & (SLOTS - 1)
}

#[inline]
fn probe(ctx: usize) -> impl Iterator<Item = &'static Slot> {
    (0..SLOTS).map(move |i| &TABLE[(home(ctx) + i) % SLOTS])
}

/// A match may be an empty or removed entry (for the values 0 and 1, which
/// are no ring's address): those are never LIVE, which callers check.
#[inline]
fn find(ctx: usize) -> Option<&'static Slot> {
    let first = &TABLE[home(ctx)];
    if first.key.load(Ordering::Acquire) == ctx {
        return Some(first);
    }
    find_further(ctx)
}

#[cold]
fn find_further(ctx: usize) -> Option<&'static Slot> {
    entries(ctx).next()
}

/// The entries keyed `ctx`, in probe order.
fn entries(ctx: usize) -> impl Iterator<Item = &'static Slot> {
    probe(ctx)
        .map(|slot| (slot, slot.key.load(Ordering::Acquire)))
        .take_while(|&(_, key)| key != EMPTY)
        .filter(move |&(_, key)| key == ctx)
        .map(|(slot, _)| slot)
}

/// The entry for `ctx` that no `io_destroy` has begun on, if any. Another
/// entry for the same address may still be dying; lookups reach this one
/// once that one is a tombstone.
fn find_undead(ctx: usize) -> Option<&'static Slot> {
    entries(ctx).find(|slot| slot.state.load(Ordering::Acquire) & LIVE != 0)
}

/// `io_setup`: the kernel creates the context and maps its ring; we record it.
pub fn setup(maxevents: c_int, ctxp: usize) -> Result<c_int, Errno> {
    runtime::init();
    // SAFETY: the kernel checks ctxp before it writes the new context id there.
    let result = unsafe { sys::io_setup(maxevents, ctxp) }?;
    if !runtime::force_syscall() {
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
    // SAFETY: the kernel sized the mapping for the `nr` it wrote.
    if unsafe { Ring::attach(header, nr) }.is_none() {
        return; // not a ring we understand (e.g. gVisor's zero page)
    }
    // A stale entry for the same address (a ring that was mremapped away) is
    // reused. One still being destroyed is not: its destroyer is waiting for
    // the kernel waiters it counts.
    let slot = find_undead(ctx).or_else(|| {
        probe(ctx).find(|slot| {
            let key = slot.key.load(Ordering::Relaxed);
            (key == EMPTY || key == TOMBSTONE)
                && slot
                    .key
                    .compare_exchange(key, ctx, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
        })
    });
    if let Some(slot) = slot {
        slot.nr.store(nr, Ordering::Relaxed);
        slot.state.store(LIVE, Ordering::Release);
    }
}

/// Forgets every context: called in a forked child, where the inherited
/// rings still map the parent's completions but belong to no context.
pub fn forget_all() {
    for slot in &TABLE {
        slot.state.store(0, Ordering::Relaxed);
        slot.key.store(EMPTY, Ordering::Relaxed);
    }
    hazard::forget_other_threads();
}

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

/// Every hazard cell is taken: no ring reading for this thread, but its
/// syscall must still keep user-space reapers of `ctx` out.
#[cold]
fn access_without_claim(ctx: usize) -> Access {
    Access::Kernel(find_undead(ctx).and_then(|slot| enter_kernel(slot, ctx)))
}

/// The first entry for `ctx` is dying; a newer context may hold the address.
#[cold]
fn access_past_dying_entry(ctx: usize, hazard: Hazard) -> Access {
    match find_undead(ctx) {
        Some(slot) if slot.is_live(ctx) => Access::Ring(Pinned { slot, ctx, hazard }),
        _ => Access::Kernel(None),
    }
}

impl Slot {
    /// Keyed `ctx` and not dying. The key is read again after the state: in
    /// between, the entry may have died and been reused for another ring.
    #[inline]
    fn is_live(&self, ctx: usize) -> bool {
        self.key.load(Ordering::Acquire) == ctx
            && self.state.load(Ordering::Acquire) & LIVE != 0
            && self.key.load(Ordering::Acquire) == ctx
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

/// Waiting for a user-space reap of another thread to end.
#[derive(Default)]
struct Backoff(u32);

impl Backoff {
    /// Spins briefly (a reap is a short copy), then sleeps while the state
    /// word still holds `observed`, so that a reaper that lost its CPU gets
    /// it back.
    fn wait(&mut self, slot: &Slot, observed: u32) {
        const SPINS: u32 = 64;
        if self.0 < SPINS {
            self.0 += 1;
            core::hint::spin_loop();
            return;
        }
        slot.sleepers.fetch_add(1, Ordering::SeqCst);
        // The reaper's side of this Dekker pair has no fence: either its
        // release store is visible to the futex's check after this barrier,
        // or its later load of `sleepers` sees us and it wakes us.
        hazard::barrier_in_every_thread();
        sys::futex_wait(&slot.state, observed);
        slot.sleepers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Ends a user-space reap, leaving `next` as the state, and wakes the
/// threads that went to sleep waiting for it (see `Backoff::wait`).
#[inline]
fn end_user_reap(slot: &Slot, next: u32) {
    slot.state.store(next, Ordering::Release);
    compiler_fence(Ordering::SeqCst);
    if slot.sleepers.load(Ordering::Relaxed) != 0 {
        sys::futex_wake_all(&slot.state);
    }
}

impl Pinned {
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
        let header = self.header();
        header.tail.load(Ordering::Acquire) == header.head.load(Ordering::Relaxed)
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
            let next = if state == LIVE { LIVE | owner } else { state + 1 };
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
                end_user_reap(slot, LIVE + 1);
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

impl Drop for UserReap {
    fn drop(&mut self) {
        end_user_reap(self.pinned.slot, LIVE);
    }
}

impl Drop for KernelReap {
    fn drop(&mut self) {
        self.slot.state.fetch_sub(1, Ordering::Release);
    }
}

impl UserReap {
    /// Turns this user-space reaper into a kernel one, without a gap in which
    /// another thread could consume in user space. The ring claim is dropped:
    /// a thread asleep in the kernel must not hold up io_destroy.
    pub fn into_kernel(self) -> KernelReap {
        let slot = self.pinned.slot;
        end_user_reap(slot, LIVE + 1);
        // Drop the claim without running UserReap's Drop, which would reset the state.
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again; the claim is moved out once.
        drop(unsafe { core::ptr::read(&this.pinned) });
        KernelReap { slot }
    }
}

/// `io_destroy`, with the ring protected: user-space readers are finished
/// and shut out before the kernel unmaps it, and the slot is freed only
/// after every thread that was waiting in the kernel has come back.
pub fn destroy(ctx: usize) -> Result<c_int, Errno> {
    let Some(slot) = find_undead(ctx) else {
        return sys::io_destroy(ctx);
    };
    let mut backoff = Backoff::default();
    loop {
        let state = slot.state.load(Ordering::Relaxed);
        if state & LIVE == 0 || slot.key.load(Ordering::Relaxed) != ctx {
            // Another thread is destroying it; the kernel answers this one.
            return sys::io_destroy(ctx);
        }
        if state & USER != 0 {
            backoff.wait(slot, state);
            continue;
        }
        if slot
            .state
            .compare_exchange_weak(state, state & !LIVE, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
        {
            break;
        }
    }
    hazard::wait_for_readers(ctx);
    let result = sys::io_destroy(ctx);
    // The kernel wakes its waiters when it kills the context.
    while slot.state.load(Ordering::Acquire) & KERNEL_COUNT != 0 {
        // SAFETY: sched_yield has no preconditions.
        unsafe { libc::sched_yield() };
    }
    slot.key.store(TOMBSTONE, Ordering::Release);
    result
}
