//! The directory lock: one writable `Log` per directory, across threads and
//! processes; a second writable open fails and repairs nothing.

mod common;
mod fault;

use std::io::{BufRead, BufReader, Write};

use common::{check_fetch, fill};
use fault::{child_arg, spawn_child};
use takhin_log::{Log, LogConfig, LogError};

#[test]
fn a_second_open_while_a_writer_runs_fails_and_cuts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = Log::open(dir.path(), LogConfig::default()).unwrap();
    for round in 0..10u64 {
        fill(|r| writer.append_batch(r), round * 3, round * 3 + 3, 3);
        writer.flush().unwrap();
        // A torn-looking tail would be cut by a second writer's recovery.
        assert!(
            matches!(
                Log::open(dir.path(), LogConfig::default()),
                Err(LogError::Locked { .. })
            ),
            "round {round}"
        );
    }
    assert_eq!(writer.next_offset(), 30);
    drop(writer);
    let log = Log::open(dir.path(), LogConfig::default()).unwrap();
    assert_eq!(
        check_fetch(&log.read_range(0, usize::MAX).unwrap()),
        (0..30).collect::<Vec<_>>()
    );
}

/// The child half of the test below: holds the log open until stdin closes.
#[test]
fn child_holds_the_log() {
    let Some(dir) = child_arg() else { return };
    let mut log = Log::open(dir.as_ref(), LogConfig::default()).unwrap();
    fill(|r| log.append_batch(r), 0, 10, 5);
    log.flush().unwrap();
    println!("ready");
    std::io::stdout().flush().unwrap();
    std::thread::sleep(std::time::Duration::from_secs(30));
}

#[test]
fn a_second_process_cannot_open_the_log_a_first_one_holds() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_child("child_holds_the_log", dir.path().to_str().unwrap());
    // The test harness prints its own lines first.
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let ready = stdout
        .lines()
        .map_while(Result::ok)
        .any(|line| line == "ready");
    assert!(ready, "the child opened the log");
    let second = Log::open(dir.path(), LogConfig::default());
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        matches!(second, Err(LogError::Locked { .. })),
        "the child holds the lock"
    );
    // Killed, the child holds nothing: the lock goes with the process.
    let log = Log::open(dir.path(), LogConfig::default()).unwrap();
    assert_eq!(log.next_offset(), 10);
}
