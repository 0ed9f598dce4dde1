//! `TaskGroup` (asyncio's `TaskGroup`): the first failure cancels the
//! siblings, every failure is collected, panics count as failures, and
//! dropping the group aborts its tasks. Also the in-task combinators:
//! `join_all` (gather with `return_exceptions=True`), `try_join_all` (gather)
//! and `select`. Time comes from the paused clock.

mod common;

use std::future::{Future, pending};
use std::pin::Pin;
use std::time::Duration;

use common::{Counters, EXPECTED, LIMIT, watchdog};
use evloop::time::{Instant, sleep};
use evloop::{Either, Failure, TaskGroup, join_all, select, try_join_all};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Sleeps `after`, then returns `Ok(value)` or `Err(error)`.
async fn finish(after: Duration, result: Result<u64, String>) -> Result<u64, String> {
    sleep(after).await;
    result
}

#[test]
fn a_group_returns_every_output_in_spawn_order() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let mut group = TaskGroup::new();
            assert!(group.is_empty());
            for (i, after) in [300, 100, 200].into_iter().enumerate() {
                group.spawn(counters.probe(finish(ms(after), Ok(i as u64))));
            }
            assert_eq!(group.len(), 3);
            assert_eq!(group.join().await.unwrap(), [0, 1, 2]);
            assert_eq!(start.elapsed(), ms(300), "they ran concurrently");
            counters.assert("all succeeded", 6, 3, 3);
        });
    });
}

#[test]
fn an_empty_group_joins_at_once() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        rt.block_on(async {
            let group: TaskGroup<(), String> = TaskGroup::new();
            assert_eq!(group.join().await.unwrap(), Vec::<()>::new());
        });
    });
}

#[test]
fn the_first_failure_cancels_the_siblings() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let fast = Counters::new();
        let failing = Counters::new();
        let slow = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let mut group = TaskGroup::new();
            group.spawn(fast.probe(finish(ms(500), Ok(1))));
            group.spawn(failing.probe(finish(ms(1000), Err("bad".into()))));
            group.spawn(slow.probe(finish(ms(10_000), Ok(3))));
            let err = group.join().await.unwrap_err();
            assert_eq!(start.elapsed(), ms(1000), "no waiting for the slow task");
            fast.assert("done before the failure", 2, 1, 1);
            failing.assert("failed", 2, 1, 1);
            slow.assert("cancelled by the failure", 1, 0, 1);

            let failures = err.failures();
            assert_eq!(failures.len(), 1);
            assert!(
                matches!(&failures[0], Failure::Error { index: 1, error } if error == "bad"),
                "{failures:?}"
            );
            assert_eq!(
                err.to_string(),
                "1 of 3 tasks in the group failed; task #1: bad"
            );
        });
    });
}

#[test]
fn two_failures_at_the_same_instant_are_both_reported() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let slow = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let mut group = TaskGroup::new();
            group.spawn(finish(ms(1000), Err("first".into())));
            group.spawn(slow.probe(finish(ms(5000), Ok(2))));
            group.spawn(finish(ms(1000), Err("second".into())));
            let err = group.join().await.unwrap_err();
            assert_eq!(start.elapsed(), ms(1000));
            slow.assert("cancelled", 1, 0, 1);
            let indices: Vec<usize> = err.failures().iter().map(Failure::index).collect();
            assert_eq!(indices, [0, 2]);
            assert_eq!(
                err.to_string(),
                "2 of 3 tasks in the group failed; task #0: first; task #2: second"
            );
            let errors: Vec<String> = err
                .into_failures()
                .into_iter()
                .map(|f| match f {
                    Failure::Error { error, .. } => error,
                    other => panic!("expected returned errors, got {other:?}"),
                })
                .collect();
            assert_eq!(errors, ["first", "second"]);
        });
    });
}

/// `Failure` has exactly the two outcomes a caller can see: a match with an
/// arm for a returned error and one for a panic is exhaustive. (The group's
/// own record of the siblings it cancelled used to be a third, hidden
/// variant that every caller's `match` had to name.) The cancelled siblings
/// are in no failure.
#[test]
fn a_failure_is_an_error_or_a_panic_and_nothing_else() {
    fn describe(failure: &Failure<String>) -> String {
        match failure {
            Failure::Error { index, error } => format!("#{index} returned {error}"),
            Failure::Panic { index, error } => {
                format!("#{index} panicked: {}", error.is_panic())
            }
        }
    }
    watchdog(LIMIT, || {
        let rt = common::paused();
        let siblings = Counters::new();
        rt.block_on(async {
            let mut group: TaskGroup<u64, String> = TaskGroup::new();
            group.spawn(siblings.probe(finish(ms(5000), Ok(0))));
            group.spawn(finish(ms(100), Err("bad".into())));
            group.spawn(siblings.probe(finish(ms(9000), Ok(2))));
            group.spawn(async {
                sleep(ms(100)).await;
                panic!("broken {EXPECTED}")
            });
            let err = group.join().await.unwrap_err();
            siblings.assert("both siblings cancelled", 2, 0, 2);
            let described: Vec<String> = err.failures().iter().map(describe).collect();
            assert_eq!(described, ["#1 returned bad", "#3 panicked: true"]);
        });
    });
}

#[test]
fn a_panic_counts_as_a_failure_and_names_the_task() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let sibling = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let mut group: TaskGroup<u64, String> = TaskGroup::new();
            group.spawn(sibling.probe(finish(ms(5000), Ok(1))));
            group.spawn_named("resize image 4", async {
                sleep(ms(200)).await;
                panic!("corrupt header {EXPECTED}")
            });
            let err = group.join().await.unwrap_err();
            assert_eq!(start.elapsed(), ms(200));
            sibling.assert("cancelled by the panic", 1, 0, 1);
            match err.failures() {
                [Failure::Panic { index: 1, error }] => {
                    assert!(error.is_panic());
                    assert_eq!(error.name(), Some("resize image 4"));
                }
                other => panic!("expected one panic, got {other:?}"),
            }
            let text = err.to_string();
            assert!(
                text.starts_with(
                    "1 of 2 tasks in the group failed; task #1: task 'resize image 4'"
                ) && text.contains("panicked: corrupt header"),
                "{text}"
            );
        });
    });
}

#[test]
fn dropping_the_group_aborts_its_tasks() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        rt.block_on(async {
            let mut group: TaskGroup<(), String> = TaskGroup::new();
            for _ in 0..3 {
                group.spawn(counters.probe(async {
                    pending::<()>().await;
                    Ok(())
                }));
            }
            common::yield_until(|| counters.polls() == 3).await;
            counters.assert("all pending", 3, 0, 0);
            drop(group);
            evloop::yield_now().await;
            counters.assert("the group is gone", 3, 0, 3);
        });
    });
}

#[test]
fn dropping_a_join_midway_aborts_the_tasks() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let mut group: TaskGroup<u64, String> = TaskGroup::new();
            for _ in 0..3 {
                group.spawn(counters.probe(finish(ms(10_000), Ok(0))));
            }
            let joined = evloop::time::timeout(ms(100), group.join()).await;
            assert!(joined.is_err());
            evloop::yield_now().await;
            counters.assert("the join was dropped", 3, 0, 3);
            assert_eq!(start.elapsed(), ms(100));
        });
    });
}

#[test]
fn join_all_waits_for_everything_and_keeps_the_order() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let results = join_all([
                counters.probe(finish(ms(300), Ok(1))),
                counters.probe(finish(ms(100), Err("two".into()))),
                counters.probe(finish(ms(200), Ok(3))),
            ])
            .await;
            assert_eq!(results, [Ok(1), Err("two".into()), Ok(3)]);
            assert_eq!(start.elapsed(), ms(300), "an error does not stop the rest");
            // join_all shares one waker among its futures, so a wake re-polls
            // every unfinished one: at least two polls each, one wake each.
            assert!(counters.polls() >= 6, "polls = {}", counters.polls());
            assert_eq!((counters.wakes(), counters.drops()), (3, 3));
            assert!(
                join_all(Vec::<std::future::Ready<()>>::new())
                    .await
                    .is_empty()
            );
        });
    });
}

type Boxed = Pin<Box<dyn Future<Output = Result<u64, String>>>>;

#[test]
fn try_join_all_drops_the_rest_at_the_first_error() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let all: Vec<Boxed> = vec![
                Box::pin(counters.probe(finish(ms(100), Ok(1)))),
                Box::pin(counters.probe(finish(ms(300), Ok(2)))),
                Box::pin(counters.probe(finish(ms(200), Err("three".into())))),
            ];
            assert_eq!(try_join_all(all).await, Err("three".to_string()));
            assert_eq!(start.elapsed(), ms(200));
            // The first finished, the third failed, the second was dropped unfinished.
            assert!(counters.polls() >= 5, "polls = {}", counters.polls());
            assert_eq!((counters.wakes(), counters.drops()), (2, 3));

            let ok: Vec<Boxed> = vec![
                Box::pin(finish(ms(20), Ok(1))),
                Box::pin(finish(ms(10), Ok(2))),
            ];
            assert_eq!(try_join_all(ok).await, Ok(vec![1, 2]));
            assert_eq!(start.elapsed(), ms(220));
        });
    });
}

#[test]
fn select_returns_the_first_and_drops_the_other() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let loser = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let won = select(loser.probe(sleep(ms(200))), async {
                sleep(ms(100)).await;
                "b"
            })
            .await;
            assert_eq!(won, Either::Right("b"));
            assert_eq!(start.elapsed(), ms(100));
            loser.assert("the loser was dropped", 2, 0, 1);

            // Both ready at the same poll: the first one wins.
            assert_eq!(select(async { 1 }, async { 2 }).await, Either::Left(1));
            let won = select(sleep(ms(50)), sleep(ms(50))).await;
            assert_eq!(won, Either::Left(()));
            assert_eq!(start.elapsed(), ms(150));
        });
    });
}
