//! Gets and drops one buffer size N times from a pool with either the
//! default buckets or the broker's request buckets: the target of
//! `crates/takhin-broker/bench/routing_callgrind.sh`, which compares the
//! instructions per get+drop (routing included) of the two.
//!
//! `cargo run --release -p takhin-broker --example route_cost -- default|request SIZE ITERS`

use mempool::BufferPool;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(buckets), Some(size), Some(iters)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: route_cost default|request SIZE ITERS");
        std::process::exit(2);
    };
    let size: usize = size.parse().expect("SIZE");
    let iters: u64 = iters.parse().expect("ITERS");
    let builder = match buckets.as_str() {
        "default" => BufferPool::builder(),
        "request" => {
            BufferPool::builder().bucket_sizes(takhin_broker::request_bucket_sizes(100 << 20))
        }
        other => panic!("unknown buckets {other}"),
    };
    let pool = builder
        .retained_bytes_per_bucket(256 << 20)
        .build()
        .expect("a pool");
    // One warm-up get first, so fixed costs cancel between two counts.
    for _ in 0..=iters {
        drop(std::hint::black_box(pool.get(std::hint::black_box(size))));
    }
}
