//! The storage log with pooled buffers against the same code path with a
//! fresh `Vec` per buffer (`takhin_log::VecBuffers`).
//!
//! * `storage/append`: append one batch of 100 records (100 to 1000 bytes,
//!   550 on average) to a segment: encode into a buffer, one `pwrite`, index
//!   entries.
//! * `storage/read_range`: read 1 MiB of whole batches from a random offset
//!   and decode every record in place.
//! * `storage/read`: read the one batch holding an offset (a 56 KB fetch).
//!
//! Files live on `/dev/shm` when it exists, so that the disk does not drown
//! the difference; the write and read syscalls into the page cache remain.
//! Quote the pool/Vec ratios measured in one run, never the absolute times.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use takhin_log::{BufferSource, LogConfig, Record, Segment, VecBuffers};

const BATCH: usize = 100;
const SEGMENT_LIMIT: u32 = 64 << 20;

fn scratch_dir() -> tempfile::TempDir {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).expect("a directory in /dev/shm")
    } else {
        tempfile::tempdir().expect("a temporary directory")
    }
}

/// The payload every record borrows a window of, and the record sizes.
fn payload_and_sizes(batches: usize) -> (Vec<u8>, Vec<usize>) {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let payload = (0..2048).map(|_| next() as u8).collect();
    let sizes = (0..batches * BATCH)
        .map(|_| 100 + (next() % 901) as usize)
        .collect();
    (payload, sizes)
}

fn batch<'a>(payload: &'a [u8], sizes: &[usize]) -> Vec<Record<'a>> {
    sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| {
            let at = size % 1024;
            Record::new(
                1_700_000_000_000 + i as i64,
                Some(&payload[at..at + 8]),
                Some(&payload[at..at + size]),
            )
        })
        .collect()
}

fn append_with<B: BufferSource>(c: &mut Criterion, name: &str, source: B) {
    let (payload, sizes) = payload_and_sizes(1);
    let records = batch(&payload, &sizes);
    let bytes: usize = sizes.iter().sum();
    let dir = scratch_dir();
    let mut segment = Segment::create_with(dir.path(), 0, LogConfig::default(), source).unwrap();
    let mut group = c.benchmark_group("storage/append");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function(BenchmarkId::from_parameter(name), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                if segment.size() > SEGMENT_LIMIT {
                    segment.truncate_to(0).unwrap(); // untimed: keep the file bounded
                }
                let start = Instant::now();
                black_box(segment.append_batch(black_box(&records)).unwrap());
                total += start.elapsed();
            }
            total
        });
    });
    group.finish();
}

fn read_with<B: BufferSource>(c: &mut Criterion, name: &str, source: B) {
    const BATCHES: usize = 200;
    let (payload, sizes) = payload_and_sizes(BATCHES);
    let dir = scratch_dir();
    let config = LogConfig::default();
    let mut segment = Segment::create_with(dir.path(), 0, config, source).unwrap();
    for chunk in sizes.chunks(BATCH) {
        segment.append_batch(&batch(&payload, chunk)).unwrap();
    }
    let records = (BATCHES * BATCH) as u64;
    let mut offsets = (0..records).cycle().step_by(7919); // a prime stride over the log

    let consume = |fetch: &takhin_log::Fetch<B::Buf>| {
        let mut n = 0usize;
        for record in fetch.records() {
            let record = record.unwrap();
            n += record.value.map_or(0, <[u8]>::len) + record.key.map_or(0, <[u8]>::len);
        }
        n
    };

    let mut group = c.benchmark_group("storage/read_range");
    group.throughput(Throughput::Bytes(1 << 20));
    group.bench_function(BenchmarkId::from_parameter(name), |b| {
        b.iter(|| {
            let offset = offsets.next().unwrap();
            let fetch = segment.read_range(offset, 1 << 20).unwrap();
            black_box(consume(&fetch))
        });
    });
    group.finish();

    let mut group = c.benchmark_group("storage/read");
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::from_parameter(name), |b| {
        b.iter(|| {
            let offset = offsets.next().unwrap();
            let fetch = segment.read(offset).unwrap().unwrap();
            black_box(consume(&fetch))
        });
    });
    group.finish();
}

fn storage(c: &mut Criterion) {
    append_with(c, "pool", mempool::global());
    append_with(c, "vec", VecBuffers);
    read_with(c, "pool", mempool::global());
    read_with(c, "vec", VecBuffers);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = storage
}
criterion_main!(benches);
