//! Runnable examples for mempool; see the `[[example]]` targets.
