//! The macro never panics and always emits Rust: a seeded generator of
//! machines (valid, mistaken, mutated and random) through `expand`, each
//! output parsed as Rust items, and the DOT diagram of every valid one read
//! by Graphviz (when `dot` is installed; `scripts/graphviz` installs it and
//! makes it required). A few thousand inputs by default; set
//! `STATEWRIGHT_FUZZ_CASES` for a longer run, `STATEWRIGHT_FUZZ_SEED` to
//! replay one.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::str::FromStr;

use proc_macro2::TokenStream;

mod generator;
use generator::{machine, mutate, soup, Rng, ANY};

/// Expands `args` and `item`: `Err` with the reason if it panicked or
/// emitted something that is not Rust items.
fn check(args: &str, item: &str) -> Result<(), String> {
    let (Ok(args), Ok(item_tokens)) = (TokenStream::from_str(args), TokenStream::from_str(item))
    else {
        return Ok(()); // not tokens at all: rustc would not call the macro
    };
    let parses = syn::parse2::<syn::DeriveInput>(item_tokens.clone()).is_ok();
    let output = catch_unwind(AssertUnwindSafe(|| {
        statewright_codegen::expand(args, item_tokens)
    }))
    .map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(ToString::to_string))
            .unwrap_or_default();
        format!("panicked: {message}")
    })?;
    // An input that is no item comes back as it was, with the error.
    if parses {
        syn::parse2::<syn::File>(output.clone())
            .map_err(|error| format!("emitted invalid Rust ({error}):\n{output}"))?;
    }
    Ok(())
}

fn cases() -> u64 {
    std::env::var("STATEWRIGHT_FUZZ_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(2_000)
}

#[test]
fn generated_mutated_and_random_inputs_never_panic_and_emit_rust() {
    let seed = std::env::var("STATEWRIGHT_FUZZ_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0x5eed_u64);
    // The panics are caught and reported below; keep the log readable.
    std::panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng(seed);
    let total = cases();
    let mut failures = Vec::new();
    let mut diagrams = String::new();
    for case in 0..total {
        let (args, item) = machine(&mut rng, &ANY);
        let (args, item) = match case % 10 {
            0..=5 => (args, item),
            6..=8 => (args, mutate(&mut rng, &item)),
            _ => (String::new(), soup(&mut rng)),
        };
        if let Ok(found) =
            statewright_codegen::find_machines(&format!("#[state_machine({args})] {item}"))
        {
            for table in found.into_iter().filter_map(|found| found.table.ok()) {
                diagrams.push_str(&table.dot);
            }
        }
        if let Err(reason) = check(&args, &item) {
            failures.push(format!("#[state_machine({args})]\n{item}\n=> {reason}"));
            if failures.len() >= 5 {
                break;
            }
        }
        // Outside a macro, proc-macro2 keeps the text of every parsed input
        // for span locations; drop it so a long run stays in bounded memory.
        proc_macro2::extra::invalidate_current_thread_spans();
    }
    let _ = std::panic::take_hook();
    assert!(
        failures.is_empty(),
        "{} failing inputs (seed {seed}), first:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    println!("{total} inputs, seed {seed}: no panic, every output is Rust");
    graphviz_reads(&diagrams);
}

/// Feeds `diagrams` (DOT graphs one after another) to Graphviz's `dot` and
/// fails on any error it reports; skips with a note when `dot` is missing,
/// unless `STATEWRIGHT_REQUIRE_GRAPHVIZ` is set.
fn graphviz_reads(diagrams: &str) {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let spawned = Command::new("dot")
        .arg("-Tcanon")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) => {
            assert!(
                std::env::var_os("STATEWRIGHT_REQUIRE_GRAPHVIZ").is_none(),
                "Graphviz's `dot` is required but cannot run: {error}"
            );
            println!(
                "`dot` not found ({error}): DOT diagrams not checked; run under scripts/graphviz"
            );
            return;
        }
    };
    let mut stdin = child.stdin.take().expect("piped");
    let input = diagrams.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("dot runs");
    writer.join().expect("writer").expect("dot reads its input");
    let graphs = diagrams.matches("digraph ").count();
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "Graphviz rejects a generated diagram:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!("Graphviz read all {graphs} DOT diagrams");
}

/// The inputs a fuzz run once found panicking, each now an expansion or
/// one clear error.
#[test]
fn once_panicking_inputs_expand_or_explain() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        (
            "",
            "enum Job { #[initial] #[on(r#type => Done)] Idle, #[terminal] Done }",
            None,
        ),
        (
            "",
            "enum Job { #[initial] #[on(_1 => Done)] Idle, #[terminal] Done }",
            Some("starts with a digit"),
        ),
        (
            "",
            "enum Job { #[initial] #[on(__ => Done)] Idle, #[terminal] Done }",
            Some("an empty name"),
        ),
        (
            "",
            "enum Job { #[initial] #[on(self_ => Done)] Idle, #[terminal] Done }",
            Some("`Self`, a keyword Rust does not allow as a name"),
        ),
        (
            "",
            "enum r#Job { #[initial] #[to(Done)] Idle, #[terminal] Done }",
            None,
        ),
        (
            "",
            "enum Match { #[initial] #[to(Done)] Idle, #[terminal] Done }",
            None,
        ),
        (
            "",
            "enum Static { #[initial] #[to(Done)] Idle, #[terminal] Done }",
            None,
        ),
        (
            "",
            "enum Crate { #[initial] #[to(Done)] Idle, #[terminal] Done }",
            Some("`#[state_machine(module = name)]`"),
        ),
        (
            "",
            "pub(in ::a) enum Job { #[initial] #[to(Done)] Idle, #[terminal] Done }",
            None,
        ),
    ];
    for (args, item, error) in cases {
        check(args, item).unwrap_or_else(|reason| panic!("{item}: {reason}"));
        let output = statewright_codegen::expand(
            TokenStream::from_str(args).unwrap(),
            TokenStream::from_str(item).unwrap(),
        )
        .to_string();
        match error {
            Some(fragment) => assert!(output.contains(fragment), "{item}:\n{output}"),
            None => assert!(!output.contains("compile_error"), "{item}:\n{output}"),
        }
    }
    let keyword_module = statewright_codegen::expand(
        TokenStream::new(),
        TokenStream::from_str("enum Match { #[initial] #[to(Done)] Idle, #[terminal] Done }")
            .unwrap(),
    )
    .to_string();
    assert!(keyword_module.contains("mod r#match"), "{keyword_module}");
    let deeper = statewright_codegen::expand(
        TokenStream::new(),
        TokenStream::from_str(
            "pub(in ::a) enum Job { #[initial] #[to(Done)] Idle, #[terminal] Done }",
        )
        .unwrap(),
    )
    .to_string();
    assert!(!deeper.contains("super :: ::"), "{deeper}");
}
