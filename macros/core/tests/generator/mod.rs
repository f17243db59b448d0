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

/// What a machine is drawn from: the pools below, less what a purpose
/// leaves out, with its own derives.
pub struct Pools {
    /// The enum's derive line (or none).
    pub derives: &'static [&'static str],
    /// Names and types never drawn.
    pub left_out: &'static [&'static str],
}

/// Everything, user mistakes included: for the never-panic run.
pub const ANY: Pools = Pools {
    derives: &[
        "",
        "#[derive(Debug, Clone, PartialEq, serde::Serialize, Default)]\n",
    ],
    left_out: &[],
};

/// Only what compiles in the suite's sample, where `Owner`, `Id`, `Summary`
/// and the module `a` exist: the macro's mistakes stay possible (they are
/// filtered by its errors), the user's are left out.
pub const COMPILABLE: Pools = Pools {
    derives: &["", "#[derive(Debug, Clone, PartialEq)]\n"],
    left_out: &[
        // An enum named `Box` shadows the `Box` its fields name.
        "Box",
        // The user's own variant would warn (not camel case).
        "graph",
        "__start",
        // A qualification rustc calls unnecessary in the user's own enum.
        "self::Id",
        // `PartialEq` warns about comparing function pointers.
        "fn(Self) -> u8",
        // A type of infinite size.
        "(u8, Self)",
        // A macro and a trait the sample does not define.
        "m!(Self)",
        "<Self as Trait>::Out",
    ],
};

impl Pools {
    /// One item of `pool` that this purpose does not leave out.
    fn pick(&self, rng: &mut Rng, pool: &[&'static str]) -> &'static str {
        loop {
            let item = rng.pick(pool);
            if !self.left_out.contains(&item) {
                return item;
            }
        }
    }
}

const VISIBILITIES: &[&str] = &[
    "",
    "pub ",
    "pub(crate) ",
    "pub(super) ",
    "pub(in crate::a) ",
];

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
    "(u8, Box<Self>)",
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
                pools.pick(rng, STATE_NAMES)
            });
        }
        let _ = writeln!(out, "#[to({})]", targets.join(", "));
    }
    for _ in 0..rng.below(3) {
        let mut arrows = Vec::new();
        for _ in 0..=rng.below(3) {
            arrows.push(format!(
                "{} => {}",
                pools.pick(rng, EVENT_NAMES),
                rng.pick(states)
            ));
        }
        let _ = writeln!(out, "#[on({})]", arrows.join(", "));
    }
    if rng.chance(10) {
        let _ = writeln!(out, "#[from_any({})]", pools.pick(rng, EVENT_NAMES));
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
        let name = pools.pick(rng, STATE_NAMES);
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
                let _ = write!(body, " {{ field: {} }}", pools.pick(rng, FIELD_TYPES));
            }
            1 => {
                let _ = write!(body, "({})", pools.pick(rng, FIELD_TYPES));
            }
            _ => {}
        }
        body.push_str(",\n");
    }
    let derives = rng.pick(pools.derives);
    let vis = rng.pick(VISIBILITIES);
    let item = format!(
        "{derives}{vis}enum {} {{\n{body}}}",
        pools.pick(rng, MACHINE_NAMES)
    );
    (pools.pick(rng, OPTIONS).to_string(), item)
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
