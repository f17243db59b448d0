//! Syntax -> [`Machine`]: reads the enum and our attributes, strips them from
//! the enum that is emitted again, and reports malformed attributes.
//! Checks that need more than one attribute live in `validate`.

mod fields;
mod variant_attrs;

use statewright_table::errors::{did_you_mean, Errors};
use statewright_table::input::{EdgeSyntax, FromAny, Machine, Options, Variant};

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, ToTokens};
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Meta, Token};

/// Options of `#[state_machine(..)]`.
const OPTIONS: [&str; 5] = ["module", "kind", "event", "allow_unreachable", "no_picture"];
/// Derives that are carried to typestate structs and the event enum.
const STD_DERIVES: [&str; 8] = [
    "Debug",
    "Clone",
    "Copy",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
    "Hash",
];

mod kw {
    syn::custom_keyword!(module);
    syn::custom_keyword!(kind);
    syn::custom_keyword!(event);
    syn::custom_keyword!(allow_unreachable);
    syn::custom_keyword!(no_picture);
}

/// Parses the attribute and the item; returns the model input and the
/// user's item with our helper attributes removed (emitted in every case).
pub(crate) fn from_syn(
    args: TokenStream,
    item: TokenStream,
    errors: &mut Errors,
) -> (Option<Machine>, TokenStream) {
    let Ok(mut item) = syn::parse2::<syn::DeriveInput>(item.clone()) else {
        errors.error(Span::call_site(), NOT_AN_ENUM);
        return (None, item);
    };
    let keyword = match &item.data {
        syn::Data::Enum(_) => None,
        syn::Data::Struct(data) => Some(data.struct_token.span),
        syn::Data::Union(data) => Some(data.union_token.span),
    };
    if let Some(keyword) = keyword {
        errors.error(keyword, NOT_AN_ENUM);
        return (None, item.into_token_stream());
    }
    let options = parse_options(args, errors);
    let has_generics = !item.generics.params.is_empty() || item.generics.where_clause.is_some();
    if has_generics {
        errors.error(
            item.generics.span(),
            "generic state machines are not supported yet; use concrete types in the variants",
        );
    }
    variant_attrs::strip_misplaced(&mut item.attrs, "the enum", errors);
    let derive_paths: Vec<syn::Path> = derive_paths(&item.attrs).collect();
    let derives = std_derives(&derive_paths);
    let serde_derives = serde_derives(&derive_paths);
    let derives_default = derive_paths.iter().any(|path| {
        path.segments
            .last()
            .is_some_and(|last| last.ident == "Default")
    });
    let serde_rename_all = serde_string(&item.attrs, "rename_all");
    let syn::Data::Enum(data) = &mut item.data else {
        unreachable!("structs and unions returned above");
    };
    if data.variants.is_empty() {
        errors.error(
            item.ident.span(),
            format!(
                "enum `{}` has no variants; a state machine needs at least one state",
                item.ident
            ),
        );
    }
    let mut lints: TokenStream = item
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("allow"))
        .map(ToTokens::to_token_stream)
        .collect();
    let deprecated = data.variants.iter().flat_map(|variant| &variant.attrs);
    if deprecated
        .into_iter()
        .any(|attr| attr.path().is_ident("deprecated"))
    {
        lints.extend(quote!(#[allow(deprecated)]));
    }
    let variants = data
        .variants
        .iter_mut()
        .map(|variant| {
            let parsed = Variant {
                ident: variant.ident.clone(),
                docs: docs(&variant.attrs),
                cfg: variant
                    .attrs
                    .iter()
                    .filter(|attr| attr.path().is_ident("cfg"))
                    .filter_map(|attr| match &attr.meta {
                        Meta::List(list) => Some(list.tokens.clone()),
                        _ => None,
                    })
                    .collect(),
                serde_rename: serde_string(&variant.attrs, "rename"),
                default: variant
                    .attrs
                    .iter()
                    .any(|attr| attr.path().is_ident("default")),
                attrs: variant
                    .attrs
                    .iter()
                    .filter(|attr| {
                        attr.path().is_ident("deprecated") || attr.path().is_ident("allow")
                    })
                    .map(ToTokens::to_token_stream)
                    .collect(),
                fields: fields::read(&variant.fields, errors),
                initial: Vec::new(),
                terminal: Vec::new(),
                edges: Vec::new(),
                from_any: Vec::new(),
                edges_lost: false,
                from_any_lost: false,
            };
            variant_attrs::read(variant, parsed, errors)
        })
        .collect();
    let machine = Machine {
        options,
        vis: item.vis.to_token_stream(),
        inner_vis: one_module_deeper(&item.vis),
        ident: item.ident.clone(),
        derives,
        serde_derives,
        derives_default,
        serde_rename_all,
        variants,
        has_generics,
        lints,
    };
    (Some(machine), quote!(#item))
}

/// The enum's visibility as seen from a child module: private becomes
/// `pub(super)`, `pub(super)` becomes `pub(in super::super)`, and so on.
fn one_module_deeper(vis: &syn::Visibility) -> TokenStream {
    match vis {
        syn::Visibility::Public(_) => quote!(pub),
        syn::Visibility::Inherited => quote!(pub(super)),
        syn::Visibility::Restricted(restricted) => {
            let path = &restricted.path;
            let first = path
                .segments
                .first()
                .map(|segment| segment.ident.to_string());
            match first.as_deref() {
                _ if path.leading_colon.is_some() => quote!(pub(in #path)),
                Some("crate") => quote!(pub(in #path)),
                Some("self") if path.segments.len() == 1 => quote!(pub(super)),
                _ => quote!(pub(in super::#path)),
            }
        }
    }
}

const NOT_AN_ENUM: &str = "`#[state_machine]` can only be applied to an enum";

fn parse_options(args: TokenStream, errors: &mut Errors) -> Options {
    let mut options = Options::default();
    let mut given: Vec<(&'static str, Span)> = Vec::new();
    let mut once = |name: &'static str, span: Span, errors: &mut Errors| match given
        .iter()
        .find(|(earlier, _)| *earlier == name)
    {
        Some((_, first)) => errors.duplicate(
            span,
            format!("option `{name}` is given twice"),
            *first,
            "first given",
        ),
        None => given.push((name, span)),
    };
    let parser = |input: ParseStream<'_>| -> syn::Result<()> {
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::module) {
                let keyword: kw::module = input.parse()?;
                options.module = Some(named(input)?);
                once("module", keyword.span, errors);
            } else if lookahead.peek(kw::kind) {
                let keyword: kw::kind = input.parse()?;
                options.kind = Some(named(input)?);
                once("kind", keyword.span, errors);
            } else if lookahead.peek(kw::event) {
                let keyword: kw::event = input.parse()?;
                options.event = Some(named(input)?);
                once("event", keyword.span, errors);
            } else if lookahead.peek(kw::allow_unreachable) {
                let keyword: kw::allow_unreachable = input.parse()?;
                options.allow_unreachable = true;
                once("allow_unreachable", keyword.span, errors);
            } else if lookahead.peek(kw::no_picture) {
                let keyword: kw::no_picture = input.parse()?;
                options.no_picture = true;
                once("no_picture", keyword.span, errors);
            } else if input.peek(syn::Ident) {
                let unknown: Ident = input.parse()?;
                let name = unknown.to_string();
                return Err(syn::Error::new(
                    unknown.span(),
                    format!(
                        "unknown option `{name}`; expected one of `module = name`, `kind = Name`, `event = Name`, `allow_unreachable`, `no_picture`{}",
                        did_you_mean(&name, OPTIONS)
                    ),
                ));
            } else {
                return Err(lookahead.error());
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(())
    };
    if let Err(error) = syn::parse::Parser::parse2(parser, args) {
        push_syn(errors, error);
    }
    options
}

/// `= name` after an option's keyword.
fn named(input: ParseStream<'_>) -> syn::Result<Ident> {
    input.parse::<Token![=]>()?;
    input.parse()
}

fn std_derives(paths: &[syn::Path]) -> Vec<Ident> {
    let mut derives = Vec::new();
    for path in paths {
        let Some(last) = path.segments.last() else {
            continue;
        };
        let is_std = STD_DERIVES.iter().any(|name| last.ident == name)
            && (path.segments.len() == 1
                || path
                    .segments
                    .first()
                    .is_some_and(|first| ["std", "core"].iter().any(|root| first.ident == root)));
        if is_std && !derives.contains(&last.ident) {
            derives.push(last.ident.clone());
        }
    }
    derives
}

/// `Serialize` and `Deserialize` in the enum's derives, as written.
fn serde_derives(paths: &[syn::Path]) -> Vec<TokenStream> {
    paths
        .iter()
        .filter(|path| {
            path.segments
                .last()
                .is_some_and(|last| last.ident == "Serialize" || last.ident == "Deserialize")
        })
        .map(ToTokens::to_token_stream)
        .collect()
}

fn derive_paths(attrs: &[Attribute]) -> impl Iterator<Item = syn::Path> + '_ {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("derive"))
        .filter_map(|attr| {
            attr.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
                .ok()
        })
        .flatten()
}

/// The string of `key = ".."` in a `#[serde(..)]` attribute, if written so.
fn serde_string(attrs: &[Attribute], key: &str) -> Option<String> {
    let mut found = None;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("serde")) {
        // serde reports its own syntax errors; a form we do not read
        // (`rename(serialize = ..)`) keeps the Rust name.
        let _ = attr.parse_nested_meta(|meta| {
            if meta.input.peek(Token![=]) {
                let value: syn::Expr = meta.value()?.parse()?;
                if let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) = value
                {
                    if meta.path.is_ident(key) {
                        found = Some(text.value());
                    }
                }
            } else if meta.input.peek(syn::token::Paren) {
                meta.input.parse::<proc_macro2::Group>()?;
            }
            Ok(())
        });
    }
    found
}

pub(super) fn docs(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(syn::MetaNameValue {
                value:
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(text),
                        ..
                    }),
                ..
            }) => Some(text.value()),
            _ => None,
        })
        .collect()
}

/// A `syn` error into the stage's errors: each of its messages, rendered
/// as `syn` renders it (over the range of tokens it names).
pub(crate) fn push_syn(errors: &mut Errors, error: syn::Error) {
    for single in error {
        errors.push_rendered(single.span(), single.to_string(), single.to_compile_error());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: TokenStream, item: TokenStream) -> (Machine, Vec<String>) {
        let mut errors = Errors::default();
        let (machine, _) = from_syn(args, item, &mut errors);
        (machine.expect("an enum"), errors.messages())
    }

    fn names(idents: &[Ident]) -> Vec<String> {
        idents.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn options_are_read_and_repeats_reported() {
        let (machine, errors) = parse(
            quote!(
                module = states,
                kind = State,
                event = Command,
                allow_unreachable
            ),
            quote!(
                enum Job {
                    Idle,
                }
            ),
        );
        assert_eq!(errors, Vec::<String>::new());
        let options = &machine.options;
        assert_eq!(options.module.as_ref().unwrap(), "states");
        assert_eq!(options.kind.as_ref().unwrap(), "State");
        assert_eq!(options.event.as_ref().unwrap(), "Command");
        assert!(options.allow_unreachable);

        let (_, errors) = parse(
            quote!(kind = A, kind = B),
            quote!(
                enum Job {
                    Idle,
                }
            ),
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("option `kind` is given twice"),
            "{errors:?}"
        );
    }

    #[test]
    fn variant_attributes_become_marks_edges_and_flags() {
        let (machine, errors) = parse(
            quote!(),
            quote! {
                #[derive(Debug, Clone, Default, serde::Serialize, std::hash::Hash)]
                #[serde(rename_all = "snake_case")]
                enum Job {
                    /// Waiting.
                    #[default]
                    #[initial]
                    #[to(Running, Done)]
                    #[on(fail => Failed)]
                    Idle,
                    #[cfg(feature = "x")]
                    #[serde(rename = "busy")]
                    #[to(Done)]
                    Running { worker: u32 },
                    #[terminal]
                    Done,
                    #[from_any(fail)]
                    #[terminal]
                    Failed,
                }
            },
        );
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(names(&machine.derives), ["Debug", "Clone", "Hash"]);
        assert_eq!(machine.serde_derives.len(), 1);
        assert!(machine.derives_default);
        assert_eq!(machine.serde_rename_all.as_deref(), Some("snake_case"));
        let [idle, running, done, failed] = &machine.variants[..] else {
            panic!("four variants")
        };
        assert_eq!(idle.docs, [" Waiting."]);
        assert!(idle.default && idle.initial.len() == 1 && idle.terminal.is_empty());
        let edges: Vec<(Option<String>, String)> = idle
            .edges
            .iter()
            .map(|edge| {
                (
                    edge.event.as_ref().map(ToString::to_string),
                    edge.target.to_string(),
                )
            })
            .collect();
        assert_eq!(
            edges,
            [
                (None, "Running".to_string()),
                (None, "Done".to_string()),
                (Some("fail".to_string()), "Failed".to_string())
            ]
        );
        assert_eq!(running.cfg.len(), 1);
        assert_eq!(running.serde_rename.as_deref(), Some("busy"));
        assert_eq!(running.fields.fields.len(), 1);
        assert_eq!(done.terminal.len(), 1);
        assert_eq!(failed.from_any[0].event.as_ref().unwrap(), "fail");
    }

    #[test]
    fn a_malformed_attribute_loses_only_its_own_edges() {
        let (machine, errors) = parse(
            quote!(),
            quote! {
                enum Job {
                    #[initial] #[to(Running)] #[on(go => Done Now)] Idle,
                    #[from_any(a b)] Running,
                    #[termnal] Done,
                }
            },
        );
        assert_eq!(errors.len(), 3, "{errors:?}");
        let [idle, running, done] = &machine.variants[..] else {
            panic!("three variants")
        };
        assert!(idle.edges_lost && !idle.from_any_lost);
        assert_eq!(idle.edges.len(), 1, "`#[to(Running)]` is kept");
        assert!(running.from_any_lost);
        assert_eq!(done.terminal.len(), 1, "`#[termnal]` read as `#[terminal]`");
    }

    #[test]
    fn visibility_one_module_deeper() {
        let deeper = |vis: TokenStream| {
            one_module_deeper(&syn::parse2(vis).expect("a visibility"))
                .to_string()
                .replace(' ', "")
        };
        assert_eq!(deeper(quote!()), "pub(super)");
        assert_eq!(deeper(quote!(pub)), "pub");
        assert_eq!(deeper(quote!(pub(crate))), "pub(incrate)");
        assert_eq!(deeper(quote!(pub(self))), "pub(super)");
        assert_eq!(deeper(quote!(pub(super))), "pub(insuper::super)");
        assert_eq!(deeper(quote!(pub(in crate::a))), "pub(incrate::a)");
        assert_eq!(deeper(quote!(pub(in ::a))), "pub(in::a)");
    }
}
