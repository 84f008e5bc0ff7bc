//! `io_destroy` with the ring protected: readers are finished and shut out
//! before the kernel unmaps it, a second destroyer waits for the first, and
//! the slot is freed only after every thread that was waiting in the kernel
//! has come back.
//!
//! A thread counted among those waiters may not have entered the syscall yet
//! when the kernel unmaps the ring; if `io_setup` then got the same address,
//! the late thread would sleep on the new context, and its destroyer would
//! wait for it for ever. So `io_setup` hands such a context to the destroyer
//! instead of to its caller, and asks the kernel again; the destroyer
//! destroys it, which wakes the late thread with the kernel's `-EINVAL`.

use super::consume::Backoff;
use super::{
    find_live, find_with, Slot, DYING, HANDOFF, KERNEL_COUNT, LIVE, TOMBSTONE, USER, WAITERS,
};
use crate::sync::{self, weakened, Ordering, Weakening};
use crate::sys::{self, Errno};
use crate::{hazard, report};
use core::ffi::c_int;

/// `io_destroy` (and `io_queue_release`). Upstream's answers: 0 for the
/// destroyer of a live context; the kernel's `-EINVAL` for any other,
/// including a second destroyer of the same context, which returns only once
/// the first has finished (the ring unmapped).
pub fn destroy(ctx: usize) -> Result<c_int, Errno> {
    loop {
        if let Some(slot) = find_live(ctx) {
            if mark_dying(slot, ctx) {
                return finish(slot, ctx);
            }
            continue; // another destroyer came first
        }
        match find_with(ctx, DYING, DYING) {
            Some(slot) if !weakened(Weakening::SecondDestroyerWaits) => wait_while_dying(slot, ctx),
            // Not ours, or gone: the kernel answers.
            _ => return sys::io_destroy(ctx),
        }
    }
}

/// Clears `LIVE` and sets `DYING` once no thread reaps in user space. False
/// if another destroyer did it first (or the slot moved on).
fn mark_dying(slot: &Slot, ctx: usize) -> bool {
    let mut backoff = Backoff::default();
    loop {
        let state = slot.state.load(Ordering::Relaxed);
        if state & LIVE == 0 || slot.key.load(Ordering::Relaxed) != ctx {
            return false;
        }
        if state & USER != 0 {
            backoff.wait(slot, state);
            continue;
        }
        // SeqCst: ordered against every reader's claim (see hazard.rs).
        if slot
            .state
            .compare_exchange_weak(
                state,
                state & !LIVE | DYING,
                Ordering::SeqCst,
                Ordering::Relaxed,
            )
            .is_ok()
        {
            return true;
        }
    }
}

/// A slot's `quarantine`: no destroy takes contexts, one does, or else the
/// context handed to it.
pub(super) const CLOSED: usize = 0;
const OPEN: usize = 1;

/// The rest of a destroy, once `mark_dying` succeeded.
fn finish(slot: &Slot, ctx: usize) -> Result<c_int, Errno> {
    // Open before the kernel can give the address to another io_setup: its
    // own locks order this store before that io_setup returns.
    slot.quarantine.store(OPEN, Ordering::Relaxed);
    hazard::wait_for_readers(ctx);
    let result = sys::io_destroy(ctx);
    // The kernel woke its waiters when it killed the context; the slot is
    // theirs until they have counted themselves out.
    let mut backoff = Backoff::default();
    loop {
        let state = slot.state.load(Ordering::Acquire);
        if state & HANDOFF != 0 {
            slot.state.fetch_and(!HANDOFF, Ordering::Relaxed);
            destroy_handed(slot.quarantine.swap(OPEN, Ordering::Acquire));
            continue;
        }
        if state & KERNEL_COUNT == 0 {
            break;
        }
        backoff.wait(slot, state);
    }
    destroy_handed(slot.quarantine.swap(CLOSED, Ordering::Acquire));
    if report::on() {
        report::context_destroyed(slot.record.swap(0, Ordering::Relaxed), ctx);
    }
    // Ends DYING before the key goes: a second destroyer that wakes and looks
    // again finds no entry for ctx, and the kernel answers it.
    let before = slot.state.swap(0, Ordering::Release);
    slot.key.store(TOMBSTONE, Ordering::Release);
    if before & WAITERS != 0 {
        sync::futex_wake_all(&slot.state);
    }
    result
}

/// Waits until the destroy under way on `slot` has finished.
fn wait_while_dying(slot: &Slot, ctx: usize) {
    let mut backoff = Backoff::default();
    loop {
        let state = slot.state.load(Ordering::Acquire);
        if state & DYING == 0 || slot.key.load(Ordering::Acquire) != ctx {
            return;
        }
        backoff.wait(slot, state);
    }
}

/// Whether `ctx`, which `io_setup` just got, goes to a destroyer (see the
/// top of this file): an earlier context at its address is being destroyed
/// and some thread still counts itself among that one's kernel waiters.
/// There is one such entry at most: an address is registered again only
/// once it has none. If its destroyer has already closed the quarantine,
/// its waiters have left and `ctx` is safe to use.
pub(super) fn hand_to_destroyer(ctx: usize) -> bool {
    if weakened(Weakening::NoQuarantine) {
        return false;
    }
    let Some(slot) = find_with(ctx, DYING, KERNEL_COUNT) else {
        return false;
    };
    if slot
        .quarantine
        .compare_exchange(OPEN, ctx, Ordering::Release, Ordering::Relaxed)
        .is_err()
    {
        return false;
    }
    // Changes the word the destroyer may sleep on; if its destroy has
    // ended, it took `ctx` when it closed the quarantine.
    let before = slot
        .state
        .fetch_update(Ordering::Release, Ordering::Relaxed, |state| {
            (state & DYING != 0).then_some((state | HANDOFF) & !WAITERS)
        });
    if before.is_ok_and(|before| before & WAITERS != 0) {
        sync::futex_wake_all(&slot.state);
    }
    true
}

/// Destroys a context handed over by `io_setup`, if the quarantine held one.
fn destroy_handed(quarantined: usize) {
    if quarantined != OPEN && quarantined != CLOSED {
        // Nobody else knows it; the kernel's answer concerns nobody.
        let _ = sys::io_destroy(quarantined);
    }
}
