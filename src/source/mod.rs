//! The C/C++ source model: reading a file, its preprocessor conditions, its
//! syntax tree, and the [`index::FileIndex`] every rule reads.

pub mod budget;
pub mod entry;
pub mod index;
pub mod lex;
mod parse_memory;
pub mod partial;
pub mod preproc;
pub mod privacy;
pub mod summary;
pub mod words;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tree_sitter::{Node, Parser, Tree};

use crate::diagnostic::{LineIndex, Span};
use lex::Lexed;
use preproc::{Condition, ConditionMap};
use words::WordIndex;

/// The grammar a file is parsed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Language {
    C,
    Cpp,
}

impl Language {
    /// By extension; `None` for files that are not C or C++ sources.
    pub fn from_path(path: &Path) -> Option<Language> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "c" | "h" | "inc" => Some(Language::C),
            "cc" | "cpp" | "cxx" | "c++" | "hpp" | "hh" | "hxx" | "h++" | "ipp" | "tcc" => {
                Some(Language::Cpp)
            }
            _ => None,
        }
    }
}

/// The kind of `node` of a tree parsed as `lang`: the same as `node.kind()`, from a
/// table built once per grammar, without `kind()`'s `strlen` and UTF-8 check on
/// every call (the tree walks ask it for every node).
pub fn node_kind(lang: Language, node: Node) -> &'static str {
    static C: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    static CPP: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let table = |grammar: tree_sitter::Language| {
        (0..grammar.node_kind_count())
            .map(|id| {
                u16::try_from(id)
                    .ok()
                    .and_then(|id| grammar.node_kind_for_id(id))
                    .unwrap_or("")
            })
            .collect::<Vec<_>>()
    };
    let names = match lang {
        Language::C => C.get_or_init(|| table(tree_sitter_c::LANGUAGE.into())),
        Language::Cpp => CPP.get_or_init(|| table(tree_sitter_cpp::LANGUAGE.into())),
    };
    match names.get(usize::from(node.kind_id())) {
        Some(name) if !name.is_empty() => name,
        _ => node.kind(),
    }
}

/// Why a file was not analysed, or analysed only in part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadProblem {
    /// Could not be read at all (permission, I/O error).
    Unreadable(String),
    /// Looks binary (NUL bytes): skipped.
    Binary,
    /// A generated file (Cython output and the like): skipped.
    Generated(String),
}

/// A parsed C or C++ file.
pub struct SourceFile {
    pub path: PathBuf,
    /// The file's text; for non-UTF-8 files, decoded with replacement characters.
    pub text: String,
    /// The file was not valid UTF-8 (analysed lossily, never rewritten by `--fix`).
    pub lossy: bool,
    /// The file ends its lines with a bare CR (classic Mac OS): analysed with LF in
    /// their place (same offsets), never rewritten by `--fix`.
    pub cr_line_ends: bool,
    pub language: Language,
    pub lines: LineIndex,
    pub lexed: Lexed,
    pub conditions: ConditionMap,
    /// What tree-sitter parsed (see [`preproc::mask_for_parsing`] and
    /// [`budget`]); same offsets as `text`.
    pub parse_text: String,
    /// The syntax tree of `parse_text`, until the pipeline releases it after the
    /// file's own phase (see [`SyntaxTree::release`]).
    pub tree: SyntaxTree,
    /// Code occurrences of the words the project phase asks about, kept when the
    /// tree is released (see [`SourceFile::release_tree`]).
    kept_words: Option<KeptWords>,
    /// The parse budgets this file went past (see [`budget`]), worded for the
    /// "partly analysed" note.
    pub parse_limits: Vec<String>,
    /// Where each word of `parse_text` is, built on the first
    /// [`SourceFile::code_occurrences`].
    words: OnceLock<WordIndex>,
    /// [`SourceFile::parse_error_count`], counted once (the pipeline and the
    /// scope both ask).
    error_count: OnceLock<usize>,
    /// The top-level items of the full parse, kept when the tree is released so
    /// that [`SourceFile::reparse_items`] can parse some of them again.
    top_items: Option<partial::TopItems>,
}

thread_local! {
    static C_PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
    static CPP_PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's parser for `lang`, made on first use.
fn with_parser<R>(lang: Language, f: impl FnOnce(&mut Parser) -> Option<R>) -> Option<R> {
    let cell = match lang {
        Language::C => &C_PARSER,
        Language::Cpp => &CPP_PARSER,
    };
    cell.with(|p| {
        let mut slot = p.borrow_mut();
        if slot.is_none() {
            *slot = Some(budget::new_parser(match lang {
                Language::C => tree_sitter_c::LANGUAGE.into(),
                Language::Cpp => tree_sitter_cpp::LANGUAGE.into(),
            })?);
        }
        f(slot.as_mut()?)
    })
}

/// Parses `text` within the parser's work budget (see [`budget::parse`]).
fn parse_with(lang: Language, text: String) -> Option<budget::Parsed> {
    with_parser(lang, |p| budget::parse(p, text))
}

/// Parses the `ranges` of `text` only (see [`budget::parse_ranges`]).
fn parse_ranges_with(lang: Language, text: &str, ranges: &[tree_sitter::Range]) -> Option<Tree> {
    with_parser(lang, |p| budget::parse_ranges(p, text, ranges))
}

/// Markers in the first lines of files written by code generators we do not audit
/// as hand-written C (their generator is what needs the declaration).
const GENERATED_MARKERS: [(&str, &str); 5] = [
    ("Generated by Cython", "Cython"),
    // cffi's out-of-line API mode writes `_ffi.c` starting with this define.
    ("#define _CFFI_\n", "cffi"),
    ("Generated by SWIG", "SWIG"),
    ("generated by f2py", "f2py"),
    ("This file is generated by mypyc", "mypyc"),
];

impl SourceFile {
    /// Reads and parses `path`. Problems that stop analysis are returned as `Err`.
    pub fn read(path: &Path, language: Language) -> Result<SourceFile, ReadProblem> {
        let bytes = std::fs::read(path).map_err(|e| ReadProblem::Unreadable(e.to_string()))?;
        Self::from_bytes(path, language, bytes)
    }

    pub fn from_bytes(
        path: &Path,
        language: Language,
        bytes: Vec<u8>,
    ) -> Result<SourceFile, ReadProblem> {
        if bytes.iter().take(8192).any(|&b| b == 0) {
            return Err(ReadProblem::Binary);
        }
        let (text, lossy, cr_line_ends) = Self::decode(bytes);
        let head: String = text.lines().take(5).collect::<Vec<_>>().join("\n");
        if let Some((_, gen)) = GENERATED_MARKERS.iter().find(|(m, _)| head.contains(m)) {
            return Err(ReadProblem::Generated((*gen).to_owned()));
        }
        let language = refine_language(path, language, &text);
        let mut file = Self::from_text(path.to_path_buf(), language, text, lossy);
        file.cr_line_ends = cr_line_ends;
        Ok(file)
    }

    /// The text of a file's bytes as analysed: lossy UTF-8 (and whether it was
    /// lossy), with bare CRs made LFs when the file has no LF (and whether it had).
    pub fn decode(bytes: Vec<u8>) -> (String, bool, bool) {
        let (text, lossy) = match String::from_utf8(bytes) {
            Ok(s) => (s, false),
            Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
        };
        // Every reader of the text splits lines at LF; a CR-only file would be one
        // line, swallowed whole by a leading `//` or `#include`.
        let cr_line_ends = text.contains('\r') && !text.contains('\n');
        let text = if cr_line_ends {
            text.replace('\r', "\n")
        } else {
            text
        };
        (text, lossy, cr_line_ends)
    }

    pub fn from_text(path: PathBuf, language: Language, text: String, lossy: bool) -> SourceFile {
        use crate::timing::{time, Phase};
        let (lexed, conditions, parse_text, mut parse_limits, lines) = time(Phase::Prepare, || {
            let lexed = lex::lex(&text);
            let conditions = ConditionMap::build(&lexed.directives, text.len());
            let mut parse_text = preproc::mask_for_parsing(&text, &lexed.directives, &conditions);
            let parse_limits = budget::mask_hostile(&mut parse_text).limits();
            let lines = LineIndex::new(&text);
            (lexed, conditions, parse_text, parse_limits, lines)
        });
        crate::timing::count_parse(false);
        // Parsing only fails on a missing language; parse nothing instead.
        let parsed = time(Phase::Parse, || match parse_with(language, parse_text) {
            Some(p) => p,
            None => parse_with(language, String::new())
                .unwrap_or_else(|| panic!("tree-sitter could not parse empty input")),
        });
        if let Some(cut) = parsed.cut {
            parse_limits.push(format!(
                "the parser's work budget ran out: the file was not parsed from line {} on",
                lines.line_of(cut) + 1
            ));
        }
        SourceFile {
            path,
            text,
            lossy,
            cr_line_ends: false,
            language,
            lines,
            lexed,
            conditions,
            parse_text: parsed.text,
            tree: SyntaxTree::new(parsed.tree),
            kept_words: None,
            parse_limits,
            words: OnceLock::new(),
            error_count: OnceLock::new(),
            top_items: None,
        }
    }

    /// The text of a node (from the parsed text).
    pub fn node_text(&self, node: Node) -> &str {
        self.parse_text.get(node.byte_range()).unwrap_or("")
    }

    pub fn span(&self, start: usize, end: usize) -> Span {
        self.lines.span(&self.text, start, end)
    }

    pub fn node_span(&self, node: Node) -> Span {
        self.span(node.start_byte(), node.end_byte())
    }

    /// The preprocessor condition the byte at `offset` is compiled under.
    pub fn condition_at(&self, offset: usize) -> &Condition {
        self.conditions.at(offset)
    }

    /// Is `offset` inside a comment?
    pub fn in_comment(&self, offset: usize) -> bool {
        let cs = &self.lexed.comments;
        let i = cs.partition_point(|c| c.end <= offset);
        cs.get(i).is_some_and(|c| c.start <= offset)
    }

    /// Byte offsets of `word` as a whole identifier in code (not in comments,
    /// string literals or directive lines).
    ///
    /// Once the tree is released, only the words (and prefixes) named when it was
    /// released can be asked about; anything else is a bug in the pipeline and
    /// panics (caught as an internal error, never a silently wrong answer).
    pub fn code_occurrences(&self, word: &str) -> Vec<usize> {
        self.code_occurrences_where(word, |_| true)
    }

    /// The [`SourceFile::code_occurrences`] of `word` that `keep` accepts, asked
    /// before the costlier test that an occurrence is code.
    pub fn code_occurrences_where(&self, word: &str, keep: impl Fn(usize) -> bool) -> Vec<usize> {
        if !self.tree.is_present() {
            return match &self.kept_words {
                Some(kept) => kept
                    .occurrences(word)
                    .into_iter()
                    .filter(|&i| keep(i))
                    .collect(),
                None => {
                    panic!("code occurrences of `{word}` asked after the syntax tree was released")
                }
            };
        }
        let words = self.words.get_or_init(|| WordIndex::new(&self.parse_text));
        words
            .positions(&self.parse_text, word)
            .filter(|&i| keep(i) && self.in_code(i, i + word.len()))
            .collect()
    }

    /// The occurrences in code of `words` (whole words) and of identifiers that
    /// start with one of `prefixes`, with their offsets, in offset order: for each
    /// word, what [`SourceFile::code_occurrences`] finds. Needs the tree.
    ///
    /// Asked for a handful of names: the word index answers the words when a rule
    /// has built it, and a text search otherwise, so no pass looks at every
    /// identifier of the file (such a pass, once per file, was a tenth of the
    /// work after the parse).
    pub fn code_words(&self, words: &[&str], prefixes: &[&str]) -> Vec<(&str, usize)> {
        let text = self.parse_text.as_str();
        let b = text.as_bytes();
        let mut found: Vec<(usize, usize)> = Vec::new();
        for w in words {
            match self.words.get() {
                Some(index) => found.extend(index.positions(text, w).map(|at| (at, w.len()))),
                None => found.extend(words::search(text, w).map(|at| (at, w.len()))),
            }
        }
        for p in prefixes.iter().filter(|p| !p.is_empty()) {
            for (at, _) in text.match_indices(p) {
                if at > 0 && words::is_word_byte(b[at - 1]) {
                    continue;
                }
                let len = b[at..]
                    .iter()
                    .take_while(|&&c| words::is_word_byte(c))
                    .count();
                found.push((at, len));
            }
        }
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .filter(|&(at, len)| self.in_code(at, at + len))
            .map(|(at, len)| (&text[at..at + len], at))
            .collect()
    }

    /// Is the identifier at `start..end` code: not in a comment, a string or a
    /// character literal? (Needs the tree.)
    fn in_code(&self, start: usize, end: usize) -> bool {
        if self.in_comment(start) {
            return false;
        }
        let Some(node) = self.tree.root_node().descendant_for_byte_range(start, end) else {
            return false;
        };
        !matches!(
            node.kind(),
            "string_literal" | "string_content" | "char_literal" | "raw_string_literal"
        )
    }

    /// A file as [`SourceFile::release_tree`] leaves it, rebuilt from what a
    /// previous run kept of the same text (its cache entry) without lexing, masking
    /// or parsing: the condition map is rebuilt from the directives, the line
    /// index from the text. There is no tree; [`SourceFile::reparse_tree`] parses
    /// `parse_text` when one is needed again.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        path: PathBuf,
        text: String,
        lossy: bool,
        cr_line_ends: bool,
        language: Language,
        lexed: Lexed,
        parse_text: String,
        kept_words: KeptWords,
        parse_limits: Vec<String>,
        top_items: Option<partial::TopItems>,
    ) -> SourceFile {
        let (conditions, lines) = crate::timing::time(crate::timing::Phase::Prepare, || {
            (
                ConditionMap::build(&lexed.directives, text.len()),
                LineIndex::new(&text),
            )
        });
        SourceFile {
            path,
            text,
            lossy,
            cr_line_ends,
            language,
            lines,
            lexed,
            conditions,
            parse_text,
            tree: SyntaxTree(None),
            kept_words: Some(kept_words),
            parse_limits,
            words: OnceLock::new(),
            // A restored file's count comes with its cache entry; it has no tree.
            error_count: OnceLock::new(),
            top_items,
        }
    }

    /// The top-level items kept when the tree was released, or restored with the
    /// file from its cache entry (`None` before the release).
    pub fn top_items(&self) -> Option<&partial::TopItems> {
        self.top_items.as_ref()
    }

    /// The code occurrences kept when the tree was released (`None` before).
    pub fn kept_words(&self) -> Option<&KeptWords> {
        self.kept_words.as_ref()
    }

    /// Parses the masked text again after [`SourceFile::release_tree`], for work
    /// that needs the tree once more (building deferred fixes). The tree is of
    /// exactly the text the first one was of; `false` when that parse does not
    /// fit the budgets now (then there is no tree).
    pub fn reparse_tree(&mut self) -> bool {
        if self.tree.is_present() {
            return true;
        }
        crate::timing::count_parse(true);
        crate::timing::count_parsed_again(self.parse_text.len(), self.parse_text.len());
        let parsed = crate::timing::time(crate::timing::Phase::Parse, || {
            parse_with(self.language, self.parse_text.clone())
        });
        match parsed {
            Some(p) if p.cut.is_none() => {
                self.tree = SyntaxTree::new(p.tree);
                true
            }
            _ => false,
        }
    }

    /// Gets a tree back (after [`SourceFile::release_tree`]) holding at least the
    /// top-level items around `offsets`, with the same nodes there as the full
    /// parse had: only those items are parsed when the release kept the file's
    /// items and their parse checks out (see [`partial`]), else the whole file.
    /// `false`: no usable tree (as [`SourceFile::reparse_tree`]).
    ///
    /// A reader of the tree must not look outside those items: the rest of the
    /// file is not there.
    pub fn reparse_items(&mut self, offsets: &[usize]) -> bool {
        if self.tree.is_present() {
            return true;
        }
        let Some(all) = self.top_items.as_ref() else {
            return self.reparse_tree();
        };
        // An offset outside every item, or every item: the whole file.
        let Some(picked) = all.holding(offsets).filter(|p| !all.all(p)) else {
            return self.reparse_tree();
        };
        let ranges = partial::ranges(&picked);
        let tree = crate::timing::time(crate::timing::Phase::Parse, || {
            parse_ranges_with(self.language, &self.parse_text, &ranges)
        });
        match tree {
            Some(tree) if partial::matches(&tree, &picked) => {
                crate::timing::count_parse(true);
                let bytes = ranges.iter().map(|r| r.end_byte - r.start_byte).sum();
                crate::timing::count_parsed_again(bytes, self.parse_text.len());
                self.tree = SyntaxTree::new(tree);
                true
            }
            // (A refused partial parse is not counted: the full one is.)
            _ => self.reparse_tree(),
        }
    }

    /// Releases the syntax tree (the largest part of a parsed file), keeping the
    /// code occurrences of `words` and of every identifier starting with one of
    /// `prefixes`, which [`SourceFile::code_occurrences`] answers from then on.
    pub fn release_tree(&mut self, words: &[&str], prefixes: &[&str]) {
        if !self.tree.is_present() {
            return;
        }
        let mut kept = KeptWords {
            words: words.iter().map(|w| (*w).to_owned()).collect(),
            prefixes: prefixes.iter().map(|p| (*p).to_owned()).collect(),
            found: Vec::new(),
        };
        for (ident, off) in self.code_words(words, prefixes) {
            kept.found.push((ident.to_owned(), off));
        }
        self.kept_words = Some(kept);
        if let Some(tree) = self.tree.tree() {
            self.top_items = Some(partial::TopItems::of(tree));
        }
        // Freeing a tree is part of the parser's cost (a few percent of it), and the
        // benchmark's bare parse frees its trees too: timed with the parse.
        crate::timing::time(crate::timing::Phase::Parse, || self.tree.release());
        // The word index answers only while the tree does; it goes with it.
        self.words = OnceLock::new();
    }

    /// The budgets this file exceeded: the parts past them were analysed with less
    /// knowledge (unknown conditions), and the run says the file was partly analysed.
    pub fn limits(&self) -> Vec<String> {
        let conditions = self.conditions.limit.iter().cloned();
        conditions
            .chain(self.parse_limits.iter().cloned())
            .collect()
    }

    /// Number of ERROR or MISSING nodes in the tree.
    pub fn parse_error_count(&self) -> usize {
        *self.error_count.get_or_init(|| self.count_parse_errors())
    }

    fn count_parse_errors(&self) -> usize {
        let root = self.tree.root_node();
        if !root.has_error() {
            return 0;
        }
        let mut count = 0;
        let mut cursor = root.walk();
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            if n.is_error() || n.is_missing() {
                count += 1;
                continue;
            }
            if n.has_error() {
                stack.extend(n.children(&mut cursor));
            }
        }
        count
    }
}

/// A file's syntax tree, which the pipeline drops once the file's own phase is
/// over: trees are most of a parsed file's memory, and the project phase reads
/// only plain data. Reading a released tree panics (an internal error for the
/// file or the run, never a silently empty answer).
pub struct SyntaxTree(Option<Tree>);

/// Trees alive now and the most alive at once (see [`live_trees`]).
static LIVE_TREES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static PEAK_TREES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many [`SyntaxTree`]s of C/C++ files are alive now, and the most that were
/// alive at once since the last call to [`reset_peak_trees`].
pub fn live_trees() -> (usize, usize) {
    use std::sync::atomic::Ordering;
    (
        LIVE_TREES.load(Ordering::SeqCst),
        PEAK_TREES.load(Ordering::SeqCst),
    )
}

/// Starts a new peak for [`live_trees`] from the trees alive now.
pub fn reset_peak_trees() {
    use std::sync::atomic::Ordering;
    PEAK_TREES.store(LIVE_TREES.load(Ordering::SeqCst), Ordering::SeqCst);
}

impl SyntaxTree {
    fn new(tree: Tree) -> SyntaxTree {
        use std::sync::atomic::Ordering;
        let live = LIVE_TREES.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK_TREES.fetch_max(live, Ordering::SeqCst);
        SyntaxTree(Some(tree))
    }

    /// The root of the tree. Panics once the tree is released.
    pub fn root_node(&self) -> Node<'_> {
        match &self.0 {
            Some(t) => t.root_node(),
            None => panic!("the syntax tree was read after the pipeline released it"),
        }
    }

    /// The tree, while it is here.
    pub fn tree(&self) -> Option<&Tree> {
        self.0.as_ref()
    }

    /// Whether the tree is still here.
    pub fn is_present(&self) -> bool {
        self.0.is_some()
    }

    /// Drops the tree.
    pub fn release(&mut self) {
        if self.0.take().is_some() {
            LIVE_TREES.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

impl Drop for SyntaxTree {
    fn drop(&mut self) {
        self.release();
    }
}

/// Code occurrences kept when a file's tree is released (stored in the file's
/// cache entry with the rest of what the project phase reads).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct KeptWords {
    words: Vec<String>,
    prefixes: Vec<String>,
    /// (identifier, offset), by offset.
    found: Vec<(String, usize)>,
}

impl KeptWords {
    fn occurrences(&self, word: &str) -> Vec<usize> {
        let known = self.words.iter().any(|w| w == word)
            || self.prefixes.iter().any(|p| word.starts_with(p.as_str()));
        if !known {
            panic!("code occurrences of `{word}` asked after the syntax tree was released");
        }
        self.found
            .iter()
            .filter(|(w, _)| w == word)
            .map(|(_, off)| *off)
            .collect()
    }
}

/// `.h` files are C unless they plainly contain C++.
fn refine_language(path: &Path, language: Language, text: &str) -> Language {
    let is_h = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("h"));
    if language == Language::C && is_h {
        let cpp = [
            "namespace ",
            "template <",
            "template<",
            "std::",
            "class ",
            "public:",
            "private:",
        ];
        let code_hits = cpp.iter().filter(|m| text.contains(**m)).count();
        if code_hits >= 2 {
            return Language::Cpp;
        }
    }
    language
}

/// One parsed file and its index: everything the C/C++ model knows of a file,
/// before any rule or setting looks at it.
pub struct ParsedFile {
    pub file: SourceFile,
    pub index: index::FileIndex,
}

impl ParsedFile {
    /// Parses and indexes `file`.
    pub fn new(file: SourceFile) -> Self {
        let index = index::FileIndex::build(&file);
        ParsedFile { file, index }
    }
}

#[cfg(test)]
mod kind_tests {
    use super::*;

    /// After the tree is released, the kept words answer as the tree did.
    #[test]
    fn kept_words_answer_as_the_tree_did() {
        let text = "/* PyInit_a Py_mod_gil */\nconst char *s = \"PyInit_a\";\nPyMODINIT_FUNC PyInit_a(void) { return PyInit_ab(); }\nint x = Py_mod_gil + xPy_mod_gil;\n";
        let mut file =
            SourceFile::from_text(PathBuf::from("t.c"), Language::C, text.to_owned(), false);
        let words = [
            "Py_mod_gil",
            "NB_MODULE",
            "PyInit_a",
            "PyInit_ab",
            "PyInit_zz",
        ];
        let before: Vec<Vec<usize>> = words.iter().map(|w| file.code_occurrences(w)).collect();
        assert_eq!(before[0].len(), 1);
        assert_eq!(before[2].len(), 1);
        let (live, _) = live_trees();
        assert!(live >= 1);
        file.release_tree(&["Py_mod_gil", "NB_MODULE"], &["PyInit_"]);
        assert!(!file.tree.is_present());
        let after: Vec<Vec<usize>> = words.iter().map(|w| file.code_occurrences(w)).collect();
        assert_eq!(before, after);
        let unknown = std::panic::catch_unwind(|| file.code_occurrences("Py_BEGIN_ALLOW_THREADS"));
        assert!(unknown.is_err());
    }

    /// The kind table gives `kind()` for every node, in both grammars.
    #[test]
    fn node_kind_matches_tree_sitter_for_every_node() {
        let c = "#include <Python.h>\nstatic int x[3] = {1, 2, 3};\nstruct S { int a; };\nstatic PyObject *f(PyObject *self, PyObject *args) {\n    if (!x[0]) { x[0] = 1; } else x[1] += 2;\n    return PyList_GetItem(args, 0) ? self : NULL; @@ }\n";
        let cpp = "namespace n { template <typename T> class C { public: T v; }; }\nauto g = [](int a) { return a + 1; };\nint h() { std::vector<int> v{1,2}; for (auto &e : v) e++; return v.size(); }\n";
        for (lang, text) in [(Language::C, c), (Language::Cpp, cpp)] {
            let file = SourceFile::from_text(PathBuf::from("t"), lang, text.to_owned(), false);
            let mut stack = vec![file.tree.root_node()];
            let mut seen = 0;
            while let Some(n) = stack.pop() {
                assert_eq!(node_kind(lang, n), n.kind());
                seen += 1;
                let mut cursor = n.walk();
                stack.extend(n.children(&mut cursor));
            }
            assert!(seen > 50);
        }
    }

    /// The word index finds what a substring search with word boundaries finds.
    #[test]
    fn code_words_agree_with_a_pass_over_every_identifier() {
        let c = "int PyInit_x(void); /* PyInit_y */ int a = PyInit_z + PyInit_PyInit_w + xPyInit_v;\nconst char *s = \"ob_size PyInit_s\"; int ob_size, ob_sizes, PyInit_; PyInit_t2 ob_size\n";
        let file = SourceFile::from_text(PathBuf::from("t.c"), Language::C, c.to_owned(), false);
        let words = ["ob_size", "PyInit_x", "nowhere"];
        let prefixes = ["PyInit_"];
        // Every identifier of the text, kept when it is in code and wanted.
        let b = c.as_bytes();
        let mut expected = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let start = i;
            while i < b.len() && words::is_word_byte(b[i]) {
                i += 1;
            }
            if i == start {
                i += 1;
                continue;
            }
            let id = &c[start..i];
            let wanted = words.contains(&id) || prefixes.iter().any(|p| id.starts_with(p));
            if wanted && file.in_code(start, i) {
                expected.push((id, start));
            }
        }
        assert_eq!(expected.len(), 7, "{expected:?}");
        // Without the word index, then with it.
        assert_eq!(file.code_words(&words, &prefixes), expected);
        let _ = file.code_occurrences("ob_size");
        assert_eq!(file.code_words(&words, &prefixes), expected);
    }

    #[test]
    fn code_occurrences_are_whole_words_in_code() {
        let c = "int ob_size; /* ob_size */\nint f(PyObject *o) { return o->ob_size + xob_size + ob_size_2 + 1ob_size; }\nconst char *s = \"ob_size\"; int g(void) { return ob_size; }\n";
        let file = SourceFile::from_text(PathBuf::from("t.c"), Language::C, c.to_owned(), false);
        let expect: Vec<usize> = c
            .match_indices("ob_size")
            .map(|(i, _)| i)
            .filter(|&i| [4, 58, 151].contains(&i))
            .collect();
        assert_eq!(
            expect.len(),
            3,
            "{:?}",
            c.match_indices("ob_size").collect::<Vec<_>>()
        );
        assert_eq!(file.code_occurrences("ob_size"), expect);
        assert_eq!(file.code_occurrences("ob_siz"), Vec::<usize>::new());
        // Not a word: searched as text.
        assert_eq!(file.code_occurrences("o->ob_size"), vec![55]);
    }
}
