//! `X-Amz-Target: <Prefix>.<Operation>`: which service and which operation an awsJson call names.

/// A parsed `X-Amz-Target` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'a> {
    /// The service's target prefix, for example `Kinesis_20131202`.
    pub prefix: &'a str,
    /// The operation name, for example `PutRecords`.
    pub operation: &'a str,
}

/// Why a target header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("missing X-Amz-Target header")]
    Missing,
    #[error("malformed X-Amz-Target header {0:?}")]
    Malformed(String),
}

impl<'a> Target<'a> {
    /// Splits `Prefix.Operation` at its last dot; both halves must be non-empty.
    pub fn parse(header: Option<&'a str>) -> Result<Target<'a>, TargetError> {
        let value = header.ok_or(TargetError::Missing)?;
        match value.rsplit_once('.') {
            Some((prefix, operation)) if !prefix.is_empty() && !operation.is_empty() => {
                Ok(Target { prefix, operation })
            }
            _ => Err(TargetError::Malformed(value.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prefix_and_operation() {
        let target = Target::parse(Some("Kinesis_20131202.PutRecords")).expect("valid target");
        assert_eq!(target.prefix, "Kinesis_20131202");
        assert_eq!(target.operation, "PutRecords");
    }

    #[test]
    fn rejects_missing_and_malformed() {
        assert_eq!(Target::parse(None), Err(TargetError::Missing));
        assert!(matches!(
            Target::parse(Some("PutRecords")),
            Err(TargetError::Malformed(_))
        ));
        assert!(matches!(
            Target::parse(Some("Kinesis_20131202.")),
            Err(TargetError::Malformed(_))
        ));
    }
}
