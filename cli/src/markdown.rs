//! Diagrams kept in Markdown between markers, checked or rewritten:
//!
//! ````markdown
//! <!-- statewright diagram examples/worker.rs Worker -->
//! ```mermaid
//! ...
//! ```
//! <!-- /statewright diagram -->
//! ````
//!
//! The source path is relative to the Markdown file; the machine name may
//! be left out when the file has one machine. With `--svg PATH` after them,
//! the block is an image of the SVG file at PATH (relative to the Markdown
//! file), and that file is checked or written too. With `--url-base URL`
//! as well, the image links to URL/PATH: a README that is also a crate's
//! front page on docs.rs needs absolute links.

use std::path::Path;
use std::process::ExitCode;

use super::{out, table_of, Failure};

const BEGIN: &str = "<!-- statewright diagram ";
const END: &str = "<!-- /statewright diagram -->";

/// One marked block: where it is, what it names, what it should hold.
struct Block {
    /// 0-based line of the begin marker.
    line: usize,
    /// The block as it should be between the markers.
    expected: String,
    /// Its lines now (between the markers).
    actual: std::ops::Range<usize>,
    /// An SVG file the block shows, and what it should hold.
    picture: Option<(std::path::PathBuf, String)>,
}

/// The rustdoc picture as a file for an `<img>`: there `color` does not
/// inherit, so the file picks dark or light text itself.
fn standalone(svg: &str) -> String {
    let style =
        "<style>svg{color:#24292f}@media (prefers-color-scheme:dark){svg{color:#e6edf3}}</style>";
    match svg.find('>') {
        Some(end) => format!("{}{style}{}\n", &svg[..=end], &svg[end + 1..]),
        None => svg.to_owned(),
    }
}

fn blocks(markdown: &Path, text: &str) -> Result<Vec<Block>, Failure> {
    let lines: Vec<&str> = text.lines().collect();
    let base = markdown.parent().unwrap_or_else(|| Path::new("."));
    let mut blocks = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let Some(spec) = lines[index].trim().strip_prefix(BEGIN) else {
            index += 1;
            continue;
        };
        let spec = spec.trim_end_matches("-->").trim();
        let words: Vec<&str> = spec.split_whitespace().collect();
        // The file and machine, then the flags, each with its value.
        let flag = |name: &str| {
            let at = words.iter().position(|word| *word == name)?;
            words.get(at + 1).copied()
        };
        let (svg_path, url_base) = (flag("--svg"), flag("--url-base"));
        let positional = words
            .iter()
            .position(|word| word.starts_with("--"))
            .unwrap_or(words.len());
        let words = &words[..positional];
        let (Some(&file), machine) = (words.first(), words.get(1).copied()) else {
            return Err(Failure(format!(
                "{}:{}: a marker without a file",
                markdown.display(),
                index + 1
            )));
        };
        let end = lines[index + 1..]
            .iter()
            .position(|line| line.trim() == END)
            .map(|offset| index + 1 + offset)
            .ok_or_else(|| {
                Failure(format!(
                    "{}:{}: no `{END}` after this marker",
                    markdown.display(),
                    index + 1
                ))
            })?;
        let (name, table) = table_of(&base.join(file), machine)?;
        let (expected, picture) = match svg_path {
            Some(path) => (
                match url_base {
                    Some(base) => format!(
                        "![The `{name}` state diagram]({}/{path})",
                        base.trim_end_matches('/')
                    ),
                    None => format!("![The `{name}` state diagram]({path})"),
                },
                Some((base.join(path), standalone(&table.svg))),
            ),
            None => (format!("```mermaid\n{}```", table.mermaid), None),
        };
        blocks.push(Block {
            line: index,
            expected,
            actual: index + 1..end,
            picture,
        });
        index = end + 1;
    }
    Ok(blocks)
}

fn read(markdown: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(markdown)
        .map_err(|error| Failure(format!("cannot read {}: {error}", markdown.display())))
}

/// Exit 1, naming each block, if one is out of date.
pub(super) fn check(markdown: &Path) -> Result<ExitCode, Failure> {
    let text = read(markdown)?;
    let lines: Vec<&str> = text.lines().collect();
    let mut stale = 0;
    let blocks = blocks(markdown, &text)?;
    for block in &blocks {
        let picture_stale = block.picture.as_ref().is_some_and(|(path, svg)| {
            std::fs::read_to_string(path).ok().as_deref() != Some(svg.as_str())
        });
        if picture_stale || lines[block.actual.clone()].join("\n") != block.expected {
            stale += 1;
            out(&format!(
                "{}:{}: diagram out of date; run `statewright diagram --update {}`\n",
                markdown.display(),
                block.line + 1,
                markdown.display()
            ))?;
        }
    }
    if stale == 0 {
        out(&format!(
            "{}: {} diagrams up to date\n",
            markdown.display(),
            blocks.len()
        ))?;
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}

/// Rewrites every block.
pub(super) fn update(markdown: &Path) -> Result<ExitCode, Failure> {
    let text = read(markdown)?;
    let lines: Vec<&str> = text.lines().collect();
    let blocks = blocks(markdown, &text)?;
    let mut result = Vec::new();
    let mut next = 0;
    for block in &blocks {
        if let Some((path, svg)) = &block.picture {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|error| {
                    Failure(format!("cannot create {}: {error}", parent.display()))
                })?;
            }
            std::fs::write(path, svg)
                .map_err(|error| Failure(format!("cannot write {}: {error}", path.display())))?;
        }
        result.extend(
            lines[next..block.actual.start]
                .iter()
                .map(|line| (*line).to_owned()),
        );
        result.push(block.expected.clone());
        next = block.actual.end;
    }
    result.extend(lines[next..].iter().map(|line| (*line).to_owned()));
    let mut rewritten = result.join("\n");
    if text.ends_with('\n') {
        rewritten.push('\n');
    }
    std::fs::write(markdown, rewritten)
        .map_err(|error| Failure(format!("cannot write {}: {error}", markdown.display())))?;
    out(&format!(
        "{}: {} diagrams written\n",
        markdown.display(),
        blocks.len()
    ))?;
    Ok(ExitCode::SUCCESS)
}
