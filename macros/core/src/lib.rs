//! The engine behind `#[state_machine]`: parse -> model -> validate -> expand,
//! on `proc_macro2` so every stage is unit-testable and the CLI can reuse the
//! diagrams. Users want the `statewright` crate, not this one.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod diagram;
mod errors;
mod expand;
mod model;
mod parse;
mod validate;

use errors::Errors;
use proc_macro2::TokenStream;

/// Expands `#[state_machine(args)] item`.
///
/// On errors, returns the user's enum (our attributes stripped) followed by
/// every error found, so the rest of the crate still type-checks.
#[must_use]
pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let (machine, stripped) = parse::from_syn(args, item, &mut errors);
    let expanded = machine.and_then(|machine| {
        let machine = model::Machine::from_parse(machine, &mut errors);
        validate::check(&machine, &mut errors);
        errors.is_empty().then(|| expand::expand(&machine))
    });
    let errors = errors.finish().err().map(syn::Error::into_compile_error);
    let mut output = stripped;
    output.extend(expanded);
    output.extend(errors);
    output
}

#[cfg(test)]
mod tests {
    use quote::quote;

    #[test]
    fn errors_of_every_stage_reach_the_output() {
        let output = super::expand(
            quote!(),
            quote! {
                enum Job {
                    #[initial]
                    #[to(Runing)]
                    Queued,
                    #[terminal]
                    Running,
                }
            },
        )
        .to_string();
        assert!(output.contains("compile_error"), "{output}");
        assert!(output.contains("did you mean `Running`"), "{output}");
        assert!(
            !output.contains("JobKind"),
            "nothing generated on error: {output}"
        );
    }
}
