//! `statewright`: diagrams, table checks and edge covers of
//! `#[state_machine]` enums, read from source files without compiling them.
//! It runs the macro's own parser, model and checks (`statewright-codegen`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};
use statewright_codegen::{find_machines, Diagnostic, Found, Table};
use statewright_runtime::paths::edge_cover_indices;

mod markdown;

fn command() -> Command {
    let file = || {
        Arg::new("file")
            .value_name("FILE")
            .required(true)
            .value_parser(clap::value_parser!(PathBuf))
    };
    let machine = || {
        Arg::new("machine")
            .long("machine")
            .value_name("NAME")
            .help("the enum to use when the file has several")
    };
    Command::new("statewright")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Diagrams, table checks and edge covers of #[state_machine] enums, from source files")
        .subcommand_required(true)
        .subcommand(
            Command::new("diagram")
                .about("Print the state diagram (byte for byte the MERMAID or DOT const)")
                .arg(
                    file()
                        .required(false)
                        .required_unless_present_any(["check", "update"]),
                )
                .arg(
                    Arg::new("check")
                        .long("check")
                        .value_name("MARKDOWN")
                        .value_parser(clap::value_parser!(PathBuf))
                        .conflicts_with("update")
                        .help("fail if a diagram between markers in MARKDOWN is out of date"),
                )
                .arg(
                    Arg::new("update")
                        .long("update")
                        .value_name("MARKDOWN")
                        .value_parser(clap::value_parser!(PathBuf))
                        .help("rewrite the diagrams between markers in MARKDOWN"),
                )
                .arg(machine())
                .arg(
                    Arg::new("format")
                        .long("format")
                        .value_parser(["mermaid", "dot", "svg"])
                        .default_value("mermaid"),
                )
                .arg(
                    Arg::new("out")
                        .long("out")
                        .value_name("PATH")
                        .value_parser(clap::value_parser!(PathBuf))
                        .help("write to PATH instead of standard output"),
                ),
        )
        .subcommand(
            Command::new("check")
                .about("Run the macro's table checks and print its messages, rustc-style")
                .arg(
                    Arg::new("file")
                        .value_name("PATH")
                        .help("a Rust file, or a directory whose .rs files are all checked")
                        .required(true)
                        .action(ArgAction::Append)
                        .value_parser(clap::value_parser!(PathBuf)),
                ),
        )
        .subcommand(
            Command::new("paths")
                .about("Print an edge cover: the fewest walks from the initial state that take every edge")
                .arg(file())
                .arg(machine()),
        )
}

/// A failure that stops the command: printed as `error: ..`, exit code 2
/// (an empty message prints nothing).
pub(crate) struct Failure(String);

impl Failure {
    fn quiet() -> Self {
        Self(String::new())
    }
}

fn main() -> ExitCode {
    let matches = command().get_matches();
    let result = match matches.subcommand() {
        Some(("diagram", args)) => diagram(args),
        Some(("check", args)) => check(args),
        Some(("paths", args)) => paths(args),
        _ => Err(Failure("no such command".to_owned())),
    };
    match result {
        Ok(code) => code,
        Err(Failure(message)) => {
            if !message.is_empty() {
                eprintln!("error: {message}");
            }
            ExitCode::from(2)
        }
    }
}

fn read(path: &Path) -> Result<String, Failure> {
    if path.is_dir() {
        return Err(Failure(format!(
            "{} is a directory, not a Rust file",
            path.display()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|error| Failure(format!("cannot read {}: {error}", path.display())))?;
    String::from_utf8(bytes)
        .map_err(|_| Failure(format!("{} is not a UTF-8 text file", path.display())))
}

fn found(path: &Path) -> Result<Vec<Found>, Failure> {
    let source = read(path)?;
    find_machines(&source).map_err(|diagnostic| Failure(located(path, &diagnostic)))
}

/// rustc's layout: the message (its notes indented under it), then where.
fn located(path: &Path, diagnostic: &Diagnostic) -> String {
    format!(
        "{}\n --> {}:{}:{}",
        diagnostic.message.replace('\n', "\n       "),
        path.display(),
        diagnostic.line,
        diagnostic.column
    )
}

/// Writes to standard output; a closed pipe (`| head`) ends the command
/// quietly instead of panicking.
pub(crate) fn out(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure::quiet()),
        Err(error) => Err(Failure(format!("cannot write to standard output: {error}"))),
    }
}

/// The one machine the command is about: named by `--machine`, or the only one.
fn one_table(path: &Path, args: &ArgMatches) -> Result<(String, Table), Failure> {
    table_of(path, args.get_one::<String>("machine").map(String::as_str))
}

/// The table of machine `machine` in `path`, or of its only machine.
pub(crate) fn table_of(path: &Path, machine: Option<&str>) -> Result<(String, Table), Failure> {
    let machines = found(path)?;
    let names: Vec<&str> = machines.iter().map(|found| found.name.as_str()).collect();
    let chosen: Vec<&Found> = match machine {
        Some(name) => machines.iter().filter(|found| found.name == name).collect(),
        None => machines.iter().collect(),
    };
    let found = match (chosen.as_slice(), machine) {
        ([one], _) => *one,
        ([], None) => {
            return Err(Failure(format!(
                "{} has no #[state_machine] enum",
                path.display()
            )))
        }
        ([], Some(name)) => {
            return Err(Failure(format!(
                "{} has no #[state_machine] enum named `{name}`; it has: {}",
                path.display(),
                list(&names)
            )))
        }
        (_, None) => {
            return Err(Failure(format!(
                "{} has several #[state_machine] enums ({}); choose one with --machine",
                path.display(),
                list(&names)
            )))
        }
        (several, Some(name)) => {
            let lines: Vec<String> = several.iter().map(|found| found.line.to_string()).collect();
            return Err(Failure(format!(
                "{} has {} #[state_machine] enums named `{name}` (lines {})",
                path.display(),
                several.len(),
                lines.join(", ")
            )));
        }
    };
    match &found.table {
        Ok(table) => Ok((found.name.clone(), table.clone())),
        Err(diagnostics) => {
            let messages: Vec<String> = diagnostics
                .iter()
                .map(|diagnostic| located(path, diagnostic))
                .collect();
            Err(Failure(format!(
                "`{}` has table errors; run `statewright check`:\n{}",
                found.name,
                messages.join("\n")
            )))
        }
    }
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn diagram(args: &ArgMatches) -> Result<ExitCode, Failure> {
    if let Some(markdown) = args.get_one::<PathBuf>("check") {
        return markdown::check(markdown);
    }
    if let Some(markdown) = args.get_one::<PathBuf>("update") {
        return markdown::update(markdown);
    }
    let path = args
        .get_one::<PathBuf>("file")
        .ok_or_else(|| Failure("no FILE".to_owned()))?;
    let (_, table) = one_table(path, args)?;
    let text = match args.get_one::<String>("format").map(String::as_str) {
        Some("dot") => table.dot,
        Some("svg") => table.svg + "\n",
        _ => table.mermaid,
    };
    match args.get_one::<PathBuf>("out") {
        Some(out) => std::fs::write(out, text)
            .map_err(|error| Failure(format!("cannot write {}: {error}", out.display())))?,
        None => out(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn check(args: &ArgMatches) -> Result<ExitCode, Failure> {
    let mut files = Vec::new();
    for path in args.get_many::<PathBuf>("file").into_iter().flatten() {
        rust_files(path, &mut files)?;
    }
    let (mut machines, mut failed) = (0, 0);
    for path in &files {
        for found in found(path)? {
            machines += 1;
            if let Err(diagnostics) = &found.table {
                failed += 1;
                for diagnostic in diagnostics {
                    out(&format!("error: {}\n\n", located(path, diagnostic)))?;
                }
            }
        }
    }
    let scope = format!(
        "{} in {}",
        plural(machines, "machine"),
        plural(files.len(), "file")
    );
    if machines == 0 {
        return Err(Failure(format!(
            "no `#[state_machine]` enum found: 0 machines in {}",
            plural(files.len(), "file")
        )));
    }
    if failed == 0 {
        out(&format!("{scope}: ok\n"))?;
        Ok(ExitCode::SUCCESS)
    } else {
        out(&format!("{scope}: {failed} with errors\n"))?;
        Ok(ExitCode::from(1))
    }
}

/// `path` if it is a file, or every `.rs` file under it (sorted, hidden
/// folders and `target` left out) if it is a directory.
fn rust_files(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), Failure> {
    let metadata = std::fs::metadata(path)
        .map_err(|error| Failure(format!("cannot read {}: {error}", path.display())))?;
    if !metadata.is_dir() {
        files.push(path.to_owned());
        return Ok(());
    }
    let entries = std::fs::read_dir(path)
        .map_err(|error| Failure(format!("cannot read {}: {error}", path.display())))?;
    let mut children: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|error| Failure(format!("cannot read {}: {error}", path.display())))?;
        children.push(entry.path());
    }
    children.sort();
    for child in children {
        let name = child
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        if child.is_dir() {
            if !name.starts_with('.') && name != "target" {
                rust_files(&child, files)?;
            }
        } else if child.extension().is_some_and(|extension| extension == "rs") {
            files.push(child);
        }
    }
    Ok(())
}

/// `1 file`, `2 files`.
fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

fn paths(args: &ArgMatches) -> Result<ExitCode, Failure> {
    let path = args
        .get_one::<PathBuf>("file")
        .ok_or_else(|| Failure("no FILE".to_owned()))?;
    let (name, table) = one_table(path, args)?;
    let pairs: Vec<(usize, usize)> = table
        .edges
        .iter()
        .map(|(from, to, _)| (*from, *to))
        .collect();
    let walks = edge_cover_indices(table.states.len(), table.initial, &pairs);
    out(&format!(
        "{name}: {} walks take all {} edges\n",
        walks.len(),
        table.edges.len()
    ))?;
    for (number, walk) in walks.iter().enumerate() {
        let mut line = table.states[table.initial].clone();
        for &edge in walk {
            let (_, to, event) = &table.edges[edge];
            let arrow = event
                .as_ref()
                .map_or_else(|| " -> ".to_owned(), |event| format!(" -{event}-> "));
            line.push_str(&arrow);
            line.push_str(&table.states[*to]);
        }
        out(&format!("{}. {line}\n", number + 1))?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    /// clap checks the command's definition only when it is used; this
    /// uses all of it.
    #[test]
    fn the_command_is_well_formed() {
        super::command().debug_assert();
    }
}
