//! A variant's fields as written: what parse hands on for the typestate
//! structs and event payloads.

use quote::ToTokens;
use statewright_table::errors::Errors;
use statewright_table::input::{Field, Fields, Style};
use syn::spanned::Spanned;

/// Field attributes copied to the typestate struct's and the event
/// variant's fields: conditions, serde's (which both derive when the enum
/// does) and lint levels. Other derives' helpers stay on the enum, whose
/// derives are not carried.
const CARRIED: [&str; 4] = ["cfg", "cfg_attr", "serde", "allow"];

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
