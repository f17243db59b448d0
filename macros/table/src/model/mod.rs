//! The machine as a table: states, edges and events in declaration order,
//! names resolved to indices. Holds no `syn` nodes.

use crate::errors::{closest, Errors};
use crate::idents::{self, pascal_case, unraw};
use crate::{input, names, types};
use generated::GeneratedNames;

mod generated;
pub use crate::input::{Fields, Style};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use std::collections::BTreeMap;

/// A machine whose names are resolved; `validate` checks its rules.
#[cfg_attr(test, derive(Debug))]
// Each flag is an independent fact about the input, read by one stage.
#[allow(clippy::struct_excessive_bools)]
pub struct Machine {
    /// The enum's name.
    pub ident: Ident,
    /// Its name as the user means it: `r#Job` is `Job`.
    pub name: String,
    /// The enum's visibility.
    pub vis: TokenStream,
    /// The enum's visibility, written from inside the typestate module.
    pub inner_vis: TokenStream,
    /// Std derives carried to generated structs.
    pub derives: Vec<Ident>,
    /// serde's derives, as written, carried to generated structs and events.
    pub serde_derives: Vec<TokenStream>,
    /// Whether the enum derives `Default`: the kind enum and the default
    /// state's typestate struct do too.
    pub derives_default: bool,
    /// The typestate module's name.
    pub module: Ident,
    /// The kind enum's name (`<Machine>Kind` unless renamed).
    pub kind: Ident,
    /// The event enum's name (`<Machine>Event` unless renamed).
    pub event_enum: Ident,
    /// The hidden module that holds the kind and event enums.
    pub items: Ident,
    /// The machine's name inside the typestate module.
    pub self_in_module: Ident,
    /// The typestate module's trait of legal edges.
    pub module_trait: Ident,
    /// Hidden aliases declared beside the enum for field types that the
    /// typestate module would otherwise shadow.
    pub aliases: Vec<(Ident, TokenStream)>,
    /// Lint levels for every generated item: the enum's `#[allow(..)]`,
    /// and `deprecated` when a state is (generated code names every state).
    pub lints: TokenStream,
    /// Whether the enum has generics, which nothing generated supports yet.
    pub has_generics: bool,
    /// Whether unreachable states are allowed.
    pub allow_unreachable: bool,
    /// `no_picture`: no SVG picture in the enum's docs.
    pub no_picture: bool,
    /// Whether a `#[from_any]` could not be read: any non-terminal state
    /// may then have had an edge the model lacks.
    pub from_any_lost: bool,
    /// States in declaration order.
    pub states: Vec<State>,
    /// Edges grouped by source state, each group in declaration order
    /// (set with [`Machine::set_edges`], which keeps `sources` in step).
    pub edges: Vec<Edge>,
    /// For each state, the range of `edges` that leave it.
    pub sources: Vec<std::ops::Range<usize>>,
    /// Events in order of first use.
    pub events: Vec<Event>,
    /// Edges to a misspelt state, aimed at the state the error suggests:
    /// the fallback emits them, so that code written against the intended
    /// table does not fail a second time, and the graph checks follow them,
    /// so a typo and an unrelated unreachable state show in one run.
    pub guessed_edges: Vec<Edge>,
}

/// One state (variant).
#[cfg_attr(test, derive(Debug))]
pub struct State {
    /// The variant's name.
    pub ident: Ident,
    /// Its name as the user means it: `r#Type` is `Type`.
    pub name: String,
    /// Its name in serde's formats, after `rename` and `rename_all`.
    pub serde_name: String,
    /// Whether it is the enum's `#[default]` variant.
    pub default: bool,
    /// Its attributes carried to its kind variant and typestate struct.
    pub attrs: TokenStream,
    /// When it is a state: the predicate of its `#[cfg(..)]` attributes;
    /// `None` for always.
    pub cfg: Option<TokenStream>,
    /// Its doc lines.
    pub docs: Vec<String>,
    /// Its fields.
    pub fields: Fields,
    /// Spans of its `#[initial]` marks.
    pub initial: Vec<Span>,
    /// The span of its `#[terminal]`, if any.
    pub terminal: Option<Span>,
    /// Whether edges from it may be missing (an attribute that could not be
    /// read, or an unknown target with no suggestion): checks of the whole
    /// graph then assume it may go anywhere.
    pub edges_lost: bool,
}

/// One legal edge.
#[derive(Clone, Copy)]
#[cfg_attr(test, derive(Debug))]
pub struct Edge {
    /// Source state index.
    pub from: usize,
    /// Target state index.
    pub to: usize,
    /// Event index, for a named edge.
    pub event: Option<usize>,
    /// Where it was written: the target ident, or the `#[from_any]`.
    #[cfg_attr(test, allow(dead_code))]
    pub span: Span,
    /// Whether it came from `#[from_any]`.
    pub from_any: bool,
}

/// A named event.
#[cfg_attr(test, derive(Debug))]
pub struct Event {
    /// The `snake_case` name, as first written.
    pub ident: Ident,
    /// Its name as the user means it: `r#type` is `type`.
    pub name: String,
    /// The `PascalCase` variant of the event enum.
    pub variant: Ident,
    /// The target of its first edge, whose fields are the payload.
    pub payload: usize,
}

impl Machine {
    pub fn from_parse(input: input::Machine, errors: &mut Errors) -> Machine {
        let name = unraw(&input.ident);
        let generated = GeneratedNames::of(&input, &name, errors);
        let state_names: Vec<String> = input
            .variants
            .iter()
            .map(|variant| variant.ident.to_string())
            .collect();
        let module_machine = names::module_machine(&state_names);
        let module_trait = names::module_trait(&state_names);
        // Names the typestate module declares, which shadow the enum's scope.
        let module_items: Vec<String> = state_names
            .iter()
            .cloned()
            .chain([&module_machine, &module_trait].map(ToString::to_string))
            .chain([&generated.kind, &generated.event].map(ToString::to_string))
            .collect();
        let mut aliases = Vec::new();
        let states: Vec<State> = input
            .variants
            .iter()
            .map(|variant| {
                let mut fields = variant.fields.clone();
                for field in &mut fields.fields {
                    let placed =
                        types::place(&field.ty, &input.ident, &module_machine, &module_items);
                    field.outside = placed.outside;
                    field.inside = placed.inside;
                    field.uses_self = placed.uses_self;
                    if placed.shadowed {
                        let alias = names::field_alias(&name, aliases.len());
                        aliases.push((alias.clone(), field.outside.clone()));
                        field.inside = quote!(super::#alias);
                    }
                }
                let state_name = unraw(&variant.ident);
                State {
                    ident: variant.ident.clone(),
                    serde_name: variant.serde_rename.clone().unwrap_or_else(|| {
                        serde_case(&state_name, input.serde_rename_all.as_deref())
                    }),
                    name: state_name,
                    default: variant.default,
                    attrs: variant.attrs.clone(),
                    cfg: match variant.cfg.as_slice() {
                        [] => None,
                        [one] => Some(one.clone()),
                        many => Some(quote!(all(#(#many),*))),
                    },
                    docs: variant.docs.clone(),
                    fields,
                    initial: variant.initial.clone(),
                    terminal: variant.terminal.first().copied(),
                    edges_lost: variant.edges_lost,
                }
            })
            .collect();
        let items = names::items_module(&name);
        let mut machine = Machine {
            items,
            name,
            ident: input.ident,
            vis: input.vis,
            inner_vis: input.inner_vis,
            derives: input.derives,
            serde_derives: input.serde_derives,
            derives_default: input.derives_default,
            module: generated.module,
            kind: generated.kind,
            event_enum: generated.event,
            self_in_module: module_machine,
            module_trait,
            aliases,
            lints: input.lints,
            has_generics: input.has_generics,
            allow_unreachable: input.options.allow_unreachable,
            no_picture: input.options.no_picture,
            from_any_lost: false,
            states,
            edges: Vec::new(),
            sources: Vec::new(),
            events: Vec::new(),
            guessed_edges: Vec::new(),
        };
        // Events by name as written, so a table of thousands stays linear.
        let mut known_events = BTreeMap::new();
        let mut index = StateIndex::new(&machine.states);
        let mut by_source: Vec<Vec<Edge>> = vec![Vec::new(); machine.states.len()];
        for (from, variant) in input.variants.iter().enumerate() {
            for edge in &variant.edges {
                let (to, guessed) = match machine.resolve(&edge.target, &mut index, errors) {
                    Ok(to) => (to, false),
                    // A misspelling with a suggestion is taken as meant
                    // for it by the graph checks; one without may have
                    // meant any state.
                    Err(Some(guess)) => (guess, true),
                    Err(None) => {
                        machine.states[from].edges_lost = true;
                        continue;
                    }
                };
                let event = edge
                    .event
                    .as_ref()
                    .map(|event| machine.event(event, to, &mut known_events, errors));
                let edge = Edge {
                    from,
                    to,
                    event,
                    span: edge.target.span(),
                    from_any: false,
                };
                if guessed {
                    machine.guessed_edges.push(edge);
                } else {
                    by_source[from].push(edge);
                }
            }
        }
        if index.unknown > UNKNOWN_STATES_REPORTED {
            errors.error(
                machine.ident.span(),
                format!(
                    "`{1}` names {0} more unknown states, not listed; fix the ones above first",
                    index.unknown - UNKNOWN_STATES_REPORTED,
                    machine.name
                ),
            );
        }
        machine.from_any_lost = input.variants.iter().any(|variant| variant.from_any_lost);
        if !machine.within_edge_limit(&input.variants, &by_source, errors) {
            // The graph checks then assume any state may go anywhere.
            machine.from_any_lost = true;
            machine.set_edges(by_source.into_iter().flatten().collect());
            return machine;
        }
        for (to, variant) in input.variants.iter().enumerate() {
            for from_any in &variant.from_any {
                let event = from_any
                    .event
                    .as_ref()
                    .map(|event| machine.event(event, to, &mut known_events, errors));
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
        machine.set_edges(by_source.into_iter().flatten().collect());
        machine
    }

    /// Whether the edges written and those `#[from_any]` adds stay within
    /// [`MAX_EDGES`]; if not, one error says how many there would be.
    /// Counted before any is made: `#[from_any]` on every one of a
    /// thousand states would be a million.
    fn within_edge_limit(
        &self,
        variants: &[input::Variant],
        written: &[Vec<Edge>],
        errors: &mut Errors,
    ) -> bool {
        let non_terminal = self
            .states
            .iter()
            .filter(|state| state.terminal.is_none())
            .count();
        let (mut added, mut rules) = (0, 0);
        for (target, variant) in self.states.iter().zip(variants) {
            let sources = non_terminal - usize::from(target.terminal.is_none());
            added += variant.from_any.len() * sources;
            rules += variant.from_any.len();
        }
        let total = written.iter().map(Vec::len).sum::<usize>() + added;
        if total <= MAX_EDGES {
            return true;
        }
        errors.error(
            self.ident.span(),
            format!(
                "`{}` would have {} edges, {} of them from its {} `#[from_any]` (each adds an edge from every other non-terminal state); a table holds at most {} edges, so that what it expands to stays small enough to compile",
                self.name,
                thousands(total),
                thousands(added),
                thousands(rules),
                thousands(MAX_EDGES),
            ),
        );
        false
    }

    /// The index of the state `name`, or the error's suggestion, if any.
    fn resolve(
        &self,
        name: &Ident,
        index: &mut StateIndex,
        errors: &mut Errors,
    ) -> Result<usize, Option<usize>> {
        let written = unraw(name);
        if let Some(found) = index.by_name.get(&written) {
            return Ok(*found);
        }
        index.unknown += 1;
        if index.unknown > UNKNOWN_STATES_REPORTED {
            return Err(None);
        }
        let guess = index.guess(&written, &self.states);
        let hint = guess.map_or_else(String::new, |guess| {
            format!("; did you mean `{}`?", self.states[guess].name)
        });
        errors.error(
            name.span(),
            format!("unknown state `{written}` in `{}`{hint}", self.name),
        );
        Err(guess)
    }

    fn event(
        &mut self,
        ident: &Ident,
        target: usize,
        known: &mut BTreeMap<String, usize>,
        errors: &mut Errors,
    ) -> usize {
        let written = ident.to_string();
        if let Some(index) = known.get(&written) {
            return *index;
        }
        known.insert(written, self.events.len());
        let name = unraw(ident);
        let variant = match idents::build(&pascal_case(&name), ident.span()) {
            Ok(variant) => variant,
            Err(invalid) => {
                errors.error(
                    ident.span(),
                    format!(
                        "event `{name}` would name the event variant {}; rename the event",
                        invalid.describe(&pascal_case(&name))
                    ),
                );
                quote::format_ident!("__Event{}", self.events.len(), span = ident.span())
            }
        };
        self.events.push(Event {
            ident: ident.clone(),
            name,
            variant,
            payload: target,
        });
        self.events.len() - 1
    }

    /// The initial state; after `validate`, the one marked (or the only state).
    pub fn initial(&self) -> usize {
        self.states
            .iter()
            .position(|state| !state.initial.is_empty())
            .unwrap_or(0)
    }

    /// Every edge as `(from, to, event name)`, in declaration order.
    pub fn named_edges(&self) -> impl Iterator<Item = (usize, usize, Option<&str>)> {
        self.edges.iter().map(|edge| {
            let event = edge.event.map(|event| self.events[event].name.as_str());
            (edge.from, edge.to, event)
        })
    }

    /// Edges leaving `from`, in declaration order.
    pub fn edges_from(&self, from: usize) -> impl Iterator<Item = &Edge> {
        self.edges[self.sources[from].clone()].iter()
    }

    /// Replaces the edges: grouped by source (a stable sort keeps each
    /// group in declaration order), so `edges_from` is a slice.
    pub fn set_edges(&mut self, mut edges: Vec<Edge>) {
        edges.sort_by_key(|edge| edge.from);
        let mut sources = Vec::with_capacity(self.states.len());
        let mut start = 0;
        for state in 0..self.states.len() {
            let end = start
                + edges[start..]
                    .iter()
                    .take_while(|edge| edge.from == state)
                    .count();
            sources.push(start..end);
            start = end;
        }
        self.edges = edges;
        self.sources = sources;
    }

    /// Distinct targets of `from`, in declaration order.
    pub fn targets(&self, from: usize) -> Vec<usize> {
        let mut targets = Vec::new();
        for edge in self.edges_from(from) {
            if !targets.contains(&edge.to) {
                targets.push(edge.to);
            }
        }
        targets
    }

    /// Distinct events accepted in `from`, in declaration order.
    pub fn events_from(&self, from: usize) -> Vec<usize> {
        let mut events = Vec::new();
        for event in self.edges_from(from).filter_map(|edge| edge.event) {
            if !events.contains(&event) {
                events.push(event);
            }
        }
        events
    }

    /// Whether some state exists only under a `#[cfg]`.
    pub fn is_conditional(&self) -> bool {
        self.states.iter().any(|state| state.cfg.is_some())
    }

    /// Whether no state carries data (then dispatch is a table lookup).
    pub fn is_fieldless(&self) -> bool {
        self.states
            .iter()
            .all(|state| state.fields.fields.is_empty())
    }
}

/// Unknown targets reported one by one; the rest are counted in one error,
/// as a table with hundreds of misspellings has one cause.
const UNKNOWN_STATES_REPORTED: usize = 50;

/// `n` with a comma between groups of three digits, as prose writes it.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() * 4 / 3);
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The most edges a table may have, written or added by `#[from_any]`:
/// each is a `TransitionTo` impl, an `EDGES` entry and a diagram line, and
/// 40,000 of them take rustc 15 s and 1.5 GB.
const MAX_EDGES: usize = 16_384;

/// States by name: targets resolve in time linear in the edges, and each
/// distinct misspelling is compared with the states once.
struct StateIndex {
    /// Each state's name as the user means it (`r#Done` is `Done`).
    by_name: BTreeMap<String, usize>,
    /// The suggestion for each misspelling seen.
    guesses: BTreeMap<String, Option<usize>>,
    /// Unknown targets seen.
    unknown: usize,
}

impl StateIndex {
    fn new(states: &[State]) -> StateIndex {
        let mut by_name = BTreeMap::new();
        for (index, state) in states.iter().enumerate() {
            by_name.entry(state.name.clone()).or_insert(index);
        }
        StateIndex {
            by_name,
            guesses: BTreeMap::new(),
            unknown: 0,
        }
    }

    /// The state `written` most likely means.
    fn guess(&mut self, written: &str, states: &[State]) -> Option<usize> {
        if let Some(guess) = self.guesses.get(written) {
            return *guess;
        }
        let names = states.iter().map(|state| state.name.as_str());
        let guess = closest(written, names).and_then(|name| self.by_name.get(name).copied());
        self.guesses.insert(written.to_owned(), guess);
        guess
    }
}

/// A variant's name under serde's `rename_all` rule (as serde spells the
/// rules); an unknown rule, which serde reports, leaves it as it is.
fn serde_case(variant: &str, rule: Option<&str>) -> String {
    let snake = || {
        let mut snake = String::new();
        for (index, c) in variant.char_indices() {
            if index > 0 && c.is_uppercase() {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        }
        snake
    };
    match rule {
        Some("lowercase") => variant.to_ascii_lowercase(),
        Some("UPPERCASE") => variant.to_ascii_uppercase(),
        Some("camelCase") => {
            let mut chars = variant.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_lowercase().to_string() + chars.as_str()
            })
        }
        Some("snake_case") => snake(),
        Some("SCREAMING_SNAKE_CASE") => snake().to_ascii_uppercase(),
        Some("kebab-case") => snake().replace('_', "-"),
        Some("SCREAMING-KEBAB-CASE") => snake().to_ascii_uppercase().replace('_', "-"),
        _ => variant.to_string(),
    }
}
