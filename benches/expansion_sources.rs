// The machines whose expansion `benches/expansion.rs` times and
// `benches/peers/src/expansion_count.rs` counts, as the macro's input (the
// enum without its `#[state_machine]` line).

/// Seed 004's worker table (`worker_table.rs`).
fn worker() -> String {
    const WORKER: &str = include_str!("worker_table.rs");
    let start = WORKER
        .find("#[state_machine]")
        .expect("the table's attribute");
    let end = WORKER.find("\n}\n").expect("the enum's end");
    WORKER[start + "#[state_machine]".len()..end + 2].to_owned()
}

/// `states` states in a ring, each with edges to the next four (the
/// compile-time benchmark's shape).
fn ring(states: usize) -> String {
    let mut text = String::from("#[derive(Debug, Clone, Copy, PartialEq)]\npub enum Big {\n");
    for state in 0..states {
        if state == 0 {
            text.push_str("#[initial]\n");
        }
        let arrows: Vec<String> = ["a", "b", "c", "d"]
            .iter()
            .enumerate()
            .map(|(step, event)| format!("{event} => S{}", (state + step + 1) % states))
            .collect();
        let _ = std::fmt::Write::write_fmt(
            &mut text,
            format_args!("#[on({})]\nS{state},\n", arrows.join(", ")),
        );
    }
    text.push('}');
    text
}

/// `states` states, each `#[from_any]`: past the edge limit, so the macro
/// counts the edges and reports one error without making them.
#[allow(dead_code)] // `benches/peers` counts only the sound machines
fn from_any_everywhere(states: usize) -> String {
    let mut text = String::from("pub enum Everywhere {\n#[initial]\n");
    for state in 0..states {
        let _ = std::fmt::Write::write_fmt(&mut text, format_args!("#[from_any] S{state},\n"));
    }
    text.push('}');
    text
}

/// `states` states in a ring whose every state also names 20 misspelt
/// targets: the error path, with its suggestions.
#[allow(dead_code)] // `benches/peers` counts only the sound machines
fn misspelt(states: usize) -> String {
    let mut text = String::from("pub enum Misspelt {\n#[initial]\n");
    for state in 0..states {
        let typos: Vec<String> = (0..20)
            .map(|k| format!("Sx{}", (state + k) % states))
            .collect();
        let _ = std::fmt::Write::write_fmt(
            &mut text,
            format_args!(
                "#[to(S{}, {})] S{state},\n",
                (state + 1) % states,
                typos.join(", ")
            ),
        );
    }
    text.push('}');
    text
}
