//! The engine behind `#[state_machine]`: parse -> model -> validate -> expand,
//! on `proc_macro2` so every stage is unit-testable and the CLI can reuse the
//! diagrams. Parse (on `syn`) is here; the rest is `statewright-table`,
//! which needs no `syn` and so compiles beside it. Users want the
//! `statewright` crate, not this one.

mod parse;
mod scan;
#[cfg(test)]
mod table_tests;

pub use scan::{find_machines, Diagnostic, Found, Table};

use proc_macro2::TokenStream;
#[cfg(feature = "picture")]
use statewright_table::svg;
use statewright_table::{errors::Errors, expand, fallback, model, validate};

/// Expands `#[state_machine(args)] item`.
///
/// On errors, returns the user's enum (our attributes stripped), the
/// generated items built from what could be read of the table (see
/// `fallback`), and every error found: the rest of the crate still
/// type-checks, so one mistake gives one error.
#[must_use]
pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let (machine, stripped) = parse::from_syn(args, item, &mut errors);
    let expanded = machine.map(|machine| {
        let machine = model::Machine::from_parse(machine, &mut errors);
        validate::check(&machine, &mut errors);
        if errors.is_empty() {
            #[cfg(feature = "picture")]
            let picture = svg::picture_doc(&machine);
            #[cfg(not(feature = "picture"))]
            let picture: Option<String> = None;
            (expand::expand(&machine), picture)
        } else {
            (fallback::expand(machine), None)
        }
    });
    let errors = errors.finish();
    let (expanded, picture) = match expanded {
        Some((expanded, picture)) => (Some(expanded), picture),
        None => (None, None),
    };
    let mut output = match picture {
        #[cfg(feature = "picture")]
        Some(picture) => svg::with_doc(stripped, &picture),
        _ => stripped,
    };
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
            output.contains("enum JobKind"),
            "the fallback stands in for the generated items: {output}"
        );
    }

    #[test]
    #[cfg(feature = "picture")]
    fn the_picture_is_in_the_docs_unless_turned_off() {
        let item = quote! {
            /// A door.
            enum Door {
                #[initial]
                #[on(open => Open)]
                Closed,
                #[terminal]
                Open,
            }
        };
        let with = super::expand(quote!(), item.clone()).to_string();
        let picture = with.find("<svg").expect("a picture");
        assert!(
            with.find("A door.").is_some_and(|docs| docs < picture),
            "the user's docs first"
        );
        let without = super::expand(quote!(no_picture), item).to_string();
        assert!(
            !without.contains("<svg") && !without.contains("compile_error"),
            "{without}"
        );
        assert!(without.contains("MERMAID"), "the diagram consts stay");
        // The fingerprint as rustdoc will show it: in hex, like every message.
        let fingerprint = without
            .split("const FINGERPRINT : u64 = ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .expect("a fingerprint");
        assert!(
            fingerprint.starts_with("0x") && fingerprint.len() == 21,
            "{fingerprint}"
        );
    }

    #[test]
    #[cfg(feature = "picture")]
    fn a_machine_too_large_to_draw_says_where_its_diagram_is() {
        use core::fmt::Write;
        use core::str::FromStr;
        let mut source = String::from("enum Long { #[initial] #[to(S1)] S0,");
        for state in 1..61 {
            let _ = write!(source, "#[to(S{})] S{state},", (state + 1) % 61);
        }
        source.push('}');
        let item = proc_macro2::TokenStream::from_str(&source).expect("tokens");
        let output = super::expand(quote!(), item).to_string();
        assert!(!output.contains("compile_error"), "{output}");
        assert!(!output.contains("<svg"));
        assert!(
            output.contains("61 states is too large to draw here"),
            "{output:.400}"
        );
    }
}
