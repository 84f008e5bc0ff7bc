//! The core of `io_getevents`, `io_pgetevents` and `io_queue_run`: take
//! completions from the ring in user space when the answer does not depend
//! on waiting, and go to the kernel only when the call must wait (or when the
//! context is not one we can read).

use crate::abi::io_event;
use crate::contexts::{self, Access, Consumer, KernelReap, Pinned};
use crate::report;
use crate::sys::{self, plausible, Errno, KERNEL_SIGSET_BYTES};
use core::ffi::{c_int, c_long};
use core::mem::MaybeUninit;

/// What to do when the call has to wait in the kernel.
#[derive(Clone, Copy)]
pub enum Wait {
    /// `io_getevents`.
    Plain,
    /// `io_pgetevents` with this signal mask (0 for none).
    WithSigmask(usize),
}

/// One `io_getevents`-style request, with the caller's pointers as addresses.
#[derive(Clone, Copy)]
pub struct Request {
    pub ctx: usize,
    pub min_nr: c_long,
    pub nr: c_long,
    pub events: usize,
    pub timeout: usize,
    pub wait: Wait,
}

impl Request {
    /// The syscall; `via` counts this thread among the context's kernel
    /// consumers, if it is ours.
    #[cold]
    #[inline(never)]
    fn syscall(self, via: Option<&KernelReap>) -> Result<c_int, Errno> {
        if report::on() {
            let start = self.may_wait().then(report::now);
            let result = self.syscall_only();
            report::reaped_by_syscall(
                via.map_or(0, KernelReap::record),
                self.events,
                result,
                start,
            );
            return result;
        }
        self.syscall_only()
    }

    fn syscall_only(self) -> Result<c_int, Errno> {
        // SAFETY: the caller's pointers go to the kernel, which checks them.
        unsafe {
            match self.wait {
                Wait::Plain => {
                    sys::io_getevents(self.ctx, self.min_nr, self.nr, self.events, self.timeout)
                }
                Wait::WithSigmask(mask) => sys::io_pgetevents(
                    self.ctx,
                    self.min_nr,
                    self.nr,
                    self.events,
                    self.timeout,
                    mask,
                ),
            }
        }
    }

    /// Serves the request. This is the hot path, inlined into the entry
    /// points; the empty-ring answer takes no lock.
    #[inline(always)]
    pub fn run(self) -> Result<c_int, Errno> {
        let pinned = contexts::pin(self.ctx);
        if let Some(answer) = pinned.as_ref().and_then(|pinned| self.answer_now(pinned)) {
            return answer;
        }
        self.run_further(pinned)
    }

    /// [`run`](Self::run), not inlined: the one copy that the entry points
    /// less often hot than `io_getevents` (`io_pgetevents`, `io_queue_run`)
    /// share, for the library's size.
    #[inline(never)]
    pub fn run_outlined(self) -> Result<c_int, Errno> {
        self.run()
    }

    /// The answers due before any consuming: the kernel's argument errors
    /// (in its order: the timeout, the signal mask, the counts), and 0 for an
    /// empty ring when the call would not wait. `None`: events must be taken
    /// or waited for.
    #[inline(always)]
    fn answer_now(&self, pinned: &Pinned) -> Option<Result<c_int, Errno>> {
        if self.timeout != 0 && !plausible(self.timeout, size_of::<libc::timespec>()) {
            return Some(Err(Errno::EFAULT));
        }
        if let Wait::WithSigmask(mask) = self.wait {
            if mask != 0 && !plausible(mask, KERNEL_SIGSET_BYTES) {
                return Some(Err(Errno::EFAULT));
            }
        }
        if !(0..=self.nr).contains(&self.min_nr) {
            return Some(Err(Errno::EINVAL));
        }
        (pinned.is_empty() && self.answers_without_waiting()).then(|| {
            if report::on() {
                report::reaped_from_ring(pinned.record(), &[]);
            }
            Ok(0)
        })
    }

    /// Whether the kernel may make this call wait (for the report). A
    /// timeout it would refuse does not wait.
    fn may_wait(&self) -> bool {
        self.min_nr > 0
            && (self.timeout == 0
                || (plausible(self.timeout, size_of::<libc::timespec>()) && !self.zero_timeout()))
    }

    /// Whether the timeout is exactly zero. Only called once `answer_now`
    /// found it plausible, and only where the answer depends on it.
    #[inline(always)]
    fn zero_timeout(&self) -> bool {
        if self.timeout == 0 {
            return false;
        }
        // SAFETY: a non-NULL timeout must point to a readable timespec (C
        // contract); the first page and kernel addresses were refused.
        let ts = unsafe { (self.timeout as *const libc::timespec).read() };
        ts.tv_sec == 0 && ts.tv_nsec == 0
    }

    /// Whether the answer is due now, whatever the ring holds: the kernel
    /// would not sleep for it.
    #[inline(always)]
    fn answers_without_waiting(&self) -> bool {
        (self.min_nr == 0 && !self.sets_sigmask()) || self.zero_timeout()
    }

    /// `io_pgetevents` with a mask: a signal the mask unblocks must be
    /// delivered even when events are ready, and only the kernel can tell
    /// whether one is pending. So such calls read the ring only where
    /// upstream does: an empty ring with a zero timeout.
    #[inline]
    fn sets_sigmask(&self) -> bool {
        matches!(self.wait, Wait::WithSigmask(mask) if mask != 0)
    }

    /// Takes events from a ring that had some, or waits in the kernel; and
    /// everything for a thread or a context off the common path (a thread's
    /// first call, a table collision, a context that is not ours).
    #[cold]
    #[inline(never)]
    fn run_further(self, pinned: Option<Pinned>) -> Result<c_int, Errno> {
        let pinned = match pinned {
            Some(pinned) => pinned,
            None => match contexts::access(self.ctx) {
                Access::Ring(pinned) => match self.answer_now(&pinned) {
                    Some(answer) => return answer,
                    None => pinned,
                },
                Access::Kernel(guard) => return self.syscall(guard.as_ref()),
            },
        };
        let mut reaper = match pinned.consume() {
            Consumer::User(reaper) => reaper,
            Consumer::Kernel(guard) => return self.syscall(guard.as_ref()),
            // A signal handler's call: as if another thread had just taken
            // the ready events, and a wait were cut short by the signal.
            Consumer::InterruptedOwner if self.answers_without_waiting() => return Ok(0),
            Consumer::InterruptedOwner => return Err(Errno::EINTR),
        };
        let available = reaper.ring.available();
        if self.sets_sigmask() || (available < self.min_nr as usize && !self.zero_timeout()) {
            let guard = reaper.into_kernel();
            return self.syscall(Some(&guard));
        }
        let count = available.min(self.nr as usize);
        if count == 0 {
            if report::on() {
                report::reaped_from_ring(reaper.record(), &[]);
            }
            return Ok(0);
        }
        if !plausible(self.events, count * size_of::<io_event>()) {
            return Err(Errno::EFAULT);
        }
        // SAFETY: the C contract makes `events` writable for `nr` >= count events.
        let out = unsafe {
            core::slice::from_raw_parts_mut(self.events as *mut MaybeUninit<io_event>, count)
        };
        let copied = reaper.ring.consume(out);
        if report::on() {
            // SAFETY: `consume` initialised the first `copied` events.
            let events =
                unsafe { core::slice::from_raw_parts(self.events as *const io_event, copied) };
            report::reaped_from_ring(reaper.record(), events);
        }
        Ok(copied as c_int)
    }
}

/// `io_queue_run`: drains the ring, calling each event's callback with no
/// lock held (a callback may submit, reap, destroy the context or longjmp
/// out). Events are taken one at a time, as upstream does, so a callback that
/// never returns loses no other event. Returns 0 once the ring is empty, or
/// the error that stopped it.
pub fn run_callbacks(ctx: usize, mut call: impl FnMut(&io_event)) -> Result<c_int, Errno> {
    let zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let mut event = MaybeUninit::<io_event>::uninit();
    let request = Request {
        ctx,
        min_nr: 0,
        nr: 1,
        events: event.as_mut_ptr() as usize,
        timeout: &zero as *const _ as usize,
        wait: Wait::Plain,
    };
    while request.run_outlined()? == 1 {
        // SAFETY: `run` filled the event.
        call(unsafe { event.assume_init_ref() });
    }
    Ok(0)
}
