//! The horizontal scale of a timeline: time to pixels, and the round
//! 1-2-5 ticks of the axis with their labels (`0 s`, `500 ms`, `1.5 s`).

use std::time::Duration;

use crate::trace::stats::fixed;

/// The horizontal scale: time to pixels.
pub(super) struct Axis {
    pub(super) x0: f64,
    pub(super) x1: f64,
    pub(super) span_ns: u128,
    pub(super) min_px: f64,
}

impl Axis {
    pub(super) fn x(&self, t: Duration) -> f64 {
        self.x0 + (t.as_nanos() as f64 / self.span_ns as f64) * (self.x1 - self.x0)
    }
}

/// The smallest 1, 2 or 5 × 10ⁿ nanoseconds that cuts `span` into at most
/// `max_ticks` steps.
pub(super) fn nice_step(span_ns: u128, max_ticks: u128) -> u128 {
    let raw = span_ns.div_ceil(max_ticks.max(1)).max(1);
    let mut magnitude = 1u128;
    loop {
        for m in [1, 2, 5] {
            if m * magnitude >= raw {
                return m * magnitude;
            }
        }
        magnitude *= 10;
    }
}

/// A tick's label: the largest unit that fits the value, with as many
/// decimals as the step needs (`0 s`, `500 ms`, `1.5 s`).
pub(super) fn tick_label(value_ns: u128, step_ns: u128) -> String {
    if value_ns == 0 {
        return "0 s".to_string();
    }
    let (unit, name) = [
        (1_000_000_000u128, "s"),
        (1_000_000, "ms"),
        (1_000, "µs"),
        (1, "ns"),
    ]
    .into_iter()
    .find(|(unit, _)| value_ns >= *unit)
    .unwrap_or((1, "ns"));
    let decimals = (0..10u32)
        .find(|d| (step_ns * 10u128.pow(*d)).is_multiple_of(unit))
        .unwrap_or(9);
    let scaled = value_ns * 10u128.pow(decimals) / unit;
    format!("{} {name}", fixed(scaled, decimals))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_one_two_five() {
        assert_eq!(nice_step(2_000_000_000, 10), 200_000_000);
        assert_eq!(nice_step(3_000_000_000, 10), 500_000_000);
        assert_eq!(nice_step(10_000, 10), 1_000);
        assert_eq!(nice_step(1, 10), 1);
    }

    #[test]
    fn tick_labels() {
        let ms = 1_000_000u128;
        assert_eq!(tick_label(0, 500 * ms), "0 s");
        assert_eq!(tick_label(500 * ms, 500 * ms), "500 ms");
        assert_eq!(tick_label(1500 * ms, 500 * ms), "1.5 s");
        assert_eq!(tick_label(1000 * ms, 500 * ms), "1 s");
        assert_eq!(tick_label(1200 * ms, 200 * ms), "1.2 s");
        assert_eq!(tick_label(20_000, 2_000), "20 µs");
        assert_eq!(tick_label(1_000_050_000, 50_000), "1.00005 s");
    }

    #[test]
    fn x_maps_the_span_onto_the_plot() {
        let axis = Axis {
            x0: 100.0,
            x1: 300.0,
            span_ns: 1_000,
            min_px: 1.0,
        };
        assert_eq!(axis.x(Duration::ZERO), 100.0);
        assert_eq!(axis.x(Duration::from_nanos(500)), 200.0);
    }
}
