//! Shared harness for the end-to-end tests: runs the real `taskcenter` binary on a free
//! port with its own data directory and talks to it over HTTP, as any caller would.
//! With `TASKCENTER_TEST_STORE=postgres` each server stores in a PostgreSQL database of
//! its own instead (see `pg.rs`), so the same tests check that store end to end.
#![allow(dead_code)]

mod api;
pub mod pg;
mod time;

pub use api::*;
pub use time::*;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_taskcenter");

/// Both route prefixes the API must answer under.
pub const PREFIXES: [&str; 2] = ["/v1/api", "/api/v1"];

/// A running `taskcenter serve`; killed (and its data removed) on drop.
pub struct Server {
    child: Option<Child>,
    pub api: Api,
    pub root: PathBuf,
    pub data_dir: PathBuf,
    args: Vec<String>,
    log: Arc<Mutex<Vec<String>>>,
    /// The database of a server run on PostgreSQL (`TASKCENTER_TEST_STORE=postgres`).
    pub pg: Option<pg::TestDb>,
}

impl std::ops::Deref for Server {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Server {
    /// Starts a server with a fresh data directory and the given extra flags.
    pub fn start(extra_args: &[&str]) -> Server {
        Self::launch(None, extra_args)
    }

    /// Starts a server with a fresh data directory, a TOML config file holding `config`,
    /// and the given extra flags.
    pub fn start_with_config(config: &str, extra_args: &[&str]) -> Server {
        Self::launch(Some(config), extra_args)
    }

    fn launch(config: Option<&str>, extra_args: &[&str]) -> Server {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let unique = format!(
            "taskcenter-e2e-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            now_ms()
        );
        let root = std::env::temp_dir().join(unique);
        let data_dir = root.join("data");
        std::fs::create_dir_all(&data_dir).expect("create data dir");
        let mut args: Vec<String> = ["serve", "--listen", "127.0.0.1:0", "--data-dir"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.push(data_dir.display().to_string());
        if let Some(config) = config {
            let path = root.join("taskcenter.toml");
            std::fs::write(&path, config).expect("write config");
            args.push("--config".into());
            args.push(path.display().to_string());
        }
        args.extend(extra_args.iter().map(|s| s.to_string()));
        let given_store = extra_args.iter().any(|a| a.starts_with("--store"));
        let pg = (pg::suite_on_postgres() && !given_store).then(|| pg::TestDb::new("e2e"));
        if let Some(db) = &pg {
            args.extend(["--store".to_string(), db.url.clone()]);
        }
        let mut server = Server {
            child: None,
            api: Api::new("127.0.0.1:0"),
            root,
            data_dir,
            args,
            log: Arc::new(Mutex::new(Vec::new())),
            pg,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let mut child = command()
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn taskcenter");
        let (tx, rx) = mpsc::channel::<String>();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        drain_lines(stderr, self.log.clone(), Some(tx.clone()));
        drain_lines(stdout, self.log.clone(), Some(tx));
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(addr) => break addr,
                Err(_) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        panic!(
                            "taskcenter exited ({status}) before it was ready:\n{}",
                            self.log_tail(60)
                        );
                    }
                    if Instant::now() > deadline {
                        let _ = child.kill();
                        let _ = child.wait();
                        panic!("no `listening on` line within 30 s:\n{}", self.log_tail(60));
                    }
                }
            }
        };
        self.api = Api::new(&addr);
        self.child = Some(child);
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server is not running").id()
    }

    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// `kill -9` the server and reap it.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("server is not running");
        signal(child.id(), "KILL");
        child.wait().expect("wait after kill -9");
    }

    /// Sends `SIGTERM` and waits up to `within` for the exit; `None` if still running then.
    pub fn sigterm(&mut self, within: Duration) -> Option<ExitStatus> {
        self.signal_and_wait("TERM", within)
    }

    /// Sends the named signal (`TERM`, `INT`) and waits up to `within` for the exit.
    pub fn signal_and_wait(&mut self, sig: &str, within: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut().expect("server is not running");
        signal(child.id(), sig);
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server again on the same data directory (stopping it with SIGTERM first
    /// if it still runs). The port changes: use `self.api` afresh.
    pub fn restart(&mut self) {
        if self.child.is_some() {
            let status = self.sigterm(Duration::from_secs(10));
            assert!(
                status.is_some(),
                "server did not stop on SIGTERM within 10 s"
            );
        }
        self.spawn();
    }

    /// The last `n` lines the server logged.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log.lock().expect("log lock");
        log[log.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if thread::panicking() {
            eprintln!(
                "--- taskcenter log tail ({}) ---\n{}",
                self.root.display(),
                self.log_tail(40)
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// A `Command` for the binary, with no `TASKCENTER_*` variable of the test environment
/// leaking into it.
pub fn command() -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("TASKCENTER_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1");
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
fn drain_lines(
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
