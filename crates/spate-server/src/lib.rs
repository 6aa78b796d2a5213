//! HTTP listener (being written).
