//! Budgets on what tree-sitter is asked to parse. tree-sitter's time and memory
//! grow with the tokens it reads, and far faster on some shapes: a 10 MB line of
//! numbers took 2.3 GB, ten thousand nested lambdas 1.7 GB, and error recovery on
//! a setup.py of colons ran for seconds per kilobyte. Two cheap passes keep the
//! common hostile shapes out of the parser, and a work budget stops the rest:
//!
//! - [`mask_hostile`] blanks what lies past [`MAX_LINE_BYTES`] of a line (brackets
//!   and `;` kept, so the code after the line still parses as before) and
//!   everything inside brackets nested deeper than [`MAX_BRACKET_DEPTH`];
//! - [`parse`] counts the parser's operations and cancels a parse that goes past
//!   [`ops_budget`]; the text is then cut at a line before the point reached and
//!   parsed again, so the start of the file is still analysed.
//!
//! Blanking writes spaces over whole characters and keeps newlines, so offsets and
//! line numbers stay those of the original file, as with the preprocessor masking.
//!
//! The budget counts operations rather than time so that a file is analysed the
//! same way on every machine and every run.

use std::time::{Duration, Instant};

use tree_sitter::{ParseOptions, ParseState, Parser, Tree};

use super::parse_memory;

/// Bytes of one line handed to the parser; the rest of a longer line is blanked
/// except for its brackets and semicolons. Hand-written C stays far below this;
/// what goes past it is generated data or minified code.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Nesting of `(`, `[` and `{` together handed to the parser; real code stays
/// below 40.
pub const MAX_BRACKET_DEPTH: usize = 256;

/// Parser operations per byte of input, over [`OPS_BASE`]. Ordinary C and C++ take
/// under one operation per byte (CPython's sources: 0.6); error recovery on
/// garbage can take thousands.
pub const OPS_PER_BYTE: u64 = 8;
/// Operations every file may take whatever its size.
pub const OPS_BASE: u64 = 1_000_000;
/// Operations no file may go past, whatever its size: some three seconds, and more
/// than 15 MB of ordinary C (which [`MEMORY_MAX`] stops first, near 10 MB).
pub const OPS_MAX: u64 = 10_000_000;

/// Memory a parse may take (tree-sitter's allocations, counted on Linux). Operations
/// do not bound it: ordinary C holds some 60 bytes per operation, but ambiguous C++
/// (`a<b<a<b<...`) 300.
pub const MEMORY_MAX: i64 = 192 << 20;

/// Time every parse may take whatever its size, over [`TIME_PER_OP`] per operation
/// of its budget.
pub const TIME_BASE: Duration = Duration::from_millis(500);
/// Time per operation of the budget: three times what ordinary C takes here (a
/// release build parses some three million operations a second). Error recovery on
/// garbage can take a hundred microseconds per operation (a setup.py of colons: 16
/// seconds for 150,000 operations), so counting operations alone does not bound
/// its time; this does, at the price of making such files' analysis depend on the
/// machine's speed. Ordinary files stay far from it.
pub const TIME_PER_OP: Duration = Duration::from_micros(1);

/// tree-sitter calls the progress callback once per this many operations.
const OPS_PER_CALLBACK: u64 = 100;

/// A parser for `language`; every parser is made here (the memory count must be in
/// place before tree-sitter allocates anything).
pub fn new_parser(language: tree_sitter::Language) -> Option<Parser> {
    parse_memory::install();
    let mut parser = Parser::new();
    parser.set_language(&language).ok()?;
    Some(parser)
}

/// The operations a text of `len` bytes may take.
pub fn ops_budget(len: usize) -> u64 {
    (OPS_BASE + OPS_PER_BYTE * len as u64).min(OPS_MAX)
}

/// The time a parse of `ops` operations may take.
///
/// `FTAUDIT_NO_PARSE_DEADLINE=1` lifts it (the operation and memory budgets stay):
/// for profiling under valgrind, where everything runs some fifty times slower and
/// the deadline would cut large files short. Findings do not otherwise depend on it.
pub fn time_budget(ops: u64) -> Duration {
    static OFF: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *OFF.get_or_init(|| std::env::var_os("FTAUDIT_NO_PARSE_DEADLINE").is_some_and(|v| v != "0"))
    {
        return Duration::MAX;
    }
    TIME_BASE + TIME_PER_OP.saturating_mul(u32::try_from(ops).unwrap_or(u32::MAX))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    LineComment,
    BlockComment,
    Quoted(u8),
}

/// What [`mask_hostile`] blanked: the first line (1-based) of each kind.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Masked {
    pub long_line: Option<usize>,
    pub deep_nesting: Option<usize>,
}

impl Masked {
    /// The budgets hit, worded for the "partly analysed" note.
    pub fn limits(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(l) = self.long_line {
            out.push(format!(
                "lines longer than {MAX_LINE_BYTES} bytes (the first at line {l}): the rest of each line was not parsed"
            ));
        }
        if let Some(l) = self.deep_nesting {
            out.push(format!(
                "brackets nested deeper than {MAX_BRACKET_DEPTH} levels (the first at line {l}): what they hold was not parsed"
            ));
        }
        out
    }
}

/// Blanks the parts of C/C++ `text` past the line and nesting budgets (see the
/// module documentation). Brackets in comments, string and character literals do
/// not count.
pub fn mask_hostile(text: &mut String) -> Masked {
    mask_hostile_skipping(text, true)
}

/// [`mask_hostile`]; `skip_inert` off walks every byte (the tests compare the two).
fn mask_hostile_skipping(text: &mut String, skip_inert: bool) -> Masked {
    let mut masked = Masked::default();
    // Nothing to do in the common case: no long line and too few brackets to nest deep.
    let longest = text.split('\n').map(str::len).max().unwrap_or(0);
    if longest <= MAX_LINE_BYTES && text.len() < 2 * MAX_BRACKET_DEPTH {
        return masked;
    }
    let mut bytes = std::mem::take(text).into_bytes();
    let mut state = State::Code;
    let mut line = 1;
    let mut line_start = 0;
    // Past the line budget, at a token boundary: blank all but brackets and `;`.
    let mut cut = false;
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\n' {
            line += 1;
            line_start = i + 1;
            cut = false;
            if matches!(state, State::LineComment | State::Quoted(_)) {
                state = State::Code;
            }
            i += 1;
            continue;
        }
        if !cut && state == State::Code && i - line_start >= MAX_LINE_BYTES && is_boundary(c) {
            cut = true;
            masked.long_line.get_or_insert(line);
        }
        let deep = depth > MAX_BRACKET_DEPTH;
        if skip_inert && !(deep || cut) {
            // Bytes that change nothing (kept, same state) are skipped in one go:
            // the loop below costs per byte, and almost every byte is one of these.
            let inert = |c: u8| match state {
                State::Code => !CODE_SPECIAL[usize::from(c)],
                State::LineComment => c != b'\n',
                State::BlockComment => c != b'\n' && c != b'*',
                State::Quoted(q) => c != b'\n' && c != b'\\' && c != q,
            };
            // In code, a long line is cut at its budget: stop there.
            let limit = match state {
                State::Code => bytes.len().min(line_start + MAX_LINE_BYTES),
                _ => bytes.len(),
            };
            let start = i;
            while i < limit && inert(bytes[i]) {
                i += 1;
            }
            if i > start {
                continue;
            }
        }
        let mut keep = !(deep || cut);
        let mut step = 1;
        match state {
            State::LineComment => {}
            State::BlockComment => {
                if c == b'*' && bytes.get(i + 1) == Some(&b'/') {
                    state = State::Code;
                    step = 2;
                }
            }
            State::Quoted(q) => {
                if c == b'\\' && bytes.get(i + 1).is_some_and(|n| *n != b'\n') {
                    step = 2;
                } else if c == q {
                    state = State::Code;
                }
            }
            State::Code => match c {
                b'/' if bytes.get(i + 1) == Some(&b'/') => state = State::LineComment,
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    state = State::BlockComment;
                    step = 2;
                }
                b'"' => state = State::Quoted(c),
                // Not a C++14 digit separator (`1'000`).
                b'\'' if i == 0 || !bytes[i - 1].is_ascii_alphanumeric() => {
                    state = State::Quoted(c)
                }
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_BRACKET_DEPTH {
                        masked.deep_nesting.get_or_insert(line);
                        keep = false;
                    } else {
                        keep = true;
                    }
                }
                // A `}` opening a line ends a function or a top-level declaration:
                // brackets left open before it (by an `#if` branch kept in part, a
                // stray bracket) stop counting there, unless the text is nested deep.
                b'}' if i == line_start && depth <= MAX_BRACKET_DEPTH => depth = 0,
                b')' | b']' | b'}' => {
                    keep = depth <= MAX_BRACKET_DEPTH;
                    depth = depth.saturating_sub(1);
                }
                b';' => keep = !deep,
                _ => {}
            },
        }
        let end = (i + step).min(bytes.len());
        if !keep {
            for b in &mut bytes[i..end] {
                if *b != b'\n' && *b != b'\r' {
                    *b = b' ';
                }
            }
        }
        i = end;
    }
    // Only ASCII bytes and whole characters were replaced (a cut starts on ASCII, and
    // deep regions start and end at brackets); the check is a safety net.
    *text = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    masked
}

/// The bytes [`mask_hostile`] acts on in code (see its `State::Code` arm).
const CODE_SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let special = *b"\n/\"'([{)]};";
    let mut i = 0;
    while i < special.len() {
        t[special[i] as usize] = true;
        i += 1;
    }
    t
};

/// Where a cut may start: not inside an identifier, number or multi-byte character.
fn is_boundary(c: u8) -> bool {
    c.is_ascii() && !c.is_ascii_alphanumeric() && c != b'_'
}

/// What [`parse`] parsed.
pub struct Parsed {
    pub tree: Tree,
    /// The text the tree is of: the input, or the input blanked from `cut` on.
    pub text: String,
    /// Where the work budget ran out: the text was blanked from this offset.
    pub cut: Option<usize>,
}

/// Parses `text` within [`ops_budget`], [`MEMORY_MAX`] and [`time_budget`]. Past
/// them, the text is cut (at the start of a line if one is near) halfway to the
/// point the parser reached and parsed again (which then fits unless the end of the
/// cut text is costly to recover from); should that fail too, the tree is of blank
/// text. `None` only when the parser has no language.
pub fn parse(parser: &mut Parser, text: String) -> Option<Parsed> {
    let budget = ops_budget(text.len());
    let reached = match parse_within(parser, text.as_bytes(), budget, time_budget(budget)) {
        Ok(tree) => {
            return Some(Parsed {
                tree,
                text,
                cut: None,
            })
        }
        Err(reached) => reached,
    };
    let mut at = reached.min(text.len()) / 2;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    // At the start of a line, unless that loses much (a file of few long lines).
    let cut = match text[..at].rfind('\n') {
        Some(n) if n + 1 >= at / 2 => n + 1,
        _ => at,
    };
    let prefix = blank_from(&text, cut);
    // Half the time: what the first attempt spent is gone.
    if let Ok(tree) = parse_within(parser, prefix.as_bytes(), budget, time_budget(budget) / 2) {
        return Some(Parsed {
            tree,
            text: prefix,
            cut: Some(cut),
        });
    }
    let blank = blank_from(&text, 0);
    let tree = parse_within(parser, blank.as_bytes(), u64::MAX, Duration::MAX).ok()?;
    Some(Parsed {
        tree,
        text: blank,
        cut: Some(0),
    })
}

/// Parses only the `ranges` of `text` (tree-sitter's included ranges: nodes keep
/// their offsets in `text`), within the budget of that many bytes and with no
/// second attempt: `None` when it runs out (the caller parses the whole file).
/// The parser is left parsing whole documents again.
pub fn parse_ranges(
    parser: &mut Parser,
    text: &str,
    ranges: &[tree_sitter::Range],
) -> Option<Tree> {
    parser.set_included_ranges(ranges).ok()?;
    let bytes: usize = ranges.iter().map(|r| r.end_byte - r.start_byte).sum();
    let budget = ops_budget(bytes);
    let tree = parse_within(parser, text.as_bytes(), budget, time_budget(budget)).ok();
    // An empty list means the whole document; it cannot fail.
    let _ = parser.set_included_ranges(&[]);
    tree
}

/// `text` with every character from `from` on turned into a space (newlines kept).
fn blank_from(text: &str, from: usize) -> String {
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..from]);
    out.extend(
        text[from..]
            .chars()
            .map(|c| if c == '\n' || c == '\r' { c } else { ' ' }),
    );
    out
}

/// One parse, cancelled past `budget` operations, [`MEMORY_MAX`] or `deadline`: `Err` holds the byte offset the
/// parser had reached. The parser is reset after a cancelled parse (otherwise its
/// next parse would resume this one).
fn parse_within(
    parser: &mut Parser,
    text: &[u8],
    budget: u64,
    deadline: Duration,
) -> Result<Tree, usize> {
    let start = Instant::now();
    let memory_before = parse_memory::live();
    let mut memory = 0;
    let mut ops = 0u64;
    let mut reached = 0usize;
    let mut progress = |state: &ParseState| {
        ops += OPS_PER_CALLBACK;
        reached = reached.max(state.current_byte_offset());
        memory = memory.max(parse_memory::live() - memory_before);
        ops > budget || memory > MEMORY_MAX || start.elapsed() > deadline
    };
    let options = ParseOptions::new().progress_callback(&mut progress);
    let len = text.len();
    let tree = parser.parse_with_options(
        &mut |i, _| if i < len { &text[i..] } else { &[] },
        None,
        Some(options),
    );
    match tree {
        Some(tree) => Ok(tree),
        None => {
            parser.reset();
            Err(reached)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Skipping the bytes that change nothing masks exactly what the byte walk does.
    #[test]
    fn skipping_inert_bytes_changes_nothing() {
        let deep = format!("int a = {}1{};\n", "(".repeat(300), ")".repeat(300));
        let long = format!(
            "char *s = \"{}\"; /* {} */ int b = ({}); // {}\nint c;\n",
            "x\\\"y".repeat(MAX_LINE_BYTES / 4),
            "*".repeat(MAX_LINE_BYTES),
            "1,".repeat(MAX_LINE_BYTES),
            "{".repeat(400)
        );
        let mixed = format!(
            "}}\n{}\n'{{' \"(\\\n\" 1'000 /* ( */ // [\n{}",
            "{[(".repeat(200),
            "}])".repeat(200)
        );
        for src in [deep, long, mixed, "é(((".repeat(50_000)] {
            let (mut a, mut b) = (src.clone(), src.clone());
            let ma = mask_hostile_skipping(&mut a, true);
            let mb = mask_hostile_skipping(&mut b, false);
            assert_eq!(ma, mb);
            assert!(a == b, "masks differ");
        }
    }

    #[test]
    fn short_shallow_text_is_left_alone() {
        let src = "int f(void) { return g((1), [2]); } // ((((\n";
        let mut t = src.to_owned();
        assert_eq!(mask_hostile(&mut t), Masked::default());
        assert_eq!(t, src);
    }

    #[test]
    fn long_lines_keep_brackets_and_semicolons() {
        let src = format!("int x[] = {{{}1}};\nint y;\n", "1,".repeat(MAX_LINE_BYTES));
        let mut t = src.clone();
        let m = mask_hostile(&mut t);
        assert_eq!(m.long_line, Some(1));
        assert_eq!(t.len(), src.len());
        assert!(t.ends_with("};\nint y;\n"), "{}", &t[t.len() - 20..]);
        assert!(t.starts_with("int x[] = {1,1,"));
        assert!(!t[MAX_LINE_BYTES + 1..].contains('1'));
    }

    #[test]
    fn a_string_crossing_the_line_budget_is_kept_whole() {
        let src = format!(
            "char *s = \"{}\"; int a = (1);\n",
            "é".repeat(MAX_LINE_BYTES)
        );
        let mut t = src.clone();
        mask_hostile(&mut t);
        assert_eq!(t.len(), src.len());
        assert!(t.contains(&format!("{}\";", "é".repeat(MAX_LINE_BYTES))));
        assert!(
            t.ends_with(&format!("\";{}( );\n", " ".repeat(9))),
            "{}",
            &t[t.len() - 20..]
        );
    }

    #[test]
    fn deep_brackets_are_blanked_with_their_contents() {
        let n = MAX_BRACKET_DEPTH + 10;
        let src = format!(
            "int x = {}1{}; /* ) */ int y;\n",
            "(".repeat(n),
            ")".repeat(n)
        );
        let mut t = src.clone();
        let m = mask_hostile(&mut t);
        assert_eq!(m.deep_nesting, Some(1));
        let expected = format!(
            "int x = {}{}{}; /* ) */ int y;\n",
            "(".repeat(MAX_BRACKET_DEPTH),
            " ".repeat(2 * (n - MAX_BRACKET_DEPTH) + 1),
            ")".repeat(MAX_BRACKET_DEPTH)
        );
        assert_eq!(t, expected);
    }

    #[test]
    fn brackets_in_comments_and_literals_do_not_nest() {
        let src = format!(
            "/* {} */ char *s = \"{}\"; char c = '{{'; int n = 1'000;\n",
            "(".repeat(1000),
            "[".repeat(1000)
        );
        let mut t = src.clone();
        assert_eq!(mask_hostile(&mut t), Masked::default());
        assert_eq!(t, src);
    }

    #[test]
    fn brackets_left_open_stop_counting_at_a_closing_brace_on_column_one() {
        // Each function leaves a brace open (as an `#if` branch with an extra `{`
        // would); the `}` closing it on column one ends the count.
        let src = "void f(void) {\n#ifdef A\n  if (a) {\n#endif\n  g();\n}\n".repeat(400);
        let mut t = src.clone();
        assert_eq!(mask_hostile(&mut t), Masked::default());
        assert_eq!(t, src);
    }

    fn c_parser() -> Parser {
        new_parser(tree_sitter_c::LANGUAGE.into()).unwrap()
    }

    #[test]
    fn ordinary_text_parses_within_budget() {
        let src = "int f(int a) { return a + 1; }\n".repeat(1000);
        let parsed = parse(&mut c_parser(), src.clone()).unwrap();
        assert_eq!(parsed.cut, None);
        assert_eq!(parsed.text, src);
        assert!(!parsed.tree.root_node().has_error());
    }

    #[test]
    fn a_cancelled_parse_leaves_the_parser_reusable() {
        let mut p = c_parser();
        assert!(parse_within(
            &mut p,
            "int a;\n".repeat(10_000).as_bytes(),
            1,
            Duration::MAX
        )
        .is_err());
        let t = parse_within(&mut p, b"int b;\n", u64::MAX, Duration::MAX).unwrap();
        assert_eq!(t.root_node().end_byte(), 7);
    }
}
