//! What a check run reports on: the code the project's extension modules compile
//! (see [`crate::build::scope`]), vendored trees apart, and only code a
//! free-threaded build compiles.
//!
//! The pipeline calls [`Scope::restrict`] once every file is analysed (before the
//! project checks, which then see only the files in scope) and [`Scope::finish`]
//! on the final findings.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::build::scope::{
    self, FunctionProblem, ParseProblem, Resolved, ScopeMode, ScopeSummary, SourceInfo,
};
use crate::build::BuildFile;
use crate::context::{ft_configs, ProjectFile};
use crate::diagnostic::Diagnostic;
use crate::settings::Settings;
use crate::source::index::macros::MacroTable;
use crate::source::lex::DirectiveKind;
use crate::source::preproc::Truth;
use crate::source::{ParsedFile, SourceFile};

/// The scope of one run.
#[derive(Debug)]
pub struct Scope {
    pub resolved: Resolved,
    /// Functions the project's own code calls (outside module init): findings in a
    /// vendored file are kept only inside these.
    own_calls: HashSet<String>,
}

/// `#include` lines of a file: the name and whether it is quoted.
pub fn includes(file: &SourceFile) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for d in &file.lexed.directives {
        if d.kind != DirectiveKind::Other {
            continue;
        }
        let line = file.text.get(d.start..d.end).unwrap_or("");
        let line = line.trim_start_matches(['#', ' ', '\t']);
        let Some(rest) = line.strip_prefix("include") else {
            continue;
        };
        let rest = rest.trim_start();
        let (open, close) = match rest.chars().next() {
            Some('"') => ('"', '"'),
            Some('<') => ('<', '>'),
            _ => continue,
        };
        if let Some(end) = rest[1..].find(close) {
            out.push((rest[1..1 + end].to_owned(), open == '"'));
        }
    }
    out
}

/// Byte offset of the first ERROR or MISSING node in `node`'s subtree.
fn first_error(node: tree_sitter::Node) -> Option<usize> {
    if !node.has_error() {
        return None;
    }
    let mut n = node;
    'down: loop {
        if n.is_error() || n.is_missing() {
            return Some(n.start_byte());
        }
        let mut c = n.walk();
        for child in n.children(&mut c) {
            if child.has_error() || child.is_missing() {
                n = child;
                continue 'down;
            }
        }
        return Some(n.start_byte());
    }
}

/// The parse problem of a file, if it did not parse cleanly (read from its tree,
/// so computed in the file's own phase: see `ProjectFile::parse_problem`).
pub fn parse_problem(parsed: &ParsedFile) -> Option<ParseProblem> {
    let file = &parsed.file;
    let errors = file.parse_error_count();
    if errors == 0 {
        return None;
    }
    let root = file.tree.root_node();
    let at = first_error(root).unwrap_or(0);
    let pos = |off: usize| file.lines.position(&file.text, off);
    let (line, column) = pos(at);
    let functions = parsed
        .index
        .functions
        .iter()
        .filter(|f| f.has_error)
        .map(|f| {
            let node = root.descendant_for_byte_range(f.range.0, f.range.1);
            let off = node.and_then(first_error).unwrap_or(f.range.0);
            let (line, column) = pos(off);
            FunctionProblem {
                name: f.name.clone(),
                line,
                column,
            }
        })
        .collect();
    Some(ParseProblem {
        path: file.path.display().to_string(),
        line,
        column,
        errors,
        functions,
    })
}

/// Does `dir` hold a licence file of its own (`LICENSE`, `license.txt`, `COPYING.md`...)?
fn licence_file(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().take(10_000).any(|e| {
        let name = e.file_name().to_string_lossy().to_ascii_lowercase();
        let stem = name.split('.').next().unwrap_or("");
        matches!(stem, "license" | "licence" | "copying" | "unlicense")
            && e.file_type().is_ok_and(|t| t.is_file())
    })
}

/// Module inits named through macros a header defines (`#define INIT_NAME
/// PyInit__x` in `module.h`): for each file with an unresolved candidate, the
/// definitions of the headers it includes (two levels deep) are handed to its index.
fn resolve_inits_through_headers(project_files: &mut [ProjectFile]) {
    let names: Vec<String> = project_files
        .iter()
        .map(|pf| scope::normalize(&pf.file.path).display().to_string())
        .collect();
    let find = |inc: &str| -> Vec<usize> {
        let suffix = format!("/{}", inc.trim_start_matches("./"));
        names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.ends_with(&suffix) || n.as_str() == inc)
            .map(|(i, _)| i)
            .collect()
    };
    let mut work: Vec<(usize, MacroTable)> = Vec::new();
    for (i, pf) in project_files.iter().enumerate() {
        if !pf.index.has_unresolved_init_candidates(&pf.file) {
            continue;
        }
        let mut table = MacroTable::default();
        let mut seen = HashSet::new();
        let mut frontier: Vec<usize> = vec![i];
        for _ in 0..2 {
            let mut next = Vec::new();
            for f in frontier {
                for (inc, _) in includes(&project_files[f].file) {
                    for h in find(&inc) {
                        if h != i && seen.insert(h) {
                            table.merge_missing(&MacroTable::from_file(&project_files[h].file));
                            next.push(h);
                        }
                    }
                }
            }
            frontier = next;
        }
        if !table.is_empty() {
            work.push((i, table));
        }
    }
    for (i, table) in work {
        let pf = &mut project_files[i];
        let parsed = &mut pf.parsed;
        parsed.index.add_inits_from_macros(&parsed.file, &table);
    }
}

impl Scope {
    /// Works out the scope, removes the files outside it from `project_files` and
    /// their findings from `diagnostics`.
    pub fn restrict(
        roots: &[(PathBuf, Arc<Settings>)],
        build_files: &[(BuildFile, Arc<Settings>)],
        project_files: &mut Vec<ProjectFile>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Scope {
        resolve_inits_through_headers(project_files);
        // Cython's shared utility headers (`_generated_include/*.h`, included only by
        // generated modules): every function is Cython's own `__Pyx_`/`__pyx_` code.
        let generated: HashSet<PathBuf> = project_files
            .iter()
            .filter(|pf| {
                !pf.index.functions.is_empty()
                    && pf
                        .index
                        .functions
                        .iter()
                        .all(|f| f.name.starts_with("__Pyx") || f.name.starts_with("__pyx"))
            })
            .map(|pf| pf.file.path.clone())
            .collect();
        let generated_count = generated.len();
        if generated_count > 0 {
            project_files.retain(|pf| !generated.contains(&pf.file.path));
            diagnostics.retain(|d| !generated.contains(&d.path));
        }
        let sources: Vec<SourceInfo> = project_files
            .iter()
            .map(|pf| SourceInfo {
                path: pf.file.path.clone(),
                includes: includes(&pf.file),
                program: pf.index.module_inits.is_empty()
                    && pf.index.functions.iter().any(|f| f.name == "main"),
            })
            .collect();
        let builds: Vec<&BuildFile> = build_files.iter().map(|(b, _)| b).collect();
        let all_sources = roots.iter().any(|(_, s)| s.all_sources);
        let root = match roots {
            [(p, _)] if p.is_dir() => Some(p.clone()),
            _ => None,
        };
        let resolved = match &root {
            Some(root) => {
                let submodules = std::fs::read_to_string(root.join(".gitmodules"))
                    .map(|t| scope::submodule_paths(&t))
                    .unwrap_or_default();
                let root_n = scope::normalize(root);
                let cache: std::cell::RefCell<HashMap<PathBuf, bool>> = Default::default();
                let licensed = |d: &Path| {
                    // The project's own licence sits at the root, which is never a tree.
                    let d = scope::normalize(d);
                    if d == root_n {
                        return false;
                    }
                    if let Some(v) = cache.borrow().get(&d) {
                        return *v;
                    }
                    let v = licence_file(&d);
                    cache.borrow_mut().insert(d, v);
                    v
                };
                let mut r =
                    scope::resolve(root, &builds, &sources, all_sources, &submodules, &licensed);
                // With no build file and no module, there is no project to scope:
                // every file named or found is checked, programs included.
                if r.summary.mode == ScopeMode::NoBuild
                    && builds.is_empty()
                    && project_files
                        .iter()
                        .all(|pf| pf.index.module_inits.is_empty())
                {
                    r.in_scope = sources.iter().map(|s| s.path.clone()).collect();
                    r.summary.checked_files = sources.len();
                    r.summary.programs.clear();
                }
                r
            }
            None => Resolved {
                summary: ScopeSummary {
                    mode: ScopeMode::FilesNamed,
                    modules: Vec::new(),
                    checked_files: sources.len(),
                    uncompiled_files: 0,
                    uncompiled_by_folder: Vec::new(),
                    programs: Vec::new(),
                    vendored: Vec::new(),
                    version_branch_findings: 0,
                    parse_errors: Vec::new(),
                    generated_helpers: 0,
                },
                in_scope: sources.iter().map(|s| s.path.clone()).collect(),
                vendored: HashMap::new(),
            },
        };
        let mut resolved = resolved;
        resolved.summary.generated_helpers = generated_count;
        resolved.summary.parse_errors = project_files
            .iter()
            .filter(|pf| resolved.in_scope.contains(&pf.file.path))
            .filter_map(|pf| pf.parse_problem.clone())
            .collect();
        let keep = &resolved.in_scope;
        let out: HashSet<PathBuf> = project_files
            .iter()
            .filter(|pf| !keep.contains(&pf.file.path))
            .map(|pf| pf.file.path.clone())
            .collect();
        project_files.retain(|pf| keep.contains(&pf.file.path));
        diagnostics.retain(|d| !out.contains(&d.path));
        let mut own_calls = HashSet::new();
        for pf in project_files.iter() {
            if resolved.vendored.contains_key(&pf.file.path) {
                continue;
            }
            let inits: HashSet<usize> = pf.index.module_inits.iter().map(|m| m.function).collect();
            for c in &pf.index.calls {
                if c.function.is_some_and(|f| !inits.contains(&f)) {
                    own_calls.insert(c.name.clone());
                }
            }
        }
        Scope {
            resolved,
            own_calls,
        }
    }

    /// Filters the final findings: vendored code only where the project's own code
    /// calls it, and no finding in code only Pythons without a free-threaded build
    /// compile. Returns the scope summary.
    pub fn finish(
        &mut self,
        project_files: &[ProjectFile],
        diagnostics: &mut Vec<Diagnostic>,
    ) -> ScopeSummary {
        let files: HashMap<&Path, &ProjectFile> = project_files
            .iter()
            .map(|pf| (pf.file.path.as_path(), pf))
            .collect();
        let summary = &mut self.resolved.summary;
        let vendored = &self.resolved.vendored;
        let own_calls = &self.own_calls;
        let mut configs: HashMap<&Path, Vec<crate::source::preproc::BuildConfig>> = HashMap::new();
        diagnostics.retain(|d| {
            if let Some(&tree) = vendored.get(&d.path) {
                let called = d.function.as_ref().is_some_and(|f| own_calls.contains(f));
                let t = &mut summary.vendored[tree];
                if called {
                    t.findings_reported += 1;
                } else {
                    t.findings_hidden += 1;
                    return false;
                }
            }
            // Declaration findings (FT0xx) are about builds already.
            if d.rule.code.starts_with("FT0") {
                return true;
            }
            let (Some(pf), Some(span)) = (files.get(d.path.as_path()), d.span) else {
                return true;
            };
            let cfgs = configs.entry(pf.file.path.as_path()).or_insert_with(|| {
                ft_configs(&pf.settings, &pf.file)
                    .iter()
                    .map(|c| {
                        c.with_file_macros(
                            &pf.file.text,
                            &pf.file.lexed.directives,
                            &pf.file.conditions,
                        )
                    })
                    .collect()
            });
            let cond = pf.file.condition_at(span.start);
            if !cond.is_unconditional()
                && !cfgs.is_empty()
                && cfgs.iter().all(|c| cond.eval(c) == Truth::False)
            {
                summary.version_branch_findings += 1;
                return false;
            }
            true
        });
        summary.clone()
    }
}
