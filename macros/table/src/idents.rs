//! Identifiers built from the user's names (case conversion, suffixes). Every
//! such identifier goes through [`build`]: never `Ident::new` on a string
//! that was not checked, since an invalid one makes the macro panic.

use proc_macro2::{Ident, Span};

/// Keywords that are identifiers only when written raw (`r#match`).
const RAW_KEYWORDS: [&str; 48] = [
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// Words that are never identifiers, not even raw.
const NEVER: [&str; 5] = ["self", "Self", "super", "crate", "_"];

/// Why a name cannot be an identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Nothing is left (`__` in PascalCase).
    Empty,
    /// It starts with a digit (`_1` in PascalCase).
    Digit,
    /// A keyword that cannot be raw (`self`, `Self`, `super`, `crate`).
    Reserved,
    /// Characters that no identifier has.
    Characters,
}

impl Invalid {
    /// Says why `text` is not an identifier, for an error message.
    pub fn describe(self, text: &str) -> String {
        match self {
            Invalid::Empty => "an empty name".to_string(),
            Invalid::Digit => format!("`{text}`, which starts with a digit"),
            Invalid::Reserved => format!("`{text}`, a keyword Rust does not allow as a name"),
            Invalid::Characters => format!("`{text}`, which is not an identifier"),
        }
    }
}

/// The identifier `text` at `span`: raw when it is a keyword that may be
/// raw, an error when no identifier can be spelled so.
pub fn build(text: &str, span: Span) -> Result<Ident, Invalid> {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return Err(Invalid::Empty);
    };
    if first.is_ascii_digit() {
        return Err(Invalid::Digit);
    }
    if NEVER.contains(&text) {
        return Err(Invalid::Reserved);
    }
    let valid_start = first == '_' || unicode_ident::is_xid_start(first);
    if !valid_start || !chars.all(unicode_ident::is_xid_continue) {
        return Err(Invalid::Characters);
    }
    if RAW_KEYWORDS.contains(&text) {
        Ok(Ident::new_raw(text, span))
    } else {
        Ok(Ident::new(text, span))
    }
}

/// The name as the user means it: `r#Type` is `Type`.
pub fn unraw(ident: &Ident) -> String {
    let text = ident.to_string();
    match text.strip_prefix("r#") {
        Some(bare) => bare.to_string(),
        None => text,
    }
}

/// `snake_case` of a `PascalCase` name: `HTTPServer` is `http_server`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let after_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let acronym_end = i > 0
                && chars[i - 1].is_uppercase()
                && chars.get(i + 1).is_some_and(|next| next.is_lowercase());
            if after_lower || acronym_end {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

/// `PascalCase` of a `snake_case` name: `force_fail` is `ForceFail`.
pub fn pascal_case(name: &str) -> String {
    name.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        assert_eq!(snake_case("Worker"), "worker");
        assert_eq!(snake_case("RunInstance"), "run_instance");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(pascal_case("submit"), "Submit");
        assert_eq!(pascal_case("force_fail"), "ForceFail");
    }

    #[test]
    fn names_that_are_no_identifier_are_errors_not_panics() {
        let span = Span::call_site();
        assert_eq!(build("", span).unwrap_err(), Invalid::Empty);
        assert_eq!(build("1", span).unwrap_err(), Invalid::Digit);
        assert_eq!(build("Self", span).unwrap_err(), Invalid::Reserved);
        assert_eq!(build("crate", span).unwrap_err(), Invalid::Reserved);
        assert_eq!(build("a-b", span).unwrap_err(), Invalid::Characters);
        assert_eq!(build("R#type", span).unwrap_err(), Invalid::Characters);
    }

    #[test]
    fn keywords_become_raw_identifiers() {
        let span = Span::call_site();
        assert_eq!(build("match", span).unwrap().to_string(), "r#match");
        assert_eq!(build("box", span).unwrap().to_string(), "r#box");
        assert_eq!(build("Type", span).unwrap().to_string(), "Type");
        assert_eq!(unraw(&build("type", span).unwrap()), "type");
    }
}
