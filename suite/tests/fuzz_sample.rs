//! A sample of the fuzz generator's machines, compiled: every one the macro
//! accepts must compile without a warning under
//! `#![deny(warnings, unused_qualifications)]`, whatever names, options,
//! field types and visibilities it drew. (The never-panic run in
//! `macros/core/tests/fuzz.rs` only parses what the macro emits.)

use std::fmt::Write;
use std::str::FromStr;

#[path = "../../macros/core/tests/generator/mod.rs"]
mod generator;

use generator::{machine, Rng, COMPILABLE};

/// Machines in the sample; candidates drawn to find them.
const SAMPLE: usize = 40;
const CANDIDATES: usize = 2_000;

/// The sample file: each accepted machine in a module of its own under
/// `a` (so `pub(in crate::a)` and `super::Owner` mean something), beside
/// the types the pools name and nothing else in scope.
fn sample(seed: u64) -> (String, usize) {
    let mut rng = Rng(seed);
    let mut modules = String::new();
    let mut accepted = 0;
    for _ in 0..CANDIDATES {
        let (args, item) = machine(&mut rng, &COMPILABLE);
        let (Ok(args_tokens), Ok(item_tokens)) = (
            proc_macro2::TokenStream::from_str(&args),
            proc_macro2::TokenStream::from_str(&item),
        ) else {
            continue;
        };
        let output = statewright_codegen::expand(args_tokens, item_tokens).to_string();
        if output.contains("compile_error") {
            continue;
        }
        let _ = write!(
            modules,
            "    pub mod m{accepted} {{\n        use statewright::state_machine;\n        \
             #[allow(unused_imports)]\n        use crate::Summary;\n\n        \
             #[state_machine({args})]\n{item}\n    }}\n"
        );
        accepted += 1;
        if accepted == SAMPLE {
            break;
        }
    }
    let file = format!(
        "#![deny(warnings, unused_qualifications)]\n\
         // The sample's machines are not used by `main`; every other warning counts.\n\
         #![allow(dead_code)]\n\n\
         #[derive(Debug, Clone, PartialEq)]\npub struct Id;\n\
         #[derive(Debug, Clone, PartialEq)]\npub struct Summary;\n\n\
         pub mod a {{\n    #[derive(Debug, Clone, PartialEq)]\n    pub struct Owner;\n\n{modules}}}\n\nfn main() {{}}\n"
    );
    (file, accepted)
}

#[test]
fn a_sample_of_generated_machines_compiles_warning_free() {
    let (file, accepted) = sample(0x5eed);
    assert!(
        accepted >= SAMPLE / 2,
        "only {accepted} of {CANDIDATES} candidates were accepted"
    );
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz_sample.rs");
    std::fs::write(&path, file).unwrap();
    println!("{accepted} machines in {}", path.display());
    trybuild::TestCases::new().pass(&path);
}
