//! What the rustdoc picture adds to the macro's expansion: `expand` on the
//! same machine with and without `no_picture`, from the 7-state `Worker` to
//! the 60-state limit (rings in which every state has edges to the next
//! four, the compile-time benchmark's shape).
//!
//! This is the whole expansion, parse to tokens, as rustc runs it; the
//! difference between the two rows of a size is the picture.
#![allow(missing_docs)]

use std::str::FromStr;

use criterion::{criterion_group, criterion_main, Criterion};
use proc_macro2::TokenStream;
use std::hint::black_box;

include!("expansion_sources.rs");

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

/// Tables that are errors expand as fast: the input is counted, never
/// multiplied out.
fn errors(c: &mut Criterion) {
    let mut group = c.benchmark_group("expansion-errors");
    group.sample_size(20);
    let machines = [
        ("from-any-1000", from_any_everywhere(1000)),
        ("misspelt-1000x20", misspelt(1000)),
    ];
    for (name, source) in &machines {
        let item = TokenStream::from_str(source).expect("tokens");
        let output = statewright_codegen::expand(TokenStream::new(), item.clone()).to_string();
        assert!(output.contains("compile_error"), "{name} is an error");
        group.bench_function(*name, |b| {
            b.iter(|| statewright_codegen::expand(TokenStream::new(), black_box(item.clone())));
        });
    }
    group.finish();
}

criterion_group!(benches, expansion, errors);
criterion_main!(benches);
