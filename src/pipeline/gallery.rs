//! The image host's photos, drawn lazily: one slot per photo, filled by
//! drawing threads in the background, the photo someone asks for first.
//!
//! Drawing twelve 1920×1080 photos takes about a second of CPU; a host that
//! drew them all before it listened would keep its clients waiting that
//! long for the first byte. A [`Gallery`] lets the host listen at once:
//!
//! - background threads call [`Gallery::draw_next`] in a loop, which draws
//!   the photos in order, 1, 2, 3 …;
//! - a request for a photo not drawn yet [asks](Gallery::ask) for it: the
//!   photo jumps the queue (the next free drawer takes it before the next
//!   one in order), and the request gets a [`oneshot::Receiver`] that the
//!   drawer completes. The connection task awaits it; the server's loop
//!   never blocks;
//! - a photo that a drawer has already claimed is never drawn twice: a
//!   request for it joins the waiters of that drawing.
//!
//! Each slot moves one way: *waiting* → *claimed* (one drawer draws it) →
//! *drawn*, and a drawn photo never changes, so [`Gallery::get`] hands out
//! plain references. A drawing that panics leaves its slot *failed* and
//! its waiters see the channel closed, never a wait without end.
//!
//! With a [cache folder](Gallery::with_cache), a drawer first looks for the
//! photo there ([`photo_cache`]: keyed by its index, its size and
//! [`synth::DRAWING_VERSION`]) and reads it instead of drawing it; a photo
//! it draws is written there for the next run. A short, damaged or linked
//! cache file is a miss: the photo is drawn again and its file replaced,
//! never served.

use std::collections::VecDeque;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

use super::{photo_cache, synth};
use crate::sync::oneshot;

/// The bytes of one photo, shared by every response that sends it.
pub type Photo = Arc<[u8]>;

/// What [`Gallery::ask`] gives: the photo, or a promise of it.
#[derive(Debug)]
pub enum Asked {
    /// The photo was drawn already.
    Drawn(Photo),
    /// It is being drawn or will be next: the receiver completes when it
    /// is drawn, or fails if its drawing failed or the gallery was closed.
    Pending(oneshot::Receiver<Photo>),
}

/// Photos 1..=N of one size, drawn on demand or ahead of demand; see the
/// [module docs](self).
///
/// # Examples
///
/// Drawing by hand (the image host runs [`draw_next`](Gallery::draw_next)
/// on threads of its own):
///
/// ```
/// use evloop::pipeline::gallery::{Asked, Gallery};
/// use evloop::pipeline::synth;
///
/// let gallery = Gallery::new(3, 32, 18);
/// let Asked::Pending(mut rx) = gallery.ask(3).unwrap() else { panic!("nothing is drawn yet") };
/// assert_eq!(gallery.draw_next(), Some(3)); // the asked one jumps the queue
/// assert_eq!(&rx.try_recv().unwrap()[..], &synth::photo_jpeg(3, 32, 18)[..]);
/// assert_eq!(gallery.draw_next(), Some(1)); // then the rest, in order
/// assert_eq!(gallery.wait(2).unwrap(), &synth::photo_jpeg(2, 32, 18)[..]);
/// assert_eq!(gallery.draw_next(), None); // all drawn
/// ```
pub struct Gallery {
    width: u32,
    height: u32,
    /// Set once, when drawn; never changed after.
    photos: Box<[OnceLock<Photo>]>,
    state: Mutex<State>,
    /// Notified on every change of `state`: a claim, a photo drawn, an ask,
    /// a close.
    changed: Condvar,
    cache: Option<PathBuf>,
    draw_ahead: bool,
    drawn: AtomicU64,
    cache_hits: AtomicU64,
    /// The first failed cache write was reported (on stderr): once is enough.
    cache_warned: AtomicBool,
}

/// Where each photo is, under the gallery's lock.
#[derive(Debug)]
struct State {
    slots: Vec<Slot>,
    /// Photos asked for before they were claimed, oldest first (0-based).
    asked: VecDeque<usize>,
    /// Every photo below this one has been claimed (0-based).
    next: usize,
    closed: bool,
}

/// One photo's place in the queue.
#[derive(Debug)]
enum Slot {
    /// Nobody draws it yet; `asked` if it is in the asked queue.
    Waiting {
        asked: bool,
        waiters: Vec<oneshot::Sender<Photo>>,
    },
    /// A drawer has it; the requests waiting for it.
    Claimed {
        waiters: Vec<oneshot::Sender<Photo>>,
    },
    /// In `Gallery::photos`.
    Drawn,
    /// Its drawing panicked; nobody will draw it.
    Failed,
}

impl Gallery {
    /// A gallery of `count` photos of `width`×`height` (see
    /// [`synth::photo_jpeg`]), none drawn yet, no cache, drawing ahead.
    pub fn new(count: u32, width: u32, height: u32) -> Gallery {
        let count = count as usize;
        Gallery {
            width,
            height,
            photos: (0..count).map(|_| OnceLock::new()).collect(),
            state: Mutex::new(State {
                slots: (0..count)
                    .map(|_| Slot::Waiting {
                        asked: false,
                        waiters: Vec::new(),
                    })
                    .collect(),
                asked: VecDeque::new(),
                next: 0,
                closed: false,
            }),
            changed: Condvar::new(),
            cache: None,
            draw_ahead: true,
            drawn: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            cache_warned: AtomicBool::new(false),
        }
    }

    /// Reads photos from `dir` when they are there, and writes those it
    /// draws into it. The folder must exist (see
    /// [`photo_cache::prepare_dir`]).
    pub fn with_cache(mut self, dir: impl Into<PathBuf>) -> Gallery {
        self.cache = Some(dir.into());
        self
    }

    /// With `false`, [`draw_next`](Gallery::draw_next) draws only photos
    /// that were asked for; the others stay undrawn until someone asks.
    pub fn draw_ahead(mut self, ahead: bool) -> Gallery {
        self.draw_ahead = ahead;
        self
    }

    /// How many photos it holds.
    pub fn len(&self) -> u32 {
        u32::try_from(self.photos.len()).expect("the count came in as a u32")
    }

    /// Whether it holds no photo at all.
    pub fn is_empty(&self) -> bool {
        self.photos.is_empty()
    }

    /// The width and height of every photo.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Photo `k` (1-based) if it is drawn; `None` if it is not drawn yet or
    /// `k` is not in `1..=N`. Never waits.
    pub fn get(&self, k: u32) -> Option<&Photo> {
        self.photos.get(slot_of(k)?)?.get()
    }

    /// Whether photo `k` has a file in the cache folder (a plain file, not
    /// a link; whether it is whole is known only when it is read). `false`
    /// without a cache or for `k` outside `1..=N`.
    pub fn in_cache(&self, k: u32) -> bool {
        let (Some(dir), Some(_)) = (&self.cache, slot_of(k)) else {
            return false;
        };
        std::fs::symlink_metadata(dir.join(photo_cache::cache_name(k, self.width, self.height)))
            .is_ok_and(|meta| meta.is_file())
    }

    /// How many photos have been drawn or read from the cache so far.
    pub fn drawn(&self) -> u64 {
        self.drawn.load(Ordering::SeqCst)
    }

    /// How many of those came from the cache.
    pub fn cache_hits(&self) -> u64 {
        self.cache_hits.load(Ordering::SeqCst)
    }

    /// Photo `k` now, or a receiver that gets it when it is drawn; `None`
    /// if `k` is not in `1..=N`.
    ///
    /// A photo nobody draws yet moves to the front of the queue (behind
    /// others asked for earlier); one being drawn is waited for. Never
    /// blocks beyond the gallery's lock (held only for bookkeeping, never
    /// while drawing), so it may be called on an event loop's thread.
    pub fn ask(&self, k: u32) -> Option<Asked> {
        let index = self.index(k)?;
        if let Some(photo) = self.photos[index].get() {
            return Some(Asked::Drawn(photo.clone()));
        }
        let (tx, rx) = oneshot::channel();
        let mut state = self.lock();
        let State { slots, asked, .. } = &mut *state;
        match &mut slots[index] {
            Slot::Waiting {
                asked: was_asked,
                waiters,
            } => {
                waiters.push(tx);
                if !*was_asked {
                    *was_asked = true;
                    asked.push_back(index);
                }
                drop(state);
                self.changed.notify_all();
            }
            Slot::Claimed { waiters } => waiters.push(tx),
            // Drawn between the first look and the lock.
            Slot::Drawn => {
                drop(state);
                return Some(Asked::Drawn(self.photos[index].get()?.clone()));
            }
            // `tx` is dropped: the receiver says the photo will not come.
            Slot::Failed => {}
        }
        Some(Asked::Pending(rx))
    }

    /// Photo `k`, waiting for it if need be; `None` if `k` is not in
    /// `1..=N`, or if its drawing failed or the gallery was closed before it
    /// was drawn.
    ///
    /// A photo nobody draws yet is drawn on the calling thread; one a
    /// drawer has claimed is waited for (the thread blocks: do not call it
    /// on an event loop's thread, use [`ask`](Gallery::ask) there).
    pub fn wait(&self, k: u32) -> Option<&[u8]> {
        let index = self.index(k)?;
        loop {
            if let Some(photo) = self.photos[index].get() {
                return Some(photo);
            }
            let mut state = self.lock();
            if state.closed && !matches!(state.slots[index], Slot::Drawn) {
                return None;
            }
            match state.slots[index] {
                Slot::Waiting { .. } => {
                    let claim = self.claim(state, index);
                    self.fill(claim);
                }
                Slot::Claimed { .. } => {
                    while matches!(state.slots[index], Slot::Claimed { .. }) && !state.closed {
                        state = self
                            .changed
                            .wait(state)
                            .unwrap_or_else(PoisonError::into_inner);
                    }
                }
                Slot::Drawn => {}
                Slot::Failed => return None,
            }
        }
    }

    /// Claims the next photo to draw (the oldest one asked for, else with
    /// draw-ahead the next in order), draws it or reads it from the cache,
    /// and hands it to everyone waiting for it. Returns its number, or
    /// `None` when there is nothing to draw now.
    pub fn draw_next(&self) -> Option<u32> {
        let claim = self.claim_next()?;
        let k = claim.k();
        self.fill(claim);
        Some(k)
    }

    /// Runs [`draw_next`](Gallery::draw_next) until every photo is claimed
    /// (with draw-ahead) or the gallery is closed; without draw-ahead, it
    /// waits for asks in between. The body of a drawing thread.
    pub fn draw_until_done(&self) {
        loop {
            if self.draw_next().is_some() {
                continue;
            }
            let mut state = self.lock();
            loop {
                if state.closed || self.all_claimed(&state) {
                    return;
                }
                if self.has_work(&state) {
                    break;
                }
                state = self
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
    }

    /// Stops the drawing: drawers stop after the photo in hand, and requests
    /// waiting for a photo not drawn yet see their channel closed.
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        let mut dropped = Vec::new();
        for slot in &mut state.slots {
            if let Slot::Waiting { waiters, .. } = slot {
                dropped.append(waiters);
            }
        }
        drop(state);
        // The senders go after the lock: a woken receiver's task may run
        // on another thread at once.
        drop(dropped);
        self.changed.notify_all();
    }

    /// Claims the photo to draw next, if any.
    fn claim_next(&self) -> Option<Claim<'_>> {
        let mut state = self.lock();
        if state.closed {
            return None;
        }
        while let Some(index) = state.asked.pop_front() {
            if matches!(state.slots[index], Slot::Waiting { .. }) {
                return Some(self.claim(state, index));
            }
        }
        if !self.draw_ahead {
            return None;
        }
        while state.next < state.slots.len() {
            let index = state.next;
            state.next += 1;
            if matches!(state.slots[index], Slot::Waiting { .. }) {
                return Some(self.claim(state, index));
            }
        }
        None
    }

    /// Marks photo `index`, waiting, as claimed by the caller.
    fn claim(&self, mut state: MutexGuard<'_, State>, index: usize) -> Claim<'_> {
        let slot = &mut state.slots[index];
        let Slot::Waiting { waiters, .. } = slot else {
            unreachable!("only a waiting photo is claimed");
        };
        let waiters = std::mem::take(waiters);
        *slot = Slot::Claimed { waiters };
        drop(state);
        self.changed.notify_all();
        Claim {
            gallery: self,
            index,
            done: false,
        }
    }

    /// Draws (or reads) the claimed photo and hands it out.
    fn fill(&self, claim: Claim<'_>) {
        let k = claim.k();
        if let Some(photo) = self.read_cached(k) {
            self.cache_hits.fetch_add(1, Ordering::SeqCst);
            claim.finish(photo);
            return;
        }
        let photo: Photo = synth::photo_jpeg(k, self.width, self.height).into();
        claim.finish(photo.clone());
        // Written after the waiters have it: the cache never delays a
        // response.
        self.write_cached(k, &photo);
    }

    fn read_cached(&self, k: u32) -> Option<Photo> {
        let dir = self.cache.as_ref()?;
        photo_cache::read(dir, k, self.width, self.height).map(Photo::from)
    }

    fn write_cached(&self, k: u32, photo: &[u8]) {
        let Some(dir) = &self.cache else { return };
        if let Err(e) = photo_cache::write(dir, k, self.width, self.height, photo)
            && !self.cache_warned.swap(true, Ordering::SeqCst)
        {
            eprintln!("image host: cannot keep photos in the cache ({e}); drawing them each run");
        }
    }

    fn index(&self, k: u32) -> Option<usize> {
        slot_of(k).filter(|&i| i < self.photos.len())
    }

    fn all_claimed(&self, state: &State) -> bool {
        state
            .slots
            .iter()
            .all(|s| !matches!(s, Slot::Waiting { .. }))
    }

    fn has_work(&self, state: &State) -> bool {
        let asked = state
            .asked
            .iter()
            .any(|&i| matches!(state.slots[i], Slot::Waiting { .. }));
        asked || (self.draw_ahead && state.next < state.slots.len())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No code that can panic runs under the lock except our own
        // bookkeeping; a poisoned lock still holds consistent slots.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Gallery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gallery")
            .field("photos", &self.photos.len())
            .field("size", &(self.width, self.height))
            .field("drawn", &self.drawn())
            .field("cache", &self.cache)
            .finish()
    }
}

/// A photo claimed by one drawer. Finishing it stores the photo and wakes
/// its waiters; dropping it unfinished (the drawing panicked) marks the
/// photo failed and closes its waiters' channels.
struct Claim<'a> {
    gallery: &'a Gallery,
    index: usize,
    done: bool,
}

impl Claim<'_> {
    fn k(&self) -> u32 {
        u32::try_from(self.index + 1).expect("the count came in as a u32")
    }

    fn finish(mut self, photo: Photo) {
        self.done = true;
        let gallery = self.gallery;
        // Set before the slot says Drawn: whoever sees Drawn finds it.
        let _ = gallery.photos[self.index].set(photo.clone());
        gallery.drawn.fetch_add(1, Ordering::SeqCst);
        let waiters = match std::mem::replace(&mut gallery.lock().slots[self.index], Slot::Drawn) {
            Slot::Claimed { waiters } => waiters,
            _ => Vec::new(),
        };
        gallery.changed.notify_all();
        for waiter in waiters {
            // A receiver dropped meanwhile (its connection closed) is fine.
            let _ = waiter.send(photo.clone());
        }
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let old = std::mem::replace(&mut self.gallery.lock().slots[self.index], Slot::Failed);
        self.gallery.changed.notify_all();
        // The waiters' senders drop here, after the lock.
        drop(old);
    }
}

/// The slot of photo `k` (1-based), before checking the count.
fn slot_of(k: u32) -> Option<usize> {
    usize::try_from(k).ok()?.checked_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect_pending(asked: Option<Asked>) -> oneshot::Receiver<Photo> {
        match asked {
            Some(Asked::Pending(rx)) => rx,
            other => panic!("expected a pending photo, got {other:?}"),
        }
    }

    #[test]
    fn draws_in_order_with_asked_photos_first() {
        let gallery = Gallery::new(5, 16, 9);
        let mut rx4 = expect_pending(gallery.ask(4));
        let mut rx2 = expect_pending(gallery.ask(2));
        assert!(gallery.ask(0).is_none() && gallery.ask(6).is_none());
        assert_eq!(gallery.draw_next(), Some(4));
        assert_eq!(
            &rx4.try_recv().unwrap()[..],
            &synth::photo_jpeg(4, 16, 9)[..]
        );
        assert!(rx2.try_recv().is_err(), "2 is not drawn yet");
        assert_eq!(gallery.draw_next(), Some(2));
        assert!(rx2.try_recv().is_ok());
        // The sweep skips what the asks drew.
        let order: Vec<u32> = std::iter::from_fn(|| gallery.draw_next()).collect();
        assert_eq!(order, [1, 3, 5]);
        assert_eq!(gallery.drawn(), 5);
        for k in 1..=5 {
            assert_eq!(
                &gallery.get(k).unwrap()[..],
                &synth::photo_jpeg(k, 16, 9)[..]
            );
            assert!(matches!(gallery.ask(k), Some(Asked::Drawn(_))));
        }
    }

    #[test]
    fn a_photo_being_drawn_is_waited_for_not_drawn_twice() {
        let gallery = Gallery::new(3, 16, 9);
        // A background drawer has claimed photo 1 and is drawing it.
        let claim = gallery.claim_next().unwrap();
        assert_eq!(claim.k(), 1);
        // A request for 1 waits for that drawing; it does not queue 1 again.
        let mut rx = expect_pending(gallery.ask(1));
        let next = gallery.claim_next().unwrap();
        assert_eq!(next.k(), 2, "1 is not handed to a second drawer");
        assert!(rx.try_recv().is_err());
        // A blocking waiter on another thread waits too, and is not lost.
        std::thread::scope(|s| {
            let waiter = s.spawn(|| gallery.wait(1).map(<[u8]>::to_vec));
            claim.finish(Photo::from(&b"\xFF\xD8one\xFF\xD9"[..]));
            assert_eq!(waiter.join().unwrap().unwrap(), b"\xFF\xD8one\xFF\xD9");
        });
        assert_eq!(&rx.try_recv().unwrap()[..], b"\xFF\xD8one\xFF\xD9");
        next.finish(Photo::from(&b"two"[..]));
        assert_eq!(gallery.drawn(), 2);
        assert_eq!(gallery.draw_next(), Some(3));
        assert_eq!(gallery.draw_next(), None);
    }

    #[test]
    fn a_failed_drawing_closes_its_waiters_and_stops_nobody() {
        let gallery = Gallery::new(2, 16, 9);
        let claim = gallery.claim_next().unwrap();
        let mut rx = expect_pending(gallery.ask(1));
        drop(claim); // as a panic in the drawing would
        assert!(matches!(rx.try_recv(), Err(oneshot::TryRecvError::Closed)));
        assert!(gallery.wait(1).is_none());
        assert_eq!(gallery.draw_next(), Some(2));
        gallery.draw_until_done(); // returns: nothing is left to claim
    }

    #[test]
    fn without_draw_ahead_only_asked_photos_are_drawn() {
        let gallery = Gallery::new(3, 16, 9).draw_ahead(false);
        assert_eq!(gallery.draw_next(), None);
        let _rx = expect_pending(gallery.ask(3));
        assert_eq!(gallery.draw_next(), Some(3));
        assert_eq!(gallery.draw_next(), None);
        assert!(gallery.get(1).is_none());
        assert!(gallery.wait(1).is_some(), "a blocking wait draws it itself");
    }

    #[test]
    fn closing_releases_waiters_and_drawers() {
        let gallery = Gallery::new(2, 16, 9).draw_ahead(false);
        let mut rx = expect_pending(gallery.ask(2));
        std::thread::scope(|s| {
            let drawer = s.spawn(|| {
                // Drains the ask, then waits for more until closed.
                gallery.draw_until_done();
            });
            gallery.wait(2);
            gallery.close();
            drawer.join().unwrap();
        });
        assert!(rx.try_recv().is_ok());
        assert!(gallery.wait(1).is_none(), "closed: nothing more is drawn");
    }
}
