//! PutMedia's documented quotas (with `[streams.quotas] enabled`): at most 5 PutMedia calls a
//! second per stream (`ClientLimitExceededException` beyond), and 12.5 MB a second of media
//! per connection, held to by reading the body more slowly, as a TCP peer would feel it.
//! Unverified: that the data rate is met by back-pressure rather than an error, and that MB
//! is 10^6 bytes.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

/// PutMedia calls a stream takes in any second.
pub const CALLS_PER_SECOND: usize = 5;
/// Media bytes a connection sends in a second.
pub const BYTES_PER_SECOND: u64 = 12_500_000;

/// The recent PutMedia calls of each stream (by name and creation time).
#[derive(Debug, Default)]
pub(crate) struct CallRate(Mutex<HashMap<(String, i64), VecDeque<Instant>>>);

impl CallRate {
    /// Counts a call on `stream` at `now`; false when it is one too many for the second.
    pub(crate) fn admit(&self, stream: &(String, i64), now: Instant) -> bool {
        let mut calls = self.0.lock();
        // Streams without a call this second are forgotten, so the map stays small.
        calls.retain(|_, times| {
            while times
                .front()
                .is_some_and(|time| now.duration_since(*time) >= Duration::from_secs(1))
            {
                times.pop_front();
            }
            !times.is_empty()
        });
        let times = calls.entry(stream.clone()).or_default();
        if times.len() >= CALLS_PER_SECOND {
            return false;
        }
        times.push_back(now);
        true
    }
}

/// A connection's data-rate budget: a token bucket holding one second of bytes.
#[derive(Debug)]
pub(crate) struct DataRate {
    bytes_per_second: u64,
    /// Bytes the connection may still send without waiting.
    credit: f64,
    updated: Instant,
}

impl DataRate {
    pub(crate) fn new(bytes_per_second: u64, now: Instant) -> DataRate {
        DataRate {
            bytes_per_second,
            #[allow(clippy::cast_precision_loss)]
            credit: bytes_per_second as f64,
            updated: now,
        }
    }

    /// Takes `bytes` from the budget at `now`; how long to wait before reading more.
    pub(crate) fn take(&mut self, bytes: usize, now: Instant) -> Duration {
        #[allow(clippy::cast_precision_loss)]
        let rate = self.bytes_per_second as f64;
        let elapsed = now.duration_since(self.updated).as_secs_f64();
        self.updated = now;
        #[allow(clippy::cast_precision_loss)]
        let spent = bytes as f64;
        self.credit = (self.credit + elapsed * rate).min(rate) - spent;
        if self.credit >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.credit / rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_calls_a_second_per_stream() {
        let rate = CallRate::default();
        let now = Instant::now();
        let stream = ("cam".to_owned(), 1);
        for _ in 0..CALLS_PER_SECOND {
            assert!(rate.admit(&stream, now));
        }
        assert!(!rate.admit(&stream, now + Duration::from_millis(999)));
        assert!(rate.admit(&("other".to_owned(), 1), now));
        assert!(rate.admit(&stream, now + Duration::from_secs(1)));
    }

    #[test]
    fn the_data_rate_allows_a_second_of_burst_then_paces() {
        let now = Instant::now();
        let mut rate = DataRate::new(1_000, now);
        assert_eq!(rate.take(1_000, now), Duration::ZERO);
        assert_eq!(rate.take(500, now), Duration::from_millis(500));
        // Half a second later the debt is paid; the credit is back to zero.
        assert_eq!(
            rate.take(0, now + Duration::from_millis(500)),
            Duration::ZERO
        );
        assert_eq!(
            rate.take(250, now + Duration::from_millis(500)),
            Duration::from_millis(250)
        );
    }
}
