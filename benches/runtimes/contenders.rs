//! The three runtimes: how each one builds, spawns, joins, yields, sleeps
//! and does socket IO, and the workloads compiled against each.
//!
//! Each module below defines the same small set of adapters (`block_on`,
//! `spawn`, `join`, `detach`, `yield_now`, `sleep`, `unblock`, and the socket
//! ones) over its runtime's own API, then expands every workload macro, so
//! that `evloop_side::spawn_join` and `tokio_side::spawn_join` are the same
//! code on different runtimes. `evloop_side` is the only place that names
//! the crate under test.

// What the workload macros name without a path; each module below imports
// these with `use super::*`.
use std::future::Future;
use std::hint::black_box;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_channel::{mpsc, oneshot};
use futures_lite::StreamExt;

use crate::error::{BenchError, expect_count};
use crate::machine::{ensure_fds, resident_bytes};
use crate::memory::IDLE_NAP;
use crate::net::{
    CLIENT_CHECK, CLOSE_GRACE, ECHO_BYTES, FD_MARGIN, LoadClient, ServerTally, backlog_listener,
};
use crate::rows::{Load, Sample};
use crate::timers::TimerReport;

/// The runtime under test: evloop. The only place that names the crate.
pub mod evloop_side {
    use super::*;

    /// The column this module fills.
    pub const NAME: &str = "evloop";

    /// Builds a fresh runtime and runs a workload on it.
    fn block_on<T>(workload: impl Future<Output = Result<T, BenchError>>) -> Result<T, BenchError> {
        let runtime = evloop::Runtime::new().map_err(|source| BenchError::Build {
            runtime: NAME,
            source,
        })?;
        runtime.block_on(workload)
    }

    fn spawn<F>(task: F) -> evloop::JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        evloop::spawn(task)
    }

    async fn join<T>(handle: evloop::JoinHandle<T>) -> Result<T, BenchError> {
        handle.await.map_err(|error| BenchError::Join {
            runtime: NAME,
            detail: error.to_string(),
        })
    }

    /// Lets a task run on without anyone awaiting it (dropping evloop's
    /// handle detaches).
    fn detach<T>(handle: evloop::JoinHandle<T>) {
        drop(handle);
    }

    fn yield_now() -> impl Future<Output = ()> {
        evloop::yield_now()
    }

    fn sleep(nap: Duration) -> impl Future<Output = ()> {
        evloop::time::sleep(nap)
    }

    task_workloads!();
    timer_workloads!();
    memory_workloads!();
    net_workloads!();

    async fn bind() -> io::Result<(evloop::net::TcpListener, std::net::SocketAddr)> {
        let listener = evloop::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        Ok((listener, addr))
    }

    fn listener_from_std(listener: std::net::TcpListener) -> io::Result<evloop::net::TcpListener> {
        evloop::net::TcpListener::from_std(listener)
    }

    async fn accept(listener: &evloop::net::TcpListener) -> io::Result<evloop::net::TcpStream> {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn connect(addr: std::net::SocketAddr) -> io::Result<evloop::net::TcpStream> {
        let stream = evloop::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn read(stream: &mut evloop::net::TcpStream, buf: &mut [u8]) -> io::Result<usize> {
        stream.read(buf).await
    }

    async fn write_all(stream: &mut evloop::net::TcpStream, buf: &[u8]) -> io::Result<()> {
        stream.write_all(buf).await
    }

    fn unblock<T: Send + 'static>(
        job: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = Result<T, BenchError>> {
        let handle = evloop::spawn_blocking(job);
        async move { join(handle).await }
    }
}

/// tokio's current-thread runtime, with plain `tokio::spawn`.
pub mod tokio_side {
    use super::*;

    /// The column this module fills.
    pub const NAME: &str = "tokio";

    /// Builds a fresh current-thread runtime and runs a workload on it.
    fn block_on<T>(workload: impl Future<Output = Result<T, BenchError>>) -> Result<T, BenchError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| BenchError::Build {
                runtime: NAME,
                source,
            })?;
        runtime.block_on(workload)
    }

    fn spawn<F>(task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(task)
    }

    async fn join<T>(handle: tokio::task::JoinHandle<T>) -> Result<T, BenchError> {
        handle.await.map_err(|error| BenchError::Join {
            runtime: NAME,
            detail: error.to_string(),
        })
    }

    /// Dropping tokio's handle detaches the task.
    fn detach<T>(handle: tokio::task::JoinHandle<T>) {
        drop(handle);
    }

    fn yield_now() -> impl Future<Output = ()> {
        tokio::task::yield_now()
    }

    fn sleep(nap: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep(nap)
    }

    task_workloads!();
    timer_workloads!();
    memory_workloads!();
    net_workloads!();

    async fn bind() -> io::Result<(tokio::net::TcpListener, std::net::SocketAddr)> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        Ok((listener, addr))
    }

    fn listener_from_std(listener: std::net::TcpListener) -> io::Result<tokio::net::TcpListener> {
        tokio::net::TcpListener::from_std(listener)
    }

    async fn accept(listener: &tokio::net::TcpListener) -> io::Result<tokio::net::TcpStream> {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn connect(addr: std::net::SocketAddr) -> io::Result<tokio::net::TcpStream> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn read(stream: &mut tokio::net::TcpStream, buf: &mut [u8]) -> io::Result<usize> {
        tokio::io::AsyncReadExt::read(stream, buf).await
    }

    async fn write_all(stream: &mut tokio::net::TcpStream, buf: &[u8]) -> io::Result<()> {
        tokio::io::AsyncWriteExt::write_all(stream, buf).await
    }

    fn unblock<T: Send + 'static>(
        job: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = Result<T, BenchError>> {
        let handle = tokio::task::spawn_blocking(job);
        async move { join(handle).await }
    }
}

/// smol: an `async_executor::LocalExecutor` driven by `async_io::block_on`,
/// with `async_io::Timer` for sleeps.
pub mod smol_side {
    use super::*;
    use async_executor::{LocalExecutor, Task};
    use std::cell::RefCell;
    use std::rc::Rc;

    /// The column this module fills.
    pub const NAME: &str = "smol";

    thread_local! {
        /// The executor of the sample that is running, so that `spawn` finds
        /// it the way `tokio::spawn` and `evloop::spawn` find theirs.
        static EXECUTOR: RefCell<Option<Rc<LocalExecutor<'static>>>> = const { RefCell::new(None) };
    }

    /// Builds a fresh executor and runs a workload on it.
    fn block_on<T>(workload: impl Future<Output = Result<T, BenchError>>) -> Result<T, BenchError> {
        let executor = Rc::new(LocalExecutor::new());
        EXECUTOR.with(|slot| slot.replace(Some(Rc::clone(&executor))));
        let result = async_io::block_on(executor.run(workload));
        EXECUTOR.with(|slot| slot.replace(None));
        result
    }

    fn spawn<F>(task: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        EXECUTOR.with(|slot| {
            slot.borrow()
                .as_ref()
                .expect("workloads spawn only inside smol_side::block_on")
                .spawn(task)
        })
    }

    /// smol's task hands back its output directly (a panic would resurface
    /// here), so joining cannot fail.
    async fn join<T>(task: Task<T>) -> Result<T, BenchError> {
        Ok(task.await)
    }

    /// Dropping a smol task cancels it; `detach` lets it run on.
    fn detach<T>(task: Task<T>) {
        task.detach();
    }

    fn yield_now() -> impl Future<Output = ()> {
        futures_lite::future::yield_now()
    }

    async fn sleep(nap: Duration) {
        async_io::Timer::after(nap).await;
    }

    task_workloads!();
    timer_workloads!();
    memory_workloads!();
    net_workloads!();

    async fn bind() -> io::Result<(smol::net::TcpListener, std::net::SocketAddr)> {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        Ok((listener, addr))
    }

    fn listener_from_std(listener: std::net::TcpListener) -> io::Result<smol::net::TcpListener> {
        smol::net::TcpListener::try_from(listener)
    }

    async fn accept(listener: &smol::net::TcpListener) -> io::Result<smol::net::TcpStream> {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn connect(addr: std::net::SocketAddr) -> io::Result<smol::net::TcpStream> {
        let stream = smol::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn read(stream: &mut smol::net::TcpStream, buf: &mut [u8]) -> io::Result<usize> {
        futures_lite::AsyncReadExt::read(stream, buf).await
    }

    async fn write_all(stream: &mut smol::net::TcpStream, buf: &[u8]) -> io::Result<()> {
        futures_lite::AsyncWriteExt::write_all(stream, buf).await
    }

    /// smol's `unblock` runs the job on the `blocking` crate's pool.
    fn unblock<T: Send + 'static>(
        job: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = Result<T, BenchError>> {
        let task = smol::unblock(job);
        async move { Ok(task.await) }
    }
}
