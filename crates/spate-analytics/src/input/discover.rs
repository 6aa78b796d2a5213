//! DiscoverInputSchema: inferring an InputSchema from sample records, and reading the samples
//! with it (the response's parsed records).
//!
//! JSON (every sample a JSON object): RecordRowPath `$`; one column per leaf, nested objects
//! flattened into paths (`$.address.city`), named by `naming` from the leaf's key. Unverified:
//! array elements become columns with explicit indexes (`$.tags[0]`, named `tags_0`), following
//! the service's announcement that arrays are read "with fully explicit indices"; when every
//! sample is a top-level array of objects the row path is `$[0:]`; when two leaves share a key,
//! the later one is named by its whole path joined with `_` (`billing_address_city`). Columns
//! keep the order in which the samples first show them.
//!
//! CSV (anything else): row delimiter `\r\n` if the samples use it, else `\n`; the column
//! delimiter is the first of `,` `|` tab `;` that appears in every row, else `,`. Columns are `COL_1`, `COL_2`... Unverified: when the first row
//! is all text and some column below it is not, it is a header and names the columns (the
//! guide's CSV example, as remembered, gives `COL_year` for a `year` header).
//!
//! Types come from `infer`.

use super::infer::TypeGuess;
use super::json::Json;
use super::jsonpath::{JsonPath, Step};
use super::naming;
use super::record_format::{InputParser, Row};
use super::shapes::{RecordColumn, SourceSchema};
use super::types::SqlType;

/// Most columns a schema may have (the API's RecordColumns maximum).
const MAX_COLUMNS: usize = 1000;

/// The column delimiters CSV detection tries, in order of preference.
const COLUMN_DELIMITERS: [&str; 4] = [",", "|", "\t", ";"];

/// Why no schema could be inferred (the API's UnableToDetectSchemaException).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoverError {
    #[error("no sample records to infer a schema from")]
    NoSamples,
    #[error("sample record {0} is not UTF-8 text")]
    NotUtf8(usize),
    #[error("the sample records hold no columns")]
    NoColumns,
    #[error("the inferred schema cannot read its own samples: {0}")]
    Unreadable(String),
}

/// What discovery returns: the schema and the samples read by it.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    pub input_schema: SourceSchema,
    /// The typed rows of the samples, in sample order (a record may give several rows).
    pub rows: Vec<Row>,
    /// The same rows as the source text of each field (`ParsedInputRecords`); `None` where the
    /// record has no value (a JSON null or missing member, a CSV row with fewer fields). Unverified: JSON strings without their quotes, other JSON values as
    /// JSON text.
    pub parsed_input_records: Vec<Vec<Option<String>>>,
}

/// Infers a schema from `samples` (raw records) and reads them with it.
pub fn discover_input_schema(samples: &[Vec<u8>]) -> Result<Discovery, DiscoverError> {
    if samples.is_empty() {
        return Err(DiscoverError::NoSamples);
    }
    let mut texts = Vec::new();
    for (index, sample) in samples.iter().enumerate() {
        texts.push(std::str::from_utf8(sample).map_err(|_| DiscoverError::NotUtf8(index))?);
    }
    let documents: Option<Vec<Json>> = texts
        .iter()
        .map(|text| Json::parse(text.as_bytes()).ok())
        .collect();
    match documents {
        Some(documents) if documents.iter().all(|doc| matches!(doc, Json::Object(_))) => {
            discover_json(&texts, &documents, JsonPath { steps: Vec::new() })
        }
        Some(documents) if documents.iter().all(is_array_of_objects) => discover_json(
            &texts,
            &documents,
            JsonPath {
                steps: vec![Step::From(0)],
            },
        ),
        _ => discover_csv(&texts),
    }
}

fn is_array_of_objects(document: &Json) -> bool {
    matches!(document, Json::Array(items)
        if !items.is_empty() && items.iter().all(|item| matches!(item, Json::Object(_))))
}

/// One column found in the samples.
#[derive(Debug)]
struct Leaf {
    /// The path within a row.
    steps: Vec<Step>,
    guess: TypeGuess,
}

fn discover_json(
    texts: &[&str],
    documents: &[Json],
    row_path: JsonPath,
) -> Result<Discovery, DiscoverError> {
    let mut leaves: Vec<Leaf> = Vec::new();
    for document in documents {
        for row in row_path.select(document) {
            collect_leaves(row, &mut Vec::new(), &mut leaves);
        }
    }
    if leaves.is_empty() {
        return Err(DiscoverError::NoColumns);
    }
    leaves.truncate(MAX_COLUMNS);
    let mut columns: Vec<RecordColumn> = Vec::new();
    for (position, leaf) in leaves.iter().enumerate() {
        let mut name = naming::column_name(&leaf_key(&leaf.steps), position);
        if columns.iter().any(|column| column.name == name) {
            name = naming::column_name(&joined_path(&leaf.steps), position);
        }
        if columns.iter().any(|column| column.name == name) {
            name = format!("COL_{position}");
        }
        let mut path = row_path.clone();
        path.steps.extend(leaf.steps.iter().cloned());
        columns.push(RecordColumn {
            name,
            mapping: Some(path.to_string()),
            sql_type: leaf.guess.sql_type().to_string(),
        });
    }
    let schema = SourceSchema::json(&row_path.to_string(), columns);
    let mut parsed = Vec::new();
    for document in documents {
        let mut sample_rows = Vec::new();
        for row in row_path.select(document) {
            let mut fields = Vec::new();
            for leaf in &leaves {
                let path = JsonPath {
                    steps: leaf.steps.clone(),
                };
                fields.push(path.select(row).first().and_then(|value| field_text(value)));
            }
            sample_rows.push(fields);
        }
        parsed.push(sample_rows);
    }
    read_samples(schema, texts, parsed)
}

/// Walks `value`, adding each leaf's observation to `leaves` (new leaves at the end).
fn collect_leaves(value: &Json, steps: &mut Vec<Step>, leaves: &mut Vec<Leaf>) {
    match value {
        Json::Object(members) if !members.is_empty() => {
            for (key, member) in members {
                steps.push(Step::Member(key.clone()));
                collect_leaves(member, steps, leaves);
                steps.pop();
            }
        }
        Json::Array(items) if !items.is_empty() => {
            for (index, item) in items.iter().enumerate() {
                steps.push(Step::Index(index));
                collect_leaves(item, steps, leaves);
                steps.pop();
            }
        }
        _ => {
            if steps.is_empty() {
                return;
            }
            let index = match leaves.iter().position(|leaf| leaf.steps == *steps) {
                Some(index) => index,
                None => {
                    leaves.push(Leaf {
                        steps: steps.clone(),
                        guess: TypeGuess::default(),
                    });
                    leaves.len() - 1
                }
            };
            leaves[index].guess.observe_json(value);
        }
    }
}

/// The key a leaf is named by: its last member, with the indexes after it (`tags_0`).
fn leaf_key(steps: &[Step]) -> String {
    let last_member = steps
        .iter()
        .rposition(|step| matches!(step, Step::Member(_)));
    let from = last_member.unwrap_or(0);
    step_names(&steps[from..]).join("_")
}

/// Every step of a leaf's path joined with `_` (`billing_address_city`).
fn joined_path(steps: &[Step]) -> String {
    step_names(steps).join("_")
}

fn step_names(steps: &[Step]) -> Vec<String> {
    steps
        .iter()
        .map(|step| match step {
            Step::Member(name) => name.clone(),
            Step::Index(index) | Step::From(index) => index.to_string(),
        })
        .collect()
}

fn field_text(value: &Json) -> Option<String> {
    match value {
        Json::Null => None,
        Json::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

fn discover_csv(texts: &[&str]) -> Result<Discovery, DiscoverError> {
    let row_delimiter = if texts.iter().any(|text| text.contains("\r\n")) {
        "\r\n"
    } else {
        "\n"
    };
    let lines: Vec<&str> = texts
        .iter()
        .flat_map(|text| text.split(row_delimiter))
        .filter(|line| !line.is_empty())
        .collect();
    if lines.is_empty() {
        return Err(DiscoverError::NoColumns);
    }
    let column_delimiter = COLUMN_DELIMITERS
        .into_iter()
        .find(|delimiter| lines.iter().all(|line| line.contains(delimiter)))
        .unwrap_or(",");
    let rows: Vec<Vec<&str>> = lines
        .iter()
        .map(|line| line.split(column_delimiter).collect())
        .collect();
    let width = rows
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .min(MAX_COLUMNS);

    let guess_rows = |rows: &[Vec<&str>]| -> Vec<TypeGuess> {
        let mut guesses = vec![TypeGuess::default(); width];
        for row in rows {
            for (guess, field) in guesses.iter_mut().zip(row) {
                guess.observe_text(field);
            }
        }
        guesses
    };
    let header = is_header(&rows, &guess_rows);
    let data_rows = if header { &rows[1..] } else { &rows[..] };
    let guesses = guess_rows(data_rows);

    let mut columns: Vec<RecordColumn> = Vec::new();
    for (position, guess) in guesses.iter().enumerate() {
        let mut name = format!("COL_{}", position + 1);
        if header && let Some(source) = rows[0].get(position) {
            let candidate = naming::column_name(source, position);
            if !columns.iter().any(|column| column.name == candidate) {
                name = candidate;
            }
        }
        columns.push(RecordColumn {
            name,
            mapping: None,
            sql_type: guess.sql_type().to_string(),
        });
    }
    let schema = SourceSchema::csv(row_delimiter, column_delimiter, columns);

    // The samples again, without the header line, so each sample is read as the schema will read
    // the stream's records.
    let mut samples: Vec<String> = texts.iter().map(|text| text.to_string()).collect();
    if header
        && let Some(first) = samples
            .iter_mut()
            .find(|text| !text.split(row_delimiter).all(str::is_empty))
    {
        let rest = first
            .trim_start_matches(row_delimiter)
            .split_once(row_delimiter)
            .map(|(_, rest)| rest.to_string())
            .unwrap_or_default();
        *first = rest;
    }
    let mut parsed = Vec::new();
    for sample in &samples {
        let mut sample_rows = Vec::new();
        for line in sample.split(row_delimiter).filter(|line| !line.is_empty()) {
            let fields: Vec<&str> = line.split(column_delimiter).collect();
            let texts = (0..width).map(|index| fields.get(index).map(|field| field.to_string()));
            sample_rows.push(texts.collect());
        }
        parsed.push(sample_rows);
    }
    let sample_refs: Vec<&str> = samples.iter().map(String::as_str).collect();
    read_samples(schema, &sample_refs, parsed)
}

/// Whether the first row names the columns: every field of it is text (no number, boolean or
/// timestamp) while some column below it is not text. Needs at least two rows.
fn is_header(rows: &[Vec<&str>], guess_rows: &dyn Fn(&[Vec<&str>]) -> Vec<TypeGuess>) -> bool {
    if rows.len() < 2 {
        return false;
    }
    let first = guess_rows(&rows[..1]);
    let below = guess_rows(&rows[1..]);
    let first_all_text = rows[0].iter().all(|field| !field.trim().is_empty())
        && first
            .iter()
            .all(|guess| matches!(guess.sql_type(), SqlType::Varchar(_)));
    first_all_text
        && below
            .iter()
            .any(|guess| !matches!(guess.sql_type(), SqlType::Varchar(_)))
}

/// Reads the samples with the inferred schema. A row that does not convert (a member that is a
/// number in one sample and an object in another) is left out, as it would go to the error
/// stream; `parsed` holds each sample's rows as text, in the order the parser gives them.
fn read_samples(
    schema: SourceSchema,
    samples: &[&str],
    parsed: Vec<Vec<Vec<Option<String>>>>,
) -> Result<Discovery, DiscoverError> {
    let parser =
        InputParser::new(&schema).map_err(|error| DiscoverError::Unreadable(error.to_string()))?;
    let mut rows = Vec::new();
    let mut parsed_input_records = Vec::new();
    for (sample, sample_texts) in samples.iter().zip(parsed) {
        let results = parser.parse_record(sample.as_bytes());
        debug_assert_eq!(
            results.len(),
            sample_texts.len(),
            "one text row per parsed row"
        );
        for (result, texts) in results.into_iter().zip(sample_texts) {
            if let Ok(row) = result {
                rows.push(row);
                parsed_input_records.push(texts);
            }
        }
    }
    if rows.is_empty() {
        return Err(DiscoverError::Unreadable(
            "no sample row converts".to_string(),
        ));
    }
    Ok(Discovery {
        input_schema: schema,
        rows,
        parsed_input_records,
    })
}

#[cfg(test)]
mod tests {
    use super::super::value::Value;
    use super::*;

    fn discover(samples: &[&str]) -> Discovery {
        let samples: Vec<Vec<u8>> = samples
            .iter()
            .map(|text| text.as_bytes().to_vec())
            .collect();
        discover_input_schema(&samples).unwrap_or_else(|error| panic!("{error}"))
    }

    /// (name, mapping, SQL type) of each column.
    fn columns(discovery: &Discovery) -> Vec<(String, Option<String>, String)> {
        discovery
            .input_schema
            .record_columns
            .iter()
            .map(|column| {
                (
                    column.name.clone(),
                    column.mapping.clone(),
                    column.sql_type.clone(),
                )
            })
            .collect()
    }

    fn column(
        name: &str,
        mapping: Option<&str>,
        sql_type: &str,
    ) -> (String, Option<String>, String) {
        (
            name.to_string(),
            mapping.map(str::to_string),
            sql_type.to_string(),
        )
    }

    fn text(value: &str) -> Value {
        Value::Varchar(value.to_string())
    }

    fn fields(values: &[Option<&str>]) -> Vec<Option<String>> {
        values
            .iter()
            .map(|value| value.map(str::to_string))
            .collect()
    }

    #[test]
    fn flat_json_gives_one_column_per_member() {
        let discovery = discover(&[
            r#"{"TICKER_SYMBOL":"AMZN","SECTOR":"TECHNOLOGY","CHANGE":-0.45,"PRICE":84.51}"#,
            r#"{"TICKER_SYMBOL":"TBV","SECTOR":"MANUFACTURING","CHANGE":1,"PRICE":5.2}"#,
        ]);
        assert_eq!(
            discovery.input_schema,
            SourceSchema::json(
                "$",
                vec![
                    RecordColumn::new("TICKER_SYMBOL", Some("$.TICKER_SYMBOL"), "VARCHAR(4)"),
                    RecordColumn::new("SECTOR", Some("$.SECTOR"), "VARCHAR(16)"),
                    RecordColumn::new("CHANGE", Some("$.CHANGE"), "DOUBLE"),
                    RecordColumn::new("PRICE", Some("$.PRICE"), "DOUBLE"),
                ],
            )
        );
        assert_eq!(
            discovery.rows,
            [
                vec![
                    text("AMZN"),
                    text("TECHNOLOGY"),
                    Value::Double(-0.45),
                    Value::Double(84.51)
                ],
                vec![
                    text("TBV"),
                    text("MANUFACTURING"),
                    Value::Double(1.0),
                    Value::Double(5.2)
                ],
            ]
        );
        assert_eq!(
            discovery.parsed_input_records,
            [
                fields(&[
                    Some("AMZN"),
                    Some("TECHNOLOGY"),
                    Some("-0.45"),
                    Some("84.51")
                ]),
                fields(&[Some("TBV"), Some("MANUFACTURING"), Some("1"), Some("5.2")]),
            ]
        );
    }

    #[test]
    fn nested_json_is_flattened_and_names_are_made_valid() {
        let discovery = discover(&[
            r#"{"id":7,"user":{"name":"ann","address":{"city":"Oslo"}},
                "timestamp":"2024-01-01 10:00:00","tags":["a","bb"],
                "billing":{"city":"Bergen"},"big":5000000000,"ok":true,"my-field":null}"#,
            r#"{"id":8,"user":{"name":"bob"},"extra":1.5}"#,
        ]);
        assert_eq!(
            columns(&discovery),
            [
                column("id", Some("$.id"), "INTEGER"),
                column("name", Some("$.user.name"), "VARCHAR(4)"),
                column("city", Some("$.user.address.city"), "VARCHAR(4)"),
                column("COL_timestamp", Some("$.timestamp"), "TIMESTAMP"),
                column("tags_0", Some("$.tags[0]"), "VARCHAR(4)"),
                column("tags_1", Some("$.tags[1]"), "VARCHAR(4)"),
                column("billing_city", Some("$.billing.city"), "VARCHAR(8)"),
                column("big", Some("$.big"), "BIGINT"),
                column("ok", Some("$.ok"), "BOOLEAN"),
                column("COL_myfield", Some("$.my-field"), "VARCHAR(4)"),
                column("extra", Some("$.extra"), "DOUBLE"),
            ]
        );
        assert_eq!(
            discovery.rows,
            [
                vec![
                    Value::Integer(7),
                    text("ann"),
                    text("Oslo"),
                    Value::Timestamp(1_704_103_200_000),
                    text("a"),
                    text("bb"),
                    text("Bergen"),
                    Value::Integer(5_000_000_000),
                    Value::Boolean(true),
                    Value::Null,
                    Value::Null,
                ],
                vec![
                    Value::Integer(8),
                    text("bob"),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Double(1.5),
                ],
            ]
        );
        assert_eq!(
            discovery.parsed_input_records[1],
            fields(&[
                Some("8"),
                Some("bob"),
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                Some("1.5")
            ])
        );
    }

    #[test]
    fn keys_with_path_characters_get_bracketed_mappings() {
        let discovery = discover(&[r#"{"a.b":1,"x]y":"q","it's":true}"#]);
        assert_eq!(
            columns(&discovery),
            [
                column("COL_ab", Some("$['a.b']"), "INTEGER"),
                column("COL_xy", Some("$['x]y']"), "VARCHAR(4)"),
                column("COL_its", Some("$[\"it's\"]"), "BOOLEAN"),
            ]
        );
        assert_eq!(
            discovery.rows,
            [vec![Value::Integer(1), text("q"), Value::Boolean(true)]]
        );
    }

    #[test]
    fn a_sample_row_that_does_not_convert_is_left_out() {
        let discovery = discover(&[r#"{"a":1}"#, r#"{"a":{"b":"x"}}"#, r#"{"a":2}"#]);
        assert_eq!(
            columns(&discovery),
            [
                column("a", Some("$.a"), "INTEGER"),
                column("b", Some("$.a.b"), "VARCHAR(4)")
            ]
        );
        assert_eq!(
            discovery.rows,
            [
                vec![Value::Integer(1), Value::Null],
                vec![Value::Integer(2), Value::Null]
            ]
        );
        assert_eq!(discovery.parsed_input_records.len(), 2);
    }

    #[test]
    fn top_level_arrays_of_objects_give_a_row_per_element() {
        let discovery = discover(&[r#"[{"a":1},{"a":2}]"#, r#"[{"a":3}]"#]);
        assert_eq!(
            discovery.input_schema,
            SourceSchema::json(
                "$[0:]",
                vec![RecordColumn::new("a", Some("$[0:].a"), "INTEGER")]
            )
        );
        assert_eq!(
            discovery.rows,
            [
                vec![Value::Integer(1)],
                vec![Value::Integer(2)],
                vec![Value::Integer(3)]
            ]
        );
    }

    #[test]
    fn csv_with_a_header_names_its_columns() {
        // The developer guide's example for discovery on static data.
        let discovery = discover(&[
            "year,month,state,producer_type,energy_source,units,consumption
2001,1,AK,TotalElectricPowerIndustry,Coal,ShortTons,47615
2001,1,AK,ElectricGeneratorsElectricUtilities,Coal,ShortTons,16535
2001,1,AK,CombinedHeatandPowerElectricPower,Coal,ShortTons,22890
2001,1,AL,TotalElectricPowerIndustry,Coal,ShortTons,3020601
2001,1,AL,ElectricGeneratorsElectricUtilities,Coal,ShortTons,2987681
",
        ]);
        assert_eq!(
            discovery.input_schema,
            SourceSchema::csv(
                "\n",
                ",",
                vec![
                    RecordColumn::new("COL_year", None, "INTEGER"),
                    RecordColumn::new("COL_month", None, "INTEGER"),
                    RecordColumn::new("state", None, "VARCHAR(4)"),
                    RecordColumn::new("producer_type", None, "VARCHAR(64)"),
                    RecordColumn::new("energy_source", None, "VARCHAR(4)"),
                    RecordColumn::new("units", None, "VARCHAR(16)"),
                    RecordColumn::new("consumption", None, "INTEGER"),
                ],
            )
        );
        assert_eq!(discovery.rows.len(), 5);
        assert_eq!(
            discovery.rows[0],
            [
                Value::Integer(2001),
                Value::Integer(1),
                text("AK"),
                text("TotalElectricPowerIndustry"),
                text("Coal"),
                text("ShortTons"),
                Value::Integer(47615),
            ]
        );
        assert_eq!(
            discovery.parsed_input_records[4],
            fields(&[
                Some("2001"),
                Some("1"),
                Some("AL"),
                Some("ElectricGeneratorsElectricUtilities"),
                Some("Coal"),
                Some("ShortTons"),
                Some("2987681"),
            ])
        );
    }

    #[test]
    fn csv_detects_pipe_and_tab_delimiters_and_numbers_columns() {
        let discovery = discover(&["AMZN|84.51|1200|true", "TBV|5|7|false|", "QXZ||9|true"]);
        assert_eq!(
            discovery.input_schema,
            SourceSchema::csv(
                "\n",
                "|",
                vec![
                    RecordColumn::new("COL_1", None, "VARCHAR(4)"),
                    RecordColumn::new("COL_2", None, "DOUBLE"),
                    RecordColumn::new("COL_3", None, "INTEGER"),
                    RecordColumn::new("COL_4", None, "BOOLEAN"),
                    RecordColumn::new("COL_5", None, "VARCHAR(4)"),
                ],
            )
        );
        assert_eq!(
            discovery.rows[2],
            [
                text("QXZ"),
                Value::Null,
                Value::Integer(9),
                Value::Boolean(true),
                Value::Null
            ]
        );
        assert_eq!(
            discovery.parsed_input_records[1],
            fields(&[Some("TBV"), Some("5"), Some("7"), Some("false"), Some("")])
        );

        let tabs = discover(&["a\t1\r\nbb\t-2\r\n"]);
        assert_eq!(
            tabs.input_schema,
            SourceSchema::csv(
                "\r\n",
                "\t",
                vec![
                    RecordColumn::new("COL_1", None, "VARCHAR(4)"),
                    RecordColumn::new("COL_2", None, "INTEGER"),
                ],
            )
        );
        assert_eq!(
            tabs.rows,
            [
                vec![text("a"), Value::Integer(1)],
                vec![text("bb"), Value::Integer(-2)]
            ]
        );
    }

    /// Untrusted samples: discovery never panics, and when it succeeds every row has one value
    /// and one text per column. Inputs come from a fixed-seed generator over characters that
    /// matter to the parsers.
    #[test]
    fn arbitrary_samples_never_panic_and_rows_match_the_columns() {
        const ALPHABET: &[&str] = &[
            "{",
            "}",
            "[",
            "]",
            "\"",
            ":",
            ",",
            "|",
            "\t",
            ";",
            "\n",
            "\r\n",
            "a",
            "b.c",
            "1",
            "-",
            "2.5",
            "e9",
            "true",
            "null",
            " ",
            "é",
            "2024-02-29 12:00:00",
            "$",
            "'",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |bound: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) as usize % bound
        };
        let mut successes = 0;
        for _ in 0..3000 {
            let mut samples = Vec::new();
            for _ in 0..1 + next(3) {
                let mut sample = String::new();
                for _ in 0..next(24) {
                    sample.push_str(ALPHABET[next(ALPHABET.len())]);
                }
                samples.push(sample.into_bytes());
            }
            if let Ok(discovery) = discover_input_schema(&samples) {
                successes += 1;
                let width = discovery.input_schema.record_columns.len();
                assert!(discovery.rows.iter().all(|row| row.len() == width));
                assert!(
                    discovery
                        .parsed_input_records
                        .iter()
                        .all(|row| row.len() == width)
                );
                assert_eq!(discovery.rows.len(), discovery.parsed_input_records.len());
            }
        }
        assert!(successes > 100, "only {successes} samples were discovered");
    }

    #[test]
    fn nothing_to_infer_is_an_error() {
        assert_eq!(discover_input_schema(&[]), Err(DiscoverError::NoSamples));
        assert_eq!(
            discover_input_schema(&[b"a,b".to_vec(), vec![0xff]]),
            Err(DiscoverError::NotUtf8(1))
        );
        assert_eq!(
            discover_input_schema(&[b"{}".to_vec()]),
            Err(DiscoverError::NoColumns)
        );
        assert_eq!(
            discover_input_schema(&[b"\n\n".to_vec()]),
            Err(DiscoverError::NoColumns)
        );
    }
}
