//! Building text edits that respect the file: whole-line insertions with the
//! file's own line ending and the indentation of the line they sit next to.

use crate::diagnostic::Edit;
use crate::source::SourceFile;

/// The file's line terminator (`\r\n` when its first line ends so).
pub fn newline(file: &SourceFile) -> &'static str {
    match file.text.find('\n') {
        Some(i) if i > 0 && file.text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// Byte offset of the start of the line containing `offset`.
pub fn line_start(file: &SourceFile, offset: usize) -> usize {
    file.lines.line_start(file.lines.line_of(offset))
}

/// Byte offset just past the line terminator of the line containing `offset`.
pub fn next_line_start(file: &SourceFile, offset: usize) -> usize {
    let l = file.lines.line_of(offset);
    if l + 1 < file.lines.line_count() {
        file.lines.line_start(l + 1)
    } else {
        file.text.len()
    }
}

/// Leading whitespace of the line containing `offset`.
pub fn indentation(file: &SourceFile, offset: usize) -> &str {
    let s = line_start(file, offset);
    let rest = &file.text[s..];
    let n = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    &rest[..n]
}

/// Is the line containing `[start, end)` made only of that text and blanks?
pub fn owns_lines(file: &SourceFile, start: usize, end: usize) -> bool {
    let ls = line_start(file, start);
    let le = next_line_start(file, end.saturating_sub(1).max(start));
    let after = file.text[end..le].trim().trim_start_matches(',').trim();
    let after_is_comment =
        after.starts_with("//") || (after.starts_with("/*") && after.ends_with("*/"));
    file.text[ls..start].trim().is_empty() && (after.is_empty() || after_is_comment)
}

/// Inserts `lines` (without terminators) as whole lines before the line containing `offset`.
pub fn insert_lines_before(file: &SourceFile, offset: usize, lines: &[String]) -> Edit {
    let at = line_start(file, offset);
    let nl = newline(file);
    let content: String = lines.iter().map(|l| format!("{l}{nl}")).collect();
    Edit {
        span: file.span(at, at),
        content,
    }
}

/// Inserts `lines` as whole lines after the line containing `offset`.
pub fn insert_lines_after(file: &SourceFile, offset: usize, lines: &[String]) -> Edit {
    let at = next_line_start(file, offset);
    let nl = newline(file);
    let mut content: String = lines.iter().map(|l| format!("{l}{nl}")).collect();
    if at == file.text.len() && !file.text.ends_with('\n') {
        content = format!("{nl}{}", content.trim_end_matches(['\r', '\n']));
    }
    Edit {
        span: file.span(at, at),
        content,
    }
}

/// Deletes the whole lines spanned by `[start, end)`.
pub fn delete_lines(file: &SourceFile, start: usize, end: usize) -> Edit {
    let s = line_start(file, start);
    let e = next_line_start(file, end.saturating_sub(1).max(start));
    Edit {
        span: file.span(s, e),
        content: String::new(),
    }
}

/// Wraps the whole lines spanned by `[start, end)` between two directive lines.
pub fn wrap_in_directive(
    file: &SourceFile,
    start: usize,
    end: usize,
    open: &str,
    close: &str,
) -> Vec<Edit> {
    vec![
        insert_lines_before(file, start, &[open.to_owned()]),
        insert_lines_after(file, end.saturating_sub(1).max(start), &[close.to_owned()]),
    ]
}
