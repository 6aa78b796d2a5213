//! PutMedia bodies as the MKV splitter takes them (`spate_mkv::Splitter`): no input panics or
//! grows memory beyond the configured bounds, and the events do not depend on how the body is
//! sliced (whole, or cut in three at input-chosen points). Every complete cluster must parse
//! back from its stored rewrite.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spate_mkv::{Event, RawCluster, Splitter, SplitterConfig};

/// The splitter's events and outcome for `data` pushed in the given slices.
fn split(config: &SplitterConfig, slices: &[&[u8]]) -> (Vec<Event>, bool) {
    let mut splitter = Splitter::new(config.clone());
    let mut events = Vec::new();
    for slice in slices {
        if splitter.push(slice, &mut events).is_err() {
            return (events, false);
        }
    }
    let ok = splitter.finish(&mut events).is_ok();
    (events, ok)
}

fuzz_target!(|input: &[u8]| {
    // Two cut points from the first four bytes; small limits so the bounds are reached.
    let Some((cuts, data)) = input.split_at_checked(4) else {
        return;
    };
    let config = SplitterConfig {
        max_fragment_bytes: 256 * 1024,
        max_header_bytes: 64 * 1024,
        ..SplitterConfig::default()
    };
    let first = usize::from(u16::from_le_bytes([cuts[0], cuts[1]])) % (data.len() + 1);
    let second =
        first + usize::from(u16::from_le_bytes([cuts[2], cuts[3]])) % (data.len() - first + 1);
    let whole = split(&config, &[data]);
    let sliced = split(
        &config,
        &[&data[..first], &data[first..second], &data[second..]],
    );
    assert_eq!(whole, sliced, "cut at {first} and {second}");
    for event in &whole.0 {
        if let Event::ClusterEnd(cluster) = event {
            let stored = cluster.rewrite(cluster.timecode);
            let parsed = RawCluster::parse(stored).expect("a stored cluster parses");
            assert_eq!(parsed.blocks.len(), cluster.blocks.len());
        }
    }
});
