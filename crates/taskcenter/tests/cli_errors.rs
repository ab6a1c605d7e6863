//! The CLI's failures: non-zero exit codes with the server's message, usage errors, an
//! unreachable server; and the server taken from the environment, and `--help`.

mod common;

use common::{Server, command, is_hex24, run_cli, run_cli_with};

#[test]
fn errors_exit_non_zero_with_the_servers_message() {
    let server = Server::start(&[]);
    let unknown = server.cli(&["get", "0123456789abcdef01234567"]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("not found") && unknown.stderr.contains("404"),
        "{unknown:?}"
    );
    assert!(unknown.stdout.is_empty());
    let bad = server.cli(&["add", "--name", "has space", "--data", "x"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("name contains ' '"), "{bad:?}");
    let bad_cron = server.cli(&["add", "--name", "c", "--cron", "0 0 31 2 *"]);
    assert_eq!(bad_cron.code, 1);
    assert!(
        bad_cron.stderr.contains("crontab") || bad_cron.stderr.contains("never"),
        "{bad_cron:?}"
    );
    let ms = server.cli(&["add", "--name", "c", "--every", "500ms"]);
    assert!(
        ms.code == 1 && ms.stderr.contains("whole seconds"),
        "{ms:?}"
    );
    let when = server.cli(&["add", "--name", "c", "--at", "next tuesday"]);
    assert!(
        when.code == 1 && when.stderr.contains("RFC 3339"),
        "{when:?}"
    );

    // bad usage is exit 2, with clap's explanation
    let usage = run_cli(&["add", "--data", "x"]);
    assert_eq!(usage.code, 2);
    assert!(usage.stderr.contains("--name"), "{usage:?}");
    assert_eq!(
        run_cli(&["add", "--name", "x", "--in", "1m", "--at", "0"]).code,
        2
    );
    assert_eq!(
        run_cli(&["add", "--name", "x", "--tz", "UTC"]).code,
        2,
        "--tz needs --cron"
    );

    // nobody there
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let down = run_cli(&["ls", "--server", &format!("http://127.0.0.1:{port}")]);
    assert_eq!(down.code, 1);
    assert!(down.stderr.contains("cannot reach the server"), "{down:?}");
    let url = run_cli(&["ls", "--server", "localhost:8081"]);
    assert!(
        url.code == 1 && url.stderr.contains("bad server url"),
        "{url:?}"
    );
}

#[test]
fn server_from_the_environment_and_help() {
    let server = Server::start(&[]);
    let out = run_cli_with(
        command()
            .env("TASKCENTER_SERVER", server.base_url())
            .args(["add", "--name", "env.t"]),
    );
    assert!(is_hex24(out.ok().trim()), "{out:?}");
    let help = run_cli(&["--help"]);
    assert!(
        help.ok().contains("Examples:") && help.stdout.contains("dlq"),
        "{help:?}"
    );
    for cmd in [
        "add", "get", "ls", "rm", "pause", "resume", "trigger", "history", "preview", "update",
        "dlq",
    ] {
        let h = run_cli(&[cmd, "--help"]);
        assert_eq!(h.code, 0, "{cmd} --help: {h:?}");
        if cmd != "dlq" {
            assert!(
                h.stdout.contains("--server") && h.stdout.contains("--json"),
                "{cmd}: {}",
                h.stdout
            );
        }
    }
}
