//! The models, each with its controls (see mod.rs).

extern crate std;

use super::kernel;
use super::MODEL_NR;
use crate::abi::io_event;
use crate::contexts::{self, Access};
use crate::reap::{Request, Wait};
use crate::sync::{set_weakening, Weakening};
use crate::sys::Errno;
use core::ffi::c_int;
use core::mem::MaybeUninit;
use loom::thread;
use std::string::String;
use std::vec::Vec;

/// Runs `model` under loom with `weakening` in force, and returns how many
/// executions loom explored; a failure in any execution panics.
fn explore(name: &str, weakening: Option<Weakening>, model: fn()) -> usize {
    static ONE_MODEL_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE_MODEL_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    set_weakening(weakening);
    kernel::set_mode(kernel::Mode::Fresh);
    let executions = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = executions.clone();
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound.get_or_insert(3);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        builder.check(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            model();
        })
    }));
    set_weakening(None);
    let explored = executions.load(std::sync::atomic::Ordering::Relaxed);
    std::eprintln!("model {name} ({weakening:?}): {explored} executions");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    explored
}

/// The model passes: every execution of it.
fn holds(name: &str, model: fn()) {
    explore(name, None, model);
}

/// The model fails with `weakening` in force, with one of the `expected`
/// messages (not, say, because the model itself is broken).
fn fails_without(name: &str, weakening: Weakening, model: fn(), expected: &[&str]) {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(std::boxed::Box::new(|_| {})); // loom's failing run is expected
    let outcome = std::panic::catch_unwind(|| explore(name, Some(weakening), model));
    std::panic::set_hook(previous_hook);
    let panic = outcome.expect_err("the control passed: the model does not catch the weakening");
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("");
    assert!(
        expected.iter().any(|e| message.contains(e)),
        "the control failed for another reason: {message}"
    );
    std::eprintln!(
        "control {name} without {weakening:?}: fails as it must: {}",
        message.lines().next().unwrap_or("")
    );
}

const RACE: &str = "Causality violation";
const UNMAPPED: &str = "a read of an unmapped ring";

fn setup() -> usize {
    let mut ctx = 0usize;
    contexts::setup(8, &mut ctx as *mut usize as usize).expect("model io_setup");
    ctx
}

static ZERO: libc::timespec = libc::timespec {
    tv_sec: 0,
    tv_nsec: 0,
};
/// A signal mask (all signals blocked or not does not matter to the model):
/// with one, a call reaps through the kernel.
static MASK: [u64; 16] = [0; 16];

/// Reaps up to `out.len()` events of `ctx`: with a zero timeout (a poll,
/// served in user space) or through the kernel.
fn reap(
    ctx: usize,
    out: &mut [MaybeUninit<io_event>],
    through_kernel: bool,
) -> Result<c_int, Errno> {
    let request = Request {
        ctx,
        min_nr: if through_kernel { 1 } else { 0 },
        nr: out.len() as _,
        events: out.as_mut_ptr() as usize,
        timeout: if through_kernel {
            0
        } else {
            &ZERO as *const _ as usize
        },
        wait: if through_kernel {
            Wait::WithSigmask(MASK.as_ptr() as usize)
        } else {
            Wait::Plain
        },
    };
    request.run()
}

/// Takes up to `nr` events of `ctx` with one call; their ids, in order.
fn take(ctx: usize, nr: usize, through_kernel: bool) -> Vec<usize> {
    let mut out = [MaybeUninit::uninit(); MODEL_NR];
    let n = reap(ctx, &mut out[..nr], through_kernel).expect("a reap of a live context") as usize;
    // SAFETY: the reap filled the first n.
    out[..n]
        .iter()
        .map(|event| unsafe { event.assume_init() }.data as usize)
        .collect()
}

/// Completions across the ring's wrap (slots 1, 2, 0, 1 of three), taken at
/// once by a user-space reaper and a kernel reaper, then by a last poll:
/// each exactly once, and each consumer's in the order of completion. The
/// producer completes the third and the fourth only if consumers have freed
/// a slot (the kernel's accounting reserves one; here it checks once); the
/// fourth reuses the slot of the first, which a consumer may be reading.
fn exactly_once_in_order() {
    let ctx = setup();
    kernel::complete(ctx, 1);
    assert_eq!(take(ctx, 1, false), [1]);
    let producer = thread::spawn(move || {
        kernel::complete(ctx, 2);
        kernel::complete(ctx, 3);
        (4..=5)
            .take_while(|&id| kernel::try_complete(ctx, id))
            .last()
            .unwrap_or(3)
    });
    // One take: another claim between two would fence its copies off.
    let in_user_space = thread::spawn(move || take(ctx, 2, false));
    let in_kernel = take(ctx, 2, true);
    let last = producer.join().unwrap();
    let in_user_space = in_user_space.join().unwrap();
    let rest = take(ctx, MODEL_NR, false);
    for ids in [&in_user_space, &in_kernel, &rest] {
        assert!(
            ids.windows(2).all(|pair| pair[0] < pair[1]),
            "out of order: {ids:?}"
        );
    }
    let mut all: Vec<usize> = [in_user_space, in_kernel, rest].concat();
    all.sort_unstable();
    assert_eq!(
        all,
        (2..=last).collect::<Vec<_>>(),
        "lost or delivered twice"
    );
}

#[test]
fn exactly_once_in_order_holds() {
    holds("exactly_once_in_order", exactly_once_in_order);
}

#[test]
fn exactly_once_in_order_needs_tail_acquire() {
    fails_without(
        "exactly_once_in_order",
        Weakening::TailAcquire,
        exactly_once_in_order,
        &[RACE],
    );
}

#[test]
fn exactly_once_in_order_needs_head_release() {
    fails_without(
        "exactly_once_in_order",
        Weakening::HeadRelease,
        exactly_once_in_order,
        &[RACE],
    );
}

/// A reader holds a claim on A and, as a signal handler would, polls B in
/// the middle of it, then reads A again; meanwhile two threads destroy A.
/// Nobody reads A's ring once it is unmapped, and the destroyers get 0 and
/// -EINVAL.
fn claims_against_destroy() {
    let a = setup();
    let b = setup();
    let reader = thread::spawn(move || {
        let outer = match contexts::access(a) {
            Access::Ring(pinned) => Some(pinned),
            Access::Kernel(_) => None,
        };
        let mut out = [MaybeUninit::uninit(); 1];
        assert_eq!(reap(b, &mut out, false), Ok(0), "the handler's poll of B");
        if let Some(pinned) = outer {
            pinned.is_empty();
        }
    });
    let second = thread::spawn(move || contexts::destroy(a));
    let first = contexts::destroy(a);
    let mut answers = [first, second.join().unwrap()];
    answers.sort_unstable_by_key(|answer| answer.is_err());
    assert_eq!(
        answers,
        [Ok(0), Err(Errno::EINVAL)],
        "the two destroyers' answers"
    );
    reader.join().unwrap();
}

#[test]
fn claims_against_destroy_holds() {
    holds("claims_against_destroy", claims_against_destroy);
}

#[test]
fn claims_against_destroy_needs_the_claim_ordered() {
    fails_without(
        "claims_against_destroy",
        Weakening::ClaimOrder,
        claims_against_destroy,
        &[RACE, UNMAPPED],
    );
}

#[test]
fn claims_against_destroy_needs_a_second_claim_word() {
    fails_without(
        "claims_against_destroy",
        Weakening::NestedClaim,
        claims_against_destroy,
        &[RACE, UNMAPPED],
    );
}

#[test]
fn claims_against_destroy_needs_the_second_destroyer_to_wait() {
    fails_without(
        "claims_against_destroy",
        Weakening::SecondDestroyerWaits,
        claims_against_destroy,
        &[RACE, UNMAPPED],
    );
}

/// The table (two slots under the model) is full with X and A. A reader
/// polls A while A is destroyed and C created in its slot: the reader
/// answers for A (0 or -EINVAL), never reading A's ring after the unmapping
/// nor taking C's event.
fn slot_reused_under_reader() {
    let _x = setup();
    let a = setup();
    let reader = thread::spawn(move || {
        let mut out = [MaybeUninit::uninit(); 1];
        let answer = reap(a, &mut out, false);
        assert!(
            matches!(answer, Ok(0) | Err(Errno::EINVAL)),
            "a poll of A: {answer:?}"
        );
    });
    assert_eq!(contexts::destroy(a), Ok(0));
    let c = setup();
    kernel::complete(c, 7);
    reader.join().unwrap();
    let mut out = [MaybeUninit::uninit(); 1];
    assert_eq!(reap(c, &mut out, false), Ok(1), "C's event is still there");
}

#[test]
fn slot_reused_under_reader_holds() {
    holds("slot_reused_under_reader", slot_reused_under_reader);
}

#[test]
fn slot_reused_under_reader_needs_the_second_key_check() {
    fails_without(
        "slot_reused_under_reader",
        Weakening::SecondKeyCheck,
        slot_reused_under_reader,
        &[RACE, UNMAPPED, "a poll of A", "C's event"],
    );
}

/// Two threads poll a ring with two events; one of them finds the other
/// reaping in user space and goes to sleep on the state word's futex. It is
/// always woken: both get their event.
fn no_lost_wakeup() {
    let a = setup();
    kernel::complete(a, 1);
    kernel::complete(a, 2);
    let poll_one = move || {
        let mut out = [MaybeUninit::uninit(); 1];
        reap(a, &mut out, false).unwrap()
    };
    let other = thread::spawn(poll_one);
    let mine = poll_one();
    let theirs = other.join().unwrap();
    // A poll that met the other's reap may find the ring empty after it.
    let mut out = [MaybeUninit::uninit(); 2];
    let rest = reap(a, &mut out, false).unwrap();
    assert_eq!(mine + theirs + rest, 2, "every event once");
}

#[test]
fn no_lost_wakeup_holds() {
    holds("no_lost_wakeup", no_lost_wakeup);
}

#[test]
fn no_lost_wakeup_needs_the_state_swap() {
    fails_without(
        "no_lost_wakeup",
        Weakening::StateSwap,
        no_lost_wakeup,
        &["deadlock"],
    );
}

/// A thread waits in the kernel on A (nothing will complete there) while A
/// is destroyed and another thread's io_setup may get A's address back. The
/// waiter must not sleep on the new context, where its destroyer would wait
/// for it for ever: it gets -EINVAL, the destroyer 0, and the maker a
/// context of its own.
fn late_waiter_on_reused_address() {
    kernel::set_mode(kernel::Mode::Reusing);
    let a = setup();
    let waiter = thread::spawn(move || {
        let mut out = [MaybeUninit::uninit(); 1];
        reap(a, &mut out, true)
    });
    let maker = thread::spawn(setup);
    assert_eq!(contexts::destroy(a), Ok(0), "the destroyer's answer");
    let b = maker.join().unwrap();
    // A waiter that started only now may wait on B, as with upstream.
    assert_eq!(contexts::destroy(b), Ok(0), "the maker's context");
    assert_eq!(
        waiter.join().unwrap(),
        Err(Errno::EINVAL),
        "the waiter's answer"
    );
}

#[test]
fn late_waiter_on_reused_address_holds() {
    holds(
        "late_waiter_on_reused_address",
        late_waiter_on_reused_address,
    );
}

#[test]
fn late_waiter_on_reused_address_needs_the_quarantine() {
    fails_without(
        "late_waiter_on_reused_address",
        Weakening::NoQuarantine,
        late_waiter_on_reused_address,
        &["deadlock"],
    );
}
