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
//! Each group runs the `Vec` baseline, then the pool, back to back. Quote
//! pool/Vec ratios measured in one run, never absolute times, and repeat the
//! run: on a shared machine one run can swing either way.
// `criterion_group!` generates a public function that cannot carry a doc comment.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
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

/// A segment of 200 batches (20,000 records, about 11 MB) read back.
struct ReadFixture<B: BufferSource> {
    _dir: tempfile::TempDir,
    segment: Segment<B>,
    offsets: std::iter::StepBy<std::iter::Cycle<std::ops::Range<u64>>>,
}

const READ_BATCHES: usize = 200;

fn read_fixture<B: BufferSource>(source: B) -> ReadFixture<B> {
    let (payload, sizes) = payload_and_sizes(READ_BATCHES);
    let dir = scratch_dir();
    let mut segment = Segment::create_with(dir.path(), 0, LogConfig::default(), source).unwrap();
    for chunk in sizes.chunks(BATCH) {
        segment.append_batch(&batch(&payload, chunk)).unwrap();
    }
    let records = (READ_BATCHES * BATCH) as u64;
    // A prime stride over the log, the same sequence for both sources.
    let offsets = (0..records).cycle().step_by(7919);
    ReadFixture {
        _dir: dir,
        segment,
        offsets,
    }
}

/// Decodes every record in place and sums the key and value lengths.
fn consume<Buf: std::ops::Deref<Target = [u8]>>(fetch: &takhin_log::Fetch<Buf>) -> usize {
    let mut n = 0usize;
    for record in fetch.records() {
        let record = record.unwrap();
        n += record.value.map_or(0, <[u8]>::len) + record.key.map_or(0, <[u8]>::len);
    }
    n
}

fn bench_read<B: BufferSource>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    fixture: &mut ReadFixture<B>,
    max_bytes: Option<usize>,
) {
    group.bench_function(BenchmarkId::from_parameter(name), |b| {
        b.iter(|| {
            let offset = fixture.offsets.next().unwrap();
            let fetch = match max_bytes {
                Some(max) => fixture.segment.read_range(offset, max).unwrap(),
                None => fixture.segment.read(offset).unwrap().unwrap(),
            };
            black_box(consume(&fetch))
        });
    });
}

fn read(c: &mut Criterion) {
    // Pool and Vec run back to back in each group, so that the load of a
    // shared machine drifts as little as possible between the two.
    let mut pool = read_fixture(mempool::global());
    let mut vec = read_fixture(VecBuffers);
    let mut group = c.benchmark_group("storage/read_range");
    group.throughput(Throughput::Bytes(1 << 20));
    bench_read(&mut group, "vec", &mut vec, Some(1 << 20));
    bench_read(&mut group, "pool", &mut pool, Some(1 << 20));
    group.finish();
    let mut group = c.benchmark_group("storage/read");
    group.throughput(Throughput::Elements(1));
    bench_read(&mut group, "vec", &mut vec, None);
    bench_read(&mut group, "pool", &mut pool, None);
    group.finish();
}

fn storage(c: &mut Criterion) {
    append_with(c, "vec", VecBuffers);
    append_with(c, "pool", mempool::global());
    read(c);
}

/// Median over `rounds` of (pool time / Vec time), where each round times a
/// few pool operations and then the same Vec operations back to back: load
/// that drifts between criterion's groups cancels out within a round.
fn paired_ratio(rounds: usize, mut pool: impl FnMut(usize), mut vec: impl FnMut(usize)) -> f64 {
    let mut ratios: Vec<f64> = (0..rounds)
        .map(|round| {
            let start = Instant::now();
            pool(round);
            let pooled = start.elapsed();
            let start = Instant::now();
            vec(round);
            pooled.as_secs_f64() / start.elapsed().as_secs_f64()
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

fn append_five<B: BufferSource>(segment: &mut Segment<B>, records: &[Record<'_>]) {
    if segment.size() > SEGMENT_LIMIT {
        segment.truncate_to(0).unwrap();
    }
    for _ in 0..5 {
        black_box(segment.append_batch(records).unwrap());
    }
}

/// Reads 20 fetches at a stride through the segment, from `round`.
fn read_stride<B: BufferSource>(segment: &Segment<B>, round: usize, max_bytes: usize) {
    let records = (READ_BATCHES * BATCH) as u64;
    for offset in (round as u64 % 997..records).step_by(997) {
        black_box(consume(&segment.read_range(offset, max_bytes).unwrap()));
    }
}

/// Prints the paired pool/Vec ratios for the three operations.
fn paired() {
    const ROUNDS: usize = 300;
    let (payload, sizes) = payload_and_sizes(1);
    let records = batch(&payload, &sizes);
    let (pool_dir, vec_dir) = (scratch_dir(), scratch_dir());
    let config = LogConfig::default();
    let mut pool_seg = Segment::create_with(pool_dir.path(), 0, config, mempool::global()).unwrap();
    let mut vec_seg = Segment::create_with(vec_dir.path(), 0, config, VecBuffers).unwrap();
    let append_ratio = paired_ratio(
        ROUNDS,
        |_| append_five(&mut pool_seg, &records),
        |_| append_five(&mut vec_seg, &records),
    );

    let (pool, vec) = (read_fixture(mempool::global()), read_fixture(VecBuffers));
    let mut ratios = [0.0; 2];
    for (ratio, max_bytes) in ratios.iter_mut().zip([1 << 20, 0]) {
        *ratio = paired_ratio(
            ROUNDS,
            |round| read_stride(&pool.segment, round, max_bytes),
            |round| read_stride(&vec.segment, round, max_bytes),
        );
    }
    println!(
        "storage/paired pool/vec (median of {ROUNDS} alternating rounds): \
         append {append_ratio:.3}, read_range {:.3}, read {:.3}",
        ratios[0], ratios[1]
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = storage
}
fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
    // Only under `cargo bench` (which passes `--bench`; `cargo test` runs
    // criterion's quick test mode instead), and not when a name filter
    // leaves `storage/paired` out.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list");
    let mut filters = args.iter().filter(|a| !a.starts_with('-')).peekable();
    let selected =
        filters.peek().is_none() || filters.any(|f| "storage/paired".contains(f.as_str()));
    if benching && selected {
        paired();
    }
}
