//! The journal: what it writes, and replay refusing every bad line.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use statewright::persist::ReplayErrorKind;
use statewright::{state_machine, Cx, Handler, Journal, ReplayError, Runner, StateMachine, Step};

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

/// A writer the test can read while the runner writes; it counts the
/// writes it was handed.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>, Arc<AtomicUsize>);

impl Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        self.1.fetch_add(1, Ordering::Relaxed);
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

    fn writes(&self) -> usize {
        self.1.load(Ordering::Relaxed)
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

/// Replaces `from` with `to` in line `index` and stamps the lines from it
/// on with checksums chained as the journal chains them, as a bug (not
/// corruption) would write them.
fn edit(bytes: &[u8], index: usize, from: &str, to: &str) -> Vec<u8> {
    let mut lines = lines(bytes);
    let line = &lines[index];
    assert!(line.contains(from), "{from:?} not in {line}");
    lines[index] = line.replacen(from, to, 1);
    restamp(&mut lines, index);
    join(&lines)
}

/// The checksum of `line`, as written after its `"crc":`.
fn crc_of(line: &str) -> u32 {
    let at = line.rfind(",\"crc\":").unwrap();
    line[at + 7..line.len() - 1].parse().unwrap()
}

/// Re-stamps `lines[from..]`, each continuing the checksum of the line
/// before it (0 before the first).
fn restamp(lines: &mut [String], from: usize) {
    for index in from..lines.len() {
        let previous = if index == 0 {
            0
        } else {
            crc_of(&lines[index - 1])
        };
        let line = &lines[index];
        let content = &line[..line.rfind(",\"crc\":").unwrap()];
        let mut hasher = crc32fast::Hasher::new_with_initial(previous);
        hasher.update(content.as_bytes());
        lines[index] = format!("{content},\"crc\":{}}}", hasher.finalize());
    }
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
    assert_eq!(text.len(), 7);
    assert!(text[0].starts_with(r#"{"journal":"statewright","format":2,"run":""#));
    assert!(text[0].contains(r#","machine":"Turnstile","#));
    // The fingerprint as every message shows it.
    let hex = format!(r#""fingerprint":"{:#018x}""#, Turnstile::FINGERPRINT);
    assert!(text[0].contains(&hex), "{}", text[0]);
    assert!(
        text[6].starts_with(r#"{"finished":"Stopped("#),
        "{}",
        text[6]
    );
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
    assert!(replayed.finished);
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
                // The header and five transitions, then the `finished` line.
                assert_eq!(replayed.seq, (complete_lines - 1).min(5));
                assert_eq!(replayed.finished, complete_lines == 7, "cut at {length}");
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
    // Re-stamped as a buggy writer would: the chain holds, the seq does not.
    let mut repeated = lines(&bytes);
    repeated.insert(3, repeated[2].clone());
    restamp(&mut repeated, 3);
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
    restamp(&mut gap, 2);
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
    assert!(replayed.finished, "the resumed run ended");
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
    // Run one (header, three transitions, `finished`), the resumed run
    // (header, one transition, `finished`), then the fork's header.
    assert_eq!(error.line, 9);
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

/// A line removed, repeated, moved or taken from another run of the same
/// machine breaks the checksum chain at its line, although each line on its
/// own is sound.
#[tokio::test(start_paused = true)]
async fn a_spliced_reordered_or_removed_line_fails_at_its_line() {
    let (ours, theirs) = (lines(&small_journal().await), lines(&small_journal().await));
    assert_eq!(
        ours[3].split(",\"at\"").next(),
        theirs[3].split(",\"at\"").next()
    );
    let chain_broken_at = |lines: &[String], line: u64| {
        let error = error_of(&join(lines));
        assert_eq!(error.line, line, "{error}");
        assert!(
            error
                .to_string()
                .contains("does not match the content and the line before it"),
            "{error}"
        );
    };
    let mut spliced = ours.clone();
    spliced[3] = theirs[3].clone();
    chain_broken_at(&spliced, 4);
    let mut reordered = ours.clone();
    reordered.swap(2, 3);
    chain_broken_at(&reordered, 3);
    let mut removed = ours.clone();
    removed.remove(2);
    chain_broken_at(&removed, 3);
    let mut repeated = ours.clone();
    repeated.insert(3, ours[2].clone());
    chain_broken_at(&repeated, 4);
    // Cut at a line's end: sound, but not finished.
    let cut = replay(&join(&ours[..4])).unwrap();
    assert!(!cut.finished);
    // A transition after `finished` (a bug that went on writing).
    let mut after = ours.clone();
    after.push(ours[5].clone());
    restamp(&mut after, 7);
    let error = error_of(&join(&after));
    assert_eq!(error.line, 8);
    assert!(
        matches!(error.kind, ReplayErrorKind::AfterFinished),
        "{error}"
    );
}

/// A line longer than `Journal::MAX_LINE` is refused at its number without
/// being read whole.
#[test]
fn a_line_longer_than_the_limit_is_refused_unread() {
    let mut bytes = Vec::with_capacity(Journal::MAX_LINE + 64);
    bytes.extend_from_slice(b"{\"journal\":\"");
    bytes.resize(Journal::MAX_LINE + 10, b'x');
    bytes.push(b'\n');
    let error = error_of(&bytes);
    assert_eq!(error.line, 1);
    assert!(matches!(error.kind, ReplayErrorKind::TooLong), "{error}");
}

/// A journal whose last line was cut short (a crash mid-write) is not
/// appended to: a header after the torn line would hide where it tore.
#[test]
fn appending_to_a_journal_cut_short_is_refused() {
    let path = std::env::temp_dir().join(format!("statewright-torn-{}.jsonl", std::process::id()));
    std::fs::write(&path, b"{\"journal\":\"statewright\",\"format\":2,\"ru").unwrap();
    let error = Journal::append(&path).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    assert!(error.to_string().contains("cut short"), "{error}");
    std::fs::write(&path, b"{\"seq\":1}\n").unwrap();
    let error = Journal::append(&path).unwrap_err();
    assert!(error.to_string().contains("no checksum"), "{error}");
    std::fs::remove_file(&path).unwrap();
}

/// Group commit: events queued together are written together (one write
/// for the batch), and still no sender hears back before its line is
/// written.
#[tokio::test(start_paused = true)]
async fn queued_events_share_one_write_and_every_reply_follows_its_line() {
    const SENDERS: u64 = 20;
    let buffer = Shared::default();
    let handle = Runner::new(Attendant, Turnstile::Locked)
        .recorder(Journal::new(buffer.clone()))
        .spawn();
    within(handle.send(Push::Coin("first"))).await.unwrap();
    let writes_before = buffer.writes();
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            let (handle, buffer) = (handle.clone(), buffer.clone());
            tokio::spawn(async move {
                let applied = handle.send(Push::Coin("more")).await.unwrap();
                let statewright::Applied::Transitioned { seq, .. } = applied else {
                    panic!("{applied:?}");
                };
                let written = lines(&buffer.bytes());
                let needle = format!("{{\"seq\":{seq},");
                assert!(
                    written.iter().any(|line| line.starts_with(&needle)),
                    "seq {seq} answered before its line was written"
                );
            })
        })
        .collect();
    for sender in senders {
        within(sender).await.unwrap();
    }
    let writes = buffer.writes() - writes_before;
    assert!(
        writes < usize::try_from(SENDERS).unwrap() / 2,
        "{SENDERS} queued events took {writes} writes"
    );
    handle.stop().unwrap();
    within(handle.join()).await;
    let replayed = replay(&buffer.bytes()).unwrap();
    assert_eq!(replayed.seq, SENDERS + 1);
}

/// A journal of `next_release::Turnstile` (another table): `seq` 1 and 2
/// are the given states after a `Locked` header.
fn next_release_journal(steps: &[next_release::Turnstile]) -> Vec<u8> {
    use next_release::Turnstile as Next;
    let buffer = Shared::default();
    let mut journal = Journal::new(buffer.clone());
    journal.write_header(&Next::Locked, 0).unwrap();
    let mut from = next_release::TurnstileKind::Locked;
    for (seq, to) in (1..).zip(steps) {
        journal
            .write_transition(seq, from, to, "Push", false)
            .unwrap();
        from = to.kind();
    }
    buffer.bytes()
}

/// The mapping a migration from `next_release` uses: same names, same data.
fn same_names(old: serde_json::Value) -> Result<Turnstile, String> {
    serde_json::from_value(old).map_err(|error| error.to_string())
}

#[test]
fn a_journal_of_an_earlier_table_replays_only_through_a_migration_that_checks_every_step() {
    use next_release::Turnstile as Next;
    let from = Next::FINGERPRINT;
    let unlocked = Next::Unlocked {
        coins: 1,
        note: "a".into(),
    };
    let bytes = next_release_journal(&[unlocked, Next::Locked]);
    assert!(matches!(
        replay(&bytes).unwrap_err().kind,
        ReplayErrorKind::TableChanged { .. }
    ));
    let replayed = Journal::replay_migrating(&bytes[..], from, same_names).unwrap();
    assert_eq!((replayed.state, replayed.seq), (Turnstile::Locked, 2));

    // `Locked -> Broken` was an edge of that table, not of this one.
    let broken = next_release_journal(&[Next::Broken]);
    let error = Journal::replay_migrating(&broken[..], from, same_names).unwrap_err();
    assert_eq!(error.line, 2);
    assert!(matches!(error.kind, ReplayErrorKind::Illegal(_)), "{error}");

    // A state the mapping refuses fails at its line.
    let refused = Journal::replay_migrating(&bytes[..], from, |old| {
        if old.get("Unlocked").is_some() {
            Err("unlocked turnstiles are gone".to_owned())
        } else {
            same_names(old)
        }
    })
    .unwrap_err();
    assert_eq!(refused.line, 2);
    assert!(
        refused.to_string().contains("unlocked turnstiles are gone"),
        "{refused}"
    );
}
