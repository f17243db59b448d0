//! The table rules of DESIGN.md "Compile-time checks" that span several
//! attributes; each `check_*` reports every violation it finds.

use crate::errors::Errors;
use crate::idents::{snake_case, unraw};
use crate::model::{Edge, Machine};
use crate::names::{KIND_CONSTS, MACHINE_CONSTS, RESERVED_METHODS};
use std::collections::BTreeMap;

/// Runs every check. Where the table lost edges to earlier errors, the
/// checks that judge the whole graph assume the missing edges could be
/// anything, so they report the rest of the table without echoing those
/// errors.
pub fn check(machine: &Machine, errors: &mut Errors) {
    if machine.states.is_empty() {
        return;
    }
    check_state_names(machine, errors);
    check_initial(machine, errors);
    check_terminal_edges(machine, errors);
    check_duplicate_edges(machine, errors);
    check_event_per_state(machine, errors);
    check_event_payloads(machine, errors);
    check_event_names(machine, errors);
    // A misspelt target with a suggestion counts as meant for it.
    let mut guessed = vec![Vec::new(); machine.states.len()];
    for edge in &machine.guessed_edges {
        guessed[edge.from].push(edge.to);
    }
    check_dead_ends(machine, &guessed, errors);
    if !machine.allow_unreachable {
        check_reachable(machine, &guessed, errors);
    }
}

/// A state is a variant of the kind enum and of the machine, beside their
/// associated consts.
fn check_state_names(machine: &Machine, errors: &mut Errors) {
    for state in &machine.states {
        let owner = if KIND_CONSTS.contains(&state.name.as_str()) {
            unraw(&machine.kind)
        } else if MACHINE_CONSTS.contains(&state.name.as_str()) {
            machine.name.clone()
        } else {
            continue;
        };
        errors.error(
            state.ident.span(),
            format!(
                "state `{0}` would make `{owner}::{0}` ambiguous: `#[state_machine]` generates a const of that name; rename the state",
                state.name
            ),
        );
    }
}

fn check_initial(machine: &Machine, errors: &mut Errors) {
    let marks: Vec<_> = machine
        .states
        .iter()
        .flat_map(|state| state.initial.iter().map(move |span| (state, *span)))
        .collect();
    match marks.as_slice() {
        [] if machine.states.len() > 1 => errors.error(
            machine.ident.span(),
            format!(
                "`{}` has no `#[initial]` state; mark the state a new machine starts in",
                machine.ident
            ),
        ),
        [(first_state, first), rest @ ..] => {
            if first_state.cfg.is_some() {
                errors.error(
                    first_state.ident.span(),
                    format!(
                        "the initial state `{}` is under `#[cfg]`; a machine must always have its initial state",
                        first_state.name
                    ),
                );
            }
            for (state, span) in rest
                .iter()
                .filter(|(state, _)| state.ident != first_state.ident)
            {
                errors.duplicate(
                    *span,
                    format!(
                        "`{}` is marked `#[initial]` but so is `{}`; a machine has exactly one initial state",
                        state.ident, first_state.ident
                    ),
                    *first,
                    "first `#[initial]`",
                );
            }
        }
        [] => {}
    }
}

fn check_terminal_edges(machine: &Machine, errors: &mut Errors) {
    for (index, state) in machine.states.iter().enumerate() {
        if state.terminal.is_some() && machine.edges_from(index).next().is_some() {
            errors.error(
                state.ident.span(),
                format!(
                    "state `{}` is `#[terminal]` but has outgoing edges; remove the edges or the attribute",
                    state.ident
                ),
            );
        }
    }
}

/// Skips states whose edges may be missing: a mistake reported elsewhere
/// must not be reported again as a dead end.
fn check_dead_ends(machine: &Machine, guessed: &[Vec<usize>], errors: &mut Errors) {
    if machine.from_any_lost {
        return;
    }
    for (index, state) in machine.states.iter().enumerate() {
        let single_state = machine.states.len() == 1;
        if state.terminal.is_none()
            && !single_state
            && !state.edges_lost
            && guessed[index].is_empty()
            && machine.edges_from(index).next().is_none()
        {
            errors.error(
                state.ident.span(),
                format!(
                    "state `{}` has no way out; mark it `#[terminal]` or give it an edge",
                    state.ident
                ),
            );
        }
    }
}

fn check_duplicate_edges(machine: &Machine, errors: &mut Errors) {
    for (position, edge) in machine.edges.iter().enumerate() {
        let first = same_source_before(machine, position)
            .find(|earlier| earlier.to == edge.to && earlier.event == edge.event);
        if let Some(first) = first {
            let source = if edge.from_any {
                "; `#[from_any]` already adds an edge from every other non-terminal state"
            } else {
                ""
            };
            errors.duplicate(
                edge.span,
                format!("duplicate edge {}{source}", describe(machine, edge)),
                first.span,
                "first declared",
            );
        }
    }
}

/// The edges before `position` that leave the same state, first one first
/// (edges are grouped by source, so this is a slice).
fn same_source_before(machine: &Machine, position: usize) -> impl Iterator<Item = &Edge> {
    let group = &machine.sources[machine.edges[position].from];
    machine.edges[group.start..position].iter()
}

fn check_event_per_state(machine: &Machine, errors: &mut Errors) {
    for (position, edge) in machine.edges.iter().enumerate() {
        let Some(event) = edge.event else { continue };
        let first = same_source_before(machine, position)
            .find(|earlier| earlier.event == Some(event) && earlier.to != edge.to);
        if let Some(first) = first {
            let name = &machine.events[event].ident;
            errors.duplicate(
                edge.span,
                format!(
                    "event `{name}` leaves `{}` twice, to `{}` and `{}`; an event has one target per state",
                    machine.states[edge.from].ident,
                    machine.states[first.to].ident,
                    machine.states[edge.to].ident
                ),
                first.span,
                "first declared",
            );
        }
    }
}

fn check_event_payloads(machine: &Machine, errors: &mut Errors) {
    let mut reported = Vec::new();
    for edge in &machine.edges {
        let Some(event) = edge.event else { continue };
        let payload = machine.events[event].payload;
        if machine.states[payload]
            .fields
            .same_as(&machine.states[edge.to].fields)
            || reported.contains(&(event, edge.to))
        {
            continue;
        }
        reported.push((event, edge.to));
        errors.error(
            edge.span,
            format!(
                "event `{}` enters `{}` and `{}`, whose fields differ; an event carries its target's fields, so use two event names",
                machine.events[event].ident,
                machine.states[payload].ident,
                machine.states[edge.to].ident
            ),
        );
    }
}

fn check_event_names(machine: &Machine, errors: &mut Errors) {
    let mut variants: BTreeMap<String, &str> = BTreeMap::new();
    for event in &machine.events {
        let name = event.name.as_str();
        if RESERVED_METHODS.contains(&name) {
            errors.error(
                event.ident.span(),
                format!(
                    "event `{name}` would clash with the generated method `{name}`; rename the event"
                ),
            );
        } else if snake_case(name) != name || name.starts_with('_') || name.contains("__") {
            errors.error(
                event.ident.span(),
                format!(
                    "event `{name}` is not snake_case; write `{}`",
                    snake_cased(name)
                ),
            );
        } else if let Some(first) = variants.insert(unraw(&event.variant), name) {
            errors.error(
                event.ident.span(),
                format!(
                    "events `{first}` and `{name}` would both be the event variant `{}`; rename one of them",
                    unraw(&event.variant)
                ),
            );
        }
    }
}

/// `name` in snake_case with single underscores between words.
fn snake_cased(name: &str) -> String {
    snake_case(name)
        .split('_')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

fn check_reachable(machine: &Machine, guessed: &[Vec<usize>], errors: &mut Errors) {
    let initial = machine.initial();
    let mut reached = vec![false; machine.states.len()];
    reached[initial] = true;
    let mut queue = vec![initial];
    while let Some(from) = queue.pop() {
        // A state whose edges may be missing may have gone anywhere.
        let targets: Vec<usize> = if machine.states[from].edges_lost || machine.from_any_lost {
            (0..machine.states.len()).collect()
        } else {
            machine
                .edges_from(from)
                .map(|edge| edge.to)
                .chain(guessed[from].iter().copied())
                .collect()
        };
        for to in targets {
            if !reached[to] {
                reached[to] = true;
                queue.push(to);
            }
        }
    }
    for (state, reached) in machine.states.iter().zip(reached) {
        if !reached {
            errors.error(
                state.ident.span(),
                format!(
                    "state `{}` is unreachable from the initial state `{}`; add an edge to it or use `#[state_machine(allow_unreachable)]`",
                    state.ident, machine.states[initial].ident
                ),
            );
        }
    }
}

fn describe(machine: &Machine, edge: &Edge) -> String {
    let arrow = format!(
        "`{}` -> `{}`",
        machine.states[edge.from].ident, machine.states[edge.to].ident
    );
    match edge.event {
        Some(event) => format!("{arrow} on `{}`", machine.events[event].ident),
        None => arrow,
    }
}
