//! Waiting for several things at once: [`join_all`] (asyncio's `gather`),
//! [`try_join_all`], [`select`], and [`TaskGroup`].
//!
//! `join_all`, `try_join_all` and `select` run their futures *inside the
//! calling task*: concurrency without spawning, like `gather` over
//! coroutines. A [`TaskGroup`] spawns real tasks and owns them: the first
//! failure cancels the rest, and dropping the group aborts them all.

use std::fmt;
use std::future::{Future, IntoFuture, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;

use crate::task::{self, JoinError, JoinHandle};

/// Runs every future concurrently and returns all their outputs, in order
/// (asyncio's `gather(*aws, return_exceptions=True)`: a future that returns an
/// `Err` does not stop the others).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time::{sleep, Instant};
///
/// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let fetch = |s: u64| async move {
///         sleep(Duration::from_secs(s)).await;
///         format!("Result of {s}")
///     };
///     let results = evloop::join_all([fetch(1), fetch(2)]).await;
///     assert_eq!(results, ["Result of 1", "Result of 2"]);
///     assert_eq!(start.elapsed(), Duration::from_secs(2));
/// });
/// ```
pub async fn join_all<I>(futures: I) -> Vec<<I::Item as IntoFuture>::Output>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    let mut pending: Vec<Pin<Box<<I::Item as IntoFuture>::IntoFuture>>> = futures
        .into_iter()
        .map(|f| Box::pin(f.into_future()))
        .collect();
    let mut outputs: Vec<Option<<I::Item as IntoFuture>::Output>> =
        pending.iter().map(|_| None).collect();
    let mut left = pending.len();
    poll_fn(|cx| {
        for (i, fut) in pending.iter_mut().enumerate() {
            if outputs[i].is_none()
                && let Poll::Ready(out) = fut.as_mut().poll(cx)
            {
                outputs[i] = Some(out);
                left -= 1;
            }
        }
        if left == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}

/// Runs every future concurrently until all succeed, or the first fails
/// (asyncio's `gather(*aws)`). On the first `Err`, the other futures are
/// dropped (cancelled) and the error returned.
///
/// # Examples
///
/// ```
/// let fetch = |n: u32| async move {
///     if n == 2 { Err(format!("fetch {n} failed")) } else { Ok(n) }
/// };
/// let all = evloop::run(evloop::try_join_all([fetch(1), fetch(3)]));
/// assert_eq!(all, Ok(vec![1, 3]));
/// let first_error = evloop::run(evloop::try_join_all([fetch(1), fetch(2), fetch(3)]));
/// assert_eq!(first_error, Err("fetch 2 failed".to_string()));
/// ```
pub async fn try_join_all<I, T, E>(futures: I) -> Result<Vec<T>, E>
where
    I: IntoIterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    let mut pending: Vec<Pin<Box<<I::Item as IntoFuture>::IntoFuture>>> = futures
        .into_iter()
        .map(|f| Box::pin(f.into_future()))
        .collect();
    let mut outputs: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    let mut left = pending.len();
    poll_fn(|cx| {
        for (i, fut) in pending.iter_mut().enumerate() {
            if outputs[i].is_none() {
                match fut.as_mut().poll(cx) {
                    Poll::Ready(Ok(out)) => {
                        outputs[i] = Some(out);
                        left -= 1;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {}
                }
            }
        }
        if left == 0 {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    })
    .await?;
    Ok(outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect())
}

/// One of two values: which future of a [`select`] finished first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Either<A, B> {
    /// The first future won.
    Left(A),
    /// The second future won.
    Right(B),
}

/// Waits for whichever of two futures finishes first, and drops the other
/// (cancelling it). If both are ready at the same poll, `a` wins.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::{Either, select, time::sleep};
///
/// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
/// let winner = rt.block_on(select(
///     sleep(Duration::from_secs(2)),
///     async { sleep(Duration::from_secs(1)).await; "fast" },
/// ));
/// assert_eq!(winner, Either::Right("fast"));
/// ```
pub async fn select<A, B>(a: A, b: B) -> Either<A::Output, B::Output>
where
    A: IntoFuture,
    B: IntoFuture,
{
    let mut a = pin!(a.into_future());
    let mut b = pin!(b.into_future());
    poll_fn(|cx| {
        if let Poll::Ready(x) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(x));
        }
        if let Poll::Ready(y) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(y));
        }
        Poll::Pending
    })
    .await
}

/// A set of spawned tasks that succeed or fail together (asyncio's
/// `TaskGroup`).
///
/// Each task returns `Result<T, E>`. [`join`](TaskGroup::join) waits for all
/// of them; the first task that fails (returns `Err` or panics) cancels the
/// others, and the error carries *every* failure, like asyncio's
/// `ExceptionGroup`. Dropping the group aborts every task in it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::{TaskGroup, time::{sleep, Instant}};
///
/// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     let mut group = TaskGroup::new();
///     for s in [1u64, 2] {
///         group.spawn(async move {
///             sleep(Duration::from_secs(s)).await;
///             Ok::<_, String>(s * 10)
///         });
///     }
///     assert_eq!(group.join().await.unwrap(), [10, 20]);
///     assert_eq!(start.elapsed(), Duration::from_secs(2));
/// });
/// ```
pub struct TaskGroup<T, E> {
    handles: Vec<JoinHandle<Result<T, E>>>,
}

impl<T: 'static, E: 'static> TaskGroup<T, E> {
    /// An empty group.
    pub fn new() -> Self {
        TaskGroup {
            handles: Vec::new(),
        }
    }

    /// Spawns a task into the group (asyncio's `group.create_task`).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F)
    where
        F: Future<Output = Result<T, E>> + 'static,
    {
        let handle = task::Builder::new().spawn(future);
        self.handles.push(handle);
    }

    /// Spawns a named task into the group.
    #[track_caller]
    pub fn spawn_named<F>(&mut self, name: impl Into<String>, future: F)
    where
        F: Future<Output = Result<T, E>> + 'static,
    {
        let handle = task::Builder::new().name(name).spawn(future);
        self.handles.push(handle);
    }

    /// How many tasks were spawned into the group.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Whether no task was spawned.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// Waits for every task. Returns their outputs in spawn order, or, if any
    /// failed, a [`GroupError`] with every failure (tasks cancelled because
    /// of the first failure are not counted as failures).
    pub async fn join(mut self) -> Result<Vec<T>, GroupError<E>> {
        let count = self.handles.len();
        let mut results: Vec<Option<Result<T, E>>> = (0..count).map(|_| None).collect();
        let mut failures: Vec<Failure<E>> = Vec::new();
        // Which handles have resolved, whatever the outcome.
        let mut joined_yet = vec![false; count];
        let mut cancelled_rest = false;
        let mut left = count;
        let handles = &mut self.handles;
        poll_fn(|cx| {
            for (i, handle) in handles.iter_mut().enumerate() {
                if joined_yet[i] {
                    continue;
                }
                let Poll::Ready(joined) = Pin::new(&mut *handle).poll(cx) else {
                    continue;
                };
                joined_yet[i] = true;
                left -= 1;
                match joined {
                    Ok(Ok(v)) => results[i] = Some(Ok(v)),
                    Ok(Err(e)) => failures.push(Failure::Error { index: i, error: e }),
                    // Cancelled by the group after the first failure: not a
                    // failure of its own.
                    Err(j) if j.is_cancelled() && cancelled_rest => {}
                    Err(j) => failures.push(Failure::Panic { index: i, error: j }),
                }
            }
            if !failures.is_empty() && !cancelled_rest {
                // The first failure cancels the others; their handles wake
                // once each task has been dropped.
                cancelled_rest = true;
                for h in handles.iter() {
                    h.abort();
                }
            }
            if left == 0 {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
        if failures.is_empty() {
            Ok(results
                .into_iter()
                .map(|r| match r {
                    Some(Ok(v)) => v,
                    _ => unreachable!("no failure means every task returned Ok"),
                })
                .collect())
        } else {
            failures.sort_by_key(Failure::index);
            Err(GroupError {
                failures,
                tasks: count,
            })
        }
    }
}

impl<T: 'static, E: 'static> Default for TaskGroup<T, E> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl<T, E> Drop for TaskGroup<T, E> {
    fn drop(&mut self) {
        for handle in &self.handles {
            handle.abort();
        }
    }
}

impl<T, E> fmt::Debug for TaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("tasks", &self.handles.len())
            .finish()
    }
}

/// One failed task of a [`TaskGroup`].
#[derive(Debug)]
pub enum Failure<E> {
    /// The task returned `Err`.
    Error {
        /// Its position in spawn order.
        index: usize,
        /// What it returned.
        error: E,
    },
    /// The task panicked (or was aborted from outside the group).
    Panic {
        /// Its position in spawn order.
        index: usize,
        /// The panic.
        error: JoinError,
    },
}

impl<E> Failure<E> {
    /// The failed task's position in spawn order.
    pub fn index(&self) -> usize {
        match self {
            Failure::Error { index, .. } | Failure::Panic { index, .. } => *index,
        }
    }
}

/// Every failure of a [`TaskGroup`] (asyncio's `ExceptionGroup`).
#[derive(Debug)]
pub struct GroupError<E> {
    failures: Vec<Failure<E>>,
    tasks: usize,
}

impl<E> GroupError<E> {
    /// The failures, in spawn order.
    pub fn failures(&self) -> &[Failure<E>] {
        &self.failures
    }

    /// The failures, by value.
    pub fn into_failures(self) -> Vec<Failure<E>> {
        self.failures
    }
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} tasks in the group failed",
            self.failures.len(),
            self.tasks
        )?;
        for failure in &self.failures {
            match failure {
                Failure::Error { index, error } => write!(f, "; task #{index}: {error}")?,
                Failure::Panic { index, error } => write!(f, "; task #{index}: {error}")?,
            }
        }
        Ok(())
    }
}

impl<E: fmt::Display + fmt::Debug> std::error::Error for GroupError<E> {}
