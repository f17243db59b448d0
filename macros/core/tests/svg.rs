//! The rustdoc picture on edge cases: text that needs escaping, one state.
#![cfg(feature = "picture")]

use statewright_codegen::find_machines;

fn svg(source: &str) -> String {
    let found = find_machines(source).expect("tokens");
    found[0].table.as_ref().expect("a valid table").svg.clone()
}

#[test]
fn doc_comments_are_escaped_in_tooltips() {
    let picture = svg(r#"
        #[state_machine]
        enum Door {
            /// Shut: "a < b" & 'c' > d.
            #[initial]
            #[on(open => Open)]
            Closed,
            #[terminal]
            Open,
        }
    "#);
    assert!(picture.starts_with("<svg ") && picture.ends_with("</svg>"));
    assert!(
        picture.contains(
            "<title>Closed: Shut: &quot;a &lt; b&quot; &amp; &#39;c&#39; &gt; d.</title>"
        ),
        "{picture}"
    );
    // No raw `<` or `&` outside markup: every `<` opens an element.
    for piece in picture.split('<').skip(1) {
        let name: String = piece
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
            .collect();
        assert!(!name.is_empty(), "a stray `<` before {piece:.20}");
    }
    assert!(picture.contains(">open</text>"), "the edge's event");
}

#[test]
fn a_one_state_machine_is_drawn() {
    let picture = svg("#[state_machine] enum One { #[initial] #[terminal] Only }");
    assert!(picture.contains(">Only</text>"));
    // The start dot, and a terminal's double border.
    assert_eq!(picture.matches("<circle").count(), 1);
    assert_eq!(picture.matches("<rect").count(), 2);
}

#[test]
fn every_colour_is_the_themes() {
    // rustdoc's themes set `color`; a fixed colour would vanish in one of them.
    let picture = svg("
        #[state_machine]
        enum Job {
            #[initial]
            #[on(start => Running)]
            Queued,
            #[on(finish => Done, tick => Running)]
            Running,
            #[terminal]
            Done,
        }
    ");
    let mut painted = 0;
    for attribute in ["fill='", "stroke='", "color:"] {
        for (at, _) in picture.match_indices(attribute) {
            let value: String = picture[at + attribute.len()..]
                .chars()
                .take_while(char::is_ascii_alphabetic)
                .collect();
            assert!(
                value == "currentColor" || value == "none",
                "{attribute}{value} in {picture}"
            );
            painted += 1;
        }
    }
    assert!(painted >= 4, "{picture}");
}
