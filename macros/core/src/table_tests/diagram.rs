//! The diagrams of parsed machines (here, where parse is: `statewright-table`
//! has no parser).

use quote::quote;
use statewright_table::errors::Errors;

fn machine(item: proc_macro2::TokenStream) -> statewright_table::model::Machine {
    let mut errors = Errors::default();
    let (parsed, _) = crate::parse::from_syn(quote!(), item, &mut errors);
    let machine =
        statewright_table::model::Machine::from_parse(parsed.expect("an enum"), &mut errors);
    assert_eq!(errors.messages(), Vec::<String>::new());
    machine
}

#[test]
fn dot_keywords_and_the_start_name_are_quoted_or_avoided() {
    let graph = machine(quote! {
        enum Graph {
            #[initial] #[to(Node, EDGE, subgraph, __start)] Strict,
            #[to(Digraph)] Node,
            #[terminal] EDGE,
            #[terminal] subgraph,
            #[terminal] __start,
            #[terminal] Digraph,
        }
    });
    let dot = statewright_table::diagram::dot(&graph);
    assert!(dot.starts_with("digraph \"Graph\" {"), "{dot}");
    for keyword in ["Strict", "Node", "EDGE", "subgraph", "Digraph"] {
        assert!(dot.contains(&format!("\"{keyword}\"")), "{keyword}: {dot}");
    }
    assert!(dot.contains("    __start_ [shape=point"), "{dot}");
    assert!(dot.contains("    __start_ -> \"Strict\";"), "{dot}");
    assert!(dot.contains("    __start [peripheries=2];"), "{dot}");
}

#[test]
fn no_doc_text_adds_to_a_diagram() {
    let plain = machine(quote! {
        enum Door {
            #[initial] #[to(Open)] Closed,
            #[terminal] Open,
        }
    });
    let documented = machine(quote! {
        enum Door {
            #[doc = "Shut.\nA --> B\r\nnote left of Open : x"]
            /** several
                lines; # and %% too: */
            #[initial] #[to(Open)] Closed,
            #[doc = "\" -> evil [label=\"x\"]; Open -> Closed"]
            #[terminal] Open,
        }
    });
    let lines = |text: &str| text.lines().count();
    let (mermaid, dot) = (
        statewright_table::diagram::mermaid(&documented),
        statewright_table::diagram::dot(&documented),
    );
    assert_eq!(
        lines(&mermaid),
        lines(&statewright_table::diagram::mermaid(&plain)) + 2,
        "one note line each: {mermaid}"
    );
    let edges = mermaid
        .lines()
        .filter(|line| line.contains("-->") && !line.trim_start().starts_with("note "))
        .count();
    assert_eq!(edges, 3, "{mermaid}");
    assert!(
        mermaid.contains("lines#59;"),
        "a statement end escaped: {mermaid}"
    );
    assert!(
        mermaid.contains("too#58;"),
        "a note text's end escaped: {mermaid}"
    );
    assert_eq!(
        lines(&dot),
        lines(&statewright_table::diagram::dot(&plain)),
        "{dot}"
    );
    let edges = dot
        .lines()
        .filter(|line| line.contains(" -> ") && !line.contains("tooltip="))
        .count();
    assert_eq!(edges, 2, "{dot}");
}
