//! How the processes sharing a database learn of each other's commits:
//! a notification after commits, a `LISTEN` connection that wakes the
//! streams.

use std::sync::{Arc, Weak};
use std::time::Duration;

use deadpool_postgres::Pool;
use tokio::sync::Notify;
use tokio_postgres::{AsyncMessage, NoTls};

/// The channel a store notifies after its commits.
pub(super) const CHANNEL: &str = "statewright_changes";
/// The least time between two notifications a store sends: each is a
/// transaction of its own, and PostgreSQL serializes the commits of
/// transactions that notify.
const NOTIFY_INTERVAL: Duration = Duration::from_millis(2);

/// Sends one notification per wake-up, at most one per
/// [`NOTIFY_INTERVAL`]: commits that finish in between share the next.
/// The store aborts the task when it is dropped.
pub(super) async fn notify(pool: Pool, committed: Arc<Notify>, timeout: Duration) {
    loop {
        committed.notified().await;
        let sent = tokio::time::timeout(timeout, async {
            let client = pool.get().await.ok()?;
            client
                .execute("SELECT pg_notify($1, '')", &[&CHANNEL])
                .await
                .ok()
        });
        // A lost notification delays other processes' watchers by at most
        // their poll; it loses nothing.
        let _ = sent.await;
        tokio::time::sleep(NOTIFY_INTERVAL).await;
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
