//! The journal: what it writes, and replay refusing every bad line.

use std::io::Write;
use std::sync::{Arc, Mutex};

use statewright::persist::ReplayErrorKind;
use statewright::{state_machine, Cx, Handler, Journal, ReplayError, Runner, Step};

mod support;

use support::within;

#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Turnstile {
    #[initial]
    #[to(Unlocked)]
    Locked,
    #[to(Locked, Broken)]
    Unlocked { coins: u32, note: String },
    #[terminal]
    Broken,
}

mod other {
    use super::state_machine;

    /// Same shape, another machine.
    #[state_machine]
    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    pub(crate) enum Gate {
        #[initial]
        #[to(Unlocked)]
        Locked,
        #[to(Locked, Broken)]
        Unlocked { coins: u32, note: String },
        #[terminal]
        Broken,
    }
}

mod next_release {
    use super::state_machine;

    /// The same machine with one more edge: another table.
    #[state_machine]
    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    pub(crate) enum Turnstile {
        #[initial]
        #[to(Unlocked, Broken)]
        Locked,
        #[to(Locked, Broken)]
        Unlocked { coins: u32, note: String },
        #[terminal]
        Broken,
    }
}

#[derive(Debug, Clone)]
enum Push {
    Coin(&'static str),
    Pass,
}

struct Attendant;

impl Handler for Attendant {
    type State = Turnstile;
    type Event = Push;

    fn handle(&mut self, state: &Turnstile, push: Push, _: &mut Cx<Self>) -> Step<Turnstile> {
        match (state, push) {
            (Turnstile::Locked, Push::Coin(note)) => Step::to(Turnstile::Unlocked {
                coins: 1,
                note: note.into(),
            }),
            (Turnstile::Unlocked { coins, .. }, Push::Coin(note)) => {
                Step::update(Turnstile::Unlocked {
                    coins: coins + 1,
                    note: note.into(),
                })
            }
            (Turnstile::Unlocked { .. }, Push::Pass) => Step::to(Turnstile::Locked),
            _ => Step::reject("no"),
        }
    }
}

/// A writer the test can read while the runner writes.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

const PUSHES: [Push; 5] = [
    Push::Coin("a \"quoted\" 1"),
    Push::Coin("ü 2"),
    Push::Pass,
    Push::Coin("3"),
    Push::Coin("4"),
];

/// A small valid journal: a header and five transitions (two updates).
async fn small_journal() -> Vec<u8> {
    let buffer = Shared::default();
    let handle = Runner::new(Attendant, Turnstile::Locked)
        .recorder(Journal::new(buffer.clone()))
        .spawn();
    for (index, push) in PUSHES.into_iter().enumerate() {
        within(handle.send(push)).await.unwrap();
        // Written whole and flushed before the reply.
        let lines = lines(&buffer.bytes()).len();
        assert_eq!(lines, index + 2, "a line per transition before the reply");
    }
    handle.stop().unwrap();
    within(handle.join()).await;
    buffer.bytes()
}

fn replay(bytes: &[u8]) -> Result<statewright::Replayed<Turnstile>, ReplayError<TurnstileKind>> {
    Journal::replay::<Turnstile>(bytes)
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Replaces `from` with `to` in line `index` and stamps the line with the
/// checksum of its new content, as a bug (not corruption) would write it.
fn edit(bytes: &[u8], index: usize, from: &str, to: &str) -> Vec<u8> {
    let mut lines = lines(bytes);
    let line = &lines[index];
    assert!(line.contains(from), "{from:?} not in {line}");
    let content = line[..line.rfind(",\"crc\":").unwrap()].replacen(from, to, 1);
    let crc = crc32fast::hash(content.as_bytes());
    lines[index] = format!("{content},\"crc\":{crc}}}");
    join(&lines)
}

fn join(lines: &[String]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|line| format!("{line}\n").into_bytes())
        .collect()
}

fn error_of(bytes: &[u8]) -> ReplayError<TurnstileKind> {
    match replay(bytes) {
        Ok(replayed) => panic!("replayed to {replayed:?}"),
        Err(error) => error,
    }
}

#[tokio::test(start_paused = true)]
async fn a_journal_replays_to_the_runs_state() {
    let bytes = small_journal().await;
    let text = lines(&bytes);
    assert_eq!(text.len(), 6);
    assert!(text[0].starts_with(r#"{"journal":"statewright","format":1,"machine":"Turnstile","#));
    assert!(text[1].starts_with(r#"{"seq":1,"from":"Locked","to":{"Unlocked":{"coins":1,"note":"a \"quoted\" 1"}},"event":"Coin(\"a \\\"quoted\\\" 1\")","update":false,"#), "{}", text[1]);
    let replayed = replay(&bytes).unwrap();
    assert_eq!(
        replayed.state,
        Turnstile::Unlocked {
            coins: 2,
            note: "4".into()
        }
    );
    assert_eq!((replayed.seq, replayed.transitions), (5, 5));
}

/// Every byte of a small valid journal replaced by each of the 255 other
/// values: the checksum catches it, inside strings and numbers too.
#[tokio::test(start_paused = true)]
async fn every_single_byte_change_is_an_error_with_its_line_number() {
    let bytes = small_journal().await;
    let line_count = lines(&bytes).len() as u64;
    let mut corrupt = bytes.clone();
    for position in 0..bytes.len() {
        for mask in 1..=255u8 {
            corrupt[position] = bytes[position] ^ mask;
            let error = error_of(&corrupt);
            assert!(
                (1..=line_count).contains(&error.line),
                "byte {position} ^ {mask:#x}: line {}",
                error.line
            );
        }
        corrupt[position] = bytes[position];
    }
}

#[tokio::test(start_paused = true)]
async fn every_truncation_is_an_error_unless_it_falls_between_lines() {
    let bytes = small_journal().await;
    let mut complete_lines = 0;
    for length in 0..=bytes.len() {
        let cut = &bytes[..length];
        match replay(cut) {
            Ok(replayed) => {
                assert!(
                    length > 0 && cut[length - 1] == b'\n',
                    "cut at {length} replayed"
                );
                assert_eq!(replayed.seq, complete_lines - 1);
            }
            Err(error) if length == 0 => assert!(matches!(error.kind, ReplayErrorKind::Empty)),
            Err(error) => {
                assert!(cut[length - 1] != b'\n', "a whole prefix refused: {error}");
                assert!(matches!(error.kind, ReplayErrorKind::CutShort), "{error}");
                assert_eq!(error.line, complete_lines + 1);
            }
        }
        if length < bytes.len() && bytes[length] == b'\n' {
            complete_lines += 1;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn another_machine_or_table_is_refused_at_the_header() {
    let bytes = small_journal().await;
    let error = Journal::replay::<other::Gate>(&bytes[..]).unwrap_err();
    assert_eq!(error.line, 1);
    assert_eq!(
        error.to_string(),
        "journal line 1: journal of machine `Turnstile`, not `Gate`"
    );
    let error = Journal::replay::<next_release::Turnstile>(&bytes[..]).unwrap_err();
    assert_eq!(error.line, 1);
    assert!(
        matches!(error.kind, ReplayErrorKind::TableChanged { .. }),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_step_the_table_forbids_is_refused_at_its_line() {
    let bytes = small_journal().await;
    // Line 4 is `Unlocked -> Locked`; make it `Unlocked -> Unlocked` (no self-edge).
    let illegal = edit(
        &bytes,
        3,
        r#""to":"Locked""#,
        r#""to":{"Unlocked":{"coins":9,"note":""}}"#,
    );
    let error = error_of(&illegal);
    assert_eq!(error.line, 4);
    assert_eq!(
        error.to_string(),
        "journal line 4: illegal transition in `Turnstile`: `Unlocked` -> `Unlocked` (allowed: `Locked`, `Broken`)"
    );
    // An update that changes the kind.
    let moved = edit(&bytes, 3, r#""update":false"#, r#""update":true"#);
    let error = error_of(&moved);
    assert_eq!(error.line, 4);
    assert!(
        matches!(error.kind, ReplayErrorKind::KindChanged(_)),
        "{error}"
    );
    // A transition that does not start where the history is.
    let elsewhere = edit(&bytes, 2, r#""from":"Unlocked""#, r#""from":"Locked""#);
    let error = error_of(&elsewhere);
    assert_eq!(error.line, 3);
    assert!(
        matches!(error.kind, ReplayErrorKind::StateMismatch { .. }),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_seq_that_repeats_or_jumps_is_refused() {
    let bytes = small_journal().await;
    let mut repeated = lines(&bytes);
    repeated.insert(3, repeated[2].clone());
    let error = error_of(&join(&repeated));
    assert_eq!(error.line, 4);
    assert!(
        matches!(
            error.kind,
            ReplayErrorKind::Seq {
                expected: 3,
                found: 2
            }
        ),
        "{error}"
    );

    let mut gap = lines(&bytes);
    gap.remove(2);
    let error = error_of(&join(&gap));
    assert_eq!(error.line, 3);
    assert!(
        matches!(
            error.kind,
            ReplayErrorKind::Seq {
                expected: 2,
                found: 3
            }
        ),
        "{error}"
    );

    // A header edited to a `seq` no run reaches: the next line would wrap.
    for seq in [i64::MAX as u64, u64::MAX] {
        let edited = edit(&bytes, 0, "\"seq\":0", &format!("\"seq\":{seq}"));
        let error = error_of(&edited);
        assert_eq!(error.line, 2);
        assert!(
            matches!(error.kind, ReplayErrorKind::SeqExhausted),
            "{error}"
        );
    }
}

#[test]
fn an_empty_journal_or_one_without_a_header_is_refused() {
    assert!(matches!(error_of(b"").kind, ReplayErrorKind::Empty));
    let no_header = br#"{"seq":1,"from":"Locked","to":"Locked","event":"","update":false,"at":{"secs_since_epoch":0,"nanos_since_epoch":0}"#;
    let content = &no_header[..];
    let line = format!(
        "{},\"crc\":{}}}\n",
        String::from_utf8_lossy(content),
        crc32fast::hash(content)
    );
    let error = error_of(line.as_bytes());
    assert_eq!(error.line, 1);
    assert!(
        matches!(error.kind, ReplayErrorKind::MissingHeader),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_journal_appended_across_a_restore_replays_as_one_history() {
    let path =
        std::env::temp_dir().join(format!("statewright-journal-{}.jsonl", std::process::id()));
    let handle = Runner::new(Attendant, Turnstile::Locked)
        .recorder(Journal::create(&path).unwrap())
        .spawn();
    within(handle.send(Push::Coin("1"))).await.unwrap();
    within(handle.send(Push::Coin("2"))).await.unwrap();
    let checkpoint = within(handle.checkpoint()).await.unwrap();
    within(handle.send(Push::Pass)).await.unwrap();
    let late = within(handle.checkpoint()).await.unwrap();
    handle.stop().unwrap();
    within(handle.join()).await;

    // Resume from the latest checkpoint: one history.
    let resumed = Runner::restore(Attendant, late)
        .unwrap()
        .recorder(Journal::append(&path).unwrap())
        .spawn();
    within(resumed.send(Push::Coin("3"))).await.unwrap();
    resumed.stop().unwrap();
    within(resumed.join()).await;
    let bytes = std::fs::read(&path).unwrap();
    let replayed = replay(&bytes).unwrap();
    assert_eq!((replayed.seq, replayed.transitions), (4, 4));
    assert_eq!(
        replayed.state,
        Turnstile::Unlocked {
            coins: 1,
            note: "3".into()
        }
    );

    // Resuming from an older checkpoint forks the history: refused at its header.
    let forked = Runner::restore(Attendant, checkpoint)
        .unwrap()
        .recorder(Journal::append(&path).unwrap())
        .spawn();
    forked.stop().unwrap();
    within(forked.join()).await;
    let error = error_of(&std::fs::read(&path).unwrap());
    assert_eq!(error.line, 7);
    assert!(
        matches!(
            error.kind,
            ReplayErrorKind::Seq {
                expected: 4,
                found: 2
            }
        ),
        "{error}"
    );
    std::fs::remove_file(&path).unwrap();
}
