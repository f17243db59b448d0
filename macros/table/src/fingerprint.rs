//! `StateMachine::FINGERPRINT`: a stable 64-bit hash of the table.
//!
//! Stable means the same value on every platform, compiler and build, so it
//! is FNV-1a over a canonical text, never `std::hash`. The text holds what a
//! restore depends on: the machine's name, its states in declaration order
//! (their kinds' discriminants) with their initial and terminal marks, and
//! its edges with their events, sorted so that reordering the names inside
//! one `#[to(..)]` changes nothing. Doc comments and field types are not in
//! it: they change no step a restored run may take.

use crate::model::Machine;
use core::fmt::Write;

/// The canonical text the fingerprint hashes; one line per item.
pub fn canonical_table(machine: &Machine) -> String {
    let mut text = String::from("statewright table v1\n");
    let _ = writeln!(text, "machine {}", machine.name);
    let initial = machine.initial();
    for (index, state) in machine.states.iter().enumerate() {
        let _ = write!(text, "state {}", state.name);
        if index == initial {
            text.push_str(" initial");
        }
        if state.terminal.is_some() {
            text.push_str(" terminal");
        }
        text.push('\n');
    }
    let mut edges: Vec<(usize, usize, &str)> = machine
        .edges
        .iter()
        .map(|edge| {
            let event = edge
                .event
                .map_or("", |event| machine.events[event].name.as_str());
            (edge.from, edge.to, event)
        })
        .collect();
    edges.sort_unstable();
    for (from, to, event) in edges {
        let (from, to) = (&machine.states[from].name, &machine.states[to].name);
        let _ = writeln!(text, "edge {from} {to} {event}");
    }
    text
}

/// FNV-1a, 64 bits.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// The machine's fingerprint.
pub fn fingerprint(machine: &Machine) -> u64 {
    fnv1a(canonical_table(machine).as_bytes())
}

/// The fingerprint as a grouped hex literal (`0x89f7_29ac_abf6_93c4`), as
/// every message shows it; rustdoc shows the literal as written.
pub fn literal(machine: &Machine) -> proc_macro2::Literal {
    let value = fingerprint(machine);
    let hex = format!("{value:016x}");
    let grouped = format!(
        "0x{}_{}_{}_{}",
        &hex[..4],
        &hex[4..8],
        &hex[8..12],
        &hex[12..]
    );
    // A hex literal always parses; the decimal one is never needed.
    grouped
        .parse()
        .unwrap_or_else(|_| proc_macro2::Literal::u64_unsuffixed(value))
}

#[cfg(test)]
mod tests {
    use super::fnv1a;

    /// The published FNV-1a test vectors: the hash is the standard one.
    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
