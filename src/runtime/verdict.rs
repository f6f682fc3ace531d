//! From what one import left behind (the probe's events, the exit status, stderr) to
//! exactly one verdict, and from a verdict to its FT8xx finding.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::interpreter::Interpreter;
use super::interrupt::ScratchDir;
use super::process::{
    absolute, describe_exit, last_lines, path_field, read_events, run_probe, ProbeRun,
};
use super::targets::Target;
use crate::diagnostic::Diagnostic;
use crate::rules::runtime::{
    GIL_ENABLED_AT_IMPORT, IMPORT_CRASHED, IMPORT_HUNG, IMPORT_RAISED, MODULE_NOT_LOADABLE,
};

/// Where in the import tree something happened: the module and its importers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportChain {
    /// The module that was loading.
    pub module: String,
    /// Its importers, outermost first.
    pub importers: Vec<String>,
    /// Its file, when the probe saw it.
    pub origin: Option<String>,
}

impl ImportChain {
    /// "`inner` (imported by `outer`)" or "`spam`".
    fn describe(&self) -> String {
        if self.importers.is_empty() {
            return format!("`{}`", self.module);
        }
        let by: Vec<String> = self
            .importers
            .iter()
            .rev()
            .map(|m| format!("`{m}`"))
            .collect();
        format!("`{}` (imported by {})", self.module, by.join(" ← "))
    }
}

/// How one import ended. Exactly one per target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The GIL stayed disabled.
    Ok,
    /// The GIL was enabled afterwards; `by` is the module that did it (if known).
    GilEnabled {
        by: Option<ImportChain>,
        warning: Option<String>,
    },
    /// The import raised; `gil_by` is set when the GIL had been re-enabled before.
    Raised {
        exc_type: String,
        message: String,
        raised_in: Option<ImportChain>,
        gil_by: Option<String>,
        /// The innermost traceback frame in a real file (`File "x.py", line 3, in <module>`).
        at: Option<String>,
    },
    /// The process died: a signal or an exit status.
    Crashed {
        how: String,
        loading: Option<ImportChain>,
        fatal: Option<String>,
    },
    /// Still running at the time limit.
    Hung {
        after: Duration,
        loading: Option<ImportChain>,
        /// Where Python code was waiting (innermost frame in a real file, per thread).
        waiting_at: Vec<String>,
    },
    /// The file is for another ABI; not imported.
    NotLoadable { reason: String },
    /// A shared library found by the bare `.so` suffix that is not a module.
    NotAModule,
}

impl Verdict {
    /// A short word for JSON output and summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::GilEnabled { .. } => "gil-enabled",
            Verdict::Raised { .. } => "raised",
            Verdict::Crashed { .. } => "crashed",
            Verdict::Hung { .. } => "hung",
            Verdict::NotLoadable { .. } => "not-loadable",
            Verdict::NotAModule => "not-a-module",
        }
    }
}

/// The events a probe wrote, and what they say.
struct Events {
    list: Vec<Value>,
}

impl Events {
    fn read(path: &Path) -> Events {
        // A crash can cut the last line short: lines that do not parse are dropped.
        let list = read_events(path)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .collect();
        Events { list }
    }

    fn of(&self, kind: &str) -> impl Iterator<Item = &Value> {
        let kind = kind.to_owned();
        self.list
            .iter()
            .filter(move |e| e["event"].as_str() == Some(kind.as_str()))
    }

    fn origin_of(&self, module: &str) -> Option<String> {
        self.of("start")
            .find(|e| e["name"].as_str() == Some(module))
            .and_then(|e| e["origin"].as_str().map(str::to_owned))
    }

    fn chain(&self, module: &str, stack: &Value) -> ImportChain {
        let importers = strings(stack);
        ImportChain {
            module: module.to_owned(),
            importers,
            origin: self.origin_of(module),
        }
    }

    /// The modules still loading when the process stopped, innermost last.
    fn unfinished(&self) -> Option<ImportChain> {
        let mut stack: Vec<&str> = Vec::new();
        for e in &self.list {
            let Some(name) = e["name"].as_str() else {
                continue;
            };
            match e["event"].as_str() {
                Some("start") => stack.push(name),
                Some("end") => {
                    if let Some(i) = stack.iter().rposition(|m| *m == name) {
                        stack.truncate(i);
                    }
                }
                _ => {}
            }
        }
        let module = stack.pop()?;
        Some(ImportChain {
            module: module.to_owned(),
            importers: stack.iter().map(|s| (*s).to_owned()).collect(),
            origin: self.origin_of(module),
        })
    }

    /// CPython's warning that the GIL was enabled for a module, and that module.
    fn gil_warning(&self) -> Option<(String, ImportChain)> {
        self.of("warning").find_map(|e| {
            let message = e["message"].as_str()?;
            let module = gil_warning_module(message)?;
            // The stack at warning time ends with the module being loaded.
            let mut importers = strings(&e["stack"]);
            if importers.last() == Some(&module) {
                importers.pop();
            }
            let origin = self.origin_of(&module);
            Some((
                message.to_owned(),
                ImportChain {
                    module,
                    importers,
                    origin,
                },
            ))
        })
    }
}

pub(super) const GIL_WARNING: &str = "has been enabled to load module '";

/// The module named by CPython's "GIL has been enabled to load module 'X'" warning.
pub(super) fn gil_warning_module(message: &str) -> Option<String> {
    let at = message.find(GIL_WARNING)? + GIL_WARNING.len();
    Some(message[at..].split('\'').next()?.to_owned())
}

/// The GIL warning as printed on stderr, for when the probe's warning hook was bypassed
/// (a module that resets `warnings.showwarning`): the chain comes from the import events.
fn gil_warning_on_stderr(stderr: &str, events: &Events) -> Option<(String, ImportChain)> {
    let line = stderr.lines().find(|l| l.contains(GIL_WARNING))?;
    let module = gil_warning_module(line)?;
    let message = line
        .split_once("RuntimeWarning: ")
        .map_or(line, |(_, m)| m)
        .to_owned();
    let stack = events
        .of("start")
        .find(|e| e["name"].as_str() == Some(module.as_str()))
        .map(|e| e["stack"].clone())
        .unwrap_or(Value::Null);
    Some((message, events.chain(&module, &stack)))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The first sentence of CPython's warning (the rest says how to silence it).
fn first_sentence(message: &str) -> String {
    match message.find(". ") {
        Some(i) => message[..=i].to_owned(),
        None => message.to_owned(),
    }
}

/// Imports one target in a fresh interpreter and decides its verdict; also returns the
/// module's file when the probe saw it.
pub fn verify_one(
    interp: &Interpreter,
    target: &Target,
    timeout: Duration,
) -> (Verdict, Option<PathBuf>) {
    let could_not = |how: String| Verdict::Crashed {
        how,
        loading: None,
        fatal: None,
    };
    let tmp = match ScratchDir::new() {
        Ok(t) => t,
        Err(e) => return (could_not(format!("could not start: {e}")), None),
    };
    let events_path = tmp.path().join("events.jsonl");
    let file = target.file.as_deref().map(absolute).unwrap_or_default();
    let sys_path = target.sys_path.as_deref().map(absolute).unwrap_or_default();
    let args = [
        OsStr::new("import"),
        events_path.as_os_str(),
        OsStr::new(&target.module),
        file.as_os_str(),
        sys_path.as_os_str(),
    ];
    let run = match run_probe(&interp.path, &args, timeout) {
        Ok(r) => r,
        Err(e) => {
            return (
                could_not(format!("could not start the interpreter: {e}")),
                None,
            )
        }
    };
    let events = Events::read(&events_path);
    let origin = events
        .of("result")
        .last()
        .and_then(|r| path_field(r, "origin"))
        .or_else(|| {
            events
                .of("start")
                .find(|e| e["name"].as_str() == Some(target.module.as_str()))
                .and_then(|e| path_field(e, "origin"))
        });
    (decide(&events, &run, target, timeout), origin)
}

fn decide(events: &Events, run: &ProbeRun, target: &Target, timeout: Duration) -> Verdict {
    if run.timed_out {
        return Verdict::Hung {
            after: timeout,
            loading: events.unfinished(),
            waiting_at: waiting_frames(&run.stderr),
        };
    }
    let warning = events
        .gil_warning()
        .or_else(|| gil_warning_on_stderr(&run.stderr, events));
    let Some(result) = events.of("result").last() else {
        let fatal = run
            .stderr
            .lines()
            .find(|l| l.starts_with("Fatal Python error"))
            .map(str::to_owned)
            .or_else(|| {
                let tail = last_lines(&run.stderr, 1);
                (!tail.is_empty()).then_some(tail)
            });
        return Verdict::Crashed {
            how: describe_exit(run.status, false),
            loading: events.unfinished(),
            fatal,
        };
    };
    if result["status"].as_str() == Some("raised") {
        let exc_type = result["exc_type"]
            .as_str()
            .unwrap_or("an exception")
            .to_owned();
        let message = result["exc_message"].as_str().unwrap_or("").to_owned();
        if target.bare_suffix
            && exc_type == "ImportError"
            && message.contains("does not define module export function")
        {
            return Verdict::NotAModule;
        }
        let raised_in = result["module"]
            .as_str()
            .map(|m| events.chain(m, &result["stack"]));
        let at = result["traceback"].as_str().and_then(innermost_frame);
        return Verdict::Raised {
            exc_type,
            message,
            raised_in,
            gil_by: warning.map(|(_, c)| c.module),
            at,
        };
    }
    if let Some((message, chain)) = warning {
        return Verdict::GilEnabled {
            by: Some(chain),
            warning: Some(message),
        };
    }
    if result["gil"].as_bool() == Some(true) {
        return Verdict::GilEnabled {
            by: None,
            warning: None,
        };
    }
    Verdict::Ok
}

/// The innermost frame of a formatted traceback that is in a real file (not importlib's
/// frozen modules, not the probe).
fn innermost_frame(traceback: &str) -> Option<String> {
    traceback
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("File \"") && !l.contains("File \"<"))
        .map(|l| l.trim().to_owned())
}

/// From faulthandler's dump of every thread (`Thread 0x… (most recent call first):`), the
/// innermost frame of each thread that is in a real file.
fn waiting_frames(stderr: &str) -> Vec<String> {
    // Per thread: its innermost frame in a real file, and the innermost one in another file
    // ("wait" in threading.py is more useful with the line of the module that called it).
    let mut threads: Vec<Vec<String>> = Vec::new();
    for line in stderr.lines() {
        if line.ends_with("(most recent call first):") {
            threads.push(Vec::new());
            continue;
        }
        let Some(frames) = threads.last_mut() else {
            continue;
        };
        let line = line.trim();
        if !line.starts_with("File \"") || line.starts_with("File \"<") {
            continue;
        }
        let file = line.split('"').nth(1);
        let other_file = frames.first().is_none_or(|f| f.split('"').nth(1) != file);
        if frames.len() < 2 && other_file {
            frames.push(line.to_owned());
        }
    }
    let mut out: Vec<String> = threads
        .into_iter()
        .filter(|f| !f.is_empty())
        .map(|f| f.join(" ← "))
        .collect();
    out.dedup();
    out.truncate(3);
    out
}

/// One target's result.
#[derive(Debug, Clone)]
pub struct ModuleResult {
    pub path: PathBuf,
    pub module: String,
    pub verdict: Verdict,
}

/// The chain, unless it is just the target itself (then the message says nothing more).
fn elsewhere<'a>(chain: Option<&'a ImportChain>, target: &str) -> Option<&'a ImportChain> {
    chain.filter(|c| c.module != target || !c.importers.is_empty())
}

/// The diagnostic for a verdict (`None` for a clean import).
pub fn diagnostic(r: &ModuleResult) -> Option<Diagnostic> {
    let m = &r.module;
    let d = match &r.verdict {
        Verdict::Ok | Verdict::NotAModule => return None,
        Verdict::GilEnabled { by: Some(by), warning } => {
            let quoted = warning.as_deref().map(|w| format!(": \"{}\"", first_sentence(w))).unwrap_or_default();
            let message = if by.module == *m {
                format!("importing `{m}` re-enabled the GIL{quoted}")
            } else {
                format!("importing `{m}` re-enabled the GIL: {} did it{quoted}", by.describe())
            };
            let mut help = format!(
                "once `{}` is thread-safe, declare `Py_MOD_GIL_NOT_USED` in it (`ftaudit check` on its sources shows where)",
                by.module
            );
            if let Some(origin) = by.origin.as_deref().filter(|_| by.module != *m) {
                help.push_str(&format!("; `{}` is {origin}", by.module));
            }
            Diagnostic::new(&GIL_ENABLED_AT_IMPORT, &r.path, None, message).with_help(help)
        }
        Verdict::GilEnabled { by: None, .. } => Diagnostic::new(
            &GIL_ENABLED_AT_IMPORT,
            &r.path,
            None,
            format!("the GIL was enabled after importing `{m}`, but no warning named the module that did it"),
        )
        .with_help("a module imported along the way may have silenced warnings; import its dependencies one by one"),
        Verdict::Raised { exc_type, message, raised_in, gil_by, at } => {
            let first = message.lines().next().unwrap_or("");
            let place = match raised_in {
                Some(c) if c.module != *m => format!(" in {}", c.describe()),
                _ => String::new(),
            };
            let mut text = format!("importing `{m}` raised {exc_type}{place}: {first}");
            if let Some(g) = gil_by {
                text.push_str(&format!(" (before that, `{g}` had re-enabled the GIL)"));
            }
            let d = Diagnostic::new(&IMPORT_RAISED, &r.path, None, text);
            if message.contains("more than one 'gil' slot") {
                d.with_help("keep one `Py_mod_gil` entry in the slot array (FT004)")
            } else if let Some(at) = at {
                d.with_help(format!("raised at {at}"))
            } else {
                d.with_help(format!("run `python -c \"import {m}\"` with this interpreter for the full traceback"))
            }
        }
        Verdict::Crashed { how, loading, fatal } => {
            let place = elsewhere(loading.as_ref(), m).map(|c| format!(", in {}", c.describe())).unwrap_or_default();
            let d = Diagnostic::new(&IMPORT_CRASHED, &r.path, None, format!("the interpreter {how} while importing `{m}`{place}"));
            match fatal {
                Some(f) => d.with_help(format!("the interpreter said: {f}")),
                None => d,
            }
        }
        Verdict::Hung { after, loading, waiting_at } => {
            let place = elsewhere(loading.as_ref(), m).map(|c| format!("; it was loading {}", c.describe())).unwrap_or_default();
            Diagnostic::new(
                &IMPORT_HUNG,
                &r.path,
                None,
                format!("importing `{m}` did not finish within {} s{place}", after.as_secs_f64()),
            )
            .with_help(if waiting_at.is_empty() {
                "look for a wait on a lock or thread in its initialisation; raise --timeout if the import is only slow".to_owned()
            } else {
                format!("Python code was waiting at {}; raise --timeout if the import is only slow", waiting_at.join("; "))
            })
        }
        Verdict::NotLoadable { reason } => {
            let name = r.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| m.clone());
            Diagnostic::new(&MODULE_NOT_LOADABLE, &r.path, None, format!("`{name}` {reason}"))
                .with_help("rebuild the module with this interpreter (its compiler flags come from its sysconfig)")
        }
    };
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_gil_warning_and_the_chain() {
        let lines = [
            r#"{"event": "start", "name": "outer", "origin": "/x/outer.so", "stack": []}"#,
            r#"{"event": "start", "name": "inner", "origin": "/x/inner.so", "stack": ["outer"]}"#,
            r#"{"event": "warning", "category": "RuntimeWarning", "message": "The global interpreter lock (GIL) has been enabled to load module 'inner', which has not declared that it can run safely without the GIL. To override", "stack": ["outer", "inner"]}"#,
            r#"{"event": "end", "name": "inner", "gil": null}"#,
        ];
        let events = Events {
            list: lines
                .iter()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect(),
        };
        let (_, chain) = events.gil_warning().expect("warning");
        assert_eq!(chain.module, "inner");
        assert_eq!(chain.importers, vec!["outer".to_owned()]);
        assert_eq!(chain.origin.as_deref(), Some("/x/inner.so"));
        assert_eq!(chain.describe(), "`inner` (imported by `outer`)");
        // `outer` never finished: a crash here happened while loading it.
        let unfinished = events.unfinished().expect("unfinished");
        assert_eq!(unfinished.module, "outer");
    }

    #[test]
    fn gil_warning_on_stderr_when_the_hook_was_bypassed() {
        let lines = [
            r#"{"event": "start", "name": "outer", "origin": "/x/outer.so", "stack": []}"#,
            r#"{"event": "start", "name": "inner", "origin": "/x/inner.so", "stack": ["outer"]}"#,
        ];
        let events = Events {
            list: lines
                .iter()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect(),
        };
        let stderr = "<frozen importlib._bootstrap>:488: RuntimeWarning: The global interpreter lock (GIL) has been enabled to load module 'inner', which has not declared that it can run safely without the GIL. To override";
        let (message, chain) = gil_warning_on_stderr(stderr, &events).expect("warning");
        assert!(message.starts_with("The global interpreter lock"));
        assert_eq!(chain.describe(), "`inner` (imported by `outer`)");
    }

    #[test]
    fn waiting_frames_from_a_faulthandler_dump() {
        let dump = "Thread 0x00007f (most recent call first):\n  File \"/x/threading.py\", line 359 in wait\n  File \"/x/threading.py\", line 659 in wait\n  File \"/x/slow.py\", line 4 in <module>\n  File \"<frozen importlib._bootstrap>\", line 488 in _call\n\nThread 0x00007e (most recent call first):\n  File \"<string>\", line 3 in <module>\n";
        assert_eq!(
            waiting_frames(dump),
            vec![
                "File \"/x/threading.py\", line 359 in wait ← File \"/x/slow.py\", line 4 in <module>"
                    .to_owned()
            ]
        );
    }

    #[test]
    fn first_sentence_quotes_up_to_the_advice() {
        let w = "The global interpreter lock (GIL) has been enabled to load module 'spam', which has not declared that it can run safely without the GIL. To override this behavior...";
        assert!(first_sentence(w).ends_with("without the GIL."));
    }
}
