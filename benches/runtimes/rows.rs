//! The rows of the tables: what each workload is, what it reports, how big it
//! is (full or `--quick`), and which function runs it on each runtime.

use std::time::Duration;

use crate::contenders::{evloop_side, smol_side, tokio_side};
use crate::error::BenchError;

/// One sample: one value per metric of its row, in the row's order.
pub type Sample = Vec<f64>;

/// What a metric measures, which decides how it prints and how it is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Seconds; less is better.
    Seconds,
    /// Bytes per task; less is better.
    BytesPerTask,
    /// A count of things that must never happen; anything but 0 fails.
    MustBeZero,
}

/// One column of a sample: its label and unit.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    pub label: &'static str,
    pub unit: Unit,
}

/// Rows that report one duration.
const TIME: &[Metric] = &[Metric {
    label: "time",
    unit: Unit::Seconds,
}];

/// The three columns of the table, in the order they take turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    Evloop,
    Tokio,
    Smol,
}

impl Contender {
    pub const ALL: [Contender; 3] = [Contender::Evloop, Contender::Tokio, Contender::Smol];

    pub fn name(self) -> &'static str {
        match self {
            Contender::Evloop => evloop_side::NAME,
            Contender::Tokio => tokio_side::NAME,
            Contender::Smol => smol_side::NAME,
        }
    }

    pub fn from_name(name: &str) -> Option<Contender> {
        Contender::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// The `tcp-10k` row's load: `connections` clients, each sending one
/// message every `period` for `rounds` periods.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub connections: usize,
    pub rounds: u32,
    pub period: Duration,
}

/// How big every workload is. [`Sizes::full`] is what the tables report;
/// [`Sizes::quick`] runs every code path in well under a second per row.
#[derive(Debug, Clone)]
pub struct Sizes {
    pub spawn_tasks: u64,
    pub yield_tasks: u64,
    pub yields_per_task: u64,
    pub ping_pong_pairs: u32,
    pub ping_pong_messages: u32,
    pub chain_length: u32,
    pub many_timers: usize,
    /// Shortest and longest sleep of the `timers-100k` row.
    pub many_timers_span: (Duration, Duration),
    pub light_sleepers: usize,
    pub light_sleeps_each: usize,
    /// Shortest and longest sleep of the `timers-light` row.
    pub light_span: (Duration, Duration),
    pub echo_clients: usize,
    pub echo_trips: usize,
    pub blocking_jobs: u64,
    pub idle_tasks: usize,
    pub idle_tasks_at_scale: usize,
    pub load: Load,
}

impl Sizes {
    /// The sizes the tables are about.
    pub fn full() -> Sizes {
        Sizes {
            spawn_tasks: 100_000,
            yield_tasks: 1_000,
            yields_per_task: 1_000,
            ping_pong_pairs: 1_000,
            ping_pong_messages: 100,
            chain_length: 10_000,
            many_timers: 100_000,
            many_timers_span: (Duration::from_millis(1), Duration::from_millis(100)),
            light_sleepers: 10,
            light_sleeps_each: 100,
            light_span: (Duration::from_millis(1), Duration::from_millis(20)),
            echo_clients: 100,
            echo_trips: 1_000,
            blocking_jobs: 10_000,
            idle_tasks: 100_000,
            idle_tasks_at_scale: 1_000_000,
            load: Load {
                connections: 10_000,
                rounds: 10,
                period: Duration::from_secs(1),
            },
        }
    }

    /// Every workload at a small size, for a smoke run (`--quick`, CI).
    pub fn quick() -> Sizes {
        Sizes {
            spawn_tasks: 1_000,
            yield_tasks: 100,
            yields_per_task: 100,
            ping_pong_pairs: 100,
            ping_pong_messages: 10,
            chain_length: 1_000,
            many_timers: 1_000,
            many_timers_span: (Duration::from_millis(1), Duration::from_millis(10)),
            light_sleepers: 2,
            light_sleeps_each: 5,
            light_span: (Duration::from_millis(1), Duration::from_millis(5)),
            echo_clients: 10,
            echo_trips: 100,
            blocking_jobs: 100,
            idle_tasks: 1_000,
            idle_tasks_at_scale: 10_000,
            load: Load {
                connections: 100,
                rounds: 3,
                period: Duration::from_millis(50),
            },
        }
    }
}

/// Runs one sample of a workload on one runtime.
pub type Runner = fn(&Sizes) -> Result<Sample, BenchError>;

/// One workload: what it is, what it reports and how each runtime runs it.
#[derive(Debug)]
pub struct Workload {
    /// Short name, matched by the command-line filter.
    pub key: &'static str,
    /// One line saying what the workload does, at the sizes in use.
    pub about: String,
    /// What each sample reports, in order.
    pub metrics: &'static [Metric],
    /// Always measured in a fresh process and without a warm-up run: the
    /// memory rows (a warm heap hides what a task costs) and the long
    /// `tcp-10k` row.
    pub fresh_only: bool,
    evloop: Runner,
    tokio: Runner,
    smol: Runner,
}

impl Workload {
    pub fn runner(&self, runtime: Contender) -> Runner {
        match runtime {
            Contender::Evloop => self.evloop,
            Contender::Tokio => self.tokio,
            Contender::Smol => self.smol,
        }
    }
}

/// The metrics of the idle-task rows.
const IDLE: &[Metric] = &[
    Metric {
        label: "per idle task",
        unit: Unit::BytesPerTask,
    },
    Metric {
        label: "spawn time",
        unit: Unit::Seconds,
    },
];

/// `1000000` as `1,000,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Every row of the table, in the order they run, described at `s`'s sizes.
pub fn workloads(s: &Sizes) -> Vec<Workload> {
    let n = |count: usize| thousands(count as u64);
    let ms = |d: Duration| d.as_millis();
    vec![
        Workload {
            key: "spawn",
            about: format!(
                "spawn {} trivial tasks, then await every JoinHandle",
                thousands(s.spawn_tasks)
            ),
            metrics: TIME,
            fresh_only: false,
            evloop: |s| evloop_side::spawn_join(s.spawn_tasks),
            tokio: |s| tokio_side::spawn_join(s.spawn_tasks),
            smol: |s| smol_side::spawn_join(s.spawn_tasks),
        },
        Workload {
            key: "yield",
            about: format!(
                "{} tasks each yield {} times",
                thousands(s.yield_tasks),
                thousands(s.yields_per_task)
            ),
            metrics: TIME,
            fresh_only: false,
            evloop: |s| evloop_side::yield_many(s.yield_tasks, s.yields_per_task),
            tokio: |s| tokio_side::yield_many(s.yield_tasks, s.yields_per_task),
            smol: |s| smol_side::yield_many(s.yield_tasks, s.yields_per_task),
        },
        Workload {
            key: "ping-pong",
            about: format!(
                "{} pairs of tasks pass {} messages each way (futures-channel mpsc)",
                thousands(u64::from(s.ping_pong_pairs)),
                s.ping_pong_messages
            ),
            metrics: TIME,
            fresh_only: false,
            evloop: |s| evloop_side::ping_pong(s.ping_pong_pairs, s.ping_pong_messages),
            tokio: |s| tokio_side::ping_pong(s.ping_pong_pairs, s.ping_pong_messages),
            smol: |s| smol_side::ping_pong(s.ping_pong_pairs, s.ping_pong_messages),
        },
        Workload {
            key: "chain",
            about: format!(
                "{} tasks, each spawning the next; the last signals a oneshot",
                thousands(u64::from(s.chain_length))
            ),
            metrics: TIME,
            fresh_only: false,
            evloop: |s| evloop_side::chain(s.chain_length),
            tokio: |s| tokio_side::chain(s.chain_length),
            smol: |s| smol_side::chain(s.chain_length),
        },
        Workload {
            key: "timers-100k",
            about: format!(
                "{} tasks each sleep once, {}-{} ms spread uniformly (fixed seed)",
                n(s.many_timers),
                ms(s.many_timers_span.0),
                ms(s.many_timers_span.1)
            ),
            metrics: &[
                Metric {
                    label: "total time",
                    unit: Unit::Seconds,
                },
                Metric {
                    label: "early wakes",
                    unit: Unit::MustBeZero,
                },
                Metric {
                    label: "p99 lateness",
                    unit: Unit::Seconds,
                },
            ],
            fresh_only: false,
            evloop: |s| evloop_side::timers(crate::timers::many_timers_plan(s)),
            tokio: |s| tokio_side::timers(crate::timers::many_timers_plan(s)),
            smol: |s| smol_side::timers(crate::timers::many_timers_plan(s)),
        },
        Workload {
            key: "timers-light",
            about: format!(
                "{} tasks each sleep {} times, {}-{} ms, one after another",
                s.light_sleepers,
                s.light_sleeps_each,
                ms(s.light_span.0),
                ms(s.light_span.1)
            ),
            metrics: &[
                Metric {
                    label: "p99 lateness",
                    unit: Unit::Seconds,
                },
                Metric {
                    label: "early wakes",
                    unit: Unit::MustBeZero,
                },
            ],
            fresh_only: false,
            evloop: |s| evloop_side::timers_light(crate::timers::light_timers_plan(s)),
            tokio: |s| tokio_side::timers_light(crate::timers::light_timers_plan(s)),
            smol: |s| smol_side::timers_light(crate::timers::light_timers_plan(s)),
        },
        Workload {
            key: "tcp-echo",
            about: format!(
                "TCP echo over loopback: a server task, {} clients x {} round trips of {} B",
                n(s.echo_clients),
                n(s.echo_trips),
                crate::net::ECHO_BYTES
            ),
            metrics: TIME,
            fresh_only: false,
            evloop: |s| evloop_side::echo(s.echo_clients, s.echo_trips),
            tokio: |s| tokio_side::echo(s.echo_clients, s.echo_trips),
            smol: |s| smol_side::echo(s.echo_clients, s.echo_trips),
        },
        Workload {
            key: "spawn-blocking",
            about: format!(
                "{} trivial jobs on the blocking pool (smol: blocking::unblock), awaited",
                thousands(s.blocking_jobs)
            ),
            metrics: TIME,
            fresh_only: false,
            evloop: |s| evloop_side::blocking(s.blocking_jobs),
            tokio: |s| tokio_side::blocking(s.blocking_jobs),
            smol: |s| smol_side::blocking(s.blocking_jobs),
        },
        Workload {
            key: "idle-memory",
            about: format!(
                "{} tasks parked on a 1 h sleep: RSS growth per task, time to spawn and park them",
                n(s.idle_tasks)
            ),
            metrics: IDLE,
            fresh_only: true,
            evloop: |s| evloop_side::idle_memory(s.idle_tasks),
            tokio: |s| tokio_side::idle_memory(s.idle_tasks),
            smol: |s| smol_side::idle_memory(s.idle_tasks),
        },
        Workload {
            key: "idle-1m",
            about: format!(
                "scale: the same with {} idle tasks",
                n(s.idle_tasks_at_scale)
            ),
            metrics: IDLE,
            fresh_only: true,
            evloop: |s| evloop_side::idle_memory(s.idle_tasks_at_scale),
            tokio: |s| tokio_side::idle_memory(s.idle_tasks_at_scale),
            smol: |s| smol_side::idle_memory(s.idle_tasks_at_scale),
        },
        Workload {
            key: "tcp-10k",
            about: format!(
                "scale: {} connections, each one {} B round trip every {} ms for {} rounds \
                 (load from a separate process)",
                n(s.load.connections),
                crate::net::ECHO_BYTES,
                ms(s.load.period),
                s.load.rounds
            ),
            metrics: &[
                Metric {
                    label: "p50 round trip",
                    unit: Unit::Seconds,
                },
                Metric {
                    label: "p99 round trip",
                    unit: Unit::Seconds,
                },
                Metric {
                    label: "loop CPU",
                    unit: Unit::Seconds,
                },
                Metric {
                    label: "process CPU",
                    unit: Unit::Seconds,
                },
                Metric {
                    label: "missed trips",
                    unit: Unit::MustBeZero,
                },
            ],
            fresh_only: true,
            evloop: |s| evloop_side::many_connections(s.load),
            tokio: |s| tokio_side::many_connections(s.load),
            smol: |s| smol_side::many_connections(s.load),
        },
    ]
}
