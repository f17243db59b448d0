//! Machines found in a Rust source file, for the `statewright` CLI: the
//! same parse, model and checks as the macro, and the same diagrams, with
//! no compiler. The file is read as tokens (no `syn` item parser): every
//! `#[state_machine]` attribute and the item after it, at any depth.

use core::str::FromStr;

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};

use crate::parse;
use statewright_table::errors::Errors;
use statewright_table::{diagram, model, validate};

/// A `#[state_machine]` item found in a source file.
#[derive(Debug, Clone)]
pub struct Found {
    /// The enum's name as written (or `?` if it could not be read).
    pub name: String,
    /// Where the attribute is.
    pub line: usize,
    /// Its table, or every error the macro would report, in order.
    pub table: Result<Table, Vec<Diagnostic>>,
}

/// A checked table.
#[derive(Debug, Clone)]
pub struct Table {
    /// `Machine::MERMAID`, byte for byte.
    pub mermaid: String,
    /// `Machine::DOT`, byte for byte.
    pub dot: String,
    /// The picture the enum's rustdoc shows, as SVG.
    #[cfg(feature = "picture")]
    pub svg: String,
    /// The states, in declaration order.
    pub states: Vec<String>,
    /// The initial state's index.
    pub initial: usize,
    /// The edges, in declaration order: (from, to, event).
    pub edges: Vec<(usize, usize, Option<String>)>,
}

/// One error, where the macro would put it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The message, as the macro's `compile_error!` says it.
    pub message: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, as rustc prints it.
    pub column: usize,
}

impl Diagnostic {
    fn at(span: Span, message: String) -> Self {
        let start = span.start();
        Self {
            message,
            line: start.line,
            column: start.column + 1,
        }
    }
}

/// Every `#[state_machine]` item in `source`, in file order.
///
/// # Errors
///
/// A [`Diagnostic`] if the file is not Rust tokens (an unclosed bracket or
/// string, say).
pub fn find_machines(source: &str) -> Result<Vec<Found>, Diagnostic> {
    if let Some(line) = too_deep(source) {
        return Err(Diagnostic {
            message: format!(
                "brackets nest deeper than {MAX_DEPTH} levels here; statewright reads no deeper"
            ),
            line,
            column: 1,
        });
    }
    let tokens = TokenStream::from_str(source)
        .map_err(|error| Diagnostic::at(error.span(), format!("this file is not Rust: {error}")))?;
    let mut found = Vec::new();
    scan(tokens, &mut found);
    Ok(found)
}

/// The deepest nesting of brackets read: the tokenizer and the scan recurse
/// per level, and a file of 50,000 open brackets would overflow the stack.
/// rustc's own limit on macro recursion is 128.
const MAX_DEPTH: usize = 256;

/// The line where brackets first nest deeper than `MAX_DEPTH`, outside
/// comments, strings and character literals.
fn too_deep(source: &str) -> Option<usize> {
    let bytes = source.as_bytes();
    let (mut depth, mut line, mut at) = (0_usize, 1, 0);
    let skip_to = |from: usize, end: &[u8]| {
        bytes[from..]
            .windows(end.len())
            .position(|window| window == end)
            .map_or(bytes.len(), |found| from + found + end.len())
    };
    while at < bytes.len() {
        let rest = &bytes[at..];
        let next = match rest {
            [b'/', b'/', ..] => skip_to(at, b"\n").saturating_sub(1),
            [b'/', b'*', ..] => block_comment_end(bytes, at),
            [b'r', b'#' | b'"', ..] | [b'b', b'r', b'#' | b'"', ..] => raw_string_end(bytes, at),
            [b'"', ..] => quoted_end(bytes, at + 1, b'"'),
            [b'\'', b'\\', ..] => quoted_end(bytes, at + 1, b'\''),
            [b'\'', _, b'\'', ..] => at + 3,
            [b'(' | b'[' | b'{', ..] => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(line);
                }
                at + 1
            }
            [b')' | b']' | b'}', ..] => {
                depth = depth.saturating_sub(1);
                at + 1
            }
            _ => at + 1,
        };
        line += bytes[at..next.min(bytes.len())]
            .split(|&byte| byte == b'\n')
            .count()
            - 1;
        at = next.max(at + 1);
    }
    None
}

/// After a block comment starting at `from` (they nest).
fn block_comment_end(bytes: &[u8], from: usize) -> usize {
    let (mut depth, mut at) = (0_usize, from);
    while at + 1 < bytes.len() {
        match &bytes[at..at + 2] {
            b"/*" => {
                depth += 1;
                at += 2;
            }
            b"*/" => {
                depth -= 1;
                at += 2;
                if depth == 0 {
                    return at;
                }
            }
            _ => at += 1,
        }
    }
    bytes.len()
}

/// After a string from `from` (just past its opening quote) to `quote`,
/// skipping escapes.
fn quoted_end(bytes: &[u8], from: usize, quote: u8) -> usize {
    let mut at = from;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            byte if byte == quote => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// After a raw string `r#".."#` starting at `from`; an identifier such as
/// `r#type` or `rest` is one byte.
fn raw_string_end(bytes: &[u8], from: usize) -> usize {
    let start = from + if bytes[from] == b'b' { 2 } else { 1 };
    let hashes = bytes[start..]
        .iter()
        .take_while(|&&byte| byte == b'#')
        .count();
    if bytes.get(start + hashes) != Some(&b'"') {
        return from + 1;
    }
    let mut end = vec![b'"'];
    end.extend(std::iter::repeat_n(b'#', hashes));
    let body = start + hashes + 1;
    bytes[body..]
        .windows(end.len())
        .position(|window| window == end.as_slice())
        .map_or(bytes.len(), |found| body + found + end.len())
}

/// Looks for `# [state_machine ..]` in `tokens` and inside every group.
fn scan(tokens: TokenStream, found: &mut Vec<Found>) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut index = 0;
    while index < trees.len() {
        if let Some(args) = state_machine_attribute(&trees, index) {
            let line = trees[index].span().start().line;
            let item = item_after(&trees, index + 2);
            found.push(analyze(args, item, line));
            index += 2;
            continue;
        }
        if let TokenTree::Group(group) = &trees[index] {
            scan(group.stream(), found);
        }
        index += 1;
    }
}

/// The attribute's arguments if `trees[index..]` starts `#[state_machine]`
/// (or `#[statewright::state_machine(..)]`).
fn state_machine_attribute(trees: &[TokenTree], index: usize) -> Option<TokenStream> {
    let (TokenTree::Punct(hash), Some(TokenTree::Group(body))) =
        (&trees[index], trees.get(index + 1))
    else {
        return None;
    };
    if hash.as_char() != '#' || body.delimiter() != Delimiter::Bracket {
        return None;
    }
    let inner: Vec<TokenTree> = body.stream().into_iter().collect();
    let name_at = inner
        .iter()
        .position(|tree| matches!(tree, TokenTree::Ident(ident) if ident == "state_machine"))?;
    let path_ok = inner[..name_at].iter().all(|tree| match tree {
        TokenTree::Ident(ident) => ident == "statewright",
        TokenTree::Punct(punct) => punct.as_char() == ':',
        _ => false,
    });
    if !path_ok {
        return None;
    }
    match inner.get(name_at + 1) {
        None => Some(TokenStream::new()),
        Some(TokenTree::Group(args))
            if args.delimiter() == Delimiter::Parenthesis && inner.len() == name_at + 2 =>
        {
            Some(args.stream())
        }
        Some(_) => None,
    }
}

/// The item after an attribute: its tokens up to and including its body
/// (the first brace group not inside an attribute), or up to a `;`.
fn item_after(trees: &[TokenTree], start: usize) -> TokenStream {
    let mut item = TokenStream::new();
    let mut index = start;
    while let Some(tree) = trees.get(index) {
        item.extend([tree.clone()]);
        let after_hash =
            index > start && matches!(&trees[index - 1], TokenTree::Punct(p) if p.as_char() == '#');
        match tree {
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace && !after_hash => {
                break
            }
            TokenTree::Punct(punct) if punct.as_char() == ';' => break,
            _ => {}
        }
        index += 1;
    }
    item
}

/// The macro's pipeline without the expansion.
fn analyze(args: TokenStream, item: TokenStream, line: usize) -> Found {
    let mut errors = Errors::default();
    let (machine, _) = parse::from_syn(args, item, &mut errors);
    let Some(machine) = machine else {
        return Found {
            name: "?".to_owned(),
            line,
            table: Err(diagnostics(&mut errors)),
        };
    };
    let machine = model::Machine::from_parse(machine, &mut errors);
    validate::check(&machine, &mut errors);
    let name = machine.name.clone();
    if !errors.is_empty() {
        return Found {
            name,
            line,
            table: Err(diagnostics(&mut errors)),
        };
    }
    let table = Table {
        mermaid: diagram::mermaid(&machine),
        dot: diagram::dot(&machine),
        #[cfg(feature = "picture")]
        svg: statewright_table::svg::svg(&machine),
        states: machine
            .states
            .iter()
            .map(|state| state.name.clone())
            .collect(),
        initial: machine.initial(),
        edges: machine
            .named_edges()
            .map(|(from, to, event)| (from, to, event.map(str::to_owned)))
            .collect(),
    };
    Found {
        name,
        line,
        table: Ok(table),
    }
}

fn diagnostics(errors: &mut Errors) -> Vec<Diagnostic> {
    errors
        .spanned()
        .into_iter()
        .map(|(span, message)| Diagnostic::at(span, message))
        .collect()
}
