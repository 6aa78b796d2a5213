//! A faster reading of the common JSON schemas: the row path is `$` or `$.name[0:]`, and every
//! column maps a plain member of the row (`$.ticker`, `$.events[0:].ticker`). Such a record is
//! read in one pass without building its tree: the members no column reads are skipped
//! (serde's `IgnoredAny` still checks their syntax), and only the values columns read become
//! [`Json`] values, which convert to SQL values as the general reading's do.
//!
//! The result is the general reading's (`record_format`): a member named twice is read from its
//! first occurrence, a row that is no object has every column NULL, a row path that selects
//! nothing gives no rows. A top-level value that is no object is left to the general reading
//! (it never reaches the columns' members, but its rows follow the row path's rules there).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::json::Json;
use super::jsonpath::{JsonPath, Step};

/// The columns' members, and the row path's array member if rows are its elements.
#[derive(Debug, Clone)]
pub struct FlatJson {
    row_array: Option<String>,
    /// Each distinct member name, with the columns that read it.
    members: Vec<(String, Vec<usize>)>,
    columns: usize,
}

/// One row: each column's value, `None` when the row has no such member.
pub type FlatRow = Vec<Option<Json>>;

impl FlatJson {
    /// The fast reading of a schema, if its paths allow it: `row_path` is `$` or `$.a[0:]`,
    /// and each column's path within the row is one member.
    pub fn plan(row_path: &JsonPath, in_row: &[Option<&JsonPath>]) -> Option<FlatJson> {
        let row_array = match row_path.steps.as_slice() {
            [] => None,
            [Step::Member(name), Step::From(0)] => Some(name.clone()),
            _ => return None,
        };
        let mut members: Vec<(String, Vec<usize>)> = Vec::new();
        for (column, path) in in_row.iter().enumerate() {
            let [Step::Member(name)] = (*path)?.steps.as_slice() else {
                return None;
            };
            match members.iter_mut().find(|(member, _)| *member == *name) {
                Some((_, columns)) => columns.push(column),
                None => members.push((name.clone(), vec![column])),
            }
        }
        Some(FlatJson {
            row_array,
            members,
            columns: in_row.len(),
        })
    }

    /// The rows of a record; `Ok(None)` when the record is not a JSON object (read it the
    /// general way), `Err` when it is not JSON.
    pub fn read(&self, data: &[u8]) -> Result<Option<Vec<FlatRow>>, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_slice(data);
        let rows = RecordSeed(self).deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(rows)
    }
}

struct RecordSeed<'a>(&'a FlatJson);

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Option<Vec<FlatRow>>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(RecordVisitor(self.0))
    }
}

/// The top-level value: an object is read, anything else is `None`.
struct RecordVisitor<'a>(&'a FlatJson);

macro_rules! not_an_object {
    ($($method:ident($($arg:ty)?)),*) => {
        $(fn $method<E: de::Error>(self $(, _: $arg)?) -> Result<Self::Value, E> {
            Ok(Default::default())
        })*
    };
}

impl<'de> Visitor<'de> for RecordVisitor<'_> {
    type Value = Option<Vec<FlatRow>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    not_an_object!(
        visit_unit(),
        visit_none(),
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64),
        visit_str(&str)
    );

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let plan = self.0;
        match &plan.row_array {
            None => Ok(Some(vec![read_members(plan, map)?])),
            Some(array) => {
                let mut map = map;
                let mut rows = None;
                while let Some(key) = map.next_key_seed(KeySeed)? {
                    if rows.is_none() && key == array.as_str() {
                        rows = Some(map.next_value_seed(ArraySeed(plan))?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Some(rows.unwrap_or_default()))
            }
        }
    }
}

/// The columns' members of one object.
fn read_members<'de, A: MapAccess<'de>>(plan: &FlatJson, mut map: A) -> Result<FlatRow, A::Error> {
    let mut row: FlatRow = vec![None; plan.columns];
    while let Some(key) = map.next_key_seed(KeySeed)? {
        let columns = plan
            .members
            .iter()
            .find(|(member, _)| member == key.as_ref())
            .map(|(_, columns)| columns);
        match columns {
            Some(columns) if row[columns[0]].is_none() => {
                let value: Json = map.next_value()?;
                for &column in &columns[1..] {
                    row[column] = Some(value.clone());
                }
                row[columns[0]] = Some(value);
            }
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(row)
}

/// A member name, borrowed from the record when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(value))
    }
}

/// The row path's array: one row per element (an element that is no object has every column
/// NULL); anything but an array gives no rows.
struct ArraySeed<'a>(&'a FlatJson);

impl<'de> DeserializeSeed<'de> for ArraySeed<'_> {
    type Value = Vec<FlatRow>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(ArrayVisitor(self.0))
    }
}

struct ArrayVisitor<'a>(&'a FlatJson);

impl<'de> Visitor<'de> for ArrayVisitor<'_> {
    type Value = Vec<FlatRow>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    not_an_object!(
        visit_unit(),
        visit_none(),
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64),
        visit_str(&str)
    );

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Vec::new())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut rows = Vec::new();
        while let Some(row) = seq.next_element_seed(RowSeed(self.0))? {
            rows.push(row);
        }
        Ok(rows)
    }
}

struct RowSeed<'a>(&'a FlatJson);

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = FlatRow;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(RowVisitor(self.0))
    }
}

/// An element of the row array: an object's members, or every column NULL.
struct RowVisitor<'a>(&'a FlatJson);

macro_rules! null_row {
    ($($method:ident($($arg:ty)?)),*) => {
        $(fn $method<E: de::Error>(self $(, _: $arg)?) -> Result<Self::Value, E> {
            Ok(vec![None; self.0.columns])
        })*
    };
}

impl<'de> Visitor<'de> for RowVisitor<'_> {
    type Value = FlatRow;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    null_row!(
        visit_unit(),
        visit_none(),
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_f64(f64),
        visit_str(&str)
    );

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(vec![None; self.0.columns])
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        read_members(self.0, map)
    }
}
