//! Where each word of a text is. Masking and the rules look up dozens of names per
//! file (statement macros, struct fields, thread-state calls); one pass over the
//! text answers them all, where a substring search per name read the whole file
//! each time.

use std::hash::Hasher;

use rustc_hash::{FxHashMap, FxHasher};

/// A word byte: ASCII letter, digit or `_` (C identifiers, and numbers).
pub fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The start offsets of every word (maximal run of word bytes) of one text, by a
/// hash of the word: a few bytes per word, no copy of the text.
#[derive(Default)]
pub struct WordIndex {
    by_hash: FxHashMap<u64, Vec<u32>>,
    /// Texts past 4 GiB are not indexed; lookups then search the text.
    indexed: bool,
}

impl WordIndex {
    fn hash(word: &[u8]) -> u64 {
        let mut h = FxHasher::default();
        h.write(word);
        h.finish()
    }

    pub fn new(text: &str) -> WordIndex {
        let b = text.as_bytes();
        if u32::try_from(b.len()).is_err() {
            return WordIndex::default();
        }
        let mut by_hash: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
        let mut i = 0;
        while i < b.len() {
            if !is_word_byte(b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && is_word_byte(b[i]) {
                i += 1;
            }
            // In range: the text's length fits in `u32` (checked above).
            let at = start as u32;
            by_hash
                .entry(Self::hash(&b[start..i]))
                .or_default()
                .push(at);
        }
        WordIndex {
            by_hash,
            indexed: true,
        }
    }

    /// Offsets, in order, where `word` occurs in `text` (the text this index was
    /// built from) with no word byte just before or after it. For a `word` made of
    /// word bytes these are the words of the text equal to it; anything else is
    /// searched for in the text.
    pub fn positions<'a>(
        &'a self,
        text: &'a str,
        word: &'a str,
    ) -> impl Iterator<Item = usize> + 'a {
        let is_word = self.indexed && !word.is_empty() && word.bytes().all(is_word_byte);
        let indexed = is_word.then(|| {
            self.by_hash
                .get(&Self::hash(word.as_bytes()))
                .into_iter()
                .flatten()
                .map(|&at| at as usize)
                // A hash collision is told apart by the text.
                .filter(move |&at| text.get(at..at + word.len()) == Some(word))
        });
        let searched = (!is_word).then(|| search(text, word));
        indexed
            .into_iter()
            .flatten()
            .chain(searched.into_iter().flatten())
    }
}

/// [`WordIndex::positions`] without an index.
pub fn search<'a>(text: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    let b = text.as_bytes();
    text.match_indices(word).map(|(i, _)| i).filter(move |&i| {
        let before = i > 0 && is_word_byte(b[i - 1]);
        let after = b.get(i + word.len()).copied().is_some_and(is_word_byte);
        !before && !after
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_match_a_bounded_search() {
        let text = "a ab abc ab_c ab ab2 xab ab\n(ab) é ab 1ab ab";
        let idx = WordIndex::new(text);
        for word in [
            "ab", "a", "abc", "ab_c", "1ab", "x", "", "ab ab", "(ab)", "é",
        ] {
            assert_eq!(
                idx.positions(text, word).collect::<Vec<_>>(),
                search(text, word).collect::<Vec<_>>(),
                "{word:?}"
            );
        }
        assert_eq!(idx.positions(text, "ab").count(), 6);
    }
}
