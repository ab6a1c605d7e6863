//! A real headless Chromium for the dashboard tests, driven over the DevTools protocol:
//! load a page, run script in it (click, type, read the DOM), wait for a condition, take a
//! screenshot. The protocol runs on a WebSocket; the few lines of client it needs (text
//! frames, masked from the client, unmasked and maybe fragmented from the browser) are
//! here, over a plain `TcpStream`, so the tests need no extra crate.
//!
//! Chromium is Debian's `chromium` package (`scripts/test.sh` installs it when missing). A
//! machine without it fails these tests rather than skipping them.
#![allow(dead_code)] // each test file uses its own part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The flags a closed network needs: no background requests to Google, no GPU, no sandbox
/// (tests run as root).
pub const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// The browser: `$CHROMIUM`, else `chromium` on the `PATH`. Missing is a failure, not a skip.
pub fn chromium() -> PathBuf {
    let found = match std::env::var_os("CHROMIUM") {
        Some(path) => Some(PathBuf::from(path)).filter(|p| p.is_file()),
        None => {
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path)
                .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
                .find(|candidate| candidate.is_file())
        }
    };
    found.unwrap_or_else(|| {
        panic!(
            "chromium is not installed: the dashboard tests need a real headless browser. \
             Install Debian's package (`apt-get install -y chromium`; scripts/test.sh does \
             it) or point CHROMIUM at a Chromium binary."
        )
    })
}

/// Where screenshots go: `$TASKCENTER_SCREENSHOTS`, else `target/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("TASKCENTER_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots"));
    std::fs::create_dir_all(&dir).expect("create the screenshot dir");
    dir
}

/// One browser with one page; killed on drop.
pub struct Browser {
    child: Child,
    ws: WebSocket,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    /// Opens `url` in a fresh headless Chromium whose page is `width`×`height` CSS pixels.
    pub fn open(url: &str, width: u32, height: u32) -> Browser {
        let profile = tempfile::Builder::new()
            .prefix("taskcenter-chromium-")
            .tempdir()
            .expect("create the chromium profile dir");
        let mut child = Command::new(chromium())
            .args(CHROMIUM_FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--remote-debugging-port=0")
            .arg(format!("--window-size={width},{height}"))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        let stderr = child.stderr.take().expect("chromium stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("ws://") {
                    let _ = tx.send(line[at..].trim().to_string());
                }
            }
        });
        let browser_ws = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("chromium announces its DevTools address within 60 s");
        let host = browser_ws
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .expect("host in the DevTools address")
            .to_string();
        let page = page_target(&host);
        let mut browser = Browser {
            child,
            ws: WebSocket::connect(&host, &page),
            next_id: 0,
            _profile: profile,
        };
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        browser.call("Page.enable", json!({}));
        browser.navigate(url);
        browser
    }

    /// Loads `url` and waits until its scripts ran.
    pub fn navigate(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
        self.wait_for(
            "document.readyState === 'complete' && window.TC !== undefined",
            "the page to load",
        );
    }

    /// Sends one DevTools command and answers its result; an error answer panics.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({"id": id, "method": method, "params": params});
        self.ws.send(&message.to_string());
        loop {
            let text = self.ws.receive();
            let answer: Value = serde_json::from_str(&text).expect("DevTools sends JSON");
            if answer["id"].as_u64() != Some(id) {
                continue; // an event
            }
            if let Some(error) = answer.get("error") {
                panic!("{method} failed: {error}");
            }
            return answer["result"].clone();
        }
    }

    /// Runs `script` (an expression; a promise is awaited) in the page and answers its value.
    pub fn eval(&mut self, script: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": script, "awaitPromise": true, "returnByValue": true}),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("script failed: {exception}\n{script}");
        }
        result["result"]["value"].clone()
    }

    /// Waits up to 20 s for `condition` (an expression) to be truthy in the page, and
    /// answers its value.
    pub fn wait_for(&mut self, condition: &str, what: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let value = self.eval(&format!(
                "(() => {{ try {{ return {condition}; }} catch (_) {{ return null; }} }})()"
            ));
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}: {condition}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks the element with this `data-testid` (the first, or the one matching
    /// `extra`, a CSS attribute selector such as `[data-msgid="3"]`).
    pub fn click(&mut self, testid: &str, extra: &str) {
        let selector = format!("[data-testid=\"{testid}\"]{extra}");
        let found = self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); if (!e) return false; e.click(); return true; }})()",
            sel = json!(selector)
        ));
        assert_eq!(found, Value::Bool(true), "no element {selector} to click");
    }

    /// Sets a form field's value as typing would (an `input` event, and `change` for selects).
    pub fn fill(&mut self, testid: &str, value: &str) {
        let selector = format!("[data-testid=\"{testid}\"]");
        let found = self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); if (!e) return false; \
             e.value = {value}; e.dispatchEvent(new Event('input', {{bubbles: true}})); \
             e.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})()",
            sel = json!(selector),
            value = json!(value)
        ));
        assert_eq!(found, Value::Bool(true), "no field {selector} to fill");
    }

    /// The text of the element with this `data-testid`.
    pub fn text(&mut self, testid: &str) -> String {
        let value = self.eval(&format!(
            "(() => {{ const e = document.querySelector('[data-testid=\"{testid}\"]'); return e ? e.textContent : null; }})()"
        ));
        value.as_str().unwrap_or_default().to_string()
    }

    /// Saves a PNG of the page as shown to `name` in [`screenshot_dir`]; answers its path.
    pub fn screenshot(&mut self, name: &str) -> PathBuf {
        let result = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let data = result["data"].as_str().expect("screenshot data");
        let png = base64_decode(data);
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
        let path = screenshot_dir().join(name);
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// Whether two elements of the page overlap: every pair of visible elements matched
    /// by `selector` whose boxes intersect, as `"text a" / "text b"` strings.
    pub fn overlaps(&mut self, selector: &str) -> Vec<String> {
        let found = self.eval(&format!(
            "(() => {{ const els = [...document.querySelectorAll({sel})].filter((e) => e.getClientRects().length && e.textContent.trim()); \
             const out = []; \
             for (let i = 0; i < els.length; i++) for (let j = i + 1; j < els.length; j++) {{ \
               const a = els[i].getBoundingClientRect(); const b = els[j].getBoundingClientRect(); \
               if (els[i].contains(els[j]) || els[j].contains(els[i])) continue; \
               if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) \
                 out.push(JSON.stringify(els[i].textContent.trim().slice(0, 40)) + ' / ' + JSON.stringify(els[j].textContent.trim().slice(0, 40))); \
             }} return out; }})()",
            sel = json!(selector)
        ));
        found
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The first page target of the browser at `host`, as a WebSocket path.
fn page_target(host: &str) -> String {
    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let targets: Value = http
            .get(format!("http://{host}/json/list"))
            .send()
            .and_then(|r| r.json())
            .unwrap_or(Value::Null);
        let page = targets.as_array().and_then(|list| {
            list.iter()
                .find(|t| t["type"] == "page")
                .and_then(|t| t["webSocketDebuggerUrl"].as_str())
                .map(String::from)
        });
        if let Some(url) = page {
            let path = url.splitn(4, '/').nth(3).expect("path in the page address");
            return format!("/{path}");
        }
        assert!(Instant::now() < deadline, "chromium opened no page");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A WebSocket client of text messages, enough for the DevTools protocol.
struct WebSocket {
    stream: TcpStream,
}

impl WebSocket {
    fn connect(host: &str, path: &str) -> WebSocket {
        let mut stream = TcpStream::connect(host).expect("connect to DevTools");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("read timeout");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .expect("send the upgrade");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream
                .read_exact(&mut byte)
                .expect("read the upgrade answer");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(
            head.starts_with("HTTP/1.1 101"),
            "no WebSocket upgrade: {head}"
        );
        WebSocket { stream }
    }

    /// Sends one text frame, masked as a client must.
    fn send(&mut self, text: &str) {
        let payload = text.as_bytes();
        let mut frame = vec![0x81];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= 0xffff => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let mask = [0x5a, 0x17, 0xc3, 0x8e];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).expect("send a frame");
    }

    /// Receives one whole text message (joining fragments).
    fn receive(&mut self) -> String {
        let mut message = Vec::new();
        loop {
            let mut head = [0u8; 2];
            self.stream.read_exact(&mut head).expect("read a frame");
            let fin = head[0] & 0x80 != 0;
            let opcode = head[0] & 0x0f;
            let len = match head[1] & 0x7f {
                126 => {
                    let mut b = [0u8; 2];
                    self.stream.read_exact(&mut b).expect("read a length");
                    u64::from(u16::from_be_bytes(b))
                }
                127 => {
                    let mut b = [0u8; 8];
                    self.stream.read_exact(&mut b).expect("read a length");
                    u64::from_be_bytes(b)
                }
                n => u64::from(n),
            };
            let mut payload = vec![0u8; usize::try_from(len).expect("frame fits in memory")];
            self.stream
                .read_exact(&mut payload)
                .expect("read a payload");
            assert_ne!(opcode, 0x8, "DevTools closed the connection");
            if opcode == 0x9 || opcode == 0xA {
                continue; // ping, pong
            }
            message.extend_from_slice(&payload);
            if fin {
                return String::from_utf8(message).expect("DevTools sends UTF-8");
            }
        }
    }
}

/// Standard base64 (with padding), as DevTools sends screenshots.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let clean: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(clean.len() / 4 * 3);
    for chunk in clean.chunks(4) {
        let data: Vec<u8> = chunk.iter().copied().filter(|c| *c != b'=').collect();
        let mut n = 0u32;
        for (i, c) in data.iter().enumerate() {
            n |= value(*c) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..data.len().max(1)]);
    }
    out
}

#[test]
fn base64_decodes_with_and_without_padding() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("aGk="), b"hi");
    assert_eq!(base64_decode("aGV5"), b"hey");
    assert_eq!(base64_decode("aA=="), b"h");
}
