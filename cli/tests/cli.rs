//! The `statewright` command as users run it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn statewright(args: &[&str]) -> Output {
    statewright_in(&root(), args)
}

fn statewright_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_statewright"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// (first line of the message, line, column) of every `error:` in rustc's
/// layout, as trybuild pins them and as `check` prints them.
fn errors(output: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = output.lines().collect();
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if let Some(message) = line.strip_prefix("error: ") {
            let place = lines[index + 1..]
                .iter()
                .find_map(|line| line.trim_start().strip_prefix("--> "))
                .unwrap_or("?");
            found.push((message.to_owned(), place.to_owned()));
        }
    }
    found
}

#[test]
fn check_prints_the_macros_messages_for_every_table_case() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root().join("suite/tests/ui/table"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 10);
    for case in cases {
        // Relative to the suite's crate, as trybuild pins the paths.
        let relative = case
            .strip_prefix(root().join("suite"))
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let pinned = std::fs::read_to_string(case.with_extension("stderr")).unwrap();
        let output = statewright_in(&root().join("suite"), &["check", &relative]);
        let printed = text(&output.stdout);
        let ours: Vec<_> = errors(&pinned)
            .into_iter()
            .filter(|(message, _)| !message.starts_with("could not compile"))
            .collect();
        assert_eq!(errors(&printed), ours, "{relative}:\n{printed}");
        assert_eq!(
            output.status.code(),
            Some(1),
            "{relative}: table errors exit 1"
        );
    }
}

/// The binary prints the table's diagrams byte for byte; the root test
/// `the_cli_reads_the_diagrams_the_macro_writes` shows those equal the
/// consts the macro generates.
#[test]
fn diagram_prints_the_tables_diagrams_byte_for_byte() {
    let source = std::fs::read_to_string(root().join("examples/worker.rs")).unwrap();
    let found = statewright_codegen::find_machines(&source).unwrap();
    let table = found[0].table.as_ref().unwrap();
    let mermaid = statewright(&["diagram", "examples/worker.rs", "--machine", "Worker"]);
    assert!(mermaid.status.success());
    assert_eq!(text(&mermaid.stdout), table.mermaid);
    let dot = statewright(&["diagram", "examples/worker.rs", "--format", "dot"]);
    assert_eq!(text(&dot.stdout), table.dot);
}

#[test]
fn version_is_the_crates() {
    let output = statewright(&["--version"]);
    assert!(output.status.success());
    assert_eq!(
        text(&output.stdout),
        format!("statewright {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn paths_print_a_cover_of_every_edge() {
    let output = statewright(&["paths", "examples/worker.rs"]);
    assert!(output.status.success());
    let printed = text(&output.stdout);
    assert!(
        printed.starts_with("Worker: 1 walks take all 15 edges\n1. Assigned -start-> Working"),
        "{printed}"
    );
}

#[test]
fn check_says_what_it_checked_and_reads_directories() {
    let dir = std::env::temp_dir().join(format!("statewright-check-{}", std::process::id()));
    let nested = dir.join("src/inner");
    std::fs::create_dir_all(&nested).unwrap();
    let door = "#[state_machine]\nenum Door { #[initial] #[to(Open)] Closed, #[terminal] Open }\n";
    std::fs::write(dir.join("src/lib.rs"), format!("{door}mod x {{ {door} }}")).unwrap();
    std::fs::write(nested.join("more.rs"), door).unwrap();
    std::fs::write(nested.join("notes.txt"), "not Rust {").unwrap();
    std::fs::write(dir.join("src/empty.rs"), "fn main() {}\n").unwrap();
    let path = |relative: &str| dir.join(relative).to_str().unwrap().to_owned();

    let output = statewright(&["check", &path("src")]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "3 machines in 3 files: ok\n");

    let output = statewright(&["check", &path("src/empty.rs")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("no `#[state_machine]` enum found: 0 machines in 1 file"),
        "{}",
        text(&output.stderr)
    );

    // A typo and an unreachable state, in one run.
    std::fs::write(
        nested.join("bad.rs"),
        "#[state_machine]\nenum Job { #[initial] #[to(Dnoe)] Idle, #[terminal] Done, #[terminal] Lost }\n",
    )
    .unwrap();
    let output = statewright(&["check", &path("src")]);
    assert_eq!(output.status.code(), Some(1));
    let printed = text(&output.stdout);
    assert!(printed.contains("did you mean `Done`"), "{printed}");
    assert!(
        printed.ends_with("4 machines in 4 files: 1 with errors\n"),
        "{printed}"
    );

    let deep = format!("fn f() {{ {}{} }}", "(".repeat(50_000), ")".repeat(50_000));
    std::fs::write(dir.join("deep.rs"), deep).unwrap();
    let output = statewright(&["check", &path("deep.rs")]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("brackets nest deeper than 256 levels"),
        "{}",
        text(&output.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_is_an_error_never_a_panic() {
    let directory = statewright(&["diagram", "examples"]);
    assert_eq!(directory.status.code(), Some(2));
    assert!(text(&directory.stderr).contains("is a directory"));
    let missing = statewright(&["check", "no/such/file.rs"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("cannot read no/such/file.rs"));

    let dir = std::env::temp_dir().join(format!("statewright-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let binary = write("binary.rs", &[0xff, 0xfe, 0x00, 0x01]);
    let output = statewright(&["check", &binary]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("not a UTF-8 text file"));

    let unparsable = write("unparsable.rs", b"enum Door {\n");
    let output = statewright(&["check", &unparsable]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("this file is not Rust"));

    let two = write(
        "two.rs",
        b"#[state_machine]\nenum Door { #[initial] #[to(Open)] Closed, #[terminal] Open }\n\
          mod other {\n#[state_machine]\nenum Door { #[initial] #[to(Open)] Closed, #[terminal] Open }\n}\n",
    );
    let output = statewright(&["diagram", &two]);
    assert!(text(&output.stderr).contains("several #[state_machine] enums (`Door`, `Door`)"));
    let output = statewright(&["diagram", &two, "--machine", "Door"]);
    assert!(
        text(&output.stderr).contains("2 #[state_machine] enums named `Door` (lines 1, 4)"),
        "{}",
        text(&output.stderr)
    );
    let none = write("none.rs", b"fn main() {}\n");
    let output = statewright(&["diagram", &none]);
    assert!(text(&output.stderr).contains("has no #[state_machine] enum"));

    // 400 states, 1,600 edges.
    let mut big = String::from("#[state_machine]\nenum Big {\n");
    for state in 0..400 {
        if state == 0 {
            big.push_str("    #[initial]\n");
        }
        let targets: Vec<String> = (1..=4)
            .map(|step| format!("S{}", (state + step) % 400))
            .collect();
        let _ = write!(
            big,
            "    #[to({})]
    S{state},
",
            targets.join(", ")
        );
    }
    big.push_str("}\n");
    let big = write("big.rs", big.as_bytes());
    let output = statewright(&["paths", &big]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).starts_with("Big: "));
    // Past the rustdoc limit, the CLI still draws it.
    let output = statewright(&["diagram", &big, "--format", "svg"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).matches("<rect ").count(), 400);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn diagrams_in_markdown_are_checked_and_updated() {
    let dir = std::env::temp_dir().join(format!("statewright-md-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(root().join("examples/worker.rs"), dir.join("worker.rs")).unwrap();
    let markdown = dir.join("doc.md");
    std::fs::write(
        &markdown,
        "# Workers\n\n<!-- statewright diagram worker.rs Worker -->\n```mermaid\nstale\n```\n<!-- /statewright diagram -->\n\nThe end.\n",
    )
    .unwrap();
    let path = markdown.to_str().unwrap();
    let stale = statewright(&["diagram", "--check", path]);
    assert_eq!(stale.status.code(), Some(1));
    assert!(text(&stale.stdout).contains("doc.md:3: diagram out of date"));
    assert!(statewright(&["diagram", "--update", path]).status.success());
    let fresh = statewright(&["diagram", "--check", path]);
    assert!(fresh.status.success(), "{}", text(&fresh.stdout));
    let written = std::fs::read_to_string(&markdown).unwrap();
    assert!(written.starts_with("# Workers\n"));
    assert!(written.contains("```mermaid\nstateDiagram-v2\n    [*] --> Assigned\n"));
    assert!(written.ends_with("<!-- /statewright diagram -->\n\nThe end.\n"));

    // A picture: the block links the SVG file, which is checked too.
    std::fs::write(
        &markdown,
        "<!-- statewright diagram worker.rs --svg pictures/worker.svg -->\n<!-- /statewright diagram -->\n",
    )
    .unwrap();
    assert!(statewright(&["diagram", "--update", path]).status.success());
    let written = std::fs::read_to_string(&markdown).unwrap();
    assert!(
        written.contains("![The `Worker` state diagram](pictures/worker.svg)\n"),
        "{written}"
    );
    let picture = std::fs::read_to_string(dir.join("pictures/worker.svg")).unwrap();
    assert!(picture.starts_with("<svg ") && picture.contains(">Assigned</text>"));
    assert!(statewright(&["diagram", "--check", path]).status.success());
    std::fs::write(dir.join("pictures/worker.svg"), "<svg/>").unwrap();
    assert_eq!(
        statewright(&["diagram", "--check", path]).status.code(),
        Some(1),
        "a stale picture"
    );

    // For a page shown elsewhere too (docs.rs): an absolute link, the same file.
    std::fs::write(
        &markdown,
        "<!-- statewright diagram worker.rs Worker --svg pictures/worker.svg --url-base https://example.org/repo/ -->\n<!-- /statewright diagram -->\n",
    )
    .unwrap();
    assert!(statewright(&["diagram", "--update", path]).status.success());
    let written = std::fs::read_to_string(&markdown).unwrap();
    assert!(
        written.contains(
            "![The `Worker` state diagram](https://example.org/repo/pictures/worker.svg)\n"
        ),
        "{written}"
    );
    assert!(std::fs::read_to_string(dir.join("pictures/worker.svg"))
        .unwrap()
        .starts_with("<svg "));
    std::fs::remove_dir_all(&dir).unwrap();
}
