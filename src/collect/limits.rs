//! How many AWS calls are in flight: one limit over the whole run, and one
//! per (account, region, service).
//!
//! AWS throttles each account and region separately, per service API, so
//! the narrow limit keeps one audited place from taking every slot; the
//! global one bounds the run's sockets and memory. A call takes its lane's
//! slot first and a global slot second, and both before the SDK starts the
//! call: waiting for a slot never counts against the call's own timeout,
//! and a call waiting for its (busy) lane holds no global slot that
//! another account could use. While the SDK backs off a throttled call it
//! keeps its slots, so a throttled lane holds at most its own few.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};

/// The run's call limits, shared by every account's collection.
pub(crate) struct Limits {
    global: Semaphore,
    per_lane: usize,
    lanes: Mutex<HashMap<Lane, Arc<Semaphore>>>,
}

/// Where AWS counts calls against its rate limits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Lane {
    account: String,
    region: String,
    service: &'static str,
}

/// The right to make one call (or one page of a listing).
pub(crate) struct Slot<'a> {
    _lane: OwnedSemaphorePermit,
    _global: SemaphorePermit<'a>,
}

impl Limits {
    /// `global` calls in flight in the run, `per_lane` per (account,
    /// region, service); each at least 1.
    pub fn new(global: usize, per_lane: usize) -> Limits {
        Limits {
            global: Semaphore::new(global.max(1)),
            per_lane: per_lane.max(1),
            lanes: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a call of `service` in `account` and `region` may start.
    pub async fn slot(&self, account: &str, region: &str, service: &'static str) -> Slot<'_> {
        let lane = {
            let mut lanes = self.lanes.lock().expect("no panics while locked");
            let key = Lane {
                account: account.to_string(),
                region: region.to_string(),
                service,
            };
            Arc::clone(
                lanes
                    .entry(key)
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_lane))),
            )
        };
        let lane = lane.acquire_owned().await.expect("semaphore never closed");
        let global = self.global.acquire().await.expect("semaphore never closed");
        Slot {
            _lane: lane,
            _global: global,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::Limits;

    /// Counts calls in flight and remembers the most seen at once.
    #[derive(Default)]
    struct Gauge {
        now: AtomicUsize,
        most: AtomicUsize,
    }

    impl Gauge {
        fn enter(&self) {
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
        }
        fn leave(&self) {
            self.now.fetch_sub(1, Ordering::SeqCst);
        }
    }

    async fn call(limits: &Limits, account: &str, gauges: [&Gauge; 2], ms: u64) {
        let _slot = limits.slot(account, "eu-west-1", "rds").await;
        gauges.iter().for_each(|g| g.enter());
        tokio::time::sleep(Duration::from_millis(ms)).await;
        gauges.iter().for_each(|g| g.leave());
    }

    /// On the paused test clock: ten slow calls queue in one lane first,
    /// then four quick ones arrive from another account.
    #[tokio::test(start_paused = true)]
    async fn a_busy_lane_neither_exceeds_its_limit_nor_holds_back_others() {
        let limits = Limits::new(4, 2);
        let (busy, other, all) = (Gauge::default(), Gauge::default(), Gauge::default());
        let started = tokio::time::Instant::now();
        let slow = futures::future::join_all(
            (0..10).map(|_| call(&limits, "111111111111", [&busy, &all], 1000)),
        );
        let quick = async {
            tokio::task::yield_now().await;
            futures::future::join_all(
                (0..4).map(|_| call(&limits, "222222222222", [&other, &all], 10)),
            )
            .await;
            started.elapsed()
        };
        let (_, quick_done) = futures::join!(slow, quick);
        assert_eq!(busy.most.load(Ordering::SeqCst), 2);
        assert_eq!(other.most.load(Ordering::SeqCst), 2);
        assert_eq!(all.most.load(Ordering::SeqCst), 4);
        // Two rounds of 10 ms in the other lane, not behind the 5 s queue.
        assert_eq!(quick_done, Duration::from_millis(20));
    }
}
