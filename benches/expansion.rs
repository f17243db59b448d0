//! What the rustdoc picture adds to the macro's expansion: `expand` on the
//! same machine with and without `no_picture`, from the 7-state `Worker` to
//! the 60-state limit (rings in which every state has edges to the next
//! four, the compile-time benchmark's shape).
//!
//! This is the whole expansion, parse to tokens, as rustc runs it; the
//! difference between the two rows of a size is the picture.
#![allow(missing_docs)]

use std::fmt::Write;
use std::str::FromStr;

use criterion::{criterion_group, criterion_main, Criterion};
use proc_macro2::TokenStream;
use std::hint::black_box;

const WORKER: &str = include_str!("worker_table.rs");

/// The enum of `worker_table.rs`, without its `#[state_machine]` line.
fn worker() -> String {
    let start = WORKER
        .find("#[state_machine]")
        .expect("the table's attribute");
    let end = WORKER.find("\n}\n").expect("the enum's end");
    WORKER[start + "#[state_machine]".len()..end + 2].to_owned()
}

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
        let _ = writeln!(text, "#[on({})]\nS{state},", arrows.join(", "));
    }
    text.push('}');
    text
}

fn expansion(c: &mut Criterion) {
    let mut group = c.benchmark_group("expansion");
    let machines = [
        ("worker-7", worker()),
        ("ring-20", ring(20)),
        ("ring-40", ring(40)),
        ("ring-60", ring(60)),
    ];
    for (name, source) in &machines {
        let item = TokenStream::from_str(source).expect("tokens");
        for (variant, args) in [("picture", ""), ("no_picture", "no_picture")] {
            let args = TokenStream::from_str(args).expect("tokens");
            let output = statewright_codegen::expand(args.clone(), item.clone()).to_string();
            assert!(
                !output.contains("compile_error"),
                "{name}: {}",
                &output[output.find("compile_error").unwrap_or(0)..]
            );
            assert_eq!(
                output.contains("<svg"),
                variant == "picture",
                "{name} {variant}"
            );
            group.bench_function(format!("{name}/{variant}"), |b| {
                b.iter(|| {
                    statewright_codegen::expand(black_box(args.clone()), black_box(item.clone()))
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, expansion);
criterion_main!(benches);
