//! Harness of the client-library and CLI tests: runs the real `taskcenter` binary on a
//! free port with its own data directory, restarts it on the same port, runs CLI commands.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const BIN: &str = env!("CARGO_BIN_EXE_taskcenter");

/// A running `taskcenter serve`; killed and its data removed on drop.
pub struct TestServer {
    child: Option<Child>,
    pub addr: String,
    pub root: PathBuf,
    extra: Vec<String>,
    log: Arc<Mutex<Vec<String>>>,
}

impl TestServer {
    /// Starts a server on a free port with a fresh data directory and `extra` flags.
    pub fn start(extra: &[&str]) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let root = std::env::temp_dir().join(format!(
            "tc-client-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst),
            now_ms()
        ));
        std::fs::create_dir_all(&root).expect("create test dir");
        let mut server = Self {
            child: None,
            addr: "127.0.0.1:0".into(),
            root,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            log: Arc::new(Mutex::new(Vec::new())),
        };
        server.spawn();
        server
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn spawn(&mut self) {
        let data = self.root.join("data");
        let mut child = command()
            .args(["serve", "--listen", &self.addr, "--data-dir"])
            .arg(&data)
            .args(&self.extra)
            .env("RUST_LOG", "info") // the ready line is an info line
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn taskcenter serve");
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        let log = self.log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                    let _ = tx.send(addr);
                }
                log.lock().expect("log").push(line);
            }
        });
        let Ok(addr) = rx.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("server not ready:\n{}", self.log_text());
        };
        self.addr = addr;
        self.child = Some(child);
    }

    /// `kill -9`, then wait for the exit.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then wait for the exit (panics after 15 s).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(child.id(), "TERM");
            let deadline = Instant::now() + Duration::from_secs(15);
            while child.try_wait().expect("try_wait").is_none() {
                assert!(Instant::now() < deadline, "server ignored SIGTERM");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Starts the stopped server again on the same port and data directory.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "stop the server first");
        self.spawn();
    }

    pub fn log_text(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    /// Runs the CLI against this server; `args` come before `--server URL`.
    pub fn cli(&self, args: &[&str]) -> Cli {
        let mut all: Vec<&str> = args.to_vec();
        let url = self.url();
        all.extend(["--server", url.as_str()]);
        run_cli(&all)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
        if std::thread::panicking() {
            eprintln!("--- server log ---\n{}", self.log_text());
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The binary, with no `TASKCENTER_*` variable of the environment and times in UTC.
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

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([format!("-{sig}"), pid.to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill -{sig} {pid} failed");
}

/// What a CLI run printed and how it exited.
#[derive(Debug)]
pub struct Cli {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Cli {
    /// Asserts exit 0 and answers stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "command failed: {self:?}");
        &self.stdout
    }

    /// Asserts exit 0 and parses stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
}

/// Runs the CLI with `args`.
pub fn run_cli(args: &[&str]) -> Cli {
    run_cli_with(command().args(args))
}

pub fn run_cli_with(cmd: &mut Command) -> Cli {
    let out: Output = cmd.output().expect("run taskcenter");
    Cli {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Shows the client library's logs in test output when `RUST_LOG` is set
/// (e.g. `RUST_LOG=taskcenter_client=debug`).
pub fn logs() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .try_init();
    }
}

/// A consumer configuration for tests: short long-polls and quick backoff.
pub fn consumer_config(server: &TestServer, group: &str) -> taskcenter_client::Config {
    taskcenter_client::Config::new(server.url())
        .with_group(group)
        .with_poll_wait(Duration::from_secs(2))
        .with_backoff(Duration::from_millis(50), Duration::from_millis(300))
}

/// The delivery states of a task's fires, newest first.
pub async fn states(api: &taskcenter_client::ApiClient, taskid: &str) -> Vec<String> {
    let h = api.history(taskid, None).await.expect("history");
    h.fires.into_iter().map(|f| f.state).collect()
}

/// Whether `text` is a task id: 24 hex characters.
pub fn is_id(text: &str) -> bool {
    text.len() == 24 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// Polls `check` every 50 ms until it holds or `within` passes.
pub async fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
