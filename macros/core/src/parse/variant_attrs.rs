//! The variant attributes (`#[initial]`, `#[terminal]`, `#[to]`, `#[on]`,
//! `#[from_any]`): one reader each. A malformed one is reported and marks
//! the variant's edges as lost, so that checks of the whole graph make no
//! claim that the missing edges could contradict.

use super::{EdgeSyntax, FromAny, Variant};
use proc_macro2::Ident;
use statewright_table::errors::{closest, Errors};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Meta, Token};

/// One of our variant attributes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Helper {
    Initial,
    Terminal,
    To,
    On,
    FromAny,
}

impl Helper {
    const ALL: [Helper; 5] = [
        Helper::Initial,
        Helper::Terminal,
        Helper::To,
        Helper::On,
        Helper::FromAny,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Helper::Initial => "initial",
            Helper::Terminal => "terminal",
            Helper::To => "to",
            Helper::On => "on",
            Helper::FromAny => "from_any",
        }
    }

    pub(super) fn of(attr: &Attribute) -> Option<Helper> {
        Helper::ALL
            .into_iter()
            .find(|helper| attr.path().is_ident(helper.name()))
    }
}

/// Reads our attributes off `variant` into `parsed` and strips them (and
/// misspellings of them) from the variant and its fields.
pub(super) fn read(
    variant: &mut syn::Variant,
    mut parsed: Variant,
    errors: &mut Errors,
) -> Variant {
    variant.attrs.retain(|attr| match Helper::of(attr) {
        // Read as what it most likely means, so that no check reports the
        // same mistake again ("no way out" for a misspelt `#[terminal]`).
        None => match misspelt_helper(attr, errors) {
            Some(Helper::Initial) => {
                parsed.initial.push(attr.path().span());
                false
            }
            Some(Helper::Terminal) => {
                parsed.terminal.push(attr.path().span());
                false
            }
            Some(_) => {
                parsed.from_any_lost = true;
                false
            }
            None => true,
        },
        Some(helper) => {
            let read = match helper {
                Helper::Initial | Helper::Terminal => {
                    read_mark(attr, helper, &mut parsed, errors);
                    Ok(())
                }
                Helper::To => read_to(attr, &mut parsed, errors),
                Helper::On => read_on(attr, &mut parsed, errors),
                Helper::FromAny => read_from_any(attr, &mut parsed, errors),
            };
            if let Err(error) = read {
                super::push_syn(errors, error);
                if helper == Helper::FromAny {
                    parsed.from_any_lost = true;
                } else {
                    parsed.edges_lost = true;
                }
            }
            false
        }
    });
    for field in &mut variant.fields {
        strip_misplaced(&mut field.attrs, "a field", errors);
    }
    parsed
}

/// Our attributes do nothing on `place` (the enum, a field): say so, and
/// strip them so rustc does not add an "unknown attribute" error of its own.
pub(super) fn strip_misplaced(attrs: &mut Vec<Attribute>, place: &str, errors: &mut Errors) {
    attrs.retain(|attr| {
        let Some(helper) = Helper::of(attr) else {
            return true;
        };
        errors.error(
            attr.path().span(),
            format!(
                "`#[{}]` belongs on a variant, not on {place}",
                helper.name()
            ),
        );
        false
    });
}

/// `#[initial]` or `#[terminal]`: a mark without arguments, once.
fn read_mark(attr: &Attribute, helper: Helper, parsed: &mut Variant, errors: &mut Errors) {
    let name = helper.name();
    let span = attr.path().span();
    let marks = if helper == Helper::Initial {
        &mut parsed.initial
    } else {
        &mut parsed.terminal
    };
    if let Some(first) = marks.first() {
        errors.duplicate(
            span,
            format!("`#[{name}]` is given twice on `{}`", parsed.ident),
            *first,
            "first given",
        );
    }
    marks.push(span);
    if !matches!(attr.meta, Meta::Path(_)) {
        errors.error(
            attr.meta.span(),
            format!("`#[{name}]` takes no arguments; write `#[{name}]`"),
        );
    }
}

/// `#[to(A, B)]`.
fn read_to(attr: &Attribute, parsed: &mut Variant, errors: &mut Errors) -> syn::Result<()> {
    require_list(attr, "to", "#[to(State, ..)]")?;
    let targets = attr.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)?;
    if targets.is_empty() {
        return Err(syn::Error::new(
            attr.path().span(),
            "`#[to()]` names no state; write `#[to(State, ..)]`",
        ));
    }
    for target in &targets {
        let target = state_name(target, errors)?;
        parsed.edges.push(EdgeSyntax {
            event: None,
            target,
        });
    }
    Ok(())
}

/// `#[on(event => A, other => B)]`.
fn read_on(attr: &Attribute, parsed: &mut Variant, errors: &mut Errors) -> syn::Result<()> {
    require_list(attr, "on", "#[on(event => State, ..)]")?;
    let arrows = attr.parse_args_with(Punctuated::<Arrow, Token![,]>::parse_terminated)?;
    if arrows.is_empty() {
        return Err(syn::Error::new(
            attr.path().span(),
            "`#[on()]` names no event; write `#[on(event => State, ..)]`",
        ));
    }
    for arrow in arrows {
        let target = state_name(&arrow.target, errors)?;
        parsed.edges.push(EdgeSyntax {
            event: Some(arrow.event),
            target,
        });
    }
    Ok(())
}

/// `#[from_any]` or `#[from_any(event)]`.
fn read_from_any(attr: &Attribute, parsed: &mut Variant, errors: &mut Errors) -> syn::Result<()> {
    let span = attr.path().span();
    let event = match &attr.meta {
        Meta::Path(_) => None,
        Meta::List(_) => Some(attr.parse_args::<Ident>().map_err(|error| {
            syn::Error::new(
                error.span(),
                "`#[from_any(..)]` takes one event name; write `#[from_any]` or `#[from_any(event)]`",
            )
        })?),
        Meta::NameValue(_) => {
            return Err(syn::Error::new(
                attr.meta.span(),
                "write `#[from_any]` or `#[from_any(event)]`",
            ))
        }
    };
    if let Some(first) = parsed.from_any.first() {
        errors.duplicate(
            span,
            format!("`#[from_any]` is given twice on `{}`", parsed.ident),
            first.span,
            "first given",
        );
    }
    parsed.from_any.push(FromAny { span, event });
    Ok(())
}

/// A state is named by its variant's name. `Order::Paid` is reported but
/// read as `Paid`, so the rest of the table is still checked.
fn state_name(path: &syn::Path, errors: &mut Errors) -> syn::Result<Ident> {
    let last = path
        .segments
        .last()
        .filter(|segment| segment.arguments.is_none())
        .map(|segment| segment.ident.clone());
    match (path.get_ident(), last) {
        (Some(ident), _) => Ok(ident.clone()),
        (None, Some(last)) => {
            let written = quote::ToTokens::to_token_stream(path)
                .to_string()
                .replace(' ', "");
            super::push_syn(
                errors,
                syn::Error::new_spanned(
                    path,
                    format!(
                    "a state is named by its variant's name alone; write `{last}`, not `{written}`"
                ),
                ),
            );
            Ok(last)
        }
        (None, None) => Err(syn::Error::new(
            path.span(),
            "expected a state: the name of a variant of this enum",
        )),
    }
}

fn require_list(attr: &Attribute, name: &str, form: &str) -> syn::Result<()> {
    match attr.meta {
        Meta::List(_) => Ok(()),
        _ => Err(syn::Error::new(
            attr.meta.span(),
            format!("`#[{name}]` needs a list; write `{form}`"),
        )),
    }
}

/// `#[termnal]`: report it as ours (to be stripped) rather than leave rustc
/// to say "cannot find attribute", and say which it likely is. Two-letter
/// helpers are too short to guess at.
fn misspelt_helper(attr: &Attribute, errors: &mut Errors) -> Option<Helper> {
    let ident = attr.path().get_ident()?;
    let name = ident.to_string();
    let guessable = [Helper::Initial, Helper::Terminal, Helper::FromAny];
    let guess = closest(&name, guessable.map(Helper::name))?;
    errors.error(
        ident.span(),
        format!("unknown attribute `#[{name}]`; did you mean `{guess}`?"),
    );
    guessable.into_iter().find(|helper| helper.name() == guess)
}

/// `event => Target` inside `#[on(..)]`.
struct Arrow {
    event: Ident,
    target: syn::Path,
}

impl Parse for Arrow {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let event = input.parse()?;
        input.parse::<Token![=>]>()?;
        let target = input.parse()?;
        Ok(Arrow { event, target })
    }
}
