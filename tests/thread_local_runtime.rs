//! A runtime kept in a `thread_local!` is dropped at thread exit, when
//! evloop's own thread-local may already be gone. The drop must degrade
//! gracefully: the thread exits cleanly and every task's future is dropped.

mod common;

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use evloop::Runtime;

/// Counts drops of the future it is part of.
struct Dropped(Arc<AtomicUsize>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

thread_local! {
    static KEPT: RefCell<Option<Runtime>> = const { RefCell::new(None) };
}

/// Runs `body` on a new thread and returns whether the thread exited
/// cleanly (no panic, no abort: an abort would end this whole test).
fn on_a_thread(body: impl FnOnce() + Send + 'static) -> bool {
    std::thread::spawn(body).join().is_ok()
}

/// A pending task (on a timer, and on a socket: both reach the loop when
/// dropped) whose future counts its drop.
fn spawn_pending(rt: &Runtime, drops: &Arc<AtomicUsize>) {
    let guard = Dropped(drops.clone());
    rt.spawn(async move {
        let _guard = guard;
        let listener = evloop::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback listener");
        let _sleep = evloop::time::sleep(Duration::from_secs(3600));
        let _ = listener.accept().await;
    });
}

#[test]
fn a_runtime_stored_after_its_first_block_on_is_dropped_at_thread_exit() {
    let _dog = common::abort_after("thread-local runtime", Duration::from_secs(60));
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let clean = on_a_thread(move || {
        let rt = Runtime::new().expect("a runtime");
        spawn_pending(&rt, &d);
        // The first block_on touches evloop's thread-local (registering its
        // destructor) and lets the task start and park.
        rt.block_on(evloop::yield_now());
        KEPT.with(|k| *k.borrow_mut() = Some(rt));
    });
    assert!(clean, "the thread panicked while exiting");
    assert_eq!(drops.load(SeqCst), 1, "the task's future was dropped once");
}

#[test]
fn a_runtime_whose_thread_local_was_made_first_is_dropped_at_thread_exit() {
    // The other order: the user's thread-local exists before evloop's, so
    // evloop's is torn down first and the runtime's drop finds it gone.
    let _dog = common::abort_after("thread-local runtime, other order", Duration::from_secs(60));
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let clean = on_a_thread(move || {
        KEPT.with(|k| assert!(k.borrow().is_none()));
        let rt = Runtime::new().expect("a runtime");
        spawn_pending(&rt, &d);
        rt.block_on(evloop::yield_now());
        KEPT.with(|k| *k.borrow_mut() = Some(rt));
    });
    assert!(clean, "the thread panicked while exiting");
    assert_eq!(drops.load(SeqCst), 1, "the task's future was dropped once");
}
