//! Fleets in two processes sharing one store: an owner killed while it
//! holds 100 activations, and an owner paused past its lease.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use statewright::fleet::{Fleet, FleetError};
use statewright::store::Store;

use super::lamp_off;
use crate::durable_contract::{Lamp, Lamplighter, Switch};
use crate::support::within;

/// How many machines the killed owner holds.
pub(crate) const HELD: usize = 100;
/// The paused owner's lease: real, and short enough to wait out.
const PAUSED_LEASE: Duration = Duration::from_secs(1);
/// How long the paused owner's lamp stays on: its timer is due after the
/// lease has ended.
const PAUSED_LAMP_ON_FOR: Duration = Duration::from_secs(2);

/// The child's side: what it does, then waits for commands on stdin
/// (`press` sends to `lamp`), answering each on stdout.
pub(crate) async fn child<S: Store<Lamp>>(store: S, mode: &str) {
    match mode {
        "hold" => {
            // Leases of 2 s; each lamp's timer is due in 1 s and will be
            // fired by whoever holds it then.
            let on_for = Duration::from_secs(1);
            let fleet = Fleet::new(store, move |_: &str| Lamplighter { on_for })
                .owner("doomed")
                .lease(Duration::from_secs(2))
                .start()
                .await
                .unwrap();
            for n in 0..HELD {
                fleet
                    .send(&format!("lamp-{n}"), Switch::Press)
                    .await
                    .unwrap();
            }
            println!("ready");
            std::future::pending::<()>().await;
        }
        "sleep" => {
            // A real lease, short enough for the parent to wait out.
            let on_for = PAUSED_LAMP_ON_FOR;
            let fleet = Fleet::new(store, move |_: &str| Lamplighter { on_for })
                .owner("sleeper")
                .lease(PAUSED_LEASE)
                .start()
                .await
                .unwrap();
            fleet.send("lamp", Switch::Press).await.unwrap();
            println!("ready");
            let (lines, commands) = tokio::sync::mpsc::unbounded_channel();
            std::thread::spawn(move || {
                for line in std::io::stdin().lock().lines() {
                    let _ = lines.send(line.unwrap_or_default());
                }
            });
            let mut commands = commands;
            // The parent answers within a minute, or this child gives up.
            let next = Duration::from_secs(60);
            while let Ok(Some(command)) = tokio::time::timeout(next, commands.recv()).await {
                if command == "press" {
                    let answer = match fleet.send("lamp", Switch::Press).await {
                        Ok(_) => "applied".to_owned(),
                        Err(FleetError::Fenced { epoch, .. }) => format!("fenced at epoch {epoch}"),
                        Err(FleetError::NotOwner { owner, .. }) => format!("not owner: {owner}"),
                        Err(other) => format!("other: {other}"),
                    };
                    println!("answer: {answer}");
                }
            }
        }
        other => panic!("no child mode {other}"),
    }
}

/// A child process and its stdout as lines.
pub(crate) struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl Process {
    pub(crate) fn spawn(mut command: Command) -> Self {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if sender.send(line.unwrap_or_default()).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Self {
            child,
            stdin,
            lines,
        }
    }

    /// The first line that holds `prefix`, from there on (a test harness
    /// prints its own lines, and the start of this one's).
    async fn line(&self, prefix: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            match self.lines.try_recv() {
                Ok(line) if line.contains(prefix) => {
                    return line[line.find(prefix).unwrap_or_default()..].to_owned();
                }
                Ok(_) => {}
                Err(mpsc::TryRecvError::Empty) if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err(error) => panic!("no `{prefix}` line from the child: {error}"),
            }
        }
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(sent.success(), "kill {signal} {pid}");
    }

    fn tell(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{command}").unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The versions the outbox holds for `id`, in order.
async fn versions<S: Store<Lamp>>(store: &S, id: &str) -> Vec<u64> {
    let changes = store.changes_since(0, usize::MAX).await.unwrap();
    changes
        .iter()
        .filter(|change| change.id == id)
        .map(|change| change.version)
        .collect()
}

/// An owner killed (SIGKILL) while it holds 100 activations: its leases
/// hold others off until they expire; then another fleet takes every
/// machine over, each due timer fires once, and no committed step is lost.
pub(crate) async fn killed_owner_is_taken_over<S: Store<Lamp>>(store: S, child: Command) {
    for n in 0..HELD {
        store
            .insert(&format!("lamp-{n}"), &Lamp::Off)
            .await
            .unwrap();
    }
    let doomed = Process::spawn(child);
    doomed.line("ready").await;
    doomed.signal("-KILL");

    let on_for = Duration::from_secs(1);
    let heir = Fleet::new(store.clone(), move |_: &str| Lamplighter { on_for })
        .owner("heir")
        .lease(Duration::from_secs(2))
        .sweep_every(Duration::from_millis(50));
    let heir = within(heir.start()).await.unwrap();
    match within(heir.send("lamp-0", Switch::Snooze)).await {
        // (Unless this machine took the whole lease to get here.)
        Err(FleetError::NotOwner { owner, .. }) => assert_eq!(owner, "doomed"),
        other => println!("lamp-0 already free: {other:?}"),
    }
    for n in 0..HELD {
        let id = format!("lamp-{n}");
        let off = lamp_off(&store, &id).await;
        assert_eq!((off.version, off.timer), (2, None), "{id}");
        assert_eq!(versions(&store, &id).await, [1, 2], "{id}: fired once");
    }
    within(heir.shutdown()).await;
}

/// An owner paused (SIGSTOP) with a real lease of one second and a timer
/// due after it: another fleet is refused while the lease holds, takes
/// the machine over once it has ended, and fires the timer once. When the
/// first owner wakes, its late writes (its own timer, overdue by then,
/// and a press it is told to send) are fenced, or refused before they
/// reach the store because its renewals have lapsed: never applied.
pub(crate) async fn paused_owner_is_fenced<S: Store<Lamp>>(store: S, child: Command) {
    store.insert("lamp", &Lamp::Off).await.unwrap();
    let mut sleeper = Process::spawn(child);
    sleeper.line("ready").await;
    sleeper.signal("-STOP");
    // The lamp is on at version 1, its timer due two seconds after the
    // press, its lease the sleeper's until a second after its last renewal.
    let on_for = PAUSED_LAMP_ON_FOR;
    let heir = Fleet::new(store.clone(), move |_: &str| Lamplighter { on_for })
        .owner("heir")
        .lease(PAUSED_LEASE)
        .sweep_every(Duration::from_millis(50));
    let heir = within(heir.start()).await.unwrap();
    match within(heir.snapshot("lamp")).await {
        Ok(snapshot) => assert_eq!(snapshot.state, Lamp::On),
        Err(error) => panic!("the heir cannot read the lamp: {error}"),
    }
    match within(heir.send("lamp", Switch::Snooze)).await {
        Err(FleetError::NotOwner { owner, .. }) => assert_eq!(owner, "sleeper"),
        // (Unless this machine took the whole lease to get here: the snooze
        // then moved the timer, and the lamp goes off later.)
        other => println!("the lease had already ended: {other:?}"),
    }
    let off = lamp_off(&store, "lamp").await;
    assert_eq!(
        (off.version, off.timer),
        (2, None),
        "the heir fired the timer"
    );
    assert_eq!(heir.active(), 1, "the heir holds the lamp");

    sleeper.signal("-CONT");
    sleeper.tell("press");
    let answer = sleeper.line("answer: ").await;
    // Fenced if the press waited behind the sleeper's own overdue timer
    // write; refused as not owned if the sleeper had already passivated
    // the lamp (its renewals lapsed) and activated it again; `Finished`
    // if that passivation came while the press waited in the queue.
    let refused = [
        "fenced at epoch 1",
        "not owner: heir",
        "other: runner has finished",
    ];
    assert!(
        refused.iter().any(|how| answer == format!("answer: {how}")),
        "the late press must not be applied: {answer}"
    );
    let stored = store.get("lamp").await.unwrap().unwrap();
    assert_eq!((stored.state, stored.version), (Lamp::Off, 2));
    assert_eq!(
        versions(&store, "lamp").await,
        [1, 2],
        "one press, one timer: no late write in the outbox"
    );
    within(heir.shutdown()).await;
}
