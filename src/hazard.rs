//! Hazard cells: how a thread reading a ring without a lock keeps
//! `io_destroy` from unmapping it underneath.
//!
//! A reader publishes the ring address in its own cell with a SeqCst store,
//! then checks with a SeqCst load that the context is still live.
//! `io_destroy` marks the context dead with a SeqCst read-modify-write, then
//! reads every cell. In the single order of SeqCst operations either the
//! reader's check comes after the mark (it sees the context dead and reads
//! nothing) or the destroyer's read of the cell comes after the claim (it
//! waits for the claim to be dropped; the drop's Release store, read by the
//! destroyer, puts the reader's reads before the unmapping). The reader's
//! store is an `xchg` on x86: the one full barrier of an empty-ring poll.
//!
//! Each thread's cell has two words: a signal handler that reaps while its
//! thread holds a claim takes the second, so that the interrupted claim
//! stays published; a handler nested in a handler takes the syscall.

use crate::sync::{self, static_array, weakened, AtomicUsize, Ordering, Weakening};
use core::ffi::c_void;

/// At most this many threads read rings at once; more take the syscall.
#[cfg(not(loom))]
pub const CELLS: usize = 256;
#[cfg(loom)]
pub const CELLS: usize = 4;

/// A thread's claims. 128-byte aligned: no two threads' cells share a
/// cache line (or an adjacent-line prefetch pair).
#[repr(align(128))]
struct HazardCell {
    /// The thread that owns this cell (see `thread_id`), or 0.
    owner: AtomicUsize,
    /// The ring claimed by the thread, and by a signal handler nested in it.
    claims: [AtomicUsize; 2],
}

static_array!(CELLS_TABLE: [HazardCell; CELLS] = HazardCell {
    owner: AtomicUsize::new(0),
    claims: [AtomicUsize::new(0), AtomicUsize::new(0)],
});

/// The pthread key whose destructor gives a thread's cell back when the
/// thread exits. Unlike a Rust thread-local it allocates nothing per thread.
static EXIT_KEY: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(NO_KEY);
const NO_KEY: u32 = u32::MAX;

/// The key's destructor; the value is the cell index plus one.
extern "C" fn release_cell(value: *mut c_void) {
    if let Some(cell) = CELLS_TABLE.get((value as usize).wrapping_sub(1)) {
        for claim in &cell.claims {
            claim.store(0, Ordering::Relaxed);
        }
        cell.owner.store(0, Ordering::Release);
    }
}

/// A non-zero value unique to the running thread, read without a call.
#[cfg(not(loom))]
#[inline(always)]
fn thread_id() -> usize {
    crate::sys::thread_pointer()
}

/// Under the model every thread runs on one OS thread: number them instead.
#[cfg(loom)]
fn thread_id() -> usize {
    loom::thread_local! {
        static ID: usize = {
            loom::lazy_static! { static ref NEXT: AtomicUsize = AtomicUsize::new(1); }
            NEXT.fetch_add(1, Ordering::Relaxed) << 7
        };
    }
    ID.with(|id| *id)
}

/// Creates the key that frees a thread's cell when it exits: without it no
/// cell is handed out, and every call takes the syscall.
pub fn init() {
    if cfg!(not(loom)) && EXIT_KEY.load(Ordering::Relaxed) == NO_KEY {
        let mut key: libc::pthread_key_t = 0;
        // SAFETY: `key` is writable; release_cell is a plain extern "C" fn.
        if unsafe { libc::pthread_key_create(&mut key, Some(release_cell)) } == 0 {
            EXIT_KEY.store(key, Ordering::Release);
        }
    }
}

/// In a forked child only the forking thread exists: free every other cell.
pub fn forget_other_threads() {
    let me = thread_id();
    for cell in CELLS_TABLE.iter() {
        for claim in &cell.claims {
            claim.store(0, Ordering::Relaxed);
        }
        if cell.owner.load(Ordering::Relaxed) != me {
            cell.owner.store(0, Ordering::Relaxed);
        }
    }
}

fn home(thread: usize) -> usize {
    (thread >> 6).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (usize::BITS - 8)
}

/// This thread's cell, if it sits at its home index (it nearly always does).
#[inline(always)]
fn cell_at_home() -> Option<&'static HazardCell> {
    let me = thread_id();
    let cell = &CELLS_TABLE[home(me) % CELLS];
    (cell.owner.load(Ordering::Relaxed) == me).then_some(cell)
}

/// Takes a free cell for this thread (cold: once per thread, or when its
/// home is taken). None when the fast path is off, the key is missing or
/// every cell is taken.
#[cold]
fn claim_cell(me: usize) -> Option<&'static HazardCell> {
    if crate::switches::force_syscall() {
        return None;
    }
    let probe = || (0..CELLS).map(|i| (home(me) + i) % CELLS);
    if let Some(index) = probe().find(|&i| CELLS_TABLE[i].owner.load(Ordering::Relaxed) == me) {
        return Some(&CELLS_TABLE[index]);
    }
    let index = probe().find(|&i| {
        CELLS_TABLE[i]
            .owner
            .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    })?;
    if !give_back_at_exit(index) {
        // The cell could not be given back at exit, so it is not taken.
        CELLS_TABLE[index].owner.store(0, Ordering::Release);
        return None;
    }
    Some(&CELLS_TABLE[index])
}

/// Has cell `index` freed when the calling thread exits.
#[cfg(not(loom))]
fn give_back_at_exit(index: usize) -> bool {
    let key = EXIT_KEY.load(Ordering::Acquire);
    // SAFETY: the key was created by `init`; the value is a plain number.
    key != NO_KEY && unsafe { libc::pthread_setspecific(key, (index + 1) as *const c_void) } == 0
}

/// Under the model no thread exits before the model ends.
#[cfg(loom)]
fn give_back_at_exit(_index: usize) -> bool {
    true
}

/// A published claim on a ring address; dropping it withdraws the claim.
pub struct Hazard {
    cell: &'static HazardCell,
    claim: &'static AtomicUsize,
}

impl Hazard {
    /// The thread's cell number: an identity that fits in a context's state word.
    #[inline]
    pub fn thread_index(&self) -> u32 {
        // SAFETY: `cell` is an element of CELLS_TABLE.
        unsafe { (self.cell as *const HazardCell).offset_from(CELLS_TABLE.as_ptr()) as u32 }
    }
}

impl Drop for Hazard {
    #[inline]
    fn drop(&mut self) {
        // Pairs with the destroyer's load of the claim: this thread's reads
        // of the ring come before the destroyer goes on to unmap it.
        self.claim.store(0, Ordering::Release);
    }
}

/// Publishes `ring`. After this returns, a destroyer that has already marked
/// the context dead is visible to the caller's next SeqCst loads, or the
/// destroyer will wait for the returned claim to be dropped. `None` when the
/// thread can have no claim (more than `CELLS` threads, a handler nested in a
/// handler, the fast path off): the caller then uses the syscall.
pub fn protect(ring: usize) -> Option<Hazard> {
    publish(cell_at_home().or_else(|| claim_cell(thread_id()))?, ring)
}

/// [`protect`] for a thread whose cell is at its home index, else `None`
/// with nothing published: the inlined first try of every reaping call.
#[inline(always)]
pub fn protect_at_home(ring: usize) -> Option<Hazard> {
    publish(cell_at_home()?, ring)
}

#[inline(always)]
fn publish(cell: &'static HazardCell, ring: usize) -> Option<Hazard> {
    // A signal handler that runs between this check and the store gives
    // back whatever it claims before the thread goes on.
    let [thread, nested] = &cell.claims;
    let claim = if thread.load(Ordering::Relaxed) == 0 || weakened(Weakening::NestedClaim) {
        thread
    } else if nested.load(Ordering::Relaxed) == 0 {
        nested
    } else {
        return None;
    };
    claim.store(ring, Ordering::SeqCst);
    if !weakened(Weakening::ClaimOrder) {
        sync::seqcst_store_load_order();
    }
    Some(Hazard { cell, claim })
}

/// Waits until no thread holds a claim on `ring`. The caller has already
/// marked its context dead with a SeqCst read-modify-write, so claims made
/// from now on see the mark and do not read the ring. Claims last a short
/// copy, so this spins, then sleeps in short steps (for a reader that lost
/// its CPU); it makes no syscall but the futex that sleeps.
pub fn wait_for_readers(ring: usize) {
    sync::seqcst_store_load_order();
    let (mut spins, mut pause_micros) = (0, 10);
    while CELLS_TABLE.iter().any(|cell| {
        cell.claims
            .iter()
            .any(|claim| claim.load(Ordering::SeqCst) == ring)
    }) {
        if spins < 100 {
            spins += 1;
            sync::spin_loop();
        } else {
            sync::pause(pause_micros);
            pause_micros = (pause_micros * 2).min(1000);
        }
    }
}
