//! What is emitted when the table has errors: the generated items, built
//! from what could be read of the table, so that code using the machine
//! compiles on and the one real mistake is the only error.
//!
//! The items are those of a sound table, expanded from a copy of the model
//! with every part removed that would itself fail to compile: repeated
//! edges and events, edges whose fields differ from their event's, events
//! that shadow a generated method. An edge to a misspelt state goes to the
//! state the error suggests.

use crate::idents::unraw;
use crate::model::{Edge, Machine, Style};
use crate::names::RESERVED_METHODS;
use proc_macro2::TokenStream;
use std::collections::BTreeSet;

/// The generated items for a machine that failed its checks, or nothing
/// when no sound stand-in exists (no states, generics, a `#[cfg]` on a
/// tuple field).
pub fn expand(mut machine: Machine) -> TokenStream {
    // A `#[cfg]` on a tuple field (an error) has no place in a pattern.
    let positional_cfg = machine.states.iter().any(|state| {
        state.fields.style == Style::Tuple
            && state
                .fields
                .fields
                .iter()
                .any(|field| !field.cfg.is_empty())
    });
    if machine.states.is_empty() || machine.has_generics || positional_cfg {
        return TokenStream::new();
    }
    let written = std::mem::take(&mut machine.edges);
    let guessed = std::mem::take(&mut machine.guessed_edges);
    let mut kept: Vec<Edge> = Vec::new();
    let mut seen = Seen::default();
    for edge in written.into_iter().chain(guessed) {
        if compiles_beside(&machine, &mut seen, &edge) {
            kept.push(edge);
        }
    }
    // Events that would share a variant: the later ones get one of their own.
    let mut variants = BTreeSet::new();
    for (index, event) in machine.events.iter_mut().enumerate() {
        if !variants.insert(unraw(&event.variant)) {
            event.variant = quote::format_ident!("__Event{}", index);
        }
    }
    machine.set_edges(kept);
    // A conditional initial state may not exist: start from one that does.
    let initial = machine.initial();
    if machine.states[initial].cfg.is_some() {
        let Some(always) = machine.states.iter().position(|state| state.cfg.is_none()) else {
            return TokenStream::new();
        };
        for state in &mut machine.states {
            state.initial.clear();
        }
        machine.states[always].initial.push(machine.ident.span());
    }
    crate::expand::expand(&machine)
}

/// The edges kept so far, by what a new one must not repeat.
#[derive(Default)]
struct Seen {
    /// (from, to, event) of every kept edge.
    edges: BTreeSet<(usize, usize, Option<usize>)>,
    /// (from, event) of every kept named edge.
    events: BTreeSet<(usize, usize)>,
}

/// Whether `edge` can join the kept edges without making the expansion
/// fail; if so, it is recorded as kept.
fn compiles_beside(machine: &Machine, seen: &mut Seen, edge: &Edge) -> bool {
    if seen.edges.contains(&(edge.from, edge.to, edge.event)) {
        return false;
    }
    if let Some(index) = edge.event {
        let event = &machine.events[index];
        let fits_payload = machine.states[event.payload]
            .fields
            .same_as(&machine.states[edge.to].fields);
        let shadows = RESERVED_METHODS.contains(&event.name.as_str());
        if !fits_payload || shadows || !seen.events.insert((edge.from, index)) {
            return false;
        }
    }
    seen.edges.insert((edge.from, edge.to, edge.event));
    true
}
