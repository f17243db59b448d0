//! The checked transition table behind `#[state_machine]`: what parse
//! reads (`input`), the model, its checks, the generated code, the
//! fallback on errors, and the diagrams, all on `proc_macro2`. It has no
//! `syn`, so it compiles beside `syn`; `statewright-codegen` parses the
//! enum and drives it. Users want the `statewright` crate, not this one.
// The modules are the codegen crate's, not a public API: documented for
// their readers, not for users.
#![allow(
    missing_debug_implementations,
    clippy::must_use_candidate,
    clippy::missing_errors_doc,
    clippy::missing_panics_doc,
    clippy::return_self_not_must_use,
    reason = "an internal crate: its one user is statewright-codegen"
)]

#[doc(hidden)]
pub mod diagram;
#[doc(hidden)]
pub mod errors;
#[doc(hidden)]
pub mod expand;
#[doc(hidden)]
pub mod fallback;
#[doc(hidden)]
pub mod fingerprint;
#[doc(hidden)]
pub mod idents;
#[doc(hidden)]
pub mod input;
#[doc(hidden)]
pub mod model;
#[doc(hidden)]
pub mod names;
#[doc(hidden)]
#[cfg(feature = "picture")]
pub mod svg;
#[doc(hidden)]
pub mod types;
#[doc(hidden)]
pub mod validate;
