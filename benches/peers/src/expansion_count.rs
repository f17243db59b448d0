//! Runs the macro's expansion `N` times on one machine, for callgrind
//! (`expansion-callgrind.sh` subtracts a run of 1 from a run of `N + 1`).
//!
//! Usage: `expansion_count worker|STATES [no_picture] N`, where `STATES`
//! makes a ring in which each state has edges to the next four.

use std::str::FromStr;

use proc_macro2::TokenStream;

include!("../../expansion_sources.rs");

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (machine, options, times) = match &args[..] {
        [machine, times] => (machine, "", times),
        [machine, options, times] => (machine, options.as_str(), times),
        _ => panic!("usage: expansion_count worker|STATES [no_picture] N"),
    };
    let source = match machine.as_str() {
        "worker" => worker(),
        states => ring(states.parse().expect("a number of states")),
    };
    let item = TokenStream::from_str(&source).expect("tokens");
    let options = TokenStream::from_str(options).expect("tokens");
    let mut bytes = 0;
    for _ in 0..times.parse::<usize>().expect("a count") {
        let output = statewright_codegen::expand(options.clone(), item.clone());
        bytes += output.to_string().len();
    }
    println!("{bytes} bytes of tokens");
}
