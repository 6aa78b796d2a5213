//! TEMPORARY stand-in until the keys module lands.
pub fn validate_prefixes(_p: Option<&str>, _e: Option<&str>, _d: bool) -> Result<(), String> { Ok(()) }
pub fn object_key(prefix: &str, name: &str, version: u64, ms: i64, ext: &str) -> Result<String, String> {
    Ok(format!("{prefix}{name}-{version}-{ms}-{}{ext}", uuid::Uuid::new_v4()))
}
