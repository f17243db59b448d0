//! A recorder that sees every event of a run and finishes exactly once
//! (seed 003), whether the run completes, the handler panics, or the task is
//! dropped. In the seed this took a separate process, a subscription that
//! had to land before the run started, a monitor for crashes and a
//! `finalized` flag; here the runner calls the hooks in order, inside the
//! run, and guarantees `on_finish` exactly once.
//!
//! A fleet mode follows: councils by id in one store, a minutes book per
//! id (a recorder made for each activation), and a council adjourned
//! (passivated) and resumed: `on_passivate`, then `on_restore`, never a
//! second `on_finish`.
//!
//! Run with `cargo run --example recorder`.

use std::sync::{Arc, Mutex};

use statewright::fleet::Fleet;
use statewright::store::SqliteStore;
use statewright::{
    state_machine, Cx, Handler, Outcome, Recorder, Rejection, Runner, Snapshot, Step, Transition,
};

/// A council deliberating on one question.
#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Council {
    #[initial]
    #[on(open => Deliberating)]
    Convened,
    #[on(vote => Voting)]
    Deliberating { round: u32 },
    #[on(decide => Decided)]
    Voting,
    #[terminal]
    Decided { verdict: String },
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
enum Motion {
    Open,
    Argue,
    CallVote,
    Tally { ayes: u32, noes: u32 },
}

/// The handler panics on a tie, standing in for any bug.
struct Chair;

impl Handler for Chair {
    type State = Council;
    type Event = Motion;

    fn handle(&mut self, state: &Council, motion: Motion, _: &mut Cx<Self>) -> Step<Council> {
        match (state, motion) {
            (Council::Convened, Motion::Open) => Step::to(Council::Deliberating { round: 1 }),
            (Council::Deliberating { round }, Motion::Argue) => {
                Step::update(Council::Deliberating { round: round + 1 })
            }
            (Council::Deliberating { .. }, Motion::CallVote) => Step::to(Council::Voting),
            (Council::Voting, Motion::Tally { ayes, noes }) => {
                assert!(ayes != noes, "the chair cannot break a tie");
                let verdict = if ayes > noes { "carried" } else { "defeated" };
                Step::to(Council::Decided {
                    verdict: verdict.into(),
                })
            }
            (_, motion) => Step::reject(format!("{motion:?} is out of order")),
        }
    }
}

/// The user's recorder: a minutes book. Clones share the pages.
#[derive(Clone, Default)]
struct Minutes {
    pages: Arc<Mutex<Vec<String>>>,
}

impl Minutes {
    fn write(&self, line: String) {
        if let Ok(mut pages) = self.pages.lock() {
            pages.push(line);
        }
    }

    fn read(&self) -> Vec<String> {
        self.pages
            .lock()
            .map(|pages| pages.clone())
            .unwrap_or_default()
    }
}

impl Recorder<Chair> for Minutes {
    fn on_start(&mut self, snapshot: &Snapshot<Council>) {
        self.write(format!("opened in {}", snapshot.kind));
    }

    fn on_event(&mut self, state: &Council, motion: &Motion) {
        self.write(format!("  motion {motion:?} while {}", state.kind()));
    }

    fn on_transition(&mut self, transition: &Transition<Council>) {
        self.write(format!("  #{} now {:?}", transition.seq, transition.to));
    }

    fn on_rejected(&mut self, _: &Council, rejection: &Rejection<CouncilKind>) {
        self.write(format!("  {rejection}"));
    }

    fn on_finish(&mut self, outcome: &Outcome<Council>) {
        self.write(format!("closed: {outcome}"));
    }

    fn on_restore(&mut self, snapshot: &Snapshot<Council>) {
        self.write(format!("resumed in {} at #{}", snapshot.kind, snapshot.seq));
    }

    fn on_passivate(&mut self, snapshot: &Snapshot<Council>) {
        self.write(format!("adjourned in {} (not closed)", snapshot.kind));
    }
}

async fn session(motions: Vec<Motion>, minutes: &Minutes) {
    let handle = Runner::new(Chair, Council::Convened)
        .recorder(minutes.clone())
        .spawn();
    for motion in motions {
        if handle.send(motion).await.is_err() {
            break;
        }
    }
    let _ = handle.join().await;
}

/// Three sessions: decided, crashed, and abandoned (task dropped). Returns
/// the minutes of each.
pub(crate) async fn demo() -> Vec<Vec<String>> {
    let decided = Minutes::default();
    session(
        vec![
            Motion::Open,
            Motion::Argue,
            Motion::Tally { ayes: 1, noes: 0 },
            Motion::CallVote,
            Motion::Tally { ayes: 5, noes: 2 },
        ],
        &decided,
    )
    .await;

    let crashed = Minutes::default();
    session(
        vec![
            Motion::Open,
            Motion::CallVote,
            Motion::Tally { ayes: 3, noes: 3 },
            Motion::Argue,
        ],
        &crashed,
    )
    .await;

    let abandoned = Minutes::default();
    let (handle, run) = Runner::new(Chair, Council::Convened)
        .recorder(abandoned.clone())
        .pair();
    let task = tokio::spawn(run);
    let _ = handle.send(Motion::Open).await;
    task.abort();
    let _ = handle.join().await;

    vec![decided.read(), crashed.read(), abandoned.read()]
}

/// The fleet mode: councils by id in one store, each with its own minutes
/// book (a recorder made per id). A council adjourned (passivated) is not
/// closed: its next motion resumes it where it was. Returns each book.
pub(crate) async fn fleet_demo() -> Result<Vec<(String, Vec<String>)>, Box<dyn std::error::Error>> {
    let books: Arc<Mutex<Vec<(String, Minutes)>>> = Arc::default();
    let store = SqliteStore::<Council>::memory().await?;
    let fleet = Fleet::new(store, |_: &str| Chair)
        .recorder({
            let books = Arc::clone(&books);
            move |id: &str| {
                let mut books = books.lock().map_err(|_| "the books are poisoned")?;
                let book = match books.iter().find(|(of, _)| of == id) {
                    Some((_, book)) => book.clone(),
                    None => {
                        books.push((id.to_owned(), Minutes::default()));
                        books[books.len() - 1].1.clone()
                    }
                };
                Ok::<_, &str>(book)
            }
        })
        .start()
        .await?;
    for id in ["council-1", "council-2"] {
        fleet.insert(id, Council::Convened).await?;
        fleet.send(id, Motion::Open).await?;
    }
    fleet.passivate("council-2").await;
    fleet.send("council-2", Motion::Argue).await?;
    fleet.send("council-1", Motion::CallVote).await?;
    fleet
        .send("council-1", Motion::Tally { ayes: 4, noes: 1 })
        .await?;
    fleet.shutdown().await;
    let books = books.lock().map_err(|_| "the books are poisoned")?;
    Ok(books
        .iter()
        .map(|(id, book)| (id.clone(), book.read()))
        .collect())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // The crash is the point of the second session; keep its report short.
    std::panic::set_hook(Box::new(|info| eprintln!("(handler panicked: {info})")));
    for minutes in demo().await {
        for line in minutes {
            println!("{line}");
        }
        println!();
    }
    println!("A fleet of councils, one minutes book each:");
    match fleet_demo().await {
        Ok(books) => {
            for (id, minutes) in books {
                println!("{id}:");
                for line in minutes {
                    println!("  {line}");
                }
            }
        }
        Err(error) => {
            eprintln!("fleet demo failed: {error}");
            std::process::exit(1);
        }
    }
}
