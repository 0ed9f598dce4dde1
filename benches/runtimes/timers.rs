//! The timer rows: many sleeps at once (`timers-100k`: the cost of arming
//! and firing timers, and how late they fire), and a few sleeps one after
//! another (`timers-light`: lateness on a quiet loop).

use std::time::Duration;

use crate::rows::Sizes;

/// Seed of the generator that spreads the timers, so every run sleeps alike.
const SEED: u64 = 0x5EED_0E11_1009;

/// The timer workloads, written once and compiled against each runtime (see
/// [`task_workloads!`] for how the names resolve).
macro_rules! timer_workloads {
    () => {
        /// Spawns one task per entry of `plan`, each sleeping that long once;
        /// reports the total time, the early wakes and the p99 lateness.
        pub fn timers(plan: Vec<Duration>) -> Result<Sample, BenchError> {
            block_on(async move {
                let start = Instant::now();
                let mut handles = Vec::with_capacity(plan.len());
                for &nap in &plan {
                    handles.push(spawn(async move {
                        let asleep = Instant::now();
                        sleep(nap).await;
                        (nap, asleep.elapsed())
                    }));
                }
                let mut naps = Vec::with_capacity(plan.len());
                for handle in handles {
                    naps.push(join(handle).await?);
                }
                let took = start.elapsed();
                let report = TimerReport::new(&naps);
                Ok(vec![
                    took.as_secs_f64(),
                    report.early as f64,
                    report.p99_late.as_secs_f64(),
                ])
            })
        }

        /// Runs one task per entry of `plans`, each sleeping its naps one
        /// after another; reports the p99 lateness and the early wakes.
        pub fn timers_light(plans: Vec<Vec<Duration>>) -> Result<Sample, BenchError> {
            block_on(async move {
                let mut handles = Vec::with_capacity(plans.len());
                for plan in plans {
                    handles.push(spawn(async move {
                        let mut naps = Vec::with_capacity(plan.len());
                        for nap in plan {
                            let asleep = Instant::now();
                            sleep(nap).await;
                            naps.push((nap, asleep.elapsed()));
                        }
                        naps
                    }));
                }
                let mut naps = Vec::new();
                for handle in handles {
                    naps.extend(join(handle).await?);
                }
                let report = TimerReport::new(&naps);
                Ok(vec![report.p99_late.as_secs_f64(), report.early as f64])
            })
        }
    };
}

/// A small deterministic generator (SplitMix64), so every run and every
/// runtime sleeps the same durations in the same order.
#[derive(Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A duration drawn uniformly from `low..=high`, to the microsecond.
    fn duration(&mut self, (low, high): (Duration, Duration)) -> Duration {
        let low_us = low.as_micros() as u64;
        let span_us = (high.as_micros() as u64).saturating_sub(low_us) + 1;
        Duration::from_micros(low_us + self.next_u64() % span_us)
    }
}

/// The sleeps of the `timers-100k` row.
pub fn many_timers_plan(sizes: &Sizes) -> Vec<Duration> {
    let mut rng = SplitMix64(SEED);
    (0..sizes.many_timers)
        .map(|_| rng.duration(sizes.many_timers_span))
        .collect()
}

/// The sleeps of the `timers-light` row, one list per task.
pub fn light_timers_plan(sizes: &Sizes) -> Vec<Vec<Duration>> {
    let mut rng = SplitMix64(SEED);
    (0..sizes.light_sleepers)
        .map(|_| {
            (0..sizes.light_sleeps_each)
                .map(|_| rng.duration(sizes.light_span))
                .collect()
        })
        .collect()
}

/// What a set of sleeps says about a runtime's timers.
#[derive(Debug)]
pub struct TimerReport {
    /// Sleeps that ended before their duration had passed.
    pub early: usize,
    /// The 99th percentile of (time asleep - duration asked for).
    pub p99_late: Duration,
}

impl TimerReport {
    /// Judges `(asked, slept)` pairs. `slept` was measured from just before
    /// the sleep was created, so it can only overstate the time asleep: a
    /// sleep counted as early really did wake too soon.
    pub fn new(naps: &[(Duration, Duration)]) -> TimerReport {
        let early = naps.iter().filter(|(asked, slept)| slept < asked).count();
        let mut late: Vec<Duration> = naps
            .iter()
            .map(|(asked, slept)| slept.saturating_sub(*asked))
            .collect();
        late.sort_unstable();
        let p99_late = match late.len() {
            0 => Duration::ZERO,
            len => late[(len * 99).div_ceil(100) - 1],
        };
        TimerReport { early, p99_late }
    }
}
