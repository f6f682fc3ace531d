//! "Is this container private here?" — the one intraprocedural analysis every
//! FT1xx/FT2xx/FT3xx rule asks before reporting, plus the model of
//! `Py_BEGIN_CRITICAL_SECTION` / `Py_BEGIN_ALLOW_THREADS` regions it relies on.
//!
//! A container expression is *private* at a use site when no other thread can
//! change it there: the keyword-arguments dict or args tuple/vector of the current
//! call, a container created in this function that has not escaped yet, an
//! immutable object, or one locked by an enclosing critical section on the same
//! expression. It is *shared* when it is a Python argument, a field, a global or
//! module state. Anything else (the result of an unknown call, a variable whose
//! origin is out of sight) is *unknown*, and rules report it with
//! [`Confidence::Likely`](crate::diagnostic::Confidence::Likely).

mod container;
mod immutable;
mod params;
mod passes;
mod regions;
mod text;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::source::index::{FileIndex, Range};
use crate::source::preproc::BuildConfig;
use crate::source::SourceFile;
use passes::{caller_locked, init_only, Unit};

pub use container::{Privacy, Private, Shared};
pub use params::{parameter_role, Role};
pub use regions::{Marker, Mismatch, Region, RegionKind};
pub use text::{
    ancestor_of_kind, call_name, closing_paren, identifiers, is_identifier, mentions, normalize,
    split_args,
};

/// The per-file analysis. Build once per rule family with [`Analysis::new`].
pub struct Analysis<'a> {
    pub file: &'a SourceFile,
    pub index: &'a FileIndex,
    /// The free-threaded builds the project targets, for this file's language.
    configs: std::sync::Arc<[BuildConfig]>,
    pub regions: Vec<Region>,
    pub mismatches: Vec<Mismatch>,
    /// Functions referenced from file-scope initializers (method tables, slot
    /// arrays, static type objects): Python calls them directly.
    python_facing: HashSet<&'a str>,
    /// Parameters a function's callers lock for it: Argument Clinic's
    /// `@critical_section`, and CPython's `*_lock_held` naming convention.
    caller_locked: HashMap<usize, Vec<String>>,
    /// Functions that only run while the module is being initialised
    /// (`PyInit_*`, `Py_mod_exec`/`Py_mod_create` and helpers only they call).
    init_only: HashSet<usize>,
    /// Answers of [`Analysis::filled_only_at_init`] by container text (asked once
    /// per borrowed lookup; each answer scans the file's calls and assignments).
    filled_at_init: std::sync::Mutex<HashMap<String, bool>>,
}

impl<'a> Analysis<'a> {
    /// Analyses one file for the free-threaded builds `configs` (see
    /// `context::ft_configs`).
    pub fn new(
        file: &'a SourceFile,
        index: &'a FileIndex,
        configs: std::sync::Arc<[BuildConfig]>,
    ) -> Self {
        let ctx = Unit { file, index };
        let mut python_facing = HashSet::default();
        for d in ctx.index.decls.iter().filter(|d| d.function.is_none()) {
            let Some(init) = &d.init else { continue };
            let (s, e) = init.range();
            let text = ctx.file.parse_text.get(s..e).unwrap_or("");
            python_facing.extend(identifiers(text));
        }
        let caller_locked = caller_locked(ctx);
        let init_only = init_only(ctx);
        let mut a = Analysis {
            file,
            index,
            configs,
            regions: Vec::new(),
            mismatches: Vec::new(),
            python_facing,
            caller_locked,
            init_only,
            filled_at_init: Default::default(),
        };
        a.build_regions();
        a.propagate_caller_locks();
        a
    }

    fn text(&self, r: Range) -> &'a str {
        self.file.parse_text.get(r.0..r.1).unwrap_or("")
    }

    fn filled_at_init_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, bool>> {
        // Inserts are single operations: a poisoned lock still holds whole answers.
        self.filled_at_init
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Does function `f` run only while the module is being initialised?
    pub fn init_only(&self, f: usize) -> bool {
        self.init_only.contains(&f)
    }

    /// Is `offset` compiled in some free-threaded build this project targets?
    pub fn compiled_in_ft(&self, offset: usize) -> bool {
        use crate::source::preproc::Truth;
        // The vendored pythoncapi-compat header implements the strong-reference
        // replacements with the old APIs under version guards we cannot evaluate.
        if self
            .file
            .path
            .file_name()
            .is_some_and(|n| n == "pythoncapi_compat.h")
        {
            return false;
        }
        let cond = self.file.condition_at(offset);
        self.configs.iter().any(|c| cond.eval(c) != Truth::False)
    }
}
