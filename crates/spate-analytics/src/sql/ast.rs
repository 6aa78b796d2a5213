//! The syntax tree of application code (printed back as SQL by `display`), and the binding
//! strengths of operators, which the parser and the printer share.
//!
//! Identifiers, function calls, casts, selects and statements keep the position (line, column)
//! where they start, for the errors of later stages.

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
    /// `NTH_VALUE(x, n) FROM LAST OVER w`: `Some(true)` for `FROM LAST`, `Some(false)` for
    /// `FROM FIRST`.
    pub from_last: Option<bool>,
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

    /// The operator as SQL writes it.
    pub fn symbol(self) -> &'static str {
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
