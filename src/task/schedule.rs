//! What a task tells the loop that runs it: queue me ([`Schedule`]), and how
//! it ended ([`End`]).

use super::Task;

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// It returned its output.
    Output,
    /// It panicked (in poll, or in its future's drop).
    Panic,
    /// It was aborted or cancelled at shutdown.
    Cancelled,
}

/// How a runtime receives tasks that were woken.
///
/// `schedule` may be called from any thread (a waker fired there); the
/// implementation decides between the loop's local queue and its remote one.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Queue the task to be polled.
    fn schedule(&self, task: Task);
}
