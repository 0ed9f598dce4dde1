//! [`ConnectionTable`]: the open connections of one [`serve`](super::server::serve)
//! loop, which keeps their number under the cap.
//!
//! Every connection the server accepts takes a [`Slot`] in the table and
//! gives it back when its task ends, however it ends (the slot lives in the
//! task's future, so an abort drops it too). A connection that waits for its
//! next request head (after connecting, or after its last response) is
//! *idle*, and the table knows since when. Two rules use that:
//!
//! - **The cap.** A connection accepted while [`max`](ConnectionTable::new)
//!   connections are open takes the place of the one idle longest, which is
//!   closed (its task is aborted, which drops its socket). Only a connection
//!   that had its chance may be closed this way: one that has answered a
//!   request and waits for the next, or one that has sent nothing for the
//!   pressure timeout since it was accepted. A connection accepted a moment
//!   ago, whose request is perhaps already in its socket but not yet read,
//!   is never closed to make room for the next one (a burst of clients
//!   larger than the cap would otherwise see the newest arrivals cut off
//!   the ones before them). If no connection may be closed, the server waits
//!   with the new connection in hand until one ends, goes idle, or runs out
//!   of its chance, and accepts nothing more meanwhile (later clients wait
//!   in the kernel's backlog). So at most `max` connections are served,
//!   plus the one waiting for room.
//! - **Pressure.** While more than three quarters of `max` are open, a
//!   connection idle longer than the pressure timeout is closed, the one
//!   idle longest first, until the pressure is off. The server looks again
//!   when the next idle connection's short timeout runs out, or when one
//!   more goes idle.
//!
//! Ties (connections idle since the same instant) go to the one accepted
//! first. A connection counts as idle from the moment it waits for a head
//! until the head is complete, so a head that trickles in slowly does not
//! protect its connection; a request that has arrived but was not yet read
//! may be lost with a connection closed in that instant, which is the usual
//! race of HTTP keep-alive: a client must be ready to send a request again
//! on a new connection when an idle one closes under it (evloop's client
//! does so once for a connection it took from its pool).
//!
//! Everything here runs on the server's loop thread, hence `Rc` and
//! `RefCell`; no borrow is held across an await or an abort.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::server::ServerStats;
use crate::combine::select;
use crate::sync::Notify;
use crate::task::AbortHandle;
use crate::time::{Instant, sleep_until};

/// The open connections of one server loop. See the [module docs](self).
#[derive(Debug)]
pub(crate) struct ConnectionTable {
    table: RefCell<Table>,
    /// Notified when a connection ends or goes idle: room may be made, and
    /// the pressure watch may need a new deadline.
    changed: Notify,
    stats: Arc<ServerStats>,
}

#[derive(Debug)]
struct Table {
    max: usize,
    pressure_idle_timeout: Duration,
    next_id: u64,
    open: BTreeMap<u64, Entry>,
}

#[derive(Debug)]
struct Entry {
    /// Set right after the connection's task is spawned; an entry without
    /// it is never chosen to be closed.
    abort: Option<AbortHandle>,
    /// Since when the connection waits for a request head; `None` while it
    /// handles a request.
    idle_since: Option<Instant>,
    /// It has had a request to answer (so, idle, it waits for another).
    served: bool,
}

/// What the accepting loop should watch, besides the listener, after a
/// [`ConnectionTable::sweep`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Watch {
    /// No pressure: nothing.
    Nothing,
    /// Under pressure, with idle connections: the instant the next one's
    /// pressure timeout runs out (and connections going idle).
    Until(Instant),
    /// Under pressure, with no idle connection (or none whose timeout can
    /// be represented): connections going idle.
    Changes,
}

impl Table {
    /// More than three quarters of the cap are open.
    fn under_pressure(&self) -> bool {
        // In u128, so that no cap can overflow the products.
        (self.open.len() as u128) * 4 > (self.max as u128) * 3
    }

    /// The connection idle longest (ties: the one accepted first).
    fn idle_longest(&self) -> Option<(u64, Instant)> {
        self.open
            .iter()
            .filter(|(_, entry)| entry.abort.is_some())
            .filter_map(|(id, entry)| entry.idle_since.map(|since| (*id, since)))
            .min_by_key(|(id, since)| (*since, *id))
    }

    /// What the cap may do at `now`: close the connection idle longest
    /// among those that had their chance (served before, or silent for the
    /// pressure timeout since they were accepted), or else wait.
    fn make_room(&self, now: Instant) -> Room {
        let mut best: Option<(Instant, u64)> = None;
        let mut next_chance: Option<Instant> = None;
        for (id, entry) in &self.open {
            let (Some(_), Some(since)) = (&entry.abort, entry.idle_since) else {
                continue;
            };
            let chance_ends = if entry.served {
                Some(since)
            } else {
                // A timeout too long to add never runs out.
                since.checked_add(self.pressure_idle_timeout)
            };
            match chance_ends {
                Some(at) if at <= now && best.is_none_or(|b| (since, *id) < b) => {
                    best = Some((since, *id));
                }
                Some(at) if at <= now => {}
                Some(at) => next_chance = Some(next_chance.map_or(at, |t| t.min(at))),
                None => {}
            }
        }
        match (best, next_chance) {
            (Some((_, id)), _) => Room::Close(id),
            (None, Some(at)) => Room::WaitUntil(at),
            (None, None) => Room::WaitForChange,
        }
    }
}

/// What [`Table::make_room`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Room {
    /// Close this connection.
    Close(u64),
    /// Nothing may be closed before this instant (or a change).
    WaitUntil(Instant),
    /// Nothing may be closed until a connection ends or goes idle.
    WaitForChange,
}

impl ConnectionTable {
    /// An empty table for at most `max` connections, closing idle ones
    /// after `pressure_idle_timeout` under pressure.
    pub(crate) fn new(
        max: usize,
        pressure_idle_timeout: Duration,
        stats: Arc<ServerStats>,
    ) -> Rc<ConnectionTable> {
        Rc::new(ConnectionTable {
            table: RefCell::new(Table {
                max,
                pressure_idle_timeout,
                next_id: 0,
                open: BTreeMap::new(),
            }),
            changed: Notify::new(),
            stats,
        })
    }

    /// Waits until one more connection may be served: at once below the
    /// cap; at the cap, after closing the connection idle longest among
    /// those that had their chance (see the [module docs](self)), or, if
    /// there is none, once one ends, goes idle or runs out of its chance.
    ///
    /// Returns `Pending` only at the cap with no connection to close; a
    /// connection task ending or going idle wakes it, and so does the timer
    /// of the first silent connection's chance. Cancel safe: it
    /// changes nothing but the connection it closes.
    pub(crate) async fn room(&self) {
        loop {
            // Made before looking, so that a change in between is not lost
            // (a `notify_one` with nobody waiting is kept as a permit).
            let changed = self.changed.notified();
            let room = {
                let mut table = self.table.borrow_mut();
                if table.open.len() < table.max {
                    return;
                }
                match table.make_room(Instant::now()) {
                    Room::Close(id) => table.open.remove(&id).map(Ok),
                    wait => Some(Err(wait)),
                }
            };
            match room {
                Some(Ok(entry)) => {
                    self.closed_idle(entry);
                    return;
                }
                Some(Err(Room::WaitUntil(at))) => drop(select(sleep_until(at), changed).await),
                _ => changed.await,
            }
        }
    }

    /// Counts a newly accepted connection, idle from now (it has yet to
    /// send its first head). Its task must be given to
    /// [`attach`](Self::attach) before the loop next waits.
    pub(crate) fn register(self: &Rc<Self>) -> Slot {
        let mut table = self.table.borrow_mut();
        let id = table.next_id;
        table.next_id += 1;
        table.open.insert(
            id,
            Entry {
                abort: None,
                idle_since: Some(Instant::now()),
                served: false,
            },
        );
        self.stats.open.fetch_add(1, Ordering::SeqCst);
        Slot {
            id,
            table: self.clone(),
        }
    }

    /// Gives the table the means to close connection `id`.
    pub(crate) fn attach(&self, id: u64, abort: AbortHandle) {
        if let Some(entry) = self.table.borrow_mut().open.get_mut(&id) {
            entry.abort = Some(abort);
        }
    }

    /// Applies the pressure rule now: while more than three quarters of the
    /// cap are open, closes the connection idle longest if it has been idle
    /// for the pressure timeout. Says what to watch until the next sweep.
    pub(crate) fn sweep(&self) -> Watch {
        let now = Instant::now();
        loop {
            let closing = {
                let mut table = self.table.borrow_mut();
                if !table.under_pressure() {
                    return Watch::Nothing;
                }
                let Some((id, since)) = table.idle_longest() else {
                    return Watch::Changes;
                };
                // A timeout too long to add to the instant never runs out.
                match since.checked_add(table.pressure_idle_timeout) {
                    Some(at) if at <= now => table.open.remove(&id),
                    Some(at) => return Watch::Until(at),
                    None => return Watch::Changes,
                }
            };
            if let Some(entry) = closing {
                self.closed_idle(entry);
            }
        }
    }

    /// Waits until a connection ends or goes idle (or a change that nobody
    /// waited for was kept). Cancel safe.
    pub(crate) async fn changed(&self) {
        self.changed.notified().await;
    }

    /// Counts and aborts a connection already taken out of the table.
    fn closed_idle(&self, entry: Entry) {
        self.stats.open.fetch_sub(1, Ordering::SeqCst);
        self.stats.idle_closed.fetch_add(1, Ordering::SeqCst);
        if let Some(abort) = entry.abort {
            // Its future (and socket) is dropped on the loop's next turn.
            abort.abort();
        }
    }
}

/// A connection's place in its [`ConnectionTable`], held by the
/// connection's task; dropping it (with the task's future) frees the place.
#[derive(Debug)]
pub(crate) struct Slot {
    id: u64,
    table: Rc<ConnectionTable>,
}

impl Slot {
    /// Which entry of the table this is.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The connection waits for a request head; it has been idle since now,
    /// unless it already was.
    pub(crate) fn idle(&self) {
        let went_idle = {
            let mut table = self.table.table.borrow_mut();
            match table.open.get_mut(&self.id) {
                Some(entry) if entry.idle_since.is_none() => {
                    entry.idle_since = Some(Instant::now());
                    true
                }
                _ => false,
            }
        };
        if went_idle {
            self.table.changed.notify_one();
        }
    }

    /// The connection has a request to answer.
    pub(crate) fn busy(&self) {
        if let Some(entry) = self.table.table.borrow_mut().open.get_mut(&self.id) {
            entry.idle_since = None;
            entry.served = true;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        // Not there if the table itself closed this connection.
        let removed = self.table.table.borrow_mut().open.remove(&self.id);
        if removed.is_some() {
            self.table.stats.open.fetch_sub(1, Ordering::SeqCst);
            self.table.changed.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pressure_starts_above_three_quarters_and_never_overflows() {
        let table = |max: usize, open: usize| {
            let mut t = Table {
                max,
                pressure_idle_timeout: Duration::from_secs(1),
                next_id: 0,
                open: BTreeMap::new(),
            };
            for id in 0..open as u64 {
                t.open.insert(
                    id,
                    Entry {
                        abort: None,
                        idle_since: None,
                        served: false,
                    },
                );
            }
            t
        };
        assert!(!table(512, 384).under_pressure());
        assert!(table(512, 385).under_pressure());
        assert!(!table(4, 3).under_pressure());
        assert!(table(4, 4).under_pressure());
        assert!(table(1, 1).under_pressure());
        assert!(!table(usize::MAX, 3).under_pressure());
    }
}
