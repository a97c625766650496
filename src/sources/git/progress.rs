//! A progress line on standard error while a history is scanned.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A progress line on standard error: blobs done and MB/s.
pub(super) struct Progress {
    state: Option<Arc<ProgressState>>,
    thread: Option<std::thread::JoinHandle<()>>,
}
struct ProgressState {
    done: AtomicU64,
    bytes: AtomicU64,
    total: u64,
    stop: AtomicBool,
}
impl Progress {
    /// `total` is the number of blobs when known up front.
    pub(super) fn start(enabled: bool, total: Option<usize>) -> Progress {
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress {
                state: None,
                thread: None,
            };
        }
        let state = Arc::new(ProgressState {
            done: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            total: total.map_or(0, |t| t as u64),
            stop: AtomicBool::new(false),
        });
        let s = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            while !s.stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let mb = s.bytes.load(Ordering::Relaxed) as f64 / 1e6;
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                let done = s.done.load(Ordering::Relaxed);
                let of = if s.total > 0 {
                    format!("/{}", s.total)
                } else {
                    String::new()
                };
                eprint!(
                    "\r\x1b[2Ktill-scan: {done}{of} blobs, {mb:.0} MB, {:.0} MB/s",
                    mb / secs
                );
            }
            eprint!("\r\x1b[2K");
        });
        Progress {
            state: Some(state),
            thread: Some(thread),
        }
    }

    pub(super) fn add(&self, bytes: u64) {
        if let Some(s) = &self.state {
            s.done.fetch_add(1, Ordering::Relaxed);
            s.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    pub(super) fn finish(mut self) {
        if let Some(s) = &self.state {
            s.stop.store(true, Ordering::Relaxed);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
