//! Checkpoints through the MNIST example: on Ctrl-C it finishes the step under way,
//! writes its checkpoint, says how to resume, and the resumed run ends exactly where
//! an uninterrupted one does; a finished run extended from its checkpoint ends where
//! the longer run ends; another run's checkpoint is never replaced. Needs MNIST, so it is ignored by default; `.ci/run` runs it with
//! `MNIST_DIR=../shared/mnist`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The seed of every run here but one.
const SEED_3: [&str; 2] = ["--seed", "3"];

#[path = "common/example_binary.rs"]
mod example_binary;

/// The MNIST example's binary.
fn mnist_example() -> PathBuf {
    example_binary::example("mnist")
}

/// Every run's options, then `extra` (the seed, the length and the files).
fn run_args(data: &Path, extra: &[&str]) -> Vec<String> {
    let common = [
        "--data",
        &data.to_string_lossy(),
        "--optimizer",
        "adam",
        "--threads",
        "1",
        "--quiet",
    ];
    common.iter().chain(extra).map(|s| s.to_string()).collect()
}

#[test]
#[ignore = "needs MNIST: run with MNIST_DIR=<folder with the four IDX files> and --ignored"]
fn ctrl_c_checkpoints_and_the_resumed_run_ends_as_the_uninterrupted_one() {
    let data =
        PathBuf::from(std::env::var_os("MNIST_DIR").expect("MNIST_DIR must name the MNIST folder"));
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (checkpoint, whole, resumed) = (
        path("run.checkpoint"),
        path("whole.safetensors"),
        path("resumed.safetensors"),
    );

    let status = Command::new(mnist_example())
        .args(run_args(
            &data,
            &["--seed", "3", "--iters", "6000", "--save", &whole],
        ))
        .status()
        .unwrap();
    assert!(status.success());

    let child = Command::new(mnist_example())
        .args(run_args(
            &data,
            &[
                "--seed",
                "3",
                "--iters",
                "6000",
                "--checkpoint",
                &checkpoint,
                "--save",
                &resumed,
            ],
        ))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The first checkpoint comes after the first epoch's last step.
    let started = Instant::now();
    while !Path::new(&checkpoint).exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no checkpoint was written"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(130), "{stdout}");
    assert!(stdout.contains("stopped after"), "{stdout}");
    assert!(
        stdout.contains(&format!("--resume {checkpoint}")),
        "{stdout}"
    );
    assert!(
        !Path::new(&resumed).exists(),
        "a stopped run saves no model"
    );

    let status = Command::new(mnist_example())
        .args(run_args(
            &data,
            &[
                "--seed",
                "3",
                "--iters",
                "6000",
                "--checkpoint",
                &checkpoint,
                "--resume",
                &checkpoint,
                "--save",
                &resumed,
            ],
        ))
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        std::fs::read(&whole).unwrap(),
        std::fs::read(&resumed).unwrap(),
        "the resumed run's model differs from the uninterrupted one's"
    );
}

#[test]
#[ignore = "needs MNIST: run with MNIST_DIR=<folder with the four IDX files> and --ignored"]
fn a_finished_run_extended_from_its_checkpoint_ends_as_the_longer_run() {
    let data =
        PathBuf::from(std::env::var_os("MNIST_DIR").expect("MNIST_DIR must name the MNIST folder"));
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (checkpoint, longer, extended) = (
        path("run.checkpoint"),
        path("longer.safetensors"),
        path("extended.safetensors"),
    );
    let run = |extra: &[&str]| {
        let args = run_args(&data, &[&SEED_3[..], extra].concat());
        let output = Command::new(mnist_example()).args(&args).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{args:?}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    };
    run(&["--iters", "1200", "--save", &longer]);
    let first = run(&["--iters", "600", "--checkpoint", &checkpoint]);
    assert!(first.contains("after the last step (600)"), "{first}");
    let resumed = run(&[
        "--iters",
        "1200",
        "--checkpoint",
        &checkpoint,
        "--resume",
        &checkpoint,
        "--save",
        &extended,
    ]);
    assert!(resumed.contains("after the last step (1200)"), "{resumed}");
    assert_eq!(
        std::fs::read(&longer).unwrap(),
        std::fs::read(&extended).unwrap(),
        "the extended run's model differs from the one trained to 1200 steps at once"
    );
    // Another run given the checkpoint's path is refused, and the file is unchanged.
    let before = std::fs::read(&checkpoint).unwrap();
    let args = run_args(
        &data,
        &["--seed", "4", "--iters", "600", "--checkpoint", &checkpoint],
    );
    let output = Command::new(mnist_example()).args(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("already holds another run's checkpoint (seed 3, 1200 steps done)"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&checkpoint).unwrap(), before);
}
