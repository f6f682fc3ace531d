//! The text tree-sitter parses: directives and dead or duplicate branches
//! blanked, macros the grammar cannot know terminated or blanked.

use super::condition::PExpr;
use super::map::{ConditionMap, MAX_CONDITION_DEPTH, MAX_GROUP_BRANCHES};
use crate::capi;
use crate::source::lex::{Directive, DirectiveKind};
use crate::source::words::WordIndex;

/// The text tree-sitter parses: directive lines blanked (so `#ifdef` inside an
/// initializer list does not break it), `#if 0` branches blanked, and for groups
/// whose branches each open (or close) the same number of braces — alternative
/// function headers, typically — only the first branch kept. Offsets and line
/// numbers stay those of the original file.
pub fn mask_for_parsing(text: &str, directives: &[Directive], map: &ConditionMap) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let blank = |bytes: &mut Vec<u8>, s: usize, e: usize| {
        for b in &mut bytes[s.min(text.len())..e.min(text.len())] {
            if *b != b'\n' && *b != b'\r' {
                *b = b' ';
            }
        }
    };
    for d in directives {
        blank(&mut bytes, d.start, d.end);
    }
    for g in &map.groups {
        let first_is_zero = matches!(g.exprs.first(), Some(Some(e)) if **e == PExpr::Int(0));
        if first_is_zero && !g.branches.is_empty() {
            let (s, e) = g.branches[0];
            blank(&mut bytes, s, e);
            continue;
        }
        // Counting braces reads every branch; past the budgets (where branches nest
        // or repeat without bound) the groups are left as they are.
        if g.branches.len() >= 2
            && g.depth < MAX_CONDITION_DEPTH
            && g.branches.len() <= MAX_GROUP_BRANCHES
        {
            let deltas: Vec<i64> = g
                .branches
                .iter()
                .map(|&(s, e)| brace_delta(&text[s.min(e)..e]))
                .collect();
            if deltas[0] != 0 && deltas.iter().all(|d| *d == deltas[0]) {
                for &(s, e) in &g.branches[1..] {
                    blank(&mut bytes, s, e);
                }
            }
        }
    }
    // Every macro name these look for, from one pass over the text: the fixed
    // lists and every name the file `#define`s (the local macros are among them).
    let defined = directives
        .iter()
        .filter(|d| d.kind == DirectiveKind::Define)
        .map(|d| &d.arg[..d.arg.bytes().take_while(|c| is_id(*c)).count()]);
    let words = WordIndex::of_words(
        text,
        terminated_macros()
            .map(|(w, _)| w)
            .chain(ANNOTATION_MACROS)
            .chain(TYPE_WRAPPER_MACROS)
            .chain(["PyMODINIT_FUNC"])
            .chain(defined),
    );
    terminate_statement_macros(text, &words, &mut bytes);
    apply_local_block_macros(text, &words, directives, &mut bytes);
    blank_empty_function_macros(text, &words, directives, &mut bytes);
    // Blanking only replaced ASCII bytes inside directive lines or whole branches
    // of valid UTF-8 text with spaces; fall back to the original on any surprise.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned())
}

/// Macros used as statements without a semicolon (`Py_BEGIN_ALLOW_THREADS`,
/// `PyObject_HEAD`), or as list elements without a comma (`PyVarObject_HEAD_INIT(..)`
/// expands to `{...},`), make tree-sitter swallow what follows. Where the next line
/// is indented (or a space follows on the same line), put the missing `;` or `,` in
/// place of that blank: offsets and line numbers stay the same.
///
/// These are the syntax-only macros; the region macros (critical sections, thread
/// state) come from the C-API catalogue, see [`terminated_macros`].
const TERMINATED_MACROS: [(&str, u8); 11] = [
    ("_Py_BEGIN_SUPPRESS_IPH", b';'),
    ("_Py_END_SUPPRESS_IPH", b';'),
    ("Py_TRASHCAN_BEGIN", b';'),
    ("Py_TRASHCAN_END", b';'),
    ("_Py_COMP_DIAG_PUSH", b';'),
    ("_Py_COMP_DIAG_POP", b';'),
    ("_Py_COMP_DIAG_IGNORE_DEPR_DECLS", b';'),
    ("PyObject_HEAD", b';'),
    ("PyObject_VAR_HEAD", b';'),
    ("PyVarObject_HEAD_INIT", b','),
    ("PyObject_HEAD_INIT", b','),
];

/// Annotations between a declaration's type and its name (calling conventions,
/// inlining hints) that tree-sitter cannot know: blanked.
const ANNOTATION_MACROS: [&str; 11] = [
    "XMLCALL",
    "PTRCALL",
    "PTRFASTCALL",
    "FASTCALL",
    "ALWAYS_INLINE",
    "Py_ALWAYS_INLINE",
    "Py_NO_INLINE",
    "_Py_NO_RETURN",
    "_Py_NO_SANITIZE_THREAD",
    "_Py_NO_SANITIZE_MEMORY",
    "_Py_NO_SANITIZE_ADDRESS",
];

/// Macros that wrap a type (`Py_LOCAL_INLINE(int) f(void)`): the name and the
/// parentheses are blanked, the type inside is kept.
const TYPE_WRAPPER_MACROS: [&str; 5] = [
    "Py_LOCAL_INLINE",
    "Py_LOCAL",
    "PyAPI_FUNC",
    "PyAPI_DATA",
    "PyMODINIT_FUNC_TYPE",
];

fn is_id(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Index just past a balanced `( ... )` starting at `j` (which must be `(`), on one line.
fn skip_parens(b: &[u8], mut j: usize) -> Option<usize> {
    let mut depth = 0;
    while j < b.len() {
        match b[j] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            b'\n' if depth > 1 => {}
            _ => {}
        }
        j += 1;
    }
    None
}

/// Every macro written as a statement or list element without its terminator.
fn terminated_macros() -> impl Iterator<Item = (&'static str, u8)> {
    capi::statement_macros()
        .map(|m| (m, b';'))
        .chain(TERMINATED_MACROS)
}

fn terminate_statement_macros(text: &str, words: &WordIndex, bytes: &mut [u8]) {
    let b = text.as_bytes();
    for (word, terminator) in terminated_macros() {
        for i in words.positions(text, word) {
            let mut j = i + word.len();
            if b.get(j) == Some(&b'(') {
                match skip_parens(b, j) {
                    Some(k) => j = k,
                    None => continue,
                }
            }
            // A blank on the same line, before more code: use it.
            if matches!(b.get(j), Some(b' ' | b'\t')) {
                let mut k = j;
                while k < b.len() && (b[k] == b' ' || b[k] == b'\t') {
                    k += 1;
                }
                if k < b.len() && !matches!(b[k], b'\n' | b'\r' | b';' | b',' | b'/') {
                    bytes[j] = terminator;
                    continue;
                }
            }
            loop {
                while j < b.len() && (b[j] == b' ' || b[j] == b'\t' || b[j] == b'\r') {
                    j += 1;
                }
                if b[j..].starts_with(b"//") {
                    while j < b.len() && b[j] != b'\n' {
                        j += 1;
                    }
                } else if b[j..].starts_with(b"/*") {
                    match text[j + 2..].find("*/") {
                        Some(k) if !text[j..j + 2 + k].contains('\n') => j += k + 4,
                        _ => break,
                    }
                } else {
                    break;
                }
            }
            if b.get(j) != Some(&b'\n') {
                continue; // already terminated, or more code on the line
            }
            // The first indentation byte of the next non-empty line (blanked
            // directive lines count as indentation too).
            let mut k = j + 1;
            while matches!(bytes.get(k), Some(b'\n' | b'\r')) {
                k += 1;
            }
            if matches!(bytes.get(k), Some(b' ' | b'\t')) {
                bytes[k] = terminator;
            }
        }
    }
    for word in ANNOTATION_MACROS {
        for i in words.positions(text, word) {
            bytes[i..i + word.len()].fill(b' ');
        }
    }
    // `VISIBILITY PyMODINIT_FUNC PyInit_x(void)`: a macro before PyMODINIT_FUNC is
    // one type too many for the parser; blank it.
    for i in words.positions(text, "PyMODINIT_FUNC") {
        let line_start = text[..i].rfind('\n').map(|n| n + 1).unwrap_or(0);
        let before = text[line_start..i].trim_end();
        // Byte-wise: the identifier bytes are ASCII, so the byte after the last
        // non-identifier byte is always a character boundary (a non-ASCII letter
        // before the macro, `/* é */ PyMODINIT_FUNC`, once sliced a character).
        let word_start = before
            .bytes()
            .rposition(|c| !is_id(c))
            .map(|n| n + 1)
            .unwrap_or(0);
        let word = &before[word_start..];
        let is_macro_like = !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if is_macro_like && word != "PyMODINIT_FUNC" {
            let at = line_start + word_start;
            bytes[at..at + word.len()].fill(b' ');
        }
    }
    for word in TYPE_WRAPPER_MACROS {
        for i in words.positions(text, word) {
            let j = i + word.len();
            if b.get(j) != Some(&b'(') {
                continue;
            }
            let Some(end) = skip_parens(b, j) else {
                continue;
            };
            bytes[i..=j].fill(b' ');
            bytes[end - 1] = b' ';
        }
    }
}

/// Object-like macros the file defines itself and uses as statements, such as
/// `_tkinter.c`'s `ENTER_TCL` (opens a block) and `LEAVE_TCL` (closes it). A use
/// alone on its line becomes `{` or `}` (padded with blanks to the same length)
/// when the body opens or closes braces, or gets a `;` when the body is balanced
/// but not terminated. Offsets stay the same; the macro name is lost only where
/// it stood for a brace.
fn apply_local_block_macros(
    text: &str,
    words: &WordIndex,
    directives: &[Directive],
    bytes: &mut [u8],
) {
    let b = text.as_bytes();
    for d in directives
        .iter()
        .filter(|d| d.kind == DirectiveKind::Define)
    {
        let name_len = d.arg.bytes().take_while(|c| is_id(*c)).count();
        let (name, body) = d.arg.split_at(name_len);
        if name.is_empty() || body.starts_with('(') {
            continue; // function-like
        }
        let body = body.trim();
        let delta = brace_delta(body);
        // A statement does something (a call, an assignment); a body of bare words
        // (`#define PyMODINIT_FUNC void`) is a type on the line before a declarator.
        let needs_semicolon =
            delta == 0 && !body.is_empty() && !body.ends_with(';') && body.contains(['(', '=']);
        if delta == 0 && !needs_semicolon || delta.unsigned_abs() as usize > name.len() {
            continue;
        }
        for i in words.positions(text, name) {
            let line_start = text[..i].rfind('\n').map(|n| n + 1).unwrap_or(0);
            let line_end = text[i..].find('\n').map(|n| i + n).unwrap_or(text.len());
            let after = text[i + name.len()..line_end].trim();
            let alone = text[line_start..i].trim().is_empty()
                && (after.is_empty() || after.starts_with("/*") || after.starts_with("//"));
            if !alone || bytes[i] != b[i] {
                continue; // not a statement use, or inside a blanked region
            }
            if delta == 0 {
                // A whole statement: its last letter becomes the `;` it lacks.
                if name.len() >= 2 {
                    bytes[i + name.len() - 1] = b';';
                }
                continue;
            }
            let brace = if delta > 0 { b'{' } else { b'}' };
            let n = delta.unsigned_abs() as usize;
            bytes[i..i + name.len()].fill(b' ');
            bytes[i..i + n].fill(brace);
        }
    }
}

/// Function-like macros the file defines with an empty body (`#define debug(...)`),
/// and only so: a use expands to nothing, so its arguments are no code. Each use
/// `name(...)` is blanked (newlines kept), so no rule reads calls inside it.
fn blank_empty_function_macros(
    text: &str,
    words: &WordIndex,
    directives: &[Directive],
    bytes: &mut [u8],
) {
    let mut empty: Vec<&str> = Vec::new();
    let mut other: Vec<&str> = Vec::new();
    for d in directives
        .iter()
        .filter(|d| d.kind == DirectiveKind::Define)
    {
        let name_len = d.arg.bytes().take_while(|c| is_id(*c)).count();
        let (name, rest) = d.arg.split_at(name_len);
        if name.is_empty() {
            continue;
        }
        let is_empty_fn = rest
            .strip_prefix('(')
            .and_then(|r| r.find(')').map(|c| r[c + 1..].trim().is_empty()))
            .unwrap_or(false);
        if is_empty_fn {
            empty.push(name);
        } else {
            other.push(name);
        }
    }
    empty.sort_unstable();
    empty.dedup();
    let b = text.as_bytes();
    for name in empty.into_iter().filter(|n| !other.contains(n)) {
        for i in words.positions(text, name) {
            let mut j = i + name.len();
            while matches!(b.get(j), Some(b' ' | b'\t')) {
                j += 1;
            }
            if b.get(j) != Some(&b'(') || bytes[i] != b[i] {
                continue; // not a use, or inside a blanked region (its own #define)
            }
            let Some(end) = skip_parens(b, j) else {
                continue;
            };
            for x in &mut bytes[i..end] {
                if *x != b'\n' && *x != b'\r' {
                    *x = b' ';
                }
            }
        }
    }
}

fn brace_delta(s: &str) -> i64 {
    let l = crate::source::lex::lex(s);
    let mut in_comment = l.comments.iter().peekable();
    let mut delta = 0i64;
    let mut skip_until = 0;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if let Some(c) = in_comment.peek() {
            if i >= c.start {
                skip_until = c.end;
                in_comment.next();
            }
        }
        if i < skip_until {
            i += 1;
            continue;
        }
        match b[i] {
            b'{' => delta += 1,
            b'}' => delta -= 1,
            b'"' | b'\'' => {
                let q = b[i];
                i += 1;
                while i < b.len() && b[i] != q && b[i] != b'\n' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    delta
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::lex::lex;

    #[test]
    fn masking_terminates_statement_and_list_macros() {
        let src = "static PyTypeObject T = {\n    PyVarObject_HEAD_INIT(NULL, 0)\n    \"m.T\",\n};\nvoid f(void) {\n    Py_BEGIN_ALLOW_THREADS\n\n    g();\n    Py_END_ALLOW_THREADS\n}\nstatic int XMLCALL h(void) { return 0; }\nPy_LOCAL_INLINE(int) k(void) { return 1; }\n";
        let l = lex(src);
        let m = ConditionMap::build(&l.directives, src.len());
        let masked = mask_for_parsing(src, &l.directives, &m);
        assert_eq!(masked.len(), src.len());
        assert!(
            masked.contains("PyVarObject_HEAD_INIT(NULL, 0)\n,   \"m.T\""),
            "{masked}"
        );
        assert!(
            masked.contains("Py_BEGIN_ALLOW_THREADS\n\n;   g();"),
            "{masked}"
        );
        assert!(masked.contains("static int         h(void)"), "{masked}");
        assert!(masked.contains("                int  k(void)"), "{masked}");
    }

    #[test]
    fn masking_follows_the_files_own_block_macros() {
        let src = "#define ENTER { int t = 1; \\\n  g(t);\n#define LEAVE h(); }\n#define STEP k()\nvoid f(void) {\n    ENTER\n    x();\n    LEAVE\n    STEP\n    y();\n}\n";
        let l = lex(src);
        let m = ConditionMap::build(&l.directives, src.len());
        let masked = mask_for_parsing(src, &l.directives, &m);
        assert_eq!(masked.len(), src.len());
        assert!(
            masked.contains("    {    \n    x();\n    }    \n    STE;\n    y();"),
            "{masked}"
        );
    }

    #[test]
    fn empty_function_like_macros_hide_their_arguments() {
        let src = "#define debug(...)\n#define trace(x) log(x)\nvoid f(void) {\n    debug(\"%s\", strerror(errno),\n          g());\n    trace(h());\n}\n";
        let l = lex(src);
        let m = ConditionMap::build(&l.directives, src.len());
        let masked = mask_for_parsing(src, &l.directives, &m);
        assert_eq!(masked.len(), src.len());
        assert!(!masked.contains("strerror"), "{masked}");
        assert!(!masked.contains("g()"), "{masked}");
        assert!(masked.contains("trace(h());"), "{masked}");
    }

    #[test]
    fn a_type_macro_alone_on_its_line_is_not_a_statement() {
        let src = "#define PyMODINIT_FUNC void\nPyMODINIT_FUNC\nPyInit_x(void)\n{\n}\n";
        let l = lex(src);
        let m = ConditionMap::build(&l.directives, src.len());
        let masked = mask_for_parsing(src, &l.directives, &m);
        assert!(masked.contains("PyMODINIT_FUNC\nPyInit_x"), "{masked}");
    }

    #[test]
    fn masking_keeps_offsets() {
        let src = "#ifdef X\nint f(int a) {\n#else\nint f(long a) {\n#endif\n  return 0;\n}\n";
        let l = lex(src);
        let m = ConditionMap::build(&l.directives, src.len());
        let masked = mask_for_parsing(src, &l.directives, &m);
        assert_eq!(masked.len(), src.len());
        assert!(masked.contains("int f(int a) {"));
        assert!(!masked.contains("long"));
    }
}
