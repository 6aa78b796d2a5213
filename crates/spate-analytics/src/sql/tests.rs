//! Golden tests of the whole front-end: application code in the shapes the Kinesis Data
//! Analytics developer guide and SQL reference use, parsed and printed back as normalized SQL,
//! then parsed again to check that printing is stable; and syntax errors with their positions.

use super::ast::*;
use super::parse_application_code;

/// Parses `code`, prints each statement, checks that the printed text parses to the same
/// printed text, and returns the statements' texts.
fn normalized(code: &str) -> Vec<String> {
    let statements =
        parse_application_code(code).unwrap_or_else(|error| panic!("{error}\nin: {code}"));
    let printed: Vec<String> = statements.iter().map(ToString::to_string).collect();
    for text in &printed {
        let again = parse_application_code(text)
            .unwrap_or_else(|error| panic!("{error}\nreparsing: {text}"));
        assert_eq!(again.len(), 1, "one statement in {text}");
        assert_eq!(&again[0].to_string(), text, "printing is stable");
    }
    printed
}

fn one(code: &str) -> String {
    let mut printed = normalized(code);
    assert_eq!(printed.len(), 1, "one statement in {code}");
    printed.remove(0)
}

fn error(code: &str) -> String {
    parse_application_code(code)
        .expect_err("a syntax error")
        .to_string()
}

#[test]
fn create_stream_with_every_type_and_a_description() {
    assert_eq!(
        one("create or replace stream \"DESTINATION_SQL_STREAM\" (
                ticker_symbol VARCHAR(4), \"Sector\" char(16), change REAL, price DOUBLE,
                qty int, big bigint, small SMALLINT, tiny TINYINT, amount DECIMAL(10,2),
                n numeric, f FLOAT, ok BOOLEAN, ts TIMESTAMP, d DATE, t TIME,
                vb VARBINARY(32), b BINARY(8), cv CHARACTER VARYING(5), dp DOUBLE PRECISION)
             DESCRIPTION 'the output, it''s here'"),
        "CREATE OR REPLACE STREAM \"DESTINATION_SQL_STREAM\" (TICKER_SYMBOL VARCHAR(4), \
         \"Sector\" CHAR(16), CHANGE REAL, PRICE DOUBLE, QTY INTEGER, BIG BIGINT, SMALL SMALLINT, \
         TINY TINYINT, AMOUNT DECIMAL(10, 2), N DECIMAL, F FLOAT, OK BOOLEAN, TS TIMESTAMP, \
         D DATE, T TIME, VB VARBINARY(32), B BINARY(8), CV VARCHAR(5), DP DOUBLE) \
         DESCRIPTION 'the output, it''s here'"
    );
}

#[test]
fn application_code_is_a_sequence_of_statements() {
    let code = "
        -- output stream
        CREATE OR REPLACE STREAM \"DESTINATION_SQL_STREAM\" (ticker_symbol VARCHAR(4), price DOUBLE);
        /* the pump */
        CREATE OR REPLACE PUMP \"STREAM_PUMP\" AS INSERT INTO \"DESTINATION_SQL_STREAM\"
            SELECT STREAM ticker_symbol, price FROM \"SOURCE_SQL_STREAM_001\" WHERE price > 10;;
    ";
    assert_eq!(
        normalized(code),
        vec![
            "CREATE OR REPLACE STREAM \"DESTINATION_SQL_STREAM\" (TICKER_SYMBOL VARCHAR(4), PRICE DOUBLE)",
            "CREATE OR REPLACE PUMP \"STREAM_PUMP\" AS INSERT INTO \"DESTINATION_SQL_STREAM\" \
             SELECT STREAM TICKER_SYMBOL, PRICE FROM \"SOURCE_SQL_STREAM_001\" WHERE PRICE > 10",
        ]
    );
    assert_eq!(
        parse_application_code("  -- nothing\n ; ").expect("empty code"),
        Vec::new()
    );
}

#[test]
fn pump_with_description_and_target_columns() {
    assert_eq!(
        one(
            "CREATE PUMP \"OrderPump\" DESCRIPTION 'copies orders' AS
             INSERT INTO \"OrderData\" (\"key_order\", \"country\")
             SELECT STREAM \"key_order\", \"key_billing_country\" FROM \"OrderDataWithCreateTime\""
        ),
        "CREATE PUMP \"OrderPump\" DESCRIPTION 'copies orders' AS INSERT INTO \"OrderData\" \
         (\"key_order\", \"country\") SELECT STREAM \"key_order\", \"key_billing_country\" \
         FROM \"OrderDataWithCreateTime\""
    );
    // A query in parentheses is not a column list.
    assert_eq!(
        one("CREATE PUMP p AS INSERT INTO d (SELECT STREAM * FROM s)"),
        "CREATE PUMP P AS INSERT INTO D (SELECT STREAM * FROM S)"
    );
}

#[test]
fn select_stream_is_kept_apart_from_a_relational_select() {
    let statements =
        parse_application_code("SELECT STREAM x FROM s; SELECT x FROM s").expect("valid");
    let streams: Vec<bool> = statements
        .iter()
        .map(|statement| match statement {
            Statement::Query(query) => match &query.body {
                QueryBody::Select(select) => select.stream,
                other => panic!("not a select: {other}"),
            },
            other => panic!("not a query: {other}"),
        })
        .collect();
    assert_eq!(streams, vec![true, false]);
    assert_eq!(
        one("select stream distinct x from s"),
        "SELECT STREAM DISTINCT X FROM S"
    );
}

#[test]
fn tumbling_window_with_step() {
    assert_eq!(
        one("SELECT STREAM ROWTIME, Ticker_Symbol, MIN(Price) AS Price, MAX(Price) AS \"Max\"
             FROM \"SOURCE_SQL_STREAM_001\"
             GROUP BY Ticker_Symbol, STEP(\"SOURCE_SQL_STREAM_001\".ROWTIME BY INTERVAL '60' SECOND)"),
        "SELECT STREAM ROWTIME, TICKER_SYMBOL, MIN(PRICE) AS PRICE, MAX(PRICE) AS \"Max\" \
         FROM \"SOURCE_SQL_STREAM_001\" GROUP BY TICKER_SYMBOL, \
         STEP(\"SOURCE_SQL_STREAM_001\".ROWTIME BY INTERVAL '60' SECOND)"
    );
    assert_eq!(
        one("SELECT STREAM STEP(23 BY 5) FROM s"),
        "SELECT STREAM STEP(23 BY 5) FROM S"
    );
}

#[test]
fn tumbling_window_with_floor_on_event_time_and_rowtime() {
    assert_eq!(
        one("CREATE OR REPLACE PUMP \"STREAM_PUMP\" AS INSERT INTO \"DESTINATION_SQL_STREAM\"
             SELECT STREAM TICKER_SYMBOL, FLOOR(EVENT_TIME TO MINUTE), COUNT(TICKER_SYMBOL) AS TICKER_COUNT
             FROM \"SOURCE_SQL_STREAM_001\"
             GROUP BY ticker_symbol, FLOOR(EVENT_TIME TO MINUTE),
                      STEP(\"SOURCE_SQL_STREAM_001\".ROWTIME BY INTERVAL '1' MINUTE)"),
        "CREATE OR REPLACE PUMP \"STREAM_PUMP\" AS INSERT INTO \"DESTINATION_SQL_STREAM\" \
         SELECT STREAM TICKER_SYMBOL, FLOOR(EVENT_TIME TO MINUTE), COUNT(TICKER_SYMBOL) AS TICKER_COUNT \
         FROM \"SOURCE_SQL_STREAM_001\" GROUP BY TICKER_SYMBOL, FLOOR(EVENT_TIME TO MINUTE), \
         STEP(\"SOURCE_SQL_STREAM_001\".ROWTIME BY INTERVAL '1' MINUTE)"
    );
}

#[test]
fn floor_of_an_interval_difference_for_ten_second_windows() {
    assert_eq!(
        one(
            "SELECT STREAM FLOOR(s.ROWTIME TO MINUTE) AS minute_start, COUNT(*) AS n
             FROM \"SOURCE_SQL_STREAM_001\" AS s
             GROUP BY FLOOR((s.ROWTIME - TIMESTAMP '1970-01-01 00:00:00') SECOND / 10 TO SECOND)"
        ),
        "SELECT STREAM FLOOR(S.ROWTIME TO MINUTE) AS MINUTE_START, COUNT(*) AS N \
         FROM \"SOURCE_SQL_STREAM_001\" AS S \
         GROUP BY FLOOR((S.ROWTIME - TIMESTAMP '1970-01-01 00:00:00') SECOND / 10 TO SECOND)"
    );
    // FLOOR without TO is an ordinary function; CEIL takes a unit too.
    assert_eq!(
        one("SELECT STREAM FLOOR(price), CEIL(ts TO HOUR), CEILING(x) FROM s"),
        "SELECT STREAM FLOOR(PRICE), CEIL(TS TO HOUR), CEILING(X) FROM S"
    );
}

#[test]
fn sliding_windows_with_window_clause_and_inline_over() {
    assert_eq!(
        one("SELECT STREAM ticker_symbol, AVG(price) OVER w AS avg_price,
                    COUNT(*) OVER (RANGE INTERVAL '5' SECOND PRECEDING) AS recent,
                    SUM(DISTINCT price) OVER (PARTITION BY sector ROWS 10 PRECEDING) AS s10
             FROM \"SOURCE_SQL_STREAM_001\"
             WINDOW w AS (PARTITION BY ticker_symbol RANGE INTERVAL '1' MINUTE PRECEDING),
                    \"last hour\" AS (ORDER BY ROWTIME ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"),
        "SELECT STREAM TICKER_SYMBOL, AVG(PRICE) OVER W AS AVG_PRICE, \
         COUNT(*) OVER (RANGE INTERVAL '5' SECOND PRECEDING) AS RECENT, \
         SUM(DISTINCT PRICE) OVER (PARTITION BY SECTOR ROWS 10 PRECEDING) AS S10 \
         FROM \"SOURCE_SQL_STREAM_001\" \
         WINDOW W AS (PARTITION BY TICKER_SYMBOL RANGE INTERVAL '1' MINUTE PRECEDING), \
         \"last hour\" AS (ORDER BY ROWTIME ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    );
}

#[test]
fn stagger_window() {
    assert_eq!(
        one("CREATE OR REPLACE PUMP \"STREAM_PUMP\" AS INSERT INTO \"DESTINATION_SQL_STREAM\"
             SELECT STREAM TICKER_SYMBOL, FLOOR(EVENT_TIME TO MINUTE), COUNT(*) AS TICKER_COUNT
             FROM \"SOURCE_SQL_STREAM_001\"
             WINDOWED BY STAGGER (
                 PARTITION BY FLOOR(EVENT_TIME TO MINUTE), TICKER_SYMBOL RANGE INTERVAL '1' MINUTE)"),
        "CREATE OR REPLACE PUMP \"STREAM_PUMP\" AS INSERT INTO \"DESTINATION_SQL_STREAM\" \
         SELECT STREAM TICKER_SYMBOL, FLOOR(EVENT_TIME TO MINUTE), COUNT(*) AS TICKER_COUNT \
         FROM \"SOURCE_SQL_STREAM_001\" WINDOWED BY STAGGER \
         (PARTITION BY FLOOR(EVENT_TIME TO MINUTE), TICKER_SYMBOL RANGE INTERVAL '1' MINUTE)"
    );
}

#[test]
fn stream_to_stream_join_with_a_window() {
    assert_eq!(
        one("SELECT STREAM o.order_id, o.ticker, o.amount, t.price
             FROM orders AS o
             JOIN trades OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS t
             ON o.order_id = t.order_id AND o.ticker = t.ticker"),
        "SELECT STREAM O.ORDER_ID, O.TICKER, O.AMOUNT, T.PRICE FROM ORDERS AS O \
         JOIN TRADES OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS T \
         ON O.ORDER_ID = T.ORDER_ID AND O.TICKER = T.TICKER"
    );
}

#[test]
fn reference_table_joins_of_every_kind() {
    assert_eq!(
        one("SELECT STREAM s.ticker_symbol, c.\"Company\", s.price
             FROM \"SOURCE_SQL_STREAM_001\" s
             LEFT OUTER JOIN \"CompanyName\" c ON s.ticker_symbol = c.\"Ticker\"
             INNER JOIN sectors USING (sector)
             RIGHT JOIN r ON TRUE FULL OUTER JOIN f ON 1 = 1 CROSS JOIN x"),
        "SELECT STREAM S.TICKER_SYMBOL, C.\"Company\", S.PRICE FROM \"SOURCE_SQL_STREAM_001\" AS S \
         LEFT JOIN \"CompanyName\" AS C ON S.TICKER_SYMBOL = C.\"Ticker\" \
         JOIN SECTORS USING (SECTOR) RIGHT JOIN R ON TRUE FULL JOIN F ON 1 = 1 CROSS JOIN X"
    );
}

#[test]
fn random_cut_forest_and_hotspots_table_functions() {
    assert_eq!(
        one(
            "CREATE OR REPLACE PUMP \"STREAM_PUMP\" AS INSERT INTO \"DESTINATION_SQL_STREAM\"
             SELECT STREAM \"TICKER_SYMBOL\", \"ANOMALY_SCORE\"
             FROM TABLE(RANDOM_CUT_FOREST(
                 CURSOR(SELECT STREAM * FROM \"SOURCE_SQL_STREAM_001\"), 100, 256, 100000, 1))
             ORDER BY FLOOR(\"TEMP_STREAM\".ROWTIME TO SECOND), ANOMALY_SCORE DESC"
        ),
        "CREATE OR REPLACE PUMP \"STREAM_PUMP\" AS INSERT INTO \"DESTINATION_SQL_STREAM\" \
         SELECT STREAM \"TICKER_SYMBOL\", \"ANOMALY_SCORE\" \
         FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM * FROM \"SOURCE_SQL_STREAM_001\"), 100, 256, 100000, 1)) \
         ORDER BY FLOOR(\"TEMP_STREAM\".ROWTIME TO SECOND), ANOMALY_SCORE DESC"
    );
    assert_eq!(
        one(
            "SELECT STREAM CAST(\"HOTSPOTS_RESULT\" AS VARCHAR(10000)) AS hotspots
             FROM TABLE (HOTSPOTS(CURSOR(SELECT STREAM \"x\", \"y\" FROM \"SOURCE_SQL_STREAM_001\"),
                                 1000, 0.2, 17)) AS h"
        ),
        "SELECT STREAM CAST(\"HOTSPOTS_RESULT\" AS VARCHAR(10000)) AS HOTSPOTS \
         FROM TABLE(HOTSPOTS(CURSOR(SELECT STREAM \"x\", \"y\" FROM \"SOURCE_SQL_STREAM_001\"), 1000, 0.2, 17)) AS H"
    );
}

#[test]
fn flink_style_window_table_functions() {
    assert_eq!(
        one("SELECT STREAM window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
             GROUP BY window_start"),
        "SELECT STREAM WINDOW_START, COUNT(*) FROM TABLE(TUMBLE(TABLE S, DESCRIPTOR(TS), INTERVAL '1' MINUTE)) \
         GROUP BY WINDOW_START"
    );
    assert_eq!(
        one(
            "SELECT STREAM * FROM TABLE(HOP(TABLE \"Bids\", DESCRIPTOR(bidtime), INTERVAL '5' MINUTE, INTERVAL '10' MINUTE))"
        ),
        "SELECT STREAM * FROM TABLE(HOP(TABLE \"Bids\", DESCRIPTOR(BIDTIME), INTERVAL '5' MINUTE, INTERVAL '10' MINUTE))"
    );
    assert_eq!(
        one(
            "SELECT STREAM * FROM TABLE(SESSION(DATA => TABLE s, TIMECOL => DESCRIPTOR(ts), GAP => INTERVAL '30' SECOND))"
        ),
        "SELECT STREAM * FROM TABLE(SESSION(DATA => TABLE S, TIMECOL => DESCRIPTOR(TS), GAP => INTERVAL '30' SECOND))"
    );
}

#[test]
fn subqueries_in_from_union_all_and_qualified_wildcards() {
    assert_eq!(
        one("SELECT STREAM t.*, \"u\".* FROM (SELECT STREAM ticker, price * 2 AS p FROM s WHERE price IS NOT NULL) AS t,
             u AS \"u\"
             UNION ALL SELECT STREAM * FROM other"),
        "SELECT STREAM T.*, \"u\".* FROM (SELECT STREAM TICKER, PRICE * 2 AS P FROM S WHERE PRICE IS NOT NULL) AS T, \
         U AS \"u\" UNION ALL SELECT STREAM * FROM OTHER"
    );
    assert_eq!(
        one(
            "SELECT STREAM a FROM s UNION ALL (SELECT STREAM a FROM t UNION ALL SELECT STREAM a FROM u)"
        ),
        "SELECT STREAM A FROM S UNION ALL (SELECT STREAM A FROM T UNION ALL SELECT STREAM A FROM U)"
    );
}

#[test]
fn case_cast_and_scalar_functions() {
    assert_eq!(
        one("SELECT STREAM
               CASE WHEN price > 100 THEN 'high' WHEN price > 10 THEN 'mid' ELSE 'low' END AS band,
               CASE sector WHEN 'TECH' THEN 1 END,
               CAST(price AS DECIMAL(8, 2)), CAST(ts AS DATE),
               EXTRACT(HOUR FROM ROWTIME), POSITION('a' IN ticker), SUBSTRING(ticker FROM 2 FOR 3),
               SUBSTRING(ticker, 2), SUBSTRING(ticker, 1, 2), TRIM(BOTH ' ' FROM name), TRIM(LEADING FROM name),
               TRIM(name), TRIM('x' FROM name), OVERLAY(name PLACING 'ab' FROM 2 FOR 1),
               CURRENT_ROW_TIMESTAMP, CURRENT_TIMESTAMP, LOCALTIMESTAMP, CHAR_LENGTH(name), UPPER(name) || '!'
             FROM s"),
        "SELECT STREAM CASE WHEN PRICE > 100 THEN 'high' WHEN PRICE > 10 THEN 'mid' ELSE 'low' END AS BAND, \
         CASE SECTOR WHEN 'TECH' THEN 1 END, CAST(PRICE AS DECIMAL(8, 2)), CAST(TS AS DATE), \
         EXTRACT(HOUR FROM ROWTIME), POSITION('a' IN TICKER), SUBSTRING(TICKER FROM 2 FOR 3), \
         SUBSTRING(TICKER FROM 2), SUBSTRING(TICKER FROM 1 FOR 2), TRIM(BOTH ' ' FROM NAME), TRIM(LEADING FROM NAME), \
         TRIM(NAME), TRIM('x' FROM NAME), OVERLAY(NAME PLACING 'ab' FROM 2 FOR 1), \
         CURRENT_ROW_TIMESTAMP, CURRENT_TIMESTAMP, LOCALTIMESTAMP, CHAR_LENGTH(NAME), UPPER(NAME) || '!' \
         FROM S"
    );
}

#[test]
fn literals() {
    assert_eq!(
        one(
            "SELECT STREAM 1, 2.50, .5, 1e10, 'it''s', TRUE, false, NULL, UNKNOWN,
                INTERVAL '1:30' MINUTE TO SECOND, INTERVAL '2' DAY(3), INTERVAL -'1' HOUR,
                TIMESTAMP '2024-01-01 00:00:00', DATE '2024-01-01', TIME '12:00:00'
             FROM s"
        ),
        "SELECT STREAM 1, 2.50, .5, 1E10, 'it''s', TRUE, FALSE, NULL, UNKNOWN, \
         INTERVAL '1:30' MINUTE TO SECOND, INTERVAL '2' DAY(3), INTERVAL '-1' HOUR, \
         TIMESTAMP '2024-01-01 00:00:00', DATE '2024-01-01', TIME '12:00:00' FROM S"
    );
}

#[test]
fn predicates() {
    assert_eq!(
        one("SELECT STREAM * FROM s WHERE a NOT BETWEEN 1 AND 2 AND b IN (1, 2) AND c NOT IN ('x')
             AND d LIKE 'A%' ESCAPE '\\' AND e NOT LIKE '_b' AND f SIMILAR TO '[0-9]+' AND g NOT SIMILAR TO 'x'
             AND h IS NULL AND i IS NOT TRUE AND j <> 1 AND k != 2 AND l >= 3 AND m <= 4 AND NOT n < 5
             AND EXISTS (SELECT x FROM r) AND o IN (SELECT y FROM r)"),
        "SELECT STREAM * FROM S WHERE A NOT BETWEEN 1 AND 2 AND B IN (1, 2) AND C NOT IN ('x') \
         AND D LIKE 'A%' ESCAPE '\\' AND E NOT LIKE '_b' AND F SIMILAR TO '[0-9]+' AND G NOT SIMILAR TO 'x' \
         AND H IS NULL AND I IS NOT TRUE AND J <> 1 AND K <> 2 AND L >= 3 AND M <= 4 AND NOT N < 5 \
         AND EXISTS (SELECT X FROM R) AND O IN (SELECT Y FROM R)"
    );
}

#[test]
fn identifiers_are_upper_cased_unless_quoted() {
    let statements =
        parse_application_code("select Price, \"price\", \"Pri\"\"ce\" from \"s\".\"t\"")
            .expect("valid");
    let Statement::Query(query) = &statements[0] else {
        panic!("a query")
    };
    let QueryBody::Select(select) = &query.body else {
        panic!("a select")
    };
    let names: Vec<(String, bool)> = select
        .projection
        .iter()
        .map(|item| match item {
            SelectItem::Expr {
                expr: Expr::Identifier(ident),
                ..
            } => (ident.name.clone(), ident.quoted),
            other => panic!("not an identifier: {other}"),
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("PRICE".to_string(), false),
            ("price".to_string(), true),
            ("Pri\"ce".to_string(), true)
        ]
    );
    assert_eq!(
        select.to_string(),
        "SELECT PRICE, \"price\", \"Pri\"\"ce\" FROM \"s\".\"t\""
    );
}

#[test]
fn positions_of_statements_identifiers_and_calls() {
    let statements = parse_application_code(
        "\n  CREATE PUMP p AS INSERT INTO d\n  SELECT STREAM\n    AVG(x) FROM s",
    )
    .expect("valid");
    let Statement::CreatePump(pump) = &statements[0] else {
        panic!("a pump")
    };
    assert_eq!(pump.pos, Position { line: 2, column: 3 });
    assert_eq!(
        pump.name.0[0].pos,
        Position {
            line: 2,
            column: 15
        }
    );
    let QueryBody::Select(select) = &pump.query.body else {
        panic!("a select")
    };
    assert_eq!(select.pos, Position { line: 3, column: 3 });
    let SelectItem::Expr {
        expr: Expr::Function(call),
        ..
    } = &select.projection[0]
    else {
        panic!("a call")
    };
    assert_eq!(call.pos, Position { line: 4, column: 5 });
    let FunctionArg::Expr(Expr::Identifier(arg)) = &call.args[0] else {
        panic!("an identifier")
    };
    assert_eq!(arg.pos, Position { line: 4, column: 9 });
}

#[test]
fn errors_name_the_position_what_was_expected_and_what_was_found() {
    assert_eq!(
        error("CREATE OR REPLACE PUMP \"P\"\n       INSERT INTO d SELECT STREAM * FROM s"),
        "line 2, column 8: expected AS after the pump name, found INSERT"
    );
    assert_eq!(
        error("CREATE STREAM s (a VARCHAR(4), b BLOB)"),
        "line 1, column 34: expected a data type, found BLOB"
    );
    assert_eq!(
        error("CREATE STREAM s (a INTEGER b INTEGER)"),
        "line 1, column 28: expected , or ) after the column definition, found B"
    );
    assert_eq!(
        error("CREATE VIEW v"),
        "line 1, column 8: expected STREAM or PUMP after CREATE, found VIEW"
    );
    assert_eq!(
        error("DROP STREAM s"),
        "line 1, column 1: expected CREATE or SELECT at the start of a statement, found DROP"
    );
    assert_eq!(
        error("SELECT STREAM a, FROM s"),
        "line 1, column 18: expected an expression, found FROM"
    );
    assert_eq!(
        error("SELECT STREAM a b c FROM s"),
        "line 1, column 19: expected FROM after the select list, found C"
    );
    assert_eq!(
        error("SELECT STREAM *\nFROM s\nWHERE a = (1 + 2"),
        "line 3, column 17: expected ) to close the parenthesis, found end of input"
    );
    assert_eq!(
        error("SELECT STREAM * FROM s GROUP ROWTIME"),
        "line 1, column 30: expected BY after GROUP, found ROWTIME"
    );
    assert_eq!(
        error("SELECT STREAM STEP(ROWTIME, INTERVAL '1' MINUTE) FROM s"),
        "line 1, column 27: expected BY in STEP, found ,"
    );
    assert_eq!(
        error("SELECT STREAM * FROM a JOIN b WHERE x"),
        "line 1, column 31: expected ON or USING after the joined stream, found WHERE"
    );
    assert_eq!(
        error("SELECT STREAM COUNT(*) OVER (RANGE INTERVAL '1' MINUTE) FROM s"),
        "line 1, column 55: expected PRECEDING or FOLLOWING after the window frame's size, found )"
    );
    assert_eq!(
        error("SELECT STREAM INTERVAL '1' FORTNIGHT FROM s"),
        "line 1, column 28: expected YEAR, MONTH, DAY, HOUR, MINUTE or SECOND, found FORTNIGHT"
    );
    assert_eq!(
        error("SELECT STREAM a FROM s WINDOWED BY STAGGER (PARTITION BY a)"),
        "line 1, column 59: expected RANGE after the partitioning columns of STAGGER, found )"
    );
    assert_eq!(
        error("SELECT STREAM a FROM s t u"),
        "line 1, column 26: expected ; or end of input after the statement, found U"
    );
    assert_eq!(
        error("SELECT STREAM a IS 3 FROM s"),
        "line 1, column 20: expected NULL, TRUE, FALSE, UNKNOWN or DISTINCT FROM after IS, found number 3"
    );
    assert_eq!(
        error("SELECT STREAM CASE a WHEN 1 THEN 2 FROM s"),
        "line 1, column 36: expected END to close CASE, found FROM"
    );
    assert_eq!(
        error("SELECT STREAM 'abc FROM s"),
        "line 1, column 15: unterminated string literal"
    );
    assert_eq!(
        error("SELECT STREAM * FROM a LEFT OUTER b ON TRUE"),
        "line 1, column 35: expected JOIN after the join type, found B"
    );
    assert_eq!(
        error("CREATE STREAM s (a VARCHAR(x))"),
        "line 1, column 28: expected a length, found X"
    );
}

/// The deepest shapes of every recursive path, just under the nesting limit, then far over it.
fn deep_shapes(depth: usize) -> Vec<String> {
    let repeat = |open: &str, middle: &str, close: &str| {
        format!("{}{middle}{}", open.repeat(depth), close.repeat(depth))
    };
    vec![
        format!("SELECT STREAM {} FROM s", repeat("(", "1", ")")),
        format!("SELECT STREAM {} FROM s", repeat("NOT ", "a", "")),
        format!("SELECT STREAM {} FROM s", repeat("- ", "a", "")),
        format!("SELECT STREAM {} FROM s", repeat("F(", "a", ")")),
        format!(
            "SELECT STREAM {} FROM s",
            repeat("CAST(", "a", " AS INTEGER)")
        ),
        format!(
            "SELECT STREAM {} FROM s",
            repeat("CASE WHEN ", "a", " THEN 1 END")
        ),
        format!("SELECT STREAM {} FROM s", repeat("FLOOR(", "a", " TO DAY)")),
        format!(
            "SELECT STREAM {} FROM s",
            repeat("SUBSTRING(", "a", " FROM 1)")
        ),
        format!(
            "SELECT STREAM * FROM {}",
            repeat("(SELECT STREAM * FROM ", "s", ")")
        ),
        format!(
            "SELECT STREAM * FROM {}",
            repeat("TABLE(F(CURSOR(SELECT STREAM * FROM ", "s", ")))")
        ),
        format!(
            "SELECT STREAM * FROM s WHERE {}",
            repeat("a IN (SELECT a FROM s WHERE ", "TRUE", ")")
        ),
    ]
}

/// Nesting up to the limit fits in a small stack (half of the 2 MiB of a tokio worker or test
/// thread), even in a debug build; deeper nesting is an error.
#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let small_stack = std::thread::Builder::new().stack_size(1024 * 1024);
    let handle = small_stack
        .spawn(|| {
            // Expressions nest 90 deep; queries, which cost more, 12 deep; 89 set operations chain.
            let expressions = deep_shapes(90).into_iter().take(8);
            let unions = vec!["SELECT STREAM a FROM s"; 90].join(" UNION ALL ");
            for code in expressions.chain(deep_shapes(12)).chain([unions]) {
                assert!(parse_application_code(&code).is_ok(), "{code}");
            }
            for code in deep_shapes(10_000) {
                let error = parse_application_code(&code).expect_err("too deep");
                assert_eq!(
                    error.message,
                    "expressions, queries or set operations nested too deeply",
                    "{}",
                    &code[..60]
                );
            }
        })
        .expect("spawn a thread");
    handle.join().expect("no stack overflow");
    let nested = |depth: usize| {
        format!(
            "SELECT STREAM {}1{} FROM s",
            "(".repeat(depth),
            ")".repeat(depth)
        )
    };
    assert_eq!(one(&nested(90)), "SELECT STREAM 1 FROM S");
    assert_eq!(
        error(&nested(1000)),
        "line 1, column 110: expressions, queries or set operations nested too deeply"
    );
}

/// Long operator chains are parsed in a loop but make deep trees; printing and dropping them
/// recurse, so their depth is bounded too, and the deepest accepted tree prints and drops on
/// a 1 MiB stack in a debug build.
#[test]
fn long_operator_chains_are_bounded() {
    let chain = |terms: usize, operator: &str| {
        let terms: Vec<String> = (0..terms).map(|index| format!("c{index}")).collect();
        terms.join(operator)
    };
    let small_stack = std::thread::Builder::new().stack_size(1024 * 1024);
    let handle = small_stack
        .spawn(move || {
            for operator in [" || ", " AND ", " + ", " = "] {
                let code = format!("SELECT STREAM {} FROM s", chain(500, operator));
                let parsed = parse_application_code(&code).expect("valid");
                let printed = parsed[0].to_string();
                assert_eq!(printed, code.to_uppercase());
                drop(parsed);
                assert_eq!(one(&code), code.to_uppercase());
            }
        })
        .expect("spawn a thread");
    handle.join().expect("no stack overflow");
    // 500 terms make a tree 500 levels deep; one more is too deep, and so is a chain under a
    // chain.
    let code = format!("SELECT STREAM {} FROM s", chain(501, " || "));
    assert_eq!(
        error(&code),
        "line 1, column 3902: expression more than 500 levels deep"
    );
    let code = format!("SELECT STREAM F({}) FROM s", chain(500, " * "));
    assert_eq!(
        error(&code),
        "line 1, column 15: expression more than 500 levels deep"
    );
    // Parentheses count as a level, erring on the safe side.
    let code = format!("SELECT STREAM a + ({}) FROM s", chain(500, " * "));
    assert_eq!(
        error(&code),
        "line 1, column 19: expression more than 500 levels deep"
    );
}

#[test]
fn t_sort_window_refinement_distinct_from_binary_strings_and_alias_columns() {
    assert_eq!(
        one("SELECT STREAM FLOOR(s.ROWTIME TO MINUTE) AS ROWTIME, ticker FROM trades AS s (t, ticker, price)
             WHERE ticker IS NOT DISTINCT FROM 'AMZN' AND payload <> x'0aFF'
             ORDER BY FLOOR(s.ROWTIME TO MINUTE) WITHIN INTERVAL '2' SECOND, ticker DESC"),
        "SELECT STREAM FLOOR(S.ROWTIME TO MINUTE) AS ROWTIME, TICKER FROM TRADES AS S (T, TICKER, PRICE) \
         WHERE TICKER IS NOT DISTINCT FROM 'AMZN' AND PAYLOAD <> X'0aFF' \
         ORDER BY FLOOR(S.ROWTIME TO MINUTE) WITHIN INTERVAL '2' SECOND, TICKER DESC"
    );
    assert_eq!(
        one("SELECT STREAM SUM(amount) OVER (last_hour ROWS 3 PRECEDING), COUNT(*) OVER (ROWS CURRENT ROW)
             FROM trades WINDOW last_hour AS (PARTITION BY ticker RANGE INTERVAL '1' HOUR PRECEDING)"),
        "SELECT STREAM SUM(AMOUNT) OVER (LAST_HOUR ROWS 3 PRECEDING), COUNT(*) OVER (ROWS CURRENT ROW) \
         FROM TRADES WINDOW LAST_HOUR AS (PARTITION BY TICKER RANGE INTERVAL '1' HOUR PRECEDING)"
    );
    assert_eq!(
        error("SELECT STREAM X'ABC' FROM s"),
        "line 1, column 15: a binary string needs an even number of hexadecimal digits"
    );
    assert_eq!(
        error("SELECT STREAM X'0G' FROM s"),
        "line 1, column 15: 'G' is not a hexadecimal digit in a binary string"
    );
    assert_eq!(
        error("SELECT STREAM a IS DISTINCT b FROM s"),
        "line 1, column 29: expected FROM after IS DISTINCT, found B"
    );
}

#[test]
fn not_null_columns_and_null_treatment() {
    assert_eq!(
        one(
            "CREATE OR REPLACE STREAM \"OrderData\" (\"key_order\" BIGINT NOT NULL, \"eur\" DECIMAL(19,5))"
        ),
        "CREATE OR REPLACE STREAM \"OrderData\" (\"key_order\" BIGINT NOT NULL, \"eur\" DECIMAL(19, 5))"
    );
    assert_eq!(
        one(
            "SELECT STREAM FIRST_VALUE(x) IGNORE NULLS OVER w, LAST_VALUE(x) RESPECT NULLS OVER w,
                    FIRST_VALUE(x) OVER w AS ignore FROM s WINDOW w AS (ROWS 5 PRECEDING)"
        ),
        "SELECT STREAM FIRST_VALUE(X) IGNORE NULLS OVER W, LAST_VALUE(X) RESPECT NULLS OVER W, \
         FIRST_VALUE(X) OVER W AS IGNORE FROM S WINDOW W AS (ROWS 5 PRECEDING)"
    );
    assert_eq!(
        one(
            "SELECT STREAM NTH_VALUE(x, 2) FROM LAST IGNORE NULLS OVER w, NTH_VALUE(x, 1) FROM FIRST OVER w FROM s WINDOW w AS (ROWS 5 PRECEDING)"
        ),
        "SELECT STREAM NTH_VALUE(X, 2) FROM LAST IGNORE NULLS OVER W, NTH_VALUE(X, 1) FROM FIRST OVER W FROM S WINDOW W AS (ROWS 5 PRECEDING)"
    );
    assert_eq!(
        error("CREATE STREAM s (a INTEGER NOT 5)"),
        "line 1, column 32: expected NULL after NOT in a column definition, found number 5"
    );
}

/// Every prefix of valid code (cut at any character) parses or fails with an error inside the
/// code's bounds; none panics. A cheap stand-in for fuzzing until the crate has a fuzz target.
#[test]
fn every_prefix_of_valid_code_parses_or_fails_cleanly() {
    let code = "CREATE OR REPLACE STREAM \"D\" (a VARCHAR(4) NOT NULL, b DECIMAL(4,2)) DESCRIPTION 'x';
        CREATE OR REPLACE PUMP \"P\" AS INSERT INTO \"D\" (a, b)
        SELECT STREAM DISTINCT s.a || 'x' AS a, CAST(AVG(s.b) OVER w AS DECIMAL(4, 2)), t.*,
               CASE WHEN s.b BETWEEN -1 AND 2.5e1 THEN TRIM(LEADING 'x' FROM s.a) ELSE NULL END,
               SUBSTRING(s.a, 1, 2), POSITION('a' IN s.a), EXTRACT(DAY FROM s.ROWTIME), X'0A',
               FIRST_VALUE(s.b) IGNORE NULLS OVER (w ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
        FROM \"S\" OVER (RANGE INTERVAL '1:30' MINUTE TO SECOND PRECEDING) AS s
        LEFT JOIN (SELECT STREAM * FROM TABLE(TUMBLE(TABLE r, DESCRIPTOR(ts), INTERVAL '1' HOUR))) t
            ON s.a = t.a AND s.b IS NOT NULL AND s.a NOT LIKE '%x' ESCAPE '!'
        WHERE s.b NOT IN (1, 2) OR NOT (s.b IS DISTINCT FROM 3) /* block */ -- line
        GROUP BY s.a, STEP(s.ROWTIME BY INTERVAL '10' SECOND),
                 FLOOR((s.ROWTIME - TIMESTAMP '1970-01-01 00:00:00') SECOND / 10 TO SECOND)
        HAVING COUNT(*) > 1 WINDOW w AS (PARTITION BY s.a RANGE INTERVAL '1' MINUTE PRECEDING)
        UNION ALL SELECT STREAM * FROM u WINDOWED BY STAGGER (PARTITION BY a RANGE INTERVAL '1' MINUTE)
        ORDER BY s.ROWTIME WITHIN INTERVAL '2' SECOND, 2 DESC;";
    assert_eq!(normalized(code).len(), 2, "the whole code is valid");
    let lines = u32::try_from(code.lines().count()).expect("few lines");
    let mut errors = 0;
    for (cut, _) in code.char_indices() {
        if let Err(error) = parse_application_code(&code[..cut]) {
            errors += 1;
            assert!(
                error.line >= 1 && error.line <= lines && error.column >= 1,
                "{error} at cut {cut}"
            );
        }
    }
    assert!(
        errors > code.len() / 2,
        "most prefixes are incomplete: {errors}"
    );
}

#[test]
fn intersect_binds_tighter_than_union_and_set_operation_chains_are_bounded() {
    let statements = parse_application_code(
        "SELECT a FROM s UNION SELECT a FROM t INTERSECT SELECT a FROM u EXCEPT ALL SELECT a FROM v",
    )
    .expect("valid");
    let Statement::Query(query) = &statements[0] else {
        panic!("a query")
    };
    let QueryBody::SetOperation {
        op: SetOperator::Except,
        all: true,
        left,
        ..
    } = &query.body
    else {
        panic!("EXCEPT ALL at the root: {query}")
    };
    let QueryBody::SetOperation {
        op: SetOperator::Union,
        all: false,
        right,
        ..
    } = left.as_ref()
    else {
        panic!("UNION under it: {left}")
    };
    assert!(
        matches!(
            right.as_ref(),
            QueryBody::SetOperation {
                op: SetOperator::Intersect,
                ..
            }
        ),
        "INTERSECT on the right of UNION: {right}"
    );
    assert_eq!(
        one(
            "SELECT a FROM s UNION SELECT a FROM t INTERSECT SELECT a FROM u EXCEPT ALL SELECT a FROM v"
        ),
        "SELECT A FROM S UNION SELECT A FROM T INTERSECT SELECT A FROM U EXCEPT ALL SELECT A FROM V"
    );
    assert_eq!(
        one("(SELECT a FROM s UNION SELECT a FROM t) INTERSECT SELECT a FROM u"),
        "(SELECT A FROM S UNION SELECT A FROM T) INTERSECT SELECT A FROM U"
    );
    let chain = |length: usize| vec!["SELECT STREAM a FROM s"; length].join(" UNION ALL ");
    assert_eq!(normalized(&chain(90)).len(), 1);
    assert_eq!(
        error(&chain(100_000)),
        "line 1, column 3150: expressions, queries or set operations nested too deeply"
    );
}

#[test]
fn chained_signs_print_apart_and_without_parentheses() {
    assert_eq!(
        one("SELECT - -1, +-x, - + - y FROM s"),
        "SELECT - -1, + -X, - + -Y FROM S"
    );
    // Found by the analytics_sql fuzz target: 80 signs in a row parse, and printing them with a
    // parenthesis each made text too deeply nested to parse again.
    let code = format!("SELECT 1 {} 2 FROM s", "+".repeat(80));
    let printed = one(&code);
    assert!(!printed.contains('('), "{printed}");
}

#[test]
fn names_that_upper_case_into_other_characters_print_quoted() {
    // Found by the analytics_sql fuzz target: `ǰ` upper-cases to `J` plus a combining caron,
    // which the lexer does not take in an unquoted name.
    assert_eq!(
        one("SELECT STREAM r\u{1f0}er FROM s"),
        "SELECT STREAM \"RJ\u{30c}ER\" FROM S"
    );
}
