//! The contracts of evloop's runtime-neutral trait impls, step by step:
//! when `TcpStream`, `File` and `Interval` return `Pending`, who wakes them,
//! and what a future dropped midway leaves behind.
//!
//! * A socket read cancelled mid-wait takes no bytes and leaves the stream
//!   usable; `close` shuts down only the write side; vectored IO moves every
//!   slice.
//! * A `File` write that returned `Pending` took nothing, and completes
//!   exactly once when polled again; an abandoned one writes nothing; one
//!   accepted before the `File` was dropped still lands; a failed write is
//!   reported by the next operation, once.
//! * A `File` read that returned `Pending` continues the same pool job when
//!   polled again; seeks and writes agree with the bytes read ahead.
//! * `Interval` as a `Stream`: ticks at exact virtual times, woken once per
//!   tick, and a cancelled `next()` loses no tick.

mod common;

use std::future::poll_fn;
use std::io::{IoSlice, IoSliceMut, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use evloop::Runtime;
use evloop::fs::File;
use evloop::time::{Instant, interval, timeout};
use futures_util::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt};
use futures_util::stream::{Stream, StreamExt};

use common::{Counters, connected_to_std_peer, loopback_pair, paused, watchdog};

const WATCHDOG: Duration = Duration::from_secs(60);

/// Polls `f` once with the current task's waker and hands back its answer,
/// `Pending` included.
async fn poll_now<T>(mut f: impl FnMut(&mut Context<'_>) -> Poll<T>) -> Poll<T> {
    poll_fn(|cx| Poll::Ready(f(cx))).await
}

/// A runtime on the paused clock that records pool jobs (each
/// `spawn_blocking` is a task named so in the trace).
fn traced() -> Runtime {
    Runtime::builder()
        .paused_clock(true)
        .slow_poll_threshold(None)
        .trace(true)
        .build()
        .unwrap()
}

/// How many blocking-pool jobs `rt` has started so far.
fn pool_jobs(rt: &Runtime) -> usize {
    let record = rt.trace_record().expect("tracing is on");
    record
        .tasks
        .iter()
        .filter(|t| t.name.as_deref() == Some("spawn_blocking"))
        .count()
}

/// A fresh, empty directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("evloop-traits-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_socket_read_cancelled_mid_wait_takes_nothing_and_the_stream_goes_on() {
    watchdog(WATCHDOG, || {
        paused().block_on(async {
            let (stream, mut peer) = connected_to_std_peer().await;
            // The traits' methods, called by path: the inherent methods of
            // the same names would win a plain method call.
            let mut reader = &stream;
            let start = Instant::now();
            let mut buf = [0u8; 32];
            // Nothing arrives: the read waits, and the timeout drops it.
            let read = AsyncReadExt::read(&mut reader, &mut buf);
            let cancelled = timeout(Duration::from_secs(5), read).await;
            assert!(
                cancelled.is_err(),
                "nothing was sent, so the read must time out"
            );
            assert_eq!(start.elapsed(), Duration::from_secs(5));
            // One read(2) said WouldBlock; the read returned Pending twice
            // (its first poll, and the timer's wake, when `timeout` polls
            // the read before its clock), both without readiness in between.
            assert_eq!(
                evloop::testing::readiness_counters(&stream),
                (1, 2),
                "(WouldBlock, Pending)"
            );

            peer.write_all(b"after the cancel").unwrap();
            let mut got = [0u8; 16];
            AsyncReadExt::read_exact(&mut reader, &mut got)
                .await
                .unwrap();
            assert_eq!(&got, b"after the cancel", "the cancelled read took nothing");

            // And the stream still writes.
            AsyncWriteExt::write_all(&mut &stream, b"still here")
                .await
                .unwrap();
            let mut back = [0u8; 10];
            std::io::Read::read_exact(&mut peer, &mut back).unwrap();
            assert_eq!(&back, b"still here");
        })
    });
}

#[test]
fn a_socket_read_polled_once_by_hand_and_dropped_takes_nothing() {
    watchdog(WATCHDOG, || {
        paused().block_on(async {
            let (client, server) = loopback_pair().await;
            let mut reader = &server;
            let mut buf = [0u8; 8];
            {
                let mut read = AsyncReadExt::read(&mut reader, &mut buf);
                assert!(
                    poll_now(|cx| Pin::new(&mut read).poll(cx))
                        .await
                        .is_pending()
                );
            } // dropped here, mid-wait
            assert_eq!(
                evloop::testing::readiness_counters(&server),
                (1, 1),
                "(WouldBlock, Pending)"
            );

            AsyncWriteExt::write_all(&mut &client, b"xyz")
                .await
                .unwrap();
            let n = AsyncReadExt::read(&mut reader, &mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"xyz");
        })
    });
}

#[test]
fn close_shuts_down_the_write_side_only() {
    watchdog(WATCHDOG, || {
        paused().block_on(async {
            let (mut client, server) = loopback_pair().await;
            AsyncWriteExt::write_all(&mut client, b"request")
                .await
                .unwrap();
            client.close().await.unwrap();
            // The server reads up to end-of-file...
            let mut request = Vec::new();
            (&server).read_to_end(&mut request).await.unwrap();
            assert_eq!(request, b"request");
            // ...and can still answer: the client's read side is open.
            AsyncWriteExt::write_all(&mut &server, b"reply")
                .await
                .unwrap();
            drop(server);
            let mut reply = Vec::new();
            client.read_to_end(&mut reply).await.unwrap();
            assert_eq!(reply, b"reply");
            // Writing after close is refused by the OS.
            let err = AsyncWriteExt::write_all(&mut client, b"late")
                .await
                .unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
        })
    });
}

#[test]
fn vectored_io_on_a_socket_moves_every_slice_in_order() {
    watchdog(WATCHDOG, || {
        paused().block_on(async {
            let (client, server) = loopback_pair().await;
            let slices = [
                IoSlice::new(b"ab"),
                IoSlice::new(b""),
                IoSlice::new(b"cde"),
                IoSlice::new(b"f"),
            ];
            // One writev(2): a fresh loopback socket takes all six bytes.
            let n = (&client).write_vectored(&slices).await.unwrap();
            assert_eq!(n, 6);
            let (mut first, mut second) = ([0u8; 4], [0u8; 8]);
            let mut bufs = [IoSliceMut::new(&mut first), IoSliceMut::new(&mut second)];
            let n = (&server).read_vectored(&mut bufs).await.unwrap();
            assert_eq!(n, 6);
            assert_eq!(&first, b"abcd");
            assert_eq!(&second[..2], b"ef");
        })
    });
}

#[test]
fn a_file_write_that_returned_pending_completes_exactly_once() {
    let dir = Scratch::new("write-pending");
    let path = dir.path().join("out.txt");
    let jobs = watchdog(WATCHDOG, {
        let path = path.clone();
        move || {
            let rt = traced();
            rt.block_on(async {
                let mut file = File::create(&path).await.unwrap();
                let mut jobs = vec![pool_jobs(&rt)];

                // Idle: the bytes are copied, a job starts, and the write is
                // accepted at once.
                let first = poll_now(|cx| Pin::new(&mut file).poll_write(cx, b"first")).await;
                assert!(matches!(first, Poll::Ready(Ok(5))), "{first:?}");
                jobs.push(pool_jobs(&rt));

                // That job is in flight (its waiter task has not even run):
                // the next write waits, woken once by the job's handle, and
                // then completes once.
                let counters = Counters::new();
                let second = counters
                    .probe(poll_fn(|cx| Pin::new(&mut file).poll_write(cx, b"second")))
                    .await;
                assert_eq!(second.unwrap(), 6);
                counters.assert("the second write", 2, 1, 1);
                jobs.push(pool_jobs(&rt));

                // A third write is Pending behind the second's job, and is
                // then abandoned: it took nothing, so nothing is written.
                let third = poll_now(|cx| Pin::new(&mut file).poll_write(cx, b"third")).await;
                assert!(third.is_pending());
                jobs.push(pool_jobs(&rt));

                file.close().await.unwrap();
                assert_eq!(std::fs::read(&path).unwrap(), b"firstsecond");
                jobs.push(pool_jobs(&rt));
                jobs
            })
        }
    });
    // create, first, second; nothing for the abandoned third or for close.
    assert_eq!(jobs, [1, 2, 3, 3, 3], "pool jobs after each step");
    assert_eq!(std::fs::read(&path).unwrap(), b"firstsecond");
}

#[test]
fn many_small_writes_through_write_all_land_once_each_in_order() {
    let dir = Scratch::new("small-writes");
    let path = dir.path().join("log.txt");
    let expected: Vec<u8> = (0..200)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();
    watchdog(WATCHDOG, {
        let path = path.clone();
        move || {
            paused().block_on(async move {
                let mut file = File::create(&path).await.unwrap();
                for i in 0..200 {
                    // The trait's write_all: every call after the first finds
                    // the previous job in flight and returns Pending once.
                    AsyncWriteExt::write_all(&mut file, format!("line {i}\n").as_bytes())
                        .await
                        .unwrap();
                }
                file.flush().await.unwrap();
            })
        }
    });
    assert!(
        std::fs::read(&path).unwrap() == expected,
        "a line is missing, doubled or moved"
    );
}

#[test]
fn a_write_accepted_before_the_file_is_dropped_still_lands() {
    let dir = Scratch::new("drop-mid-write");
    let path = dir.path().join("out.txt");
    let landed = watchdog(WATCHDOG, {
        let path = path.clone();
        move || {
            common::real().block_on(async move {
                let mut file = File::create(&path).await.unwrap();
                let accepted = poll_now(|cx| Pin::new(&mut file).poll_write(cx, b"accepted")).await;
                assert!(matches!(accepted, Poll::Ready(Ok(8))));
                drop(file); // the job is in flight; nobody awaits it now
                // The job finishes on its own: wait for it with real time.
                for _ in 0..2000 {
                    if std::fs::read(&path).unwrap() == b"accepted" {
                        return true;
                    }
                    evloop::time::sleep(Duration::from_millis(5)).await;
                }
                false
            })
        }
    });
    assert!(landed, "the accepted write never reached the file");
}

#[test]
fn a_failed_write_is_reported_by_the_next_operation_once() {
    let dir = Scratch::new("write-error");
    let path = dir.file("read-only.txt", b"kept");
    watchdog(WATCHDOG, move || {
        paused().block_on(async move {
            // Opened for reading only: write(2) fails with EBADF on the pool.
            let mut file = File::open(&path).await.unwrap();
            let accepted = poll_now(|cx| Pin::new(&mut file).poll_write(cx, b"nope")).await;
            assert!(
                matches!(accepted, Poll::Ready(Ok(4))),
                "accepted before it ran"
            );
            let err = file.flush().await.unwrap_err();
            let text = err.to_string();
            assert!(text.contains("os error 9"), "EBADF: {text}");
            assert!(
                text.contains("writing") && text.contains("read-only.txt"),
                "{text}"
            );
            // Reported once: the file goes on.
            file.flush().await.unwrap();
            let mut back = Vec::new();
            AsyncReadExt::read_to_end(&mut file, &mut back)
                .await
                .unwrap();
            assert_eq!(back, b"kept");
        })
    });
}

#[test]
fn a_file_read_that_returned_pending_continues_the_same_job() {
    let dir = Scratch::new("read-pending");
    let path = dir.file("data.txt", b"abcdefghij");
    let jobs = watchdog(WATCHDOG, move || {
        let rt = traced();
        rt.block_on(async {
            let mut file = File::open(&path).await.unwrap();
            let mut jobs = vec![pool_jobs(&rt)];
            // The first poll starts a read job and waits for it.
            let mut big = [0u8; 8];
            let first = poll_now(|cx| Pin::new(&mut file).poll_read(cx, &mut big)).await;
            assert!(first.is_pending());
            jobs.push(pool_jobs(&rt));
            // That read is abandoned; a new one, with a smaller buffer, gets
            // the first bytes from the same job instead of starting another.
            let mut small = [0u8; 3];
            let n = AsyncReadExt::read(&mut file, &mut small).await.unwrap();
            assert_eq!(&small[..n], b"abc");
            jobs.push(pool_jobs(&rt));
            // The rest was read ahead: served without a job until the end,
            // where one more job finds end-of-file.
            let mut rest = Vec::new();
            AsyncReadExt::read_to_end(&mut file, &mut rest)
                .await
                .unwrap();
            assert_eq!(rest, b"defghij");
            jobs.push(pool_jobs(&rt));
            jobs
        })
    });
    assert_eq!(jobs, [1, 2, 2, 3], "pool jobs after each step");
}

#[test]
fn inherent_read_to_end_dropped_midway_leaves_the_bytes_for_the_next_read() {
    let dir = Scratch::new("read-to-end-cancel");
    let path = dir.file("data.txt", b"nothing of this is lost");
    watchdog(WATCHDOG, move || {
        paused().block_on(async move {
            let mut file = File::open(&path).await.unwrap();
            {
                let mut whole = std::pin::pin!(file.read_to_end());
                assert!(poll_now(|cx| whole.as_mut().poll(cx)).await.is_pending());
            } // dropped with its job in flight
            let mut back = Vec::new();
            AsyncReadExt::read_to_end(&mut file, &mut back)
                .await
                .unwrap();
            assert_eq!(back, b"nothing of this is lost");
        })
    });
}

#[test]
fn seeks_count_from_the_bytes_the_caller_has_read() {
    let dir = Scratch::new("seek");
    let path = dir.file("digits.txt", b"0123456789");
    watchdog(WATCHDOG, move || {
        paused().block_on(async move {
            let mut file = File::open(&path).await.unwrap();
            let mut three = [0u8; 3];
            AsyncReadExt::read_exact(&mut file, &mut three)
                .await
                .unwrap();
            assert_eq!(&three, b"012");
            // The job read all ten bytes ahead; the caller is at 3.
            assert_eq!(file.stream_position().await.unwrap(), 3);
            AsyncReadExt::read_exact(&mut file, &mut three)
                .await
                .unwrap();
            assert_eq!(&three, b"345");
            assert_eq!(file.seek(SeekFrom::Current(-2)).await.unwrap(), 4);
            AsyncReadExt::read_exact(&mut file, &mut three)
                .await
                .unwrap();
            assert_eq!(&three, b"456");
            assert_eq!(file.seek(SeekFrom::Start(1)).await.unwrap(), 1);
            let mut two = [0u8; 2];
            AsyncReadExt::read_exact(&mut file, &mut two).await.unwrap();
            assert_eq!(&two, b"12");
            assert_eq!(file.seek(SeekFrom::End(-2)).await.unwrap(), 8);
            let mut rest = Vec::new();
            AsyncReadExt::read_to_end(&mut file, &mut rest)
                .await
                .unwrap();
            assert_eq!(rest, b"89");
            // Before the start: the OS refuses, naming the path, and the
            // file goes on.
            let err = file.seek(SeekFrom::Current(-100)).await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
            assert!(err.to_string().contains("digits.txt"), "{err}");
            assert_eq!(file.seek(SeekFrom::Start(0)).await.unwrap(), 0);
            AsyncReadExt::read_exact(&mut file, &mut two).await.unwrap();
            assert_eq!(&two, b"01");
        })
    });
}

#[test]
fn a_write_after_a_read_lands_where_the_reader_stopped() {
    let dir = Scratch::new("read-then-write");
    let path = dir.file("digits.txt", b"0123456789");
    let contents = watchdog(WATCHDOG, {
        let path = path.clone();
        move || {
            let at = path.clone();
            paused().block_on(async move {
                let options = std::fs::OpenOptions::new().read(true).write(true).clone();
                let mut file = File::open_with(&at, &options).await.unwrap();
                let mut four = [0u8; 4];
                AsyncReadExt::read_exact(&mut file, &mut four)
                    .await
                    .unwrap();
                assert_eq!(&four, b"0123");
                // The OS position is at 10 (read ahead); the write goes to 4.
                AsyncWriteExt::write_all(&mut file, b"AB").await.unwrap();
                file.flush().await.unwrap();
                let mut rest = Vec::new();
                AsyncReadExt::read_to_end(&mut file, &mut rest)
                    .await
                    .unwrap();
                assert_eq!(rest, b"6789");
                file.close().await.unwrap();
            });
            std::fs::read(&path).unwrap()
        }
    });
    assert_eq!(contents, b"0123AB6789");
}

#[test]
fn vectored_io_on_a_file_gathers_and_scatters_in_order() {
    let dir = Scratch::new("file-vectored");
    let path = dir.path().join("out.txt");
    watchdog(WATCHDOG, move || {
        paused().block_on(async move {
            let mut file = File::create(&path).await.unwrap();
            let slices = [
                IoSlice::new(b"one "),
                IoSlice::new(b""),
                IoSlice::new(b"two "),
                IoSlice::new(b"three"),
            ];
            // All slices go into one job.
            assert_eq!(file.write_vectored(&slices).await.unwrap(), 13);
            file.close().await.unwrap();
            drop(file);
            let mut file = File::open(&path).await.unwrap();
            let (mut a, mut b) = ([0u8; 5], [0u8; 20]);
            let mut bufs = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
            let n = file.read_vectored(&mut bufs).await.unwrap();
            assert_eq!(n, 13);
            assert_eq!(&a, b"one t");
            assert_eq!(&b[..8], b"wo three");
        })
    });
}

#[test]
fn interval_as_a_stream_ticks_at_exact_virtual_times() {
    watchdog(WATCHDOG, || {
        paused().block_on(async {
            let ms = Duration::from_millis;
            let start = Instant::now();
            let mut every = interval(ms(10));
            // The first tick is at once.
            let first = every.next().await.unwrap();
            assert_eq!(first, start);
            assert_eq!(start.elapsed(), ms(0));

            // The next waits: one Pending, one wake from the timer, then Ready.
            let counters = Counters::new();
            let second = counters.probe(every.next()).await.unwrap();
            assert_eq!(second.duration_since(start), ms(10));
            counters.assert("the second tick", 2, 1, 1);

            // A combinator from futures-util: take three more.
            let ticks: Vec<Duration> = (&mut every)
                .take(3)
                .map(|t| t.duration_since(start))
                .collect()
                .await;
            assert_eq!(ticks, [ms(20), ms(30), ms(40)]);
            assert_eq!(start.elapsed(), ms(40));

            // A next() cancelled before its tick takes no tick with it.
            assert!(timeout(ms(3), every.next()).await.is_err());
            assert_eq!(start.elapsed(), ms(43));
            let fifth = every.next().await.unwrap();
            assert_eq!(fifth.duration_since(start), ms(50));
            assert_eq!(start.elapsed(), ms(50));
            assert_eq!(
                Stream::size_hint(&every),
                (usize::MAX, None),
                "an interval never ends"
            );
        })
    });
}

#[test]
fn two_intervals_zipped_tick_together_at_the_slower_pace() {
    watchdog(WATCHDOG, || {
        paused().block_on(async {
            let ms = Duration::from_millis;
            let start = Instant::now();
            let pairs: Vec<(Duration, Duration)> = interval(ms(10))
                .zip(interval(ms(25)))
                .take(3)
                .map(|(a, b)| (a.duration_since(start), b.duration_since(start)))
                .collect()
                .await;
            // Each pair waits for the slower one; the faster one's ticks
            // keep their schedule (late ticks fire at once, as Burst says).
            assert_eq!(pairs, [(ms(0), ms(0)), (ms(10), ms(25)), (ms(20), ms(50))]);
            assert_eq!(start.elapsed(), ms(50));
        })
    });
}

/// `AsyncRead` is implemented for the stream and for a shared reference,
/// and both are usable where the trait is asked for by value.
#[test]
fn stream_and_shared_reference_both_satisfy_the_traits() {
    fn reads_and_writes<T: AsyncRead + AsyncWrite + Unpin>(_: &T) {}
    watchdog(WATCHDOG, || {
        paused().block_on(async {
            let (client, _server) = loopback_pair().await;
            reads_and_writes(&client);
            reads_and_writes(&&client);
            let file = File::create(
                std::env::temp_dir().join(format!("evloop-traits-{}-bound", std::process::id())),
            )
            .await
            .unwrap();
            reads_and_writes(&file);
            let path = file.path().to_owned();
            drop(file);
            std::fs::remove_file(path).unwrap();
        })
    });
}
