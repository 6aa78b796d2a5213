//! The syntax tree of application code, and its `Display` as normalized SQL: keywords and
//! unquoted identifiers in upper case, single spaces, parentheses only where precedence needs
//! them (and around interval differences), `SUBSTRING` in its `FROM ... FOR` form. Printing a
//! tree and parsing the text again gives the same tree, positions aside.
//!
//! Identifiers, function calls, casts, selects and statements keep the position (line, column)
//! where they start, for the errors of later stages.

use std::fmt;

/// Where a token or node starts: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// An identifier: unquoted ones are upper-cased by the lexer, quoted ones keep their case.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub quoted: bool,
    pub pos: Position,
}

/// A possibly qualified name: `S`, `"schema"."stream"`.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectName(pub Vec<Ident>);

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    CreateStream(CreateStream),
    CreatePump(CreatePump),
    /// A query on its own (not part of application code on AWS, but handy to test queries and
    /// to read back what a pump selects).
    Query(Box<Query>),
}

/// `CREATE [OR REPLACE] STREAM name (col type, ...) [DESCRIPTION '...']`
#[derive(Debug, Clone, PartialEq)]
pub struct CreateStream {
    pub pos: Position,
    pub or_replace: bool,
    pub name: ObjectName,
    pub columns: Vec<ColumnDef>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    pub name: Ident,
    pub data_type: DataType,
    pub not_null: bool,
}

/// `CREATE [OR REPLACE] PUMP name [DESCRIPTION '...'] AS INSERT INTO stream [(cols)] query`
#[derive(Debug, Clone, PartialEq)]
pub struct CreatePump {
    pub pos: Position,
    pub or_replace: bool,
    pub name: ObjectName,
    pub description: Option<String>,
    pub target: ObjectName,
    pub target_columns: Vec<Ident>,
    pub query: Box<Query>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    Varchar(Option<u32>),
    Char(Option<u32>),
    Integer,
    Bigint,
    Smallint,
    Tinyint,
    /// `DECIMAL` and `NUMERIC`, with precision and scale.
    Decimal(Option<u32>, Option<u32>),
    Real,
    Double,
    Float,
    Boolean,
    Timestamp,
    Date,
    Time,
    Varbinary(Option<u32>),
    Binary(Option<u32>),
}

/// A query: a select or a set operation of selects, then an optional `ORDER BY`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub body: QueryBody,
    pub order_by: Vec<OrderByItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QueryBody {
    Select(Box<Select>),
    SetOperation {
        op: SetOperator,
        all: bool,
        left: Box<QueryBody>,
        right: Box<QueryBody>,
    },
    /// A query in parentheses, with its own `ORDER BY`.
    Nested(Box<Query>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOperator {
    Union,
    Except,
    Intersect,
}

/// `SELECT [STREAM] [ALL | DISTINCT] items FROM ... [WHERE] [GROUP BY] [HAVING] [WINDOW]
/// [WINDOWED BY STAGGER (...)]`
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    pub pos: Position,
    /// `SELECT STREAM`: a continuous query over streams, never to be confused with a relation.
    pub stream: bool,
    pub quantifier: Option<SetQuantifier>,
    pub projection: Vec<SelectItem>,
    /// The comma-separated items of `FROM`, each with its joins.
    pub from: Vec<TableWithJoins>,
    pub selection: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub having: Option<Expr>,
    pub windows: Vec<NamedWindow>,
    pub stagger: Option<StaggerWindow>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQuantifier {
    All,
    Distinct,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    Wildcard,
    /// `t.*`
    QualifiedWildcard(ObjectName),
    Expr {
        expr: Expr,
        alias: Option<Ident>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableWithJoins {
    pub relation: TableFactor,
    pub joins: Vec<Join>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TableFactor {
    /// A stream or table, with the window of a stream-to-stream join:
    /// `s2 OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS b`.
    Named {
        name: ObjectName,
        window: Option<WindowSpec>,
        alias: Option<TableAlias>,
    },
    /// `(SELECT STREAM ...) AS t`
    Derived {
        subquery: Box<Query>,
        alias: Option<TableAlias>,
    },
    /// `TABLE(f(...))`: a table function such as `RANDOM_CUT_FOREST` or `TUMBLE`.
    Function {
        pos: Position,
        call: Box<Expr>,
        alias: Option<TableAlias>,
    },
}

/// `AS t` or `AS t (a, b)`: a name for a `FROM` item, and optionally for its columns.
#[derive(Debug, Clone, PartialEq)]
pub struct TableAlias {
    pub name: Ident,
    pub columns: Vec<Ident>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub kind: JoinKind,
    pub relation: TableFactor,
    pub constraint: JoinConstraint,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
    Cross,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JoinConstraint {
    On(Expr),
    Using(Vec<Ident>),
    None,
}

/// `name AS (spec)` in a `WINDOW` clause.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedWindow {
    pub name: Ident,
    pub spec: WindowSpec,
}

/// `(PARTITION BY ... ORDER BY ... RANGE|ROWS ...)`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WindowSpec {
    /// `(w ROWS 2 PRECEDING)`: a named window this one refines.
    pub base: Option<Ident>,
    pub partition_by: Vec<Expr>,
    pub order_by: Vec<OrderByItem>,
    pub frame: Option<WindowFrame>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WindowFrame {
    pub units: FrameUnits,
    pub start: FrameBound,
    /// Set by the `BETWEEN start AND end` form.
    pub end: Option<FrameBound>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameUnits {
    Rows,
    Range,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FrameBound {
    /// `n PRECEDING`, or `UNBOUNDED PRECEDING` when `None`.
    Preceding(Option<Box<Expr>>),
    CurrentRow,
    /// `n FOLLOWING`, or `UNBOUNDED FOLLOWING` when `None`.
    Following(Option<Box<Expr>>),
}

/// `WINDOWED BY STAGGER (PARTITION BY ... RANGE INTERVAL ...)`
#[derive(Debug, Clone, PartialEq)]
pub struct StaggerWindow {
    pub partition_by: Vec<Expr>,
    pub range: Box<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderByItem {
    pub expr: Expr,
    /// `expr WITHIN INTERVAL '2' SECOND`: T-sort, reordering rows that arrive out of order by
    /// up to that much.
    pub within: Option<Expr>,
    /// `Some(true)` for `ASC`, `Some(false)` for `DESC`.
    pub ascending: Option<bool>,
}

/// A window given to an aggregate: `OVER w` or `OVER (...)`.
#[derive(Debug, Clone, PartialEq)]
pub enum Over {
    Named(Ident),
    Spec(WindowSpec),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionCall {
    pub pos: Position,
    pub name: ObjectName,
    pub quantifier: Option<SetQuantifier>,
    pub args: Vec<FunctionArg>,
    /// `FIRST_VALUE(x) IGNORE NULLS OVER w`: `Some(true)` for `IGNORE NULLS`, `Some(false)`
    /// for `RESPECT NULLS`.
    pub ignore_nulls: Option<bool>,
    pub over: Option<Over>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FunctionArg {
    /// `COUNT(*)`
    Star,
    Expr(Expr),
    /// `name => value`, as table functions take them.
    Named {
        name: Ident,
        value: Expr,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// As written: `1`, `2.5`, `1E3`.
    Number(String),
    String(String),
    /// `X'0AFF'`: hexadecimal digits as written.
    Binary(String),
    Boolean(bool),
    Null,
    Unknown,
}

/// Fields of datetimes and intervals, and units of `FLOOR`/`CEIL` and `EXTRACT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
}

impl TimeUnit {
    pub fn from_keyword(word: &str) -> Option<TimeUnit> {
        Some(match word {
            "YEAR" => TimeUnit::Year,
            "QUARTER" => TimeUnit::Quarter,
            "MONTH" => TimeUnit::Month,
            "WEEK" => TimeUnit::Week,
            "DAY" => TimeUnit::Day,
            "HOUR" => TimeUnit::Hour,
            "MINUTE" => TimeUnit::Minute,
            "SECOND" => TimeUnit::Second,
            "MILLISECOND" => TimeUnit::Millisecond,
            _ => return None,
        })
    }

    /// Whether the unit may lead or end an interval qualifier.
    pub fn is_interval_field(self) -> bool {
        !matches!(
            self,
            TimeUnit::Quarter | TimeUnit::Week | TimeUnit::Millisecond
        )
    }
}

/// `DAY`, `MINUTE(2) TO SECOND(3)`: the fields of an interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntervalQualifier {
    pub start: TimeUnit,
    pub start_precision: Option<u32>,
    pub end: Option<TimeUnit>,
    pub end_precision: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimSide {
    Both,
    Leading,
    Trailing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOperator {
    Plus,
    Minus,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOperator {
    Or,
    And,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Concat,
    Plus,
    Minus,
    Multiply,
    Divide,
    Modulo,
}

/// What `IS [NOT]` tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsTest {
    Null,
    True,
    False,
    Unknown,
}

/// Binding strengths, lowest first; `Display` parenthesizes by them and the parser climbs them.
pub mod precedence {
    pub const OR: u8 = 1;
    pub const AND: u8 = 2;
    pub const NOT: u8 = 3;
    /// Comparisons, `IS`, `BETWEEN`, `IN`, `LIKE`, `SIMILAR TO`.
    pub const COMPARISON: u8 = 4;
    pub const CONCAT: u8 = 5;
    pub const ADDITIVE: u8 = 6;
    pub const MULTIPLICATIVE: u8 = 7;
    pub const UNARY: u8 = 8;
    pub const PRIMARY: u8 = 10;
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Identifier(Ident),
    /// `s.col`, `"s"."col"`, `s.ROWTIME`
    CompoundIdentifier(Vec<Ident>),
    Literal(Literal),
    /// `INTERVAL '1:30' MINUTE TO SECOND`
    Interval {
        value: String,
        qualifier: IntervalQualifier,
    },
    /// `TIMESTAMP '...'`, `DATE '...'`, `TIME '...'`
    TypedString {
        data_type: DataType,
        value: String,
    },
    Unary {
        op: UnaryOperator,
        expr: Box<Expr>,
    },
    Binary {
        left: Box<Expr>,
        op: BinaryOperator,
        right: Box<Expr>,
    },
    Is {
        expr: Box<Expr>,
        negated: bool,
        test: IsTest,
    },
    /// `a IS [NOT] DISTINCT FROM b`: equality where NULL equals NULL.
    IsDistinctFrom {
        left: Box<Expr>,
        negated: bool,
        right: Box<Expr>,
    },
    Between {
        expr: Box<Expr>,
        negated: bool,
        low: Box<Expr>,
        high: Box<Expr>,
    },
    InList {
        expr: Box<Expr>,
        negated: bool,
        list: Vec<Expr>,
    },
    InSubquery {
        expr: Box<Expr>,
        negated: bool,
        subquery: Box<Query>,
    },
    Like {
        expr: Box<Expr>,
        negated: bool,
        pattern: Box<Expr>,
        escape: Option<Box<Expr>>,
    },
    SimilarTo {
        expr: Box<Expr>,
        negated: bool,
        pattern: Box<Expr>,
        escape: Option<Box<Expr>>,
    },
    Case {
        operand: Option<Box<Expr>>,
        branches: Vec<(Expr, Expr)>,
        else_result: Option<Box<Expr>>,
    },
    Cast {
        pos: Position,
        expr: Box<Expr>,
        data_type: DataType,
    },
    /// Boxed: the largest variant, it would make every expression (and parser frame) larger.
    Function(Box<FunctionCall>),
    Extract {
        pos: Position,
        field: TimeUnit,
        expr: Box<Expr>,
    },
    Position {
        pos: Position,
        needle: Box<Expr>,
        haystack: Box<Expr>,
    },
    Substring {
        pos: Position,
        expr: Box<Expr>,
        from: Box<Expr>,
        length: Option<Box<Expr>>,
    },
    Trim {
        pos: Position,
        side: Option<TrimSide>,
        characters: Option<Box<Expr>>,
        expr: Box<Expr>,
    },
    Overlay {
        pos: Position,
        expr: Box<Expr>,
        placing: Box<Expr>,
        from: Box<Expr>,
        length: Option<Box<Expr>>,
    },
    /// `FLOOR(x TO MINUTE)`, `CEIL(x TO HOUR)`; without `TO` they are plain function calls.
    FloorCeil {
        pos: Position,
        ceil: bool,
        expr: Box<Expr>,
        unit: TimeUnit,
    },
    /// `STEP(s.ROWTIME BY INTERVAL '10' SECOND)`
    Step {
        pos: Position,
        expr: Box<Expr>,
        step: Box<Expr>,
    },
    /// `(a - b) SECOND`: the difference of two datetimes as an interval.
    IntervalOf {
        expr: Box<Expr>,
        qualifier: IntervalQualifier,
    },
    /// Functions written without parentheses: `CURRENT_ROW_TIMESTAMP`, `LOCALTIMESTAMP`...
    Niladic {
        pos: Position,
        name: String,
    },
    /// A scalar subquery.
    Subquery(Box<Query>),
    Exists(Box<Query>),
    /// `CURSOR(SELECT STREAM ...)`: the stream argument of a table function.
    Cursor(Box<Query>),
    /// `TABLE s`: a table argument of a Flink-style window function.
    TableRef(ObjectName),
    /// `DESCRIPTOR(ts)`: the column argument of a Flink-style window function.
    Descriptor(Vec<Ident>),
}

impl Expr {
    /// How tightly the expression binds, to decide where `Display` needs parentheses.
    pub fn precedence(&self) -> u8 {
        match self {
            Expr::Binary { op, .. } => op.precedence(),
            Expr::Unary {
                op: UnaryOperator::Not,
                ..
            } => precedence::NOT,
            Expr::Unary { .. } => precedence::UNARY,
            Expr::Is { .. }
            | Expr::IsDistinctFrom { .. }
            | Expr::Between { .. }
            | Expr::InList { .. }
            | Expr::InSubquery { .. }
            | Expr::Like { .. }
            | Expr::SimilarTo { .. } => precedence::COMPARISON,
            _ => precedence::PRIMARY,
        }
    }
}

impl BinaryOperator {
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOperator::Or => precedence::OR,
            BinaryOperator::And => precedence::AND,
            BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq => precedence::COMPARISON,
            BinaryOperator::Concat => precedence::CONCAT,
            BinaryOperator::Plus | BinaryOperator::Minus => precedence::ADDITIVE,
            BinaryOperator::Multiply | BinaryOperator::Divide | BinaryOperator::Modulo => {
                precedence::MULTIPLICATIVE
            }
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            BinaryOperator::Or => "OR",
            BinaryOperator::And => "AND",
            BinaryOperator::Eq => "=",
            BinaryOperator::NotEq => "<>",
            BinaryOperator::Lt => "<",
            BinaryOperator::LtEq => "<=",
            BinaryOperator::Gt => ">",
            BinaryOperator::GtEq => ">=",
            BinaryOperator::Concat => "||",
            BinaryOperator::Plus => "+",
            BinaryOperator::Minus => "-",
            BinaryOperator::Multiply => "*",
            BinaryOperator::Divide => "/",
            BinaryOperator::Modulo => "%",
        }
    }
}

// ---- Display: normalized SQL ----

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
        if self.quoted {
            write!(f, "\"{}\"", self.name.replace('"', "\"\""))
        } else {
            f.write_str(&self.name)
        }
    }
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
                // Set operations are parsed left-associative: a set operation on the right
                // came from parentheses.
                match right.as_ref() {
                    QueryBody::SetOperation { .. } => write!(f, "{left} {op}{all} ({right})"),
                    _ => write!(f, "{left} {op}{all} {right}"),
                }
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
                // `- -1` must not print as `--1`, a comment.
                if matches!(
                    expr.as_ref(),
                    Expr::Unary {
                        op: UnaryOperator::Minus | UnaryOperator::Plus,
                        ..
                    }
                ) {
                    write!(f, "{sign}({expr})")
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
