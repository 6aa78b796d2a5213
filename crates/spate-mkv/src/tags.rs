//! Matroska Tags of simple name/value pairs: the `AWS_KINESISVIDEO_*` tags Spate writes around
//! each GetMedia chunk, and reading such tags back.

use bytes::BytesMut;

use crate::ebml;
use crate::error::MkvError;
use crate::ids;

pub const FRAGMENT_NUMBER: &str = "AWS_KINESISVIDEO_FRAGMENT_NUMBER";
pub const SERVER_TIMESTAMP: &str = "AWS_KINESISVIDEO_SERVER_TIMESTAMP";
pub const PRODUCER_TIMESTAMP: &str = "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP";
pub const MILLIS_BEHIND_NOW: &str = "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW";
pub const CONTINUATION_TOKEN: &str = "AWS_KINESISVIDEO_CONTINUATION_TOKEN";
pub const ERROR_CODE: &str = "AWS_KINESISVIDEO_ERROR_CODE";
pub const ERROR_ID: &str = "AWS_KINESISVIDEO_ERROR_ID";

/// Writes `Tags { Tag { SimpleTag { TagName, TagString }... } }`.
pub fn write_tags(out: &mut BytesMut, pairs: &[(&str, &str)]) {
    let mut tag = BytesMut::new();
    for (name, value) in pairs {
        let mut simple = BytesMut::new();
        ebml::write_element(&mut simple, ids::TAG_NAME, name.as_bytes());
        ebml::write_element(&mut simple, ids::TAG_STRING, value.as_bytes());
        ebml::write_element(&mut tag, ids::SIMPLE_TAG, &simple);
    }
    let mut tags = BytesMut::new();
    ebml::write_element(&mut tags, ids::TAG, &tag);
    ebml::write_element(out, ids::TAGS, &tags);
}

/// The (TagName, TagString) pairs of a complete Tags element, in order.
pub fn read_tags(element: &[u8]) -> Result<Vec<(String, String)>, MkvError> {
    let tags = ebml::child_at(element, 0)?;
    if tags.header.id != ids::TAGS {
        return Err(MkvError::invalid("expected a Tags element"));
    }
    let mut pairs = Vec::new();
    let data = &element[tags.data_start..tags.end];
    for tag in ebml::iter_children(data) {
        let tag = tag?;
        if tag.header.id != ids::TAG {
            continue;
        }
        let tag_data = &data[tag.data_start..tag.end];
        for simple in ebml::iter_children(tag_data) {
            let simple = simple?;
            if simple.header.id != ids::SIMPLE_TAG {
                continue;
            }
            let simple_data = &tag_data[simple.data_start..simple.end];
            let (mut name, mut value) = (String::new(), String::new());
            for field in ebml::iter_children(simple_data) {
                let field = field?;
                let bytes = &simple_data[field.data_start..field.end];
                match field.header.id {
                    ids::TAG_NAME => name = ebml::read_string(bytes),
                    ids::TAG_STRING => value = ebml::read_string(bytes),
                    _ => {}
                }
            }
            pairs.push((name, value));
        }
    }
    Ok(pairs)
}

/// Epoch milliseconds as seconds with three decimals (`1726677688.724`), as AWS writes them.
pub fn format_seconds(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let abs = ms.unsigned_abs();
    format!("{sign}{}.{:03}", abs / 1000, abs % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip() {
        let mut out = BytesMut::new();
        write_tags(
            &mut out,
            &[(FRAGMENT_NUMBER, "913"), (SERVER_TIMESTAMP, "1.500")],
        );
        let pairs = read_tags(&out).expect("read");
        assert_eq!(
            pairs,
            [
                (FRAGMENT_NUMBER.to_owned(), "913".to_owned()),
                (SERVER_TIMESTAMP.to_owned(), "1.500".to_owned())
            ]
        );
        assert!(read_tags(&[0xEC, 0x80]).is_err());
    }

    #[test]
    fn seconds_have_three_decimals() {
        assert_eq!(format_seconds(1_726_677_688_724), "1726677688.724");
        assert_eq!(format_seconds(5), "0.005");
        assert_eq!(format_seconds(-1), "-0.001");
    }
}
