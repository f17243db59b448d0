//! How the processes sharing a database learn of each other's commits:
//! a notification after commits, a `LISTEN` connection that wakes the
//! streams.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use tokio::sync::Notify;
use tokio_postgres::{AsyncMessage, NoTls};

/// The channel a store notifies after its commits.
pub(super) const CHANNEL: &str = "statewright_changes";
/// The least time between two notifications a store sends: PostgreSQL
/// serializes the commits of transactions that notify.
const NOTIFY_INTERVAL: Duration = Duration::from_millis(2);

/// Which commits through this store a notification has covered.
///
/// While writes go on, one compare-and-set per [`NOTIFY_INTERVAL`] carries
/// the notification in its own statement ([`Notifications::claim`]): it
/// covers every commit counted before that statement began. When writes
/// stop, the task of [`notify`] sends one on its own for the commits no
/// statement covered. A separate transaction per notification cost a third
/// of the store's throughput at one writer.
pub(super) struct Notifications {
    /// Commits through this store.
    commits: AtomicU64,
    /// Commits that a delivered notification is known to cover.
    covered: AtomicU64,
    /// When the last statement that carries a notification was claimed,
    /// in nanoseconds since `started`.
    last_claimed: AtomicU64,
    started: Instant,
    /// Woken after each commit: the task looks whether it is covered.
    committed: Notify,
}

impl Notifications {
    pub(super) fn new() -> Self {
        Self {
            commits: AtomicU64::new(0),
            covered: AtomicU64::new(0),
            last_claimed: AtomicU64::new(0),
            started: Instant::now(),
            committed: Notify::new(),
        }
    }

    /// Whether the statement about to run carries the notification: once
    /// per interval. If it does, the commits it covers.
    pub(super) fn claim(&self) -> Option<u64> {
        let now = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let last = self.last_claimed.load(Ordering::Acquire);
        let interval = u64::try_from(NOTIFY_INTERVAL.as_nanos()).unwrap_or(u64::MAX);
        if last != 0 && now.saturating_sub(last) < interval {
            return None;
        }
        self.last_claimed
            .compare_exchange(last, now.max(1), Ordering::AcqRel, Ordering::Acquire)
            .ok()?;
        Some(self.commits.load(Ordering::Acquire))
    }

    /// Counts a commit; `carried` is the claim of its statement, if it
    /// carried the notification (delivered with the commit).
    pub(super) fn committed(&self, carried: Option<u64>) {
        self.commits.fetch_add(1, Ordering::AcqRel);
        if let Some(covered) = carried {
            self.covered.fetch_max(covered, Ordering::AcqRel);
        }
        self.committed.notify_one();
    }
}

/// After each commit, gives the statements two intervals to carry a
/// notification that covers it, and sends one itself if none did (the
/// writes stopped). The store aborts the task when it is dropped.
pub(super) async fn notify(pool: Pool, notifications: Arc<Notifications>, timeout: Duration) {
    loop {
        notifications.committed.notified().await;
        let target = notifications.commits.load(Ordering::Acquire);
        tokio::time::sleep(2 * NOTIFY_INTERVAL).await;
        if notifications.covered.load(Ordering::Acquire) >= target {
            continue;
        }
        let covering = notifications.commits.load(Ordering::Acquire);
        let sent = tokio::time::timeout(timeout, async {
            let client = pool.get().await.ok()?;
            client
                .execute("SELECT pg_notify($1, '')", &[&CHANNEL])
                .await
                .ok()
        });
        // A lost notification delays other processes' watchers by at most
        // their poll; it loses nothing.
        if let Ok(Some(_)) = sent.await {
            notifications.covered.fetch_max(covering, Ordering::AcqRel);
        }
    }
}

/// Keeps a `LISTEN` connection open, reconnecting after a drop, and wakes
/// `changed`'s waiters on every notification and after every
/// (re)connection, until the store (which owns `changed`) is gone.
pub(super) async fn listen(changed: Weak<Notify>, config: tokio_postgres::Config) {
    loop {
        if let Ok((client, mut connection)) = config.connect(NoTls).await {
            let weak = changed.clone();
            let driver = tokio::spawn(async move {
                while let Some(Ok(message)) =
                    std::future::poll_fn(|cx| connection.poll_message(cx)).await
                {
                    if let AsyncMessage::Notification(_) = message {
                        match weak.upgrade() {
                            Some(changed) => changed.notify_waiters(),
                            None => return,
                        }
                    }
                }
            });
            if client
                .batch_execute(&format!("LISTEN {CHANNEL}"))
                .await
                .is_ok()
            {
                // Whatever committed while no one listened is in the outbox.
                match changed.upgrade() {
                    Some(changed) => changed.notify_waiters(),
                    None => return,
                }
                let _ = driver.await;
            } else {
                driver.abort();
            }
        }
        if changed.strong_count() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
