//! Quickstart: take buffers from the global pool and watch the counters change.
//!
//! Run with `cargo run --release --example quickstart`.

use mempool::PoolStats;

fn main() {
    let start = mempool::stats();
    print_stats("a new pool", &start);

    // A 1500-byte frame comes from the 4 KiB bucket: a miss, so it allocates.
    let mut frame = mempool::get_buffer(1500);
    frame[..5].copy_from_slice(b"hello");
    println!("\ngot {frame:?}");
    print_stats("one buffer in use", &mempool::stats());

    // Dropping the guard zeroes the 1500 bytes and keeps the buffer.
    drop(frame);
    print_stats("after the drop", &mempool::stats());

    // The next get of that bucket is a hit, and reads as zeroes.
    let again = mempool::get_buffer(3000);
    assert!(again.iter().all(|&b| b == 0));
    drop(again);
    print_stats("a second get reuses it", &mempool::stats());

    // A thousand gets across three sizes, on four threads.
    std::thread::scope(|scope| {
        for t in 0..4 {
            scope.spawn(move || {
                for i in 0..1000 {
                    let size = [200, 1500, 60_000][(t + i) % 3];
                    let mut buf = mempool::get_buffer(size);
                    buf.fill(t as u8);
                }
            });
        }
    });
    let busy = mempool::stats();
    print_stats("after 4 threads x 1000 gets", &busy);

    // Above 16 MiB, buffers are allocated directly and freed on drop.
    drop(mempool::get_buffer(32 << 20));
    let last = mempool::stats();
    print_stats("after one 32 MiB (oversized) get", &last);

    println!("\nper bucket:");
    println!(
        "{:>10} {:>6} {:>6} {:>7} {:>9} {:>5}",
        "size", "gets", "hits", "misses", "hit rate", "idle"
    );
    for bucket in last.buckets.iter().filter(|b| b.gets > 0) {
        println!(
            "{:>10} {:>6} {:>6} {:>7} {:>8.1}% {:>5}",
            bucket.size,
            bucket.gets,
            bucket.hits,
            bucket.misses,
            100.0 * bucket.hit_rate().unwrap_or(0.0),
            bucket.idle,
        );
    }
    let freed = mempool::global().trim();
    println!(
        "\ntrim() freed {freed} idle bytes; retained now {}",
        mempool::stats().bytes_retained
    );
}

fn print_stats(label: &str, stats: &PoolStats) {
    println!(
        "{label:>34}: gets {:>5}  puts {:>5}  allocations {:>3}  in_use {}  oversized {}  \
         discarded {}  hit rate {:>5.1}%  bytes in use {:>8}  retained {:>8}",
        stats.gets,
        stats.puts,
        stats.allocations,
        stats.in_use,
        stats.oversized,
        stats.discarded,
        100.0 * stats.hit_rate().unwrap_or(0.0),
        stats.bytes_in_use,
        stats.bytes_retained,
    );
}
