//! The options every workload shares, and the parsers for their typed values (durations such as
//! `10s` or `500ms`, byte sizes such as `100`, `1KiB` or `1MiB`). Pure: no I/O.

use std::time::Duration;

/// The largest record Kinesis accepts (Spate and AWS alike): 10 MiB.
const MAX_RECORD_SIZE: usize = 10 * 1024 * 1024;

/// Options common to the put workloads.
#[derive(Debug, Clone, clap::Args)]
pub struct PutArgs {
    /// The endpoint to drive, e.g. http://127.0.0.1:4567 (plain HTTP).
    #[arg(long)]
    pub endpoint: String,
    /// The stream to write to.
    #[arg(long)]
    pub stream: String,
    /// Create the stream with this many shards if it does not exist, then wait until ACTIVE.
    #[arg(long)]
    pub create_shards: Option<u32>,
    /// Records per PutRecords call (1-500; put-record always sends one).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub records_per_call: u32,
    /// Bytes of data per record: a number, or with a unit (1KiB, 1MiB). Data plus partition key
    /// (16 bytes with random keys) must fit the stream's maximum record size, 1 MiB unless
    /// raised with UpdateMaxRecordSize: so 1000KiB, not 1MiB, on a default stream.
    #[arg(long, default_value = "100", value_parser = parse_size)]
    pub record_size: usize,
    /// Partition keys: a new random key per record, or one fixed key (one hot shard).
    #[arg(long, value_enum, default_value_t = KeyMode::Random)]
    pub keys: KeyMode,
    /// Concurrent workers, each with its own keep-alive connection.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub connections: u32,
    /// How long to run (10s, 500ms, 2m); the default when --count is not given is 10s.
    #[arg(long, value_parser = parse_duration, conflicts_with = "count")]
    pub duration: Option<Duration>,
    /// Send exactly this many records, then stop.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Print one JSON object with the results on stdout instead of the text report.
    #[arg(long)]
    pub json: bool,
}

impl PutArgs {
    /// When the run ends: after a record count, or after a duration (10 s by default).
    pub fn stop(&self) -> Stop {
        match (self.count, self.duration) {
            (Some(count), _) => Stop::Count(count),
            (None, Some(duration)) => Stop::After(duration),
            (None, None) => Stop::After(Duration::from_secs(10)),
        }
    }
}

/// How partition keys are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyMode {
    /// 16 random hex digits per record, spread over every shard.
    Random,
    /// The same key for every record: one shard takes all.
    Fixed,
}

/// When a run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Once this many records have been sent (successfully or not).
    Count(u64),
    /// Once this much time has passed; requests under way are finished.
    After(Duration),
}

/// Parses `10s`, `500ms`, `2m`, `1h`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (try 10s, 500ms, 2m)"))?;
    let seconds = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "unknown duration unit {other:?} (use ms, s, m or h)"
            ));
        }
    };
    if !(seconds > 0.0 && seconds.is_finite()) {
        return Err(format!("{text:?}: the duration must be positive"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parses a rate in records per second: a positive number (`1000`, `2.5`).
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a rate in records per second"))?;
    if !(rate > 0.0 && rate.is_finite()) {
        return Err(format!("{text:?}: the rate must be positive"));
    }
    Ok(rate)
}

/// Parses a byte size: `100`, `100B`, `1KiB` (or `1k`, `1K`), `1MiB` (or `1M`); 1 byte to 10 MiB.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: usize = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (try 100, 1KiB, 1MiB)"))?;
    let multiplier = match unit.trim() {
        "" | "B" => 1,
        "k" | "K" | "KiB" => 1024,
        "M" | "MiB" => 1024 * 1024,
        other => return Err(format!("unknown size unit {other:?} (use B, KiB or MiB)")),
    };
    let size = value
        .checked_mul(multiplier)
        .ok_or_else(|| format!("{text:?} is too large"))?;
    if size == 0 || size > MAX_RECORD_SIZE {
        return Err(format!("{text:?}: a record holds 1 byte to 10 MiB"));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn durations_take_the_usual_units() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("10d").is_err());
    }

    #[test]
    fn rates_are_positive_numbers() {
        assert_eq!(parse_rate("1000"), Ok(1000.0));
        assert_eq!(parse_rate("2.5"), Ok(2.5));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("-3").is_err());
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("inf").is_err());
    }

    #[test]
    fn sizes_take_binary_units_and_stay_within_a_record() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("100B"), Ok(100));
        assert_eq!(parse_size("1KiB"), Ok(1024));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert_eq!(parse_size("1MiB"), Ok(1024 * 1024));
        assert_eq!(parse_size("10MiB"), Ok(10 * 1024 * 1024));
        assert!(parse_size("11MiB").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("1GiB").is_err());
    }

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: PutArgs,
    }

    #[test]
    fn count_or_duration_decides_when_to_stop() {
        let base = ["bench", "--endpoint", "http://x", "--stream", "s"];
        let parsed = Wrapper::try_parse_from(base).expect("defaults parse");
        assert_eq!(parsed.args.stop(), Stop::After(Duration::from_secs(10)));
        assert_eq!(parsed.args.records_per_call, 100);
        assert_eq!(parsed.args.connections, 64);
        assert_eq!(parsed.args.keys, KeyMode::Random);

        let counted = Wrapper::try_parse_from(base.iter().copied().chain(["--count", "2000"]))
            .expect("count parses");
        assert_eq!(counted.args.stop(), Stop::Count(2000));

        let both = base
            .iter()
            .copied()
            .chain(["--count", "1", "--duration", "1s"]);
        assert!(Wrapper::try_parse_from(both).is_err());
        let too_many = base.iter().copied().chain(["--records-per-call", "501"]);
        assert!(Wrapper::try_parse_from(too_many).is_err());
    }
}
