//! The Redshift `COPY` a delivery stream asks for, translated for PostgreSQL: `CopyOptions`
//! parsed into what Spate can do, and a batch's intermediate object turned into the input of a
//! PostgreSQL `COPY table (columns) FROM STDIN`. Pure: no I/O.
//!
//! Redshift runs `COPY table (columns) FROM 's3://bucket/manifest' CREDENTIALS ... MANIFEST
//! <CopyOptions>`; Spate reads the same object from memory instead. Supported options
//! (Redshift's *COPY parameters* reference, *Data format parameters* and *Data conversion
//! parameters*), each mapped to PostgreSQL:
//! - `[FORMAT [AS]] JSON 'auto'` / `'auto ignorecase'`: each JSON object's keys are matched to
//!   the columns by name (exactly, or ignoring case); missing keys and `null` load as NULL,
//!   nested objects and arrays as their JSON text. Sent to PostgreSQL as CSV.
//! - `[FORMAT [AS]] CSV [QUOTE [AS] 'c']`: PostgreSQL `FORMAT csv` with that quote.
//! - `DELIMITER [AS] 'c'`: the field delimiter (default `|` for text, `,` for CSV, as Redshift).
//! - `NULL [AS] 'text'`: the null string (default `\N`, as Redshift).
//! - `IGNOREHEADER [AS] n`: the first `n` lines of the object are skipped.
//! - `GZIP`: the object is gunzipped first (it must then be GZIP in S3, as for Redshift).
//! - `TIMEFORMAT`/`DATEFORMAT 'auto'`: PostgreSQL parses dates and times itself.
//! - `COMPUPDATE`, `STATUPDATE` `[ON|OFF|TRUE|FALSE]`: nothing to do in PostgreSQL.
//!
//! Any other option (JSONPaths files, AVRO, PARQUET, ORC, FIXEDWIDTH, BZIP2, LZOP, ZSTD,
//! ACCEPTINVCHARS, MAXERROR, EMPTYASNULL, TRUNCATECOLUMNS, ...) is refused by name at create
//! time, never ignored.

use std::io::Read;

use serde_json::Value;

/// The largest intermediate object, once gunzipped, that a load reads (buffers are at most
/// 128 MiB before compression).
pub const MAX_DECOMPRESSED_BYTES: u64 = 256 << 20;

/// How the records of the object are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// Redshift's default: delimited text, PostgreSQL `FORMAT text`.
    Text {
        delimiter: char,
    },
    Csv {
        delimiter: char,
        quote: char,
    },
    JsonAuto {
        ignore_case: bool,
    },
}

/// `CopyOptions` as Spate runs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOptions {
    pub format: Format,
    pub gzip: bool,
    pub null_as: String,
    pub ignore_header: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() || c == ',' || c == ';' {
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut value = String::new();
            loop {
                match chars.next() {
                    None => return Err("an unterminated quoted string".into()),
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        value.push('\'');
                    }
                    Some('\'') => break,
                    Some('\\') => match chars.next() {
                        Some('t') => value.push('\t'),
                        Some('n') => value.push('\n'),
                        Some('\\') => value.push('\\'),
                        Some('\'') => value.push('\''),
                        Some('N') => value.push_str("\\N"),
                        Some(other) => {
                            value.push('\\');
                            value.push(other);
                        }
                        None => return Err("an unterminated quoted string".into()),
                    },
                    Some(other) => value.push(other),
                }
            }
            tokens.push(Token::Quoted(value));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '\'' || c == ',' || c == ';' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            tokens.push(Token::Word(word));
        }
    }
    Ok(tokens)
}

struct Tokens {
    tokens: std::vec::IntoIter<Token>,
    peeked: Option<Token>,
}

impl Tokens {
    fn next(&mut self) -> Option<Token> {
        self.peeked.take().or_else(|| self.tokens.next())
    }

    fn peek_word(&mut self) -> Option<String> {
        if self.peeked.is_none() {
            self.peeked = self.tokens.next();
        }
        match &self.peeked {
            Some(Token::Word(word)) => Some(word.to_ascii_uppercase()),
            _ => None,
        }
    }

    /// Skips an optional `AS`.
    fn skip_as(&mut self) {
        if self.peek_word().as_deref() == Some("AS") {
            self.peeked = None;
        }
    }

    fn quoted(&mut self, option: &str) -> Result<String, String> {
        self.skip_as();
        match self.next() {
            Some(Token::Quoted(value)) => Ok(value),
            _ => Err(format!("{option} takes a quoted value")),
        }
    }

    fn single_char(&mut self, option: &str) -> Result<char, String> {
        let value = self.quoted(option)?;
        let mut chars = value.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii() && c != '\n' && c != '\r' => Ok(c),
            _ => Err(format!("{option} must be a single ASCII character")),
        }
    }
}

impl CopyOptions {
    /// Parses `CopyOptions`; the error names the option Spate cannot run.
    pub fn parse(text: &str) -> Result<CopyOptions, String> {
        let mut tokens = Tokens {
            tokens: tokenize(text)?.into_iter(),
            peeked: None,
        };
        let mut json: Option<bool> = None;
        let mut csv = false;
        let mut delimiter: Option<char> = None;
        let mut quote: Option<char> = None;
        let mut gzip = false;
        let mut null_as: Option<String> = None;
        let mut ignore_header = 0usize;
        while let Some(token) = tokens.next() {
            let word = match token {
                Token::Word(word) => word.to_ascii_uppercase(),
                Token::Quoted(value) => return Err(format!("unexpected '{value}'")),
            };
            match word.as_str() {
                "FORMAT" => tokens.skip_as(),
                "JSON" => {
                    let value = tokens.quoted("JSON")?;
                    json = Some(match value.to_ascii_lowercase().as_str() {
                        "auto" => false,
                        "auto ignorecase" => true,
                        _ => {
                            return Err(format!(
                                "JSON '{value}' is not supported by Spate (only 'auto' and 'auto ignorecase')"
                            ));
                        }
                    });
                }
                "CSV" => csv = true,
                "QUOTE" => quote = Some(tokens.single_char("QUOTE")?),
                "DELIMITER" => delimiter = Some(tokens.single_char("DELIMITER")?),
                "GZIP" => gzip = true,
                "NULL" => null_as = Some(tokens.quoted("NULL AS")?),
                "IGNOREHEADER" => {
                    tokens.skip_as();
                    ignore_header = match tokens.next() {
                        Some(Token::Word(n)) => n
                            .parse()
                            .map_err(|_| "IGNOREHEADER takes a number of lines".to_string())?,
                        _ => return Err("IGNOREHEADER takes a number of lines".into()),
                    };
                }
                "TIMEFORMAT" | "DATEFORMAT" => {
                    let value = tokens.quoted(&word)?;
                    if !value.eq_ignore_ascii_case("auto") {
                        return Err(format!(
                            "{word} '{value}' is not supported by Spate (only 'auto')"
                        ));
                    }
                }
                "COMPUPDATE" | "STATUPDATE" => {
                    if let Some(next) = tokens.peek_word()
                        && ["ON", "OFF", "TRUE", "FALSE"].contains(&next.as_str())
                    {
                        tokens.peeked = None;
                    }
                }
                _ => return Err(format!("the COPY option {word} is not supported by Spate")),
            }
        }
        let format = match (json, csv) {
            (Some(_), true) => return Err("JSON and CSV cannot be used together".into()),
            (Some(ignore_case), false) => {
                if delimiter.is_some() || quote.is_some() || null_as.is_some() {
                    return Err("DELIMITER, QUOTE and NULL AS cannot be used with JSON".into());
                }
                Format::JsonAuto { ignore_case }
            }
            (None, true) => Format::Csv {
                delimiter: delimiter.unwrap_or(','),
                quote: quote.unwrap_or('"'),
            },
            (None, false) => {
                if quote.is_some() {
                    return Err("QUOTE can only be used with CSV".into());
                }
                Format::Text {
                    delimiter: delimiter.unwrap_or('|'),
                }
            }
        };
        Ok(CopyOptions {
            format,
            gzip,
            null_as: null_as.unwrap_or_else(|| "\\N".to_string()),
            ignore_header,
        })
    }

    /// The `WITH (...)` of PostgreSQL's `COPY ... FROM STDIN` for what [`CopyOptions::rows`]
    /// produces.
    pub fn postgres_with(&self) -> String {
        match &self.format {
            Format::Text { delimiter } => format!(
                "FORMAT text, DELIMITER {}, NULL {}",
                sql_literal(&delimiter.to_string()),
                sql_literal(&self.null_as)
            ),
            Format::Csv { delimiter, quote } => format!(
                "FORMAT csv, DELIMITER {}, QUOTE {}, NULL {}",
                sql_literal(&delimiter.to_string()),
                sql_literal(&quote.to_string()),
                sql_literal(&self.null_as)
            ),
            Format::JsonAuto { .. } => "FORMAT csv".to_string(),
        }
    }

    /// The intermediate object as PostgreSQL `COPY` input: gunzipped if `GZIP`, headers
    /// skipped, JSON records turned into CSV rows of `columns`.
    pub fn rows(&self, object: &[u8], columns: &[String]) -> Result<Vec<u8>, String> {
        let data = if self.gzip {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(object)
                .take(MAX_DECOMPRESSED_BYTES + 1)
                .read_to_end(&mut out)
                .map_err(|err| format!("gunzipping the object (GZIP): {err}"))?;
            if out.len() as u64 > MAX_DECOMPRESSED_BYTES {
                return Err(format!(
                    "the object is larger than {MAX_DECOMPRESSED_BYTES} bytes once gunzipped"
                ));
            }
            out
        } else {
            object.to_vec()
        };
        let data = skip_lines(&data, self.ignore_header);
        match &self.format {
            Format::Text { .. } | Format::Csv { .. } => Ok(data.to_vec()),
            Format::JsonAuto { ignore_case } => json_to_csv(data, columns, *ignore_case),
        }
    }
}

fn skip_lines(data: &[u8], lines: usize) -> &[u8] {
    let mut rest = data;
    for _ in 0..lines {
        match rest.iter().position(|&b| b == b'\n') {
            Some(end) => rest = &rest[end + 1..],
            None => return &[],
        }
    }
    rest
}

/// JSON objects, one after another (whitespace between them, or none), as CSV rows.
fn json_to_csv(data: &[u8], columns: &[String], ignore_case: bool) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(data.len());
    let stream = serde_json::Deserializer::from_slice(data).into_iter::<Value>();
    for (index, value) in stream.enumerate() {
        let value = value.map_err(|err| format!("record {}: invalid JSON: {err}", index + 1))?;
        let Value::Object(object) = value else {
            return Err(format!("record {}: not a JSON object", index + 1));
        };
        for (position, column) in columns.iter().enumerate() {
            if position > 0 {
                out.push(b',');
            }
            let field = if ignore_case {
                object
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(column))
                    .map(|(_, value)| value)
            } else {
                object.get(column)
            };
            match field {
                None | Some(Value::Null) => {}
                Some(Value::String(text)) => push_csv_quoted(&mut out, text),
                Some(Value::Bool(b)) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
                Some(Value::Number(n)) => out.extend_from_slice(n.to_string().as_bytes()),
                Some(nested) => push_csv_quoted(&mut out, &nested.to_string()),
            }
        }
        out.push(b'\n');
    }
    Ok(out)
}

fn push_csv_quoted(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    for b in text.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// A string as a PostgreSQL literal (`E'...'` when it holds a backslash).
pub fn sql_literal(text: &str) -> String {
    let escaped = text.replace('\'', "''");
    if escaped.contains('\\') {
        format!("E'{}'", escaped.replace('\\', "\\\\"))
    } else {
        format!("'{escaped}'")
    }
}

/// An SQL identifier as written in `CopyCommand`: a plain word or a double-quoted name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier {
    /// As written, safe to put in a statement.
    pub sql: String,
    /// The name it stands for: folded to lowercase unless quoted, as PostgreSQL (and Redshift)
    /// read identifiers.
    pub name: String,
}

fn identifier(text: &str) -> Result<Identifier, String> {
    let text = text.trim();
    if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        if inner.is_empty() || inner.replace("\"\"", "").contains('"') {
            return Err(format!("{text} is not a valid identifier"));
        }
        return Ok(Identifier {
            sql: text.to_owned(),
            name: inner.replace("\"\"", "\""),
        });
    }
    let mut chars = text.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if !valid {
        return Err(format!("{text:?} is not a valid identifier"));
    }
    Ok(Identifier {
        sql: text.to_owned(),
        name: text.to_ascii_lowercase(),
    })
}

/// `DataTableName`: `table`, `schema.table` or `database.schema.table`.
pub fn table_name(text: &str) -> Result<Vec<Identifier>, String> {
    let parts = split_outside_quotes(text, '.');
    if parts.len() > 3 {
        return Err(format!("DataTableName {text:?} has too many parts"));
    }
    parts.iter().map(|part| identifier(part)).collect()
}

/// `DataTableColumns`: comma-separated column names; empty means every column.
pub fn column_names(text: &str) -> Result<Vec<Identifier>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    split_outside_quotes(text, ',')
        .iter()
        .map(|part| identifier(part))
        .collect()
}

fn split_outside_quotes(text: &str, separator: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    for c in text.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if c == separator && !quoted {
            parts.push(String::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

/// Checks `DataTableName` and `DataTableColumns` are names Spate can put in a statement.
pub fn check_table(table: &str, columns: Option<&str>) -> Result<(), String> {
    table_name(table).map_err(|err| format!("DataTableName: {err}"))?;
    column_names(columns.unwrap_or_default()).map_err(|err| format!("DataTableColumns: {err}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_auto_and_its_variants_parse() {
        let options = CopyOptions::parse("FORMAT AS JSON 'auto' GZIP").expect("parses");
        assert_eq!(options.format, Format::JsonAuto { ignore_case: false });
        assert!(options.gzip);
        let options = CopyOptions::parse("json 'auto ignorecase'").expect("parses");
        assert_eq!(options.format, Format::JsonAuto { ignore_case: true });
        assert!(CopyOptions::parse("JSON 's3://b/jsonpaths.json'").is_err());
    }

    #[test]
    fn delimited_and_csv_options_parse_with_redshift_defaults() {
        let options = CopyOptions::parse("").expect("parses");
        assert_eq!(options.format, Format::Text { delimiter: '|' });
        assert_eq!(options.null_as, "\\N");
        let options =
            CopyOptions::parse("CSV DELIMITER AS ';' QUOTE AS '''' IGNOREHEADER 1 NULL AS ''")
                .expect("parses");
        assert_eq!(
            options.format,
            Format::Csv {
                delimiter: ';',
                quote: '\''
            }
        );
        assert_eq!(options.ignore_header, 1);
        assert_eq!(options.null_as, "");
        let options =
            CopyOptions::parse("DELIMITER '\\t' TIMEFORMAT 'auto' COMPUPDATE OFF").expect("parses");
        assert_eq!(options.format, Format::Text { delimiter: '\t' });
    }

    #[test]
    fn unsupported_options_are_refused_by_name() {
        for (options, name) in [
            ("JSON 'auto' MAXERROR 10", "MAXERROR"),
            ("ACCEPTINVCHARS", "ACCEPTINVCHARS"),
            ("FORMAT AS PARQUET", "PARQUET"),
            ("LZOP", "LZOP"),
            ("emptyasnull", "EMPTYASNULL"),
        ] {
            let err = CopyOptions::parse(options).expect_err(options);
            assert!(err.contains(name), "{err}");
        }
        assert!(CopyOptions::parse("JSON 'auto' CSV").is_err());
        assert!(CopyOptions::parse("DELIMITER '||'").is_err());
    }

    #[test]
    fn json_records_become_csv_rows_by_column_name() {
        let options = CopyOptions::parse("JSON 'auto'").expect("parses");
        let data = br#"{"id": 1, "name": "a \"b\"", "tags": [1,2]}
{"id":2,"name":null}{"NAME":"x","id":3}"#;
        let columns = vec!["id".to_string(), "name".to_string(), "tags".to_string()];
        let rows = options.rows(data, &columns).expect("converts");
        assert_eq!(
            String::from_utf8(rows).expect("utf-8"),
            "1,\"a \"\"b\"\"\",\"[1,2]\"\n2,,\n3,,\n"
        );
        let ignore_case = CopyOptions::parse("JSON 'auto ignorecase'").expect("parses");
        let rows = ignore_case
            .rows(br#"{"NAME":"x","id":3}"#, &columns)
            .expect("converts");
        assert_eq!(String::from_utf8(rows).expect("utf-8"), "3,\"x\",\n");
        assert!(options.rows(b"[1]", &columns).is_err());
        assert!(options.rows(b"{", &columns).is_err());
    }

    #[test]
    fn gzip_and_headers_are_undone_before_loading() {
        let options = CopyOptions::parse("CSV GZIP IGNOREHEADER 1").expect("parses");
        let object = crate::compress::compress(crate::compress::Compression::Gzip, b"a,b\n1,2\n")
            .expect("compresses");
        assert_eq!(options.rows(&object, &[]).expect("reads"), b"1,2\n");
        assert!(options.rows(b"not gzip", &[]).is_err());
    }

    #[test]
    fn identifiers_are_checked_and_folded() {
        let table = table_name("public.\"Events\"").expect("parses");
        assert_eq!(table[0].name, "public");
        assert_eq!(table[1].name, "Events");
        let columns = column_names(" Id , name,\"a,b\"").expect("parses");
        let names: Vec<_> = columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "name", "a,b"]);
        assert!(table_name("t; drop table x").is_err());
        assert!(column_names("a, b)").is_err());
        assert_eq!(sql_literal("it's"), "'it''s'");
        assert_eq!(sql_literal("\\N"), "E'\\\\N'");
    }
}
