//! serde for generated kind enums (the `serde` feature).

use core::fmt;

use serde::de::{self, DeserializeSeed, EnumAccess, Unexpected, VariantAccess, Visitor};

/// Reads a kind written as its variant name (or index), the way serde's derive reads a unit enum.
///
/// # Errors
///
/// If the input is not one of `names` (or an index below `names.len()`).
pub fn deserialize_kind<'de, D, K>(
    deserializer: D,
    enum_name: &'static str,
    names: &'static [&'static str],
    all: &'static [K],
) -> Result<K, D::Error>
where
    D: serde::Deserializer<'de>,
    K: Copy,
{
    let index = deserializer.deserialize_enum(enum_name, names, KindVisitor { names })?;
    Ok(all[index])
}

#[derive(Clone, Copy)]
struct KindVisitor {
    names: &'static [&'static str],
}

impl KindVisitor {
    fn by_name<E: de::Error>(self, name: &str) -> Result<usize, E> {
        self.names
            .iter()
            .position(|known| *known == name)
            .ok_or_else(|| E::unknown_variant(name, self.names))
    }
}

impl<'de> Visitor<'de> for KindVisitor {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "one of the states {:?}", self.names)
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<usize, E> {
        self.by_name(name)
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<usize, E> {
        match core::str::from_utf8(bytes) {
            Ok(name) => self.by_name(name),
            Err(_) => Err(E::invalid_value(Unexpected::Bytes(bytes), &self)),
        }
    }

    fn visit_u64<E: de::Error>(self, index: u64) -> Result<usize, E> {
        usize::try_from(index)
            .ok()
            .filter(|i| *i < self.names.len())
            .ok_or_else(|| E::invalid_value(Unexpected::Unsigned(index), &self))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<usize, A::Error> {
        let (index, variant) = data.variant_seed(self)?;
        variant.unit_variant()?;
        Ok(index)
    }
}

impl<'de> DeserializeSeed<'de> for KindVisitor {
    type Value = usize;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}
