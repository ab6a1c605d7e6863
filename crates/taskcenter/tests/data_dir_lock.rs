//! One `taskcenter serve` per data directory: a second one on the same `--data-dir`
//! exits non-zero, naming the pid of the one that holds it.

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn a_second_serve_on_one_data_dir_exits_naming_the_holder() {
    // The embedded store, whatever store the suite runs on: the lock is its own.
    let server = Server::start(&["--store", "sqlite:"]);
    let data_dir = server.data_dir.display().to_string();
    let mut second = command()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", &data_dir])
        .args(["--store", "sqlite:"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the second serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = second.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            let _ = second.wait();
            panic!("the second serve did not exit within 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    second
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    assert!(!status.success(), "the second serve must fail: {status}");
    assert!(
        stderr.contains(&format!("pid {}", server.pid())),
        "stderr names the holder's pid {}:\n{stderr}",
        server.pid()
    );
    let (code, _) = server.get("/healthz");
    assert_eq!(code, 200, "the first server runs on");
}
