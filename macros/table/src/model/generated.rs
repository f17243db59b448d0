//! The names of the typestate module and the kind and event enums: derived
//! from the enum's or given as options, and never two alike (they share
//! one namespace beside the enum).

use crate::errors::Errors;
use crate::idents::{self, unraw};
use crate::{input, names};
use proc_macro2::{Ident, Span};

/// The names of the generated items the user sees.
pub(super) struct GeneratedNames {
    /// The typestate module.
    pub(super) module: Ident,
    /// The kind enum.
    pub(super) kind: Ident,
    /// The event enum.
    pub(super) event: Ident,
}

/// A generated item the user can name with an option.
#[derive(Clone, Copy)]
enum Slot {
    Module,
    Kind,
    Event,
}

impl Slot {
    /// The option's keyword.
    fn keyword(self) -> &'static str {
        match self {
            Slot::Module => "module",
            Slot::Kind => "kind",
            Slot::Event => "event",
        }
    }

    /// The option as the user writes it.
    fn option(self) -> String {
        match self {
            Slot::Module => "module = name".to_owned(),
            Slot::Kind | Slot::Event => format!("{} = Name", self.keyword()),
        }
    }
}

/// One named item beside the enum.
struct Named<'a> {
    /// What it is, for messages ("typestate module").
    item: &'static str,
    /// The generated item; `None` for the enum itself.
    slot: Option<Slot>,
    ident: &'a Ident,
    /// Where to report a clash: the option's value, or the enum's name.
    span: Span,
}

impl GeneratedNames {
    /// Reads the options, derives the rest, and reports names that cannot
    /// be identifiers or that two items would share.
    pub(super) fn of(input: &input::Machine, name: &str, errors: &mut Errors) -> GeneratedNames {
        let options = &input.options;
        let machine = &input.ident;
        let given_or = |given: &Option<Ident>, text: String, item, option, errors: &mut Errors| {
            given
                .clone()
                .unwrap_or_else(|| derived(&text, machine, item, option, errors))
        };
        let generated = GeneratedNames {
            module: given_or(
                &options.module,
                names::typestate_module(name),
                "typestate module",
                "module",
                errors,
            ),
            kind: given_or(
                &options.kind,
                names::kind_enum(name),
                "kind enum",
                "kind",
                errors,
            ),
            event: given_or(
                &options.event,
                names::event_enum(name),
                "event enum",
                "event",
                errors,
            ),
        };
        let has_events = input.variants.iter().any(|variant| {
            variant.edges.iter().any(|edge| edge.event.is_some())
                || variant
                    .from_any
                    .iter()
                    .any(|from_any| from_any.event.is_some())
        });
        let at = |given: &Option<Ident>| given.as_ref().map_or(machine.span(), Ident::span);
        let mut items = vec![
            Named {
                item: "enum",
                slot: None,
                ident: machine,
                span: machine.span(),
            },
            Named {
                item: "typestate module",
                slot: Some(Slot::Module),
                ident: &generated.module,
                span: at(&options.module),
            },
            Named {
                item: "kind enum",
                slot: Some(Slot::Kind),
                ident: &generated.kind,
                span: at(&options.kind),
            },
        ];
        if has_events {
            items.push(Named {
                item: "event enum",
                slot: Some(Slot::Event),
                ident: &generated.event,
                span: at(&options.event),
            });
        }
        let clashing: Vec<Slot> = report_clashes(&items, name, errors)
            .into_iter()
            .filter_map(|index| items[index].slot)
            .collect();
        let mut generated = generated;
        // The fallback still declares the items: under a name of their own,
        // so the one error is ours, not rustc's "defined multiple times".
        for slot in clashing {
            let placeholder = quote::format_ident!("__{}_{}", name, slot.keyword());
            match slot {
                Slot::Module => generated.module = placeholder,
                Slot::Kind => generated.kind = placeholder,
                Slot::Event => generated.event = placeholder,
            }
        }
        generated
    }
}

/// One error per item named like an earlier one, at the later one, naming
/// both and the options that rename them; returns the later ones' indices.
fn report_clashes(items: &[Named<'_>], machine: &str, errors: &mut Errors) -> Vec<usize> {
    let mut clashing = Vec::new();
    for (index, later) in items.iter().enumerate() {
        let shared = unraw(later.ident);
        let Some(earlier) = items[..index]
            .iter()
            .find(|earlier| unraw(earlier.ident) == shared)
        else {
            continue;
        };
        let options: Vec<String> = [earlier.slot, later.slot]
            .into_iter()
            .flatten()
            .map(|slot| format!("`#[state_machine({})]`", slot.option()))
            .collect();
        let earlier_item = match earlier.slot {
            None => format!("the enum `{machine}`"),
            Some(_) => format!("its {}", earlier.item),
        };
        errors.error(
            later.span,
            format!(
                "the {} of `{machine}` would be named `{shared}`, like {earlier_item}; rename it with {}",
                later.item,
                options.join(" or ")
            ),
        );
        clashing.push(index);
    }
    clashing
}

/// A generated item's name derived from the enum's, or a placeholder and
/// an error that names the option that renames it.
fn derived(text: &str, machine: &Ident, item: &str, option: &str, errors: &mut Errors) -> Ident {
    match idents::build(text, machine.span()) {
        Ok(ident) => ident,
        Err(invalid) => {
            errors.error(
                machine.span(),
                format!(
                    "the {item} of `{}` would be named {}; name it with `#[state_machine({option} = name)]`",
                    unraw(machine),
                    invalid.describe(text)
                ),
            );
            quote::format_ident!("__{}", option, span = machine.span())
        }
    }
}
