//! Account-level settings: the minimum throughput billing commitment.
//!
//! Stored as one JSON document under `account/settings` in the metadata store. A commitment lasts
//! at least 24 hours: disabling it earlier schedules the end for the earliest allowed time
//! (`ENABLED_UNTIL_EARLIEST_ALLOWED_END`), and enabling it again before then cancels the end.
//! [`Commitment::status_at`] derives what a caller sees at a given time, so no timer is needed.

use serde::{Deserialize, Serialize};
use spate_meta::{Check, MetaStore, Outcome, Txn};

use crate::error::StreamsError;

const SETTINGS_KEY: &str = "account/settings";
/// The shortest a commitment may last.
pub const MINIMUM_COMMITMENT_MS: i64 = 24 * 3_600_000;

/// The minimum throughput billing commitment as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Commitment {
    /// When the current (or last) commitment started; `None` if there never was one.
    pub started_ms: Option<i64>,
    /// When it ends or ended; `None` while it runs without a scheduled end.
    pub ended_ms: Option<i64>,
}

/// What DescribeAccountSettings and UpdateAccountSettings report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitmentStatus {
    Enabled,
    Disabled,
    EnabledUntilEarliestAllowedEnd,
}

impl CommitmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CommitmentStatus::Enabled => "ENABLED",
            CommitmentStatus::Disabled => "DISABLED",
            CommitmentStatus::EnabledUntilEarliestAllowedEnd => {
                "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
            }
        }
    }
}

impl Commitment {
    pub fn status_at(&self, now_ms: i64) -> CommitmentStatus {
        match (self.started_ms, self.ended_ms) {
            (None, _) => CommitmentStatus::Disabled,
            (Some(_), None) => CommitmentStatus::Enabled,
            (Some(_), Some(end)) if now_ms < end => {
                CommitmentStatus::EnabledUntilEarliestAllowedEnd
            }
            (Some(_), Some(_)) => CommitmentStatus::Disabled,
        }
    }

    pub fn is_enabled_at(&self, now_ms: i64) -> bool {
        self.status_at(now_ms) != CommitmentStatus::Disabled
    }

    pub fn earliest_allowed_end_ms(&self) -> Option<i64> {
        self.started_ms.map(|start| start + MINIMUM_COMMITMENT_MS)
    }

    /// The commitment after a request to enable or disable it at `now_ms`.
    pub fn updated(&self, enable: bool, now_ms: i64) -> Commitment {
        match (enable, self.status_at(now_ms)) {
            (true, CommitmentStatus::Disabled) => Commitment {
                started_ms: Some(now_ms),
                ended_ms: None,
            },
            // Enabling again before the scheduled end cancels it.
            (true, _) => Commitment {
                started_ms: self.started_ms,
                ended_ms: None,
            },
            (false, CommitmentStatus::Disabled) => self.clone(),
            (false, _) => {
                let earliest = self.earliest_allowed_end_ms().unwrap_or(now_ms);
                Commitment {
                    started_ms: self.started_ms,
                    ended_ms: Some(earliest.max(now_ms)),
                }
            }
        }
    }
}

/// Everything stored about the account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountSettings {
    pub commitment: Commitment,
}

/// The stored settings and their revision (0 when never stored).
pub async fn load(meta: &dyn MetaStore) -> Result<(AccountSettings, u64), StreamsError> {
    match meta.get(SETTINGS_KEY).await? {
        None => Ok((AccountSettings::default(), 0)),
        Some(entry) => {
            let settings = serde_json::from_slice(&entry.value).map_err(|err| {
                StreamsError::Internal(format!("stored account settings are unreadable: {err}"))
            })?;
            Ok((settings, entry.revision))
        }
    }
}

/// Replaces the stored settings if they are still at `revision`; returns the new revision.
pub async fn save(
    meta: &dyn MetaStore,
    revision: u64,
    settings: &AccountSettings,
) -> Result<u64, StreamsError> {
    let check = if revision == 0 {
        Check::Absent(SETTINGS_KEY.to_string())
    } else {
        Check::Revision(SETTINGS_KEY.to_string(), revision)
    };
    let value = serde_json::to_vec(settings)
        .map_err(|err| StreamsError::Internal(format!("account settings do not encode: {err}")))?;
    match meta
        .commit(Txn::new().check(check).put(SETTINGS_KEY, value))
        .await?
    {
        Outcome::Committed { revision } => Ok(revision),
        Outcome::Conflict => Err(StreamsError::Internal(
            "account settings changed under the control-plane lock".to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn a_commitment_lasts_at_least_a_day() {
        let none = Commitment::default();
        assert_eq!(none.status_at(0), CommitmentStatus::Disabled);
        let on = none.updated(true, 0);
        assert_eq!(on.status_at(HOUR), CommitmentStatus::Enabled);
        assert_eq!(on.earliest_allowed_end_ms(), Some(24 * HOUR));

        let ending = on.updated(false, HOUR);
        assert_eq!(ending.ended_ms, Some(24 * HOUR));
        assert_eq!(
            ending.status_at(2 * HOUR),
            CommitmentStatus::EnabledUntilEarliestAllowedEnd
        );
        assert_eq!(ending.status_at(24 * HOUR), CommitmentStatus::Disabled);
        // Enabling again before the end cancels it and keeps the start.
        let kept = ending.updated(true, 2 * HOUR);
        assert_eq!(kept, on);

        let late = on.updated(false, 30 * HOUR);
        assert_eq!(late.ended_ms, Some(30 * HOUR));
        assert_eq!(late.status_at(30 * HOUR), CommitmentStatus::Disabled);
        let again = late.updated(true, 31 * HOUR);
        assert_eq!(again.started_ms, Some(31 * HOUR));
    }
}
