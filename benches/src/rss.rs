//! Peak resident memory of this process, from `/proc/self/status`.

/// The peak resident set size (`VmHWM`) in bytes, or `None` where
/// `/proc/self/status` is missing (not Linux).
#[must_use]
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    #[test]
    fn peak_rss_is_known_on_linux() {
        if cfg!(target_os = "linux") {
            let peak = super::peak_rss_bytes().expect("VmHWM in /proc/self/status");
            assert!(peak > 0);
        }
    }
}
