//! Runs the CLI the way a shell script would and captures what it printed.

use std::process::{Command, Output};

use super::{Server, command};

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

/// Runs a prepared command of the binary (extra environment, stdin, …).
pub fn run_cli_with(cmd: &mut Command) -> Cli {
    let out: Output = cmd.output().expect("run taskcenter");
    Cli {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Server {
    /// Runs the CLI against this server; `args` come before `--server URL`.
    pub fn cli(&self, args: &[&str]) -> Cli {
        let url = self.base_url();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--server", url.as_str()]);
        run_cli(&all)
    }
}
