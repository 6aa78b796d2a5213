//! Spate metadata store (being written).
