//! Where each word of a text is. Masking and the rules look up dozens of names per
//! file (statement macros, struct fields, thread-state calls); one pass over the
//! text answers them all, where a substring search per name read the whole file
//! each time.

use std::hash::Hasher;

use rustc_hash::{FxHashMap, FxHashSet, FxHasher};

/// A word byte: ASCII letter, digit or `_` (C identifiers, and numbers).
pub const fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The start offsets of every word (maximal run of word bytes not starting with a
/// digit, at least [`MIN_INDEXED`] bytes long) of one text, by a hash of the word: a few bytes per word, no copy of the
/// text. The offsets of one word are chained through `next` (no allocation per
/// distinct word: building the index is most of its cost).
#[derive(Default)]
pub struct WordIndex {
    /// Hash of a word → (first, last) indices into `at`.
    by_hash: FxHashMap<u64, (u32, u32)>,
    /// Offset of each word occurrence, in text order.
    at: Vec<u32>,
    /// Index in `at` of the next occurrence with the same hash (`u32::MAX`: none).
    next: Vec<u32>,
    /// Texts past 4 GiB are not indexed; lookups then search the text.
    indexed: bool,
    /// Built for these words only (by hash, see [`WordIndex::of_words`]): others
    /// are searched for in the text.
    only: Option<Only>,
}

/// The words a [`WordIndex::of_words`] holds, and a cheap test that rules most
/// other words out before hashing them.
struct Only {
    hashes: FxHashSet<u64>,
    first_bytes: [bool; 256],
    /// Bit `n` set: some word is `n` bytes long (bit 63: 63 bytes or more).
    lengths: u64,
}

impl Only {
    fn may_hold(&self, word: &[u8]) -> bool {
        self.first_bytes[usize::from(word[0])] && self.lengths & (1 << word.len().min(63)) != 0
    }
}

impl WordIndex {
    fn hash(word: &[u8]) -> u64 {
        let mut h = FxHasher::default();
        h.write(word);
        h.finish()
    }

    pub fn new(text: &str) -> WordIndex {
        Self::build(text, None)
    }

    /// An index of `words` only (masking asks for a few dozen macro names: most
    /// words of the text are ruled out by their first byte and length, unhashed).
    /// Asking it for another word searches the text.
    pub fn of_words<'w>(text: &str, words: impl IntoIterator<Item = &'w str>) -> WordIndex {
        let mut only = Only {
            hashes: FxHashSet::default(),
            first_bytes: [false; 256],
            lengths: 0,
        };
        for w in words.into_iter().map(str::as_bytes) {
            if let Some(&first) = w.first() {
                only.hashes.insert(Self::hash(w));
                only.first_bytes[usize::from(first)] = true;
                only.lengths |= 1 << w.len().min(63);
            }
        }
        Self::build(text, Some(only))
    }

    fn build(text: &str, only: Option<Only>) -> WordIndex {
        let b = text.as_bytes();
        // Room for every offset and link in `u32` (`u32::MAX` ends a chain).
        if b.len() >= u32::MAX as usize {
            return WordIndex::default();
        }
        let (by_hash, at, next) = SPARE
            .try_with(|s| s.take())
            .ok()
            .flatten()
            .unwrap_or_default();
        let mut idx = WordIndex {
            by_hash,
            at,
            next,
            indexed: true,
            only: None,
        };
        // Set after the walk: `only` is read in it.
        let only_words = only;
        let only = &only_words;
        let mut i = 0;
        while i < b.len() {
            if !WORD[usize::from(b[i])] {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && WORD[usize::from(b[i])] {
                i += 1;
            }
            if b[start].is_ascii_digit() || i - start < MIN_INDEXED {
                // A number, or a short word (`i`, `if`): they are many, and no one
                // asks for them; a lookup of one searches the text.
                continue;
            }
            let word = &b[start..i];
            let hash = match &only {
                Some(o) if !o.may_hold(word) => continue,
                Some(o) => {
                    let h = Self::hash(word);
                    if !o.hashes.contains(&h) {
                        continue;
                    }
                    h
                }
                None => Self::hash(word),
            };
            // In range: fewer words than bytes, and the text is shorter than `u32::MAX`.
            let n = idx.at.len() as u32;
            idx.at.push(start as u32);
            idx.next.push(u32::MAX);
            let e = idx.by_hash.entry(hash).or_insert((n, n));
            if e.1 != n {
                idx.next[e.1 as usize] = n;
                e.1 = n;
            }
        }
        idx.only = only_words;
        idx
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
        let hash = Self::hash(word.as_bytes());
        let is_word = self.indexed
            && word.len() >= MIN_INDEXED
            && word.bytes().next().is_some_and(|c| !c.is_ascii_digit())
            && word.bytes().all(is_word_byte)
            && self.only.as_ref().is_none_or(|o| o.hashes.contains(&hash));
        let indexed = is_word.then(|| {
            let mut k = self.by_hash.get(&hash).map_or(u32::MAX, |e| e.0);
            std::iter::from_fn(move || {
                let at = *self.at.get(k as usize)? as usize;
                k = self.next[k as usize];
                Some(at)
            })
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

/// An index's emptied tables, kept for the next index built on the same thread:
/// every file builds one or two and drops them, and fresh tables cost their
/// growth and the first touch of their pages (together about as much as filling
/// them).
type Tables = (FxHashMap<u64, (u32, u32)>, Vec<u32>, Vec<u32>);

thread_local! {
    static SPARE: std::cell::Cell<Option<Tables>> = const { std::cell::Cell::new(None) };
}

/// Tables larger than this (occurrences) are freed rather than kept.
const MAX_SPARE: usize = 1 << 22;

impl Drop for WordIndex {
    fn drop(&mut self) {
        if self.at.capacity() > MAX_SPARE || self.by_hash.capacity() > MAX_SPARE {
            return;
        }
        let mut tables = (
            std::mem::take(&mut self.by_hash),
            std::mem::take(&mut self.at),
            std::mem::take(&mut self.next),
        );
        tables.0.clear();
        tables.1.clear();
        tables.2.clear();
        // Keep the larger of the two: the next file is likely as large.
        let _ = SPARE.try_with(|s| {
            let keep = match s.take() {
                Some(old) if old.1.capacity() > tables.1.capacity() => old,
                _ => tables,
            };
            s.set(Some(keep));
        });
    }
}

/// Words shorter than this are not indexed (see [`WordIndex::positions`]).
const MIN_INDEXED: usize = 3;

/// [`is_word_byte`] as a table.
const WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = is_word_byte(c as u8);
        c += 1;
    }
    t
};

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
        // An index built on the tables a dropped one left (see `SPARE`) knows
        // nothing of the old text.
        drop(idx);
        let other = "abc zz ab_c abc";
        let idx = WordIndex::new(other);
        for word in ["ab", "abc", "ab_c", "zz", "xab"] {
            assert_eq!(
                idx.positions(other, word).collect::<Vec<_>>(),
                search(other, word).collect::<Vec<_>>(),
                "{word:?}"
            );
        }
        drop(idx);
        let some = WordIndex::of_words(text, ["ab", "abc", "zz"]);
        for word in ["ab", "a", "abc", "ab_c", "zz", "(ab)"] {
            assert_eq!(
                some.positions(text, word).collect::<Vec<_>>(),
                search(text, word).collect::<Vec<_>>(),
                "{word:?}"
            );
        }
    }
}
