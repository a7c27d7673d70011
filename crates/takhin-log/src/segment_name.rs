//! Segment file names: the base offset in 20 zero-padded digits, then the
//! extension, as Kafka names them.

use crate::MAX_OFFSET;

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

/// Which of a segment's three files a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SegmentFile {
    Data,
    Index,
    TimeIndex,
}

/// Reads a file name in a log directory: `None` if it has none of the three
/// segment suffixes (not ours), `Some(Err(()))` if it has one but its stem is
/// not exactly 20 ASCII digits of an offset up to [`MAX_OFFSET`] (a stray or
/// hostile file: `+0000000000000000005.log` must not pass for segment 5).
pub(crate) fn parse_segment_file_name(name: &str) -> Option<Result<(u64, SegmentFile), ()>> {
    let (stem, suffix) = name.rsplit_once('.')?;
    let kind = match suffix {
        LOG_SUFFIX => SegmentFile::Data,
        INDEX_SUFFIX => SegmentFile::Index,
        TIME_INDEX_SUFFIX => SegmentFile::TimeIndex,
        _ => return None,
    };
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Err(()));
    }
    // 20 ASCII digits always parse as a u128.
    let base: u128 = stem.parse().ok()?;
    Some(match u64::try_from(base) {
        Ok(base) if base <= MAX_OFFSET => Ok((base, kind)),
        _ => Err(()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_twenty_ascii_digits_up_to_max_offset_name_a_segment() {
        let ok = |name: &str| parse_segment_file_name(name).and_then(Result::ok);
        assert_eq!(ok("00000000000000000005.log"), Some((5, SegmentFile::Data)));
        assert_eq!(
            ok("09223372036854775807.index"),
            Some((MAX_OFFSET, SegmentFile::Index))
        );
        for bad in [
            "+0000000000000000005.log",
            "-0000000000000000005.log",
            "0000000000000000005.log",
            "000000000000000000005.log",
            "09223372036854775808.log",
            "18446744073709551615.log",
            "99999999999999999999.timeindex",
            "0000000000000000000\u{0661}.log",
            ".log",
        ] {
            assert_eq!(parse_segment_file_name(bad), Some(Err(())), "{bad}");
        }
        for ignored in [
            "recovery-point",
            ".lock",
            "00000000000000000005.log.bak",
            "notes",
        ] {
            assert_eq!(parse_segment_file_name(ignored), None, "{ignored}");
        }
    }
}
