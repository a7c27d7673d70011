//! [`Topics`]: the partitions the broker holds, each a `takhin-log`
//! directory `<topic>-<partition>/` under the data directory, and the signal
//! that wakes long-polling fetches when any of them grows.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use takhin_log::{Log, LogConfig};
use tokio::sync::watch;

use crate::BrokerError;

/// One partition: its log behind a lock (appends and reads are short
/// positional I/O).
#[derive(Debug)]
pub(crate) struct Partition {
    log: Mutex<Log>,
}

impl Partition {
    pub(crate) fn log(&self) -> MutexGuard<'_, Log> {
        // A panic while appending leaves the log as consistent as a crash
        // would; keep serving.
        self.log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A topic's partitions, by index.
pub(crate) type Topic = Arc<[Arc<Partition>]>;

/// Why a topic name is refused (Kafka's rules: 1 to 249 of `[a-zA-Z0-9._-]`,
/// not `.` or `..`).
pub(crate) fn valid_topic_name(name: &str) -> bool {
    (1..=249).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// All topics, created on first use with a fixed partition count.
#[derive(Debug)]
pub(crate) struct Topics {
    dir: PathBuf,
    partitions: u32,
    config: LogConfig,
    topics: RwLock<HashMap<String, Topic>>,
    appended: watch::Sender<u64>,
}

impl Topics {
    /// Opens every `<topic>-<partition>` directory under `dir` (recovering
    /// each log), creating `dir` if needed.
    pub(crate) fn open(
        dir: &Path,
        partitions: u32,
        config: LogConfig,
    ) -> Result<Self, BrokerError> {
        fs::create_dir_all(dir)?;
        let mut found: HashMap<String, u32> = HashMap::new();
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            if !entry.file_type()?.is_dir() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((topic, index)) = name.rsplit_once('-') else {
                continue;
            };
            if let (true, Ok(index)) = (valid_topic_name(topic), index.parse::<u32>()) {
                let count = found.entry(topic.to_owned()).or_default();
                *count = (*count).max(index + 1);
            }
        }
        let topics = Topics {
            dir: dir.to_path_buf(),
            partitions,
            config,
            topics: RwLock::new(HashMap::new()),
            appended: watch::Sender::new(0),
        };
        for (name, count) in found {
            let topic = topics.open_topic(&name, count.max(partitions))?;
            topics.write().insert(name, topic);
        }
        Ok(topics)
    }

    fn open_topic(&self, name: &str, count: u32) -> Result<Topic, BrokerError> {
        (0..count)
            .map(|index| {
                let log = Log::open(&self.dir.join(format!("{name}-{index}")), self.config)?;
                Ok(Arc::new(Partition {
                    log: Mutex::new(log),
                }))
            })
            .collect()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Topic>> {
        self.topics.write().unwrap_or_else(|p| p.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Topic>> {
        self.topics.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The topic, if it exists.
    pub(crate) fn get(&self, name: &str) -> Option<Topic> {
        self.read().get(name).cloned()
    }

    /// The partition, if it exists.
    pub(crate) fn partition(&self, name: &str, index: i32) -> Option<Arc<Partition>> {
        let topic = self.get(name)?;
        usize::try_from(index)
            .ok()
            .and_then(|i| topic.get(i).cloned())
    }

    /// The topic, created with the configured partition count if missing.
    /// The name must be valid ([`valid_topic_name`]).
    pub(crate) fn get_or_create(&self, name: &str) -> Result<Topic, BrokerError> {
        if let Some(topic) = self.get(name) {
            return Ok(topic);
        }
        let mut topics = self.write();
        if let Some(topic) = topics.get(name) {
            return Ok(topic.clone());
        }
        let topic = self.open_topic(name, self.partitions)?;
        topics.insert(name.to_owned(), topic.clone());
        Ok(topic)
    }

    /// Every topic, sorted by name.
    pub(crate) fn all(&self) -> Vec<(String, Topic)> {
        let mut all: Vec<_> = self
            .read()
            .iter()
            .map(|(n, t)| (n.clone(), t.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Wakes the fetches waiting for data.
    pub(crate) fn notify_append(&self) {
        self.appended.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that sees every later append.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.appended.subscribe()
    }

    /// Syncs every partition's log.
    pub(crate) fn flush_all(&self) -> Result<(), BrokerError> {
        for (_, topic) in self.all() {
            for partition in topic.iter() {
                partition.log().flush()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_kafka_rules() {
        for good in ["t", "a.b_c-D9", &"x".repeat(249)] {
            assert!(valid_topic_name(good), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "é", &"x".repeat(250), "a b"] {
            assert!(!valid_topic_name(bad), "{bad}");
        }
    }

    #[test]
    fn topics_are_created_once_and_found_again_on_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let topics = Topics::open(dir.path(), 3, LogConfig::default()).unwrap();
            let topic = topics.get_or_create("orders").unwrap();
            assert_eq!(topic.len(), 3);
            topic[2]
                .log()
                .append(&takhin_log::Record::new(0, None, Some(b"v")))
                .unwrap();
            assert!(Arc::ptr_eq(
                &topic,
                &topics.get_or_create("orders").unwrap()
            ));
        }
        assert!(dir.path().join("orders-2").is_dir());
        let topics = Topics::open(dir.path(), 1, LogConfig::default()).unwrap();
        let topic = topics.get("orders").unwrap();
        assert_eq!(topic.len(), 3);
        assert_eq!(topic[2].log().next_offset(), 1);
        assert!(topics.partition("orders", 3).is_none());
        assert!(topics.partition("orders", -1).is_none());
    }
}
