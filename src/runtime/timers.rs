//! Timer storage: a 4-ary min-heap of deadlines over a slab of entries.
//!
//! Why a heap: inserting and firing are O(log n), the next deadline is O(1),
//! and an armed timer costs a 24-byte heap entry plus a 24-byte slab slot.
//! A hashed wheel is faster to insert into but needs a tick resolution and
//! cascading; measured on the benchmarks (`cargo bench -- timers`) the heap
//! keeps the loop's timer work well under the cost of the syscalls around it.
//!
//! Why 4-ary and hand-written rather than std's `BinaryHeap`: an entry holds
//! the deadline as nanoseconds since the loop's clock base (a `u64`, not a
//! 16-byte `Instant`), so it shrinks from 40 to 24 bytes, and a node's four
//! children share one or two cache lines, so the heap is half as deep for
//! about the same number of comparisons.
//!
//! Timers due at the same nanosecond fire in the order they were armed: the
//! heap orders by (deadline, arming number).
//!
//! Cancelling a timer (dropping a `Sleep` early, or a `timeout` whose future
//! won) frees its slab slot at once and leaves a stale heap entry behind,
//! recognised by its generation. When stale entries outnumber live ones the
//! heap is rebuilt, so the `timeout(…)` pattern cannot make it grow without
//! bound.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::Waker;
use std::time::{Duration, Instant};

/// Names one armed timer: the loop that holds it, a slab slot and the
/// generation it was armed in. 12 bytes, and the non-zero owner leaves a
/// niche, so a `Sleep`'s `Option` of it costs nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerKey {
    owner: NonZeroU32,
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

/// One heap entry: 24 bytes.
#[derive(Debug, Clone, Copy)]
struct HeapEntry {
    /// Nanoseconds since the clock's base.
    deadline: u64,
    /// Arming number: among equal deadlines, the earlier armed fires first.
    armed: u64,
    slot: u32,
    generation: u32,
}

impl HeapEntry {
    /// (deadline, arming number) as one number: compared without a branch.
    #[inline]
    fn order(&self) -> u128 {
        (u128::from(self.deadline) << 64) | u128::from(self.armed)
    }

    #[inline]
    fn before(&self, other: &HeapEntry) -> bool {
        self.order() < other.order()
    }
}

/// Gives every `Timers` its own number, so a key armed on one loop is never
/// taken for a slot of another. Never wraps (see [`Timers::new`]).
static NEXT_OWNER: AtomicU32 = AtomicU32::new(1);

/// All timers of one loop.
#[derive(Debug)]
pub(crate) struct Timers {
    owner: NonZeroU32,
    /// Deadlines are kept as nanoseconds since this instant.
    base: Instant,
    /// A 4-ary min-heap: the children of `i` are `4i + 1 ..= 4i + 4`.
    heap: Vec<HeapEntry>,
    armed: u64,
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
}

impl Timers {
    /// No timers; deadlines are measured from `base` (the clock's base: a
    /// deadline before it is due at once).
    ///
    /// # Panics
    ///
    /// At the 2^32nd loop of the process: a number used twice could let one
    /// loop take another's key for its own.
    pub(crate) fn new(base: Instant) -> Timers {
        let owner = NEXT_OWNER
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_add(1))
            .ok()
            .and_then(NonZeroU32::new)
            .expect("fewer than 2^32 runtimes in one process");
        Timers {
            owner,
            base,
            heap: Vec::new(),
            armed: 0,
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }

    /// Number of armed timers.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// `at` as nanoseconds since the base (0 before it; saturating ~584
    /// years after it).
    #[inline]
    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX)
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
        let generation = s.generation;
        self.live += 1;
        self.armed += 1;
        let entry = HeapEntry {
            deadline: self.nanos(deadline),
            armed: self.armed,
            slot,
            generation,
        };
        self.push(entry);
        TimerKey {
            owner: self.owner,
            slot,
            generation,
        }
    }

    fn entry_mut(&mut self, key: TimerKey) -> Option<&mut Entry> {
        if key.owner != self.owner {
            return None;
        }
        let s = self.slots.get_mut(key.slot as usize)?;
        if s.generation != key.generation {
            return None;
        }
        s.entry.as_mut()
    }

    /// Replaces the waker of an armed timer. Returns false if the timer has
    /// already fired, was removed, or belongs to another loop: the caller
    /// should check its deadline (and arm a new timer).
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

    /// Disarms a timer (a no-op if it already fired or is another loop's).
    pub(crate) fn remove(&mut self, key: TimerKey) {
        if key.owner != self.owner {
            return;
        }
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

    /// Whether a heap entry still names an armed timer.
    #[inline]
    fn is_live(&self, e: &HeapEntry) -> bool {
        let s = &self.slots[e.slot as usize];
        s.generation == e.generation && s.entry.is_some()
    }

    fn maybe_compact(&mut self) {
        if self.heap.len() > 1024 && self.heap.len() > 2 * self.live {
            let mut heap = std::mem::take(&mut self.heap);
            heap.retain(|e| self.is_live(e));
            self.heap = heap;
            // Floyd's bottom-up build: sift down every parent, last first.
            if self.heap.len() > 1 {
                for i in (0..=(self.heap.len() - 2) / 4).rev() {
                    self.sift_down(i);
                }
            }
        }
    }

    /// The earliest deadline of an armed timer.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(top) = self.heap.first().copied() {
            if self.is_live(&top) {
                return Some(
                    self.base
                        .checked_add(Duration::from_nanos(top.deadline))
                        .unwrap_or(self.base + Duration::from_secs(86_400 * 365 * 100)),
                );
            }
            self.pop();
        }
        None
    }

    /// Disarms every timer whose deadline is at or before `now`, collecting
    /// their wakers (the caller wakes them after releasing its borrow).
    pub(crate) fn fire(&mut self, now: Instant, wakers: &mut Vec<Waker>) {
        let Some(top) = self.heap.first() else {
            return;
        };
        let now = self.nanos(now);
        if top.deadline > now {
            return;
        }
        while let Some(top) = self.heap.first().copied() {
            if top.deadline > now {
                break;
            }
            self.pop();
            let s = &mut self.slots[top.slot as usize];
            if s.generation == top.generation
                && let Some(entry) = s.entry.take()
            {
                s.generation = s.generation.wrapping_add(1);
                self.free.push(top.slot);
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

    // The heap ---------------------------------------------------------------

    /// Removes the earliest entry (the heap must not be empty).
    ///
    /// The hole at the root sinks to a leaf along the smallest children
    /// without comparing them with the last entry, which then fills the hole
    /// and rises: the last entry is a late deadline as a rule, so it rises
    /// little, and each level saves a comparison (std's `BinaryHeap::pop`
    /// does the same).
    fn pop(&mut self) {
        let last = self.heap.pop().expect("pop is called on a non-empty heap");
        if self.heap.is_empty() {
            return;
        }
        let len = self.heap.len();
        let mut hole = 0;
        loop {
            let first = 4 * hole + 1;
            let best = if first + 4 <= len {
                self.min_of_four(first)
            } else if first < len {
                self.min_of_some(first, len)
            } else {
                break;
            };
            self.heap[hole] = self.heap[best];
            hole = best;
        }
        self.sift_up(hole, last);
    }

    fn push(&mut self, entry: HeapEntry) {
        let i = self.heap.len();
        self.heap.push(entry);
        self.sift_up(i, entry);
    }

    /// Puts `entry` in the hole at `i`, moving parents down until the
    /// entry's place is found.
    fn sift_up(&mut self, mut i: usize, entry: HeapEntry) {
        let order = entry.order();
        while i > 0 {
            let parent = (i - 1) / 4;
            if order >= self.heap[parent].order() {
                break;
            }
            self.heap[i] = self.heap[parent];
            i = parent;
        }
        self.heap[i] = entry;
    }

    /// Moves the entry at `i` down to its place (for the rebuild). An
    /// explicit loop over the (up to) four children: an iterator with
    /// `min_by_key` cost about 15 % more instructions.
    fn sift_down(&mut self, mut i: usize) {
        let len = self.heap.len();
        let entry = self.heap[i];
        loop {
            let first = 4 * i + 1;
            let best = if first + 4 <= len {
                self.min_of_four(first)
            } else if first < len {
                self.min_of_some(first, len)
            } else {
                break;
            };
            if !self.heap[best].before(&entry) {
                break;
            }
            self.heap[i] = self.heap[best];
            i = best;
        }
        self.heap[i] = entry;
    }

    /// The index of the earliest of the four entries from `first`.
    #[inline]
    fn min_of_four(&self, first: usize) -> usize {
        let c = &self.heap[first..first + 4];
        let (a, ka) = if c[1].before(&c[0]) {
            (1, &c[1])
        } else {
            (0, &c[0])
        };
        let (b, kb) = if c[3].before(&c[2]) {
            (3, &c[3])
        } else {
            (2, &c[2])
        };
        first + if kb.before(ka) { b } else { a }
    }

    /// The index of the earliest entry in `first..len` (fewer than four).
    #[inline]
    fn min_of_some(&self, first: usize, len: usize) -> usize {
        let mut best = first;
        for c in first + 1..len {
            if self.heap[c].before(&self.heap[best]) {
                best = c;
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    /// Arms timers in a scrambled order, with ties, cancels some, and
    /// checks that they fire in (deadline, arming) order.
    #[test]
    fn fires_in_deadline_then_arming_order() {
        let base = Instant::now();
        let mut timers = Timers::new(base);
        let mut expected = Vec::new();
        let mut keys = Vec::new();
        let mut x: u64 = 12345;
        for n in 0..5000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let ms = (x >> 33) % 50;
            let key = timers.insert(base + Duration::from_millis(ms), Waker::noop().clone());
            keys.push(key);
            expected.push((ms, n, key));
        }
        // Cancel every third (enough to trigger a rebuild).
        for (n, key) in keys.iter().enumerate() {
            if n % 3 != 0 {
                timers.remove(*key);
            }
        }
        expected.retain(|(_, n, _)| n % 3 == 0);
        expected.sort_by_key(|&(ms, n, _)| (ms, n));
        assert_eq!(timers.len(), expected.len());
        let mut fired = Vec::new();
        for ms in 0..50 {
            let next = timers.next_deadline().expect("timers left");
            assert!(next >= base + Duration::from_millis(ms));
            let mut wakers = Vec::new();
            timers.fire(base + Duration::from_millis(ms), &mut wakers);
            fired.extend(std::iter::repeat_n(ms, wakers.len()));
        }
        assert_eq!(timers.len(), 0);
        assert_eq!(timers.next_deadline(), None);
        let want: Vec<u64> = expected.iter().map(|&(ms, _, _)| ms).collect();
        assert_eq!(fired, want);
        // A fired key is stale.
        assert!(!timers.set_waker(expected[0].2, Waker::noop()));
    }

    /// Entries of equal deadline come out in arming order, whatever the
    /// heap's shape.
    #[test]
    fn equal_deadlines_pop_in_arming_order() {
        let base = Instant::now();
        let mut timers = Timers::new(base);
        for _ in 0..1000 {
            timers.insert(base, Waker::noop().clone());
        }
        let mut order = Vec::new();
        while let Some(top) = timers.heap.first().copied() {
            order.push(top.armed);
            timers.pop();
        }
        assert_eq!(order, (1..=1000).collect::<Vec<_>>());
    }

    /// A key made by one loop's timers is refused by another's.
    #[test]
    fn keys_of_another_loop_are_refused() {
        let base = Instant::now();
        let mut a = Timers::new(base);
        let mut b = Timers::new(base);
        let key = a.insert(base + Duration::from_secs(1), Waker::noop().clone());
        b.insert(base + Duration::from_secs(1), Waker::noop().clone());
        assert!(!b.set_waker(key, Waker::noop()));
        b.remove(key);
        assert_eq!(b.len(), 1);
        assert!(a.set_waker(key, Waker::noop()));
    }

    /// Every armed timer pays for its heap entry, and every `Sleep` for an
    /// optional key (the idle-memory rows of `benches/runtimes` count both).
    #[test]
    fn entries_and_keys_are_small() {
        assert_eq!(std::mem::size_of::<HeapEntry>(), 24);
        assert_eq!(std::mem::size_of::<Option<TimerKey>>(), 12);
    }
}
