//! Real Kafka clients against the broker binary: librdkafka
//! (confluent-kafka), kafka-python and aiokafka each produce every codec
//! (none, gzip, snappy, lz4, zstd), the broker restarts, and they read it
//! all back byte for byte with manual assignment, seek to a middle offset
//! and list offsets (tests/clients/*.py). The stored batches are then
//! decoded with takhin-log's own reader.

mod common;

use std::path::Path;
use std::time::Duration;

use takhin_log::{Log, LogConfig};

const CODECS: [(&str, u8); 5] = [
    ("none", 0),
    ("gzip", 1),
    ("snappy", 2),
    ("lz4", 3),
    ("zstd", 4),
];
/// Records per codec in tests/clients/common.py.
const COUNT: u64 = 60;

fn round_trip(script: &str, restart_signal: &str) {
    let Some(python) = common::python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let limit = Duration::from_secs(180);
    let prefix = script.trim_end_matches(".py").replace('_', "-");
    let args = |broker: &common::Broker, phase: &str| {
        [
            "--bootstrap",
            &broker.addr.to_string(),
            "--phase",
            phase,
            "--prefix",
            &prefix,
        ]
        .map(String::from)
        .to_vec()
    };
    let broker = common::Broker::start(dir.path(), &["--partitions", "2"]);
    let produced = common::run_script(&python, script, &args(&broker, "produce"), limit);
    assert!(produced.contains("produce: ok"), "{produced}");
    let (status, lines) = broker.stop(restart_signal);
    if restart_signal == "KILL" {
        assert!(!status.success());
    } else {
        assert!(status.success(), "{status}");
        assert!(
            lines.iter().any(|l| l.contains("flushed and stopped")),
            "{lines:?}"
        );
    }
    let broker = common::Broker::start(dir.path(), &["--partitions", "2"]);
    let consumed = common::run_script(&python, script, &args(&broker, "consume"), limit);
    assert!(consumed.contains("consume: ok"), "{consumed}");
    let (status, _) = broker.stop("TERM");
    assert!(status.success());
    decode_stored(dir.path(), &prefix);
}

/// Every stored batch decodes with takhin-log, in the client's codec.
fn decode_stored(dir: &Path, prefix: &str) {
    for (codec, bits) in CODECS {
        let log = Log::open(
            &dir.join(format!("{prefix}-{codec}-0")),
            LogConfig::default(),
        )
        .unwrap();
        assert_eq!(log.next_offset(), COUNT, "{codec}");
        let (mut next, mut in_codec) = (0, 0);
        while next < COUNT {
            let fetch = log.read_range(next, 4 << 20).unwrap();
            for batch in fetch.batches() {
                let batch = batch.unwrap();
                // Clients send a batch uncompressed when compressing would
                // not make it smaller (librdkafka does).
                let stored = batch.compression().unwrap().attribute_bits();
                assert!(
                    stored == 0 || stored == i16::from(bits),
                    "{codec}: {stored}"
                );
                in_codec += u32::from(stored == i16::from(bits));
                let decoded = batch.decompress(mempool::global()).unwrap();
                for record in decoded.records() {
                    let record = record.unwrap();
                    assert_eq!(record.offset, next, "{codec}");
                    if let Some(key) = record.key {
                        assert_eq!(key, format!("key-{codec}-{next}").as_bytes());
                    }
                    next += 1;
                }
            }
        }
        assert!(in_codec > 0, "{codec}: no batch stored in that codec");
    }
}

#[test]
fn librdkafka_every_codec_round_trips_across_a_sigterm_restart() {
    round_trip("confluent.py", "TERM");
}

#[test]
fn kafka_python_every_codec_round_trips_after_a_sigkill() {
    // acks=all records must all be there after kill -9 and recovery.
    round_trip("kafka_python.py", "KILL");
}

#[test]
fn aiokafka_every_codec_round_trips_across_a_ctrl_c_restart() {
    round_trip("aiokafka_client.py", "INT");
}
