//! A small C/C++ lexer that finds what tree-sitter does not model well for us:
//! comments (for suppressions and to keep `Py_mod_gil` in a comment from counting)
//! and preprocessor directive lines (for conditions and masking).

/// A comment, by byte range, including its delimiters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Comment {
    pub start: usize,
    pub end: usize,
}

/// The directives that shape conditions; everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DirectiveKind {
    If,
    Ifdef,
    Ifndef,
    Elif,
    Elifdef,
    Elifndef,
    Else,
    Endif,
    Define,
    Other,
}

/// One directive line (with its backslash continuations).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Directive {
    pub kind: DirectiveKind,
    /// Byte range of the whole directive, from `#` to the end of its last line
    /// (not including the final newline).
    pub start: usize,
    pub end: usize,
    /// The argument text with comments removed and continuations joined.
    pub arg: String,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Lexed {
    pub comments: Vec<Comment>,
    pub directives: Vec<Directive>,
}

/// Scans `text` once for comments and directive lines, skipping string and
/// character literals (including C++ raw strings, approximately).
pub fn lex(text: &str) -> Lexed {
    let b = text.as_bytes();
    let mut out = Lexed::default();
    let mut i = 0;
    let mut line_has_token = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line_has_token = false;
                i += 1;
            }
            b' ' | b'\t' | b'\r' | b'\x0c' | b'\x0b' => i += 1,
            b'\\' if b.get(i + 1) == Some(&b'\n') => i += 2,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let start = i;
                i = skip_line_comment(b, i);
                out.comments.push(Comment { start, end: i });
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let start = i;
                i = skip_block_comment(b, i);
                out.comments.push(Comment { start, end: i });
            }
            b'#' if !line_has_token => {
                let (directive, next) = read_directive(b, i, &mut out.comments);
                out.directives.push(directive);
                i = next;
                line_has_token = false;
            }
            b'"' | b'\'' => {
                line_has_token = true;
                i = skip_quoted(b, i);
            }
            b'R' if b.get(i + 1) == Some(&b'"') && (i == 0 || !is_ident(b[i - 1])) => {
                line_has_token = true;
                i = skip_raw_string(b, i + 1);
            }
            _ => {
                line_has_token = true;
                i += 1;
            }
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn skip_line_comment(b: &[u8], mut i: usize) -> usize {
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'\n') {
            i += 2;
            continue;
        }
        if b[i] == b'\n' {
            break;
        }
        i += 1;
    }
    i
}

fn skip_block_comment(b: &[u8], i: usize) -> usize {
    let mut j = i + 2;
    while j + 1 < b.len() {
        if b[j] == b'*' && b[j + 1] == b'/' {
            return j + 2;
        }
        j += 1;
    }
    b.len()
}

fn skip_quoted(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'\n' => return j, // unterminated literal: stop at the line end
            c if c == q => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

fn skip_raw_string(b: &[u8], quote: usize) -> usize {
    // R"delim( ... )delim"
    let mut j = quote + 1;
    let dstart = j;
    while j < b.len() && b[j] != b'(' && b[j] != b'\n' && j - dstart <= 16 {
        j += 1;
    }
    if j >= b.len() || b[j] != b'(' {
        return skip_quoted(b, quote);
    }
    let delim = &b[dstart..j];
    let mut k = j + 1;
    while k < b.len() {
        if b[k] == b')'
            && b[k + 1..].starts_with(delim)
            && b.get(k + 1 + delim.len()) == Some(&b'"')
        {
            return k + 2 + delim.len();
        }
        k += 1;
    }
    b.len()
}

fn read_directive(b: &[u8], start: usize, comments: &mut Vec<Comment>) -> (Directive, usize) {
    let mut i = start + 1;
    let mut text = Vec::new();
    while i < b.len() {
        match b[i] {
            b'\\' if b.get(i + 1) == Some(&b'\n') => {
                text.push(b' ');
                i += 2;
            }
            b'\\' if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') => {
                text.push(b' ');
                i += 3;
            }
            b'\n' => break,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let s = i;
                i = skip_line_comment(b, i);
                comments.push(Comment { start: s, end: i });
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let s = i;
                i = skip_block_comment(b, i);
                comments.push(Comment { start: s, end: i });
                text.push(b' ');
            }
            b'"' | b'\'' => {
                let s = i;
                i = skip_quoted(b, i);
                text.extend_from_slice(&b[s..i]);
            }
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    let mut end = i;
    if end > start && b.get(end - 1) == Some(&b'\r') {
        end -= 1;
    }
    let text = String::from_utf8_lossy(&text);
    let text = text.trim();
    let name_len = text.bytes().take_while(|c| c.is_ascii_alphabetic()).count();
    let (name, arg) = text.split_at(name_len);
    let kind = match name {
        "if" => DirectiveKind::If,
        "ifdef" => DirectiveKind::Ifdef,
        "ifndef" => DirectiveKind::Ifndef,
        "elif" => DirectiveKind::Elif,
        "elifdef" => DirectiveKind::Elifdef,
        "elifndef" => DirectiveKind::Elifndef,
        "else" => DirectiveKind::Else,
        "endif" => DirectiveKind::Endif,
        "define" => DirectiveKind::Define,
        _ => DirectiveKind::Other,
    };
    (
        Directive {
            kind,
            start,
            end,
            arg: arg.trim().to_owned(),
        },
        i,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_directives_and_comments() {
        let src = "#ifdef Py_mod_gil /* c */\nint x; // tail\n# if \\\n  A && B\n#endif\nchar *s = \"#if no\";\n";
        let l = lex(src);
        let kinds: Vec<_> = l.directives.iter().map(|d| d.kind).collect();
        assert_eq!(
            kinds,
            vec![
                DirectiveKind::Ifdef,
                DirectiveKind::If,
                DirectiveKind::Endif
            ]
        );
        assert_eq!(l.directives[0].arg, "Py_mod_gil");
        assert_eq!(l.directives[1].arg, "A && B");
        assert_eq!(l.comments.len(), 2);
    }

    #[test]
    fn hash_after_token_is_not_a_directive() {
        let l = lex("x = a # b;\n");
        assert!(l.directives.is_empty());
    }
}
