//! Shared by the integration tests: the broker binary as a child process on
//! an ephemeral loopback port, and the Python venv with the Kafka clients.

#![allow(dead_code, unreachable_pub)]

pub mod kafka;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

/// The venv's python: `$TAKHIN_KAFKA_PYTHON` (set by `.ci/run`), else
/// `target/kafka-venv/bin/python`. `None` (the test skips, printing why)
/// when neither exists, except under `CI=true`, where that fails the test.
pub fn python() -> Option<PathBuf> {
    let path = std::env::var_os("TAKHIN_KAFKA_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/kafka-venv/bin/python")
        });
    if path.exists() {
        return Some(path);
    }
    let why = format!(
        "no Kafka client venv at {} (create it with the venv step of .ci/run, or set TAKHIN_KAFKA_PYTHON)",
        path.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}");
    }
    eprintln!("SKIPPED: {why}");
    None
}

/// The client scripts' directory.
pub fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// A running `takhin-broker`.
pub struct Broker {
    child: Child,
    pub addr: SocketAddr,
    pub metrics: Option<SocketAddr>,
    lines: mpsc::Receiver<String>,
}

impl Broker {
    /// Starts the binary on `127.0.0.1:0` over `data_dir` with `extra`
    /// arguments and waits (at most 30 s) for its "listening on" line.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Broker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_takhin-broker"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .expect("start takhin-broker");
        let stdout = child.stdout.take().expect("piped");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut metrics = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = lines.recv_timeout(left) else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the broker did not print its address within 30 s");
            };
            if let Some(url) = line.strip_prefix("takhin-broker: metrics on http://") {
                metrics = Some(
                    url.trim_end_matches("/metrics")
                        .parse()
                        .expect("metrics address"),
                );
            }
            if let Some(addr) = line.strip_prefix("takhin-broker: listening on ") {
                let addr = addr.parse().expect("an address");
                return Broker {
                    child,
                    addr,
                    metrics,
                    lines,
                };
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`TERM`, `INT`, `KILL`) and waits at most 30 s.
    pub fn stop(mut self, signal: &str) -> (ExitStatus, Vec<String>) {
        let signal = match signal {
            "TERM" => Signal::TERM,
            "INT" => Signal::INT,
            "KILL" => Signal::KILL,
            other => panic!("unknown signal {other}"),
        };
        let pid = Pid::from_raw(self.child.id() as i32).expect("a positive pid");
        rustix::process::kill_process(pid, signal).expect("signal the broker");
        let status =
            wait(&mut self.child, Duration::from_secs(30)).expect("the broker exited within 30 s");
        let lines = self.lines.try_iter().collect();
        (status, lines)
    }

    /// Peak resident set size so far, from /proc.
    pub fn peak_rss_bytes(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc");
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM");
        kib * 1024
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

/// Runs a client script with the venv's python, at most `limit`; panics
/// with its output if it fails.
pub fn run_script(python: &Path, script: &str, args: &[String], limit: Duration) -> String {
    let out_path = tempfile::NamedTempFile::new().expect("temp file");
    let mut child = Command::new(python)
        .arg(scripts().join(script))
        .args(args)
        .current_dir(scripts())
        .stdin(Stdio::null())
        .stdout(out_path.reopen().expect("reopen"))
        .stderr(out_path.reopen().expect("reopen"))
        .spawn()
        .expect("start python");
    let status = wait(&mut child, limit);
    let output = std::fs::read_to_string(out_path.path()).unwrap_or_default();
    match status {
        Some(status) if status.success() => output,
        Some(status) => panic!("{script} {args:?} failed ({status}):\n{output}"),
        None => panic!("{script} {args:?} ran past {limit:?}:\n{output}"),
    }
}

/// A plain HTTP GET of `/metrics`.
pub fn scrape(addr: SocketAddr) -> String {
    use std::io::{Read, Write};
    let mut stream =
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    stream.read_to_string(&mut body).expect("read metrics");
    body
}

/// The sum of every sample of `name` (any labels) in an exposition.
pub fn metric(exposition: &str, name: &str) -> f64 {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with([' ', '{']))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
