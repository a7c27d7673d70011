//! Fault injection for the integration tests: a small tmpfs to fill, and
//! child processes (this test binary run again) to kill or starve.
#![allow(dead_code, unreachable_pub)]

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use takhin_log::{Log, LogError};

/// A tmpfs mounted on a temporary directory, unmounted on drop.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `bytes` (a multiple of 4 KiB), or prints why not and
    /// returns `None` (mounting needs root or CAP_SYS_ADMIN; CI runs as root).
    pub fn mount(bytes: u64) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let options = std::ffi::CString::new(format!("size={bytes},mode=0700")).unwrap();
        match rustix::mount::mount(
            "tmpfs",
            dir.path(),
            "tmpfs",
            rustix::mount::MountFlags::empty(),
            Some(options.as_c_str()),
        ) {
            Ok(()) => Some(Tmpfs { dir }),
            Err(error) => {
                println!("SKIPPED: cannot mount a tmpfs ({error}); this test needs root");
                None
            }
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = rustix::mount::unmount(self.dir.path(), rustix::mount::UnmountFlags::DETACH);
    }
}

/// Writes `path` in 4 KiB pages until the file system is full; returns the
/// bytes written. Remove the file to give the space back.
pub fn fill_disk(path: &Path) -> u64 {
    let mut file = File::create(path).unwrap();
    let page = [0xaau8; 4096];
    let mut written = 0;
    loop {
        match file.write(&page) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.kind() == ErrorKind::StorageFull => break,
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    // A last partial page, byte by byte, so that nothing is left.
    while let Ok(1) = file.write(&page[..1]) {
        written += 1;
    }
    written
}

/// Gives one 4 KiB page back to the file system [`fill_disk`] filled.
pub fn free_page(path: &Path) {
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    let len = file.metadata().unwrap().len();
    file.set_len(len.saturating_sub(4096)).unwrap();
}

/// Forty rounds of "append until the full disk refuses, then give one page
/// of `filler` back" on `log`. `append(log, next, count, round)` makes one
/// append of `count` records due at offset `next`; `after_failure` checks the
/// log after each refused one. Asserts that every `Ok` append got the offset
/// it was due, that a refused one left `next_offset` alone, and that both
/// happened often; returns (records kept, appends refused).
pub fn append_on_a_full_disk(
    log: &mut Log,
    filler: &Path,
    mut append: impl FnMut(&mut Log, u64, u64, u64) -> Result<u64, LogError>,
    mut after_failure: impl FnMut(&Log),
) -> (u64, u64) {
    fill_disk(filler);
    let (mut ok, mut failed) = (0u64, 0u64);
    for round in 0..40u64 {
        loop {
            let next = log.next_offset();
            let count = 1 + (next + round) % 4;
            match append(log, next, count, round) {
                Ok(base) => {
                    assert_eq!(base, next);
                    ok += count;
                }
                Err(_) => {
                    failed += 1;
                    assert_eq!(log.next_offset(), next, "a failed append is not committed");
                    after_failure(log);
                    break;
                }
            }
        }
        free_page(filler);
    }
    assert!(
        failed >= 40 && ok > 100,
        "{ok} records kept, {failed} appends failed"
    );
    (ok, failed)
}

/// The environment variable that tells a test it runs as a child.
const CHILD_ENV: &str = "TAKHIN_LOG_TEST_CHILD";

/// In a child started by [`spawn_child`]: the argument it was given.
pub fn child_arg() -> Option<String> {
    std::env::var(CHILD_ENV).ok()
}

/// Runs the test `test` of this same test binary in a child process, with
/// `arg` for [`child_arg`]; stdout is piped, stderr inherited.
pub fn spawn_child(test: &str, arg: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1", "-q"])
        .env(CHILD_ENV, arg)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

pub fn segment_path(dir: &Path, base: u64, suffix: &str) -> PathBuf {
    dir.join(takhin_log::segment_file_name(base, suffix))
}
