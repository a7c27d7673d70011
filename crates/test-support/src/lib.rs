//! Test helpers shared by the workspace's test suites, benches and examples, so that each is written once.
//!
//! * [`CountingAlloc`]: a global allocator that counts allocations and bytes,
//!   per thread and for the whole process, and the largest single allocation
//!   ([`largest_allocation_in`]); install it with
//!   `#[global_allocator] static ALLOC: CountingAlloc = CountingAlloc;`.
//! * [`check_identities`] and [`assert_identities_at_rest`]: the identities
//!   documented on [`mempool::PoolStats`].
//! * [`wait_until`] and [`wait_until_async`]: poll a condition with a
//!   deadline instead of sleeping a fixed time.
//! * [`pattern`], [`fill_pattern`] and [`has_pattern`]: a byte pattern that
//!   tells which thread wrote which buffer, to catch two owners of one buffer.
//! * [`noise`]: reproducible bytes that no compression codec can shrink.
//!
//! Unpublished: only this workspace's tests, benches and examples use it.

mod alloc;
mod identities;
mod noise;
mod pattern;
mod wait;

pub use alloc::{
    AllocCount, CountingAlloc, allocations_in, allocations_on_this_thread, largest_allocation_in,
    process_alloc_count,
};
pub use identities::{assert_identities_at_rest, check_identities};
pub use noise::noise;
pub use pattern::{fill_pattern, has_pattern, pattern};
pub use wait::{PATIENCE, wait_until, wait_until_async};
