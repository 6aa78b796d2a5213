//! Expressions, by precedence climbing over the binding strengths of `ast::precedence`, and the
//! functions with syntax of their own (`CAST`, `EXTRACT`, `SUBSTRING ... FROM ... FOR`, `TRIM`,
//! `POSITION`, `OVERLAY`, `FLOOR/CEIL ... TO`, `STEP ... BY`, `CASE`, interval and datetime
//! literals, `CURSOR`, `TABLE` and `DESCRIPTOR` arguments of table functions).

use super::ast::*;
use super::error::SqlError;
use super::lexer::TokenKind;
use super::parser::{Parser, is_reserved};

type Result<T> = std::result::Result<T, SqlError>;

/// How deep an expression tree may be, in nodes from root to leaf (see `Parser::deepest_tree`).
const MAX_TREE_DEPTH: u32 = 500;

/// Functions called without parentheses.
const NILADIC: &[&str] = &[
    "CURRENT_ROW_TIMESTAMP",
    "CURRENT_TIMESTAMP",
    "LOCALTIMESTAMP",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "LOCALTIME",
];

/// Order of interval fields, largest first: the end of a qualifier is smaller than its start.
fn interval_rank(unit: TimeUnit) -> u8 {
    match unit {
        TimeUnit::Year => 0,
        TimeUnit::Month => 1,
        TimeUnit::Day => 2,
        TimeUnit::Hour => 3,
        TimeUnit::Minute => 4,
        _ => 5,
    }
}

fn too_deep(pos: Position) -> SqlError {
    let message = format!("expression more than {MAX_TREE_DEPTH} levels deep");
    SqlError::new(pos.line, pos.column, message)
}

impl Parser {
    pub(crate) fn parse_expr(&mut self) -> Result<Expr> {
        self.parse_expr_bp(0)
    }

    /// An expression whose operators all bind more tightly than `min_precedence`.
    pub(crate) fn parse_expr_bp(&mut self, min_precedence: u8) -> Result<Expr> {
        self.nested(1, |parser| parser.parse_expr_unnested(min_precedence))
    }

    /// Parses one expression level, and measures the depth of its tree: one more than the
    /// deepest expression its prefix contains (parentheses count, erring on the safe side),
    /// then one more than the deeper of the left tree and the operand(s) for each operator
    /// applied. The depth is reported to the enclosing expression through `deepest_tree`.
    fn parse_expr_unnested(&mut self, min_precedence: u8) -> Result<Expr> {
        let enclosing_deepest = std::mem::take(&mut self.deepest_tree);
        let prefix_pos = self.peek().pos;
        let mut left = self.parse_prefix()?;
        let mut depth = self.deepest_tree + 1;
        if depth > MAX_TREE_DEPTH {
            return Err(too_deep(prefix_pos));
        }
        loop {
            let binding = self.infix_precedence();
            if binding == 0 || binding <= min_precedence {
                self.deepest_tree = enclosing_deepest.max(depth);
                return Ok(left);
            }
            let operator_pos = self.peek().pos;
            self.deepest_tree = 0;
            left = self.parse_infix(left, binding)?;
            depth = depth.max(self.deepest_tree) + 1;
            if depth > MAX_TREE_DEPTH {
                return Err(too_deep(operator_pos));
            }
        }
    }

    /// The binding strength of the operator at the current token, 0 when it is none.
    fn infix_precedence(&self) -> u8 {
        match &self.peek().kind {
            TokenKind::Word(word) => match word.as_str() {
                "OR" => precedence::OR,
                "AND" => precedence::AND,
                "IS" | "BETWEEN" | "IN" | "LIKE" | "SIMILAR" => precedence::COMPARISON,
                "NOT" => {
                    let next = self.peek_nth(1);
                    if ["BETWEEN", "IN", "LIKE", "SIMILAR"]
                        .iter()
                        .any(|keyword| next.is_keyword(keyword))
                    {
                        precedence::COMPARISON
                    } else {
                        0
                    }
                }
                _ => 0,
            },
            TokenKind::Eq
            | TokenKind::NotEq
            | TokenKind::Lt
            | TokenKind::LtEq
            | TokenKind::Gt
            | TokenKind::GtEq => precedence::COMPARISON,
            TokenKind::Concat => precedence::CONCAT,
            TokenKind::Plus | TokenKind::Minus => precedence::ADDITIVE,
            TokenKind::Star | TokenKind::Slash | TokenKind::Percent => precedence::MULTIPLICATIVE,
            _ => 0,
        }
    }

    fn parse_infix(&mut self, left: Expr, binding: u8) -> Result<Expr> {
        let token = self.advance();
        let op = match &token.kind {
            TokenKind::Eq => Some(BinaryOperator::Eq),
            TokenKind::NotEq => Some(BinaryOperator::NotEq),
            TokenKind::Lt => Some(BinaryOperator::Lt),
            TokenKind::LtEq => Some(BinaryOperator::LtEq),
            TokenKind::Gt => Some(BinaryOperator::Gt),
            TokenKind::GtEq => Some(BinaryOperator::GtEq),
            TokenKind::Concat => Some(BinaryOperator::Concat),
            TokenKind::Plus => Some(BinaryOperator::Plus),
            TokenKind::Minus => Some(BinaryOperator::Minus),
            TokenKind::Star => Some(BinaryOperator::Multiply),
            TokenKind::Slash => Some(BinaryOperator::Divide),
            TokenKind::Percent => Some(BinaryOperator::Modulo),
            TokenKind::Word(word) if word == "OR" => Some(BinaryOperator::Or),
            TokenKind::Word(word) if word == "AND" => Some(BinaryOperator::And),
            _ => None,
        };
        if let Some(op) = op {
            let right = self.parse_expr_bp(binding)?;
            return Ok(Expr::Binary {
                left: Box::new(left),
                op,
                right: Box::new(right),
            });
        }
        let expr = Box::new(left);
        if token.is_keyword("IS") {
            let negated = self.eat_keyword("NOT");
            if self.eat_keyword("DISTINCT") {
                let after = if negated {
                    "after IS NOT DISTINCT"
                } else {
                    "after IS DISTINCT"
                };
                self.expect_keyword("FROM", after)?;
                let right = Box::new(self.parse_expr_bp(precedence::COMPARISON)?);
                return Ok(Expr::IsDistinctFrom {
                    left: expr,
                    negated,
                    right,
                });
            }
            let test = if self.eat_keyword("NULL") {
                IsTest::Null
            } else if self.eat_keyword("TRUE") {
                IsTest::True
            } else if self.eat_keyword("FALSE") {
                IsTest::False
            } else if self.eat_keyword("UNKNOWN") {
                IsTest::Unknown
            } else {
                let after = if negated { "after IS NOT" } else { "after IS" };
                return Err(self.expected("NULL, TRUE, FALSE, UNKNOWN or DISTINCT FROM", after));
            };
            return Ok(Expr::Is {
                expr,
                negated,
                test,
            });
        }
        let negated = token.is_keyword("NOT");
        let keyword = if negated { self.advance() } else { token };
        let TokenKind::Word(keyword) = keyword.kind else {
            unreachable!("infix_precedence() accepts only operators and keywords")
        };
        let not = if negated { "NOT " } else { "" };
        match keyword.as_str() {
            "BETWEEN" => {
                let low = Box::new(self.parse_expr_bp(precedence::COMPARISON)?);
                self.expect_keyword("AND", &format!("after the lower bound of {not}BETWEEN"))?;
                let high = Box::new(self.parse_expr_bp(precedence::COMPARISON)?);
                Ok(Expr::Between {
                    expr,
                    negated,
                    low,
                    high,
                })
            }
            "IN" => {
                self.expect(TokenKind::LeftParen, &format!("after {not}IN"))?;
                if self.at_keyword("SELECT") {
                    let subquery = Box::new(self.parse_query()?);
                    self.expect(TokenKind::RightParen, "after the subquery")?;
                    return Ok(Expr::InSubquery {
                        expr,
                        negated,
                        subquery,
                    });
                }
                let list = self.parse_expr_list()?;
                self.expect(TokenKind::RightParen, "after the IN list")?;
                Ok(Expr::InList {
                    expr,
                    negated,
                    list,
                })
            }
            "LIKE" | "SIMILAR" => {
                let like = keyword == "LIKE";
                if !like {
                    self.expect_keyword("TO", "after SIMILAR")?;
                }
                let pattern = Box::new(self.parse_expr_bp(precedence::COMPARISON)?);
                let escape = if self.eat_keyword("ESCAPE") {
                    Some(Box::new(self.parse_expr_bp(precedence::COMPARISON)?))
                } else {
                    None
                };
                if like {
                    Ok(Expr::Like {
                        expr,
                        negated,
                        pattern,
                        escape,
                    })
                } else {
                    Ok(Expr::SimilarTo {
                        expr,
                        negated,
                        pattern,
                        escape,
                    })
                }
            }
            _ => unreachable!("infix_precedence() accepts only these keywords"),
        }
    }

    fn parse_prefix(&mut self) -> Result<Expr> {
        let token = self.peek().clone();
        match &token.kind {
            TokenKind::Number(number) => {
                self.advance();
                Ok(Expr::Literal(Literal::Number(number.clone())))
            }
            TokenKind::String(value) => {
                self.advance();
                Ok(Expr::Literal(Literal::String(value.clone())))
            }
            TokenKind::Binary(hex) => {
                self.advance();
                Ok(Expr::Literal(Literal::Binary(hex.clone())))
            }
            TokenKind::Minus | TokenKind::Plus => {
                self.advance();
                let op = if token.kind == TokenKind::Minus {
                    UnaryOperator::Minus
                } else {
                    UnaryOperator::Plus
                };
                let expr = Box::new(self.parse_expr_bp(precedence::UNARY)?);
                Ok(Expr::Unary { op, expr })
            }
            TokenKind::LeftParen => {
                self.advance();
                if self.at_keyword("SELECT") {
                    let query = Box::new(self.parse_query()?);
                    self.expect(TokenKind::RightParen, "after the subquery")?;
                    return Ok(Expr::Subquery(query));
                }
                let expr = self.parse_expr()?;
                self.expect(TokenKind::RightParen, "to close the parenthesis")?;
                // `(a - b) SECOND`: the difference of two datetimes as an interval.
                if let TokenKind::Word(word) = &self.peek().kind
                    && TimeUnit::from_keyword(word).is_some_and(TimeUnit::is_interval_field)
                {
                    let qualifier = self.parse_interval_qualifier()?;
                    return Ok(Expr::IntervalOf {
                        expr: Box::new(expr),
                        qualifier,
                    });
                }
                Ok(expr)
            }
            TokenKind::QuotedIdent(_) => self.parse_identifier_or_call(),
            TokenKind::Word(word) => self.parse_word(word, token.pos),
            _ => Err(self.expected("an expression", "")),
        }
    }

    /// An expression starting with a word. Each construct has its own method, so that the
    /// frame of this one, on the stack once per nesting level, stays small.
    fn parse_word(&mut self, word: &str, pos: Position) -> Result<Expr> {
        let next_is_paren = self.peek_nth(1).kind == TokenKind::LeftParen;
        let next_is_string = matches!(self.peek_nth(1).kind, TokenKind::String(_));
        match word {
            "NOT" => {
                self.advance();
                let expr = Box::new(self.parse_expr_bp(precedence::NOT)?);
                Ok(Expr::Unary {
                    op: UnaryOperator::Not,
                    expr,
                })
            }
            "TRUE" | "FALSE" | "NULL" | "UNKNOWN" => {
                self.advance();
                Ok(Expr::Literal(match word {
                    "TRUE" => Literal::Boolean(true),
                    "FALSE" => Literal::Boolean(false),
                    "NULL" => Literal::Null,
                    _ => Literal::Unknown,
                }))
            }
            "INTERVAL" => self.parse_interval(),
            "TIMESTAMP" | "DATE" | "TIME" if next_is_string => self.parse_typed_string(word),
            "CASE" => self.parse_case(),
            "CAST" => self.parse_cast(pos),
            "EXTRACT" if next_is_paren => self.parse_extract(pos),
            "POSITION" if next_is_paren => self.parse_position(pos),
            "SUBSTRING" if next_is_paren => self.parse_substring(pos),
            "TRIM" if next_is_paren => self.parse_trim(pos),
            "OVERLAY" if next_is_paren => self.parse_overlay(pos),
            "FLOOR" | "CEIL" | "CEILING" if next_is_paren => self.parse_floor_ceil(word, pos),
            "STEP" if next_is_paren => self.parse_step(pos),
            "EXISTS" | "CURSOR" if next_is_paren => self.parse_query_argument(word),
            "TABLE" => self.parse_table_argument(),
            "DESCRIPTOR" if next_is_paren => self.parse_descriptor(),
            _ if NILADIC.contains(&word) => {
                self.advance();
                Ok(Expr::Niladic {
                    pos,
                    name: word.to_string(),
                })
            }
            // LEFT and RIGHT are join keywords, and string functions too.
            "LEFT" | "RIGHT" if next_is_paren => self.parse_identifier_or_call(),
            _ if is_reserved(word) => Err(self.expected("an expression", "")),
            _ => self.parse_identifier_or_call(),
        }
    }

    /// `INTERVAL '1:30' MINUTE TO SECOND`, `INTERVAL -'1' DAY`
    fn parse_interval(&mut self) -> Result<Expr> {
        self.advance();
        let negative = self.eat(&TokenKind::Minus);
        let TokenKind::String(value) = &self.peek().kind else {
            return Err(self.expected("a string", "after INTERVAL"));
        };
        let value = if negative {
            format!("-{value}")
        } else {
            value.clone()
        };
        self.advance();
        let qualifier = self.parse_interval_qualifier()?;
        Ok(Expr::Interval { value, qualifier })
    }

    /// `TIMESTAMP '...'`, `DATE '...'`, `TIME '...'`: the caller saw the string.
    fn parse_typed_string(&mut self, word: &str) -> Result<Expr> {
        self.advance();
        let data_type = match word {
            "TIMESTAMP" => DataType::Timestamp,
            "DATE" => DataType::Date,
            _ => DataType::Time,
        };
        let TokenKind::String(value) = self.advance().kind else {
            unreachable!("the caller checked that a string follows")
        };
        Ok(Expr::TypedString { data_type, value })
    }

    fn parse_cast(&mut self, pos: Position) -> Result<Expr> {
        self.advance();
        self.expect(TokenKind::LeftParen, "after CAST")?;
        let expr = Box::new(self.parse_expr()?);
        self.expect_keyword("AS", "in CAST")?;
        let data_type = self.parse_data_type()?;
        self.expect(TokenKind::RightParen, "after the type of CAST")?;
        Ok(Expr::Cast {
            pos,
            expr,
            data_type,
        })
    }

    fn parse_extract(&mut self, pos: Position) -> Result<Expr> {
        self.advance();
        self.advance();
        let field = self.parse_time_unit("EXTRACT")?;
        self.expect_keyword("FROM", "after the field of EXTRACT")?;
        let expr = Box::new(self.parse_expr()?);
        self.expect(TokenKind::RightParen, "after the argument of EXTRACT")?;
        Ok(Expr::Extract { pos, field, expr })
    }

    fn parse_position(&mut self, pos: Position) -> Result<Expr> {
        self.advance();
        self.advance();
        let needle = Box::new(self.parse_expr_bp(precedence::COMPARISON)?);
        self.expect_keyword("IN", "in POSITION")?;
        let haystack = Box::new(self.parse_expr()?);
        self.expect(TokenKind::RightParen, "after the arguments of POSITION")?;
        Ok(Expr::Position {
            pos,
            needle,
            haystack,
        })
    }

    fn parse_overlay(&mut self, pos: Position) -> Result<Expr> {
        self.advance();
        self.advance();
        let expr = Box::new(self.parse_expr()?);
        self.expect_keyword("PLACING", "in OVERLAY")?;
        let placing = Box::new(self.parse_expr()?);
        self.expect_keyword("FROM", "in OVERLAY")?;
        let from = Box::new(self.parse_expr()?);
        let length = if self.eat_keyword("FOR") {
            Some(Box::new(self.parse_expr()?))
        } else {
            None
        };
        self.expect(TokenKind::RightParen, "after the arguments of OVERLAY")?;
        Ok(Expr::Overlay {
            pos,
            expr,
            placing,
            from,
            length,
        })
    }

    /// `FLOOR(x TO unit)`; `FLOOR(x)` is an ordinary function.
    fn parse_floor_ceil(&mut self, word: &str, pos: Position) -> Result<Expr> {
        let mark = self.mark();
        self.advance();
        self.advance();
        let expr = Box::new(self.parse_expr()?);
        if !self.eat_keyword("TO") {
            self.reset(mark);
            return self.parse_identifier_or_call();
        }
        let unit = self.parse_time_unit(word)?;
        self.expect(TokenKind::RightParen, &format!("after the unit of {word}"))?;
        Ok(Expr::FloorCeil {
            pos,
            ceil: word != "FLOOR",
            expr,
            unit,
        })
    }

    fn parse_step(&mut self, pos: Position) -> Result<Expr> {
        self.advance();
        self.advance();
        let expr = Box::new(self.parse_expr()?);
        self.expect_keyword("BY", "in STEP")?;
        let step = Box::new(self.parse_expr()?);
        self.expect(TokenKind::RightParen, "after the arguments of STEP")?;
        Ok(Expr::Step { pos, expr, step })
    }

    /// `EXISTS (query)` or `CURSOR (query)`.
    fn parse_query_argument(&mut self, word: &str) -> Result<Expr> {
        self.advance();
        self.advance();
        let query = Box::new(self.parse_query()?);
        self.expect(TokenKind::RightParen, &format!("after the query of {word}"))?;
        Ok(if word == "EXISTS" {
            Expr::Exists(query)
        } else {
            Expr::Cursor(query)
        })
    }

    /// `TABLE s`, an argument of a Flink-style window function.
    fn parse_table_argument(&mut self) -> Result<Expr> {
        self.advance();
        let mut parts = vec![self.parse_ident("a stream or table name after TABLE")?];
        while self.eat(&TokenKind::Dot) {
            parts.push(self.parse_ident("an identifier after .")?);
        }
        Ok(Expr::TableRef(ObjectName(parts)))
    }

    fn parse_descriptor(&mut self) -> Result<Expr> {
        self.advance();
        self.advance();
        let mut columns = vec![self.parse_ident("a column name")?];
        while self.eat(&TokenKind::Comma) {
            columns.push(self.parse_ident("a column name")?);
        }
        self.expect(TokenKind::RightParen, "after the columns of DESCRIPTOR")?;
        Ok(Expr::Descriptor(columns))
    }

    /// `a`, `s.col`, `"s"."col"`, or a function call `f(...)` with an optional `OVER`.
    fn parse_identifier_or_call(&mut self) -> Result<Expr> {
        let first = self.advance();
        let first = match first.kind {
            TokenKind::QuotedIdent(name) => Ident {
                name,
                quoted: true,
                pos: first.pos,
            },
            TokenKind::Word(name) => Ident {
                name,
                quoted: false,
                pos: first.pos,
            },
            _ => unreachable!("called on a word or quoted identifier"),
        };
        let pos = first.pos;
        let mut parts = vec![first];
        while self.eat(&TokenKind::Dot) {
            parts.push(self.parse_ident("an identifier after .")?);
        }
        if self.peek().kind != TokenKind::LeftParen {
            return Ok(if parts.len() == 1 {
                Expr::Identifier(parts.remove(0))
            } else {
                Expr::CompoundIdentifier(parts)
            });
        }
        let name = ObjectName(parts);
        self.advance();
        let mut call = FunctionCall {
            pos,
            name,
            quantifier: None,
            args: Vec::new(),
            ignore_nulls: None,
            from_last: None,
            over: None,
        };
        if !self.eat(&TokenKind::RightParen) {
            call.quantifier = self.parse_quantifier();
            if self.eat(&TokenKind::Star) {
                call.args.push(FunctionArg::Star);
            } else {
                loop {
                    call.args.push(self.parse_function_arg()?);
                    if !self.eat(&TokenKind::Comma) {
                        break;
                    }
                }
            }
            let context = format!("after the arguments of {}", call.name);
            self.expect(TokenKind::RightParen, &context)?;
        }
        // NTH_VALUE's `FROM FIRST | FROM LAST` (FROM alone would start the query's FROM).
        if call
            .name
            .0
            .last()
            .is_some_and(|ident| ident.name == "NTH_VALUE")
            && self.at_keyword("FROM")
            && (self.peek_nth(1).is_keyword("FIRST") || self.peek_nth(1).is_keyword("LAST"))
        {
            self.advance();
            call.from_last = Some(self.advance().is_keyword("LAST"));
        }
        // IGNORE and RESPECT are not reserved: only NULLS after them makes a null treatment.
        if self.peek_nth(1).is_keyword("NULLS")
            && (self.at_keyword("IGNORE") || self.at_keyword("RESPECT"))
        {
            call.ignore_nulls = Some(self.advance().is_keyword("IGNORE"));
            self.advance();
        }
        if self.eat_keyword("OVER") {
            if self.eat(&TokenKind::LeftParen) {
                let spec = self.parse_window_spec()?;
                self.expect(TokenKind::RightParen, "after the window specification")?;
                call.over = Some(Over::Spec(spec));
            } else {
                call.over = Some(Over::Named(
                    self.parse_ident("a window name or ( after OVER")?,
                ));
            }
        }
        Ok(Expr::Function(Box::new(call)))
    }

    fn parse_function_arg(&mut self) -> Result<FunctionArg> {
        if self.at_ident() && self.peek_nth(1).kind == TokenKind::Arrow {
            let name = self.parse_ident("an argument name")?;
            self.advance();
            return Ok(FunctionArg::Named {
                name,
                value: self.parse_expr()?,
            });
        }
        Ok(FunctionArg::Expr(self.parse_expr()?))
    }

    fn parse_case(&mut self) -> Result<Expr> {
        self.advance();
        let operand = if self.at_keyword("WHEN") {
            None
        } else {
            Some(Box::new(self.parse_expr()?))
        };
        let mut branches = Vec::new();
        while self.eat_keyword("WHEN") {
            let condition = self.parse_expr()?;
            self.expect_keyword("THEN", "after the WHEN condition")?;
            branches.push((condition, self.parse_expr()?));
        }
        if branches.is_empty() {
            return Err(self.expected("WHEN", "in CASE"));
        }
        let else_result = if self.eat_keyword("ELSE") {
            Some(Box::new(self.parse_expr()?))
        } else {
            None
        };
        self.expect_keyword("END", "to close CASE")?;
        Ok(Expr::Case {
            operand,
            branches,
            else_result,
        })
    }

    /// `SUBSTRING(x FROM a [FOR b])` or `SUBSTRING(x, a [, b])`.
    fn parse_substring(&mut self, pos: Position) -> Result<Expr> {
        self.advance();
        self.advance();
        let expr = Box::new(self.parse_expr()?);
        let (from, length) = if self.eat_keyword("FROM") {
            let from = Box::new(self.parse_expr()?);
            (
                from,
                if self.eat_keyword("FOR") {
                    Some(Box::new(self.parse_expr()?))
                } else {
                    None
                },
            )
        } else if self.eat(&TokenKind::Comma) {
            let from = Box::new(self.parse_expr()?);
            (
                from,
                if self.eat(&TokenKind::Comma) {
                    Some(Box::new(self.parse_expr()?))
                } else {
                    None
                },
            )
        } else {
            return Err(self.expected("FROM or ,", "after the string of SUBSTRING"));
        };
        self.expect(TokenKind::RightParen, "after the arguments of SUBSTRING")?;
        Ok(Expr::Substring {
            pos,
            expr,
            from,
            length,
        })
    }

    /// `TRIM([BOTH | LEADING | TRAILING] [characters] FROM x)` or `TRIM(x)`.
    fn parse_trim(&mut self, pos: Position) -> Result<Expr> {
        self.advance();
        self.advance();
        let side = if self.eat_keyword("BOTH") {
            Some(TrimSide::Both)
        } else if self.eat_keyword("LEADING") {
            Some(TrimSide::Leading)
        } else if self.eat_keyword("TRAILING") {
            Some(TrimSide::Trailing)
        } else {
            None
        };
        let (characters, expr) = if side.is_some() && self.eat_keyword("FROM") {
            (None, self.parse_expr()?)
        } else {
            let first = self.parse_expr()?;
            if self.eat_keyword("FROM") {
                (Some(Box::new(first)), self.parse_expr()?)
            } else if side.is_some() {
                return Err(self.expected("FROM", "in TRIM"));
            } else {
                (None, first)
            }
        };
        self.expect(TokenKind::RightParen, "after the arguments of TRIM")?;
        Ok(Expr::Trim {
            pos,
            side,
            characters,
            expr: Box::new(expr),
        })
    }

    fn parse_time_unit(&mut self, function: &str) -> Result<TimeUnit> {
        if let TokenKind::Word(word) = &self.peek().kind
            && let Some(unit) = TimeUnit::from_keyword(word)
        {
            self.advance();
            return Ok(unit);
        }
        Err(self.expected("a time unit", &format!("in {function}")))
    }

    /// `MINUTE`, `DAY(3)`, `MINUTE TO SECOND`, `HOUR(2) TO SECOND(3)`.
    fn parse_interval_qualifier(&mut self) -> Result<IntervalQualifier> {
        let start = self.parse_interval_field("")?;
        let start_precision = self.parse_optional_precision()?;
        let mut qualifier = IntervalQualifier {
            start,
            start_precision,
            end: None,
            end_precision: None,
        };
        // `TO` belongs to the qualifier only if a smaller field follows; otherwise it is the
        // `TO` of `FLOOR(x TO unit)`.
        let smaller_follows = match &self.peek_nth(1).kind {
            TokenKind::Word(word) => TimeUnit::from_keyword(word).is_some_and(|end| {
                end.is_interval_field() && interval_rank(end) > interval_rank(start)
            }),
            _ => false,
        };
        if self.at_keyword("TO") && smaller_follows {
            self.advance();
            qualifier.end = Some(self.parse_interval_field("after TO")?);
            qualifier.end_precision = self.parse_optional_precision()?;
        }
        Ok(qualifier)
    }

    fn parse_interval_field(&mut self, context: &str) -> Result<TimeUnit> {
        if let TokenKind::Word(word) = &self.peek().kind
            && let Some(unit) = TimeUnit::from_keyword(word).filter(|unit| unit.is_interval_field())
        {
            self.advance();
            return Ok(unit);
        }
        Err(self.expected("YEAR, MONTH, DAY, HOUR, MINUTE or SECOND", context))
    }

    fn parse_optional_precision(&mut self) -> Result<Option<u32>> {
        // `(` after a field is its precision only when a number follows: `DAY(3)`.
        let number_follows = matches!(self.peek_nth(1).kind, TokenKind::Number(_));
        if self.peek().kind != TokenKind::LeftParen || !number_follows {
            return Ok(None);
        }
        self.advance();
        let precision = self.parse_u32("a precision")?;
        self.expect(TokenKind::RightParen, "after the precision")?;
        Ok(Some(precision))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::lexer::tokenize;

    fn parse(text: &str) -> Expr {
        let mut parser = Parser::new(tokenize(text).expect("valid tokens"));
        let expr = parser
            .parse_expr()
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(parser.peek().kind, TokenKind::Eof, "all of {text} parsed");
        expr
    }

    /// The tree with every operator in parentheses, to show how it grouped.
    fn tree(expr: &Expr) -> String {
        match expr {
            Expr::Binary { left, op, right } => {
                let op = Expr::Binary {
                    left: Box::new(Expr::Literal(Literal::Null)),
                    op: *op,
                    right: Box::new(Expr::Literal(Literal::Null)),
                }
                .to_string();
                let op = op.trim_start_matches("NULL ").trim_end_matches(" NULL");
                format!("({} {op} {})", tree(left), tree(right))
            }
            Expr::Unary { op, expr } => {
                let op = match op {
                    UnaryOperator::Not => "NOT ",
                    UnaryOperator::Minus => "-",
                    UnaryOperator::Plus => "+",
                };
                format!("({op}{})", tree(expr))
            }
            Expr::Is {
                expr,
                negated,
                test,
            } => {
                format!(
                    "({} IS {}{test:?})",
                    tree(expr),
                    if *negated { "NOT " } else { "" }
                )
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => format!(
                "({} {}BETWEEN {} AND {})",
                tree(expr),
                if *negated { "NOT " } else { "" },
                tree(low),
                tree(high)
            ),
            Expr::Like { expr, pattern, .. } => format!("({} LIKE {})", tree(expr), tree(pattern)),
            Expr::InList { expr, list, .. } => {
                let list: Vec<String> = list.iter().map(tree).collect();
                format!("({} IN [{}])", tree(expr), list.join(", "))
            }
            Expr::IntervalOf { expr, qualifier } => format!("({} {qualifier})", tree(expr)),
            other => other.to_string(),
        }
    }

    #[test]
    fn arithmetic_binds_tighter_than_concatenation_and_comparison() {
        assert_eq!(tree(&parse("1 + 2 * 3")), "(1 + (2 * 3))");
        assert_eq!(tree(&parse("1 * 2 + 3")), "((1 * 2) + 3)");
        assert_eq!(tree(&parse("1 - 2 - 3")), "((1 - 2) - 3)");
        assert_eq!(tree(&parse("8 / 4 / 2 % 3")), "(((8 / 4) / 2) % 3)");
        assert_eq!(tree(&parse("(1 + 2) * 3")), "((1 + 2) * 3)");
        assert_eq!(tree(&parse("-a * b")), "((-A) * B)");
        assert_eq!(tree(&parse("- - a")), "(-(-A))");
        assert_eq!(tree(&parse("a || b + 1 = c")), "((A || (B + 1)) = C)");
        assert_eq!(tree(&parse("a < b + 1")), "(A < (B + 1))");
    }

    #[test]
    fn boolean_operators_bind_not_and_or_in_that_order() {
        assert_eq!(tree(&parse("a OR b AND c")), "(A OR (B AND C))");
        assert_eq!(
            tree(&parse("a AND b OR c AND d")),
            "((A AND B) OR (C AND D))"
        );
        assert_eq!(tree(&parse("NOT a = b AND c")), "((NOT (A = B)) AND C)");
        assert_eq!(tree(&parse("NOT NOT a")), "(NOT (NOT A))");
    }

    #[test]
    fn postfix_predicates_take_whole_operands() {
        assert_eq!(tree(&parse("a + 1 IS NOT NULL")), "((A + 1) IS NOT Null)");
        assert_eq!(
            tree(&parse("x BETWEEN 1 + 1 AND 5 AND y")),
            "((X BETWEEN (1 + 1) AND 5) AND Y)"
        );
        assert_eq!(
            tree(&parse("x NOT BETWEEN a AND b OR c")),
            "((X NOT BETWEEN A AND B) OR C)"
        );
        assert_eq!(
            tree(&parse("a || 'x' LIKE 'ax%' AND b")),
            "(((A || 'x') LIKE 'ax%') AND B)"
        );
        assert_eq!(
            tree(&parse("a + 1 IN (1, 2 * 3)")),
            "((A + 1) IN [1, (2 * 3)])"
        );
        assert_eq!(
            tree(&parse("(t - u) SECOND / 10")),
            "(((T - U) SECOND) / 10)"
        );
    }

    #[test]
    fn printing_adds_parentheses_only_where_needed() {
        for (input, printed) in [
            ("(a + b) * c", "(A + B) * C"),
            ("a + (b * c)", "A + B * C"),
            ("a - (b - c)", "A - (B - C)"),
            ("(a - b) - c", "A - B - C"),
            ("(a OR b) AND c", "(A OR B) AND C"),
            ("NOT (a AND b)", "NOT (A AND B)"),
            ("-(a + 1)", "-(A + 1)"),
            ("-(-1)", "- -1"),
            ("(a = b) IS TRUE", "A = B IS TRUE"),
            ("x BETWEEN (a OR b) AND c", "X BETWEEN (A OR B) AND C"),
        ] {
            let expr = parse(input);
            assert_eq!(expr.to_string(), printed, "printing {input}");
            assert_eq!(tree(&parse(printed)), tree(&expr), "reparsing {printed}");
        }
    }
}
