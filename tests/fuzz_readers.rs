//! Structured fuzzing of every reader of outside bytes: IDX files (plain and gzip), the
//! MNIST loader, safetensors model files and trainer checkpoints.
//!
//! Each target starts from a valid file and mutates it the ways a damaged download or
//! a hostile file would be: flipped bits, header words set to extremes (a count of
//! 4·10⁹ images in a 100-byte file), truncation, appended or repeated bytes, edited
//! safetensors headers, valid gzip around corrupt content. On every input it asserts
//! that the reader returns (no panic, no abort) and that its peak memory stays within
//! what the bytes actually present allow: nothing is sized from a header before its
//! bytes are read.
//!
//! This file has its own `main` (its counting allocator must not see libtest's
//! threads). Settings, from the environment:
//! - `BACKPROP_FUZZ_SECONDS`: time per target (default 3; CI allows at most 20);
//! - `BACKPROP_FUZZ_SEED`: the mutation stream (default 1), so a run can be repeated.
//!
//! A failing input is written to `target/fuzz-findings/` and named in the output.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use backprop::data::{self, idx};
use backprop::model_file::{self, Overwrite};
use backprop::optim::Sgd;
use backprop::prelude::*;
use backprop::train::{Checkpoint, Trainer};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

network! {
    struct Small(16) {
        Affine(_, 6) -> BatchNorm -> Relu -> Affine(6, 10) -> SoftmaxWithLoss
    }
}

/// Tracks the bytes live on the heap, and the most live at once since the last reset.
struct PeakCounting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for PeakCounting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            let grown = new_size - layout.size();
            let live = LIVE.fetch_add(grown, Ordering::Relaxed) + grown;
            PEAK.fetch_max(live, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: PeakCounting = PeakCounting;

/// Heap a reader may use beyond what its input's size explains: I/O buffers, the
/// gzip decoder's window and tables, paths and error messages.
const FIXED_ALLOWANCE: usize = 1 << 20;
/// Heap per byte present: the bytes read, the growth slack of the vector they are read
/// into, and a conversion (F32 values decoded into f64 double).
const PER_BYTE_ALLOWANCE: usize = 4;

/// Runs `read` and returns the most heap it held at once beyond what was live before.
fn peak_heap_of(read: impl FnOnce()) -> usize {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    read();
    PEAK.load(Ordering::Relaxed).saturating_sub(before)
}

/// Interesting values for a header word: zero, one, extremes, and sizes near the
/// real ones.
fn extreme_word(rng: &mut StdRng, near: usize) -> u64 {
    let choices = [
        0,
        1,
        u64::from(u32::MAX),
        u64::from(u32::MAX / 2),
        4_000_000_000,
        u64::MAX,
        near as u64,
        (near as u64).saturating_sub(1),
        near as u64 + 1,
        rng.random_range(0..1 << 20),
    ];
    choices[rng.random_range(0..choices.len())]
}

/// One structured mutation of a valid file.
fn mutate(rng: &mut StdRng, valid: &[u8], header_words: &[(usize, usize)]) -> Vec<u8> {
    let mut bytes = valid.to_vec();
    let rounds = rng.random_range(1..=3);
    for _ in 0..rounds {
        match rng.random_range(0..6) {
            0 if !bytes.is_empty() => {
                for _ in 0..rng.random_range(1..=8) {
                    let at = rng.random_range(0..bytes.len());
                    bytes[at] ^= 1 << rng.random_range(0..8);
                }
            }
            1 if !header_words.is_empty() => {
                // (offset, width) of a size field, big-endian for IDX, little for
                // safetensors' header length: both orders are tried.
                let (offset, width) = header_words[rng.random_range(0..header_words.len())];
                let value = extreme_word(rng, bytes.len());
                let encoded = if rng.random_bool(0.5) {
                    value.to_be_bytes()
                } else {
                    value.to_le_bytes()
                };
                let field = &encoded[8 - width..];
                if offset + width <= bytes.len() {
                    bytes[offset..offset + width].copy_from_slice(field);
                }
            }
            2 => {
                let len = rng.random_range(0..=bytes.len());
                bytes.truncate(len);
            }
            3 => {
                let extra = rng.random_range(1..64);
                bytes.extend((0..extra).map(|_| rng.random::<u8>()));
            }
            4 if !bytes.is_empty() => {
                let start = rng.random_range(0..bytes.len());
                let end = rng.random_range(start..=bytes.len().min(start + 256));
                let copy = bytes[start..end].to_vec();
                bytes.splice(start..start, copy);
            }
            5 if !bytes.is_empty() => {
                let start = rng.random_range(0..bytes.len());
                let end = rng.random_range(start..=bytes.len());
                bytes.drain(start..end);
            }
            _ => {}
        }
    }
    bytes
}

/// Edits the JSON header of a safetensors file: numbers replaced by extremes, dtypes
/// swapped, names and brackets broken.
fn mutate_safetensors_header(rng: &mut StdRng, valid: &[u8]) -> Vec<u8> {
    let Some(header_len) = valid
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("eight bytes")) as usize)
    else {
        return valid.to_vec();
    };
    let Some(header) = valid.get(8..8 + header_len) else {
        return valid.to_vec();
    };
    let mut text = String::from_utf8_lossy(header).into_owned();
    let replacements: [(&str, &str); 8] = [
        ("F32", "F64"),
        ("F64", "F32"),
        ("F32", "U8"),
        ("F64", "BF16"),
        ("[", "[[["),
        ("data_offsets\":[0", "data_offsets\":[99999999999"),
        ("shape\":[", "shape\":[4294967295,"),
        ("\"", "'"),
    ];
    let (from, to) = replacements[rng.random_range(0..replacements.len())];
    if let Some(at) = text
        .match_indices(from)
        .map(|(i, _)| i)
        .nth(rng.random_range(0..3))
    {
        text.replace_range(at..at + from.len(), to);
    }
    let mut bytes = (text.len() as u64).to_le_bytes().to_vec();
    bytes.extend(text.as_bytes());
    bytes.extend(&valid[8 + header_len..]);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// How many bytes a gzip input decompresses to before it ends or breaks, up to `cap`.
fn gunzipped_len(bytes: &[u8], cap: u64) -> usize {
    let mut decoder = std::io::Read::take(flate2::read::MultiGzDecoder::new(bytes), cap);
    let mut sink = Vec::new();
    let _ = std::io::Read::read_to_end(&mut decoder, &mut sink);
    sink.len()
}

fn image_file(count: u32, rows: u32, cols: u32, rng: &mut StdRng) -> Vec<u8> {
    let mut bytes = Vec::new();
    for word in [0x0803, count, rows, cols] {
        bytes.extend(u32::to_be_bytes(word));
    }
    bytes.extend((0..count * rows * cols).map(|_| rng.random::<u8>()));
    bytes
}

fn label_file(count: u32, rng: &mut StdRng) -> Vec<u8> {
    let mut bytes = Vec::new();
    for word in [0x0801, count] {
        bytes.extend(u32::to_be_bytes(word));
    }
    bytes.extend((0..count).map(|_| rng.random_range(0..10u8)));
    bytes
}

/// The (offset, width) of every size field of an IDX header with `dims` dimensions.
fn idx_header_words(dims: usize) -> Vec<(usize, usize)> {
    (0..=dims).map(|i| (4 * i, 4)).collect()
}

/// What one target found.
struct Report {
    target: &'static str,
    inputs: usize,
    accepted: usize,
    findings: Vec<String>,
}

/// Feeds `target` inputs for `budget`, checking each with `check`, which returns
/// whether the input was accepted, or what went wrong.
fn run_target(
    target: &'static str,
    budget: Duration,
    rng: &mut StdRng,
    mut next_input: impl FnMut(&mut StdRng) -> Vec<u8>,
    mut check: impl FnMut(&[u8]) -> Result<bool, String>,
) -> Report {
    let mut report = Report {
        target,
        inputs: 0,
        accepted: 0,
        findings: Vec::new(),
    };
    let start = Instant::now();
    while start.elapsed() < budget && report.findings.len() < 5 {
        let input = next_input(rng);
        report.inputs += 1;
        let outcome = catch_unwind(AssertUnwindSafe(|| check(&input)))
            .unwrap_or_else(|_| Err("the reader panicked".to_owned()));
        match outcome {
            Ok(accepted) => report.accepted += usize::from(accepted),
            Err(finding) => {
                let saved = save_finding(target, report.findings.len(), &input);
                report
                    .findings
                    .push(format!("{finding} (input: {})", saved.display()));
            }
        }
    }
    report
}

fn save_finding(target: &str, n: usize, input: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-findings");
    let path = dir.join(format!("{target}-{n}.bin"));
    if std::fs::create_dir_all(&dir).is_err() || std::fs::write(&path, input).is_err() {
        return PathBuf::from("(could not be saved)");
    }
    path
}

/// Checks that reading `input` through `read` stayed within the allowance for
/// `bytes_present` bytes.
fn within_allowance(peak: usize, bytes_present: usize) -> Result<(), String> {
    let allowed = FIXED_ALLOWANCE + PER_BYTE_ALLOWANCE * bytes_present;
    if peak > allowed {
        return Err(format!(
            "peak heap {peak} bytes for {bytes_present} bytes present: expected at most {allowed}"
        ));
    }
    Ok(())
}

fn setting<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(text) => text
            .parse()
            .map_err(|_| format!("{name}={text}: expected a number")),
    }
}

fn main() -> Result<(), String> {
    let seconds: f64 = setting("BACKPROP_FUZZ_SECONDS", 3.0)?;
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(format!(
            "BACKPROP_FUZZ_SECONDS={seconds}: expected a positive number"
        ));
    }
    let seed: u64 = setting("BACKPROP_FUZZ_SEED", 1)?;
    let budget = Duration::from_secs_f64(seconds);
    let dir = tempfile::tempdir().map_err(|e| format!("a temporary folder: {e}"))?;
    let file = dir.path().join("input");
    let write = |bytes: &[u8]| std::fs::write(&file, bytes).expect("writing the input");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut reports = Vec::new();

    let images = image_file(5, 4, 3, &mut rng);
    let labels = label_file(5, &mut rng);

    reports.push(run_target(
        "idx-plain",
        budget,
        &mut rng,
        |rng| {
            if rng.random_bool(0.5) {
                mutate(rng, &images, &idx_header_words(3))
            } else {
                mutate(rng, &labels, &idx_header_words(1))
            }
        },
        |input| {
            write(input);
            let mut accepted = false;
            let peak = peak_heap_of(|| {
                accepted = idx::read_images(&file).is_ok() | idx::read_labels(&file).is_ok();
            });
            within_allowance(peak, input.len())?;
            Ok(accepted)
        },
    ));

    reports.push(run_target(
        "idx-gzip",
        budget,
        &mut rng,
        |rng| {
            let valid = if rng.random_bool(0.5) {
                &images
            } else {
                &labels
            };
            if rng.random_bool(0.5) {
                // Valid gzip around a corrupt file.
                gzip(&mutate(rng, valid, &idx_header_words(3)))
            } else {
                mutate(rng, &gzip(valid), &[])
            }
        },
        |input| {
            write(input);
            let present = input.len().max(gunzipped_len(input, 1 << 24));
            let mut accepted = false;
            let peak = peak_heap_of(|| {
                accepted = idx::read_images(&file).is_ok() | idx::read_labels(&file).is_ok();
            });
            within_allowance(peak, present)?;
            Ok(accepted)
        },
    ));

    let mnist = dir.path().join("mnist");
    std::fs::create_dir(&mnist).map_err(|e| format!("{}: {e}", mnist.display()))?;
    let valid_files = [
        image_file(6, 28, 28, &mut rng),
        label_file(6, &mut rng),
        image_file(4, 28, 28, &mut rng),
        label_file(4, &mut rng),
    ];
    for (name, bytes) in data::MNIST_FILES.iter().zip(&valid_files) {
        std::fs::write(mnist.join(name), bytes).map_err(|e| format!("{name}: {e}"))?;
    }
    reports.push(run_target(
        "mnist-loader",
        budget,
        &mut rng,
        |rng| {
            let which = rng.random_range(0..4);
            let dims = if which % 2 == 0 { 3 } else { 1 };
            let mut input = vec![which as u8];
            input.extend(mutate(rng, &valid_files[which], &idx_header_words(dims)));
            input
        },
        |input| {
            let (which, bytes) = (usize::from(input[0]), &input[1..]);
            let path = mnist.join(data::MNIST_FILES[which]);
            std::fs::write(&path, bytes).expect("writing the input");
            let present: usize = valid_files.iter().map(Vec::len).sum::<usize>() + bytes.len();
            let mut accepted = false;
            let peak = peak_heap_of(|| accepted = data::load_mnist(&mnist).is_ok());
            std::fs::write(&path, &valid_files[which]).expect("restoring the file");
            within_allowance(peak, present)?;
            Ok(accepted)
        },
    ));

    let model = dir.path().join("valid.safetensors");
    let net = Small::<f64>::new(&mut StdRng::seed_from_u64(seed));
    model_file::save(&net, &model, Overwrite::Never).map_err(|e| e.to_string())?;
    let valid_model = std::fs::read(&model).map_err(|e| e.to_string())?;
    reports.push(run_target(
        "model-file",
        budget,
        &mut rng,
        |rng| {
            if rng.random_bool(0.5) {
                mutate_safetensors_header(rng, &valid_model)
            } else {
                mutate(rng, &valid_model, &[(0, 8)])
            }
        },
        |input| {
            write(input);
            let mut f32_net = Small::<f32>::new(&mut StdRng::seed_from_u64(0));
            let mut f64_net = Small::<f64>::new(&mut StdRng::seed_from_u64(0));
            let mut accepted = false;
            let peak = peak_heap_of(|| {
                accepted = model_file::load(&mut f32_net, &file).is_ok()
                    | model_file::load(&mut f64_net, &file).is_ok();
            });
            within_allowance(peak, input.len())?;
            Ok(accepted)
        },
    ));

    let (train_set, test_set) = (tiny_data(40, seed), tiny_data(20, seed + 1));
    let checkpoint = dir.path().join("valid.checkpoint");
    let trainer = Trainer::new().iterations(2).batch_size(10);
    let mut net = Small::<f32>::new(&mut StdRng::seed_from_u64(seed));
    trainer
        .clone()
        .checkpoint(&checkpoint)
        .fit(&mut net, &mut Sgd { lr: 0.1 }, &train_set, &test_set)
        .map_err(|e| e.to_string())?;
    let valid_checkpoint = std::fs::read(&checkpoint).map_err(|e| e.to_string())?;
    let resuming = trainer.resume(&file);
    reports.push(run_target(
        "checkpoint",
        budget,
        &mut rng,
        |rng| {
            if rng.random_bool(0.5) {
                mutate_safetensors_header(rng, &valid_checkpoint)
            } else {
                mutate(rng, &valid_checkpoint, &[(0, 8)])
            }
        },
        |input| {
            write(input);
            let mut read = None;
            let peak = peak_heap_of(|| read = Some(Checkpoint::<f32>::read(&file)));
            within_allowance(peak, input.len())?;
            let Some(Ok(_)) = read else {
                return Ok(false);
            };
            // What was read must also be safe to resume from.
            let mut net = Small::<f32>::new(&mut StdRng::seed_from_u64(seed));
            let resumed = resuming.fit(&mut net, &mut Sgd { lr: 0.1 }, &train_set, &test_set);
            Ok(resumed.is_ok())
        },
    ));

    let mut failed = false;
    for report in &reports {
        println!(
            "{:<13} {:>7} inputs, {:>5} accepted, {} findings",
            report.target,
            report.inputs,
            report.accepted,
            report.findings.len()
        );
        for finding in &report.findings {
            println!("    {finding}");
        }
        failed |= !report.findings.is_empty() || report.inputs == 0;
    }
    println!("seed {seed}, {seconds} s per target");
    if failed {
        return Err("some readers failed on some inputs (listed above)".to_owned());
    }
    Ok(())
}

/// 4×4 images whose class is where the brightest pixel is.
fn tiny_data(len: usize, seed: u64) -> data::Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut pixels = vec![0u8; len * 16];
    let mut labels = vec![0u8; len];
    for (image, label) in pixels.chunks_exact_mut(16).zip(&mut labels) {
        *label = rng.random_range(0..10);
        for p in image.iter_mut() {
            *p = rng.random_range(0..100);
        }
        image[usize::from(*label)] = 255;
    }
    data::Dataset::from_raw(pixels, labels, 4, 4, 10).expect("a valid data set")
}
