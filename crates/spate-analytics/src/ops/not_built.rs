//! The refusal of what waits for the SQL engine: StartApplication on a server whose engine is
//! not built answers `UnsupportedOperationException` with this message, never a silent success.

/// The message naming the operation and the missing engine.
pub fn engine_missing(operation: &str) -> String {
    format!(
        "{operation} is not supported by Spate yet: the Kinesis Data Analytics SQL engine is not built, so applications are stored and described but cannot run."
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_refusal_names_the_operation_and_the_missing_engine() {
        let message = super::engine_missing("StartApplication");
        assert!(message.starts_with("StartApplication is not supported"));
        assert!(message.contains("SQL engine is not built"));
    }
}
