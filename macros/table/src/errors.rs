//! Every error of a stage, collected so one compile reports them all.

use core::fmt::Display;
use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// One error: its text, and the `compile_error!` that reports it where it
/// belongs.
struct Reported {
    span: Span,
    message: String,
    tokens: TokenStream,
}

/// Collects every error of a stage so one compile reports them all.
///
/// Dropping it with errors still inside is a bug in the macro (they would be
/// lost), so that panics, unless the thread is already panicking.
#[derive(Default)]
pub struct Errors {
    list: Vec<Reported>,
}

impl Errors {
    /// An error already rendered as `compile_error!` tokens (the parser's
    /// own, which may span a range of tokens), with where it starts and its
    /// text.
    pub fn push_rendered(&mut self, span: Span, message: String, tokens: TokenStream) {
        self.list.push(Reported {
            span,
            message,
            tokens,
        });
    }

    /// `message`, reported at `span`.
    pub fn error(&mut self, span: Span, message: impl Display) {
        let message = message.to_string();
        let tokens = compile_error_at(span, &message);
        self.push_rendered(span, message, tokens);
    }

    /// One error on the repeated item, with a note that says where the
    /// first one is (stable proc macros cannot attach a spanned note, and
    /// a second error for the same mistake would count it twice).
    pub fn duplicate(
        &mut self,
        span: Span,
        message: impl Display,
        first: Span,
        note: impl Display,
    ) {
        let start = first.start();
        // Line 0: the compiler does not tell proc macros where spans are
        // (before Rust 1.88); the note then goes without a position.
        let place = if start.line == 0 {
            String::new()
        } else {
            format!(" at line {}, column {}", start.line, start.column + 1)
        };
        self.error(span, format!("{message}\n= note: {note}{place}"));
    }

    /// Whether no error was found so far.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Ends a stage: every error collected so far, as `compile_error!`s,
    /// or `None` when there is none.
    pub fn finish(&mut self) -> Option<TokenStream> {
        if self.list.is_empty() {
            return None;
        }
        Some(
            self.list
                .drain(..)
                .flat_map(|reported| reported.tokens)
                .collect(),
        )
    }

    /// Ends a stage: every error's text, in the order found.
    pub fn messages(&mut self) -> Vec<String> {
        self.list
            .drain(..)
            .map(|reported| reported.message)
            .collect()
    }

    /// Ends a stage: where each error starts and its text, in the order
    /// found (for the CLI, which prints them as rustc would).
    pub fn spanned(&mut self) -> Vec<(Span, String)> {
        self.list
            .drain(..)
            .map(|reported| (reported.span, reported.message))
            .collect()
    }
}

/// `::core::compile_error! { "message" }`, every token at `span`, as
/// `syn::Error` writes it.
fn compile_error_at(span: Span, message: &str) -> TokenStream {
    let punct = |c: char, spacing: Spacing| {
        let mut punct = Punct::new(c, spacing);
        punct.set_span(span);
        TokenTree::Punct(punct)
    };
    let mut literal = Literal::string(message);
    literal.set_span(span);
    let mut body = Group::new(Delimiter::Brace, TokenTree::Literal(literal).into());
    body.set_span(span);
    [
        punct(':', Spacing::Joint),
        punct(':', Spacing::Alone),
        TokenTree::Ident(Ident::new("core", span)),
        punct(':', Spacing::Joint),
        punct(':', Spacing::Alone),
        TokenTree::Ident(Ident::new("compile_error", span)),
        punct('!', Spacing::Alone),
        TokenTree::Group(body),
    ]
    .into_iter()
    .collect()
}

impl Drop for Errors {
    fn drop(&mut self) {
        assert!(
            self.list.is_empty() || std::thread::panicking(),
            "statewright-table dropped {} unreported errors",
            self.list.len()
        );
    }
}

/// "; did you mean `x`?" for the closest candidate, or nothing.
pub fn did_you_mean<'a>(unknown: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match closest(unknown, candidates) {
        Some(candidate) => format!("; did you mean `{candidate}`?"),
        None => String::new(),
    }
}

/// The candidate closest to `unknown`, if one is close enough to be what
/// was meant: up to two edits in five letters (`Payed` is `Paid`).
pub fn closest<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(unknown, candidate), candidate))
        .filter(|(distance, candidate)| {
            let longest = unknown.chars().count().max(candidate.chars().count());
            *distance <= (longest * 2 / 5).max(1)
        })
        // On a tie, the one that starts alike: `Payed` is `Paid`, not `Placed`.
        .min_by_key(|(distance, candidate)| {
            (*distance, usize::MAX - common_prefix(unknown, candidate))
        })
        .map(|(_, candidate)| candidate)
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.chars()
        .flat_map(char::to_lowercase)
        .zip(b.chars().flat_map(char::to_lowercase))
        .take_while(|(x, y)| x == y)
        .count()
}

/// Edit distance counting a swap of two neighbours as one edit (optimal
/// string alignment), case-insensitive so `working` suggests `Working` and
/// `Opne` suggests `Open`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().flat_map(char::to_lowercase).collect();
    let b: Vec<char> = b.chars().flat_map(char::to_lowercase).collect();
    let mut before_previous: Vec<usize> = Vec::new();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for i in 0..a.len() {
        let mut current = vec![i + 1];
        for j in 0..b.len() {
            let substitution = previous[j] + usize::from(a[i] != b[j]);
            let mut best = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                best = best.min(before_previous[j - 1] + 1);
            }
            current.push(best);
        }
        before_previous = std::mem::replace(&mut previous, current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let states = ["Working", "InReview", "Completed"];
        assert_eq!(did_you_mean("Workng", states), "; did you mean `Working`?");
        assert_eq!(
            did_you_mean("inreview", states),
            "; did you mean `InReview`?"
        );
        assert_eq!(did_you_mean("Banana", states), "");
        assert_eq!(
            did_you_mean("Payed", ["Placed", "Paid", "Shipped"]),
            "; did you mean `Paid`?"
        );
        assert_eq!(did_you_mean("Done", ["Idle", "Open"]), "");
    }
}
