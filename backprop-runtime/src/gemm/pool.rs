//! Persistent worker threads that run the parts of one product at a time.
//!
//! `std::thread::scope` and most pools allocate per call (a spawned thread, a
//! boxed job). Here a job is a borrowed `&dyn Fn(usize)` published through a
//! static slot: the caller and the workers claim its parts from an atomic
//! range, the caller from the front and the workers from the back, and the
//! caller returns only once every part has finished. After the workers
//! exist, a call allocates nothing.
//!
//! Workers spin briefly before sleeping, because a training step issues its
//! products back to back and a futex wake-up costs tens of microseconds, a
//! sizeable fraction of a 100 µs product.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Upper bound for [`set_threads`]; more threads than this never pay here.
const MAX_THREADS: usize = 64;

/// How long an idle worker polls for the next job before it sleeps.
const WORKER_SPIN: Duration = Duration::from_micros(100);

/// How long the caller polls for the workers' parts before it sleeps.
const CALLER_SPIN: Duration = Duration::from_micros(50);

/// Configured thread count; 0 until read from the environment.
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets how many threads (the caller included) a large product may use.
///
/// `n` is clamped to `1..=64`; the clamped value is returned. `1` keeps every
/// product on the calling thread. This overrides `BACKPROP_THREADS`.
///
/// ```
/// # use backprop::gemm::{set_threads, threads};
/// assert_eq!(set_threads(0), 1);
/// assert_eq!(threads(), 1);
/// ```
pub fn set_threads(n: usize) -> usize {
    let n = n.clamp(1, MAX_THREADS);
    THREADS.store(n, Ordering::Relaxed);
    n
}

/// The number of threads (the caller included) a large product may use.
///
/// Until [`set_threads`] is called this is `BACKPROP_THREADS` if that holds a
/// positive integer, else [`std::thread::available_parallelism`]. An invalid
/// `BACKPROP_THREADS` is reported once on standard error and ignored.
pub fn threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => {
            let from_env = threads_from_env();
            // A concurrent set_threads wins over the environment.
            let _ = THREADS.compare_exchange(0, from_env, Ordering::Relaxed, Ordering::Relaxed);
            THREADS.load(Ordering::Relaxed)
        }
        n => n,
    }
}

fn threads_from_env() -> usize {
    let default = || std::thread::available_parallelism().map_or(1, |n| n.get());
    match std::env::var("BACKPROP_THREADS") {
        Err(std::env::VarError::NotPresent) => default(),
        Ok(value) => match value.trim().parse::<usize>() {
            Ok(n) if n >= 1 => n.min(MAX_THREADS),
            _ => {
                eprintln!(
                    "backprop: BACKPROP_THREADS must be a positive integer, found {value:?}; \
                     using {}",
                    default()
                );
                default()
            }
        },
        Err(std::env::VarError::NotUnicode(value)) => {
            eprintln!(
                "backprop: BACKPROP_THREADS must be a positive integer, found {value:?}; \
                 using {}",
                default()
            );
            default()
        }
    }
}

thread_local! {
    /// Set while this thread runs its share of work already split between threads
    /// (see [`within_split`]): its products then stay on it, instead of asking
    /// workers for cores that the split already keeps busy.
    static WITHIN_SPLIT: Cell<bool> = const { Cell::new(false) };
}

/// Runs `work` with every product it starts kept on the calling thread.
///
/// For callers that already give each thread its own share of a larger job (e.g.
/// evaluation, one range of rows per thread): a product that also handed parts
/// to the workers would put more threads than cores to work.
pub(crate) fn within_split<R>(work: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            WITHIN_SPLIT.set(self.0);
        }
    }
    let _restore = Restore(WITHIN_SPLIT.replace(true));
    work()
}

/// Below this size a hand-off to the workers costs more than the work: the
/// biases and the 50×10 weights of the book's net are updated on the caller.
const MIN_SPLIT_BYTES: usize = 16 * 1024;

/// From this size a pass that no product decides for is split anyway (see
/// `parallel::parts_for`): data larger than a core's L2 cache (512 KiB on Zen 3, 1–2
/// MiB on recent Xeons) streams from the shared cache or memory, and two cores stream
/// it faster than one.
pub(crate) const ALWAYS_SPLIT_BYTES: usize = 1024 * 1024;

/// Runs `body(first, piece)` over `data` cut into one contiguous piece per thread
/// (each a multiple of `grain` elements, but the last, and starting at element
/// `first`), or over all of `data` on the calling thread when it is smaller than
/// [`MIN_SPLIT_BYTES`] or the thread already runs its share of a split job (see
/// [`within_split`]).
///
/// This is for the passes between products, such as gathering the next batch, the
/// SGD update and an activation: they write what the products read or wrote (the
/// batch, `W`, `dW`, a layer's output). A product of that size is split between the
/// cores with the caller taking the first rows or columns, so its output's cache
/// lines are spread over both; a pass split the same way lets each core write the
/// lines it already holds, where one core writing them all waits for every line the
/// other holds (`docs/performance.md` has the measurements). The decision depends on
/// the data alone, never on what ran before on the thread.
pub(crate) fn split_pass<T: Send>(
    data: &mut [T],
    grain: usize,
    body: &(dyn Fn(usize, &mut [T]) + Sync),
) {
    let threads = if size_of_val(data) >= MIN_SPLIT_BYTES && !WITHIN_SPLIT.get() {
        threads()
    } else {
        1
    };
    let per_part = data.len().div_ceil(threads).next_multiple_of(grain.max(1));
    if threads == 1 || per_part >= data.len() {
        return body(0, data);
    }
    let len = data.len();
    let shared = SharedOut::new(data);
    run(len.div_ceil(per_part), threads, &|part| {
        let first = part * per_part;
        // SAFETY: the parts' ranges are disjoint and inside `data`.
        body(first, unsafe {
            shared.range(first, per_part.min(len - first))
        });
    });
}

/// Shares a mutable slice between threads, which write disjoint ranges of it.
#[derive(Clone, Copy)]
pub(crate) struct SharedOut<T> {
    ptr: *mut T,
}

impl<T> SharedOut<T> {
    /// Shares `data`; the borrow ends here, so the caller keeps `data` untouched
    /// while ranges of it are in use.
    pub(crate) fn new(data: &mut [T]) -> Self {
        Self {
            ptr: data.as_mut_ptr(),
        }
    }

    /// Elements `start..start + len` of the shared slice.
    ///
    /// # Safety
    /// The range is inside the slice, no other live slice overlaps it, and the
    /// slice outlives `'a`.
    #[allow(clippy::mut_from_ref)] // the pointer is shared; the ranges are disjoint
    pub(crate) unsafe fn range<'a>(&self, start: usize, len: usize) -> &'a mut [T] {
        // SAFETY: guaranteed by the caller.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(start), len) }
    }
}

// SAFETY: each part reconstructs a slice over its own disjoint range.
unsafe impl<T: Send> Send for SharedOut<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SharedOut<T> {}

type Task<'a> = dyn Fn(usize) + Sync + 'a;

/// A published job. The `'static` is a lie told to store the borrow: the
/// caller of [`run`] keeps the closure alive until every part has finished,
/// and a worker touches it only after claiming a part.
#[derive(Clone, Copy)]
struct Job {
    task: *const Task<'static>,
    parts: usize,
    /// Workers `1..=helpers` take part; others (after a lowered thread count) idle.
    helpers: usize,
}

// SAFETY: the pointee is `Sync` and outlives every use (see `Job`).
unsafe impl Send for Job {}

struct Slot {
    job: Option<Job>,
    epoch: u64,
}

/// Bits of each end of the unclaimed range in [`Pool::claims`]; the bits
/// above both ends tag the epoch.
const PART_BITS: u32 = 16;

struct Pool {
    /// Held by the thread whose job is running: one job at a time.
    busy: Mutex<()>,
    /// Workers started so far; only changed while `busy` is held.
    workers: AtomicUsize,
    /// Workers that have finished starting up and wait for jobs.
    ready: AtomicUsize,
    slot: Mutex<Slot>,
    /// Mirror of `slot.epoch` that idle workers poll without locking.
    epoch: AtomicU64,
    /// `epoch << 2·PART_BITS | front << PART_BITS | back`: the unclaimed
    /// parts are `front..back`. Parts are claimed, not assigned: if a worker
    /// is slow to wake (the machine is busy), the caller runs its parts
    /// instead of waiting. The caller claims from the front and the workers
    /// from the back, so that on two threads each runs the same half of a
    /// job as of the jobs before, as long as neither falls behind: a
    /// product's first row chunks and the first half of the batch gathering
    /// or of the SGD update then stay on the caller's core, with the cache
    /// lines they share. The epoch tag stops a worker that wakes after its
    /// job ended from claiming a part of the next one.
    claims: AtomicU64,
    /// Parts of the current job that have finished.
    finished: AtomicUsize,
    wake_lock: Mutex<()>,
    wake: Condvar,
    /// Workers asleep on `wake`. A notification is a system call even with
    /// nobody waiting, so the caller makes it only when this is non-zero.
    sleeping_workers: AtomicUsize,
    done_lock: Mutex<()>,
    done: Condvar,
    /// The caller is asleep on `done` (the same saving as `sleeping_workers`).
    caller_sleeping: AtomicBool,
    worker_panicked: AtomicBool,
}

static POOL: Pool = Pool {
    busy: Mutex::new(()),
    workers: AtomicUsize::new(0),
    ready: AtomicUsize::new(0),
    slot: Mutex::new(Slot {
        job: None,
        epoch: 0,
    }),
    epoch: AtomicU64::new(0),
    claims: AtomicU64::new(0),
    finished: AtomicUsize::new(0),
    wake_lock: Mutex::new(()),
    wake: Condvar::new(),
    sleeping_workers: AtomicUsize::new(0),
    done_lock: Mutex::new(()),
    done: Condvar::new(),
    caller_sleeping: AtomicBool::new(false),
    worker_panicked: AtomicBool::new(false),
};

/// Locks ignoring poison: the guarded data stays consistent across a panic.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `task(0)`, …, `task(parts - 1)` on the calling thread and up to
/// `threads - 1` workers, each claiming parts until none are left.
///
/// Everything runs on the calling thread when `parts` or `threads` is 1,
/// when another job is in flight (nested or concurrent calls), when no
/// worker can start, or when `parts` does not fit the claim counter
/// (65536 or more; callers use a few per thread).
pub(crate) fn run(parts: usize, threads: usize, task: &Task<'_>) {
    let helpers = if parts < 1 << PART_BITS {
        threads.min(parts).saturating_sub(1)
    } else {
        0
    };
    if helpers == 0 || WITHIN_SPLIT.get() {
        return (0..parts).for_each(task);
    }
    let (guard, helpers) = match POOL.busy.try_lock() {
        Ok(guard) => match start_workers(helpers) {
            0 => return (0..parts).for_each(task),
            started => (guard, started),
        },
        _ => return (0..parts).for_each(task),
    };
    POOL.finished.store(0, Ordering::Relaxed);
    let epoch = {
        let mut slot = lock(&POOL.slot);
        slot.epoch += 1;
        // SAFETY (of the lifetime erasure): see `Job`; we wait below until
        // every part has finished, even if one of ours panics.
        let task: *const Task<'static> =
            unsafe { std::mem::transmute::<&Task<'_>, &'static Task<'static>>(task) };
        slot.job = Some(Job {
            task,
            parts,
            helpers,
        });
        POOL.claims
            .store(pack_claims(slot.epoch, 0, parts), Ordering::Release);
        // SeqCst here and on `sleeping_workers` (both sides): either a worker
        // going to sleep sees the new epoch, or this sees it asleep and wakes it.
        POOL.epoch.store(slot.epoch, Ordering::SeqCst);
        slot.epoch
    };
    if POOL.sleeping_workers.load(Ordering::SeqCst) > 0 {
        drop(lock(&POOL.wake_lock));
        POOL.wake.notify_all();
    }

    let mut own = Ok(());
    while let Some(part) = claim(epoch, End::Front) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| task(part))) {
            own = Err(payload);
        }
        POOL.finished.fetch_add(1, Ordering::AcqRel);
    }
    wait_until_finished(parts);
    drop(guard);
    if let Err(payload) = own {
        resume_unwind(payload);
    }
    if POOL.worker_panicked.swap(false, Ordering::Relaxed) {
        panic!("a gemm worker thread panicked");
    }
}

/// Which end of the unclaimed range a thread takes its parts from.
#[derive(Clone, Copy)]
enum End {
    Front,
    Back,
}

/// The value of [`Pool::claims`] for unclaimed parts `front..back` of job `epoch`.
fn pack_claims(epoch: u64, front: usize, back: usize) -> u64 {
    (epoch << (2 * PART_BITS)) | ((front as u64) << PART_BITS) | back as u64
}

/// Claims the next part of job `epoch` at `end`, or `None` when all are
/// taken or the job is over.
fn claim(epoch: u64, end: End) -> Option<usize> {
    let field = (1_u64 << PART_BITS) - 1;
    let mut current = POOL.claims.load(Ordering::Acquire);
    loop {
        let (front, back) = ((current >> PART_BITS) & field, current & field);
        if current >> (2 * PART_BITS) != epoch & (u64::MAX >> (2 * PART_BITS)) || front >= back {
            return None;
        }
        let (claimed, next) = match end {
            End::Front => (front, current + (1 << PART_BITS)),
            End::Back => (back - 1, current - 1),
        };
        match POOL
            .claims
            .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
        {
            // The parts are fewer than 2^PART_BITS (see `run`).
            Ok(_) => return Some(claimed as usize),
            Err(actual) => current = actual,
        }
    }
}

/// Ensures `wanted` workers exist; returns how many do (fewer if spawning fails).
///
/// New workers are waited for until they have started: a starting thread
/// allocates (thread-locals, output capture), and that must happen now, on
/// the first call, not during a later one.
fn start_workers(wanted: usize) -> usize {
    let mut started = POOL.workers.load(Ordering::Relaxed);
    while started < wanted {
        let id = started + 1;
        let spawned = std::thread::Builder::new()
            .name(format!("backprop-gemm-{id}"))
            .spawn(move || worker(id));
        if spawned.is_err() {
            break;
        }
        started += 1;
        POOL.workers.store(started, Ordering::Relaxed);
    }
    while POOL.ready.load(Ordering::Acquire) < started {
        std::thread::yield_now();
    }
    started.min(wanted)
}

/// Waits for parts still running on workers.
fn wait_until_finished(parts: usize) {
    let start = Instant::now();
    while POOL.finished.load(Ordering::Acquire) != parts {
        if start.elapsed() > CALLER_SPIN {
            let mut guard = lock(&POOL.done_lock);
            POOL.caller_sleeping.store(true, Ordering::SeqCst);
            while POOL.finished.load(Ordering::SeqCst) != parts {
                guard = POOL
                    .done
                    .wait(guard)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            POOL.caller_sleeping.store(false, Ordering::SeqCst);
            return;
        }
        std::hint::spin_loop();
    }
}

/// Worker `id` (from 1) runs whatever parts it can claim of each job that
/// wants at least `id` helpers.
fn worker(id: usize) {
    POOL.ready.fetch_add(1, Ordering::Release);
    let mut seen = 0_u64;
    loop {
        wait_for_job(seen);
        let (job, epoch) = {
            let slot = lock(&POOL.slot);
            (slot.job, slot.epoch)
        };
        seen = epoch;
        let Some(job) = job.filter(|job| id <= job.helpers) else {
            continue;
        };
        while let Some(part) = claim(epoch, End::Back) {
            // SAFETY: the job is live while it has unfinished parts, and
            // ours counts until the `fetch_add` below.
            let task = unsafe { &*job.task };
            if catch_unwind(AssertUnwindSafe(|| task(part))).is_err() {
                POOL.worker_panicked.store(true, Ordering::Relaxed);
            }
            if POOL.finished.fetch_add(1, Ordering::SeqCst) + 1 == job.parts
                && POOL.caller_sleeping.load(Ordering::SeqCst)
            {
                drop(lock(&POOL.done_lock));
                POOL.done.notify_one();
            }
        }
    }
}

/// Returns once the published epoch differs from `seen`.
fn wait_for_job(seen: u64) {
    let start = Instant::now();
    let mut spins = 0_u32;
    while POOL.epoch.load(Ordering::Acquire) == seen {
        spins = spins.wrapping_add(1);
        // Reading the clock every iteration would dominate the poll.
        if spins.is_multiple_of(64) && start.elapsed() > WORKER_SPIN {
            let mut guard = lock(&POOL.wake_lock);
            POOL.sleeping_workers.fetch_add(1, Ordering::SeqCst);
            while POOL.epoch.load(Ordering::SeqCst) == seen {
                guard = POOL
                    .wake
                    .wait(guard)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            POOL.sleeping_workers.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        std::hint::spin_loop();
    }
}
