//! Content hashes for the cache: 128 bits from two independently seeded SipHash
//! streams (std's `DefaultHasher`). Not cryptographic: the cache guards against
//! edits, not against an attacker who can write the cache folder anyway.
//!
//! std does not promise the same SipHash output across Rust releases; if it ever
//! changes, entries simply stop matching and are rewritten.

use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::Hasher as _;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 128-bit hash, written as 32 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash(pub u128);

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let s = String::deserialize(d)?;
        if s.len() != 32 {
            return Err(serde::de::Error::custom("a hash is 32 hex digits"));
        }
        u128::from_str_radix(&s, 16)
            .map(Hash)
            .map_err(serde::de::Error::custom)
    }
}

/// Feeds values into both streams.
pub struct Hasher {
    a: DefaultHasher,
    b: DefaultHasher,
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher {
    pub fn new() -> Hasher {
        let mut a = DefaultHasher::new();
        let mut b = DefaultHasher::new();
        // Different seeds make the two halves independent.
        a.write(b"ftaudit-a");
        b.write(b"ftaudit-b");
        Hasher { a, b }
    }

    /// Length-prefixed, so that `("ab", "c")` and `("a", "bc")` differ.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.a.write_usize(bytes.len());
        self.b.write_usize(bytes.len());
        self.a.write(bytes);
        self.b.write(bytes);
    }

    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    pub fn path(&mut self, p: &Path) {
        self.bytes(p.as_os_str().as_encoded_bytes());
    }

    pub fn hash(&mut self, h: Hash) {
        self.bytes(&h.0.to_le_bytes());
    }

    pub fn finish(&self) -> Hash {
        Hash((u128::from(self.a.finish()) << 64) | u128::from(self.b.finish()))
    }
}

/// The hash of a file's content.
pub fn content_hash(bytes: &[u8]) -> Hash {
    let mut h = Hasher::new();
    h.bytes(bytes);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_differ_by_content_and_boundaries_and_read_back() {
        assert_ne!(content_hash(b"a"), content_hash(b"b"));
        assert_eq!(content_hash(b"same"), content_hash(b"same"));
        let mut ab = Hasher::new();
        ab.str("ab");
        ab.str("c");
        let mut a = Hasher::new();
        a.str("a");
        a.str("bc");
        assert_ne!(ab.finish(), a.finish());
        let h = content_hash(b"x");
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json.len(), 34);
        assert_eq!(serde_json::from_str::<Hash>(&json).unwrap(), h);
        assert!(serde_json::from_str::<Hash>("\"12\"").is_err());
        assert!(serde_json::from_str::<Hash>(&format!("\"{}\"", "z".repeat(32))).is_err());
    }
}
