//! kill -9 of a writer process mid-append, many times over: nothing it
//! acknowledged is lost, a torn tail is cut, and the log goes on.

mod common;
mod fault;

use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

use common::{as_record, check_fetch, owned};
use fault::{child_arg, spawn_child};
use takhin_log::{Log, LogConfig, Record};

/// 50 kills: each lands at a different point of the append loop (between
/// or inside writes, index entries, rolls), which is enough to see every
/// kind of state a few times; a kill costs about 5 ms here (a process start
/// and a reopen), so the loop stays far below a second on CI's 2 cores.
const KILLS: u64 = 50;
/// The whole test stops after this, whatever happens.
const DEADLINE: Duration = Duration::from_secs(60);

fn config() -> LogConfig {
    // Small segments and a dense index, so that kills land in rolls and
    // index writes too.
    LogConfig::default()
        .with_segment_bytes(4096)
        .with_index_interval_bytes(200)
}

/// The child half: appends batches of 1 to 5 records until killed, and
/// prints `acked N` after each append that returned, N being its next
/// offset. Every 8th batch is flushed.
#[test]
fn child_appends_until_killed() {
    let Some(dir) = child_arg() else { return };
    let mut log = Log::open(dir.as_ref(), config()).unwrap();
    let mut stdout = std::io::stdout().lock();
    for batch in 0u64.. {
        let next = log.next_offset();
        let owned: Vec<_> = (next..next + 1 + batch % 5).map(owned).collect();
        let records: Vec<Record<'_>> = owned.iter().map(as_record).collect();
        log.append_batch(&records).unwrap();
        if batch % 8 == 7 {
            log.flush().unwrap();
        }
        writeln!(stdout, "acked {}", log.next_offset()).unwrap();
        stdout.flush().unwrap();
    }
}

#[test]
fn kill_9_mid_append_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let start = Instant::now();
    let (mut acked, mut torn) = (0, 0);
    for kill in 0..KILLS {
        assert!(start.elapsed() < DEADLINE, "{kill} kills in {DEADLINE:?}");
        let mut child = spawn_child("child_appends_until_killed", path);
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Let it append a varying number of batches, then kill it mid-loop.
        let wait_for = 1 + (kill * 7) % 23;
        let mut seen = 0;
        while seen < wait_for {
            let line = lines
                .next()
                .expect("the child exits only when killed")
                .unwrap();
            if let Some(n) = line.strip_prefix("acked ") {
                acked = n.parse().unwrap();
                seen += 1;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // What it printed before it died was acknowledged too.
        for line in lines {
            if let Some(n) = line.unwrap().strip_prefix("acked ") {
                acked = n.parse().unwrap();
            }
        }

        let log = Log::open(dir.path(), config()).unwrap();
        let end = log.next_offset();
        // Appended but killed before it printed: allowed, never fewer.
        assert!(
            end >= acked,
            "kill {kill}: {end} records, {acked} acknowledged"
        );
        torn += u64::from(log.segments().last().unwrap().recovery().truncated_bytes > 0);
        let mut seen = Vec::new();
        while (seen.len() as u64) < end {
            seen.extend(check_fetch(
                &log.read_range(seen.len() as u64, usize::MAX).unwrap(),
            ));
        }
        assert_eq!(seen, (0..end).collect::<Vec<_>>(), "kill {kill}");
        acked = end;
    }
    println!(
        "{KILLS} kills, {acked} records, {torn} torn tails cut, {:?}",
        start.elapsed()
    );
    // And the log goes on.
    let mut log = Log::open(dir.path(), config()).unwrap();
    let o = owned(acked);
    assert_eq!(log.append(&as_record(&o)).unwrap(), acked);
}
