//! The table's checks on parsed machines (here, where parse is:
//! `statewright-table` has no parser).

use quote::quote;
use statewright_table::errors::Errors;

fn messages(item: proc_macro2::TokenStream) -> Vec<String> {
    messages_with(quote!(), item)
}

fn messages_with(args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> Vec<String> {
    let mut errors = Errors::default();
    let (parsed, _) = crate::parse::from_syn(args, item, &mut errors);
    if let Some(parsed) = parsed {
        let machine = statewright_table::model::Machine::from_parse(parsed, &mut errors);
        statewright_table::validate::check(&machine, &mut errors);
    }
    errors.messages()
}

#[test]
fn a_sound_table_has_no_errors() {
    let found = messages(quote! {
        enum Door {
            #[initial] #[on(open => Open)] Closed,
            #[on(close => Closed)] #[to(Gone)] Open,
            #[terminal] Gone,
        }
    });
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn lost_edges_do_not_hide_the_rest_of_the_graph() {
    let found = messages(quote! {
        enum Door {
            #[initial] #[to(Opne)] Closed,
            Open,
            #[to(Closed)] Ajar,
        }
    });
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].contains("did you mean `Open`"), "{found:?}");
    assert!(found[1].contains("`Open` has no way out"), "{found:?}");
    // The typo is taken as meant for `Open`: `Ajar` is still unreachable.
    assert!(found[2].contains("`Ajar` is unreachable"), "{found:?}");

    // A misspelling with no suggestion may have meant any state.
    let found = messages(quote! {
        enum Door {
            #[initial] #[to(Xyzzy)] Closed,
            #[to(Closed)] Ajar,
        }
    });
    assert_eq!(found.len(), 1, "{found:?}");

    let found = messages(quote! {
        enum Door {
            #[initial] #[to(Open,)] #[on(slam => Closed Shut)] Closed,
            Open,
            #[from_any(bad event)] Gone,
        }
    });
    assert_eq!(found.len(), 2, "syntax errors only: {found:?}");
    let found = messages(quote! {
        enum Door {
            #[initial] #[to(Open)] #[on(slam => Closed Shut)] Closed,
            #[to(Closed)] Open,
            #[terminal] Gone,
        }
    });
    assert_eq!(found.len(), 1, "nothing claimed about `Gone`: {found:?}");
}

#[test]
fn every_method_of_the_generated_items_is_a_reserved_event_name() {
    for name in [
        "to", "lt", "le", "gt", "ge", "max", "min", "clamp", "default",
    ] {
        let event = proc_macro2::Ident::new(name, proc_macro2::Span::call_site());
        let found = messages(quote! {
            enum Door {
                #[initial] #[on(#event => Open)] Closed,
                #[terminal] Open,
            }
        });
        assert_eq!(
            found,
            [format!(
                "event `{name}` would clash with the generated method `{name}`; rename the event"
            )]
        );
    }
}

#[test]
fn a_state_is_named_by_its_variant_name() {
    let found = messages(quote! {
        enum Order {
            #[initial] #[to(Order::Paid)] Placed,
            #[terminal] Paid,
        }
    });
    assert_eq!(
        found,
        ["a state is named by its variant's name alone; write `Paid`, not `Order::Paid`"]
    );
}

#[test]
fn errors_outside_the_table_do_not_hide_graph_checks() {
    let found = messages_with(
        quote!(colour = blue),
        quote! {
            enum Door {
                #[initial] #[to(Open)] Closed,
                Open,
            }
        },
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("unknown option `colour`"), "{found:?}");
    assert!(found[1].contains("`Open` has no way out"), "{found:?}");
}

#[test]
fn every_local_violation_is_reported_at_once() {
    let found = messages(quote! {
        enum Door {
            #[on(Open => Open, Open => Closed)] Closed,
            #[terminal] #[to(Closed)] Open,
        }
    });
    let expected = [
        "has no `#[initial]`",
        "is `#[terminal]` but has outgoing edges",
        "leaves `Closed` twice",
        "not snake_case",
    ];
    for fragment in expected {
        assert!(
            found.iter().any(|m| m.contains(fragment)),
            "{fragment}: {found:?}"
        );
    }
}
