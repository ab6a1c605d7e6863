//! What the driver's smoke tests share: where the driver and the server binary are, a
//! scratch folder per test, and running the driver for its last JSON line.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

pub fn driver() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_taskcenter-bench"))
}

pub fn server_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("TASKCENTER_BIN") {
        return bin.into();
    }
    let bin = driver().with_file_name("taskcenter");
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build -p taskcenter`; `cargo test --workspace` does)",
        bin.display()
    );
    bin
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("taskcenter-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Runs the driver and parses the last line of its stdout.
pub fn run(args: &[&str]) -> Value {
    let out = Command::new(driver())
        .args(args)
        .output()
        .expect("running taskcenter-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "taskcenter-bench {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().expect("a JSON line");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("not JSON ({e}): {last}"))
}
