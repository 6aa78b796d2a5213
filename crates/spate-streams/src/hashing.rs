//! The 128-bit hash key space: partition key hashing and the even split at CreateStream.
//!
//! A record's hash key is the MD5 of its partition key's UTF-8 bytes read as an unsigned
//! big-endian 128-bit integer, or its `ExplicitHashKey`. CreateStream with N shards gives shard i
//! the range `[i*step, (i+1)*step - 1]` with `step = floor(2^128 / N)`, the last shard ending at
//! `2^128 - 1`.

use md5::{Digest, Md5};

/// The hash key of a partition key, given as its UTF-8 bytes.
pub fn partition_key_hash(partition_key: &[u8]) -> u128 {
    let digest: [u8; 16] = Md5::digest(partition_key).into();
    u128::from_be_bytes(digest)
}

/// Parses a decimal hash key; `None` when it is not a number in `[0, 2^128 - 1]`.
pub fn parse_hash_key(text: &str) -> Option<u128> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u128>().ok()
}

/// The inclusive hash ranges of `count` shards splitting the whole key space evenly.
pub fn split_hash_space(count: u32) -> Vec<(u128, u128)> {
    assert!(count > 0, "a stream has at least one shard");
    let count = u128::from(count);
    // floor(2^128 / count) without overflowing: 2^128 = u128::MAX + 1.
    let step = if count == 1 {
        0 // unused: a single shard covers everything
    } else if u128::MAX % count == count - 1 {
        u128::MAX / count + 1
    } else {
        u128::MAX / count
    };
    (0..count)
        .map(|i| {
            let start = i * step;
            let end = if i == count - 1 {
                u128::MAX
            } else {
                (i + 1) * step - 1
            };
            (start, end)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_shards_match_aws_published_ranges() {
        let ranges = split_hash_space(3);
        assert_eq!(ranges[0], (0, 113427455640312821154458202477256070484));
        assert_eq!(
            ranges[1],
            (
                113427455640312821154458202477256070485,
                226854911280625642308916404954512140969
            )
        );
        assert_eq!(
            ranges[2],
            (226854911280625642308916404954512140970, u128::MAX)
        );
    }

    #[test]
    fn power_of_two_counts_split_exactly() {
        let ranges = split_hash_space(4);
        assert_eq!(ranges[1].0, 1u128 << 126);
        assert_eq!(ranges[3], (3u128 << 126, u128::MAX));
        assert_eq!(split_hash_space(1), vec![(0, u128::MAX)]);
    }

    #[test]
    fn ranges_are_contiguous() {
        for count in [1u32, 2, 3, 7, 10, 500] {
            let ranges = split_hash_space(count);
            assert_eq!(ranges.len(), count as usize);
            assert_eq!(ranges[0].0, 0);
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].1 + 1, pair[1].0);
            }
            assert_eq!(ranges[ranges.len() - 1].1, u128::MAX);
        }
    }

    #[test]
    fn md5_hash_of_known_key() {
        // md5("a") = 0cc175b9c0f1b6a831c399e269772661
        assert_eq!(partition_key_hash(b"a"), 0x0cc175b9c0f1b6a831c399e269772661);
    }

    #[test]
    fn hash_keys_are_range_checked() {
        assert_eq!(parse_hash_key("0"), Some(0));
        assert_eq!(parse_hash_key(&u128::MAX.to_string()), Some(u128::MAX));
        assert_eq!(
            parse_hash_key("340282366920938463463374607431768211456"),
            None
        );
        assert_eq!(parse_hash_key("-1"), None);
        assert_eq!(parse_hash_key(""), None);
    }
}
