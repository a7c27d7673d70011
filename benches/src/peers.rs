//! The same operation on each crate a Rust user might pick instead of
//! mempool, with the same contract: the buffer reads as zeroes when handed
//! out, and no written byte leaks to the next user.
//!
//! Pools that do not zero (`opool`, `object-pool`, `byte-pool`) get their
//! buffers zeroed by the caller before they go back, over the written bytes
//! only. `zeropool` zeroes on get by itself. Each pool is built for one
//! request size, as a user of a single-size pool would build it.

use std::hint::black_box;

use mempool::BufferPool;
use opool::PoolAllocator;

use crate::workload::{Workload, touch};

/// One get, workload, drop on a mempool pool.
#[inline(always)]
pub fn mempool_op(pool: &BufferPool, size: usize, workload: Workload) {
    let mut buf = pool.get(size);
    if workload == Workload::Untouched {
        // Read access only: the drop has nothing to zero.
        black_box(&*buf);
    } else {
        touch(&mut buf, workload);
    }
}

/// [`mempool_op`] through the global pool, `mempool::get_buffer`.
#[inline(always)]
pub fn global_op(size: usize, workload: Workload) {
    let mut buf = mempool::get_buffer(size);
    if workload == Workload::Untouched {
        black_box(&*buf);
    } else {
        touch(&mut buf, workload);
    }
}

/// [`global_op`], but the buffer is frozen into a `bytes::Bytes` before it
/// drops: `Bytes::from_owner` boxes the guard, one allocation per call.
#[inline(always)]
pub fn freeze_op(size: usize, workload: Workload) {
    let mut buf = mempool::get_buffer(size);
    touch(&mut buf, workload);
    drop(black_box(buf.freeze()));
}

/// One `vec![0u8; size]`, workload, drop, on the global allocator.
#[inline]
pub fn vec_op(size: usize, workload: Workload) {
    let mut buf = vec![0u8; size];
    touch(&mut buf, workload);
}

/// One `zeropool` alloc (zeroed on get), workload, drop.
#[inline]
pub fn zeropool_op(pool: &zeropool::ZeroPool, size: usize, workload: Workload) {
    let mut buf = pool.alloc(size);
    touch(&mut buf, workload);
}

/// Writes the workload, then zeroes what was written, as a caller of a
/// non-zeroing pool must before giving the buffer back.
#[inline]
fn touch_then_zero(buf: &mut [u8], workload: Workload) {
    touch(buf, workload);
    let written = workload.written(buf.len());
    buf[..written].fill(0);
    black_box(buf);
}

/// Makes zeroed `Vec<u8>`s of one size for `opool`.
#[derive(Debug, Clone, Copy)]
pub struct ZeroedVec(pub usize);

impl PoolAllocator<Vec<u8>> for ZeroedVec {
    fn allocate(&self) -> Vec<u8> {
        vec![0; self.0]
    }
}

/// An `opool` pool (`ArrayQueue`, FIFO) of `size`-byte vectors.
pub type Opool = opool::Pool<ZeroedVec, Vec<u8>>;

/// An `opool` pool for `size`-byte requests, holding up to 64 buffers.
#[must_use]
pub fn opool_for(size: usize) -> Opool {
    opool::Pool::new(64, ZeroedVec(size))
}

/// One `opool` get, workload, caller zeroing, drop.
#[inline]
pub fn opool_op(pool: &Opool, workload: Workload) {
    let mut buf = pool.get();
    touch_then_zero(&mut buf, workload);
}

/// An `object-pool` pool (`Mutex<Vec>`) for `size`-byte requests.
#[must_use]
pub fn object_pool_for(size: usize) -> object_pool::Pool<Vec<u8>> {
    object_pool::Pool::new(64, move || vec![0; size])
}

/// One `object-pool` pull, workload, caller zeroing, drop.
#[inline]
pub fn object_pool_op(pool: &object_pool::Pool<Vec<u8>>, size: usize, workload: Workload) {
    let mut buf = pool.pull(|| vec![0; size]);
    touch_then_zero(&mut buf, workload);
}

/// One `byte-pool` alloc (`SegQueue`, exact size match), workload, caller
/// zeroing, drop.
#[inline]
pub fn byte_pool_op(pool: &byte_pool::BytePool, size: usize, workload: Workload) {
    let mut buf = pool.alloc(size);
    touch_then_zero(&mut buf, workload);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every contender hands out zeroed buffers of the right length, again
    /// after a buffer that was written went back.
    #[test]
    fn every_contender_hands_out_zeroes_after_a_write() {
        let size = 3000;
        let pool = BufferPool::new();
        let zero = zeropool::ZeroPool::new();
        let opool = opool_for(size);
        let object = object_pool_for(size);
        let bytes = byte_pool::BytePool::<Vec<u8>>::new();
        for _ in 0..3 {
            mempool_op(&pool, size, Workload::WriteAll);
            zeropool_op(&zero, size, Workload::WriteHalf);
            opool_op(&opool, Workload::WriteAll);
            object_pool_op(&object, size, Workload::WriteAll);
            byte_pool_op(&bytes, size, Workload::WriteHalf);
        }
        assert!(pool.get(size).iter().all(|&b| b == 0));
        assert!(zero.alloc(size).iter().all(|&b| b == 0));
        assert!(opool.get().iter().all(|&b| b == 0));
        let pulled = object.pull(|| vec![1; size]);
        assert_eq!(pulled.len(), size);
        assert!(pulled.iter().all(|&b| b == 0));
        let block = bytes.alloc(size);
        assert_eq!(block.len(), size);
        assert!(block.iter().all(|&b| b == 0));
    }
}
