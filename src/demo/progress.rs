//! Progress bars for the demo (indicatif), hidden when stderr is not a
//! terminal or with `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use evloop::pipeline::{ItemError, Progress};

/// One bar per variant: images downloaded and processed out of the total.
pub struct Bars {
    downloads: ProgressBar,
    processing: ProgressBar,
}

impl Bars {
    /// Bars for `total` images of `variant` (drawn only if `visible`).
    pub fn new(variant: &str, total: usize, visible: bool) -> Bars {
        let style = ProgressStyle::with_template("{prefix:>22} [{bar:30}] {pos}/{len}")
            .expect("the template is valid")
            .progress_chars("=> ");
        let make = |what: &str| {
            let bar = ProgressBar::new(total as u64);
            bar.set_draw_target(if visible {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            });
            bar.set_style(style.clone());
            bar.set_prefix(format!("{variant} {what}"));
            bar
        };
        Bars {
            downloads: make("downloaded"),
            processing: make("processed"),
        }
    }

    /// Removes the bars from the screen.
    pub fn finish(&self) {
        self.downloads.finish_and_clear();
        self.processing.finish_and_clear();
    }
}

impl Progress for Bars {
    fn downloaded(&self, _index: usize) {
        self.downloads.inc(1);
    }
    fn processed(&self, _index: usize) {
        self.processing.inc(1);
    }
    fn failed(&self, error: &ItemError) {
        self.downloads.println(format!("failed: {error}"));
    }
}
