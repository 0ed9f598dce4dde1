//! [`Id`]: a task's name for itself, unique in the process.

use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// A task's id: unique among all tasks of the process, never reused.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let a = evloop::spawn(async {});
///     let b = evloop::spawn(async {});
///     assert_ne!(a.id(), b.id());
///     assert_eq!(a.id().to_string(), format!("task {}", a.id().as_u64()));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Id(NonZeroU64);

impl Id {
    /// The next id of the process.
    pub(super) fn next() -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Id(NonZeroU64::new(n).expect("the task id counter does not wrap in 2^64 spawns"))
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.0)
    }
}
