//! What a live collection shows on stderr while it runs. On a terminal, a
//! bar: the listing under way per service and region with how many of the
//! listings are done, then the per-resource detail reads against their
//! total (each listing adds the resources it found, so the total is final
//! once the listings are). Off a terminal, one plain line every interval,
//! so a CI log shows the audit is alive without a line per call.

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How collection reports its progress on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressDisplay {
    #[default]
    Off,
    /// A live bar (stderr is a terminal).
    Bar,
    /// One line every `every` (stderr is a log).
    Lines { every: Duration },
}

/// The progress of one collection: counted by the collectors, shown by
/// the bar or the timer.
pub(crate) struct Progress {
    counts: Arc<Counts>,
    bar: ProgressBar,
    timer: Option<tokio::task::JoinHandle<()>>,
}

#[derive(Default)]
struct Counts {
    calls: AtomicU64,
    failed: AtomicUsize,
    listings: AtomicUsize,
    listed: AtomicUsize,
    details: AtomicUsize,
    detailed: AtomicUsize,
    /// The listings under way, oldest first ("rds in eu-west-1").
    listing_now: Mutex<Vec<String>>,
}

/// The counts at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub calls: u64,
    pub failed: usize,
    pub listings: usize,
    pub listed: usize,
    pub details: usize,
    pub detailed: usize,
    pub listing_now: Option<String>,
}

impl Progress {
    /// Starts the display; the timer of [`ProgressDisplay::Lines`] needs a
    /// Tokio runtime.
    pub fn start(display: ProgressDisplay) -> Progress {
        let counts = Arc::new(Counts::default());
        let bar = match display {
            ProgressDisplay::Bar => {
                let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} {elapsed} {prefix} [{bar:30}] {pos}/{len} details, {msg}",
                    )
                    .expect("valid progress template")
                    .progress_chars("=> "),
                );
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            }
            ProgressDisplay::Off | ProgressDisplay::Lines { .. } => ProgressBar::hidden(),
        };
        let timer = match display {
            ProgressDisplay::Lines { every } => {
                let counts = Arc::clone(&counts);
                Some(tokio::spawn(async move {
                    let mut ticks = tokio::time::interval(every);
                    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    // The first tick is immediate: nothing to say yet.
                    ticks.tick().await;
                    loop {
                        ticks.tick().await;
                        // A closed stderr is no reason to stop collecting.
                        let line = plain_line(&counts.snapshot());
                        let _ = writeln!(std::io::stderr(), "{line}");
                    }
                }))
            }
            ProgressDisplay::Off | ProgressDisplay::Bar => None,
        };
        let progress = Progress { counts, bar, timer };
        progress.redraw();
        progress
    }

    /// One call (or one page of a listing) made.
    pub fn call(&self) {
        self.counts.calls.fetch_add(1, Ordering::Relaxed);
        self.redraw();
    }

    /// `failed` calls have failed so far.
    pub fn failed(&self) {
        self.counts.failed.fetch_add(1, Ordering::Relaxed);
        self.redraw();
    }

    /// A listing starts; it is done when the returned guard is dropped.
    pub fn listing(&self, what: String) -> Listing<'_> {
        self.counts.listings.fetch_add(1, Ordering::Relaxed);
        self.counts.lock_listing_now().push(what.clone());
        self.redraw();
        Listing {
            progress: self,
            what,
        }
    }

    /// `n` listed resources will have their details read.
    pub fn expect_details(&self, n: usize) {
        self.counts.details.fetch_add(n, Ordering::Relaxed);
        self.bar.inc_length(n as u64);
    }

    /// The details of one listed resource are read.
    pub fn detail_done(&self) {
        self.counts.detailed.fetch_add(1, Ordering::Relaxed);
        self.bar.inc(1);
    }

    pub fn finish(&self) {
        if let Some(timer) = &self.timer {
            timer.abort();
        }
        self.bar.finish_and_clear();
    }

    fn redraw(&self) {
        if self.bar.is_hidden() {
            return;
        }
        let now = self.counts.snapshot();
        self.bar.set_prefix(bar_prefix(&now));
        self.bar.set_message(calls_done(&now));
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A listing under way (see [`Progress::listing`]).
pub(crate) struct Listing<'p> {
    progress: &'p Progress,
    what: String,
}

impl Drop for Listing<'_> {
    fn drop(&mut self) {
        let counts = &self.progress.counts;
        counts.listed.fetch_add(1, Ordering::Relaxed);
        let mut now = counts.lock_listing_now();
        if let Some(at) = now.iter().position(|w| *w == self.what) {
            now.remove(at);
        }
        drop(now);
        self.progress.redraw();
    }
}

impl Counts {
    fn lock_listing_now(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.listing_now.lock().expect("no panics while locked")
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            calls: self.calls.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            listings: self.listings.load(Ordering::Relaxed),
            listed: self.listed.load(Ordering::Relaxed),
            details: self.details.load(Ordering::Relaxed),
            detailed: self.detailed.load(Ordering::Relaxed),
            listing_now: self.lock_listing_now().first().cloned(),
        }
    }
}

/// The bar's left part: the listing under way, else that all are done.
fn bar_prefix(now: &Snapshot) -> String {
    match &now.listing_now {
        Some(what) => format!("listing {what} ({}/{})", now.listed, now.listings),
        None => format!("listed {}/{}", now.listed, now.listings),
    }
}

fn calls_done(now: &Snapshot) -> String {
    let failed = match now.failed {
        0 => String::new(),
        n => format!(" ({n} failed)"),
    };
    format!("{} calls done{failed}", now.calls)
}

/// The line printed every interval off a terminal.
pub(crate) fn plain_line(now: &Snapshot) -> String {
    let listing = match &now.listing_now {
        Some(what) => format!(" (listing {what})"),
        None => String::new(),
    };
    format!(
        "backstop: collecting… {}, {}/{} listings done{listing}, {}/{} details",
        calls_done(now),
        now.listed,
        now.listings,
        now.detailed,
        now.details
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_carry_every_count() {
        let mut now = Snapshot {
            calls: 812,
            failed: 0,
            listings: 12,
            listed: 9,
            details: 480,
            detailed: 120,
            listing_now: Some("rds in eu-west-1".into()),
        };
        assert_eq!(
            plain_line(&now),
            "backstop: collecting… 812 calls done, 9/12 listings done (listing rds in \
             eu-west-1), 120/480 details"
        );
        now.listing_now = None;
        now.failed = 3;
        assert_eq!(
            plain_line(&now),
            "backstop: collecting… 812 calls done (3 failed), 9/12 listings done, 120/480 details"
        );
        assert_eq!(bar_prefix(&now), "listed 9/12");
    }

    #[test]
    fn listings_and_details_are_counted() {
        let progress = Progress::start(ProgressDisplay::Off);
        let rds = progress.listing("rds in eu-west-1".into());
        let ecr = progress.listing("ecr in eu-west-1".into());
        progress.call();
        progress.call();
        drop(rds);
        progress.expect_details(2);
        progress.detail_done();
        let now = progress.counts.snapshot();
        assert_eq!(
            (
                now.calls,
                now.listings,
                now.listed,
                now.details,
                now.detailed
            ),
            (2, 2, 1, 2, 1)
        );
        assert_eq!(now.listing_now.as_deref(), Some("ecr in eu-west-1"));
        assert_eq!(bar_prefix(&now), "listing ecr in eu-west-1 (1/2)");
        drop(ecr);
        assert_eq!(progress.counts.snapshot().listing_now, None);
    }
}
