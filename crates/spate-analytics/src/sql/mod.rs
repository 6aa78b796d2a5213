//! The SQL dialect of Kinesis Data Analytics: lexing, the syntax tree and parsing of an
//! application's code (`CREATE STREAM` and `CREATE PUMP` statements separated by `;`).

pub mod ast;
mod display;
pub mod error;
mod expr;
pub mod lexer;
pub mod parser;
mod query;

pub use error::SqlError;
pub use parser::parse_application_code;

#[cfg(test)]
mod tests;

/// One expression parsed from `text`, for tests elsewhere in the crate.
#[cfg(test)]
pub(crate) fn parse_expr(text: &str) -> ast::Expr {
    parser::Parser::new(lexer::tokenize(text).expect("valid tokens"))
        .parse_expr()
        .expect("an expression")
}
