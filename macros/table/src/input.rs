//! What parse reads out of the enum and its attributes: the table as
//! written, before the model checks and names it. Plain data on
//! `proc_macro2` (no `syn` type), so this crate compiles beside `syn`.

use proc_macro2::{Ident, Span, TokenStream};

/// The enum as written, with our attributes read out.
#[cfg_attr(test, derive(Debug))]
pub struct Machine {
    /// `#[state_machine(..)]` options.
    pub options: Options,
    /// The enum's visibility, as tokens.
    pub vis: TokenStream,
    /// The same visibility written from inside the typestate module.
    pub inner_vis: TokenStream,
    /// The enum's name.
    pub ident: Ident,
    /// Std derives on the enum, carried to the generated structs.
    pub derives: Vec<Ident>,
    /// serde's derives as written (`serde::Serialize`), carried to the
    /// typestate structs and the event enum.
    pub serde_derives: Vec<TokenStream>,
    /// Whether the enum derives `Default` (from its `#[default]` variant).
    pub derives_default: bool,
    /// `#[serde(rename_all = "..")]` on the enum.
    pub serde_rename_all: Option<String>,
    /// The variants in declaration order.
    pub variants: Vec<Variant>,
    /// Whether the enum has generics (not supported; reported here).
    pub has_generics: bool,
    /// Lint levels for every generated item: the enum's `#[allow(..)]`,
    /// and `deprecated` when a variant is (generated code names them all).
    pub lints: TokenStream,
}

/// `#[state_machine(..)]` options.
#[derive(Default)]
#[cfg_attr(test, derive(Debug))]
pub struct Options {
    /// `module = name`: the typestate module's name.
    pub module: Option<Ident>,
    /// `kind = Name`: the kind enum's name.
    pub kind: Option<Ident>,
    /// `event = Name`: the event enum's name.
    pub event: Option<Ident>,
    /// `allow_unreachable`: do not require every state to be reachable.
    pub allow_unreachable: bool,
    /// `no_picture`: leave the SVG picture out of the enum's docs.
    pub no_picture: bool,
}

/// One variant and its attributes.
#[cfg_attr(test, derive(Debug))]
pub struct Variant {
    /// The variant's name.
    pub ident: Ident,
    /// Its doc comment lines.
    pub docs: Vec<String>,
    /// The predicates of its `#[cfg(..)]` attributes: it is a state only
    /// when all hold.
    pub cfg: Vec<TokenStream>,
    /// `#[serde(rename = "..")]` on the variant.
    pub serde_rename: Option<String>,
    /// Whether it is marked `#[default]` (for `#[derive(Default)]`).
    pub default: bool,
    /// Its `#[deprecated]` and `#[allow(..)]`, carried to its kind variant
    /// and typestate struct.
    pub attrs: TokenStream,
    /// Its fields.
    pub fields: Fields,
    /// Each `#[initial]`, by span.
    pub initial: Vec<Span>,
    /// Each `#[terminal]`, by span.
    pub terminal: Vec<Span>,
    /// Targets of `#[to(..)]` and `#[on(..)]` in written order.
    pub edges: Vec<EdgeSyntax>,
    /// Each `#[from_any]` on this variant.
    pub from_any: Vec<FromAny>,
    /// Whether a `#[to]` or `#[on]` on it could not be read: edges from it
    /// may be missing.
    pub edges_lost: bool,
    /// Whether a `#[from_any]` on it could not be read.
    pub from_any_lost: bool,
}

/// One edge written on its source variant.
#[cfg_attr(test, derive(Debug))]
pub struct EdgeSyntax {
    /// The event in `#[on(event => Target)]`; `None` for `#[to(Target)]`.
    pub event: Option<Ident>,
    /// The target state, as written.
    pub target: Ident,
}

/// A `#[from_any]` or `#[from_any(event)]`.
#[cfg_attr(test, derive(Debug))]
pub struct FromAny {
    /// The attribute's span.
    pub span: Span,
    /// The optional event.
    pub event: Option<Ident>,
}

/// A variant's fields, also the payload of events that enter it.
#[derive(Clone)]
#[cfg_attr(test, derive(Debug))]
pub struct Fields {
    /// Unit, tuple or struct.
    pub style: Style,
    /// The fields in order.
    pub fields: Vec<Field>,
}

impl Fields {
    /// Whether both have the same shape, names and types as written.
    pub fn same_as(&self, other: &Fields) -> bool {
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
pub enum Style {
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
pub struct Field {
    /// The name of a struct field; `None` in a tuple variant.
    pub ident: Option<Ident>,
    /// The type as written in the enum.
    pub ty: TokenStream,
    /// The type as written beside the enum (the event enum): `Self` is the enum.
    pub outside: TokenStream,
    /// The type as written in a generated module, one module deeper.
    pub inside: TokenStream,
    /// Whether the type names `Self` (the machine).
    pub uses_self: bool,
    /// Its doc comment lines.
    pub docs: Vec<String>,
    /// Its `#[cfg(..)]` attributes, also written on every pattern,
    /// expression and parameter that names the field.
    pub cfg: TokenStream,
    /// Its other attributes that generated fields carry (parse decides which).
    pub attrs: TokenStream,
}

impl Field {
    /// A field whose type is yet to be placed (the model rewrites it for
    /// each generated item).
    pub fn new(ident: Option<Ident>, ty: TokenStream, docs: Vec<String>) -> Self {
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
