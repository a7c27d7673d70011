//! Segment file names: the base offset in 20 zero-padded digits, then the
//! extension, as Kafka names them.

/// Extension of the data file.
pub const LOG_SUFFIX: &str = "log";
/// Extension of the offset index.
pub const INDEX_SUFFIX: &str = "index";
/// Extension of the time index.
pub const TIME_INDEX_SUFFIX: &str = "timeindex";

/// The file name Kafka gives a segment file: the base offset in 20 zero
/// padded digits, then the extension.
///
/// # Examples
///
/// ```
/// assert_eq!(takhin_log::segment_file_name(42, "log"), "00000000000000000042.log");
/// ```
pub fn segment_file_name(base_offset: u64, suffix: &str) -> String {
    format!("{base_offset:020}.{suffix}")
}

/// The base offset a `.log` file name stands for: `None` if `name` is not a
/// data file at all, `Some(Err(()))` if it is one with a bad stem.
pub(crate) fn parse_data_file_name(name: &str) -> Option<Result<u64, ()>> {
    let stem = name
        .strip_suffix(LOG_SUFFIX)
        .and_then(|s| s.strip_suffix('.'))?;
    Some(match stem.parse::<u64>() {
        Ok(base) if stem.len() == 20 => Ok(base),
        _ => Err(()),
    })
}
