//! Rolls that fail half-way (too many open files, index files left over)
//! clean up after themselves, so the next roll succeeds.

mod common;
mod fault;

use std::fs;
use std::os::fd::AsRawFd;

use common::{as_record, check_fetch, fill, owned};
use fault::{child_arg, segment_path, spawn_child};
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
use takhin_log::{Log, LogConfig};

fn config() -> LogConfig {
    LogConfig::default().with_segment_bytes(300)
}

#[test]
fn leftover_index_files_do_not_block_a_roll() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::open(dir.path(), config()).unwrap();
    fill(|r| log.append_batch(r), 0, 3, 3);
    // Index files for the segment the next roll creates, as a crash inside
    // a deletion or a failed roll leaves them.
    fs::write(segment_path(dir.path(), 3, "index"), [7u8; 8]).unwrap();
    fs::write(segment_path(dir.path(), 3, "timeindex"), [7u8; 12]).unwrap();
    log.roll().unwrap();
    fill(|r| log.append_batch(r), 3, 20, 2);
    assert!(log.segments().len() > 2);
    assert_eq!(
        fs::read(segment_path(dir.path(), 3, "index"))
            .unwrap()
            .len()
            % 8,
        0
    );
    drop(log);
    let log = Log::open(dir.path(), config()).unwrap();
    assert_eq!(log.next_offset(), 20);
}

/// Fills every hole below the highest open descriptor and returns the
/// lowest free one: a limit of that plus `n` lets exactly `n` more opens
/// succeed. The handles are kept in `hold`.
fn lowest_free_fd(hold: &mut Vec<fs::File>) -> u64 {
    let top = fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap();
    loop {
        let file = fs::File::open("/dev/null").unwrap();
        let fd = file.as_raw_fd() as u64;
        hold.push(file);
        if fd >= top {
            return fd + 1;
        }
    }
}

/// The child half of the test below: rolls under a descriptor limit that
/// leaves room for `extra` more files, for `extra` in 0..6.
#[test]
fn child_rolls_under_a_low_fd_limit() {
    let Some(dir) = child_arg() else { return };
    // One batch per segment: every append but the first rolls.
    let config = LogConfig::default().with_segment_bytes(1);
    let mut log = Log::open(dir.as_ref(), config).unwrap();
    let normal = getrlimit(Resource::Nofile);
    let mut next = 0;
    let mut failures = 0;
    for extra in 0..6 {
        let mut hold = Vec::new();
        let limit = lowest_free_fd(&mut hold) + extra;
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(limit),
                maximum: normal.maximum,
            },
        )
        .unwrap();
        let o = owned(next);
        let result = log.append(&as_record(&o));
        setrlimit(Resource::Nofile, normal).unwrap();
        drop(hold);
        match result {
            Ok(offset) => {
                assert_eq!(offset, next);
                next += 1;
            }
            Err(error) => {
                println!("extra {extra}: {error}");
                failures += 1;
                assert_eq!(log.next_offset(), next);
            }
        }
        // With descriptors back, the roll works again.
        let o = owned(next);
        assert_eq!(log.append(&as_record(&o)).unwrap(), next, "extra {extra}");
        next += 1;
    }
    assert!(failures >= 2, "{failures} rolls failed");
    log.flush().unwrap();
    println!("next {next}");
}

#[test]
fn a_roll_that_runs_out_of_descriptors_cleans_up_and_the_next_one_works() {
    let dir = tempfile::tempdir().unwrap();
    let child = spawn_child(
        "child_rolls_under_a_low_fd_limit",
        dir.path().to_str().unwrap(),
    );
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed: {stdout}");
    let next: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("next "))
        .expect("the child reports its next offset")
        .parse()
        .unwrap();
    let log = Log::open(dir.path(), LogConfig::default()).unwrap();
    assert_eq!(log.next_offset(), next);
    let mut seen = Vec::new();
    while (seen.len() as u64) < next {
        seen.extend(check_fetch(
            &log.read_range(seen.len() as u64, usize::MAX).unwrap(),
        ));
    }
    assert_eq!(seen, (0..next).collect::<Vec<_>>());
}
