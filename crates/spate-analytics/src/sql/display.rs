//! The syntax tree printed back as normalized SQL (`Display`): keywords and unquoted
//! identifiers in upper case, single spaces, parentheses only where precedence needs them (and
//! around interval differences), `SUBSTRING` in its `FROM ... FOR` form, `<>` for `!=`. Printing
//! a tree and parsing the text again gives the same tree, positions aside; error messages and
//! golden tests rely on it.

use std::fmt;

use super::ast::*;

/// Prints `expr`, in parentheses if it binds less tightly than `min_precedence`.
struct Operand<'a>(&'a Expr, u8);

impl fmt::Display for Operand<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.precedence() < self.1 {
            write!(f, "({})", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// Prints items separated by `, `.
struct Comma<'a, T>(&'a [T]);

impl<T: fmt::Display> fmt::Display for Comma<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, item) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{item}")?;
        }
        Ok(())
    }
}

fn write_string(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    write!(f, "'{}'", value.replace('\'', "''"))
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Upper-casing can leave characters the lexer does not take unquoted (`ǰ` becomes `J`
        // and a combining caron): such a name prints quoted, which names the same thing.
        if self.quoted || !lexes_unquoted(&self.name) {
            write!(f, "\"{}\"", self.name.replace('"', "\"\""))
        } else {
            f.write_str(&self.name)
        }
    }
}

/// Whether `name` reads back as one unquoted identifier (see the lexer's identifier rule).
fn lexes_unquoted(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_alphabetic() || first == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

impl fmt::Display for ObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, part) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(".")?;
            }
            write!(f, "{part}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statement::CreateStream(stream) => {
                let replace = if stream.or_replace { "OR REPLACE " } else { "" };
                write!(
                    f,
                    "CREATE {replace}STREAM {} ({})",
                    stream.name,
                    Comma(&stream.columns)
                )?;
                if let Some(description) = &stream.description {
                    f.write_str(" DESCRIPTION ")?;
                    write_string(f, description)?;
                }
                Ok(())
            }
            Statement::CreatePump(pump) => {
                let replace = if pump.or_replace { "OR REPLACE " } else { "" };
                write!(f, "CREATE {replace}PUMP {}", pump.name)?;
                if let Some(description) = &pump.description {
                    f.write_str(" DESCRIPTION ")?;
                    write_string(f, description)?;
                }
                write!(f, " AS INSERT INTO {}", pump.target)?;
                if !pump.target_columns.is_empty() {
                    write!(f, " ({})", Comma(&pump.target_columns))?;
                }
                write!(f, " {}", pump.query)
            }
            Statement::Query(query) => write!(f, "{query}"),
        }
    }
}

impl fmt::Display for ColumnDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.data_type)?;
        if self.not_null {
            f.write_str(" NOT NULL")?;
        }
        Ok(())
    }
}

fn write_length(f: &mut fmt::Formatter<'_>, name: &str, length: Option<u32>) -> fmt::Result {
    match length {
        Some(length) => write!(f, "{name}({length})"),
        None => f.write_str(name),
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DataType::Varchar(length) => write_length(f, "VARCHAR", length),
            DataType::Char(length) => write_length(f, "CHAR", length),
            DataType::Integer => f.write_str("INTEGER"),
            DataType::Bigint => f.write_str("BIGINT"),
            DataType::Smallint => f.write_str("SMALLINT"),
            DataType::Tinyint => f.write_str("TINYINT"),
            DataType::Decimal(None, _) => f.write_str("DECIMAL"),
            DataType::Decimal(Some(precision), None) => write!(f, "DECIMAL({precision})"),
            DataType::Decimal(Some(precision), Some(scale)) => {
                write!(f, "DECIMAL({precision}, {scale})")
            }
            DataType::Real => f.write_str("REAL"),
            DataType::Double => f.write_str("DOUBLE"),
            DataType::Float => f.write_str("FLOAT"),
            DataType::Boolean => f.write_str("BOOLEAN"),
            DataType::Timestamp => f.write_str("TIMESTAMP"),
            DataType::Date => f.write_str("DATE"),
            DataType::Time => f.write_str("TIME"),
            DataType::Varbinary(length) => write_length(f, "VARBINARY", length),
            DataType::Binary(length) => write_length(f, "BINARY", length),
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.body)?;
        if !self.order_by.is_empty() {
            write!(f, " ORDER BY {}", Comma(&self.order_by))?;
        }
        Ok(())
    }
}

impl fmt::Display for QueryBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryBody::Select(select) => write!(f, "{select}"),
            QueryBody::SetOperation {
                op,
                all,
                left,
                right,
            } => {
                let op = match op {
                    SetOperator::Union => "UNION",
                    SetOperator::Except => "EXCEPT",
                    SetOperator::Intersect => "INTERSECT",
                };
                let all = if *all { " ALL" } else { "" };
                // Parentheses written in the code are `Nested` nodes; a set operation directly
                // under another is an INTERSECT under a UNION or EXCEPT, or the left-hand chain,
                // and needs none.
                write!(f, "{left} {op}{all} {right}")
            }
            QueryBody::Nested(query) => write!(f, "({query})"),
        }
    }
}

impl fmt::Display for Select {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT")?;
        if self.stream {
            f.write_str(" STREAM")?;
        }
        match self.quantifier {
            Some(SetQuantifier::All) => f.write_str(" ALL")?,
            Some(SetQuantifier::Distinct) => f.write_str(" DISTINCT")?,
            None => {}
        }
        write!(f, " {}", Comma(&self.projection))?;
        if !self.from.is_empty() {
            write!(f, " FROM {}", Comma(&self.from))?;
        }
        if let Some(selection) = &self.selection {
            write!(f, " WHERE {selection}")?;
        }
        if !self.group_by.is_empty() {
            write!(f, " GROUP BY {}", Comma(&self.group_by))?;
        }
        if let Some(having) = &self.having {
            write!(f, " HAVING {having}")?;
        }
        if !self.windows.is_empty() {
            write!(f, " WINDOW {}", Comma(&self.windows))?;
        }
        if let Some(stagger) = &self.stagger {
            write!(
                f,
                " WINDOWED BY STAGGER (PARTITION BY {} RANGE {})",
                Comma(&stagger.partition_by),
                stagger.range
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for SelectItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectItem::Wildcard => f.write_str("*"),
            SelectItem::QualifiedWildcard(name) => write!(f, "{name}.*"),
            SelectItem::Expr {
                expr,
                alias: Some(alias),
            } => write!(f, "{expr} AS {alias}"),
            SelectItem::Expr { expr, alias: None } => write!(f, "{expr}"),
        }
    }
}

fn write_alias(f: &mut fmt::Formatter<'_>, alias: &Option<TableAlias>) -> fmt::Result {
    match alias {
        Some(TableAlias { name, columns }) if columns.is_empty() => write!(f, " AS {name}"),
        Some(TableAlias { name, columns }) => write!(f, " AS {name} ({})", Comma(columns)),
        None => Ok(()),
    }
}

impl fmt::Display for TableWithJoins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.relation)?;
        for join in &self.joins {
            write!(f, " {join}")?;
        }
        Ok(())
    }
}

impl fmt::Display for TableFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableFactor::Named {
                name,
                window,
                alias,
            } => {
                write!(f, "{name}")?;
                if let Some(window) = window {
                    write!(f, " OVER ({window})")?;
                }
                write_alias(f, alias)
            }
            TableFactor::Derived { subquery, alias } => {
                write!(f, "({subquery})")?;
                write_alias(f, alias)
            }
            TableFactor::Function { call, alias, .. } => {
                write!(f, "TABLE({call})")?;
                write_alias(f, alias)
            }
        }
    }
}

impl fmt::Display for Join {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            JoinKind::Inner => "JOIN",
            JoinKind::Left => "LEFT JOIN",
            JoinKind::Right => "RIGHT JOIN",
            JoinKind::Full => "FULL JOIN",
            JoinKind::Cross => "CROSS JOIN",
        };
        write!(f, "{kind} {}", self.relation)?;
        match &self.constraint {
            JoinConstraint::On(condition) => write!(f, " ON {condition}"),
            JoinConstraint::Using(columns) => write!(f, " USING ({})", Comma(columns)),
            JoinConstraint::None => Ok(()),
        }
    }
}

impl fmt::Display for NamedWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} AS ({})", self.name, self.spec)
    }
}

impl fmt::Display for WindowSpec {
    /// The inside of the parentheses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut separator = "";
        if let Some(base) = &self.base {
            write!(f, "{base}")?;
            separator = " ";
        }
        if !self.partition_by.is_empty() {
            write!(f, "PARTITION BY {}", Comma(&self.partition_by))?;
            separator = " ";
        }
        if !self.order_by.is_empty() {
            write!(f, "{separator}ORDER BY {}", Comma(&self.order_by))?;
            separator = " ";
        }
        if let Some(frame) = &self.frame {
            write!(f, "{separator}{frame}")?;
        }
        Ok(())
    }
}

impl fmt::Display for WindowFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = match self.units {
            FrameUnits::Rows => "ROWS",
            FrameUnits::Range => "RANGE",
        };
        match &self.end {
            Some(end) => write!(f, "{units} BETWEEN {} AND {end}", self.start),
            None => write!(f, "{units} {}", self.start),
        }
    }
}

impl fmt::Display for FrameBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameBound::Preceding(None) => f.write_str("UNBOUNDED PRECEDING"),
            FrameBound::Preceding(Some(offset)) => {
                write!(f, "{} PRECEDING", Operand(offset, precedence::CONCAT))
            }
            FrameBound::CurrentRow => f.write_str("CURRENT ROW"),
            FrameBound::Following(None) => f.write_str("UNBOUNDED FOLLOWING"),
            FrameBound::Following(Some(offset)) => {
                write!(f, "{} FOLLOWING", Operand(offset, precedence::CONCAT))
            }
        }
    }
}

impl fmt::Display for OrderByItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        if let Some(within) = &self.within {
            write!(f, " WITHIN {within}")?;
        }
        match self.ascending {
            Some(true) => f.write_str(" ASC"),
            Some(false) => f.write_str(" DESC"),
            None => Ok(()),
        }
    }
}

impl fmt::Display for FunctionCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        match self.quantifier {
            Some(SetQuantifier::All) => f.write_str("ALL ")?,
            Some(SetQuantifier::Distinct) => f.write_str("DISTINCT ")?,
            None => {}
        }
        write!(f, "{})", Comma(&self.args))?;
        match self.from_last {
            Some(true) => f.write_str(" FROM LAST")?,
            Some(false) => f.write_str(" FROM FIRST")?,
            None => {}
        }
        match self.ignore_nulls {
            Some(true) => f.write_str(" IGNORE NULLS")?,
            Some(false) => f.write_str(" RESPECT NULLS")?,
            None => {}
        }
        match &self.over {
            Some(Over::Named(name)) => write!(f, " OVER {name}"),
            Some(Over::Spec(spec)) => write!(f, " OVER ({spec})"),
            None => Ok(()),
        }
    }
}

impl fmt::Display for FunctionArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FunctionArg::Star => f.write_str("*"),
            FunctionArg::Expr(expr) => write!(f, "{expr}"),
            FunctionArg::Named { name, value } => write!(f, "{name} => {value}"),
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Number(number) => f.write_str(number),
            Literal::String(value) => write_string(f, value),
            Literal::Binary(hex) => write!(f, "X'{hex}'"),
            Literal::Boolean(true) => f.write_str("TRUE"),
            Literal::Boolean(false) => f.write_str("FALSE"),
            Literal::Null => f.write_str("NULL"),
            Literal::Unknown => f.write_str("UNKNOWN"),
        }
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeUnit::Year => "YEAR",
            TimeUnit::Quarter => "QUARTER",
            TimeUnit::Month => "MONTH",
            TimeUnit::Week => "WEEK",
            TimeUnit::Day => "DAY",
            TimeUnit::Hour => "HOUR",
            TimeUnit::Minute => "MINUTE",
            TimeUnit::Second => "SECOND",
            TimeUnit::Millisecond => "MILLISECOND",
        })
    }
}

impl fmt::Display for IntervalQualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.start)?;
        if let Some(precision) = self.start_precision {
            write!(f, "({precision})")?;
        }
        if let Some(end) = self.end {
            write!(f, " TO {end}")?;
            if let Some(precision) = self.end_precision {
                write!(f, "({precision})")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Expr {
    /// Operator chains make the deepest trees, so they print through small frames of their
    /// own; every other form is printed by `fmt_other`, whose frame is large.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Binary { left, op, right } => fmt_binary(f, left, *op, right),
            _ => self.fmt_other(f),
        }
    }
}

#[inline(never)]
fn fmt_binary(
    f: &mut fmt::Formatter<'_>,
    left: &Expr,
    op: BinaryOperator,
    right: &Expr,
) -> fmt::Result {
    let binding = op.precedence();
    write!(
        f,
        "{} {} {}",
        Operand(left, binding),
        op.symbol(),
        Operand(right, binding + 1)
    )
}

impl Expr {
    #[inline(never)]
    fn fmt_other(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let comparison_operand = precedence::COMPARISON + 1;
        match self {
            Expr::Identifier(ident) => write!(f, "{ident}"),
            Expr::CompoundIdentifier(parts) => {
                for (index, part) in parts.iter().enumerate() {
                    if index > 0 {
                        f.write_str(".")?;
                    }
                    write!(f, "{part}")?;
                }
                Ok(())
            }
            Expr::Literal(literal) => write!(f, "{literal}"),
            Expr::Interval { value, qualifier } => {
                f.write_str("INTERVAL ")?;
                write_string(f, value)?;
                write!(f, " {qualifier}")
            }
            Expr::TypedString { data_type, value } => {
                write!(f, "{data_type} ")?;
                write_string(f, value)
            }
            Expr::Unary {
                op: UnaryOperator::Not,
                expr,
            } => write!(f, "NOT {}", Operand(expr, precedence::NOT)),
            Expr::Unary { op, expr } => {
                let sign = if *op == UnaryOperator::Minus {
                    "-"
                } else {
                    "+"
                };
                // `- -1` must not print as `--1`, a comment; a space keeps the signs apart
                // without the parentheses that would count as nesting when read again.
                if matches!(
                    expr.as_ref(),
                    Expr::Unary {
                        op: UnaryOperator::Minus | UnaryOperator::Plus,
                        ..
                    }
                ) {
                    write!(f, "{sign} {expr}")
                } else {
                    write!(f, "{sign}{}", Operand(expr, precedence::UNARY))
                }
            }
            Expr::Binary { left, op, right } => fmt_binary(f, left, *op, right),
            Expr::Is {
                expr,
                negated,
                test,
            } => {
                let not = if *negated { "NOT " } else { "" };
                let test = match test {
                    IsTest::Null => "NULL",
                    IsTest::True => "TRUE",
                    IsTest::False => "FALSE",
                    IsTest::Unknown => "UNKNOWN",
                };
                write!(
                    f,
                    "{} IS {not}{test}",
                    Operand(expr, precedence::COMPARISON)
                )
            }
            Expr::IsDistinctFrom {
                left,
                negated,
                right,
            } => {
                let not = if *negated { "NOT " } else { "" };
                write!(
                    f,
                    "{} IS {not}DISTINCT FROM {}",
                    Operand(left, precedence::COMPARISON),
                    Operand(right, comparison_operand)
                )
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let not = if *negated { "NOT " } else { "" };
                write!(
                    f,
                    "{} {not}BETWEEN {} AND {}",
                    Operand(expr, precedence::COMPARISON),
                    Operand(low, comparison_operand),
                    Operand(high, comparison_operand)
                )
            }
            Expr::InList {
                expr,
                negated,
                list,
            } => {
                let not = if *negated { "NOT " } else { "" };
                write!(
                    f,
                    "{} {not}IN ({})",
                    Operand(expr, precedence::COMPARISON),
                    Comma(list)
                )
            }
            Expr::InSubquery {
                expr,
                negated,
                subquery,
            } => {
                let not = if *negated { "NOT " } else { "" };
                write!(
                    f,
                    "{} {not}IN ({subquery})",
                    Operand(expr, precedence::COMPARISON)
                )
            }
            Expr::Like {
                expr,
                negated,
                pattern,
                escape,
            }
            | Expr::SimilarTo {
                expr,
                negated,
                pattern,
                escape,
            } => {
                let not = if *negated { "NOT " } else { "" };
                let keyword = if matches!(self, Expr::Like { .. }) {
                    "LIKE"
                } else {
                    "SIMILAR TO"
                };
                write!(
                    f,
                    "{} {not}{keyword} {}",
                    Operand(expr, precedence::COMPARISON),
                    Operand(pattern, comparison_operand)
                )?;
                if let Some(escape) = escape {
                    write!(f, " ESCAPE {}", Operand(escape, comparison_operand))?;
                }
                Ok(())
            }
            Expr::Case {
                operand,
                branches,
                else_result,
            } => {
                f.write_str("CASE")?;
                if let Some(operand) = operand {
                    write!(f, " {operand}")?;
                }
                for (condition, result) in branches {
                    write!(f, " WHEN {condition} THEN {result}")?;
                }
                if let Some(else_result) = else_result {
                    write!(f, " ELSE {else_result}")?;
                }
                f.write_str(" END")
            }
            Expr::Cast {
                expr, data_type, ..
            } => write!(f, "CAST({expr} AS {data_type})"),
            Expr::Function(call) => write!(f, "{call}"),
            Expr::Extract { field, expr, .. } => write!(f, "EXTRACT({field} FROM {expr})"),
            Expr::Position {
                needle, haystack, ..
            } => {
                write!(
                    f,
                    "POSITION({} IN {haystack})",
                    Operand(needle, comparison_operand)
                )
            }
            Expr::Substring {
                expr, from, length, ..
            } => {
                write!(f, "SUBSTRING({expr} FROM {from}")?;
                if let Some(length) = length {
                    write!(f, " FOR {length}")?;
                }
                f.write_str(")")
            }
            Expr::Trim {
                side,
                characters,
                expr,
                ..
            } => {
                f.write_str("TRIM(")?;
                match side {
                    Some(TrimSide::Both) => f.write_str("BOTH ")?,
                    Some(TrimSide::Leading) => f.write_str("LEADING ")?,
                    Some(TrimSide::Trailing) => f.write_str("TRAILING ")?,
                    None => {}
                }
                if let Some(characters) = characters {
                    write!(f, "{characters} ")?;
                }
                if side.is_some() || characters.is_some() {
                    f.write_str("FROM ")?;
                }
                write!(f, "{expr})")
            }
            Expr::Overlay {
                expr,
                placing,
                from,
                length,
                ..
            } => {
                write!(f, "OVERLAY({expr} PLACING {placing} FROM {from}")?;
                if let Some(length) = length {
                    write!(f, " FOR {length}")?;
                }
                f.write_str(")")
            }
            Expr::FloorCeil {
                ceil, expr, unit, ..
            } => {
                let name = if *ceil { "CEIL" } else { "FLOOR" };
                write!(f, "{name}({expr} TO {unit})")
            }
            Expr::Step { expr, step, .. } => write!(f, "STEP({expr} BY {step})"),
            Expr::IntervalOf { expr, qualifier } => write!(f, "({expr}) {qualifier}"),
            Expr::Niladic { name, .. } => f.write_str(name),
            Expr::Subquery(query) => write!(f, "({query})"),
            Expr::Exists(query) => write!(f, "EXISTS ({query})"),
            Expr::Cursor(query) => write!(f, "CURSOR({query})"),
            Expr::TableRef(name) => write!(f, "TABLE {name}"),
            Expr::Descriptor(columns) => write!(f, "DESCRIPTOR({})", Comma(columns)),
        }
    }
}
