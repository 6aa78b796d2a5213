//! Spate storage engine (being written).
