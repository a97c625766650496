//! A progress line on standard error for long scans: shown only on a
//! terminal, only once a scan has run for a second, redrawn four times a
//! second, and erased when the scan ends (which never waits for a tick).

use std::io::IsTerminal;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a scan runs before the line appears.
const DELAY: Duration = Duration::from_secs(1);
const INTERVAL: Duration = Duration::from_millis(250);

/// The thread that draws the line; [`Ticker::finish`] (or dropping it)
/// stops it at once.
pub struct Ticker {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Draws `line(elapsed)` after [`DELAY`], when `enabled` and standard
    /// error is a terminal.
    pub fn start(enabled: bool, line: impl Fn(Duration) -> String + Send + 'static) -> Ticker {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        if !enabled || !std::io::stderr().is_terminal() {
            return Ticker { stop, thread: None };
        }
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || {
                let started = Instant::now();
                let (lock, wake) = &*flag;
                let mut stopped = lock.lock().unwrap_or_else(|e| e.into_inner());
                let mut wait = DELAY;
                let mut drawn = false;
                loop {
                    let (guard, _) = wake
                        .wait_timeout_while(stopped, wait, |s| !*s)
                        .unwrap_or_else(|e| e.into_inner());
                    stopped = guard;
                    if *stopped {
                        break;
                    }
                    eprint!("\r\x1b[2Ktill-scan: {}", line(started.elapsed()));
                    drawn = true;
                    wait = INTERVAL;
                }
                if drawn {
                    eprint!("\r\x1b[2K");
                }
            })
            .ok();
        Ticker { stop, thread }
    }

    /// Stops the line and erases it.
    pub fn finish(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        let (lock, wake) = &*self.stop;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// `12,345 files, 1.2 GB, 310 MB/s`.
pub fn rate(count: u64, what: &str, bytes: u64, elapsed: Duration) -> String {
    let mb = bytes as f64 / 1e6;
    let secs = elapsed.as_secs_f64().max(1e-3);
    let size = if mb >= 1000.0 {
        format!("{:.1} GB", mb / 1000.0)
    } else {
        format!("{mb:.0} MB")
    };
    format!("{} {what}, {size}, {:.0} MB/s", thousands(count), mb / secs)
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_well() {
        assert_eq!(
            rate(12_345, "files", 1_234_000_000, Duration::from_secs(4)),
            "12,345 files, 1.2 GB, 308 MB/s"
        );
        assert_eq!(
            rate(7, "blobs", 5_000_000, Duration::from_secs(1)),
            "7 blobs, 5 MB, 5 MB/s"
        );
    }

    #[test]
    fn finishing_does_not_wait_for_a_tick() {
        // Off a terminal nothing is drawn, and finish returns at once.
        let started = Instant::now();
        let ticker = Ticker::start(true, |_| String::from("x"));
        ticker.finish();
        assert!(started.elapsed() < Duration::from_millis(500));
    }
}
