//! The binary as a child process: a clean environment, signals, and reading its log for
//! the `listening on ADDR` line that says it is ready.

use std::io::{BufRead, BufReader, Read};
use std::process::Command;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

pub const BIN: &str = env!("CARGO_BIN_EXE_taskcenter");

/// A `Command` for the binary, with no `TASKCENTER_*` variable of the test environment
/// leaking into it, and local times in UTC so printed times are the same everywhere.
pub fn command() -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("TASKCENTER_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("TZ", "UTC").env("NO_COLOR", "1");
    cmd
}

/// Sends a signal with the `kill` command (no libc needed).
pub fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([format!("-{sig}"), pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{sig} {pid} failed");
}

/// Reads `stream` line by line into `log` until EOF; sends the address of the first
/// `listening on ADDR` line to `ready`.
pub(super) fn drain_lines(
    stream: impl Read + Send + 'static,
    log: Arc<Mutex<Vec<String>>>,
    ready: Option<mpsc::Sender<String>>,
) {
    thread::spawn(move || {
        let mut ready = ready;
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = ready.as_ref().and_then(|_| parse_listen_addr(&line)) {
                let _ = ready.take().expect("sender").send(addr);
            }
            log.lock().expect("log lock").push(line);
        }
    });
}

/// The address of a `listening on ADDR` log line, if `line` is one.
fn parse_listen_addr(line: &str) -> Option<String> {
    let plain = strip_ansi(line);
    let rest = &plain[plain.find("listening on ")? + "listening on ".len()..];
    let token = rest.split_whitespace().next()?;
    let token = token.trim_matches(|c| c == '"' || c == '\'' || c == ',' || c == '`');
    let token = token
        .strip_prefix("http://")
        .unwrap_or(token)
        .trim_end_matches('/');
    token.contains(':').then(|| token.to_string())
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
