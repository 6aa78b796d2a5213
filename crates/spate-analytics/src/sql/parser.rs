//! Recursive-descent parser of statements, queries, `FROM` items and windows (expressions are
//! in `expr`). Every error names the line and column of the token it stopped at, what it
//! expected there and what it found.

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
const RESERVED: &[&str] = &[
    "ALL",
    "AND",
    "AS",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "CREATE",
    "CROSS",
    "CURSOR",
    "DISTINCT",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXISTS",
    "FALSE",
    "FOLLOWING",
    "FOR",
    "FROM",
    "FULL",
    "GROUP",
    "HAVING",
    "IN",
    "INNER",
    "INSERT",
    "INTERSECT",
    "INTERVAL",
    "INTO",
    "IS",
    "JOIN",
    "LEFT",
    "LIKE",
    "NOT",
    "NULL",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "OVER",
    "PARTITION",
    "PLACING",
    "PRECEDING",
    "RANGE",
    "RIGHT",
    "ROWS",
    "SELECT",
    "SIMILAR",
    "TABLE",
    "THEN",
    "TO",
    "TRUE",
    "UNION",
    "UNKNOWN",
    "USING",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WINDOWED",
];

pub(crate) fn is_reserved(word: &str) -> bool {
    RESERVED.contains(&word)
}

/// How deeply expressions and queries may nest, in units of one expression level; a query
/// level costs `QUERY_NESTING_COST` (its parsing takes several times the stack). Application
/// code comes from API callers and the parser recurses once per level, so without a bound a few
/// kilobytes of `(` would overflow the stack of the thread parsing them.
const MAX_NESTING: u32 = 100;
const QUERY_NESTING_COST: u32 = 5;

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

    fn parse_object_name(&mut self, what: &str) -> Result<ObjectName> {
        let mut parts = vec![self.parse_ident(what)?];
        while self.eat(&TokenKind::Dot) {
            parts.push(self.parse_ident(&format!("an identifier after . in {}", parts[0]))?);
        }
        Ok(ObjectName(parts))
    }

    fn parse_ident_list(&mut self, what: &str) -> Result<Vec<Ident>> {
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

    // ---- queries ----

    /// Runs `parse` `cost` nesting units deeper, failing past `MAX_NESTING`.
    pub(crate) fn nested<T>(
        &mut self,
        cost: u32,
        parse: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        if self.nesting + cost > MAX_NESTING {
            let pos = self.peek().pos;
            return Err(SqlError::new(
                pos.line,
                pos.column,
                "expressions or queries nested too deeply",
            ));
        }
        self.nesting += cost;
        let result = parse(self);
        self.nesting -= cost;
        result
    }

    pub(crate) fn parse_query(&mut self) -> Result<Query> {
        self.nested(QUERY_NESTING_COST, Self::parse_query_unnested)
    }

    fn parse_query_unnested(&mut self) -> Result<Query> {
        let body = self.parse_query_body()?;
        let order_by = if self.eat_keyword("ORDER") {
            self.expect_keyword("BY", "after ORDER")?;
            self.parse_order_by_list()?
        } else {
            Vec::new()
        };
        Ok(Query { body, order_by })
    }

    fn parse_query_body(&mut self) -> Result<QueryBody> {
        let mut left = self.parse_query_term()?;
        loop {
            let op = if self.eat_keyword("UNION") {
                SetOperator::Union
            } else if self.eat_keyword("EXCEPT") {
                SetOperator::Except
            } else if self.eat_keyword("INTERSECT") {
                SetOperator::Intersect
            } else {
                return Ok(left);
            };
            let all = self.eat_keyword("ALL");
            if !all {
                self.eat_keyword("DISTINCT");
            }
            let right = self.parse_query_term()?;
            left = QueryBody::SetOperation {
                op,
                all,
                left: Box::new(left),
                right: Box::new(right),
            };
        }
    }

    fn parse_query_term(&mut self) -> Result<QueryBody> {
        if self.eat(&TokenKind::LeftParen) {
            let query = self.parse_query()?;
            self.expect(TokenKind::RightParen, "after the query in parentheses")?;
            return Ok(QueryBody::Nested(Box::new(query)));
        }
        if !self.at_keyword("SELECT") {
            return Err(self.expected("SELECT", ""));
        }
        Ok(QueryBody::Select(Box::new(self.parse_select()?)))
    }

    fn parse_select(&mut self) -> Result<Select> {
        let pos = self.expect_keyword("SELECT", "")?;
        let stream = self.eat_keyword("STREAM");
        let quantifier = self.parse_quantifier();
        let mut projection = vec![self.parse_select_item()?];
        while self.eat(&TokenKind::Comma) {
            projection.push(self.parse_select_item()?);
        }
        self.expect_keyword("FROM", "after the select list")?;
        let mut from = vec![self.parse_table_with_joins()?];
        while self.eat(&TokenKind::Comma) {
            from.push(self.parse_table_with_joins()?);
        }
        let selection = if self.eat_keyword("WHERE") {
            Some(self.parse_expr()?)
        } else {
            None
        };
        // The reference writes WINDOWED BY in place of GROUP BY; accept it before or after the
        // other clauses.
        let mut stagger = self.parse_optional_stagger()?;
        let mut group_by = Vec::new();
        if self.eat_keyword("GROUP") {
            self.expect_keyword("BY", "after GROUP")?;
            group_by = self.parse_expr_list()?;
        }
        let having = if self.eat_keyword("HAVING") {
            Some(self.parse_expr()?)
        } else {
            None
        };
        let mut windows = Vec::new();
        if self.eat_keyword("WINDOW") {
            loop {
                let name = self.parse_ident("a window name")?;
                self.expect_keyword("AS", "after the window name")?;
                self.expect(TokenKind::LeftParen, "after AS")?;
                let spec = self.parse_window_spec()?;
                self.expect(TokenKind::RightParen, "after the window specification")?;
                windows.push(NamedWindow { name, spec });
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        if stagger.is_none() {
            stagger = self.parse_optional_stagger()?;
        }
        Ok(Select {
            pos,
            stream,
            quantifier,
            projection,
            from,
            selection,
            group_by,
            having,
            windows,
            stagger,
        })
    }

    pub(crate) fn parse_quantifier(&mut self) -> Option<SetQuantifier> {
        if self.eat_keyword("DISTINCT") {
            Some(SetQuantifier::Distinct)
        } else if self.eat_keyword("ALL") {
            Some(SetQuantifier::All)
        } else {
            None
        }
    }

    fn parse_optional_stagger(&mut self) -> Result<Option<StaggerWindow>> {
        if !self.eat_keyword("WINDOWED") {
            return Ok(None);
        }
        self.expect_keyword("BY", "after WINDOWED")?;
        self.expect_keyword("STAGGER", "after WINDOWED BY")?;
        self.expect(TokenKind::LeftParen, "after STAGGER")?;
        self.expect_keyword("PARTITION", "in the STAGGER window")?;
        self.expect_keyword("BY", "after PARTITION")?;
        let partition_by = self.parse_expr_list()?;
        self.expect_keyword("RANGE", "after the partitioning columns of STAGGER")?;
        let range = Box::new(self.parse_expr()?);
        self.expect(TokenKind::RightParen, "after the range of STAGGER")?;
        Ok(Some(StaggerWindow {
            partition_by,
            range,
        }))
    }

    fn parse_select_item(&mut self) -> Result<SelectItem> {
        if self.eat(&TokenKind::Star) {
            return Ok(SelectItem::Wildcard);
        }
        if let Some(name) = self.parse_qualified_wildcard() {
            return Ok(SelectItem::QualifiedWildcard(name));
        }
        let expr = self.parse_expr()?;
        let alias = self.parse_optional_alias()?;
        Ok(SelectItem::Expr { expr, alias })
    }

    /// `a.b.*`, or nothing consumed.
    fn parse_qualified_wildcard(&mut self) -> Option<ObjectName> {
        let mark = self.mark();
        let mut parts = Vec::new();
        while self.at_ident() {
            let ident = self.parse_ident("").ok()?;
            parts.push(ident);
            if !self.eat(&TokenKind::Dot) {
                break;
            }
            if self.eat(&TokenKind::Star) {
                return Some(ObjectName(parts));
            }
        }
        self.reset(mark);
        None
    }

    /// `[AS] name [(columns)]` after a `FROM` item.
    fn parse_optional_table_alias(&mut self) -> Result<Option<TableAlias>> {
        let Some(name) = self.parse_optional_alias()? else {
            return Ok(None);
        };
        let mut columns = Vec::new();
        if self.eat(&TokenKind::LeftParen) {
            columns = self.parse_ident_list("a column name")?;
            self.expect(TokenKind::RightParen, "after the alias's columns")?;
        }
        Ok(Some(TableAlias { name, columns }))
    }

    pub(crate) fn parse_optional_alias(&mut self) -> Result<Option<Ident>> {
        if self.eat_keyword("AS") {
            return Ok(Some(self.parse_ident("an alias after AS")?));
        }
        if self.at_ident() {
            Ok(Some(self.parse_ident("an alias")?))
        } else {
            Ok(None)
        }
    }

    fn parse_table_with_joins(&mut self) -> Result<TableWithJoins> {
        let relation = self.parse_table_factor()?;
        let mut joins = Vec::new();
        loop {
            let kind = if self.eat_keyword("JOIN") || self.eat_keyword("INNER") {
                JoinKind::Inner
            } else if self.eat_keyword("LEFT") {
                self.eat_keyword("OUTER");
                JoinKind::Left
            } else if self.eat_keyword("RIGHT") {
                self.eat_keyword("OUTER");
                JoinKind::Right
            } else if self.eat_keyword("FULL") {
                self.eat_keyword("OUTER");
                JoinKind::Full
            } else if self.eat_keyword("CROSS") {
                JoinKind::Cross
            } else {
                return Ok(TableWithJoins { relation, joins });
            };
            if !self.tokens[self.index - 1].is_keyword("JOIN") {
                self.expect_keyword("JOIN", "after the join type")?;
            }
            let relation = self.parse_table_factor()?;
            let constraint = if kind == JoinKind::Cross {
                JoinConstraint::None
            } else if self.eat_keyword("ON") {
                JoinConstraint::On(self.parse_expr()?)
            } else if self.eat_keyword("USING") {
                self.expect(TokenKind::LeftParen, "after USING")?;
                let columns = self.parse_ident_list("a column name")?;
                self.expect(TokenKind::RightParen, "after the USING columns")?;
                JoinConstraint::Using(columns)
            } else {
                return Err(self.expected("ON or USING", "after the joined stream"));
            };
            joins.push(Join {
                kind,
                relation,
                constraint,
            });
        }
    }

    fn parse_table_factor(&mut self) -> Result<TableFactor> {
        if self.eat(&TokenKind::LeftParen) {
            let subquery = Box::new(self.parse_query()?);
            self.expect(TokenKind::RightParen, "after the subquery")?;
            let alias = self.parse_optional_table_alias()?;
            return Ok(TableFactor::Derived { subquery, alias });
        }
        if self.at_keyword("TABLE") {
            let pos = self.advance().pos;
            self.expect(TokenKind::LeftParen, "after TABLE")?;
            let call = Box::new(self.parse_expr()?);
            self.expect(TokenKind::RightParen, "after the table function")?;
            let alias = self.parse_optional_table_alias()?;
            return Ok(TableFactor::Function { pos, call, alias });
        }
        let name = self.parse_object_name("a stream or table name")?;
        let window = if self.eat_keyword("OVER") {
            self.expect(TokenKind::LeftParen, "after OVER")?;
            let spec = self.parse_window_spec()?;
            self.expect(TokenKind::RightParen, "after the window specification")?;
            Some(spec)
        } else {
            None
        };
        let alias = self.parse_optional_table_alias()?;
        Ok(TableFactor::Named {
            name,
            window,
            alias,
        })
    }

    /// The inside of `(...)` of a window: `PARTITION BY`, `ORDER BY`, then a frame.
    pub(crate) fn parse_window_spec(&mut self) -> Result<WindowSpec> {
        let mut spec = WindowSpec::default();
        if self.at_ident() {
            spec.base = Some(self.parse_ident("a window name")?);
        }
        if self.eat_keyword("PARTITION") {
            self.expect_keyword("BY", "after PARTITION")?;
            spec.partition_by = self.parse_expr_list()?;
        }
        if self.eat_keyword("ORDER") {
            self.expect_keyword("BY", "after ORDER")?;
            spec.order_by = self.parse_order_by_list()?;
        }
        let units = if self.eat_keyword("RANGE") {
            FrameUnits::Range
        } else if self.eat_keyword("ROWS") {
            FrameUnits::Rows
        } else {
            return Ok(spec);
        };
        let (start, end) = if self.eat_keyword("BETWEEN") {
            let start = self.parse_frame_bound()?;
            self.expect_keyword("AND", "between the bounds of the window frame")?;
            (start, Some(self.parse_frame_bound()?))
        } else {
            (self.parse_frame_bound()?, None)
        };
        spec.frame = Some(WindowFrame { units, start, end });
        Ok(spec)
    }

    fn parse_frame_bound(&mut self) -> Result<FrameBound> {
        if self.eat_keyword("CURRENT") {
            self.expect_keyword("ROW", "after CURRENT")?;
            return Ok(FrameBound::CurrentRow);
        }
        let offset = if self.eat_keyword("UNBOUNDED") {
            None
        } else {
            Some(Box::new(self.parse_expr_bp(precedence::COMPARISON)?))
        };
        if self.eat_keyword("PRECEDING") {
            Ok(FrameBound::Preceding(offset))
        } else if self.eat_keyword("FOLLOWING") {
            Ok(FrameBound::Following(offset))
        } else {
            Err(self.expected("PRECEDING or FOLLOWING", "after the window frame's size"))
        }
    }

    pub(crate) fn parse_expr_list(&mut self) -> Result<Vec<Expr>> {
        let mut exprs = vec![self.parse_expr()?];
        while self.eat(&TokenKind::Comma) {
            exprs.push(self.parse_expr()?);
        }
        Ok(exprs)
    }

    fn parse_order_by_list(&mut self) -> Result<Vec<OrderByItem>> {
        let mut items = Vec::new();
        loop {
            let expr = self.parse_expr()?;
            let within = if self.eat_keyword("WITHIN") {
                Some(self.parse_expr()?)
            } else {
                None
            };
            let ascending = if self.eat_keyword("ASC") {
                Some(true)
            } else if self.eat_keyword("DESC") {
                Some(false)
            } else {
                None
            };
            items.push(OrderByItem {
                expr,
                within,
                ascending,
            });
            if !self.eat(&TokenKind::Comma) {
                return Ok(items);
            }
        }
    }
}
