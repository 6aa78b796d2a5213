//! The recursive-descent parser: its token helpers, nesting bound and statements (queries are
//! in `query`, expressions in `expr`). Every error names the line and column of the token it
//! stopped at, what it expected there and what it found.

use super::ast::*;
use super::error::SqlError;
use super::lexer::{Token, TokenKind, tokenize};

type Result<T> = std::result::Result<T, SqlError>;

/// Parses an application's code: statements (`CREATE STREAM`, `CREATE PUMP`, or a query)
/// separated by `;`, the last one optionally followed by one.
pub fn parse_application_code(code: &str) -> Result<Vec<Statement>> {
    let mut parser = Parser::new(tokenize(code)?);
    let mut statements = Vec::new();
    loop {
        while parser.eat(&TokenKind::Semicolon) {}
        if parser.peek().kind == TokenKind::Eof {
            return Ok(statements);
        }
        statements.push(parser.parse_statement()?);
        if !parser.eat(&TokenKind::Semicolon) && parser.peek().kind != TokenKind::Eof {
            return Err(parser.expected("; or end of input", "after the statement"));
        }
    }
}

/// Words that cannot be unquoted identifiers or bare aliases, because they start or end
/// clauses and would make aliases ambiguous.
#[rustfmt::skip]
const RESERVED: &[&str] = &[
    "ALL", "AND", "AS", "BETWEEN", "BY", "CASE", "CAST", "CREATE", "CROSS", "CURSOR", "DISTINCT",
    "ELSE", "END", "ESCAPE", "EXCEPT", "EXISTS", "FALSE", "FOLLOWING", "FOR", "FROM", "FULL",
    "GROUP", "HAVING", "IN", "INNER", "INSERT", "INTERSECT", "INTERVAL", "INTO", "IS", "JOIN",
    "LEFT", "LIKE", "NOT", "NULL", "ON", "OR", "ORDER", "OUTER", "OVER", "PARTITION", "PLACING",
    "PRECEDING", "RANGE", "RIGHT", "ROWS", "SELECT", "SIMILAR", "TABLE", "THEN", "TO", "TRUE",
    "UNION", "UNKNOWN", "USING", "WHEN", "WHERE", "WINDOW", "WINDOWED",
];

pub(crate) fn is_reserved(word: &str) -> bool {
    RESERVED.contains(&word)
}

/// How deeply expressions and queries may nest, in units of one expression level; a query
/// level costs `QUERY_NESTING_COST` (its parsing takes several times the stack). Application
/// code comes from API callers and the parser recurses once per level, so without a bound a few
/// kilobytes of `(` would overflow the stack of the thread parsing them.
const MAX_NESTING: u32 = 100;
pub(crate) const QUERY_NESTING_COST: u32 = 5;
const TOO_DEEP: &str = "expressions, queries or set operations nested too deeply";

pub(crate) struct Parser {
    tokens: Vec<Token>,
    index: usize,
    /// Expressions and queries being parsed, one inside the other.
    nesting: u32,
    /// The depth of the deepest expression tree finished since the enclosing expression began
    /// (see `expr`): chains such as `a || b || c` are parsed in a loop, not by recursion, but
    /// make trees as deep as they are long, and printing or dropping a tree recurses.
    pub(crate) deepest_tree: u32,
}

impl Parser {
    pub(crate) fn new(tokens: Vec<Token>) -> Self {
        debug_assert!(
            tokens
                .last()
                .is_some_and(|token| token.kind == TokenKind::Eof)
        );
        Self {
            tokens,
            index: 0,
            nesting: 0,
            deepest_tree: 0,
        }
    }

    // ---- token helpers ----

    pub(crate) fn peek(&self) -> &Token {
        self.peek_nth(0)
    }

    /// The token `ahead` places on; the end-of-input token once past the end.
    pub(crate) fn peek_nth(&self, ahead: usize) -> &Token {
        let last = self.tokens.len() - 1;
        &self.tokens[(self.index + ahead).min(last)]
    }

    pub(crate) fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != TokenKind::Eof {
            self.index += 1;
        }
        token
    }

    pub(crate) fn mark(&self) -> usize {
        self.index
    }

    pub(crate) fn reset(&mut self, mark: usize) {
        self.index = mark;
    }

    pub(crate) fn at_keyword(&self, keyword: &str) -> bool {
        self.peek().is_keyword(keyword)
    }

    pub(crate) fn eat_keyword(&mut self, keyword: &str) -> bool {
        if self.at_keyword(keyword) {
            self.advance();
            true
        } else {
            false
        }
    }

    pub(crate) fn eat(&mut self, kind: &TokenKind) -> bool {
        if &self.peek().kind == kind {
            self.advance();
            true
        } else {
            false
        }
    }

    /// The error "expected `what` `context`, found <the current token>" at the current token.
    pub(crate) fn expected(&self, what: &str, context: &str) -> SqlError {
        let token = self.peek();
        let context = if context.is_empty() {
            String::new()
        } else {
            format!(" {context}")
        };
        SqlError::new(
            token.pos.line,
            token.pos.column,
            format!("expected {what}{context}, found {}", token.kind),
        )
    }

    pub(crate) fn expect_keyword(&mut self, keyword: &str, context: &str) -> Result<Position> {
        if self.at_keyword(keyword) {
            Ok(self.advance().pos)
        } else {
            Err(self.expected(keyword, context))
        }
    }

    pub(crate) fn expect(&mut self, kind: TokenKind, context: &str) -> Result<Position> {
        if self.peek().kind == kind {
            Ok(self.advance().pos)
        } else {
            Err(self.expected(&kind.to_string(), context))
        }
    }

    /// Whether the current token can be an identifier: quoted, or an unreserved word.
    pub(crate) fn at_ident(&self) -> bool {
        match &self.peek().kind {
            TokenKind::QuotedIdent(_) => true,
            TokenKind::Word(word) => !is_reserved(word),
            _ => false,
        }
    }

    /// An identifier; `what` names it in the error ("the pump name").
    pub(crate) fn parse_ident(&mut self, what: &str) -> Result<Ident> {
        if !self.at_ident() {
            return Err(self.expected(what, ""));
        }
        let token = self.advance();
        match token.kind {
            TokenKind::QuotedIdent(name) => Ok(Ident {
                name,
                quoted: true,
                pos: token.pos,
            }),
            TokenKind::Word(name) => Ok(Ident {
                name,
                quoted: false,
                pos: token.pos,
            }),
            _ => unreachable!("at_ident() accepts only words and quoted identifiers"),
        }
    }

    pub(crate) fn parse_object_name(&mut self, what: &str) -> Result<ObjectName> {
        let mut parts = vec![self.parse_ident(what)?];
        while self.eat(&TokenKind::Dot) {
            parts.push(self.parse_ident(&format!("an identifier after . in {}", parts[0]))?);
        }
        Ok(ObjectName(parts))
    }

    pub(crate) fn parse_ident_list(&mut self, what: &str) -> Result<Vec<Ident>> {
        let mut idents = vec![self.parse_ident(what)?];
        while self.eat(&TokenKind::Comma) {
            idents.push(self.parse_ident(what)?);
        }
        Ok(idents)
    }

    pub(crate) fn parse_u32(&mut self, what: &str) -> Result<u32> {
        if let TokenKind::Number(text) = &self.peek().kind
            && let Ok(value) = text.parse::<u32>()
        {
            self.advance();
            return Ok(value);
        }
        Err(self.expected(what, ""))
    }

    fn parse_string(&mut self, what: &str) -> Result<String> {
        if let TokenKind::String(value) = &self.peek().kind {
            let value = value.clone();
            self.advance();
            return Ok(value);
        }
        Err(self.expected(what, ""))
    }

    // ---- statements ----

    fn parse_statement(&mut self) -> Result<Statement> {
        if self.at_keyword("SELECT") || self.peek().kind == TokenKind::LeftParen {
            return Ok(Statement::Query(Box::new(self.parse_query()?)));
        }
        if !self.at_keyword("CREATE") {
            return Err(self.expected("CREATE or SELECT", "at the start of a statement"));
        }
        let pos = self.advance().pos;
        let or_replace = self.eat_keyword("OR");
        if or_replace {
            self.expect_keyword("REPLACE", "after CREATE OR")?;
        }
        if self.eat_keyword("STREAM") {
            self.parse_create_stream(pos, or_replace)
        } else if self.eat_keyword("PUMP") {
            self.parse_create_pump(pos, or_replace)
        } else {
            let context = if or_replace {
                "after CREATE OR REPLACE"
            } else {
                "after CREATE"
            };
            Err(self.expected("STREAM or PUMP", context))
        }
    }

    fn parse_create_stream(&mut self, pos: Position, or_replace: bool) -> Result<Statement> {
        let name = self.parse_object_name("the stream name")?;
        self.expect(TokenKind::LeftParen, "after the stream name")?;
        let mut columns = Vec::new();
        loop {
            let name = self.parse_ident("a column name")?;
            let data_type = self.parse_data_type()?;
            let not_null = self.eat_keyword("NOT");
            if not_null {
                self.expect_keyword("NULL", "after NOT in a column definition")?;
            }
            columns.push(ColumnDef {
                name,
                data_type,
                not_null,
            });
            if self.eat(&TokenKind::RightParen) {
                break;
            }
            if !self.eat(&TokenKind::Comma) {
                return Err(self.expected(", or )", "after the column definition"));
            }
        }
        let description = if self.eat_keyword("DESCRIPTION") {
            Some(self.parse_string("a string after DESCRIPTION")?)
        } else {
            None
        };
        Ok(Statement::CreateStream(CreateStream {
            pos,
            or_replace,
            name,
            columns,
            description,
        }))
    }

    fn parse_create_pump(&mut self, pos: Position, or_replace: bool) -> Result<Statement> {
        let name = self.parse_object_name("the pump name")?;
        let description = if self.eat_keyword("DESCRIPTION") {
            Some(self.parse_string("a string after DESCRIPTION")?)
        } else {
            None
        };
        self.expect_keyword("AS", "after the pump name")?;
        self.expect_keyword("INSERT", "after AS")?;
        self.expect_keyword("INTO", "after INSERT")?;
        let target = self.parse_object_name("the name of the stream to insert into")?;
        let mut target_columns = Vec::new();
        let query_in_parentheses =
            self.peek_nth(1).is_keyword("SELECT") || self.peek_nth(1).kind == TokenKind::LeftParen;
        if self.peek().kind == TokenKind::LeftParen && !query_in_parentheses {
            self.advance();
            target_columns = self.parse_ident_list("a column name")?;
            self.expect(TokenKind::RightParen, "after the column list")?;
        }
        if !self.at_keyword("SELECT") && self.peek().kind != TokenKind::LeftParen {
            return Err(self.expected("SELECT", "after INSERT INTO"));
        }
        let query = Box::new(self.parse_query()?);
        Ok(Statement::CreatePump(CreatePump {
            pos,
            or_replace,
            name,
            description,
            target,
            target_columns,
            query,
        }))
    }

    pub(crate) fn parse_data_type(&mut self) -> Result<DataType> {
        let TokenKind::Word(word) = &self.peek().kind else {
            return Err(self.expected("a data type", ""));
        };
        let word = word.clone();
        let data_type = match word.as_str() {
            "VARCHAR" | "CHAR" | "CHARACTER" | "VARBINARY" | "BINARY" => {
                self.advance();
                let varying = word == "CHARACTER" && self.eat_keyword("VARYING");
                let length = self.parse_optional_length()?;
                match word.as_str() {
                    "VARCHAR" => DataType::Varchar(length),
                    "CHARACTER" if varying => DataType::Varchar(length),
                    "CHAR" | "CHARACTER" => DataType::Char(length),
                    "VARBINARY" => DataType::Varbinary(length),
                    _ => DataType::Binary(length),
                }
            }
            "DECIMAL" | "DEC" | "NUMERIC" => {
                self.advance();
                let (mut precision, mut scale) = (None, None);
                if self.eat(&TokenKind::LeftParen) {
                    precision = Some(self.parse_u32("a precision")?);
                    if self.eat(&TokenKind::Comma) {
                        scale = Some(self.parse_u32("a scale")?);
                    }
                    self.expect(TokenKind::RightParen, "after the precision")?;
                }
                DataType::Decimal(precision, scale)
            }
            "DOUBLE" => {
                self.advance();
                self.eat_keyword("PRECISION");
                DataType::Double
            }
            _ => {
                let simple = match word.as_str() {
                    "INTEGER" | "INT" => DataType::Integer,
                    "BIGINT" => DataType::Bigint,
                    "SMALLINT" => DataType::Smallint,
                    "TINYINT" => DataType::Tinyint,
                    "REAL" => DataType::Real,
                    "FLOAT" => DataType::Float,
                    "BOOLEAN" => DataType::Boolean,
                    "TIMESTAMP" => DataType::Timestamp,
                    "DATE" => DataType::Date,
                    "TIME" => DataType::Time,
                    _ => return Err(self.expected("a data type", "")),
                };
                self.advance();
                simple
            }
        };
        Ok(data_type)
    }

    fn parse_optional_length(&mut self) -> Result<Option<u32>> {
        if !self.eat(&TokenKind::LeftParen) {
            return Ok(None);
        }
        let length = self.parse_u32("a length")?;
        self.expect(TokenKind::RightParen, "after the length")?;
        Ok(Some(length))
    }

    /// Runs `parse` `cost` nesting units deeper, failing past `MAX_NESTING`.
    pub(crate) fn nested<T>(
        &mut self,
        cost: u32,
        parse: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        if self.nesting + cost > MAX_NESTING {
            let pos = self.peek().pos;
            return Err(SqlError::new(pos.line, pos.column, TOO_DEEP));
        }
        self.nesting += cost;
        let result = parse(self);
        self.nesting -= cost;
        result
    }

    /// Takes `cost` nesting units until `release`: set operations are parsed in a loop but
    /// make a tree as deep as the chain is long, which printing and dropping walk recursively.
    pub(crate) fn charge(&mut self, cost: u32) -> Result<()> {
        if self.nesting + cost > MAX_NESTING {
            let pos = self.peek().pos;
            return Err(SqlError::new(pos.line, pos.column, TOO_DEEP));
        }
        self.nesting += cost;
        Ok(())
    }

    pub(crate) fn release(&mut self, cost: u32) {
        debug_assert!(
            self.nesting >= cost,
            "releasing more nesting than was charged"
        );
        self.nesting -= cost;
    }
}
