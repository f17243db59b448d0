//! Field types as they must be written in each generated item so that they
//! mean what they mean in the enum.
//!
//! The event enum sits beside the user's enum, where only `Self` changes
//! meaning. The typestate structs sit one module deeper, where `Self`,
//! `self::` and `super::` change meaning, and where the structs themselves
//! shadow any type named like a state (`Summary { summary: Summary }`) or
//! like a prelude type (a state `String`). Paths are rewritten token by
//! token; a type that mentions a shadowed name is reached through a hidden
//! alias declared beside the enum, where it resolves exactly as in the enum.

use proc_macro2::{Group, Ident, Spacing, TokenStream, TokenTree};
use quote::quote;

/// Where a type is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Beside the enum.
    Outside,
    /// In the typestate module.
    Inside,
}

/// A field type rewritten for both places.
pub struct Placed {
    /// For items beside the enum.
    pub outside: TokenStream,
    /// For the typestate module, unless `shadowed`.
    pub inside: TokenStream,
    /// Whether the type names a state (which the typestate module shadows).
    pub shadowed: bool,
    /// Whether the type names `Self`.
    pub uses_self: bool,
}

/// Rewrites `ty`, a field type of `machine`, which the typestate module
/// imports as `module_machine`; `shadowing` are the names the typestate
/// module declares (its structs, trait and import).
pub fn place(
    ty: &TokenStream,
    machine: &Ident,
    module_machine: &Ident,
    shadowing: &[String],
) -> Placed {
    let mut shadowed = false;
    let names = Names {
        machine,
        module_machine,
        shadowing,
    };
    let outside = rewrite(ty.clone(), Place::Outside, &names, &mut shadowed);
    let inside = rewrite(ty.clone(), Place::Inside, &names, &mut shadowed);
    let uses_self = mentions_self(ty.clone());
    Placed {
        outside,
        inside,
        shadowed,
        uses_self,
    }
}

/// What a type's names are rewritten to.
struct Names<'a> {
    machine: &'a Ident,
    module_machine: &'a Ident,
    shadowing: &'a [String],
}

fn rewrite(
    tokens: TokenStream,
    place: Place,
    names: &Names<'_>,
    shadowed: &mut bool,
) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = TokenStream::new();
    let mut index = 0;
    while index < tokens.len() {
        let token = &tokens[index];
        index += 1;
        match token {
            TokenTree::Group(group) => {
                let inner = rewrite(group.stream(), place, names, shadowed);
                let mut rewritten = Group::new(group.delimiter(), inner);
                rewritten.set_span(group.span());
                out.extend([TokenTree::Group(rewritten)]);
            }
            TokenTree::Ident(ident) => {
                let previous = index.checked_sub(2).map(|at| &tokens[at]);
                let next = tokens.get(index);
                if is_bang(next) {
                    // A macro in type position: what its input means is the
                    // macro's business, so inside the module the whole type
                    // is reached through an alias beside the enum, where it
                    // expands as in the enum (with `Self` spelled out).
                    if place == Place::Inside {
                        *shadowed = true;
                    }
                    out.extend([token.clone()]);
                } else if is_lifetime_name(previous) || follows_path_separator(&tokens, index - 1) {
                    out.extend([token.clone()]);
                } else {
                    out.extend(first_segment(ident, place, names, shadowed));
                }
            }
            TokenTree::Punct(_) | TokenTree::Literal(_) => out.extend([token.clone()]),
        }
    }
    out
}

fn mentions_self(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(ident) => ident == "Self",
        TokenTree::Group(group) => mentions_self(group.stream()),
        _ => false,
    })
}

/// The first segment of a path, as it must be written at `place`.
fn first_segment(
    ident: &Ident,
    place: Place,
    names: &Names<'_>,
    shadowed: &mut bool,
) -> TokenStream {
    let span = ident.span();
    let text = ident.to_string();
    let super_ = Ident::new("super", span);
    match (text.as_str(), place) {
        ("Self", Place::Outside) => {
            let machine = names.machine;
            quote!(#machine)
        }
        ("Self", Place::Inside) => {
            let mut machine = names.module_machine.clone();
            machine.set_span(span);
            quote!(#machine)
        }
        ("super", Place::Inside) => quote!(#super_::#ident),
        ("self", Place::Inside) => quote!(#super_),
        (name, Place::Inside) if names.shadowing.iter().any(|state| state == name) => {
            *shadowed = true;
            quote!(#ident)
        }
        _ => quote!(#ident),
    }
}

/// `'a`: the ident after a `'` is a lifetime's name, not a path.
fn is_lifetime_name(previous: Option<&TokenTree>) -> bool {
    matches!(previous, Some(TokenTree::Punct(punct)) if punct.as_char() == '\'' && punct.spacing() == Spacing::Joint)
}

/// Whether the token before `at` ends a `::`.
fn follows_path_separator(tokens: &[TokenTree], at: usize) -> bool {
    let colon = |token: Option<&TokenTree>, spacing: Option<Spacing>| {
        matches!(token, Some(TokenTree::Punct(punct))
            if punct.as_char() == ':' && spacing.is_none_or(|spacing| punct.spacing() == spacing))
    };
    at >= 2 && colon(tokens.get(at - 1), None) && colon(tokens.get(at - 2), Some(Spacing::Joint))
}

fn is_bang(token: Option<&TokenTree>) -> bool {
    matches!(token, Some(TokenTree::Punct(punct)) if punct.as_char() == '!')
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::format_ident;

    fn placed(ty: &TokenStream) -> (String, String, bool) {
        let states = ["Summary".to_string(), "String".to_string()];
        let placed = place(
            ty,
            &format_ident!("Report"),
            &format_ident!("__Machine"),
            &states,
        );
        (
            placed.outside.to_string(),
            placed.inside.to_string(),
            placed.shadowed,
        )
    }

    #[test]
    fn self_is_the_enum_in_both_places() {
        let (outside, inside, shadowed) = placed(&quote!(Box<Self>));
        assert_eq!(outside, "Box < Report >");
        assert_eq!(
            inside, "Box < __Machine >",
            "the module's import of the machine"
        );
        assert!(!shadowed);
    }

    #[test]
    fn relative_paths_go_one_module_up_inside() {
        let (outside, inside, _) = placed(&quote!(super::Owner<self::Id, crate::Id, ::std::Id>));
        assert_eq!(
            outside,
            "super :: Owner < self :: Id , crate :: Id , :: std :: Id >"
        );
        assert_eq!(
            inside,
            "super :: super :: Owner < super :: Id , crate :: Id , :: std :: Id >"
        );
    }

    #[test]
    fn a_type_named_like_a_state_is_shadowed_inside() {
        assert!(placed(&quote!(Summary)).2);
        assert!(placed(&quote!(Option<String>)).2);
        assert!(!placed(&quote!(other::Summary)).2, "not a first segment");
        assert!(!placed(&quote!(&'Summary u8)).2, "a lifetime");
        assert!(!placed(&quote!(Vec<u8>)).2);
    }

    #[test]
    fn a_macro_in_a_type_is_reached_through_the_alias() {
        let (outside, _, shadowed) = placed(&quote!(Vec<ty!(Self, super::X)>));
        assert_eq!(outside, "Vec < ty ! (Report , super :: X) >");
        assert!(shadowed, "the module writes it through the alias");
    }
}
