//! How many threads backprop uses, and the one way it splits work between them.

use std::sync::atomic::{AtomicUsize, Ordering};

/// 0 means "not chosen yet": read `BACKPROP_THREADS`, else use every core.
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets how many threads evaluation and large matrix products may use (at least 1).
/// Overrides the `BACKPROP_THREADS` environment variable.
pub fn set_threads(threads: usize) {
    THREADS.store(threads.max(1), Ordering::Relaxed);
}

/// The number of threads in use: as set by [`set_threads`], else the
/// `BACKPROP_THREADS` environment variable, else the number of cores.
pub fn threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => {
            let chosen = std::env::var("BACKPROP_THREADS")
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|&n| n > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            THREADS.store(chosen, Ordering::Relaxed);
            chosen
        }
        n => n,
    }
}

/// Splits `0..rows` into one contiguous range per thread (each a multiple of `grain`
/// rows, but the last), runs `work(start, end)` on each, and adds the results. Work
/// smaller than two grains runs on the calling thread.
pub fn split_rows<R, F>(rows: usize, grain: usize, work: F) -> R
where
    R: std::ops::Add<Output = R> + Send,
    F: Fn(usize, usize) -> R + Sync,
{
    let grains = rows.div_ceil(grain.max(1));
    let threads = threads().min(grains);
    if threads <= 1 {
        return work(0, rows);
    }
    let per_thread = grains.div_ceil(threads) * grain;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (per_thread..rows)
            .step_by(per_thread)
            .map(|start| {
                let work = &work;
                scope.spawn(move || work(start, (start + per_thread).min(rows)))
            })
            .collect();
        let first = work(0, per_thread.min(rows));
        handles.into_iter().fold(first, |acc, h| {
            acc + h
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    })
}
