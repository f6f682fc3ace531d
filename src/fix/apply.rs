//! Applying fixes: non-overlapping edits per pass, re-check the edited text, repeat
//! until nothing changes; then write each changed file atomically (or print a diff).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::check::{self, CheckResult};
use crate::config::Settings;
use crate::diagnostic::{Applicability, Edit, Fix};

/// Passes before giving up on reaching a fixed point.
const MAX_PASSES: usize = 8;

/// What a fix run did.
#[derive(Debug, Default)]
pub struct FixOutcome {
    /// The check of the final (fixed) text.
    pub result: CheckResult,
    /// Fixes applied, over all passes.
    pub applied: usize,
    /// Original and new text of every changed file.
    pub changed: BTreeMap<PathBuf, (Arc<String>, String)>,
}

/// Which fixes to take.
pub fn allowed(fix: &Fix, unsafe_fixes: bool) -> bool {
    fix.applicability == Applicability::Safe || unsafe_fixes
}

/// Runs the check and its fixes to a fixed point, in memory.
pub fn fix_in_memory(roots: &[(PathBuf, Arc<Settings>)], unsafe_fixes: bool) -> FixOutcome {
    let mut overlay: HashMap<PathBuf, String> = HashMap::new();
    let mut originals: BTreeMap<PathBuf, Arc<String>> = BTreeMap::new();
    let mut applied = 0;
    let mut result = check::run(roots, &overlay);
    for _ in 0..MAX_PASSES {
        let mut by_file: BTreeMap<PathBuf, Vec<&Fix>> = BTreeMap::new();
        for d in &result.diagnostics {
            if let Some(f) = &d.fix {
                if allowed(f, unsafe_fixes)
                    && !result.lossy.contains(&d.path)
                    && result.sources.contains_key(&d.path)
                {
                    by_file.entry(d.path.clone()).or_default().push(f);
                }
            }
        }
        if by_file.is_empty() {
            break;
        }
        let mut progress = false;
        for (path, fixes) in by_file {
            let Some(current) = result.sources.get(&path) else {
                continue;
            };
            originals
                .entry(path.clone())
                .or_insert_with(|| current.clone());
            let (text, n) = apply_fixes(current, &fixes);
            if n > 0 && text != **current {
                applied += n;
                progress = true;
                overlay.insert(path, text);
            }
        }
        if !progress {
            break;
        }
        result = check::run(roots, &overlay);
    }
    let changed = overlay
        .into_iter()
        .filter_map(|(p, new)| {
            originals
                .get(&p)
                .filter(|o| ***o != new)
                .map(|o| (p, (o.clone(), new)))
        })
        .collect();
    FixOutcome {
        result,
        applied,
        changed,
    }
}

/// Applies the fixes whose edits do not overlap an earlier accepted fix. Returns the
/// new text and how many fixes were applied.
pub fn apply_fixes(text: &str, fixes: &[&Fix]) -> (String, usize) {
    let mut sorted: Vec<&Fix> = fixes.to_vec();
    sorted.sort_by_key(|f| f.edits.iter().map(|e| e.span.start).min().unwrap_or(0));
    let mut accepted: Vec<&Edit> = Vec::new();
    let mut count = 0;
    for fix in sorted {
        let overlaps = fix.edits.iter().any(|e| {
            accepted.iter().any(|a| {
                let (s1, e1, s2, e2) = (e.span.start, e.span.end, a.span.start, a.span.end);
                s1 < e2 && s2 < e1
                    || s1 == s2
                    || (s1 == e1 && s2 < s1 && s1 < e2)
                    || (s2 == e2 && s1 < s2 && s2 < e1)
            })
        });
        let in_bounds = fix
            .edits
            .iter()
            .all(|e| e.span.start <= e.span.end && e.span.end <= text.len());
        if overlaps || !in_bounds || fix.edits.is_empty() {
            continue;
        }
        accepted.extend(fix.edits.iter());
        count += 1;
    }
    accepted.sort_by_key(|e| std::cmp::Reverse((e.span.start, e.span.end)));
    let mut out = text.to_owned();
    for e in accepted {
        if out.is_char_boundary(e.span.start) && out.is_char_boundary(e.span.end) {
            out.replace_range(e.span.start..e.span.end, &e.content);
        }
    }
    (out, count)
}

/// Writes `new` over `path` atomically — a temporary file in the same folder,
/// then a rename — keeping the permissions, and only if the file still holds
/// `expected` (it was not changed by someone else since it was read).
pub fn write_atomically(path: &Path, expected: &str, new: &str) -> Result<(), String> {
    let current = std::fs::read(path).map_err(|e| format!("cannot re-read before writing: {e}"))?;
    if current != expected.as_bytes() {
        return Err("changed on disk since it was read; not written".into());
    }
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".ftaudit-")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a temporary file next to it: {e}"))?;
    tmp.write_all(new.as_bytes()).map_err(|e| e.to_string())?;
    tmp.as_file().sync_all().map_err(|e| e.to_string())?;
    std::fs::set_permissions(tmp.path(), meta.permissions()).map_err(|e| e.to_string())?;
    tmp.persist(path)
        .map_err(|e| format!("cannot replace the file: {}", e.error))?;
    Ok(())
}

/// A unified diff of one file's change.
pub fn unified_diff(path: &Path, old: &str, new: &str) -> String {
    let name = path.display().to_string();
    let name = name.strip_prefix("./").unwrap_or(&name);
    let (a, b) = if path.is_absolute() {
        (name.to_owned(), name.to_owned())
    } else {
        (format!("a/{name}"), format!("b/{name}"))
    };
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&a, &b)
        .to_string()
}
