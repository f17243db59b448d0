//! The proc-macro entry point of statewright; see the `statewright` crate.

use proc_macro::TokenStream;

#[doc = include_str!("state_machine.md")]
#[proc_macro_attribute]
pub fn state_machine(args: TokenStream, item: TokenStream) -> TokenStream {
    statewright_codegen::expand(args.into(), item.into()).into()
}
