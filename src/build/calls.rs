//! `meson.build` and CMake files, read with a small tokenizer that finds function
//! calls (`name(args)`) and their argument tokens.
//!
//! What it understands: comments (`#`, CMake `#[[ ]]`), strings (meson `'...'` and
//! `'''...'''`, CMake `"..."` and `[[...]]`), identifiers, brackets, meson keyword
//! arguments (`limited_api: '3.9'`), and whether a CMake command sits inside an
//! `if()` block. What it does not: variables are never expanded (`${FLAGS}`,
//! meson variables holding lists), `foreach` bodies are not unrolled, functions and
//! macros defined by the project are not followed, and meson `if` blocks are not
//! tracked (a value in one branch counts as set). Rules treat a value that comes from
//! a variable as unknown and stay quiet about it.

use super::{Fact, SyntaxError, What};

/// One token inside a call's parentheses.
#[derive(Debug, Clone)]
pub struct Arg {
    /// String contents (unquoted) or the raw identifier/word.
    pub text: String,
    pub quoted: bool,
    pub range: (usize, usize),
    /// The meson keyword this token is the value of, if any.
    pub kw: Option<String>,
}

/// A call and every token between its parentheses (nested calls' tokens included).
#[derive(Debug, Clone)]
pub struct Call {
    pub name: String,
    pub name_range: (usize, usize),
    pub args: Vec<Arg>,
    /// CMake: inside an `if()` block. Meson: always `false`.
    pub in_if: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
    OpenList,
    CloseList,
    Comma,
    Colon,
    Other,
}

fn is_id_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

type Tokens = Vec<(Tok, (usize, usize))>;

fn tokenize(text: &str, cmake: bool) -> (Tokens, SyntaxError) {
    let b = text.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let mut err = None;
    let mut unclosed = Vec::new();
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c == b'#' {
            if cmake && text[i..].starts_with("#[") {
                if let Some((end, _)) = bracket_end(text, i + 1, &mut unclosed) {
                    i = end;
                    continue;
                }
            }
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if !cmake && (c == b'\'' || ((c == b'f') && b.get(i + 1) == Some(&b'\''))) {
            let q = if c == b'f' { i + 1 } else { i };
            if text[q..].starts_with("'''") {
                match text[q + 3..].find("'''") {
                    Some(e) => {
                        out.push((
                            Tok::Str(text[q + 3..q + 3 + e].to_owned()),
                            (start, q + 6 + e),
                        ));
                        i = q + 6 + e;
                    }
                    None => {
                        err.get_or_insert((start, "unterminated ''' string".to_owned()));
                        i = b.len();
                    }
                }
                continue;
            }
            let mut j = q + 1;
            while j < b.len() && b[j] != b'\'' && b[j] != b'\n' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            if j >= b.len() || b[j] != b'\'' {
                err.get_or_insert((start, "unterminated string".to_owned()));
                i = j.min(b.len());
                continue;
            }
            out.push((Tok::Str(text[q + 1..j].to_owned()), (start, j + 1)));
            i = j + 1;
            continue;
        }
        if cmake && c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            if j >= b.len() {
                err.get_or_insert((start, "unterminated quoted argument".to_owned()));
                i = b.len();
                continue;
            }
            out.push((Tok::Str(text[i + 1..j].to_owned()), (start, j + 1)));
            i = j + 1;
            continue;
        }
        if cmake && c == b'[' {
            if let Some((end, inner)) = bracket_end(text, i, &mut unclosed) {
                out.push((Tok::Str(inner), (start, end)));
                i = end;
                continue;
            }
        }
        let tok = match c {
            b'(' => Some(Tok::Open),
            b')' => Some(Tok::Close),
            b'[' if !cmake => Some(Tok::OpenList),
            b']' if !cmake => Some(Tok::CloseList),
            b',' if !cmake => Some(Tok::Comma),
            b':' if !cmake => Some(Tok::Colon),
            _ => None,
        };
        if let Some(t) = tok {
            out.push((t, (i, i + 1)));
            i += 1;
            continue;
        }
        if cmake {
            // An unquoted argument: up to whitespace, a paren, a quote or a comment.
            let mut j = i;
            while j < b.len()
                && !b[j].is_ascii_whitespace()
                && !matches!(b[j], b'(' | b')' | b'"' | b'#')
            {
                j += 1;
            }
            out.push((Tok::Word(text[i..j].to_owned()), (i, j)));
            i = j;
            continue;
        }
        if is_id_start(c) {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            out.push((Tok::Word(text[i..j].to_owned()), (i, j)));
            i = j;
            continue;
        }
        out.push((Tok::Other, (i, i + 1)));
        i += 1;
    }
    (out, err)
}

/// `[[...]]` / `[=[...]=]` starting at `i` (the first `[`): end offset and contents.
/// `unclosed` lists the `=` counts whose closing bracket is nowhere after an
/// earlier opening one: not searching for them again keeps a file of unclosed
/// brackets linear.
fn bracket_end(text: &str, i: usize, unclosed: &mut Vec<usize>) -> Option<(usize, String)> {
    let rest = &text[i..];
    let eq = rest[1..].chars().take_while(|c| *c == '=').count();
    if rest.as_bytes().get(1 + eq) != Some(&b'[') || unclosed.contains(&eq) {
        return None;
    }
    let close = format!("]{}]", "=".repeat(eq));
    let body_start = i + 2 + eq;
    let Some(end) = text[body_start..].find(&close) else {
        unclosed.push(eq);
        return None;
    };
    Some((
        body_start + end + close.len(),
        text[body_start..body_start + end].to_owned(),
    ))
}

/// How many enclosing calls a token is an argument of: in `f(g(h(x)))`, `x` is an
/// argument of `h`, `g` and `f`. Handing every token to every enclosing call costs
/// the square of the nesting (tens of thousands of nested calls in a fuzzed file
/// took a gigabyte); past this many, only the innermost calls get it. Build files
/// nest calls a few levels deep.
pub const MAX_CALL_NESTING: usize = 32;

/// A call whose closing parenthesis has not been reached yet.
struct OpenCall {
    /// Index in the output.
    call: usize,
    /// Brackets open just inside its parenthesis (the parenthesis included).
    level: usize,
    /// The meson keyword the current argument belongs to.
    kw: Option<String>,
}

/// Finds every call in the text, in one pass over the tokens.
pub fn calls(text: &str, cmake: bool) -> (Vec<Call>, SyntaxError) {
    let (toks, err) = tokenize(text, cmake);
    let mut out: Vec<Call> = Vec::new();
    let mut unbalanced: SyntaxError = None;
    let mut if_depth = 0usize;
    // Open brackets, each marked with whether it is a call's parenthesis.
    let mut brackets: Vec<bool> = Vec::new();
    let mut open: Vec<OpenCall> = Vec::new();
    // A call name was just read: the next token is its parenthesis.
    let mut named = false;
    for (k, (t, r)) in toks.iter().enumerate() {
        let next_is = |tok: &Tok| toks.get(k + 1).map(|x| &x.0) == Some(tok);
        match t {
            Tok::Open | Tok::OpenList => {
                brackets.push(named);
                if named {
                    open.push(OpenCall {
                        call: out.len() - 1,
                        level: brackets.len(),
                        kw: None,
                    });
                }
            }
            Tok::Close | Tok::CloseList => match brackets.pop() {
                Some(true) => {
                    open.pop();
                }
                Some(false) => {}
                None => {
                    unbalanced.get_or_insert((r.0, "unbalanced closing bracket".to_owned()));
                }
            },
            Tok::Comma => {
                for oc in open.iter_mut().rev().take(MAX_CALL_NESTING) {
                    if brackets.len() == oc.level {
                        oc.kw = None;
                    }
                }
            }
            _ => {}
        }
        let arg = match t {
            Tok::Word(w) => Some((w, false)),
            Tok::Str(s) => Some((s, true)),
            _ => None,
        };
        if let Some((text, quoted)) = arg {
            for oc in open.iter_mut().rev().take(MAX_CALL_NESTING) {
                if !quoted && !cmake && brackets.len() == oc.level && next_is(&Tok::Colon) {
                    oc.kw = Some(text.clone());
                    continue;
                }
                out[oc.call].args.push(Arg {
                    text: text.clone(),
                    quoted,
                    range: *r,
                    kw: oc.kw.clone(),
                });
            }
        }
        named = false;
        let Tok::Word(name) = t else { continue };
        if !next_is(&Tok::Open) {
            continue;
        }
        let lname = name.to_ascii_lowercase();
        let top_level = brackets.is_empty();
        if cmake && top_level && lname == "endif" {
            if_depth = if_depth.saturating_sub(1);
        }
        let in_if = cmake && if_depth > 0;
        if cmake && top_level && lname == "if" {
            if_depth += 1;
        }
        out.push(Call {
            name: name.clone(),
            name_range: *r,
            args: Vec::new(),
            in_if,
        });
        named = true;
    }
    // The first problem in the text: an unbalanced bracket, or the outermost call
    // left open.
    let unclosed = open.first().map(|oc| {
        let c = &out[oc.call];
        (c.name_range.0, format!("`{}(` is never closed", c.name))
    });
    let first = match (unbalanced, unclosed) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    };
    let mut err = err.or(first);
    if !brackets.is_empty() && err.is_none() {
        err = Some((text.len(), "unclosed bracket at end of file".to_owned()));
    }
    (out, err)
}

fn cython_directive(args: &[Arg]) -> Option<(usize, usize)> {
    for (i, a) in args.iter().enumerate() {
        let t = a.text.replace(' ', "");
        if t == "-Xfreethreading_compatible=True"
            || t == "--directive=freethreading_compatible=True"
        {
            return Some(a.range);
        }
        if (t == "-X" || t == "--directive")
            && args
                .get(i + 1)
                .is_some_and(|n| n.text == "freethreading_compatible=True")
        {
            return Some(a.range);
        }
    }
    None
}

fn tool_invocation(call: &Call, facts: &mut Vec<Fact>) {
    let has = |s: &str| call.args.iter().any(|a| a.text == s);
    if let Some(a) = call
        .args
        .iter()
        .find(|a| a.text == "numpy.f2py" || a.text.ends_with("f2py"))
    {
        let name = call
            .args
            .first()
            .map(|a| a.text.clone())
            .unwrap_or_default();
        facts.push(Fact {
            what: What::F2pyInvocation {
                name,
                declared: has("--freethreading-compatible"),
            },
            range: a.range,
        });
    }
    if let Some(a) = call.args.iter().find(|a| {
        a.text == "swig"
            || a.text.ends_with("/swig")
            || a.text == "SWIG_EXECUTABLE"
            || a.text == "${SWIG_EXECUTABLE}"
    }) {
        facts.push(Fact {
            what: What::SwigInvocation {
                nogil: has("-nogil"),
            },
            range: a.range,
        });
    }
}

/// Reads `meson.build`.
pub fn read_meson(calls: &[Call], facts: &mut Vec<Fact>) {
    for call in calls {
        match call.name.as_str() {
            "extension_module" => {
                facts.push(Fact {
                    what: What::ExtensionBuild {
                        backend: "meson",
                        custom_cmake: false,
                    },
                    range: call.name_range,
                });
                // Only a literal value counts: `limited_api: x ? '3.10' : ''` is conditional.
                let value: Vec<&Arg> = call
                    .args
                    .iter()
                    .filter(|a| a.kw.as_deref() == Some("limited_api"))
                    .collect();
                if let [a] = value
                    .as_slice()
                    .iter()
                    .filter(|a| a.quoted && !a.text.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .as_slice()
                {
                    if value.len() == 1 {
                        facts.push(Fact {
                        what: What::LimitedApi {
                            how: format!("meson extension_module(..., limited_api: '{}')", a.text),
                            fix: "pass limited_api only when the interpreter is not free-threaded, e.g. behind a `get_option('limited_api')` switch turned off for 3.13t/3.14t".into(),
                            ignored_on_ft: false,
                        },
                        range: a.range,
                    });
                    }
                }
                if let Some(r) = cython_directive(&call.args) {
                    facts.push(Fact {
                        what: What::CythonDirectiveProject,
                        range: r,
                    });
                }
            }
            "custom_target" | "generator" | "run_command" => tool_invocation(call, facts),
            _ => {
                if let Some(r) = cython_directive(&call.args) {
                    facts.push(Fact {
                        what: What::CythonDirectiveProject,
                        range: r,
                    });
                }
            }
        }
        for a in &call.args {
            if a.text.contains("Py_GIL_DISABLED")
                && (a.text.starts_with("-D") || a.text.starts_with("/D"))
            {
                facts.push(Fact {
                    what: What::DefinesGilDisabled,
                    range: a.range,
                });
            }
        }
    }
}

/// Reads `CMakeLists.txt` and `*.cmake`.
pub fn read_cmake(text: &str, calls: &[Call], facts: &mut Vec<Fact>) {
    let mentions_python = text.contains("Python");
    for call in calls {
        let lname = call.name.to_ascii_lowercase();
        let has = |s: &str| call.args.iter().any(|a| a.text == s);
        match lname.as_str() {
            "python_add_library" | "python3_add_library" => {
                facts.push(Fact {
                    what: What::ExtensionBuild {
                        backend: "CMake",
                        custom_cmake: true,
                    },
                    range: call.name_range,
                });
                if let Some(a) = call
                    .args
                    .iter()
                    .find(|a| a.text == "USE_SABI")
                    .filter(|_| !call.in_if)
                {
                    facts.push(Fact {
                        what: What::LimitedApi {
                            how: format!("{}(... USE_SABI ...)", call.name),
                            fix: "pass USE_SABI only when building for a GIL interpreter (with scikit-build-core: `if(NOT \"${SKBUILD_SABI_COMPONENT}\" STREQUAL \"\")`)".into(),
                            ignored_on_ft: false,
                        },
                        range: a.range,
                    });
                }
            }
            "add_library" if has("MODULE") && mentions_python => {
                facts.push(Fact {
                    what: What::ExtensionBuild {
                        backend: "CMake",
                        custom_cmake: true,
                    },
                    range: call.name_range,
                });
            }
            "pybind11_add_module" => {
                facts.push(Fact {
                    what: What::ExtensionBuild {
                        backend: "CMake",
                        custom_cmake: false,
                    },
                    range: call.name_range,
                });
            }
            "nanobind_add_module" => {
                let target = call
                    .args
                    .first()
                    .map(|a| a.text.clone())
                    .unwrap_or_default();
                facts.push(Fact {
                    what: What::NanobindAddModule {
                        target,
                        free_threaded: has("FREE_THREADED"),
                    },
                    range: call.name_range,
                });
            }
            "swig_add_library" | "swig_add_module" => {
                let nogil = calls
                    .iter()
                    .any(|c| c.args.iter().any(|a| a.text == "-nogil"));
                facts.push(Fact {
                    what: What::SwigInvocation { nogil },
                    range: call.name_range,
                });
            }
            "add_custom_command" | "add_custom_target" | "execute_process" => {
                tool_invocation(call, facts)
            }
            _ => {}
        }
        let defines = matches!(
            lname.as_str(),
            "add_compile_definitions"
                | "target_compile_definitions"
                | "add_definitions"
                | "target_compile_options"
                | "add_compile_options"
        );
        for a in &call.args {
            if a.text.contains("Py_GIL_DISABLED") && defines {
                facts.push(Fact {
                    what: What::DefinesGilDisabled,
                    range: a.range,
                });
            }
            if a.text.contains("Py_LIMITED_API") && defines && !call.in_if {
                facts.push(Fact {
                    what: What::LimitedApi {
                        how: format!("{}({})", call.name, a.text),
                        fix: "define Py_LIMITED_API only inside `if(NOT Py_GIL_DISABLED)` (query the interpreter's sysconfig)".into(),
                        ignored_on_ft: false,
                    },
                    range: a.range,
                });
            }
        }
        if let Some(r) = cython_directive(&call.args) {
            facts.push(Fact {
                what: What::CythonDirectiveProject,
                range: r,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meson_keywords_and_strings() {
        let (c, e) = calls(
            "py.extension_module('m', 'm.c', limited_api: '3.9', install: true) # c\n",
            false,
        );
        assert!(e.is_none());
        let m = c.iter().find(|c| c.name == "extension_module").unwrap();
        assert!(m
            .args
            .iter()
            .any(|a| a.kw.as_deref() == Some("limited_api") && a.text == "3.9"));
    }

    #[test]
    fn cmake_if_blocks_and_brackets() {
        let src = "if(X)\n python_add_library(m MODULE USE_SABI 3.9 m.c)\nendif()\npython_add_library(n MODULE [[a b]] n.c) #[[ c ]]\n";
        let (c, e) = calls(src, true);
        assert!(e.is_none());
        let adds: Vec<&Call> = c
            .iter()
            .filter(|c| c.name == "python_add_library")
            .collect();
        assert_eq!(adds.len(), 2);
        assert!(adds[0].in_if && !adds[1].in_if);
    }

    #[test]
    fn nested_tokens_belong_to_every_enclosing_call_with_their_keyword() {
        let (c, e) = calls(
            "py.extension_module('m', files('a.c'), c_args: ['-DX', f('y')], install: true)\n",
            false,
        );
        assert!(e.is_none());
        let m = c.iter().find(|c| c.name == "extension_module").unwrap();
        let got: Vec<(&str, Option<&str>)> = m
            .args
            .iter()
            .map(|a| (a.text.as_str(), a.kw.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("m", None),
                ("files", None),
                ("a.c", None),
                ("-DX", Some("c_args")),
                ("f", Some("c_args")),
                ("y", Some("c_args")),
                ("true", Some("install")),
            ]
        );
        let f = c.iter().find(|c| c.name == "f").unwrap();
        assert_eq!(f.args.len(), 1);
        assert_eq!(f.args[0].kw, None);
    }

    #[test]
    fn deeply_nested_calls_hand_tokens_to_the_innermost_only() {
        let n = MAX_CALL_NESTING + 8;
        let src = format!("{}'x'{}\n", "f(".repeat(n), ")".repeat(n));
        let (c, e) = calls(&src, false);
        assert!(e.is_none(), "{e:?}");
        assert_eq!(c.len(), n);
        let with_x = |call: &Call| call.args.iter().any(|a| a.text == "x");
        assert!(c[n - MAX_CALL_NESTING..].iter().all(with_x));
        assert!(!c[..n - MAX_CALL_NESTING].iter().any(with_x));
    }

    #[test]
    fn unclosed_calls_are_errors() {
        assert!(calls("project('x'\n", false).1.is_some());
        assert!(calls("add_library(x \"unterminated)\n", true).1.is_some());
        let (_, e) = calls("a(b(c)\n)) d(\n", false);
        assert_eq!(e.unwrap().1, "unbalanced closing bracket");
        let (_, e) = calls("a(b(c)\n d(\n", false);
        assert_eq!(e.unwrap(), (0, "`a(` is never closed".to_owned()));
    }
}
