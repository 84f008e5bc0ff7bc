//! The table of this process's contexts and the per-context protocol that
//! keeps every completion delivered exactly once and every ring mapped while
//! it is read.
//!
//! The table maps a context id (the ring's address) to a slot. Only contexts
//! made by our `io_setup` are in it; anything else (a bogus value, a destroyed
//! context, one inherited across fork, one moved by mremap) is not, and goes
//! to the kernel, which judges it. Lookups are lock-free loads.
//!
//! Each slot's `state` word says who may consume the ring:
//! - `LIVE`: made by our `io_setup`, and no `io_destroy` has begun;
//! - `USER` and the reaping thread's number: one thread is reaping in user
//!   space (a short copy; it never sleeps);
//! - a count of threads inside the `io_getevents` syscall, which the kernel
//!   serialises among themselves but not against a user-space reaper;
//! - `DYING` (and no `LIVE`): `io_destroy` has begun and not ended; nobody
//!   may start reading the ring;
//! - `HANDOFF` (with `DYING`): `io_setup` has handed the destroyer a new
//!   context at the same address to destroy (see destroy.rs);
//! - `WAITERS`: a thread sleeps on the word's futex until what it waits for
//!   changes; whoever changes it clears the bit and wakes them.
//!
//! A vacant slot's state is 0. A user-space reap needs the state to be
//! exactly `LIVE`. A thread that must wait in the kernel counts itself in;
//! others then reap through the kernel too, so no two consumers ever race on
//! `head`. Nobody sleeps while holding `USER`, so waiters in the kernel wait
//! in parallel, as with upstream.

mod consume;
mod destroy;

pub use consume::{access, pin, Access, Consumer, KernelReap, Pinned};
pub use destroy::destroy;

use crate::ring::RingHeader;
use crate::sync::{static_array, weakened, AtomicU32, AtomicUsize, Ordering, Weakening};
use crate::sys::{self, plausible, Errno};
use crate::{report, switches};
use core::ffi::c_int;
use core::sync::atomic::AtomicU16;

#[cfg(not(loom))]
pub const SLOTS: usize = 4096;
#[cfg(loom)]
pub const SLOTS: usize = 2;
const EMPTY: usize = 0;
/// A removed entry; page-aligned ring addresses can never equal it.
const TOMBSTONE: usize = 1;

const LIVE: u32 = 1 << 31;
const USER: u32 = 1 << 30;
const WAITERS: u32 = 1 << 29;
const DYING: u32 = 1 << 28;
/// With USER: which thread reaps (its hazard cell number).
const OWNER_SHIFT: u32 = 20;
const OWNER: u32 = 0xff << OWNER_SHIFT;
const HANDOFF: u32 = 1 << 19;
const KERNEL_COUNT: u32 = HANDOFF - 1;
const _: () = assert!(crate::hazard::CELLS <= 1 << 8);

struct Slot {
    key: AtomicUsize,
    state: AtomicU32,
    /// The ring capacity read when the context was created.
    nr: AtomicU32,
    /// Its report record (`report::context_created`), 0 if none.
    record: AtomicU16,
    /// While it is destroyed: contexts `io_setup` hands its destroyer.
    quarantine: AtomicUsize,
}

// All zero bits: the table lies in .bss.
static_array!(TABLE: [Slot; SLOTS] = Slot {
    key: AtomicUsize::new(EMPTY),
    state: AtomicU32::new(0),
    nr: AtomicU32::new(0),
    record: AtomicU16::new(0),
    quarantine: AtomicUsize::new(destroy::CLOSED),
});

/// Rings are page-aligned and the kernel maps them near each other, so page
/// numbers spread them well; the second shift spreads them on 64 KiB pages.
#[inline]
fn home(ctx: usize) -> usize {
    ((ctx >> 12) ^ (ctx >> 16)) & (SLOTS - 1)
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
fn find_live(ctx: usize) -> Option<&'static Slot> {
    find_with(ctx, LIVE, LIVE)
}

/// The first entry for `ctx` whose state has a bit of `bits` and a bit of
/// `more_bits`. Off the hot path: one copy of the probe serves every such
/// lookup.
#[inline(never)]
fn find_with(ctx: usize, bits: u32, more_bits: u32) -> Option<&'static Slot> {
    entries(ctx).find(|slot| {
        let state = slot.state.load(Ordering::Acquire);
        state & bits != 0 && state & more_bits != 0
    })
}

impl Slot {
    /// The context's report record, 0 if none (see report::counters_of).
    #[inline]
    pub fn record(&self) -> u16 {
        self.record.load(Ordering::Relaxed)
    }

    /// Keyed `ctx` and live. The state is read SeqCst, after the caller's
    /// claim (see hazard.rs); the key is read again after it: in between,
    /// the entry may have died and been reused for another ring.
    #[inline]
    fn is_live(&self, ctx: usize) -> bool {
        self.key.load(Ordering::Acquire) == ctx
            && self.state.load(Ordering::SeqCst) & LIVE != 0
            && (weakened(Weakening::SecondKeyCheck) || self.key.load(Ordering::Acquire) == ctx)
    }
}

/// `io_setup`: the kernel creates the context and maps its ring; we record
/// it, unless a destroy must take it (see `destroy::hand_to_destroyer`).
pub fn setup(maxevents: c_int, ctxp: usize) -> Result<c_int, Errno> {
    loop {
        // SAFETY: the kernel checks ctxp before it writes the new context id there.
        let result = unsafe { sys::io_setup(maxevents, ctxp) }
            .inspect_err(|&errno| report::setup_failed(maxevents, errno))?;
        // SAFETY: the kernel just wrote the id to *ctxp, so it is readable.
        let ctx = unsafe { (ctxp as *const usize).read() };
        if !destroy::hand_to_destroyer(ctx) {
            // SAFETY: the id is the address of the ring the kernel mapped.
            unsafe { register(ctx, maxevents) };
            return Ok(result);
        }
        // SAFETY: as above, writable; the kernel wants 0 there to make another.
        unsafe { (ctxp as *mut usize).write(0) };
    }
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
/// the context simply stays unknown and every call on it takes the syscall,
/// as does a ring we do not understand (e.g. gVisor's zero page). With the
/// fast path off, the ring is recorded without being looked at: no thread
/// gets a claim then, so it is never read.
///
/// # Safety
/// `ctx` must be the address of the ring the kernel just mapped for it.
unsafe fn register(ctx: usize, maxevents: c_int) {
    let nr = if switches::force_syscall() {
        0
    } else {
        // SAFETY: the kernel mapped the ring at ctx, page-aligned, header first.
        let header = unsafe { &*(ctx as *const RingHeader) };
        // SAFETY: as above.
        match unsafe { header.trusted_capacity() } {
            Some(nr) => nr,
            None => return,
        }
    };
    // A stale entry for the same address (a ring that was mremapped away) is
    // reused. One still being destroyed is not: its destroyer is waiting for
    // the kernel waiters it counts.
    let slot = find_live(ctx).or_else(|| {
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
        let record = if report::on() {
            report::context_created(maxevents, nr)
        } else {
            0
        };
        slot.record.store(record, Ordering::Relaxed);
        slot.state.store(LIVE, Ordering::Release);
    }
}

/// The report record of `ctx`, 0 if it is none or not a live context of ours.
pub fn record_of(ctx: usize) -> u16 {
    find_live(ctx).map_or(0, Slot::record)
}

/// Forgets every context: called in a forked child, where the inherited
/// rings still map the parent's completions but belong to no context.
pub fn forget_all() {
    for slot in TABLE.iter() {
        slot.state.store(0, Ordering::Relaxed);
        slot.key.store(EMPTY, Ordering::Relaxed);
        slot.record.store(0, Ordering::Relaxed);
        slot.quarantine.store(destroy::CLOSED, Ordering::Relaxed);
    }
    crate::hazard::forget_other_threads();
}
