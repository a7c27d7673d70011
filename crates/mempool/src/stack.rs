//! `Stack`: one bucket's buffers in a thread cache, in a fixed array that a pop
//! or a push touches with one load or store per word.
//!
//! The slots are `MaybeUninit`, so that a pop neither writes `None` back nor
//! tests for it: `slots[..len]` hold buffers and the rest are dead bits. That
//! invariant is this file's one `unsafe` promise, kept by `len <= held <=
//! STACK_CAP`, which [`Stack::push`] and [`Stack::add_held`] check.

use std::mem::MaybeUninit;

use crate::aligned_buf::AlignedBuf;

/// The most buffers one stack holds: the builder caps a thread cache at 16
/// buffers per bucket, and a larger `local_cap` is treated as 16.
pub(crate) const STACK_CAP: usize = 16;

/// The cached buffers of one bucket, most recently returned on top, and the
/// retention permits the stack holds.
pub(crate) struct Stack {
    /// `slots[..len]` hold buffers, oldest first; `len <= held`.
    len: usize,
    /// Retention permits held, with or without a buffer: `held - len` are
    /// spare, ready for the next return without touching the bucket.
    /// `held <= STACK_CAP`.
    held: usize,
    slots: [MaybeUninit<AlignedBuf>; STACK_CAP],
}

impl Stack {
    pub(crate) const fn new() -> Self {
        Self {
            len: 0,
            held: 0,
            slots: [const { MaybeUninit::uninit() }; STACK_CAP],
        }
    }

    /// The buffers on the stack.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The permits held, spare or with a buffer.
    pub(crate) fn held(&self) -> usize {
        self.held
    }

    /// Holds `n` more permits.
    ///
    /// # Panics
    ///
    /// If that would hold more than [`STACK_CAP`]: the callers clamp to it.
    pub(crate) fn add_held(&mut self, n: usize) {
        assert!(
            self.held + n <= STACK_CAP,
            "a stack holds at most {STACK_CAP} permits"
        );
        self.held += n;
    }

    /// Gives up `n` spare permits (`n <= held - len`), for the caller to release.
    pub(crate) fn drop_held(&mut self, n: usize) {
        assert!(n <= self.held - self.len, "only spare permits can go");
        self.held -= n;
    }

    /// Gives up every spare permit and returns how many, for the caller to
    /// release.
    pub(crate) fn drop_spare(&mut self) -> usize {
        let spare = self.held - self.len;
        self.held = self.len;
        spare
    }

    /// The most recently returned buffer; its permit stays held, as a spare.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<AlignedBuf> {
        let len = self.len.checked_sub(1)?;
        self.len = len;
        // SAFETY: `slots[..len + 1]` held buffers, so `slots[len]` does
        // (`len < STACK_CAP`, so the `%` changes nothing); `len` is lowered
        // first, so the stack no longer owns it and it is read out once.
        Some(unsafe { self.slots[len % STACK_CAP].assume_init_read() })
    }

    /// Pushes `buf` on a spare permit and returns it in its slot, or gives it
    /// back if no permit is spare.
    #[inline]
    pub(crate) fn push(&mut self, buf: AlignedBuf) -> Result<&mut AlignedBuf, AlignedBuf> {
        let len = self.len;
        if len >= self.held {
            return Err(buf);
        }
        self.len = len + 1;
        // `len < held <= STACK_CAP`: the `%` changes nothing and spares a
        // bounds check. The slot is dead, so overwriting it leaks nothing.
        Ok(self.slots[len % STACK_CAP].write(buf))
    }

    /// Removes the `n` oldest buffers (all if there are fewer), keeping the
    /// order of the rest and their permits. Consume the iterator: buffers it
    /// does not yield leak.
    ///
    /// The iterator must stay opaque (`impl Iterator`): the `Map` inside is
    /// `Clone`, and a clone would read every slot a second time.
    pub(crate) fn take_oldest(&mut self, n: usize) -> impl Iterator<Item = AlignedBuf> + '_ {
        let len = self.len;
        let n = n.min(len);
        self.slots[..len].rotate_left(n);
        self.len = len - n;
        // SAFETY: `slots[..len]` held buffers; rotating moved the oldest `n`
        // to `len - n..len`, which the stack no longer owns, so each is read
        // out once.
        self.slots[len - n..len]
            .iter()
            .map(|slot| unsafe { slot.assume_init_read() })
    }

    /// Removes every buffer, oldest first; the permits stay held. Consume
    /// the iterator: buffers it does not yield leak. Opaque, as in
    /// [`take_oldest`](Self::take_oldest).
    pub(crate) fn take_all(&mut self) -> impl Iterator<Item = AlignedBuf> + '_ {
        let len = std::mem::take(&mut self.len);
        // SAFETY: `slots[..len]` held buffers and the stack no longer owns
        // them (`len` is 0), so each is read out once.
        self.slots[..len]
            .iter()
            .map(|slot| unsafe { slot.assume_init_read() })
    }
}

impl Drop for Stack {
    /// Frees the buffers still on the stack (the thread cache hands them to
    /// the pool first, so this frees only what a panic left behind).
    fn drop(&mut self) {
        self.take_all().for_each(drop);
    }
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("len", &self.len)
            .field("held", &self.held)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buf(cap: usize) -> AlignedBuf {
        AlignedBuf::try_zeroed(cap).unwrap()
    }

    /// A push needs a spare permit, and the stack pops newest first.
    #[test]
    fn pushes_need_a_spare_permit_and_pops_are_newest_first() {
        let mut stack = Stack::new();
        assert!(stack.push(buf(1)).is_err());
        assert!(stack.pop().is_none());
        stack.add_held(2);
        assert_eq!(stack.push(buf(1)).ok().map(|b| b.capacity()), Some(1));
        stack.push(buf(2)).unwrap();
        assert_eq!(stack.push(buf(3)).err().map(|b| b.capacity()), Some(3));
        assert_eq!(stack.pop().map(|b| b.capacity()), Some(2));
        assert_eq!(stack.pop().map(|b| b.capacity()), Some(1));
        assert!(stack.pop().is_none());
        assert_eq!((stack.len(), stack.held()), (0, 2));
        assert_eq!(stack.drop_spare(), 2);
    }

    /// A spill takes the oldest buffers, in order, and keeps the newest on
    /// top; `take_all` empties the stack.
    #[test]
    fn a_stack_spills_its_oldest_half_and_keeps_its_newest() {
        let mut stack = Stack::new();
        stack.add_held(STACK_CAP);
        for cap in 1..=5 {
            stack.push(buf(cap)).unwrap();
        }
        let spilled: Vec<usize> = stack.take_oldest(3).map(|b| b.capacity()).collect();
        assert_eq!(spilled, [1, 2, 3]);
        assert_eq!(stack.len(), 2);
        assert_eq!(stack.pop().map(|b| b.capacity()), Some(5));
        stack.push(buf(6)).unwrap();
        let rest: Vec<usize> = stack.take_all().map(|b| b.capacity()).collect();
        assert_eq!(rest, [4, 6]);
        assert!(stack.pop().is_none());
        assert_eq!(stack.take_oldest(1).count(), 0);
    }

    /// A full stack of 16 cycles through every slot; dropping a stack frees
    /// what it holds (valgrind, which runs these tests, reports a leak or a
    /// double free otherwise).
    #[test]
    fn a_full_stack_uses_every_slot_and_frees_on_drop() {
        let mut stack = Stack::new();
        stack.add_held(STACK_CAP);
        for round in 0..3 {
            for cap in 0..STACK_CAP {
                stack.push(buf(64 + cap)).unwrap();
            }
            assert!(stack.push(buf(1)).is_err());
            let oldest: Vec<usize> = stack.take_oldest(4).map(|b| b.capacity()).collect();
            assert_eq!(oldest, [64, 65, 66, 67], "round {round}");
            stack.take_all().for_each(drop);
        }
        stack.push(buf(100)).unwrap();
        stack.push(buf(200)).unwrap();
        drop(stack);
    }

    #[test]
    #[should_panic(expected = "at most 16 permits")]
    fn more_permits_than_slots_panic() {
        let mut stack = Stack::new();
        stack.add_held(STACK_CAP);
        stack.add_held(1);
    }
}
