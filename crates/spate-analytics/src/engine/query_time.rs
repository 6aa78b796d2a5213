//! The time "the query first ran", which the reference gives CURRENT_TIMESTAMP,
//! LOCALTIMESTAMP, CURRENT_DATE, CURRENT_TIME and LOCALTIME: "all produce results which are
//! set to values at the time the query first executes", the same in every row (only
//! CURRENT_ROW_TIMESTAMP changes from row to row).
//!
//! The engine takes that time from its first batch or clock advance (the service clock, as
//! ROWTIME is), and sets it for the evaluation it runs, on the evaluating thread, with
//! `QueryClock::enter`; an expression reads it with `query_start`. A restart runs the query
//! again, so the time is not part of the snapshot.

use std::cell::Cell;

thread_local! {
    static QUERY_START_MS: Cell<Option<i64>> = const { Cell::new(None) };
}

/// The time the query first ran, while the engine evaluates; `None` outside an evaluation.
pub fn query_start() -> Option<i64> {
    QUERY_START_MS.with(Cell::get)
}

/// An engine's query start time, once it has one.
#[derive(Debug, Default, Clone, Copy)]
pub struct QueryClock {
    started_ms: Option<i64>,
}

impl QueryClock {
    /// Sets the query start time (taking `now_ms` if the query has none yet) for the
    /// evaluation that runs until the guard is dropped.
    pub fn enter(&mut self, now_ms: i64) -> Entered {
        let started = *self.started_ms.get_or_insert(now_ms);
        let previous = QUERY_START_MS.with(|cell| cell.replace(Some(started)));
        Entered { previous }
    }
}

/// Restores the evaluating thread's query start time when dropped.
#[must_use]
#[derive(Debug)]
pub struct Entered {
    previous: Option<i64>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        QUERY_START_MS.with(|cell| cell.set(self.previous));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_time_sticks_and_is_set_only_while_entered() {
        let mut clock = QueryClock::default();
        assert_eq!(query_start(), None);
        {
            let _entered = clock.enter(1_000);
            assert_eq!(query_start(), Some(1_000));
        }
        assert_eq!(query_start(), None);
        let _entered = clock.enter(5_000);
        assert_eq!(query_start(), Some(1_000));
    }
}
