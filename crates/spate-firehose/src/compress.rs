//! TEMPORARY stand-in until the compression module lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression { Uncompressed, Gzip, Zip, Snappy, HadoopSnappy }
#[derive(Debug, thiserror::Error)]
#[error("compress")]
pub struct CompressError;
pub struct Compressor(Vec<u8>);
impl Compression {
    pub fn from_model(s: &str) -> Option<Self> { match s { "UNCOMPRESSED" => Some(Self::Uncompressed), "GZIP" => Some(Self::Gzip), _ => None } }
    pub fn model_name(&self) -> &'static str { "UNCOMPRESSED" }
    pub fn file_extension(&self) -> &'static str { "" }
    pub fn compressor(&self) -> Compressor { Compressor(Vec::new()) }
}
impl Compressor {
    pub fn write(&mut self, d: &[u8]) -> Result<(), CompressError> { self.0.extend_from_slice(d); Ok(()) }
    pub fn finish(self) -> Result<Vec<u8>, CompressError> { Ok(self.0) }
}
