//! The C/C++ source model: reading a file, its preprocessor conditions, its
//! syntax tree, and the [`index::FileIndex`] every rule reads.

pub mod budget;
pub mod entry;
pub mod index;
pub mod lex;
mod parse_memory;
pub mod preproc;
pub mod privacy;
pub mod summary;

use std::cell::RefCell;
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rustc_hash::{FxHashMap, FxHasher};

use tree_sitter::{Node, Parser, Tree};

use crate::diagnostic::{LineIndex, Span};
use lex::Lexed;
use preproc::{Condition, ConditionMap};

/// The grammar a file is parsed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    pub tree: Tree,
    /// The parse budgets this file went past (see [`budget`]), worded for the
    /// "partly analysed" note.
    pub parse_limits: Vec<String>,
    /// Where each word of `parse_text` is, built on the first
    /// [`SourceFile::code_occurrences`] (see [`Words`]).
    words: OnceLock<Words>,
}

/// The offsets of every word (maximal run of ASCII letters, digits and `_`) of a
/// text, by a hash of the word. Rules ask [`SourceFile::code_occurrences`] for
/// dozens of names per file; one pass over the text answers them all, where a
/// substring search per name read the whole file each time.
#[derive(Default)]
struct Words {
    by_hash: FxHashMap<u64, Vec<u32>>,
}

impl Words {
    fn hash(word: &[u8]) -> u64 {
        let mut h = FxHasher::default();
        h.write(word);
        h.finish()
    }

    fn build(text: &str) -> Words {
        let b = text.as_bytes();
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
            // Offsets past 4 GiB are not indexed; `code_occurrences` then searches.
            let Ok(at) = u32::try_from(start) else {
                return Words::default();
            };
            by_hash
                .entry(Self::hash(&b[start..i]))
                .or_default()
                .push(at);
        }
        Words { by_hash }
    }

    /// Start offsets of `word` as a whole word, in order (a hash collision is
    /// told apart by comparing the text).
    fn find<'a>(&'a self, text: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.by_hash
            .get(&Self::hash(word.as_bytes()))
            .into_iter()
            .flatten()
            .map(|&at| at as usize)
            .filter(move |&at| text.get(at..at + word.len()) == Some(word))
    }
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

thread_local! {
    static C_PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
    static CPP_PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses `text` within the parser's work budget (see [`budget::parse`]).
fn parse_with(lang: Language, text: String) -> Option<budget::Parsed> {
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
        budget::parse(slot.as_mut()?, text)
    })
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
            tree: parsed.tree,
            parse_limits,
            words: OnceLock::new(),
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
    pub fn code_occurrences(&self, word: &str) -> Vec<usize> {
        let b = self.parse_text.as_bytes();
        if word.is_empty() || !word.bytes().all(is_word_byte) || b.len() > u32::MAX as usize {
            let is_id = |c: u8| is_word_byte(c);
            let candidates = self.parse_text.match_indices(word).filter(|&(i, _)| {
                let before = i.checked_sub(1).map(|j| b[j]);
                let after = b.get(i + word.len()).copied();
                !(before.is_some_and(is_id) || after.is_some_and(is_id))
            });
            return self.in_code(candidates.map(|(i, _)| i), word.len());
        }
        // A word's whole-word occurrences are exactly the words of the text equal to it.
        let words = self.words.get_or_init(|| Words::build(&self.parse_text));
        self.in_code(words.find(&self.parse_text, word), word.len())
    }

    /// The `offsets` (of a word `len` bytes long) not in a comment or a literal.
    fn in_code(&self, offsets: impl Iterator<Item = usize>, len: usize) -> Vec<usize> {
        let mut out = Vec::new();
        for i in offsets {
            if self.in_comment(i) {
                continue;
            }
            let Some(node) = self.tree.root_node().descendant_for_byte_range(i, i + len) else {
                continue;
            };
            if matches!(
                node.kind(),
                "string_literal" | "string_content" | "char_literal" | "raw_string_literal"
            ) {
                continue;
            }
            out.push(i);
        }
        out
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
