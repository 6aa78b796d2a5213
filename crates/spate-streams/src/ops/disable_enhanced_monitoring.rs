//! DisableEnhancedMonitoring: disables shard-level metrics (`ALL` names all seven) and answers with
//! the set before and after.

use super::monitoring::{self, Direction};
use crate::error::StreamsError;
use crate::service::StreamsService;

pub use super::monitoring::{Request, Response};

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    monitoring::change(service, request, Direction::Disable).await
}
