//! GetMedia's StartSelector, resolved to the media offset of the first fragment to send.

use crate::store::{FragmentNumber, FragmentStore, StoreError, StreamLogs, TimeAxis};

/// Where a GetMedia starts, as parsed from its StartSelector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selector {
    /// The oldest fragment still kept.
    Earliest,
    /// The first fragment stored after the call.
    /// Unverified: the documentation says "the latest chunk on the stream"; Spate starts after
    /// it, with the next fragment to arrive (plan §4.4).
    Now,
    /// The fragment after this one (FRAGMENT_NUMBER with `AfterFragmentNumber`, and
    /// CONTINUATION_TOKEN, whose token is the number of the last chunk received).
    /// Unverified: `AfterFragmentNumber` is exclusive, as its documentation says ("the chunk
    /// after a specific fragment").
    After(FragmentNumber),
    /// The fragment whose `[server ts, + duration)` contains this time (epoch ms), else the
    /// next one.
    ServerTime(i64),
    /// The fragment whose `[producer ts, + duration)` contains this time (epoch ms), else the
    /// first one after it.
    ProducerTime(i64),
}

/// A resolved start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Send fragments from this media offset on (possibly the end: wait for the next one).
    Offset(u64),
    /// The selector names a fragment the stream does not have (another stream's, trimmed, or
    /// not written yet): the answer is error tags only.
    /// Unverified: AWS answers a 200 whose body holds the 4000 error tags.
    NotFound(FragmentNumber),
}

/// The media offset `selector` starts at in the stream's logs.
pub async fn resolve(
    store: &FragmentStore,
    logs: StreamLogs,
    selector: Selector,
) -> Result<Start, StoreError> {
    let (start, end) = store.bounds(logs)?;
    let located = |axis, ts_ms| async move {
        // No fragment at or after the time yet: the next one to arrive.
        // Unverified: AWS may wait the same way or end at once.
        let offset = store.locate(logs, axis, ts_ms).await?;
        Ok::<_, StoreError>(Start::Offset(offset.unwrap_or(end)))
    };
    match selector {
        Selector::Earliest => Ok(Start::Offset(start)),
        Selector::Now => Ok(Start::Offset(end)),
        Selector::After(number) => {
            let ours = number.log == logs.media.0 && (start..end).contains(&number.offset);
            Ok(if ours {
                Start::Offset(number.offset.saturating_add(1))
            } else {
                Start::NotFound(number)
            })
        }
        Selector::ServerTime(ts_ms) => located(TimeAxis::Server, ts_ms).await,
        Selector::ProducerTime(ts_ms) => located(TimeAxis::Producer, ts_ms).await,
    }
}
