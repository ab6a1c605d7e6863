//! Shared harness of the end-to-end tests: runs the real `taskcenter` binary on a free
//! port with its own data directory and talks to it over HTTP, as any caller would.
//! With `TASKCENTER_TEST_STORE=postgres` each server stores in a PostgreSQL database of
//! its own instead (see `pg.rs`), so the same tests check that store end to end.
//!
//! Submodules: `api` (a blocking HTTP client and assertions), `cli` (running the CLI),
//! `client` (helpers of the client-library tests), `pg` (test databases), `process`
//! (the child process), `replicas` (several servers on one database), `time`.
#![allow(dead_code, unused_imports)] // each test file uses its own part of the harness

mod api;
mod cli;
pub mod client;
pub mod pg;
mod process;
pub mod replicas;
mod time;

pub use api::*;
pub use cli::*;
pub use process::{BIN, command, signal};
pub use time::*;

use std::path::PathBuf;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// Both route prefixes the API must answer under.
pub const PREFIXES: [&str; 2] = ["/v1/api", "/api/v1"];

/// The listen address a server gets unless the test passes `--listen`: any free port.
const ANY_PORT: &str = "127.0.0.1:0";

/// A running `taskcenter serve`; killed, and its directory and database removed, on drop.
pub struct Server {
    child: Option<Child>,
    pub api: Api,
    /// A directory of this server's own, removed with it; the data directory is inside.
    pub root: PathBuf,
    pub data_dir: PathBuf,
    /// The flags after `serve --listen ADDR` (the address changes on a same-port restart).
    args: Vec<String>,
    /// The address asked for with `--listen`.
    listen: String,
    log: Arc<Mutex<Vec<String>>>,
    /// The database of a server run on PostgreSQL (`TASKCENTER_TEST_STORE=postgres`).
    pub pg: Option<pg::TestDb>,
    /// Deletes `root` when the server is dropped, whatever the test's outcome.
    _dir: tempfile::TempDir,
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
        let dir = tempfile::Builder::new()
            .prefix("taskcenter-test-")
            .tempdir()
            .expect("create the test directory");
        let root = dir.path().to_path_buf();
        let data_dir = root.join("data");
        let mut args = vec!["--data-dir".to_string(), data_dir.display().to_string()];
        if let Some(config) = config {
            let path = root.join("taskcenter.toml");
            std::fs::write(&path, config).expect("write config");
            args.push("--config".into());
            args.push(path.display().to_string());
        }
        // A `--listen` of the test replaces the default one (clap takes the flag once).
        let mut listen = ANY_PORT.to_string();
        let mut extra = extra_args.iter().map(|s| s.to_string());
        while let Some(arg) = extra.next() {
            if arg == "--listen" {
                listen = extra.next().expect("--listen needs a value");
            } else if let Some(addr) = arg.strip_prefix("--listen=") {
                listen = addr.to_string();
            } else {
                args.push(arg);
            }
        }
        let given_store = extra_args.iter().any(|a| a.starts_with("--store"));
        let pg = (pg::suite_on_postgres() && !given_store).then(|| pg::TestDb::new("e2e"));
        if let Some(db) = &pg {
            args.extend(["--store".to_string(), db.url.clone()]);
        }
        let mut server = Server {
            child: None,
            api: Api::new(ANY_PORT),
            root,
            data_dir,
            args,
            listen,
            log: Arc::new(Mutex::new(Vec::new())),
            pg,
            _dir: dir,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let mut child = command()
            .args(["serve", "--listen", &self.listen])
            .args(&self.args)
            .env("RUST_LOG", "info") // the ready line is an info line
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn taskcenter");
        let (tx, rx) = mpsc::channel::<String>();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        process::drain_lines(stderr, self.log.clone(), Some(tx.clone()));
        process::drain_lines(stdout, self.log.clone(), Some(tx));
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
        self.stop_for_restart();
        self.spawn();
    }

    /// Starts the server again on the same data directory and the same port, so clients
    /// holding its URL reach it again (stopping it with SIGTERM first if it still runs).
    pub fn restart_on_same_port(&mut self) {
        self.stop_for_restart();
        let asked = std::mem::replace(&mut self.listen, self.api.addr.clone());
        self.spawn();
        self.listen = asked;
    }

    fn stop_for_restart(&mut self) {
        if self.child.is_some() {
            let status = self.sigterm(Duration::from_secs(10));
            assert!(
                status.is_some(),
                "server did not stop on SIGTERM within 10 s"
            );
        }
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
            eprintln!("--- taskcenter log tail ---\n{}", self.log_tail(40));
        }
    }
}
