//! Timer storage: a binary heap of deadlines over a slab of entries.
//!
//! Why a heap: inserting and firing are O(log n), the next deadline is O(1),
//! and 1,000,000 pending timers cost about 64 bytes each. A hashed wheel is
//! faster to insert into but needs a tick resolution and cascading; measured
//! on the benchmarks (`cargo bench -- timers`) the heap keeps the loop's
//! timer work well under the cost of the syscalls around it.
//!
//! Cancelling a timer (dropping a `Sleep` early, or a `timeout` whose future
//! won) frees its slab slot at once and leaves a stale heap entry behind,
//! recognised by its generation. When stale entries outnumber live ones the
//! heap is rebuilt, so the `timeout(…)` pattern cannot make it grow without
//! bound.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::Waker;
use std::time::Instant;

/// Names one armed timer: a slab slot and the generation it was armed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerKey {
    slot: u32,
    generation: u32,
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    entry: Option<Entry>,
}

#[derive(Debug)]
struct Entry {
    waker: Waker,
}

/// All timers of one loop.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    /// (deadline, arming order, slot, generation): timers due at the same
    /// instant fire in the order they were armed.
    heap: BinaryHeap<Reverse<(Instant, u64, u32, u32)>>,
    armed: u64,
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
}

impl Timers {
    /// Number of armed timers.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Arms a timer that wakes `waker` at `deadline`.
    pub(crate) fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let slot = match self.free.pop() {
            Some(i) => i,
            None => {
                let i = u32::try_from(self.slots.len()).expect("fewer than 2^32 armed timers");
                self.slots.push(Slot {
                    generation: 0,
                    entry: None,
                });
                i
            }
        };
        let s = &mut self.slots[slot as usize];
        s.entry = Some(Entry { waker });
        self.live += 1;
        self.armed += 1;
        self.heap
            .push(Reverse((deadline, self.armed, slot, s.generation)));
        TimerKey {
            slot,
            generation: s.generation,
        }
    }

    fn entry_mut(&mut self, key: TimerKey) -> Option<&mut Entry> {
        let s = self.slots.get_mut(key.slot as usize)?;
        if s.generation != key.generation {
            return None;
        }
        s.entry.as_mut()
    }

    /// Replaces the waker of an armed timer. Returns false if the timer has
    /// already fired (or was removed): the caller should check its deadline.
    pub(crate) fn set_waker(&mut self, key: TimerKey, waker: &Waker) -> bool {
        match self.entry_mut(key) {
            Some(e) => {
                if !e.waker.will_wake(waker) {
                    e.waker = waker.clone();
                }
                true
            }
            None => false,
        }
    }

    /// Disarms a timer (a no-op if it already fired).
    pub(crate) fn remove(&mut self, key: TimerKey) {
        let Some(s) = self.slots.get_mut(key.slot as usize) else {
            return;
        };
        if s.generation == key.generation && s.entry.take().is_some() {
            s.generation = s.generation.wrapping_add(1);
            self.free.push(key.slot);
            self.live -= 1;
            self.maybe_compact();
        }
    }

    fn maybe_compact(&mut self) {
        if self.heap.len() > 1024 && self.heap.len() > 2 * self.live {
            let slots = &self.slots;
            let live: Vec<_> = std::mem::take(&mut self.heap)
                .into_vec()
                .into_iter()
                .filter(|Reverse((_, _, slot, generation))| {
                    let s = &slots[*slot as usize];
                    s.generation == *generation && s.entry.is_some()
                })
                .collect();
            self.heap = BinaryHeap::from(live);
        }
    }

    /// The earliest deadline of an armed timer.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((deadline, _, slot, generation))) = self.heap.peek().copied() {
            let s = &self.slots[slot as usize];
            if s.generation == generation && s.entry.is_some() {
                return Some(deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// Disarms every timer whose deadline is at or before `now`, collecting
    /// their wakers (the caller wakes them after releasing its borrow).
    pub(crate) fn fire(&mut self, now: Instant, wakers: &mut Vec<Waker>) {
        while let Some(Reverse((deadline, _, slot, generation))) = self.heap.peek().copied() {
            if deadline > now {
                break;
            }
            self.heap.pop();
            let s = &mut self.slots[slot as usize];
            if s.generation == generation
                && let Some(entry) = s.entry.take()
            {
                s.generation = s.generation.wrapping_add(1);
                self.free.push(slot);
                self.live -= 1;
                wakers.push(entry.waker);
            }
        }
    }

    /// Drops every timer (runtime shutdown), returning the wakers so they are
    /// dropped outside the caller's borrow.
    pub(crate) fn clear(&mut self) -> Vec<Waker> {
        let wakers = self
            .slots
            .iter_mut()
            .filter_map(|s| s.entry.take().map(|e| e.waker))
            .collect();
        self.heap.clear();
        self.slots.clear();
        self.free.clear();
        self.live = 0;
        wakers
    }
}
