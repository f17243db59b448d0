//! What is emitted when the table has errors: the generated items, built
//! from what could be read of the table, so that code using the machine
//! compiles on and the one real mistake is the only error.
//!
//! The items are those of a sound table, expanded from a copy of the model
//! with every part removed that would itself fail to compile: repeated
//! edges and events, edges whose fields differ from their event's, events
//! that shadow a generated method. An edge to a misspelt state goes to the
//! state the error suggests.

use crate::expand::{self, MODULE_TRAIT, RESERVED_METHODS};
use crate::idents::unraw;
use crate::model::{Edge, Machine};
use proc_macro2::TokenStream;

/// The generated items for a machine that failed its checks, or nothing
/// when no sound stand-in exists (no states, or generics).
pub(crate) fn expand(mut machine: Machine) -> TokenStream {
    if machine.states.is_empty() || machine.has_generics {
        return TokenStream::new();
    }
    let written = std::mem::take(&mut machine.edges);
    let guessed = std::mem::take(&mut machine.guessed_edges);
    let mut kept: Vec<Edge> = Vec::new();
    for edge in written.into_iter().chain(guessed) {
        if compiles_beside(&machine, &kept, &edge) {
            kept.push(edge);
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
    let clashes = machine
        .states
        .iter()
        .any(|state| state.name == MODULE_TRAIT);
    expand::expand_items(&machine, !clashes)
}

/// Whether `edge` can join `kept` without making the expansion fail.
fn compiles_beside(machine: &Machine, kept: &[Edge], edge: &Edge) -> bool {
    let repeated = kept
        .iter()
        .any(|other| other.from == edge.from && other.to == edge.to && other.event == edge.event);
    let Some(event) = edge.event else {
        return !repeated;
    };
    let twice_from_here = kept
        .iter()
        .any(|other| other.from == edge.from && other.event == Some(event));
    let event = &machine.events[event];
    let fits_payload = machine.states[event.payload]
        .fields
        .same_as(&machine.states[edge.to].fields);
    let shadows = RESERVED_METHODS.contains(&unraw(&event.ident).as_str());
    !repeated && !twice_from_here && fits_payload && !shadows
}
