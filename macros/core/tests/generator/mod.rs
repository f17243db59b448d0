//! The machines the fuzz run feeds the macro: a seeded generator of valid,
//! mistaken, mutated and random inputs from pools of awkward names. Shared
//! by `tests/fuzz.rs` and the suite's compile sample
//! (`suite/tests/fuzz_sample.rs`), which draws from the compilable pools.
#![allow(dead_code, unreachable_pub)] // each includer uses a part

use std::fmt::Write;

/// xorshift64*: small, seeded, the same sequence everywhere.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// The names, types and options a machine is drawn from.
pub struct Pools {
    pub machines: &'static [&'static str],
    pub states: &'static [&'static str],
    pub events: &'static [&'static str],
    pub field_types: &'static [&'static str],
    pub options: &'static [&'static str],
    pub derives: &'static [&'static str],
    pub visibilities: &'static [&'static str],
}

/// Everything, user mistakes included: for the never-panic run.
pub const ANY: Pools = Pools {
    machines: MACHINE_NAMES,
    states: STATE_NAMES,
    events: EVENT_NAMES,
    field_types: FIELD_TYPES,
    options: OPTIONS,
    derives: &[
        "",
        "#[derive(Debug, Clone, PartialEq, serde::Serialize, Default)]\n",
    ],
    visibilities: &[
        "",
        "pub ",
        "pub(crate) ",
        "pub(super) ",
        "pub(in crate::a) ",
    ],
};

/// Only what compiles in the suite's sample, where `Owner`, `Id`, `Summary`
/// and the module `a` exist: the macro's mistakes stay possible (they are
/// filtered by its errors), the user's (a `Box` enum shadowing `Box`, a
/// `Default` derive without `#[default]`) are left out.
pub const COMPILABLE: Pools = Pools {
    machines: &[
        "Job",
        "r#Job",
        "Match",
        "Fn",
        "Async",
        "Crate",
        "Final",
        "Loop",
        "Macro",
        "Mod",
        "Move",
        "Static",
        "Self_",
        "HTTPServer",
        "Über",
        "A",
        "Type",
        "r#Type",
        "Super",
        "Digraph",
    ],
    // Not `graph` or `__start`: the user's own variant would warn.
    states: &[
        "Idle",
        "Running",
        "Done",
        "Failed",
        "r#Type",
        "r#Match",
        "String",
        "Option",
        "Summary",
        "LegalEdge",
        "Paid",
        "Payed",
        "Ünïcode",
        "A",
        "B",
        "Node",
        "EDGE",
        "Strict",
        "Subgraph",
    ],
    events: EVENT_NAMES,
    // Not `self::Id` (a qualification rustc calls unnecessary in the
    // user's own enum), `fn(Self) -> u8` (which `PartialEq` warns about)
    // or `(u8, Self)` (a type of infinite size).
    field_types: &[
        "u8",
        "String",
        "Option<u8>",
        "Box<Self>",
        "super::Owner",
        "crate::Id",
        "Summary",
        "Option<String>",
        "&'static str",
        "Vec<Self>",
        "[u8; 4]",
        "(u8, Box<Self>)",
    ],
    options: OPTIONS,
    derives: &["", "#[derive(Debug, Clone, PartialEq)]\n"],
    visibilities: &[
        "",
        "pub ",
        "pub(crate) ",
        "pub(super) ",
        "pub(in crate::a) ",
    ],
};

const MACHINE_NAMES: &[&str] = &[
    "Job",
    "r#Job",
    "Match",
    "Fn",
    "Async",
    "Box",
    "Crate",
    "Final",
    "Loop",
    "Macro",
    "Mod",
    "Move",
    "Static",
    "Self_",
    "HTTPServer",
    "Über",
    "A",
    "Type",
    "r#Type",
    "Super",
    "Digraph",
];
const STATE_NAMES: &[&str] = &[
    "Idle",
    "Running",
    "Done",
    "Failed",
    "r#Type",
    "r#Match",
    "String",
    "Option",
    "Summary",
    "LegalEdge",
    "Paid",
    "Payed",
    "Ünïcode",
    "A",
    "B",
    "Node",
    "EDGE",
    "graph",
    "Strict",
    "Subgraph",
    "__start",
];
const EVENT_NAMES: &[&str] = &[
    "start", "stop", "r#type", "r#match", "_1", "__", "self_", "to", "clone", "lt", "go", "Start",
    "naïve", "a_b", "super_", "crate_",
];
const FIELD_TYPES: &[&str] = &[
    "u8",
    "String",
    "Option<u8>",
    "Box<Self>",
    "super::Owner",
    "self::Id",
    "crate::Id",
    "Summary",
    "Option<String>",
    "&'static str",
    "Vec<Self>",
    "[u8; 4]",
    "(u8, Self)",
    "fn(Self) -> u8",
    "m!(Self)",
    "<Self as Trait>::Out",
];
const OPTIONS: &[&str] = &[
    "",
    "",
    "module = states",
    "kind = K",
    "event = E",
    "allow_unreachable",
    "kind = r#Type",
    "module = r#mod",
    "colour = blue",
    "module",
    "kind = ",
    "allow_unreachable, allow_unreachable",
];

pub fn variant(rng: &mut Rng, pools: &Pools, states: &[&str]) -> String {
    let names = pools.states;
    let mut out = String::new();
    if rng.chance(10) {
        out.push_str("/// Docs.\n");
    }
    if rng.chance(8) {
        out.push_str("#[cfg(any())]\n");
    }
    if rng.chance(20) {
        out.push_str("#[terminal]\n");
    }
    for _ in 0..rng.below(3) {
        let mut targets = Vec::new();
        for _ in 0..=rng.below(3) {
            targets.push(if rng.chance(90) {
                rng.pick(states)
            } else {
                rng.pick(names)
            });
        }
        let _ = writeln!(out, "#[to({})]", targets.join(", "));
    }
    for _ in 0..rng.below(3) {
        let mut arrows = Vec::new();
        for _ in 0..=rng.below(3) {
            arrows.push(format!(
                "{} => {}",
                rng.pick(pools.events),
                rng.pick(states)
            ));
        }
        let _ = writeln!(out, "#[on({})]", arrows.join(", "));
    }
    if rng.chance(10) {
        let _ = writeln!(out, "#[from_any({})]", rng.pick(pools.events));
    } else if rng.chance(5) {
        out.push_str("#[from_any]\n");
    }
    out
}

/// A machine built from the pools: often valid, often with mistakes.
pub fn machine(rng: &mut Rng, pools: &Pools) -> (String, String) {
    let count = 1 + rng.below(6);
    let mut states: Vec<&str> = Vec::new();
    while states.len() < count {
        let name = rng.pick(pools.states);
        if !states.contains(&name) || rng.chance(3) {
            states.push(name);
        }
    }
    let initial = rng.below(count);
    let mut body = String::new();
    for (index, state) in states.iter().enumerate() {
        if index == initial || rng.chance(3) {
            body.push_str("#[initial]\n");
        }
        body.push_str(&variant(rng, pools, &states));
        body.push_str(state);
        match rng.below(4) {
            0 => {
                let _ = write!(body, " {{ field: {} }}", rng.pick(pools.field_types));
            }
            1 => {
                let _ = write!(body, "({})", rng.pick(pools.field_types));
            }
            _ => {}
        }
        body.push_str(",\n");
    }
    let derives = rng.pick(pools.derives);
    let vis = rng.pick(pools.visibilities);
    let item = format!(
        "{derives}{vis}enum {} {{\n{body}}}",
        rng.pick(pools.machines)
    );
    (rng.pick(pools.options).to_string(), item)
}

/// Deletes, repeats or swaps a few characters.
pub fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..=rng.below(3) {
        if chars.is_empty() {
            break;
        }
        let at = rng.below(chars.len());
        match rng.below(3) {
            0 => {
                chars.remove(at);
            }
            1 => {
                let c = chars[at];
                chars.insert(at, c);
            }
            _ => {
                let other = rng.below(chars.len());
                chars.swap(at, other);
            }
        }
    }
    chars.into_iter().collect()
}

/// Tokens in no order at all.
pub fn soup(rng: &mut Rng) -> String {
    let tokens = [
        "enum", "E", "{", "}", "(", ")", "#", "[", "]", "initial", "to", "on", "=>", ",", "A", "B",
        "r#type", "terminal", "from_any", "Self", "::", "<", ">", ";", "pub", "struct",
    ];
    (0..rng.below(40))
        .map(|_| tokens[rng.below(tokens.len())])
        .collect::<Vec<_>>()
        .join(" ")
}
