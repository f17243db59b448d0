//! The main demo (seed 000): a network runner whose whole status is one
//! rich state, so a page that opens late learns everything from one snapshot
//! and every broadcast says when the next invocation is due.
//!
//! - `Idle`: no run; a new run may start.
//! - `InLockout`: a run just started; new runs are **rejected** until it expires.
//! - `Processing`: a model invocation is running (a task owned by the state).
//! - `WaitingNext`: the next invocation is scheduled; a new run **cancels**
//!   this one and starts fresh.
//! - `Failed`: the last invocation failed; a new run may start at once.
//!
//! One timer serves both the lockout and the wait for the next invocation.
//! While the third run waits for its next invocation, the demo takes a
//! checkpoint, stops the runner as a restart would, and restores it: the
//! restored runner fires that invocation at its original deadline.
//!
//! Run with `cargo run --example network_runner`; it finishes in about five
//! seconds. `cargo run --example network_runner -- fleet` runs five
//! networks by id in one store instead, as a fleet that passivates the
//! idle ones.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use statewright::fleet::{Fleet, FleetError};
use statewright::store::SqliteStore;
use statewright::{
    state_machine, Applied, Checkpoint, Cx, Handler, Runner, RunnerError, RunnerHandle, Snapshot,
    Step, TracingRecorder,
};

const LOCKOUT: Duration = Duration::from_secs(1);
const INVOCATION: Duration = Duration::from_millis(300);
const BETWEEN_INVOCATIONS: Duration = Duration::from_millis(500);
const INVOCATIONS_PER_RUN: u32 = 3;

/// One call of the model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Invocation {
    id: u64,
    run: u64,
    sequence: u32,
    prompt: String,
}

/// Everything a watcher needs, in one value.
#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Network {
    /// No active run.
    #[initial]
    #[to(InLockout)]
    Idle,
    /// A run just started; new runs are rejected until `expires_at`.
    #[to(Processing)]
    InLockout {
        genesis: Invocation,
        expires_at: SystemTime,
    },
    /// Invoking the model.
    #[to(WaitingNext, Failed, Idle)]
    Processing {
        genesis: Invocation,
        current: Invocation,
    },
    /// The next invocation is due at `next_at`; a new run cancels this one.
    #[to(Processing, InLockout)]
    WaitingNext {
        genesis: Invocation,
        current: Invocation,
        next_at: SystemTime,
    },
    /// The last invocation failed.
    #[to(InLockout)]
    Failed { last: Invocation },
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
enum Command {
    StartRun { prompt: String },
    LockoutOver,
    NextDue,
    InvocationDone { id: u64, ok: bool },
}

struct NetworkRunner {
    invocations: u64,
    runs: u64,
}

impl NetworkRunner {
    fn invocation(&mut self, run: u64, sequence: u32, prompt: &str) -> Invocation {
        self.invocations += 1;
        Invocation {
            id: self.invocations,
            run,
            sequence,
            prompt: prompt.to_string(),
        }
    }

    fn start_run(&mut self, prompt: &str, cx: &mut Cx<Self>) -> Step<Network> {
        self.runs += 1;
        let genesis = self.invocation(self.runs, 1, prompt);
        cx.set_timeout(LOCKOUT, Command::LockoutOver);
        Step::to(Network::InLockout {
            genesis,
            expires_at: SystemTime::now() + LOCKOUT,
        })
    }
}

impl Handler for NetworkRunner {
    type State = Network;
    type Event = Command;

    fn handle(&mut self, state: &Network, event: Command, cx: &mut Cx<Self>) -> Step<Network> {
        match (state, event) {
            (Network::InLockout { .. }, Command::StartRun { .. }) => {
                Step::reject("in lockout: the run that just started is protected")
            }
            (Network::Processing { .. }, Command::StartRun { .. }) => {
                Step::reject("an invocation is running")
            }
            (_, Command::StartRun { prompt }) => self.start_run(&prompt, cx),
            (Network::InLockout { genesis, .. }, Command::LockoutOver) => {
                Step::to(Network::Processing {
                    genesis: genesis.clone(),
                    current: genesis.clone(),
                })
            }
            (Network::Processing { genesis, current }, Command::InvocationDone { id, ok })
                if id == current.id =>
            {
                if !ok {
                    Step::to(Network::Failed {
                        last: current.clone(),
                    })
                } else if current.sequence == INVOCATIONS_PER_RUN {
                    Step::to(Network::Idle)
                } else {
                    cx.set_timeout(BETWEEN_INVOCATIONS, Command::NextDue);
                    Step::to(Network::WaitingNext {
                        genesis: genesis.clone(),
                        current: current.clone(),
                        next_at: SystemTime::now() + BETWEEN_INVOCATIONS,
                    })
                }
            }
            (
                Network::WaitingNext {
                    genesis, current, ..
                },
                Command::NextDue,
            ) => {
                let next = self.invocation(current.run, current.sequence + 1, &current.prompt);
                Step::to(Network::Processing {
                    genesis: genesis.clone(),
                    current: next,
                })
            }
            (_, event) => Step::reject(format!("{event:?} does not apply")),
        }
    }

    /// The counters live beside the state: a restored runner rebuilds them
    /// from it, so ids go on where they stopped.
    fn on_restore(&mut self, state: &Network, _: &mut Cx<Self>) {
        let latest = match state {
            Network::Idle => None,
            Network::InLockout { genesis, .. } => Some(genesis),
            Network::Processing { current, .. } | Network::WaitingNext { current, .. } => {
                Some(current)
            }
            Network::Failed { last } => Some(last),
        };
        if let Some(latest) = latest {
            self.invocations = self.invocations.max(latest.id);
            self.runs = self.runs.max(latest.run);
        }
    }

    fn on_enter(&mut self, state: &Network, cx: &mut Cx<Self>) {
        if let Network::Processing { current, .. } = state {
            let (id, fails) = (
                current.id,
                current.prompt.contains("fail") && current.sequence == 2,
            );
            cx.spawn(async move {
                tokio::time::sleep(INVOCATION).await;
                Command::InvocationDone { id, ok: !fails }
            });
        }
    }
}

fn seconds_until(at: SystemTime) -> f64 {
    at.duration_since(SystemTime::now())
        .unwrap_or_default()
        .as_secs_f64()
}

/// The rich status a `LiveView` would render, from one snapshot or one broadcast.
fn status_line(seq: u64, state: &Network, timeout_at: Option<SystemTime>) -> String {
    let mut line = format!("#{seq:<2} ");
    let _ = match state {
        Network::Idle => write!(line, "idle             can_start_run=true"),
        Network::InLockout {
            genesis,
            expires_at,
        } => write!(
            line,
            "in_lockout       run={} genesis=#{} lockout_ends_in={:.1}s can_start_run=false",
            genesis.run,
            genesis.id,
            seconds_until(*expires_at)
        ),
        Network::Processing { genesis, current } => write!(
            line,
            "processing       run={} invocation=#{} ({}/{INVOCATIONS_PER_RUN}) genesis=#{} can_start_run=false",
            current.run, current.id, current.sequence, genesis.id
        ),
        Network::WaitingNext {
            genesis,
            current,
            next_at,
        } => write!(
            line,
            "waiting_next     run={} last=#{} genesis=#{} next_invocation_in={:.1}s can_start_run=true",
            current.run,
            current.id,
            genesis.id,
            seconds_until(*next_at)
        ),
        Network::Failed { last } => write!(
            line,
            "failed           run={} last=#{} can_start_run=true",
            last.run, last.id
        ),
    };
    if let Some(at) = timeout_at {
        let _ = write!(line, " (timer in {:.1}s)", seconds_until(at));
    }
    line
}

fn snapshot_line(snapshot: &Snapshot<Network>) -> String {
    status_line(snapshot.seq, &snapshot.state, snapshot.timeout_at)
}

fn reply(result: Result<Applied<Network>, RunnerError<NetworkKind>>) -> String {
    match result {
        Ok(Applied::Transitioned { to, .. }) => format!("accepted, now {}", to.kind()),
        Ok(Applied::Rejected { reason }) => format!("rejected: {reason}"),
        Ok(other) => format!("{other:?}"),
        Err(error) => format!("error: {error}"),
    }
}

/// A watcher that prints the full status from every broadcast alone.
fn watch_broadcasts(handle: &RunnerHandle<NetworkRunner>) -> tokio::task::JoinHandle<Vec<String>> {
    let mut transitions = handle.subscribe();
    tokio::spawn(async move {
        let mut lines = Vec::new();
        while let Ok(transition) = transitions.recv().await {
            let line = format!(
                "watcher: {}",
                status_line(transition.seq, &transition.to, transition.timeout_at)
            );
            println!("{line}");
            lines.push(line);
        }
        lines
    })
}

fn new_runner() -> NetworkRunner {
    NetworkRunner {
        invocations: 0,
        runs: 0,
    }
}

/// The demo; returns what it printed so a test can check it.
pub(crate) async fn demo() -> String {
    let handle = Runner::new(new_runner(), Network::Idle)
        .recorder(TracingRecorder::new())
        .spawn();
    let watcher = watch_broadcasts(&handle);

    let mut log = Vec::new();
    let mut say = |line: String| {
        println!("{line}");
        log.push(line);
    };
    let start = |prompt: &str| Command::StartRun {
        prompt: prompt.to_string(),
    };
    let mut watch = handle.watch();

    say(format!(
        "start 'a cat': {}",
        reply(handle.send(start("a cat")).await)
    ));
    let refused = handle.send(start("a dog")).await;
    say(format!("start 'a dog' during lockout: {}", reply(refused)));

    let _ = watch.wait_for(|s| s.kind == NetworkKind::WaitingNext).await;
    say("a new run while waiting for the next invocation cancels the old one:".into());
    say(format!(
        "start 'fail fast': {}",
        reply(handle.send(start("fail fast")).await)
    ));

    let _ = watch.wait_for(|s| s.kind == NetworkKind::Failed).await;
    say(format!(
        "late watcher, from one snapshot: {}",
        snapshot_line(&handle.snapshot())
    ));
    say(format!(
        "start 'a bird': {}",
        reply(handle.send(start("a bird")).await)
    ));

    // Waiting for the third run's last invocation: save, and restart.
    let _ = watch
        .wait_for(
            |s| matches!(&s.state, Network::WaitingNext { current, .. } if current.sequence == 2),
        )
        .await;
    let saved = match handle.checkpoint().await {
        Ok(checkpoint) => serde_json::to_string(&checkpoint).unwrap_or_default(),
        Err(error) => format!("{error}"),
    };
    handle.stop().ok();
    say(format!("restart: first runner {}", handle.join().await));
    drop(handle);
    let mut out: Vec<String> = watcher.await.unwrap_or_default();

    let checkpoint: Checkpoint<Network, Command> = match serde_json::from_str(&saved) {
        Ok(checkpoint) => checkpoint,
        Err(error) => {
            say(format!("checkpoint unreadable: {error}: {saved}"));
            out.extend(log);
            return out.join("\n");
        }
    };
    let deadline = checkpoint.timer.as_ref().map(|timer| timer.at);
    let handle = match Runner::restore(new_runner(), checkpoint) {
        Ok(runner) => runner.recorder(TracingRecorder::new()).spawn(),
        Err(error) => {
            say(format!("restore refused: {error}"));
            out.extend(log);
            return out.join("\n");
        }
    };
    let watcher = watch_broadcasts(&handle);
    let restored = handle.snapshot();
    say(format!(
        "restored at #{}: {:?}, next invocation at the saved deadline: {}",
        restored.seq,
        restored.kind,
        deadline.is_some() && restored.timeout_at == deadline
    ));
    let mut watch = handle.watch();
    let _ = watch.wait_for(|s| s.kind == NetworkKind::Idle).await;

    handle.stop().ok();
    say(format!("outcome: {}", handle.join().await));
    drop(handle);
    out.extend(watcher.await.unwrap_or_default());
    out.extend(log);
    out.join("\n")
}

/// The fleet mode (`-- fleet`): `count` networks by id, each its own
/// machine in one SQLite store, run by one fleet. Each starts a run; when
/// its run is over and it has been idle a moment, it is passivated (its
/// task ends, its row stays), and a message activates it again. Returns
/// what it printed.
pub(crate) async fn fleet_demo(count: usize) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut log = Vec::new();
    let mut say = |line: String| {
        println!("{line}");
        log.push(line);
    };
    let store = SqliteStore::<Network>::memory().await?;
    let fleet = Fleet::new(store, |_: &str| new_runner())
        .idle_after(Duration::from_millis(200))
        .sweep_every(Duration::from_millis(100))
        .start()
        .await?;
    let ids: Vec<String> = (1..=count).map(|n| format!("net-{n}")).collect();
    for (n, id) in ids.iter().enumerate() {
        fleet.insert(id, Network::Idle).await?;
        let prompt = format!("prompt {}", n + 1);
        let started = fleet.send(id, Command::StartRun { prompt }).await;
        say(format!("{id} start: {}", fleet_reply(started)));
    }
    say(format!("{} networks active", fleet.active()));
    // Each run goes through its invocations, passivated while it waits on
    // its timer (the lockout, the wait for the next invocation: the fleet
    // activates it again when the timer is due) but never while an
    // invocation (a state task) runs; then it is idle, and passivated.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut fewest = count;
    loop {
        let mut over = fleet.active() == 0;
        for id in &ids {
            over &= fleet.snapshot(id).await?.kind == NetworkKind::Idle;
        }
        if over {
            break;
        }
        fewest = fewest.min(fleet.active());
        if tokio::time::Instant::now() > deadline {
            return Err("the networks did not finish their runs".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    say(format!(
        "every run is over; while they waited on timers as few as {fewest} networks were active"
    ));
    for id in &ids {
        let snapshot = fleet.snapshot(id).await?;
        say(format!(
            "{id}: {} [{:?}]",
            snapshot_line(&snapshot),
            snapshot.status
        ));
    }
    let again = Command::StartRun {
        prompt: "again".into(),
    };
    say(format!(
        "net-1 start again (activated from the store): {}",
        fleet_reply(fleet.send("net-1", again).await)
    ));
    say(format!("{} network active", fleet.active()));
    fleet.shutdown().await;
    Ok(log)
}

fn fleet_reply(result: Result<Applied<Network>, FleetError<NetworkKind>>) -> String {
    match result {
        Ok(applied) => reply(Ok(applied)),
        Err(error) => format!("error: {error}"),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if std::env::args().nth(1).as_deref() == Some("fleet") {
        if let Err(error) = fleet_demo(5).await {
            eprintln!("fleet demo failed: {error}");
            std::process::exit(1);
        }
        return;
    }
    demo().await;
}
