//! Shared helpers for the mempool benchmarks.
