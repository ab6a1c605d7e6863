//! One taskcenter server process under test: start it on a data directory, wait until it
//! is ready, read its resident memory, stop it with SIGTERM, and size its data directory.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

use crate::api::Api;

/// How long a start may take before the bench gives up (10 M tasks reopen slowly).
const START_LIMIT: Duration = Duration::from_secs(300);

/// A running `taskcenter serve`.
pub struct Server {
    child: Child,
    /// Base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    bin: PathBuf,
    data_dir: PathBuf,
    log: PathBuf,
}

/// How long a (re)start took.
#[derive(Debug, Clone, Copy)]
pub struct StartTimes {
    /// From spawn until the `listening on` log line.
    pub listening: Duration,
    /// From spawn until `GET /readyz` answered 200.
    pub ready: Duration,
}

impl Server {
    /// Starts `bin serve` on a free loopback port with its store in `data_dir`; its log goes
    /// to `log` (appended). Returns once `/readyz` answers 200.
    pub async fn start(
        bin: &Path,
        data_dir: &Path,
        log: &Path,
    ) -> anyhow::Result<(Self, StartTimes)> {
        Self::start_with(bin, data_dir, log, &[]).await
    }

    /// [`Server::start`] with more `serve` flags (a publisher, its topic).
    pub async fn start_with(
        bin: &Path,
        data_dir: &Path,
        log: &Path,
        extra: &[String],
    ) -> anyhow::Result<(Self, StartTimes)> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let t0 = Instant::now();
        let mut child = Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env_remove("TASKCENTER_CONFIG")
            .env_remove("TASKCENTER_STORE")
            .env_remove("TASKCENTER_AUTH_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stderr = child.stderr.take().context("server stderr")?;
        let (addr_tx, addr_rx) = oneshot::channel();
        tokio::spawn(pump_log(stderr, log.to_path_buf(), addr_tx));
        let addr = tokio::select! {
            addr = addr_rx => addr.ok(),
            _ = tokio::time::sleep(START_LIMIT) => None,
        };
        let Some(addr) = addr else {
            let _ = child.start_kill();
            bail!("server did not log its address; see {}", log.display());
        };
        let listening = t0.elapsed();
        let url = format!("http://{addr}");
        let api = Api::new(&url)?;
        while !api.ready().await {
            if t0.elapsed() > START_LIMIT {
                bail!("server at {url} never became ready; see {}", log.display());
            }
            if let Some(status) = child.try_wait()? {
                bail!("server exited with {status}; see {}", log.display());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let ready = t0.elapsed();
        let server = Self {
            child,
            url,
            bin: bin.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            log: log.to_path_buf(),
        };
        Ok((server, StartTimes { listening, ready }))
    }

    /// The server's process id.
    pub fn pid(&self) -> anyhow::Result<u32> {
        self.child.id().context("server has exited")
    }

    /// Resident memory of the server now, in bytes.
    pub fn rss(&self) -> anyhow::Result<u64> {
        rss_of(self.pid()?)
    }

    /// Sends SIGTERM and waits for the exit; returns how long the graceful stop took.
    pub async fn stop(mut self) -> anyhow::Result<Duration> {
        let pid = self.pid()?;
        let t0 = Instant::now();
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await?;
        if !status.success() {
            bail!("kill -TERM {pid} failed");
        }
        match tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await {
            Ok(status) => {
                let status = status?;
                if !status.success() {
                    eprintln!("server exited with {status} after SIGTERM");
                }
                Ok(t0.elapsed())
            }
            Err(_) => {
                let _ = self.child.kill().await;
                bail!("server did not stop within 60 s of SIGTERM")
            }
        }
    }

    /// Stops the server gracefully and starts it again on the same data directory.
    pub async fn restart(self) -> anyhow::Result<(Self, Duration, StartTimes)> {
        let (bin, data_dir, log) = (self.bin.clone(), self.data_dir.clone(), self.log.clone());
        let stopped = self.stop().await?;
        let (server, times) = Self::start(&bin, &data_dir, &log).await?;
        Ok((server, stopped, times))
    }
}

/// Copies the server's stderr to `log` and reports the address of its `listening on` line.
async fn pump_log(
    stderr: tokio::process::ChildStderr,
    log: PathBuf,
    addr_tx: oneshot::Sender<String>,
) {
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .await
        .ok();
    let mut addr_tx = Some(addr_tx);
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(rest) = line.split("listening on ").nth(1)
            && let Some(tx) = addr_tx.take()
        {
            let addr: String = rest.split_whitespace().next().unwrap_or_default().into();
            let _ = tx.send(addr);
        }
        if let Some(f) = file.as_mut() {
            let _ = f.write_all(format!("{line}\n").as_bytes()).await;
        }
    }
}

/// `VmRSS` of a process, in bytes.
pub fn rss_of(pid: u32) -> anyhow::Result<u64> {
    status_field(pid, "VmRSS:")
}

/// `VmHWM` (peak resident memory) of a process, in bytes.
pub fn peak_rss_of(pid: u32) -> anyhow::Result<u64> {
    status_field(pid, "VmHWM:")
}

fn status_field(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?;
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .context("malformed status line")?
        .parse()?;
    Ok(kib * 1024)
}

/// Bytes of all files under `dir` (their lengths), recursively.
pub fn dir_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
