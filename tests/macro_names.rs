//! Names in generated items: raw identifiers are unraw'd everywhere, the kind
//! enum serializes like the state (serde's `rename` and `rename_all`), the
//! event enum and typestates carry serde's derives, and `Default` follows
//! the enum's `#[default]`.
#![deny(missing_docs, warnings)]

use statewright::state_machine;

/// Raw identifiers as states and events.
#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Token {
    /// Reading.
    #[initial]
    #[on(r#type => r#Type)]
    Start,
    /// A type was read.
    #[terminal]
    r#Type,
}

#[test]
fn raw_identifiers_are_one_unraw_name_everywhere() {
    assert_eq!(TokenKind::r#Type.name(), "Type");
    assert_eq!(TokenKind::r#Type.to_string(), "Type");
    assert_eq!(
        serde_json::to_string(&TokenKind::r#Type).unwrap(),
        serde_json::to_string(&Token::r#Type).unwrap(),
    );
    assert_eq!(
        serde_json::to_string(&TokenKind::r#Type).unwrap(),
        "\"Type\""
    );
    assert_eq!(TokenEvent::Type.name(), "type");
    assert!(
        Token::MERMAID.contains("Start --> Type : type"),
        "{}",
        Token::MERMAID
    );
    let _: token::r#Type = token::Start.r#type();
}

/// Renamed for the wire.
#[state_machine]
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Review {
    /// Nobody looked yet.
    #[default]
    #[initial]
    #[on(start => InReview)]
    Open,
    /// Someone is looking.
    #[on(approve => Approved, reject => Closed)]
    InReview {
        /// Who.
        reviewer: String,
    },
    /// Merged.
    #[terminal]
    #[serde(rename = "LGTM")]
    Approved,
    /// Not merged.
    #[terminal]
    Closed,
}

#[test]
fn a_kind_serializes_like_its_state() {
    let in_review = Review::InReview {
        reviewer: "ada".into(),
    };
    let state = serde_json::to_value(&in_review).unwrap();
    let kind = serde_json::to_value(in_review.kind()).unwrap();
    assert_eq!(
        state.as_object().unwrap().keys().next().unwrap(),
        "in_review"
    );
    assert_eq!(kind, "in_review");
    for (state, name) in [(Review::Approved, "LGTM"), (Review::Closed, "closed")] {
        assert_eq!(serde_json::to_value(&state).unwrap(), name);
        assert_eq!(serde_json::to_value(state.kind()).unwrap(), name);
        let back: ReviewKind = serde_json::from_value(name.into()).unwrap();
        assert_eq!(back, state.kind());
    }
    assert_eq!(
        ReviewKind::InReview.name(),
        "InReview",
        "name() is the Rust name"
    );
}

#[test]
fn events_deserialize_from_a_request_body() {
    let event: ReviewEvent = serde_json::from_str(r#"{"Start":{"reviewer":"bob"}}"#).unwrap();
    let mut review = Review::default();
    review.fire(event).unwrap();
    assert_eq!(
        review,
        Review::InReview {
            reviewer: "bob".into()
        }
    );
    let typed = review::InReview::try_from(review).unwrap();
    assert_eq!(
        serde_json::to_string(&typed).unwrap(),
        r#"{"reviewer":"bob"}"#
    );
}

fn default_of<T: Default>() -> T {
    T::default()
}

#[test]
fn default_follows_the_default_variant() {
    assert_eq!(ReviewKind::default(), ReviewKind::Open);
    let open: review::Open = default_of();
    assert_eq!(Review::from(open), Review::default());
}
