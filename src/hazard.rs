//! Hazard cells: how a thread reading a ring without a lock keeps
//! `io_destroy` from unmapping it underneath.
//!
//! A reader publishes the ring address in its own cell, then checks that the
//! context is still live. `io_destroy` marks the context dead, makes every
//! thread's earlier stores visible with `membarrier`, and waits until no cell
//! holds the address. The reader side is two plain stores and no atomic
//! read-modify-write: an empty-ring poll stays a handful of nanoseconds.
//! Without `membarrier` (old kernels, sandboxes) the fast path is off.

use core::ffi::c_void;
use core::sync::atomic::{compiler_fence, fence, AtomicU32, AtomicUsize, Ordering};

/// At most this many threads read rings at once; more take the syscall.
pub const CELLS: usize = 256;

#[repr(align(64))]
struct HazardCell {
    /// The thread that owns this cell (see `thread_id`), or 0.
    owner: AtomicUsize,
    ring: AtomicUsize,
}

#[allow(clippy::declare_interior_mutable_const)]
const FREE: HazardCell = HazardCell {
    owner: AtomicUsize::new(0),
    ring: AtomicUsize::new(0),
};
static CELLS_TABLE: [HazardCell; CELLS] = [FREE; CELLS];

/// The pthread key whose destructor gives a thread's cell back when the
/// thread exits. Unlike a Rust thread-local it allocates nothing per thread.
static EXIT_KEY: AtomicU32 = AtomicU32::new(NO_KEY);
const NO_KEY: u32 = u32::MAX;

/// The key's destructor; the value is the cell index plus one.
extern "C" fn release_cell(value: *mut c_void) {
    if let Some(cell) = CELLS_TABLE.get((value as usize).wrapping_sub(1)) {
        cell.ring.store(0, Ordering::Relaxed);
        cell.owner.store(0, Ordering::Release);
    }
}

/// A non-zero value unique to the running thread, read without a call: the
/// thread pointer, which on x86_64 glibc and musl points to itself.
#[cfg(target_arch = "x86_64")]
#[inline]
fn thread_id() -> usize {
    let id: usize;
    // SAFETY: reads the TCB's self pointer at %fs:0; no side effects.
    unsafe {
        core::arch::asm!("mov {}, qword ptr fs:[0]", out(reg) id, options(nostack, readonly, preserves_flags))
    };
    id
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn thread_id() -> usize {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() as usize }
}

fn membarrier(cmd: libc::c_int) -> bool {
    // SAFETY: membarrier takes no pointers.
    unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0, 0) == 0 }
}

const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;

/// Registers for expedited `membarrier` (again in a forked child, which has
/// a new address space). Without it no ring may be read in user space.
#[must_use]
pub fn init() -> bool {
    if EXIT_KEY.load(Ordering::Relaxed) == NO_KEY {
        let mut key: libc::pthread_key_t = 0;
        // SAFETY: `key` is writable; release_cell is a plain extern "C" fn.
        if unsafe { libc::pthread_key_create(&mut key, Some(release_cell)) } == 0 {
            EXIT_KEY.store(key, Ordering::Release);
        }
    }
    membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)
}

/// In a forked child only the forking thread exists: free every other cell.
pub fn forget_other_threads() {
    let me = thread_id();
    for cell in &CELLS_TABLE {
        cell.ring.store(0, Ordering::Relaxed);
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

#[cold]
fn claim_cell(me: usize) -> Option<&'static HazardCell> {
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
    let key = EXIT_KEY.load(Ordering::Acquire);
    // SAFETY: the key was created by `init`; the value is a plain number.
    if key == NO_KEY || unsafe { libc::pthread_setspecific(key, (index + 1) as *const c_void) } != 0
    {
        // The cell could not be given back at exit, so it is not taken.
        CELLS_TABLE[index].owner.store(0, Ordering::Release);
        return None;
    }
    Some(&CELLS_TABLE[index])
}

/// A published claim on a ring address; dropping it withdraws the claim and
/// puts back the one it covered (a signal handler's call nests inside the
/// interrupted thread's).
pub struct Hazard {
    cell: &'static HazardCell,
    covered: usize,
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
        self.cell.ring.store(self.covered, Ordering::Release);
    }
}

/// Publishes `ring`. After this returns, a destroyer that has already marked
/// the context dead is visible to the caller's next loads, or the destroyer
/// will wait for the returned claim to be dropped. `None` when more than
/// `CELLS` threads hold cells: the caller then uses the syscall.
pub fn protect(ring: usize) -> Option<Hazard> {
    let cell = cell_at_home().or_else(|| claim_cell(thread_id()))?;
    Some(publish(cell, ring))
}

/// [`protect`] for a thread whose cell is at its home index, else `None`
/// with nothing published: the inlined first try of every reaping call.
#[inline(always)]
pub fn protect_at_home(ring: usize) -> Option<Hazard> {
    Some(publish(cell_at_home()?, ring))
}

#[inline(always)]
fn publish(cell: &'static HazardCell, ring: usize) -> Hazard {
    let covered = cell.ring.load(Ordering::Relaxed);
    cell.ring.store(ring, Ordering::Relaxed);
    // The destroyer's membarrier stands for the fence this side leaves out.
    compiler_fence(Ordering::SeqCst);
    Hazard { cell, covered }
}

/// A full barrier in every running thread of the process: after it, each
/// thread's stores made before it are visible to the caller, and each
/// thread's loads made after it see the caller's earlier stores. It lets
/// the hot paths leave out their own fences. Registered by `init` (the fast
/// path is off without it), so it cannot fail.
pub fn barrier_in_every_thread() {
    fence(Ordering::SeqCst);
    membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
}

/// Waits until no thread holds a claim on `ring`. The caller has already
/// stored the mark that keeps new claims from using it.
pub fn wait_for_readers(ring: usize) {
    // After it every reader's claim made before our mark is visible, and
    // later readers see the mark.
    barrier_in_every_thread();
    while CELLS_TABLE
        .iter()
        .any(|cell| cell.ring.load(Ordering::Acquire) == ring)
    {
        // SAFETY: sched_yield has no preconditions.
        unsafe { libc::sched_yield() };
    }
}
