//! Every name the expansion declares: those derived from the user's names
//! (the kind and event enums, the typestate module) and the internal ones.
//! Read by every stage; imports none.
//!
//! Internal names never depend on a state's or an event's name in a way
//! that lets one collide with them: those beside the enum carry the enum's
//! own name (unique in its scope), and those inside the typestate module
//! are chosen to differ from every state's name.

use proc_macro2::{Ident, Span};
use quote::format_ident;

/// The methods of the generated items that an event (which names a
/// typestate method) must not shadow or make ambiguous: the typestates'
/// own methods and conversions, the methods of every trait they may
/// derive, and the machine's and event enum's generated methods.
pub const RESERVED_METHODS: [&str; 28] = [
    // typestate structs: `to` and the conversions
    "to",
    "into",
    "try_into",
    "from",
    "try_from",
    // derivable traits
    "clone",
    "clone_from",
    "eq",
    "ne",
    "cmp",
    "partial_cmp",
    "lt",
    "le",
    "gt",
    "ge",
    "max",
    "min",
    "clamp",
    "hash",
    "fmt",
    "default",
    // the machine enum, the kind enum and the event enum
    "name",
    "kind",
    "fire",
    "transition_to",
    "can_transition",
    "is_terminal",
    "index",
];

/// The kind enum's associated consts, which a state of the same name
/// would make ambiguous (`JobKind::ALL` could be either).
pub const KIND_CONSTS: [&str; 1] = ["ALL"];

/// The machine enum's associated consts, likewise (`Job::DOT`).
pub const MACHINE_CONSTS: [&str; 2] = ["MERMAID", "DOT"];

/// The typestate module's name for `machine` (its `snake_case`).
pub fn typestate_module(machine: &str) -> String {
    crate::idents::snake_case(machine)
}

/// The kind enum's name for `machine`.
pub fn kind_enum(machine: &str) -> String {
    format!("{machine}Kind")
}

/// The event enum's name for `machine`.
pub fn event_enum(machine: &str) -> String {
    format!("{machine}Event")
}

/// The hidden module beside the enum that holds the kind and event enums.
///
/// Spanned at the call site: paths through it are the macro's own, so
/// `unused_qualifications` does not judge them as the user's.
pub fn items_module(machine: &str) -> Ident {
    format_ident!("__statewright_{}", machine, span = Span::call_site())
}

/// The hidden alias beside the enum that generated modules import the
/// machine through; its name is the error when the enum is in a function.
pub fn anchor(machine: &str, span: Span) -> Ident {
    format_ident!(
        "__{}_must_be_declared_at_module_level_not_in_a_function",
        machine,
        span = span
    )
}

/// The hidden alias beside the enum for the `index`-th field type that the
/// typestate module cannot write itself (the numbering runs over every
/// field of the machine, so two enums never share an alias).
pub fn field_alias(machine: &str, index: usize) -> Ident {
    format_ident!("__{}_field_{}", machine, index, span = Span::call_site())
}

/// The machine's name inside the typestate module, unlike every state's.
pub fn module_machine(states: &[String]) -> Ident {
    Ident::new(&unlike(states, "__Machine"), Span::call_site())
}

/// The typestate module's trait of legal edges, unlike every state's name.
pub fn module_trait(states: &[String]) -> Ident {
    Ident::new(&unlike(states, "LegalEdge"), Span::call_site())
}

/// `base`, or `base` with as many `_` as it takes to differ from `taken`.
pub fn unlike<S: AsRef<str>>(taken: &[S], base: &str) -> String {
    let mut name = base.to_owned();
    while taken.iter().any(|taken| taken.as_ref() == name) {
        name.push('_');
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_internals_step_around_state_names() {
        let states = ["__Machine".to_owned(), "__Machine_".to_owned()];
        assert_eq!(module_machine(&states), "__Machine__");
        assert_eq!(module_trait(&states), "LegalEdge");
        assert_eq!(module_trait(&["LegalEdge".to_owned()]), "LegalEdge_");
    }

    #[test]
    fn names_beside_the_enum_carry_its_whole_name() {
        assert_ne!(items_module("HTTPServer"), items_module("HttpServer"));
        assert_ne!(field_alias("A", 10), field_alias("A_field_1", 0));
    }
}
