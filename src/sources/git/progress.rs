//! A progress line on standard error while a history is scanned: blobs
//! done, MB and MB/s, drawn by [`crate::progress::Ticker`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::progress::{rate, Ticker};

#[derive(Default)]
struct Counts {
    done: AtomicU64,
    bytes: AtomicU64,
}

/// A progress line on standard error: blobs done and MB/s.
pub(super) struct Progress {
    counts: Arc<Counts>,
    ticker: Ticker,
}

impl Progress {
    /// `total` is the number of blobs when known up front.
    pub(super) fn start(enabled: bool, total: Option<usize>) -> Progress {
        let counts = Arc::new(Counts::default());
        let shown = Arc::clone(&counts);
        let of = total.map_or(String::new(), |t| format!(" of {t}"));
        let ticker = Ticker::start(enabled, move |elapsed| {
            let line = rate(
                shown.done.load(Ordering::Relaxed),
                "blobs",
                shown.bytes.load(Ordering::Relaxed),
                elapsed,
            );
            format!("{line}{of}")
        });
        Progress { counts, ticker }
    }

    pub(super) fn add(&self, bytes: u64) {
        self.counts.done.fetch_add(1, Ordering::Relaxed);
        self.counts.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(super) fn finish(self) {
        self.ticker.finish();
    }
}
