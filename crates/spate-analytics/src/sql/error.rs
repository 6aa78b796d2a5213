//! The one error of the SQL front-end: where (1-based line and column) and what went wrong.

/// A lexical or syntax error in application code, at the line and column (both 1-based, columns
/// counted in characters) of the offending token, or where an unterminated token started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct SqlError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl SqlError {
    pub fn new(line: u32, column: u32, message: impl Into<String>) -> Self {
        Self {
            line,
            column,
            message: message.into(),
        }
    }
}
