//! Mermaid and DOT renderings of a model: pure functions, no tokens, so the
//! macro's consts and the CLI print the same bytes.

use crate::model::Machine;
use core::fmt::Write;

/// The machine as a Mermaid `stateDiagram-v2`, edges in declaration order.
///
/// Names are identifiers, which Mermaid reads as they are; the one free
/// text, a state's docs as its note, is folded to one line with Mermaid's
/// statement characters escaped, so no doc comment can add to the diagram.
pub fn mermaid(machine: &Machine) -> String {
    let mut out = String::from("stateDiagram-v2\n");
    let name = |index: usize| machine.states[index].name.as_str();
    let _ = writeln!(out, "    [*] --> {}", name(machine.initial()));
    for edge in &machine.edges {
        let _ = write!(out, "    {} --> {}", name(edge.from), name(edge.to));
        if let Some(event) = edge.event {
            let _ = write!(out, " : {}", machine.events[event].name);
        }
        out.push('\n');
    }
    for (index, state) in machine.states.iter().enumerate() {
        if state.terminal.is_some() {
            let _ = writeln!(out, "    {} --> [*]", name(index));
        }
    }
    for (index, state) in machine.states.iter().enumerate() {
        if let Some(note) = note(&state.docs) {
            let _ = writeln!(
                out,
                "    note right of {} : {}",
                name(index),
                mermaid_text(&note)
            );
        }
    }
    out
}

/// The machine as a Graphviz `digraph`, edges in declaration order.
///
/// A name that is not a plain DOT identifier (a keyword such as `Node` or
/// `Graph` in any case, or one with characters beyond ASCII letters, digits
/// and `_`) is quoted, and the start point is named unlike every state.
pub fn dot(machine: &Machine) -> String {
    let mut out = String::new();
    let name = |index: usize| dot_id(&machine.states[index].name);
    let states: Vec<&str> = machine
        .states
        .iter()
        .map(|state| state.name.as_str())
        .collect();
    let start = crate::names::unlike(&states, "__start");
    let _ = writeln!(out, "digraph {} {{", dot_id(&machine.name));
    out.push_str("    rankdir=LR;\n    node [shape=box, style=rounded];\n");
    let _ = writeln!(out, "    {start} [shape=point, label=\"\"];");
    for (index, state) in machine.states.iter().enumerate() {
        let mut attributes = Vec::new();
        if state.terminal.is_some() {
            attributes.push("peripheries=2".to_owned());
        }
        if let Some(note) = note(&state.docs) {
            attributes.push(format!("tooltip={}", dot_string(&note)));
        }
        if attributes.is_empty() {
            let _ = writeln!(out, "    {};", name(index));
        } else {
            let _ = writeln!(out, "    {} [{}];", name(index), attributes.join(", "));
        }
    }
    let _ = writeln!(out, "    {start} -> {};", name(machine.initial()));
    for edge in &machine.edges {
        let _ = write!(out, "    {} -> {}", name(edge.from), name(edge.to));
        if let Some(event) = edge.event {
            let _ = write!(out, " [label={}]", dot_string(&machine.events[event].name));
        }
        out.push_str(";\n");
    }
    out.push_str("}\n");
    out
}

/// Doc lines folded into one line, every run of whitespace and control
/// characters (a newline inside one doc string, too) one space; `None`
/// when there are no docs.
pub fn note(docs: &[String]) -> Option<String> {
    let text = docs
        .iter()
        .flat_map(|line| line.split(|c: char| c.is_whitespace() || c.is_control()))
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!text.is_empty()).then_some(text)
}

/// Text for a Mermaid note: `#`, `;` and `:` (which Mermaid reads as an
/// entity, a statement's end and a note text's end) as entity codes.
fn mermaid_text(text: &str) -> String {
    escaped(text, |c| match c {
        '#' => Some("#35;"),
        ';' => Some("#59;"),
        ':' => Some("#58;"),
        _ => None,
    })
}

/// `text` with each character `escape` names replaced by its escape.
pub fn escaped(text: &str, escape: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match escape(c) {
            Some(escape) => out.push_str(escape),
            None => out.push(c),
        }
    }
    out
}

/// DOT's keywords, which are no identifiers in any case.
const DOT_KEYWORDS: [&str; 6] = ["node", "edge", "graph", "digraph", "subgraph", "strict"];

/// `name` as a DOT identifier: as it is when DOT reads it so, else quoted.
fn dot_id(name: &str) -> String {
    let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !DOT_KEYWORDS
            .iter()
            .any(|keyword| keyword.eq_ignore_ascii_case(name));
    if plain && !name.is_empty() {
        name.to_owned()
    } else {
        dot_string(name)
    }
}

/// `text` as a quoted DOT string.
fn dot_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}
