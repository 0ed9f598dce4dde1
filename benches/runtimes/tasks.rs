//! The task rows: spawning, yielding, message passing, chains of spawns, and
//! jobs handed to the blocking pool.
//!
//! Each workload is written once, in [`task_workloads!`], and compiled
//! against every runtime (see `contenders.rs`).

/// The task workloads, written once and compiled against each runtime.
///
/// The body names `block_on`, `spawn`, `join`, `detach`, `yield_now` and
/// `unblock` without a path, so each expansion picks up the functions of the
/// module it is expanded in (`evloop_side`, `tokio_side`, `smol_side`), and the compiler
/// checks each runtime's own bounds (tokio's `spawn` wants `Send`). Every
/// workload builds a fresh runtime, starts its clock inside the root future,
/// checks that the work was really done, and returns its sample.
macro_rules! task_workloads {
    () => {
        /// Spawns `n` trivial tasks, then awaits every handle in order.
        pub fn spawn_join(n: u64) -> Result<Sample, BenchError> {
            block_on(async move {
                let start = Instant::now();
                let mut handles = Vec::with_capacity(n as usize);
                for i in 0..n {
                    handles.push(spawn(async move { black_box(i) }));
                }
                let mut sum = 0;
                for handle in handles {
                    sum += join(handle).await?;
                }
                let took = start.elapsed();
                expect_count(NAME, "sum of task outputs", sum, n * (n - 1) / 2)?;
                Ok(vec![took.as_secs_f64()])
            })
        }

        /// Runs `tasks` tasks that each yield `yields` times, and joins them.
        pub fn yield_many(tasks: u64, yields: u64) -> Result<Sample, BenchError> {
            block_on(async move {
                let start = Instant::now();
                let mut handles = Vec::with_capacity(tasks as usize);
                for _ in 0..tasks {
                    handles.push(spawn(async move {
                        for _ in 0..yields {
                            yield_now().await;
                        }
                        yields
                    }));
                }
                let mut total = 0;
                for handle in handles {
                    total += join(handle).await?;
                }
                let took = start.elapsed();
                expect_count(NAME, "yields", total, tasks * yields)?;
                Ok(vec![took.as_secs_f64()])
            })
        }

        /// Runs `pairs` pairs of tasks; in each pair, one task sends
        /// `messages` numbers and awaits each echo before the next.
        pub fn ping_pong(pairs: u32, messages: u32) -> Result<Sample, BenchError> {
            block_on(async move {
                let start = Instant::now();
                let mut handles = Vec::with_capacity(2 * pairs as usize);
                for _ in 0..pairs {
                    let (to_echo, mut from_pinger) = mpsc::unbounded::<u32>();
                    let (to_pinger, mut from_echo) = mpsc::unbounded::<u32>();
                    handles.push(spawn(async move {
                        let mut echoed = 0u64;
                        for i in 0..messages {
                            if to_echo.unbounded_send(i).is_err() {
                                break; // the echo task is gone; the count shows it
                            }
                            match from_echo.next().await {
                                Some(back) if back == i => echoed += 1,
                                _ => break,
                            }
                        }
                        echoed
                    }));
                    handles.push(spawn(async move {
                        let mut echoed = 0u64;
                        // Ends when the pinger drops its sender.
                        while let Some(message) = from_pinger.next().await {
                            if to_pinger.unbounded_send(message).is_err() {
                                break;
                            }
                            echoed += 1;
                        }
                        echoed
                    }));
                }
                let mut total = 0;
                for handle in handles {
                    total += join(handle).await?;
                }
                let took = start.elapsed();
                let want = 2 * u64::from(pairs) * u64::from(messages);
                expect_count(NAME, "messages", total, want)?;
                Ok(vec![took.as_secs_f64()])
            })
        }

        /// One link of the chain: spawns the next link, or, as the last one,
        /// reports how many links ran.
        fn link(
            left: u32,
            ran: u32,
            done: oneshot::Sender<u32>,
        ) -> impl Future<Output = ()> + Send + 'static {
            async move {
                if left == 0 {
                    // The receiver is awaited by the measuring task; if it is
                    // gone, the count it would check is lost with it.
                    let _ = done.send(ran + 1);
                } else {
                    detach(spawn(link(left - 1, ran + 1, done)));
                }
            }
        }

        /// Spawns a task that spawns the next, `length` tasks in all; the
        /// last one signals over a oneshot channel.
        pub fn chain(length: u32) -> Result<Sample, BenchError> {
            block_on(async move {
                let start = Instant::now();
                let (done, finished) = oneshot::channel();
                detach(spawn(link(length - 1, 0, done)));
                let ran = finished.await.map_err(|_| BenchError::Wrong {
                    runtime: NAME,
                    detail: "the chain broke before its last link".to_string(),
                })?;
                let took = start.elapsed();
                expect_count(NAME, "links", u64::from(ran), u64::from(length))?;
                Ok(vec![took.as_secs_f64()])
            })
        }

        /// Submits `n` trivial jobs to the blocking pool and awaits them all.
        pub fn blocking(n: u64) -> Result<Sample, BenchError> {
            block_on(async move {
                let start = Instant::now();
                let mut handles = Vec::with_capacity(n as usize);
                for i in 0..n {
                    handles.push(unblock(move || black_box(i)));
                }
                let mut sum = 0;
                for handle in handles {
                    sum += handle.await?;
                }
                let took = start.elapsed();
                expect_count(NAME, "sum of job outputs", sum, n * (n - 1) / 2)?;
                Ok(vec![took.as_secs_f64()])
            })
        }
    };
}
