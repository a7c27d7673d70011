//! Shared workloads and helpers for the mempool benchmarks.
//!
//! Every bench binary in `benches/benches/` builds on these modules, so that
//! the same operation is measured the same way under each global allocator
//! (the allocator is chosen by the binary, with `#[global_allocator]`, and
//! applies to this library's code too).

pub mod floor;
pub mod interleaved;
pub mod mix;
pub mod peers;
pub mod rss;
pub mod single_thread;
pub mod threads;
pub mod workload;

/// The request sizes of the single-thread benches: one per default bucket
/// (512 B to 16 MiB), each exactly the bucket size, then one oversized request.
pub const SIZES: [usize; 10] = {
    let buckets = mempool::DEFAULT_BUCKET_SIZES;
    let mut sizes = [OVERSIZED; 10];
    let mut i = 0;
    while i < buckets.len() {
        sizes[i] = buckets[i];
        i += 1;
    }
    sizes
};

/// A request above the largest default bucket (16 MiB), which the pool
/// allocates directly and frees on drop.
pub const OVERSIZED: usize = 20 << 20;

/// Whether a size is large enough that criterion should take few samples.
#[must_use]
pub fn is_large(size: usize) -> bool {
    size >= 4 << 20
}

/// The argument after `flag` on this process's command line, if any: the
/// `--flag value` options of the `harness = false` bench binaries.
pub fn flag_value(flag: &str) -> Option<String> {
    let mut args = std::env::args();
    args.find(|arg| arg == flag)?;
    args.next()
}
