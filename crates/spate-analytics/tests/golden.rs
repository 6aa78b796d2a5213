//! SQL golden tests: every `tests/sql/*.test` file is a script of application code, input
//! records and the exact rows expected on the application's streams. Run with
//! `SPATE_GOLDEN=rewrite cargo test -p spate-analytics --test golden` to write the actual rows
//! into the files' `expect` blocks (then read the diff before committing it).
//!
//! Directives, one per line (blank lines and `#` comments between them are ignored):
//! - `input NAME (COL TYPE, ...)`: an in-application input stream whose JSON records map
//!   `$.COL` to each column (types as an InputSchema writes them).
//! - `table NAME (COL TYPE, ...)`: a reference table, read the same way.
//! - `table-rows NAME` ... `end`: the table's content, one JSON record per line.
//! - `output NAME`: a stream whose rows the script reads.
//! - `code` ... `end`: the application code; then either nothing (it must plan) or
//!   `plan-error` ... `end` with the exact error.
//! - `rows NAME` ... `end`: records entering NAME, one per line, `<ROWTIME> <JSON>`; the
//!   lines go in as one batch, each record arrived (APPROXIMATE_ARRIVAL_TIME) 100 ms before
//!   its ROWTIME.
//! - `advance <TIMESTAMP>`: the clock reaches that time.
//! - `snapshot`: the engine's state is written out and read into a new engine, as a restart
//!   does.
//! - `expect NAME` ... `end`: the rows that entered NAME since the last `expect` of it, as
//!   `ROWTIME | value | value ...`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use spate_analytics::engine::plan::{ApplicationPlan, InputStream, plan_application};
use spate_analytics::engine::run::{Engine, ErrorRow};
use spate_analytics::engine::schema::Column;
use spate_analytics::input::{InputParser, SourceSchema, SqlType, Value, datetime};

#[test]
fn golden_sql_scripts() {
    let rewrite = std::env::var("SPATE_GOLDEN").is_ok_and(|mode| mode == "rewrite");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/sql exists")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "test"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no golden scripts in {}", dir.display());
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable script");
        let actual = match run_script(&text) {
            Ok(actual) => actual,
            Err(err) => {
                failures.push(format!("{}: {err}", path.display()));
                continue;
            }
        };
        if actual != text {
            if rewrite {
                std::fs::write(path, &actual).expect("writable script");
            } else {
                failures.push(format!(
                    "{}: output differs (SPATE_GOLDEN=rewrite writes it):\n{}",
                    path.display(),
                    diff(&text, &actual)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The first lines where two texts differ.
fn diff(expected: &str, actual: &str) -> String {
    let mut out = String::new();
    for (line, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
        if e != a {
            let _ = writeln!(out, "line {}:\n  expected: {e}\n  actual:   {a}", line + 1);
        }
    }
    let (e, a) = (expected.lines().count(), actual.lines().count());
    if e != a {
        let _ = writeln!(out, "expected {e} lines, got {a}");
    }
    out
}

struct Script {
    inputs: Vec<InputStream>,
    tables: Vec<InputStream>,
    parsers: Vec<(String, InputParser)>,
    outputs: Vec<String>,
    plan: Option<Arc<ApplicationPlan>>,
    engine: Option<Engine>,
}

/// Runs a script; returns its text with every `expect` and `plan-error` block holding what
/// actually happened.
fn run_script(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    let mut script = Script {
        inputs: Vec::new(),
        tables: Vec::new(),
        parsers: Vec::new(),
        outputs: Vec::new(),
        plan: None,
        engine: None,
    };
    let block = |lines: &mut std::iter::Peekable<std::str::Lines<'_>>| -> Vec<String> {
        let mut body = Vec::new();
        for line in lines.by_ref() {
            if line == "end" {
                break;
            }
            body.push(line.to_string());
        }
        body
    };
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let (directive, rest) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
        match directive {
            "input" => {
                out.push_str(line);
                out.push('\n');
                let (name, parser, columns) = input_stream(rest)?;
                script.inputs.push(InputStream {
                    name: name.clone(),
                    columns,
                });
                script.parsers.push((name, parser));
            }
            "table" => {
                out.push_str(line);
                out.push('\n');
                let (name, parser, columns) = input_stream(rest)?;
                script.tables.push(InputStream {
                    name: name.clone(),
                    columns,
                });
                script.parsers.push((name, parser));
            }
            "table-rows" => {
                let body = block(&mut lines);
                let _ = writeln!(out, "{line}\n{}end", lines_of(&body));
                let engine = script
                    .engine
                    .as_mut()
                    .ok_or("table-rows before a planned code")?;
                let parser = &script
                    .parsers
                    .iter()
                    .find(|(name, _)| name == rest)
                    .ok_or_else(|| format!("no table {rest}"))?
                    .1;
                let mut rows = Vec::new();
                for record in &body {
                    for parsed in parser.parse_record(record.as_bytes()) {
                        rows.push(parsed.map_err(|err| format!("table row {record}: {err}"))?);
                    }
                }
                engine
                    .set_table(rest, &rows)
                    .map_err(|err| err.to_string())?;
            }
            "output" => {
                out.push_str(line);
                out.push('\n');
                script.outputs.push(rest.to_string());
            }
            "code" => {
                let code = block(&mut lines).join("\n");
                let _ = writeln!(out, "code\n{code}\nend");
                let planned = plan_application(&code, &script.inputs, &script.tables);
                let expects_error = lines.peek().is_some_and(|next| *next == "plan-error");
                if expects_error {
                    lines.next();
                    block(&mut lines);
                }
                match planned {
                    Ok(plan) => {
                        if expects_error {
                            out.push_str("plan-error\n(none: the code planned)\nend\n");
                            continue;
                        }
                        let plan = Arc::new(plan);
                        // Outputs declared for earlier code blocks may not exist in this one.
                        script
                            .outputs
                            .retain(|output| plan.stream(output).is_some());
                        let engine = Engine::new(plan.clone(), &script.outputs)
                            .map_err(|err| err.to_string())?;
                        script.plan = Some(plan);
                        script.engine = Some(engine);
                    }
                    Err(err) if expects_error => {
                        let _ = writeln!(out, "plan-error\n{err}\nend");
                    }
                    Err(err) => return Err(format!("the code did not plan: {err}")),
                }
            }
            "rows" => {
                let body = block(&mut lines);
                let _ = writeln!(out, "{line}\n{}end", lines_of(&body));
                let engine = script.engine.as_mut().ok_or("rows before a planned code")?;
                let parser = &script
                    .parsers
                    .iter()
                    .find(|(name, _)| name == rest)
                    .ok_or_else(|| format!("no input stream {rest}"))?
                    .1;
                let mut rowtimes = Vec::new();
                let mut rows = Vec::new();
                for record in &body {
                    let (time, json) = record
                        .split_once(" {")
                        .map(|(time, json)| (time, format!("{{{json}")))
                        .ok_or_else(|| format!("a row is `<ROWTIME> <JSON>`: {record}"))?;
                    let rowtime = datetime::parse_timestamp(time.trim())
                        .ok_or_else(|| format!("bad ROWTIME {time}"))?;
                    for parsed in parser.parse_record(json.as_bytes()) {
                        match parsed {
                            Ok(row) => {
                                rowtimes.push(rowtime);
                                rows.push(row);
                            }
                            Err(err) => engine.push_error(ErrorRow {
                                time: rowtime,
                                name: "Input_Error".into(),
                                message: err.to_string(),
                                data_rowtime: Some(rowtime),
                                data: json.clone(),
                                pump: None,
                            }),
                        }
                    }
                }
                // An input stream's APPROXIMATE_ARRIVAL_TIME: 100 ms before the row's ROWTIME.
                let width = engine.columns(rest).map_or(0, <[Column]>::len);
                for (row, rowtime) in rows.iter_mut().zip(&rowtimes) {
                    if row.len() + 1 == width {
                        row.push(Value::Timestamp(rowtime - 100));
                    }
                }
                engine
                    .push_rows(rest, &rowtimes, &rows)
                    .map_err(|err| err.to_string())?;
            }
            "advance" => {
                out.push_str(line);
                out.push('\n');
                let now = datetime::parse_timestamp(rest).ok_or("bad advance time")?;
                script
                    .engine
                    .as_mut()
                    .ok_or("advance before a planned code")?
                    .advance(now);
            }
            "snapshot" => {
                out.push_str(line);
                out.push('\n');
                let engine = script
                    .engine
                    .take()
                    .ok_or("snapshot before a planned code")?;
                let stored = engine.snapshot().map_err(|err| err.to_string())?;
                let plan = script.plan.clone().ok_or("no plan")?;
                let mut fresh =
                    Engine::new(plan, &script.outputs).map_err(|err| err.to_string())?;
                fresh.restore(&stored).map_err(|err| err.to_string())?;
                script.engine = Some(fresh);
            }
            "expect" => {
                block(&mut lines);
                let engine = script
                    .engine
                    .as_mut()
                    .ok_or("expect before a planned code")?;
                let columns: Vec<Column> = engine
                    .columns(rest)
                    .ok_or_else(|| format!("no stream {rest}"))?
                    .to_vec();
                let rows = engine.drain_rows(rest);
                let body: Vec<String> = rows
                    .iter()
                    .map(|(rowtime, values)| format_row(*rowtime, values, &columns))
                    .collect();
                let _ = writeln!(out, "{line}\n{}end", lines_of(&body));
            }
            other => return Err(format!("unknown directive {other:?}")),
        }
    }
    Ok(out)
}

fn lines_of(body: &[String]) -> String {
    body.iter().map(|line| format!("{line}\n")).collect()
}

/// `NAME (COL TYPE, ...)`: the stream's name, a JSON parser for it, and its columns.
fn input_stream(spec: &str) -> Result<(String, InputParser, Vec<Column>), String> {
    let (name, columns) = spec.split_once(' ').ok_or("input NAME (COL TYPE, ...)")?;
    let inner = columns
        .trim()
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or("columns in parentheses")?;
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (at, c) in inner.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    let mut record_columns = Vec::new();
    let mut columns = Vec::new();
    for part in parts {
        let (column, sql_type) = part.trim().split_once(' ').ok_or("COL TYPE")?;
        let parsed = SqlType::parse(sql_type).map_err(|err| err.to_string())?;
        record_columns.push(serde_json::json!({
            "Name": column, "SqlType": sql_type, "Mapping": format!("$.{column}")
        }));
        columns.push(Column::new(column, parsed));
    }
    let schema: SourceSchema = serde_json::from_value(serde_json::json!({
        "RecordFormat": {
            "RecordFormatType": "JSON",
            "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}}
        },
        "RecordEncoding": "UTF-8",
        "RecordColumns": record_columns,
    }))
    .map_err(|err| err.to_string())?;
    let parser = InputParser::new(&schema).map_err(|err| err.to_string())?;
    Ok((name.to_string(), parser, columns))
}

fn format_row(rowtime: i64, values: &[Value], columns: &[Column]) -> String {
    let mut line = datetime::format_timestamp(rowtime);
    for (value, column) in values.iter().zip(columns) {
        line.push_str(" | ");
        line.push_str(&format_value(value, column.sql_type));
    }
    line
}

fn format_value(value: &Value, sql_type: SqlType) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::Boolean(flag) => flag.to_string().to_uppercase(),
        Value::Integer(number) => number.to_string(),
        Value::Double(number) if sql_type == SqlType::Real => (*number as f32).to_string(),
        Value::Double(number) => number.to_string(),
        Value::Decimal { unscaled, scale } => {
            let sign = if *unscaled < 0 { "-" } else { "" };
            let digits = format!(
                "{:0>width$}",
                unscaled.unsigned_abs(),
                width = *scale as usize + 1
            );
            let (whole, fraction) = digits.split_at(digits.len() - *scale as usize);
            if fraction.is_empty() {
                format!("{sign}{whole}")
            } else {
                format!("{sign}{whole}.{fraction}")
            }
        }
        Value::Varchar(text) => text.clone(),
        Value::Timestamp(millis) => datetime::format_timestamp(*millis),
        Value::Date(days) => datetime::format_date(*days),
        Value::Time(millis) => datetime::format_time(*millis),
        Value::Binary(bytes) => bytes.iter().map(|byte| format!("{byte:02X}")).collect(),
    }
}
