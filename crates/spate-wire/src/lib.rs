//! AWS wire protocols (being written).
