//! Mermaid and DOT renderings of a model: pure functions, no tokens, so the
//! macro's consts and the CLI print the same bytes.

use crate::model::Machine;
use core::fmt::Write;

/// The machine as a Mermaid `stateDiagram-v2`, edges in declaration order.
pub(crate) fn mermaid(machine: &Machine) -> String {
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
            let _ = writeln!(out, "    note right of {} : {note}", name(index));
        }
    }
    out
}

/// The machine as a Graphviz `digraph`, edges in declaration order.
pub(crate) fn dot(machine: &Machine) -> String {
    let mut out = String::new();
    let name = |index: usize| machine.states[index].name.as_str();
    let _ = writeln!(out, "digraph {} {{", machine.name);
    out.push_str("    rankdir=LR;\n    node [shape=box, style=rounded];\n");
    out.push_str("    __start [shape=point, label=\"\"];\n");
    for (index, state) in machine.states.iter().enumerate() {
        let mut attributes = Vec::new();
        if state.terminal.is_some() {
            attributes.push("peripheries=2".to_owned());
        }
        if let Some(note) = note(&state.docs) {
            attributes.push(format!(
                "tooltip=\"{}\"",
                note.replace('\\', "\\\\").replace('"', "\\\"")
            ));
        }
        if attributes.is_empty() {
            let _ = writeln!(out, "    {};", name(index));
        } else {
            let _ = writeln!(out, "    {} [{}];", name(index), attributes.join(", "));
        }
    }
    let _ = writeln!(out, "    __start -> {};", name(machine.initial()));
    for edge in &machine.edges {
        let _ = write!(out, "    {} -> {}", name(edge.from), name(edge.to));
        if let Some(event) = edge.event {
            let _ = write!(out, " [label=\"{}\"]", machine.events[event].name);
        }
        out.push_str(";\n");
    }
    out.push_str("}\n");
    out
}

/// Doc lines folded into one line; `None` when there are no docs.
pub(crate) fn note(docs: &[String]) -> Option<String> {
    let text = docs
        .iter()
        .map(|line| line.trim())
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!text.is_empty()).then_some(text)
}
