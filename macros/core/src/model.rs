//! The machine as a table: states, edges and events in declaration order,
//! names resolved to indices. Holds no `syn` nodes.

use crate::errors::{did_you_mean, Errors};
use crate::parse::{self, Fields};
use proc_macro2::{Ident, Span, TokenStream};

/// A machine whose names are resolved; `validate` checks its rules.
#[cfg_attr(test, derive(Debug))]
pub(crate) struct Machine {
    /// The enum's name.
    pub(crate) ident: Ident,
    /// The enum's visibility.
    pub(crate) vis: TokenStream,
    /// The enum's visibility, written from inside the typestate module.
    pub(crate) inner_vis: TokenStream,
    /// Std derives carried to generated structs.
    pub(crate) derives: Vec<Ident>,
    /// The typestate module's name.
    pub(crate) module: Ident,
    /// Whether unreachable states are allowed.
    pub(crate) allow_unreachable: bool,
    /// False when the written table lost marks or edges to errors (a
    /// malformed attribute, an unknown state): checks of the whole graph
    /// would then only echo those errors.
    pub(crate) table_is_complete: bool,
    /// States in declaration order.
    pub(crate) states: Vec<State>,
    /// Edges grouped by source state, each group in declaration order.
    pub(crate) edges: Vec<Edge>,
    /// Events in order of first use.
    pub(crate) events: Vec<Event>,
}

/// One state (variant).
#[cfg_attr(test, derive(Debug))]
pub(crate) struct State {
    /// The variant's name.
    pub(crate) ident: Ident,
    /// Its doc lines.
    pub(crate) docs: Vec<String>,
    /// Its fields.
    pub(crate) fields: Fields,
    /// Spans of its `#[initial]` marks.
    pub(crate) initial: Vec<Span>,
    /// The span of its `#[terminal]`, if any.
    pub(crate) terminal: Option<Span>,
}

/// One legal edge.
#[derive(Clone, Copy)]
#[cfg_attr(test, derive(Debug))]
pub(crate) struct Edge {
    /// Source state index.
    pub(crate) from: usize,
    /// Target state index.
    pub(crate) to: usize,
    /// Event index, for a named edge.
    pub(crate) event: Option<usize>,
    /// Where it was written: the target ident, or the `#[from_any]`.
    #[cfg_attr(test, allow(dead_code))]
    pub(crate) span: Span,
    /// Whether it came from `#[from_any]`.
    pub(crate) from_any: bool,
}

/// A named event.
#[cfg_attr(test, derive(Debug))]
pub(crate) struct Event {
    /// The `snake_case` name, as first written.
    pub(crate) ident: Ident,
    /// The `PascalCase` variant of the event enum.
    pub(crate) variant: Ident,
    /// The target of its first edge, whose fields are the payload.
    pub(crate) payload: usize,
}

impl Machine {
    pub(crate) fn from_parse(input: parse::Machine, errors: &mut Errors) -> Machine {
        let module = input.options.module.clone().unwrap_or_else(|| {
            Ident::new(&snake_case(&input.ident.to_string()), input.ident.span())
        });
        let states: Vec<State> = input
            .variants
            .iter()
            .map(|variant| State {
                ident: variant.ident.clone(),
                docs: variant.docs.clone(),
                fields: variant.fields.clone(),
                initial: variant.initial.clone(),
                terminal: variant.terminal.first().copied(),
            })
            .collect();
        let mut machine = Machine {
            ident: input.ident,
            vis: input.vis,
            inner_vis: input.inner_vis,
            derives: input.derives,
            module,
            allow_unreachable: input.options.allow_unreachable,
            table_is_complete: input.variants_complete,
            states,
            edges: Vec::new(),
            events: Vec::new(),
        };
        let mut by_source: Vec<Vec<Edge>> = vec![Vec::new(); machine.states.len()];
        for (from, variant) in input.variants.iter().enumerate() {
            for edge in &variant.edges {
                let Some(to) = machine.resolve(&edge.target, errors) else {
                    machine.table_is_complete = false;
                    continue;
                };
                let event = edge.event.as_ref().map(|event| machine.event(event, to));
                by_source[from].push(Edge {
                    from,
                    to,
                    event,
                    span: edge.target.span(),
                    from_any: false,
                });
            }
        }
        for (to, variant) in input.variants.iter().enumerate() {
            for from_any in &variant.from_any {
                let event = from_any
                    .event
                    .as_ref()
                    .map(|event| machine.event(event, to));
                for (from, edges) in by_source.iter_mut().enumerate() {
                    if from != to && machine.states[from].terminal.is_none() {
                        edges.push(Edge {
                            from,
                            to,
                            event,
                            span: from_any.event.as_ref().map_or(from_any.span, Ident::span),
                            from_any: true,
                        });
                    }
                }
            }
        }
        machine.edges = by_source.into_iter().flatten().collect();
        machine
    }

    fn resolve(&self, name: &Ident, errors: &mut Errors) -> Option<usize> {
        let found = self.states.iter().position(|state| state.ident == *name);
        if found.is_none() {
            let hint = did_you_mean(
                &name.to_string(),
                self.states
                    .iter()
                    .map(|state| state.ident.to_string())
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str),
            );
            errors.error(
                name.span(),
                format!("unknown state `{name}` in `{}`{hint}", self.ident),
            );
        }
        found
    }

    fn event(&mut self, ident: &Ident, target: usize) -> usize {
        if let Some(index) = self.events.iter().position(|event| event.ident == *ident) {
            return index;
        }
        self.events.push(Event {
            ident: ident.clone(),
            variant: Ident::new(&pascal_case(&ident.to_string()), ident.span()),
            payload: target,
        });
        self.events.len() - 1
    }

    /// The initial state; after `validate`, the one marked (or the only state).
    pub(crate) fn initial(&self) -> usize {
        self.states
            .iter()
            .position(|state| !state.initial.is_empty())
            .unwrap_or(0)
    }

    /// Edges leaving `from`, in declaration order.
    pub(crate) fn edges_from(&self, from: usize) -> impl Iterator<Item = &Edge> {
        self.edges.iter().filter(move |edge| edge.from == from)
    }

    /// Distinct targets of `from`, in declaration order.
    pub(crate) fn targets(&self, from: usize) -> Vec<usize> {
        let mut targets = Vec::new();
        for edge in self.edges_from(from) {
            if !targets.contains(&edge.to) {
                targets.push(edge.to);
            }
        }
        targets
    }

    /// Distinct events accepted in `from`, in declaration order.
    pub(crate) fn events_from(&self, from: usize) -> Vec<usize> {
        let mut events = Vec::new();
        for event in self.edges_from(from).filter_map(|edge| edge.event) {
            if !events.contains(&event) {
                events.push(event);
            }
        }
        events
    }

    /// Whether no state carries data (then dispatch is a table lookup).
    pub(crate) fn is_fieldless(&self) -> bool {
        self.states
            .iter()
            .all(|state| state.fields.fields.is_empty())
    }
}

pub(crate) fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let after_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let acronym_end = i > 0
                && chars[i - 1].is_uppercase()
                && chars.get(i + 1).is_some_and(|next| next.is_lowercase());
            if after_lower || acronym_end {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

pub(crate) fn pascal_case(name: &str) -> String {
    name.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        assert_eq!(snake_case("Worker"), "worker");
        assert_eq!(snake_case("RunInstance"), "run_instance");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(pascal_case("submit"), "Submit");
        assert_eq!(pascal_case("force_fail"), "ForceFail");
    }
}
