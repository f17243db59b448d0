//! A table's fingerprint in persisted files: written as `"0x…"` hex, as
//! every message shows it; read as hex or as the plain number that
//! earlier checkpoints hold.

use core::fmt;

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

// `serde(with)` hands the field by reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub(crate) fn serialize<S: Serializer>(
    fingerprint: &u64,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format_args!("{fingerprint:#018x}"))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    deserializer.deserialize_any(Fingerprint)
}

struct Fingerprint;

impl Visitor<'_> for Fingerprint {
    type Value = u64;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a fingerprint: \"0x\" and 16 hex digits, or a number")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<u64, E> {
        Ok(value)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<u64, E> {
        value
            .strip_prefix("0x")
            .filter(|digits| digits.len() == 16)
            .and_then(|digits| u64::from_str_radix(digits, 16).ok())
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(value), &self))
    }
}
