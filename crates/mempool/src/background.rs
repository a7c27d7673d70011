//! A named background thread that sleeps on a stop signal and is stopped and joined on drop.
//!
//! Both background jobs of the crate, the idle trimmer (`trim.rs`) and the
//! metrics [`Reporter`](crate::Reporter), are a loop of "work, then sleep for
//! an interval unless asked to stop". This is that loop's thread: it never
//! outlives its owner, and a stop wakes it at once instead of after its
//! interval.

use std::time::{Duration, Instant};

use crate::sync::{Arc, Condvar, JoinHandle, Mutex, PoisonError, thread};

/// A running background thread; dropping it stops the thread and waits for it.
#[derive(Debug)]
pub(crate) struct Background {
    stop: Arc<Stop>,
    thread: Option<JoinHandle<()>>,
}

/// The stop signal a background thread sleeps on.
#[derive(Debug, Default)]
pub(crate) struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Stop {
    /// Sleeps for `interval`; returns `true` if asked to stop first (or
    /// already). An interval too long to represent sleeps until the stop.
    pub(crate) fn sleep(&self, interval: Duration) -> bool {
        let deadline = Instant::now().checked_add(interval);
        let mut stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if *stopped {
                return true;
            }
            stopped = match deadline {
                None => self
                    .wake
                    .wait(stopped)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    self.wake
                        .wait_timeout(stopped, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }

    fn set(&self) {
        *self.stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.wake.notify_all();
    }
}

impl Background {
    /// Starts a thread named `name` that runs `body`, which should return
    /// once [`Stop::sleep`] returns `true`.
    pub(crate) fn spawn(
        name: &str,
        body: impl FnOnce(&Stop) + Send + 'static,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(Stop::default());
        let seen = Arc::clone(&stop);
        let thread = thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || body(&seen))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Background {
    /// Stops the thread and waits for it, so that it never outlives its owner.
    fn drop(&mut self) {
        self.stop.set();
        if let Some(thread) = self.thread.take() {
            // A panic in the thread (a panicking recorder) is not ours to
            // re-raise from a destructor.
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_wakes_a_long_sleep_at_once() {
        let started = Instant::now();
        let background = Background::spawn("mempool-test", |stop| {
            while !stop.sleep(Duration::from_secs(3600)) {}
        })
        .unwrap();
        drop(background);
        assert!(started.elapsed() < Duration::from_secs(60));
    }

    #[test]
    fn an_unrepresentable_interval_sleeps_until_the_stop() {
        let background = Background::spawn("mempool-test", |stop| {
            assert!(stop.sleep(Duration::MAX));
        })
        .unwrap();
        drop(background);
    }
}
