//! Every compile error `#[state_machine]` can emit, pinned with its message.
//!
//! Regenerate a `.stderr` with `TRYBUILD=overwrite cargo test -p statewright-suite --test ui` only
//! after reading the new message.

#[test]
fn compile_errors_are_pinned() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/shape/*.rs");
    cases.compile_fail("tests/ui/attributes/*.rs");
    cases.compile_fail("tests/ui/table/*.rs");
    cases.compile_fail("tests/ui/events/*.rs");
    cases.compile_fail("tests/ui/typestate/*.rs");
    cases.compile_fail("tests/ui/fallback/*.rs");
    cases.compile_fail("tests/ui/names/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
