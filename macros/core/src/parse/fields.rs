//! A variant's fields as written: what parse hands on for the typestate
//! structs and event payloads.

use crate::errors::Errors;
use proc_macro2::{Ident, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;

/// Field attributes copied to the typestate struct's and the event
/// variant's fields: conditions, serde's (which both derive when the enum
/// does) and lint levels. Other derives' helpers stay on the enum, whose
/// derives are not carried.
const CARRIED: [&str; 4] = ["cfg", "cfg_attr", "serde", "allow"];

/// A variant's fields, also the payload of events that enter it.
#[derive(Clone)]
#[cfg_attr(test, derive(Debug))]
pub(crate) struct Fields {
    /// Unit, tuple or struct.
    pub(crate) style: Style,
    /// The fields in order.
    pub(crate) fields: Vec<Field>,
}

impl Fields {
    /// Whether both have the same shape, names and types as written.
    pub(crate) fn same_as(&self, other: &Fields) -> bool {
        self.style == other.style
            && self.fields.len() == other.fields.len()
            && self.fields.iter().zip(&other.fields).all(|(a, b)| {
                a.ident == b.ident
                    && a.ty.to_string() == b.ty.to_string()
                    && a.cfg.to_string() == b.cfg.to_string()
            })
    }
}

/// The shape of a variant.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
pub(crate) enum Style {
    /// `A`
    Unit,
    /// `A(T, U)`
    Tuple,
    /// `A { t: T }`
    Named,
}

/// One field.
#[derive(Clone)]
#[cfg_attr(test, derive(Debug))]
pub(crate) struct Field {
    /// The name of a struct field; `None` in a tuple variant.
    pub(crate) ident: Option<Ident>,
    /// The type as written in the enum.
    pub(crate) ty: TokenStream,
    /// The type as written beside the enum (the event enum): `Self` is the enum.
    pub(crate) outside: TokenStream,
    /// The type as written in a generated module, one module deeper.
    pub(crate) inside: TokenStream,
    /// Whether the type names `Self` (the machine).
    pub(crate) uses_self: bool,
    /// Its doc comment lines.
    pub(crate) docs: Vec<String>,
    /// Its `#[cfg(..)]` attributes, also written on every pattern,
    /// expression and parameter that names the field.
    pub(crate) cfg: TokenStream,
    /// Its other attributes that generated fields carry (see `CARRIED`).
    pub(crate) attrs: TokenStream,
}

impl Field {
    /// A field whose type is yet to be placed (the model rewrites it for
    /// each generated item).
    pub(crate) fn new(ident: Option<Ident>, ty: TokenStream, docs: Vec<String>) -> Self {
        Field {
            ident,
            outside: ty.clone(),
            inside: ty.clone(),
            uses_self: false,
            ty,
            docs,
            cfg: TokenStream::new(),
            attrs: TokenStream::new(),
        }
    }
}

/// The fields of a variant as written.
pub(super) fn read(fields: &syn::Fields, errors: &mut Errors) -> Fields {
    let style = match fields {
        syn::Fields::Unit => Style::Unit,
        syn::Fields::Unnamed(_) => Style::Tuple,
        syn::Fields::Named(_) => Style::Named,
    };
    let fields = fields
        .iter()
        .map(|field| {
            let mut read = Field::new(
                field.ident.clone(),
                field.ty.to_token_stream(),
                super::docs(&field.attrs),
            );
            for attr in &field.attrs {
                if attr.path().is_ident("cfg") {
                    if style == Style::Tuple {
                        // A tuple's fields are positional: a pattern or a
                        // constructor cannot leave one out.
                        errors.error(
                            attr.span(),
                            "`#[cfg]` on a field of a tuple variant cannot be carried to the generated items; give the variant named fields",
                        );
                    }
                    attr.to_tokens(&mut read.cfg);
                } else if CARRIED.iter().any(|name| attr.path().is_ident(name)) {
                    attr.to_tokens(&mut read.attrs);
                }
            }
            read
        })
        .collect();
    Fields { style, fields }
}
