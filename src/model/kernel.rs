//! The kernel's side of AIO under the model check: rings of `MODEL_NR`
//! slots, a producer that writes an event and then releases `tail` (as
//! `aio_complete` does), a reaper that copies under the ring's lock (as
//! `aio_read_events_ring`), and an `io_destroy` that unmaps the ring: it
//! writes the cell that every read of the ring touches.
//!
//! Rings live in a static arena, so that every execution sees the same
//! addresses (loom needs each execution's choices to repeat). By default the
//! n-th `io_setup` of an execution takes the n-th place, so no ring's memory
//! is reused within one: a late read is caught by the mapping cell; and
//! `io_getevents` never sleeps: it takes what is there, as if the timeout
//! ran out. [`Mode::Reusing`] is the real kernel's other side: `io_setup`
//! takes the first free place, as mmap gives a freed address again, and a
//! waiting `io_getevents` sleeps until its context dies.

extern crate std;

use super::{RingMemory, MODEL_NR};
use crate::abi::io_event;
use crate::ring::{RingHeader, HEADER_BYTES, MAGIC};
use crate::sync::{AtomicU32, Ordering};
use crate::sys::Errno;
use core::ffi::{c_int, c_long};
use core::mem::MaybeUninit;
use loom::sync::{Condvar, Mutex};
use std::vec::Vec;

/// A live context: its id (the ring's address) and which `io_setup` of the
/// execution made it, which tells two contexts at one address apart.
#[derive(Clone, Copy, PartialEq)]
struct Context {
    ctx: usize,
    made: usize,
}

loom::lazy_static! {
    /// The kernel's table of live contexts (its `ioctx_table`).
    static ref CONTEXTS: Mutex<Vec<Context>> = Mutex::new(Vec::new());
    /// Notified when a context dies (under Mode::Reusing).
    static ref DEATHS: Condvar = Condvar::new();
    /// How many rings this execution has made.
    static ref RINGS_MADE: Mutex<usize> = Mutex::new(0);
}

/// How the model kernel places rings and serves a wait.
#[derive(Clone, Copy, PartialEq)]
pub enum Mode {
    /// Every ring at a new place; `io_getevents` never sleeps.
    Fresh,
    /// A ring at the first free place; a waiting `io_getevents` (min_nr
    /// over what the ring holds, no timeout) sleeps until its context dies.
    /// Its models complete nothing on a context that is waited on.
    Reusing,
}

/// The mode for the model about to run; set before each model's executions
/// (it is not loom's state: every execution of one model sees the same).
static MODE: std::sync::Mutex<Mode> = std::sync::Mutex::new(Mode::Fresh);

pub fn set_mode(mode: Mode) {
    *MODE.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = mode;
}

fn mode() -> Mode {
    *MODE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Room for the rings of one execution; executions run one after another.
struct Arena(core::cell::UnsafeCell<[MaybeUninit<RingHeader>; ARENA_RINGS]>);
// SAFETY: only the running execution's threads use it, and loom runs them
// one at a time, under RINGS_MADE's lock where they write it.
unsafe impl Sync for Arena {}
const ARENA_RINGS: usize = 4;
static ARENA: Arena = Arena(core::cell::UnsafeCell::new(
    [const { MaybeUninit::uninit() }; ARENA_RINGS],
));

fn header(ctx: usize) -> &'static RingHeader {
    // SAFETY: model contexts are RingHeaders in the arena, kept for the execution.
    unsafe { &*(ctx as *const RingHeader) }
}

/// `io_setup`: a new ring, empty, in the kernel's table.
///
/// # Safety
/// `ctxp` must be writable.
pub unsafe fn io_setup(_nr_events: c_int, ctxp: usize) -> Result<c_int, Errno> {
    let mut made = RINGS_MADE.lock().unwrap();
    let mut contexts = CONTEXTS.lock().unwrap();
    let index = match mode() {
        Mode::Fresh => *made,
        Mode::Reusing => (0..ARENA_RINGS)
            .find(|&index| {
                let ctx = place_address(index);
                !contexts.iter().any(|context| context.ctx == ctx)
            })
            .expect("a free place in the arena"),
    };
    // SAFETY: see Arena; the place is this execution's alone, and no live
    // context is there.
    let place = unsafe { &mut (*ARENA.0.get())[index] };
    // The previous execution's ring there is forgotten, not dropped: its
    // loom objects belong to that execution.
    let ring = place.write(RingHeader {
        id: AtomicU32::new(0),
        nr: AtomicU32::new(MODEL_NR as u32),
        head: AtomicU32::new(0),
        tail: AtomicU32::new(0),
        magic: AtomicU32::new(MAGIC),
        compat_features: AtomicU32::new(1),
        incompat_features: AtomicU32::new(0),
        header_length: AtomicU32::new(HEADER_BYTES),
        model: RingMemory::new(),
    });
    let ctx = ring as *const RingHeader as usize;
    contexts.push(Context { ctx, made: *made });
    *made += 1;
    // SAFETY: the caller's contract.
    unsafe { (ctxp as *mut usize).write(ctx) };
    Ok(0)
}

fn place_address(index: usize) -> usize {
    // SAFETY: only the address is taken.
    unsafe { (*ARENA.0.get()).as_ptr().add(index) as usize }
}

/// `io_destroy`: out of the table, then unmapped; its waiters wake.
pub fn io_destroy(ctx: usize) -> Result<c_int, Errno> {
    let mut contexts = CONTEXTS.lock().unwrap();
    let index = contexts
        .iter()
        .position(|context| context.ctx == ctx)
        .ok_or(Errno::EINVAL)?;
    contexts.remove(index);
    header(ctx).model.unmap();
    if mode() == Mode::Reusing {
        DEATHS.notify_all();
    }
    Ok(0)
}

/// `io_getevents`: up to `nr` events copied under the ring's lock.
///
/// # Safety
/// `events` must be writable for `nr` events.
pub unsafe fn io_getevents(
    ctx: usize,
    min_nr: c_long,
    nr: c_long,
    events: usize,
    timeout: usize,
) -> Result<c_int, Errno> {
    // The context cannot be destroyed while its lock holds it in the table.
    let mut contexts = CONTEXTS.lock().unwrap();
    let Some(&context) = contexts.iter().find(|context| context.ctx == ctx) else {
        return Err(Errno::EINVAL);
    };
    let ring = header(ctx);
    if mode() == Mode::Reusing && timeout == 0 && ring_holds(ring) < min_nr as u32 {
        while contexts.contains(&context) {
            contexts = DEATHS.wait(contexts).unwrap();
        }
        return Err(Errno::EINVAL);
    }
    let _reaping = ring.model.ring_lock.lock().unwrap();
    let mut head = ring.head.load(Ordering::Relaxed);
    let tail = ring.tail.load(Ordering::Acquire);
    let mut copied = 0;
    while head != tail && copied < nr as usize {
        let event = ring.model.event(head as usize);
        // SAFETY: the caller's contract.
        unsafe { (events as *mut io_event).add(copied).write(event) };
        head = (head + 1) % MODEL_NR as u32;
        copied += 1;
    }
    ring.head.store(head, Ordering::Release);
    Ok(copied as c_int)
}

fn ring_holds(ring: &RingHeader) -> u32 {
    let head = ring.head.load(Ordering::Relaxed);
    let tail = ring.tail.load(Ordering::Acquire);
    (tail + MODEL_NR as u32 - head) % MODEL_NR as u32
}

/// `io_pgetevents`: the same, under the model.
///
/// # Safety
/// As for [`io_getevents`].
pub unsafe fn io_pgetevents(
    ctx: usize,
    min_nr: c_long,
    nr: c_long,
    events: usize,
    timeout: usize,
    _sigmask: usize,
) -> Result<c_int, Errno> {
    // SAFETY: forwarded contract.
    unsafe { io_getevents(ctx, min_nr, nr, events, timeout) }
}

/// Not modelled: the models complete I/O with [`complete`].
///
/// # Safety
/// None needed.
pub unsafe fn io_submit(_ctx: usize, _nr: c_long, _iocbpp: usize) -> Result<c_int, Errno> {
    Err(Errno(libc::ENOSYS))
}

/// Not modelled.
///
/// # Safety
/// None needed.
pub unsafe fn io_cancel(_ctx: usize, _iocb: usize, _result: usize) -> Result<c_int, Errno> {
    Err(Errno(libc::ENOSYS))
}

/// Completes one I/O whose `data` is `id`: waits for a free slot (one the
/// consumers have given back by moving `head` past it).
pub fn complete(ctx: usize, id: usize) {
    while !try_complete(ctx, id) {
        loom::thread::yield_now();
    }
}

/// Completes one I/O whose `data` is `id` if a slot is free: writes the
/// event, then publishes it with a Release store of `tail`. The Acquire
/// load of `head` orders the write after the consumers' reads of the slot.
pub fn try_complete(ctx: usize, id: usize) -> bool {
    let ring = header(ctx);
    let tail = ring.tail.load(Ordering::Relaxed);
    let next = (tail + 1) % MODEL_NR as u32;
    if ring.head.load(Ordering::Acquire) == next {
        return false;
    }
    ring.model.write_event(
        tail as usize,
        io_event {
            data: id as *mut _,
            obj: core::ptr::null_mut(),
            res: 0,
            res2: 0,
        },
    );
    ring.tail.store(next, Ordering::Release);
    true
}
