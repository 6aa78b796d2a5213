//! Queries: set operations, `SELECT [STREAM]` and its clauses, `FROM` items and joins, windows
//! (`WINDOW`, `OVER`, `WINDOWED BY STAGGER`) and `ORDER BY ... [WITHIN]`.

use super::ast::*;
use super::error::SqlError;
use super::lexer::TokenKind;
use super::parser::{Parser, QUERY_NESTING_COST};

type Result<T> = std::result::Result<T, SqlError>;

impl Parser {
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

    /// Set operations: `UNION` and `EXCEPT` left-associative, `INTERSECT` binding tighter, as in
    /// standard SQL. Each costs one nesting unit until the query ends (see `Parser::charge`).
    fn parse_query_body(&mut self) -> Result<QueryBody> {
        let mut charged = 0;
        let result = self.parse_unions(&mut charged);
        self.release(charged);
        result
    }

    fn parse_unions(&mut self, charged: &mut u32) -> Result<QueryBody> {
        let mut left = self.parse_intersections(charged)?;
        loop {
            let op = if self.eat_keyword("UNION") {
                SetOperator::Union
            } else if self.eat_keyword("EXCEPT") {
                SetOperator::Except
            } else {
                return Ok(left);
            };
            self.charge(1)?;
            *charged += 1;
            let all = self.parse_set_quantifier();
            let right = self.parse_intersections(charged)?;
            left = QueryBody::SetOperation {
                op,
                all,
                left: Box::new(left),
                right: Box::new(right),
            };
        }
    }

    fn parse_intersections(&mut self, charged: &mut u32) -> Result<QueryBody> {
        let mut left = self.parse_query_term()?;
        while self.eat_keyword("INTERSECT") {
            self.charge(1)?;
            *charged += 1;
            let all = self.parse_set_quantifier();
            let right = self.parse_query_term()?;
            left = QueryBody::SetOperation {
                op: SetOperator::Intersect,
                all,
                left: Box::new(left),
                right: Box::new(right),
            };
        }
        Ok(left)
    }

    /// `ALL` (true) or `DISTINCT`/nothing (false) after a set operator.
    fn parse_set_quantifier(&mut self) -> bool {
        let all = self.eat_keyword("ALL");
        if !all {
            self.eat_keyword("DISTINCT");
        }
        all
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
            let kind = if self.eat_keyword("JOIN") {
                JoinKind::Inner
            } else {
                let kind = if self.eat_keyword("INNER") {
                    JoinKind::Inner
                } else if self.eat_keyword("LEFT") {
                    JoinKind::Left
                } else if self.eat_keyword("RIGHT") {
                    JoinKind::Right
                } else if self.eat_keyword("FULL") {
                    JoinKind::Full
                } else if self.eat_keyword("CROSS") {
                    JoinKind::Cross
                } else {
                    return Ok(TableWithJoins { relation, joins });
                };
                if matches!(kind, JoinKind::Left | JoinKind::Right | JoinKind::Full) {
                    self.eat_keyword("OUTER");
                }
                self.expect_keyword("JOIN", "after the join type")?;
                kind
            };
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
