//! How many threads backprop uses, and how evaluation splits rows between them.
//!
//! One setting serves the matrix products, evaluation, and the work between a
//! training step's products (gathering the batch, the SGD update): [`set_threads`],
//! else the `BACKPROP_THREADS` environment variable, else every core.
//!
//! - A product uses the threads when it is large enough to repay the hand-off
//!   (about a million multiply-adds per thread, counted before zero skipping):
//!   the book's batch-100 products are, on MNIST as on dense inputs.
//! - Gathering a batch, the SGD update and the activations are split between the
//!   threads from 16 KiB of data (less does not repay a hand-off). The products next
//!   to them split the same way, the caller taking the first part of every split job
//!   and a worker the last, so each core writes the cache lines it already holds.
//! - Two threads pay only while the other core is free. On a 2-core machine shared
//!   with other load, a training step measured up to twice as slow on two threads
//!   as on one: set `BACKPROP_THREADS=1` there.
//! - Evaluation gives each thread its own range of rows ([`split_rows`]), and the
//!   products inside stay on that thread.

use crate::gemm::{ALWAYS_SPLIT_BYTES, SharedOut, run_parts, within_split};
pub use crate::gemm::{set_threads, threads};

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
    // Each thread has its share: the products inside stay on it.
    let share = |start: usize| within_split(|| work(start, (start + per_thread).min(rows)));
    std::thread::scope(|scope| {
        let handles: Vec<_> = (per_thread..rows)
            .step_by(per_thread)
            .map(|start| {
                let share = &share;
                scope.spawn(move || share(start))
            })
            .collect();
        let first = share(0);
        handles.into_iter().fold(first, |acc, h| {
            acc + h
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    })
}

/// Runs `work(part, chunks)` for `part` in `0..parts` on the calling thread and the
/// workers, with every product inside kept on the thread that runs the part. Each of
/// `data`'s slices is cut into consecutive chunks of the length given beside it, and
/// part `i` gets chunk `i` of each (shorter or empty past the slice's end), so the
/// parts write disjoint memory. Allocates nothing once the workers have started.
pub(crate) fn for_each_part<T: Send + Copy, const N: usize>(
    parts: usize,
    data: [(&mut [T], usize); N],
    work: &(dyn Fn(usize, [&mut [T]; N]) + Sync),
) {
    let shared = data.map(|(slice, chunk)| (slice.len(), chunk, SharedOut::new(slice)));
    run_parts(parts, threads(), &|part| {
        let chunks = shared.map(|(len, chunk, out)| {
            let start = part.saturating_mul(chunk).min(len);
            // SAFETY: part `part` is run once, and chunk `part` of each slice is
            // disjoint from every other part's; the slices outlive this call.
            unsafe { out.range(start, chunk.min(len - start)) }
        });
        within_split(|| work(part, chunks));
    });
}

/// Parts to cut a pass over `bytes` of data into when nothing else decides: one per
/// thread from [`ALWAYS_SPLIT_BYTES`] (data that streams from beyond a core's own
/// cache), else one.
pub(crate) fn parts_for(bytes: usize) -> usize {
    if bytes >= ALWAYS_SPLIT_BYTES {
        threads()
    } else {
        1
    }
}

/// The work of [`for_each_part_with`]: a part's number and its chunks of both slices.
pub(crate) type PairWork<'a, T, U> = dyn Fn(usize, &mut [T], &mut [U]) + Sync + 'a;

/// [`for_each_part`] with one more slice, of another element type, cut the same way
/// (`extra`'s chunk length beside it): a layer's output and the indices it keeps.
pub(crate) fn for_each_part_with<T: Send + Copy, U: Send + Copy>(
    parts: usize,
    data: (&mut [T], usize),
    extra: (&mut [U], usize),
    work: &PairWork<'_, T, U>,
) {
    let (len, chunk, out) = (data.0.len(), data.1, SharedOut::new(data.0));
    let (extra_len, extra_chunk, extra_out) = (extra.0.len(), extra.1, SharedOut::new(extra.0));
    run_parts(parts, threads(), &|part| {
        let start = part.saturating_mul(chunk).min(len);
        let extra_start = part.saturating_mul(extra_chunk).min(extra_len);
        // SAFETY: as in `for_each_part`: chunk `part` of each slice is this part's
        // alone, and the slices outlive this call.
        let (data, extra) = unsafe {
            (
                out.range(start, chunk.min(len - start)),
                extra_out.range(extra_start, extra_chunk.min(extra_len - extra_start)),
            )
        };
        within_split(|| work(part, data, extra));
    });
}
