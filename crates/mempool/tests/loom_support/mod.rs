//! What the loom models share: moving a guard to another model thread.

use std::sync::Arc;

use mempool::{BufferPool, PooledBuf};

/// A guard that can move to another thread: it travels with a clone of its
/// pool's `Arc`, which keeps the pool alive while the guard lives. (loom has
/// no scoped threads, and a spawned closure must be `'static`.)
pub(crate) struct Sent {
    // Declared first, so it drops before `_pool`.
    guard: Option<PooledBuf<'static>>,
    _pool: Arc<BufferPool>,
}

impl Sent {
    pub(crate) fn new(pool: &Arc<BufferPool>, guard: PooledBuf<'_>) -> Self {
        // SAFETY: the guard borrows the `BufferPool` inside `pool`'s
        // allocation, which `_pool` keeps alive at least as long as the guard
        // (the field order drops the guard first, and `drop_now` drops it
        // earlier); the `'static` never escapes this type.
        let guard = unsafe { std::mem::transmute::<PooledBuf<'_>, PooledBuf<'static>>(guard) };
        Self {
            guard: Some(guard),
            _pool: Arc::clone(pool),
        }
    }

    /// Drops the guard now, on the calling thread.
    pub(crate) fn drop_now(mut self) {
        drop(self.guard.take());
    }
}
