//! Large tables expand in time and space that grow with the edges, not with
//! states x events. (Sizes are asserted; times are printed, never asserted.)

use std::fmt::Write;
use std::str::FromStr;
use std::time::Instant;

use proc_macro2::TokenStream;

/// `states` data-less states in a ring; each state has `per_state` edges,
/// each with an event of its own: `states * per_state` distinct events.
fn machine(states: usize, per_state: usize) -> String {
    let mut text = String::from("enum Big {\n");
    for state in 0..states {
        if state == 0 {
            text.push_str("#[initial]\n");
        }
        let arrows: Vec<String> = (0..per_state)
            .map(|k| format!("e{state}_k{k} => S{}", (state + k + 1) % states))
            .collect();
        let _ = write!(text, "#[on({})]\nS{state},\n", arrows.join(", "));
    }
    text.push('}');
    text
}

#[test]
fn a_250_state_machine_with_5000_events_expands_small() {
    let item = TokenStream::from_str(&machine(250, 20)).unwrap();
    let start = Instant::now();
    let output = statewright_codegen::expand(TokenStream::new(), item);
    let elapsed = start.elapsed();
    let text = output.to_string();
    assert!(!text.contains("compile_error"), "the table is sound");
    println!(
        "250 states, 5,000 events: expanded in {elapsed:?}, {} bytes of tokens",
        text.len()
    );
    assert!(text.len() < 5_000_000, "{} bytes of tokens", text.len());
}
