//! A stale event never wakes the socket that reuses a closed socket's slot
//! and file descriptor.
//!
//! The scene: socket A has a read waiting and data on the way, socket C
//! becomes readable just before it, and both events come back from one
//! `epoll_wait`. Handling C's event closes A and opens B, which gets A's
//! reactor slot (the free list hands back the slot just freed) and A's file
//! descriptor number (Linux gives the lowest free one), and parks a read on
//! B. A's event, already fetched, is handled next: it names A's slot, and
//! only its generation tells that it is not B's. B must not be woken.
//!
//! This file holds a single test, so no other test opens or closes
//! descriptors in this process while it relies on their numbering.

mod common;

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use evloop::net::TcpStream;
use evloop::time::sleep;

use common::{WakeCounter, connected_to_std_peer, watchdog};

type Read = Pin<Box<dyn Future<Output = io::Result<Vec<u8>>>>>;

/// A read that owns its stream, so dropping it closes the socket.
fn owned_read(stream: TcpStream) -> Read {
    Box::pin(async move {
        let mut buf = [0u8; 16];
        let n = stream.read(&mut buf).await?;
        Ok(buf[..n].to_vec())
    })
}

/// What the swap (run inside the reactor's dispatch of C's event) works on
/// and leaves behind. Lives in a thread-local of the loop thread, since a
/// `Waker` must be `Send` and the sockets are not.
#[derive(Default)]
struct Scene {
    /// A's parked read (owning A), and A's descriptor number.
    old_read: Option<Read>,
    old_fd: RawFd,
    old_wakes: Arc<WakeCounter>,
    /// Where B connects to.
    listener: Option<std::net::TcpListener>,
    /// Filled in by the swap.
    swapped: bool,
    old_woken_before_swap: usize,
    new_read: Option<Read>,
    new_fd: RawFd,
    new_peer: Option<std::net::TcpStream>,
    new_wakes: Arc<WakeCounter>,
}

thread_local! {
    static SCENE: RefCell<Scene> = RefCell::new(Scene::default());
}

/// The waker of C's readiness wait: closes A and opens B in its place.
struct SwapOnWake;

impl Wake for SwapOnWake {
    fn wake(self: Arc<Self>) {
        SCENE.with_borrow_mut(|scene| {
            if scene.swapped {
                return;
            }
            scene.swapped = true;
            scene.old_woken_before_swap = scene.old_wakes.wakes();
            // Close A: its read is dropped, its slot freed, its fd closed.
            drop(scene.old_read.take());
            // Open B: a blocking connect on loopback completes at once, and
            // takes the lowest free descriptor, A's.
            let listener = scene.listener.as_ref().expect("set before the swap");
            let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            scene.new_fd = client.as_raw_fd();
            let (peer, _) = listener.accept().unwrap();
            let stream = TcpStream::from_std(client).unwrap();
            // Park a read on B, with a waker that counts.
            let mut read = owned_read(stream);
            let waker = Waker::from(scene.new_wakes.clone());
            let first = read.as_mut().poll(&mut Context::from_waker(&waker));
            assert!(first.is_pending(), "B has no data yet: {first:?}");
            scene.new_read = Some(read);
            scene.new_peer = Some(peer);
        });
    }
}

#[test]
fn a_stale_event_does_not_wake_the_socket_that_reuses_the_slot_and_fd() {
    watchdog(Duration::from_secs(30), || {
        evloop::run(async {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            // A is made from a std stream, to know its descriptor number.
            let a_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let a_std = std::net::TcpStream::connect(a_listener.local_addr().unwrap()).unwrap();
            let (mut a_peer, _) = a_listener.accept().unwrap();
            let a_fd = a_std.as_raw_fd();
            let a = TcpStream::from_std(a_std).unwrap();
            // Let the loop fetch the events of the new registrations (A is
            // writable at once), so that the next `epoll_wait` holds only
            // the events this test makes, in the order it makes them.
            sleep(Duration::from_millis(10)).await;
            let (c, mut c_peer) = connected_to_std_peer().await;

            // A: a read parked with a counting waker.
            let old_fd = SCENE.with_borrow_mut(|scene| {
                scene.listener = Some(listener);
                scene.old_fd = a_fd;
                let mut read = owned_read(a);
                let waker = Waker::from(scene.old_wakes.clone());
                assert!(
                    read.as_mut()
                        .poll(&mut Context::from_waker(&waker))
                        .is_pending()
                );
                scene.old_read = Some(read);
                scene.old_fd
            });

            // C: known empty (a WouldBlock), then a readiness wait whose
            // waker performs the swap.
            let mut buf = [0u8; 4];
            assert_eq!(
                c.try_read(&mut buf).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
            let mut c_ready = Box::pin(c.readable());
            let swap = Waker::from(Arc::new(SwapOnWake));
            assert!(
                c_ready
                    .as_mut()
                    .poll(&mut Context::from_waker(&swap))
                    .is_pending()
            );

            // Both become readable before the loop next asks the OS, C
            // first: one epoll_wait returns C's event, then A's.
            c_peer.write_all(b"c").unwrap();
            a_peer.write_all(b"stale").unwrap();
            sleep(Duration::from_millis(50)).await;

            let (swapped, old_woken, new_fd, new_wakes) = SCENE.with_borrow(|scene| {
                (
                    scene.swapped,
                    scene.old_woken_before_swap,
                    scene.new_fd,
                    scene.new_wakes.wakes(),
                )
            });
            assert!(swapped, "C's event did not arrive");
            assert_eq!(
                old_woken, 0,
                "A's event came first: the scene did not happen"
            );
            assert_eq!(new_fd, old_fd, "B did not get A's descriptor");
            assert_eq!(new_wakes, 0, "A's stale event woke B");

            // B still works: data for B wakes it exactly once.
            let mut b_peer = SCENE.with_borrow_mut(|scene| scene.new_peer.take().unwrap());
            b_peer.write_all(b"fresh").unwrap();
            sleep(Duration::from_millis(50)).await;
            let (new_wakes, mut new_read) = SCENE
                .with_borrow_mut(|scene| (scene.new_wakes.wakes(), scene.new_read.take().unwrap()));
            assert_eq!(new_wakes, 1, "B's own data must wake it");
            let waker = Waker::from(Arc::new(WakeCounter::default()));
            match new_read.as_mut().poll(&mut Context::from_waker(&waker)) {
                Poll::Ready(Ok(data)) => assert_eq!(data, b"fresh"),
                other => panic!("B's read after its wake-up: {other:?}"),
            }
            drop(new_read);
            drop(c_ready);
        });
    });
}
