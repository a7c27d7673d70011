//! Zigzag varints as Kafka writes them inside v2 records (protobuf style,
//! least significant group first). Decoding checks every byte it reads.

use crate::DecodeError;

/// Longest encoding of a zigzag `i32`.
pub(crate) const MAX_VARINT_LEN: usize = 5;
/// Longest encoding of a zigzag `i64`.
pub(crate) const MAX_VARLONG_LEN: usize = 10;

/// Bytes `value` takes as a zigzag varlong (varints use the same rule).
pub(crate) fn varlong_len(value: i64) -> usize {
    let mut v = zigzag(value);
    let mut len = 1;
    while v >= 0x80 {
        v >>= 7;
        len += 1;
    }
    len
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// Writes `value` at the start of `out` and returns the bytes written.
///
/// The caller sized `out` with [`varlong_len`], so the slice indexing below
/// cannot go out of bounds.
pub(crate) fn put_varlong(out: &mut [u8], value: i64) -> usize {
    let mut v = zigzag(value);
    let mut i = 0;
    while v >= 0x80 {
        out[i] = (v as u8 & 0x7f) | 0x80;
        v >>= 7;
        i += 1;
    }
    out[i] = v as u8;
    i + 1
}

/// Reads a zigzag varlong from the front of `input`: (value, bytes read).
pub(crate) fn get_varlong(input: &[u8]) -> Result<(i64, usize), DecodeError> {
    get_raw(input, MAX_VARLONG_LEN).map(|(raw, n)| (unzigzag(raw), n))
}

/// Reads a zigzag varint (at most 5 bytes, value in `i32` range).
pub(crate) fn get_varint(input: &[u8]) -> Result<(i32, usize), DecodeError> {
    let (raw, n) = get_raw(input, MAX_VARINT_LEN)?;
    if raw > u64::from(u32::MAX) {
        return Err(DecodeError::VarintTooLong {
            max_bytes: MAX_VARINT_LEN,
        });
    }
    // A zigzag value below 2^32 always decodes into the i32 range.
    Ok((unzigzag(raw) as i32, n))
}

fn unzigzag(raw: u64) -> i64 {
    ((raw >> 1) as i64) ^ -((raw & 1) as i64)
}

fn get_raw(input: &[u8], max_bytes: usize) -> Result<(u64, usize), DecodeError> {
    let mut value = 0u64;
    for i in 0..max_bytes {
        let Some(&byte) = input.get(i) else {
            return Err(DecodeError::Truncated {
                needed: i + 1,
                available: input.len(),
            });
        };
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(DecodeError::VarintTooLong { max_bytes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_encodings() {
        // From the Kafka protocol guide: zigzag maps 0,-1,1,-2,2 to 0,1,2,3,4.
        let cases: [(i64, &[u8]); 6] = [
            (0, &[0x00]),
            (-1, &[0x01]),
            (1, &[0x02]),
            (63, &[0x7e]),
            (64, &[0x80, 0x01]),
            (-65, &[0x81, 0x01]),
        ];
        for (value, bytes) in cases {
            let mut out = [0u8; MAX_VARLONG_LEN];
            let n = put_varlong(&mut out, value);
            assert_eq!(&out[..n], bytes, "encoding {value}");
            assert_eq!(varlong_len(value), n);
            assert_eq!(get_varlong(bytes).unwrap(), (value, n));
        }
    }

    #[test]
    fn rejects_overlong_and_truncated() {
        assert_eq!(
            get_varint(&[0xff; 6]).unwrap_err(),
            DecodeError::VarintTooLong { max_bytes: 5 }
        );
        // Five bytes whose value exceeds u32 is not an i32 varint.
        assert_eq!(
            get_varint(&[0xff, 0xff, 0xff, 0xff, 0x7f]).unwrap_err(),
            DecodeError::VarintTooLong { max_bytes: 5 }
        );
        assert_eq!(
            get_varlong(&[0xff; 11]).unwrap_err(),
            DecodeError::VarintTooLong { max_bytes: 10 }
        );
        assert_eq!(
            get_varlong(&[0x80]).unwrap_err(),
            DecodeError::Truncated {
                needed: 2,
                available: 1
            }
        );
    }

    proptest! {
        #[test]
        fn varlong_round_trips(value in any::<i64>()) {
            let mut out = [0u8; MAX_VARLONG_LEN];
            let n = put_varlong(&mut out, value);
            prop_assert_eq!(n, varlong_len(value));
            prop_assert_eq!(get_varlong(&out[..n]).unwrap(), (value, n));
        }

        #[test]
        fn varint_round_trips(value in any::<i32>()) {
            let mut out = [0u8; MAX_VARLONG_LEN];
            let n = put_varlong(&mut out, i64::from(value));
            prop_assert!(n <= MAX_VARINT_LEN);
            prop_assert_eq!(get_varint(&out[..n]).unwrap(), (value, n));
        }
    }
}
