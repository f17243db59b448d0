use core::fmt::Display;
use proc_macro2::Span;

/// Collects every error of a stage so one compile reports them all.
///
/// Dropping it with errors still inside is a bug in the macro (they would be
/// lost), so that panics, unless the thread is already panicking.
#[derive(Default)]
pub(crate) struct Errors {
    list: Vec<syn::Error>,
}

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        self.list.push(error);
    }

    pub(crate) fn error(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// An error on the repeated item plus a note on the first one.
    pub(crate) fn duplicate(
        &mut self,
        span: Span,
        message: impl Display,
        first: Span,
        note: impl Display,
    ) {
        let mut error = syn::Error::new(span, message);
        error.combine(syn::Error::new(first, note));
        self.push(error);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// Ends a stage: `Err` with every error collected so far, combined.
    pub(crate) fn finish(&mut self) -> Result<(), syn::Error> {
        let mut drained = self.list.drain(..);
        match drained.next() {
            None => Ok(()),
            Some(mut first) => {
                for next in drained {
                    first.combine(next);
                }
                Err(first)
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn messages(&mut self) -> Vec<String> {
        self.list.drain(..).map(|e| e.to_string()).collect()
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        assert!(
            self.list.is_empty() || std::thread::panicking(),
            "statewright-codegen dropped {} unreported errors",
            self.list.len()
        );
    }
}

/// "; did you mean `x`?" for the closest candidate, or nothing.
pub(crate) fn did_you_mean<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    match closest(unknown, candidates) {
        Some(candidate) => format!("; did you mean `{candidate}`?"),
        None => String::new(),
    }
}

/// The candidate closest to `unknown`, if one is close enough to be what
/// was meant: up to two edits in five letters (`Payed` is `Paid`).
pub(crate) fn closest<'a>(
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
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Edit distance counting a swap of two neighbours as one edit (optimal
/// string alignment), case-insensitive so `working` suggests `Working` and
/// `Opne` suggests `Open`.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
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
            did_you_mean("Payed", ["Pending", "Paid", "Shipped"]),
            "; did you mean `Paid`?"
        );
        assert_eq!(did_you_mean("Done", ["Idle", "Open"]), "");
    }
}
