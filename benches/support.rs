//! The machine and the raw tokio actor both runner benchmarks use, and
//! how the memory benchmarks read resident memory.
#![allow(dead_code, unreachable_pub)]

use statewright::{state_machine, Cx, Handler, Step};
use tokio::sync::{mpsc, oneshot};

#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Counter {
    #[initial]
    #[to(Counting)]
    Idle,
    #[to(Idle)]
    Counting { count: u64 },
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Tick {
    Start,
    Add,
}

pub struct Adder;

impl Handler for Adder {
    type State = Counter;
    type Event = Tick;

    fn handle(&mut self, state: &Counter, event: Tick, _: &mut Cx<Self>) -> Step<Counter> {
        match (state, event) {
            (Counter::Idle, Tick::Start) => Step::to(Counter::Counting { count: 0 }),
            (Counter::Counting { count }, Tick::Add) => {
                Step::update(Counter::Counting { count: count + 1 })
            }
            _ => Step::reject("unexpected"),
        }
    }
}

/// What the raw actor's queue holds: an event and, for a send, its reply.
pub type Request = (Tick, Option<oneshot::Sender<u64>>);

/// The hand-written equivalent: an `mpsc` queue, `oneshot` replies, a `match`.
#[derive(Clone)]
pub struct RawActor {
    queue: mpsc::Sender<Request>,
}

impl RawActor {
    pub fn spawn(capacity: usize) -> Self {
        let (queue, mut inbox) = mpsc::channel::<Request>(capacity);
        tokio::spawn(async move {
            let mut state = Counter::Idle;
            while let Some((tick, reply)) = inbox.recv().await {
                state = match (&state, tick) {
                    (Counter::Idle, Tick::Start) => Counter::Counting { count: 0 },
                    (Counter::Counting { count }, Tick::Add) => {
                        Counter::Counting { count: count + 1 }
                    }
                    (other, _) => other.clone(),
                };
                if let Some(reply) = reply {
                    let count = match state {
                        Counter::Counting { count } => count,
                        Counter::Idle => 0,
                    };
                    let _ = reply.send(count);
                }
            }
        });
        Self { queue }
    }

    pub async fn send(&self, tick: Tick) -> u64 {
        let (reply, answer) = oneshot::channel();
        let _ = self.queue.send((tick, Some(reply))).await;
        answer.await.unwrap_or_default()
    }

    pub async fn post(&self, tick: Tick) {
        let _ = self.queue.send((tick, None)).await;
    }
}

/// This process's resident memory in bytes (Linux: `/proc/self/statm`).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// The runtime every benchmark runs on: two workers, as the VM has cores.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A client of the PostgreSQL database at `url`, its connection driven by
/// a task.
pub async fn pg_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("the PostgreSQL server");
    tokio::spawn(connection);
    client
}

/// A fresh database named after `name` (and this process) on the
/// PostgreSQL server at `server`; its URL.
pub async fn pg_database(server: &str, name: &str) -> String {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let admin = pg_client(server).await;
    let count = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("statewright_bench_{name}_{}_{count}", std::process::id());
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("a database");
    let (base, _) = server.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{name}")
}
