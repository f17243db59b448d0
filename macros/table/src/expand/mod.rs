//! Model -> tokens. Expansion trusts a validated model: a violated rule here
//! is a bug in `validate`, not a user error.

mod events;
mod kind;
mod scaffolding;
mod state_machine;
mod typestate;

use crate::model::Machine;
use crate::model::{Fields, Style};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// Every generated item for a validated machine.
pub fn expand(machine: &Machine) -> TokenStream {
    let names = Names::of(machine);
    let kind = kind::expand_kind(machine);
    let state_machine = state_machine::expand_state_machine(machine, &names);
    let typestate = typestate::expand_typestate(machine, &names);
    let (event_enum, fire) = events::expand_events(machine, &names);
    let scaffolding = scaffolding::expand_scaffolding(machine);
    let (items, vis, lints) = (&machine.items, &machine.vis, &machine.lints);
    let uses_self = machine.events.iter().any(|event| {
        machine.states[event.payload]
            .fields
            .fields
            .iter()
            .any(|field| field.uses_self)
    });
    let import_machine = uses_self.then(|| scaffolding::import_machine(machine));
    let checks = scaffolding::expand_name_checks(machine);
    quote! {
        #scaffolding

        // The kind and event enums live in a module of their own and are
        // glob-imported: a user type with the same name shadows the import
        // instead of clashing with every generated impl, and one check
        // below reports it.
        #lints
        #[allow(non_snake_case)]
        mod #items {
            #[allow(unused_imports)]
            use super::*;
            #import_machine

            #kind
            #event_enum
        }
        #lints
        #[allow(unused_imports)]
        #vis use #items::*;
        #checks

        #state_machine
        #typestate
        #fire
    }
}

/// Names of the generated items.
pub struct Names {
    /// The user's enum.
    pub machine: Ident,
    /// `<Machine>Kind`, by its path from beside the enum: the generated
    /// items never rely on the bare name, which a user type may take.
    pub kind: TokenStream,
    /// `<Machine>Event`, by its path from beside the enum.
    pub event: TokenStream,
}

impl Names {
    fn of(machine: &Machine) -> Names {
        let (items, kind, event) = (&machine.items, &machine.kind, &machine.event_enum);
        Names {
            machine: machine.ident.clone(),
            kind: quote!(#items::#kind),
            event: quote!(#items::#event),
        }
    }
}

/// `#[cfg(..)]` for an item that exists only when every one of `states`
/// does; nothing when none of them is conditional.
pub fn cfg_all(machine: &Machine, states: &[usize]) -> TokenStream {
    match predicate_all(machine, states) {
        Some(predicate) => quote!(#[cfg(#predicate)]),
        None => TokenStream::new(),
    }
}

/// The predicate under which every one of `states` exists; `None` for always.
pub fn predicate_all(machine: &Machine, states: &[usize]) -> Option<TokenStream> {
    let predicates: Vec<&TokenStream> = states
        .iter()
        .filter_map(|&state| machine.states[state].cfg.as_ref())
        .collect();
    match predicates.as_slice() {
        [] => None,
        [one] => Some((*one).clone()),
        many => Some(quote!(all(#(#many),*))),
    }
}

/// `#[cfg(..)]` for an item that exists when any of `edges` (each a
/// source and a target) exists; nothing when one of them always does.
pub fn cfg_any(machine: &Machine, edges: &[(usize, usize)]) -> TokenStream {
    let mut alternatives = Vec::new();
    for &(from, to) in edges {
        let predicates: Vec<&TokenStream> = [from, to]
            .iter()
            .filter_map(|&state| machine.states[state].cfg.as_ref())
            .collect();
        if predicates.is_empty() {
            return TokenStream::new();
        }
        alternatives.push(quote!(all(#(#predicates),*)));
    }
    if alternatives.is_empty() {
        return TokenStream::new();
    }
    quote!(#[cfg(any(#(#alternatives),*))])
}

/// How many states exist, as a constant expression (a literal unless some
/// state is conditional).
pub fn state_count(machine: &Machine) -> TokenStream {
    states_existing_before(machine, machine.states.len())
}

/// How many of the states declared before `index` exist: the index of
/// state `index` in `STATES` (a literal unless some state is conditional).
pub fn states_existing_before(machine: &Machine, index: usize) -> TokenStream {
    if !machine.is_conditional() {
        return quote!(#index);
    }
    let terms = machine.states[..index]
        .iter()
        .map(|state| match &state.cfg {
            None => quote!(1usize),
            Some(predicate) => quote!((::core::cfg!(#predicate) as usize)),
        });
    quote!(0usize #(+ #terms)*)
}

/// `#[doc = ..]` for each line.
pub fn docs(lines: &[String]) -> TokenStream {
    quote!(#(#[doc = #lines])*)
}

/// The user's doc lines, a blank line, then `generated`.
pub fn docs_then(lines: &[String], generated: &str) -> TokenStream {
    let user = docs(lines);
    if lines.is_empty() {
        quote!(#[doc = #generated])
    } else {
        quote!(#user #[doc = ""] #[doc = #generated])
    }
}

/// Names to bind a variant's fields to: the field names, or `prefix0..` for a tuple.
pub fn bindings(fields: &Fields, prefix: &str) -> Vec<Ident> {
    fields
        .fields
        .iter()
        .enumerate()
        .map(|(index, field)| match &field.ident {
            Some(ident) => ident.clone(),
            None => format_ident!("{prefix}{index}"),
        })
        .collect()
}

/// `Path`, `Path(a, b)` or `Path { a, b }`: an expression and a pattern alike.
pub fn shape(path: &TokenStream, fields: &Fields, bindings: &[Ident]) -> TokenStream {
    let cfgs = fields.fields.iter().map(|field| &field.cfg);
    match fields.style {
        Style::Unit => quote!(#path),
        Style::Tuple => quote!(#path(#(#bindings),*)),
        Style::Named => quote!(#path { #(#cfgs #bindings),* }),
    }
}

/// `name: Type` parameters for the given bindings, typed for the typestate module.
pub fn parameters(fields: &Fields, bindings: &[Ident]) -> TokenStream {
    let types = fields.fields.iter().map(|field| &field.inside);
    let cfgs = fields.fields.iter().map(|field| &field.cfg);
    quote!(#(#cfgs #bindings: #types),*)
}
