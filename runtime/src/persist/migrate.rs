//! [`Journal::replay_migrating`]: a journal of an earlier table read back
//! into today's, every state mapped and every step checked again.

use std::io::Read;

use serde::Serialize;

use super::replay::{replay_with, Decoder};
use super::{Journal, ReplayError, ReplayErrorKind, Replayed};
use crate::StateMachine;

/// States of the earlier table go through the mapping; stretches written
/// under today's table (a run that resumed after the change) are read as
/// they are.
struct Migrating<F> {
    from: u64,
    map: F,
    /// Whether the stretch being read was written under `from`.
    mapping: bool,
}

impl<S, F> Decoder<S> for Migrating<F>
where
    S: StateMachine + serde::de::DeserializeOwned,
    F: FnMut(serde_json::Value) -> Result<S, String>,
{
    type State = serde_json::Value;
    type Kind = String;

    fn header(&mut self, fingerprint: u64) -> Result<(), ReplayErrorKind<S::Kind>> {
        self.mapping = fingerprint == self.from;
        if self.mapping || fingerprint == S::FINGERPRINT {
            Ok(())
        } else {
            Err(ReplayErrorKind::TableChanged {
                saved: fingerprint,
                current: S::FINGERPRINT,
            })
        }
    }

    fn state(&mut self, raw: serde_json::Value) -> Result<S, ReplayErrorKind<S::Kind>> {
        if self.mapping {
            (self.map)(raw).map_err(|message| ReplayErrorKind::Migration { message })
        } else {
            serde_json::from_value(raw).map_err(|error| ReplayErrorKind::Corrupt {
                message: error.to_string(),
            })
        }
    }

    /// An earlier table's kind names are not today's: in a mapped stretch
    /// each step is checked on the mapped states instead.
    fn left_kind(&mut self, raw: String) -> Result<Option<S::Kind>, ReplayErrorKind<S::Kind>> {
        if self.mapping {
            return Ok(None);
        }
        S::STATES
            .iter()
            .copied()
            .find(|kind| kind.to_string() == raw)
            .map(Some)
            .ok_or_else(|| ReplayErrorKind::Corrupt {
                message: format!("`{raw}` is not a state of the table"),
            })
    }
}

impl Journal {
    /// [`replay`](Journal::replay) of a journal written (in part or whole)
    /// under an earlier table, the one whose fingerprint is
    /// `from_fingerprint`: every state of that table (its headers' and its
    /// transitions') goes through `map` as JSON, and the mapped history is
    /// then checked like any other (each step an edge of today's table,
    /// each update of the same kind). Stretches written under today's table
    /// (a run that resumed after the change) are read as they are. The only
    /// way a changed table accepts an old journal.
    ///
    /// # Errors
    ///
    /// What [`replay`](Journal::replay) returns, and
    /// [`ReplayErrorKind::Migration`] at the first line whose state `map`
    /// refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use statewright::Journal;
    ///
    /// # fn main() {
    /// // A journal written when the door could also be `Ajar` (another
    /// // table, another fingerprint): `Ajar` is read as `Open`.
    /// let earlier = 0x1234_u64;
    /// let map = |old: serde_json::Value| match old.as_str() {
    ///     Some("Ajar") => Ok(Door::Open),
    ///     _ => serde_json::from_value(old).map_err(|error| error.to_string()),
    /// };
    /// let journal: &[u8] = b"";
    /// let error = Journal::replay_migrating::<Door>(journal, earlier, map).unwrap_err();
    /// assert_eq!(error.line, 1); // an empty journal holds no history
    /// # }
    /// ```
    pub fn replay_migrating<S>(
        reader: impl Read,
        from_fingerprint: u64,
        map: impl FnMut(serde_json::Value) -> Result<S, String>,
    ) -> Result<Replayed<S>, ReplayError<S::Kind>>
    where
        S: StateMachine + Serialize + serde::de::DeserializeOwned,
    {
        let mut decoder = Migrating {
            from: from_fingerprint,
            map,
            mapping: false,
        };
        replay_with(reader, &mut decoder)
    }
}
