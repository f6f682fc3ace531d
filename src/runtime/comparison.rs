//! `--source`: what the static declaration rules (FT0xx) predict for each module, and
//! where that disagrees with the imports (FT806).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::interpreter::Interpreter;
use super::verdict::{ModuleResult, Verdict};
use crate::check;
use crate::config::Overrides;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::Rule;
use crate::rules::declare;
use crate::rules::runtime::STATIC_RUNTIME_DISAGREEMENT;

/// What the static declaration rules predict for a module on this interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prediction {
    /// Declares `Py_MOD_GIL_NOT_USED` for this build: the GIL stays disabled.
    GilStaysDisabled,
    /// Undeclared or `Py_MOD_GIL_USED` (FT001, FT005, FT006): the GIL is re-enabled.
    GilEnabled { rule: &'static Rule },
    /// Two `Py_mod_gil` slots in this build (FT004): the import raises `SystemError`.
    Raises { rule: &'static Rule },
}

/// A module found in the sources, with the static verdict and where it comes from.
#[derive(Debug, Clone)]
pub struct SourceModule {
    pub module: String,
    pub path: PathBuf,
    /// The `PyInit_*` name, or the finding that decided the prediction.
    pub span: Option<Span>,
    pub prediction: Prediction,
}

/// Runs the static declaration rules on `dir` and predicts each module's import for
/// `interp`, keyed by the module's name (the `PyInit_` suffix).
///
/// Everything comes from the check's own result: the init functions it indexed and the
/// typed fields of its findings (`module`, `builds`), never their message text.
pub fn static_predictions(
    dir: &Path,
    interp: &Interpreter,
) -> Result<(BTreeMap<String, SourceModule>, check::CheckResult), String> {
    let ov = Overrides {
        select: Some(vec!["FT0".into()]),
        target_version: Some(format!("{}.{}", interp.version.0, interp.version.1)),
        ..Default::default()
    };
    let roots = check::resolve_settings(&[dir.to_path_buf()], &ov).map_err(|e| e.to_string())?;
    let result = check::run(&roots, &Default::default());
    let mut modules: BTreeMap<String, SourceModule> = BTreeMap::new();
    let mut modules_of_file: BTreeMap<&Path, Vec<&str>> = BTreeMap::new();
    for init in &result.module_inits {
        modules
            .entry(init.module.clone())
            .or_insert_with(|| SourceModule {
                module: init.module.clone(),
                path: init.path.clone(),
                span: Some(init.span),
                prediction: Prediction::GilStaysDisabled,
            });
        modules_of_file
            .entry(init.path.as_path())
            .or_default()
            .push(init.module.as_str());
    }
    let tag = interp.build_name();
    for d in &result.diagnostics {
        let Some(prediction) = predict(d, &tag) else {
            continue;
        };
        // FT001/FT005 name their module; other findings apply to every module of the file.
        let names: Vec<&str> = match d.module.as_deref() {
            Some(n) if modules.contains_key(n) => vec![n],
            _ => modules_of_file
                .get(d.path.as_path())
                .cloned()
                .unwrap_or_default(),
        };
        for name in names {
            let Some(m) = modules.get_mut(name) else {
                continue;
            };
            // A failing import outranks a re-enabled GIL (it never gets that far).
            if matches!(m.prediction, Prediction::Raises { .. }) {
                continue;
            }
            m.prediction = prediction.clone();
            m.path = d.path.clone();
            m.span = d.span;
        }
    }
    Ok((modules, result))
}

/// What one declaration finding predicts for an import on the build `tag` (`3.13t`).
fn predict(d: &Diagnostic, tag: &str) -> Option<Prediction> {
    let for_this_build = d.builds.iter().any(|b| b == tag);
    if d.rule == &declare::MISSING_GIL_DECLARATION || d.rule == &declare::GIL_USED_DECLARED {
        return Some(Prediction::GilEnabled { rule: d.rule });
    }
    // FT005's builds are the ones left without a declaration.
    if d.rule == &declare::PARTIAL_GIL_DECLARATION && for_this_build {
        return Some(Prediction::GilEnabled { rule: d.rule });
    }
    // FT004's build is the one both slots are compiled for.
    if d.rule == &declare::DUPLICATE_GIL_SLOT && for_this_build {
        return Some(Prediction::Raises { rule: d.rule });
    }
    None
}

/// The first place a source names the module as a string (`"netifaces"`, its `m_name`).
fn mention_of_module(
    sources: &BTreeMap<PathBuf, Arc<String>>,
    module: &str,
) -> Option<(PathBuf, Span)> {
    let needle = format!("\"{module}\"");
    sources.iter().find_map(|(path, text)| {
        let at = text.find(&needle)?;
        let lines = crate::diagnostic::LineIndex::new(text);
        Some((path.clone(), lines.span(text, at, at + needle.len())))
    })
}

/// How a comparison came out, for the summary.
#[derive(Debug, Default, Clone)]
pub struct Comparison {
    pub agreed: Vec<String>,
    pub disagreed: Vec<String>,
    /// Imported, but the verdict says nothing about the module's own declaration
    /// (crashed, hung, raised for another reason, or the GIL re-enabled by another module).
    pub not_compared: Vec<String>,
    /// Imported, but no `PyInit_` of that name in the sources.
    pub without_source: Vec<String>,
}

/// Compares static predictions with runtime verdicts; FT806 for each disagreement.
pub fn compare(
    predictions: &BTreeMap<String, SourceModule>,
    sources: &BTreeMap<PathBuf, Arc<String>>,
    results: &[ModuleResult],
    interp: &Interpreter,
    out: &mut Vec<Diagnostic>,
) -> Comparison {
    let mut cmp = Comparison::default();
    let tag = interp.build_name();
    for r in results {
        if matches!(r.verdict, Verdict::NotAModule | Verdict::NotLoadable { .. }) {
            continue;
        }
        let short = r.module.rsplit('.').next().unwrap_or(&r.module);
        let Some(src) = predictions.get(short) else {
            // The static rules saw no init function of that name. When the import
            // re-enabled the GIL and the sources do name the module, `check` missed it:
            // typically an init function generated by a macro (`MODULE_INIT(name)`).
            let reenabled = matches!(&r.verdict, Verdict::GilEnabled { by: Some(by), .. } if by.module == r.module);
            match mention_of_module(sources, short).filter(|_| reenabled) {
                Some((path, span)) => {
                    cmp.disagreed.push(r.module.clone());
                    out.push(
                        Diagnostic::new(
                            &STATIC_RUNTIME_DISAGREEMENT,
                            path,
                            Some(span),
                            format!(
                                "module `{short}`: importing {} re-enabled the GIL, but the static declaration rules found no \
                                 init function for it (`PyInit_{short}` is probably built by a macro), so `ftaudit check` \
                                 cannot report the missing declaration",
                                r.path.display()
                            ),
                        )
                        .with_help("declare `Py_MOD_GIL_NOT_USED` in the module once it is thread-safe"),
                    );
                }
                None => cmp.without_source.push(r.module.clone()),
            }
            continue;
        };
        let file = r.path.display();
        let own_gil = match &r.verdict {
            Verdict::Ok => Some(false),
            Verdict::GilEnabled { by: Some(by), .. } if by.module == r.module => Some(true),
            _ => None,
        };
        // CPython's own check of the slot array (`module X has more than one 'gil' slot`).
        let duplicate_slot = matches!(&r.verdict, Verdict::Raised { message, .. } if message.contains("more than one 'gil' slot"));
        let disagreement = match (&src.prediction, own_gil) {
            (Prediction::Raises { .. }, _) if duplicate_slot => None,
            (_, _) if duplicate_slot => Some(format!(
                "module `{short}`: importing {file} failed because its slot array has two `Py_mod_gil` entries, \
                 but the source has one for {tag}: the binary is not built from this source, or a macro the build \
                 defines adds the second"
            )),
            (Prediction::Raises { rule }, Some(_)) => Some(format!(
                "module `{short}`: the source has two `Py_mod_gil` slots for {tag} ({}), but importing {file} did not fail: \
                 the binary is not built from this source",
                rule.code
            )),
            (Prediction::GilStaysDisabled, Some(true)) => Some(format!(
                "module `{short}`: the source declares `Py_MOD_GIL_NOT_USED` for {tag}, but importing {file} re-enabled the GIL: \
                 the declaration is compiled out of that build or on an init path it does not use, or the binary is stale"
            )),
            (Prediction::GilEnabled { rule }, Some(false)) => Some(format!(
                "module `{short}`: the source does not declare GIL-free support for {tag} ({}), but importing {file} \
                 kept the GIL disabled: the binary is not built from this source, or the static finding is wrong",
                rule.code
            )),
            (_, None) => {
                cmp.not_compared.push(r.module.clone());
                continue;
            }
            _ => None,
        };
        let Some(message) = disagreement else {
            cmp.agreed.push(r.module.clone());
            continue;
        };
        cmp.disagreed.push(r.module.clone());
        out.push(
            Diagnostic::new(&STATIC_RUNTIME_DISAGREEMENT, &src.path, src.span, message)
                .with_help("rebuild the module from this source and run verify again; if they still disagree, the preprocessor branch the build takes differs from the one ftaudit assumed"),
        );
    }
    cmp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &'static Rule, builds: &[&str]) -> Diagnostic {
        // The message says the opposite of the typed fields: only the fields may count.
        Diagnostic::new(
            rule,
            "m.c",
            None,
            "declares GIL-free support for 3.13t but not for 3.14t",
        )
        .with_builds(builds)
    }

    #[test]
    fn predictions_come_from_rules_and_builds_not_messages() {
        let gil = |rule| Some(Prediction::GilEnabled { rule });
        let raises = |rule| Some(Prediction::Raises { rule });
        let partial = &declare::PARTIAL_GIL_DECLARATION;
        let duplicate = &declare::DUPLICATE_GIL_SLOT;
        assert_eq!(
            predict(&finding(partial, &["3.13t", "3.14t"]), "3.13t"),
            gil(partial)
        );
        assert_eq!(predict(&finding(partial, &["3.14t"]), "3.13t"), None);
        assert_eq!(
            predict(&finding(duplicate, &["3.13t"]), "3.13t"),
            raises(duplicate)
        );
        assert_eq!(predict(&finding(duplicate, &["abi3t"]), "3.13t"), None);
        let missing = &declare::MISSING_GIL_DECLARATION;
        assert_eq!(predict(&finding(missing, &[]), "3.13t"), gil(missing));
        let used = &declare::GIL_USED_DECLARED;
        assert_eq!(predict(&finding(used, &[]), "3.14t"), gil(used));
        let unguarded = &declare::UNGUARDED_DECLARATION;
        assert_eq!(predict(&finding(unguarded, &["3.13t"]), "3.13t"), None);
    }
}
