//! The per-file index: everything rules ask about a file, collected in one walk of
//! the syntax tree. Rules read this; they do not walk the tree again for what it holds.

pub(crate) mod grammar;
pub mod macros;
mod module;
mod parts;
mod walk;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::SourceFile;
use walk::Walker;
pub(crate) use walk::{Ancestors, Looked, PartVisitor, Visitor};

pub use module::last_identifier;

/// A byte range in the file.
pub type Range = (usize, usize);

/// A parameter of a function definition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    /// The declared type, e.g. `PyObject *` or `PyObject *const *`.
    pub ty: String,
}

/// A function definition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Function {
    pub name: String,
    pub range: Range,
    pub name_range: Range,
    pub body: Range,
    pub params: Vec<Param>,
    /// Text before the declarator: `static PyObject *`, `PyMODINIT_FUNC`, ...
    pub specifiers: String,
    /// Expressions of its `return` statements.
    pub returns: Vec<Range>,
    /// The definition contains a syntax error.
    pub has_error: bool,
}

/// A call, or a function-like macro use that parses as a call.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Call {
    /// The callee as written: `PyList_GetItem`, `obj->method`, `std::move`.
    pub callee: String,
    /// Its last identifier: `PyList_GetItem`, `method`, `move`.
    pub name: String,
    pub range: Range,
    pub name_range: Range,
    pub args: Vec<Range>,
    /// Index into [`FileIndex::functions`] of the enclosing function.
    pub function: Option<usize>,
}

/// An initializer: an expression or a braced list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Init {
    Expr { range: Range, text: String },
    List { range: Range, items: Vec<InitItem> },
}

/// One element of a braced list, with its designator (`.m_slots`) if any.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InitItem {
    pub designator: Option<String>,
    pub value: Init,
    pub range: Range,
}

impl Init {
    pub fn range(&self) -> Range {
        match self {
            Init::Expr { range, .. } | Init::List { range, .. } => *range,
        }
    }

    pub fn items(&self) -> &[InitItem] {
        match self {
            Init::List { items, .. } => items,
            Init::Expr { .. } => &[],
        }
    }

    /// The expression text, or `None` for a list.
    pub fn expr(&self) -> Option<&str> {
        match self {
            Init::Expr { text, .. } => Some(text),
            Init::List { .. } => None,
        }
    }

    /// The field of a struct initializer, by designator or by position.
    pub fn field(&self, designator: &str, position: usize) -> Option<&Init> {
        let items = self.items();
        if let Some(it) = items
            .iter()
            .find(|i| i.designator.as_deref() == Some(designator))
        {
            return Some(&it.value);
        }
        if items.iter().any(|i| i.designator.is_some()) {
            return None;
        }
        items.get(position).map(|i| &i.value)
    }
}

/// Storage and qualifiers of a declaration, as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Storage {
    pub is_static: bool,
    pub is_extern: bool,
    pub is_const: bool,
    /// `_Thread_local`, `thread_local`, `__thread`, `__declspec(thread)`.
    pub thread_local: bool,
    /// `_Atomic`, `std::atomic<...>`, `atomic_int` and friends.
    pub atomic: bool,
}

/// A variable declaration (file scope, function scope, or parameterless prototype is skipped).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Declaration {
    pub name: String,
    /// The type specifier text, e.g. `PyModuleDef_Slot`, `struct PyModuleDef`, `PyObject`.
    pub type_text: String,
    /// All text before the declarators (storage class, qualifiers, type).
    pub specifiers: String,
    pub storage: Storage,
    pub is_pointer: bool,
    pub is_array: bool,
    /// `None` at file (or namespace) scope.
    pub function: Option<usize>,
    pub range: Range,
    pub name_range: Range,
    pub init: Option<Init>,
}

impl Declaration {
    /// Static storage duration: file scope, or a `static` local.
    pub fn has_static_storage(&self) -> bool {
        self.function.is_none() || self.storage.is_static
    }

    /// The bare type name without `struct`, `const` and the like.
    pub fn base_type(&self) -> &str {
        self.type_text.trim_start_matches("struct ").trim()
    }
}

/// A struct definition (by tag and/or typedef name) with its fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StructDef {
    pub names: Vec<String>,
    pub fields: Vec<(String, String)>,
    pub range: Range,
}

/// Which slot-array type: `PyModuleDef_Slot[]` or 3.15's `PySlot[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlotArrayKind {
    ModuleDefSlot,
    PySlot,
}

/// One entry of a slot array: `{Py_mod_gil, Py_MOD_GIL_NOT_USED}` or
/// `PySlot_STATIC_DATA(Py_mod_gil, Py_MOD_GIL_NOT_USED)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SlotEntry {
    pub slot: String,
    pub value: String,
    pub range: Range,
}

/// A module slot array.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SlotArray {
    pub name: String,
    pub kind: SlotArrayKind,
    pub entries: Vec<SlotEntry>,
    pub range: Range,
    /// The `{0, NULL}` / `PySlot_END` terminator, if present.
    pub sentinel: Option<Range>,
    /// The braced list.
    pub list_range: Range,
}

/// How a module definition refers to its slots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlotsRef {
    /// No `m_slots` field given (or `NULL`/`0`).
    None,
    /// `m_slots` names an array.
    Name(String),
    /// Something we cannot resolve.
    Other(String),
}

/// A `PyModuleDef` variable.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModuleDef {
    pub name: String,
    pub m_name: Option<String>,
    pub slots: SlotsRef,
    pub methods: Option<String>,
    pub range: Range,
    /// The braced initializer.
    pub list_range: Range,
}

/// How a module's init function creates the module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InitStyle {
    /// `return PyModuleDef_Init(&def);`
    MultiPhase { def: Option<String> },
    /// `m = PyModule_Create(&def);`
    SinglePhase {
        def: Option<String>,
        create_call: usize,
    },
    /// 3.15 `PyModExport_<name>` returning a `PySlot[]`.
    Export { slots: Option<String> },
    /// Neither pattern found (the module is built some other way).
    Unknown,
}

/// A module entry point: `PyInit_<name>` or `PyModExport_<name>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModuleInit {
    pub module: String,
    pub function: usize,
    pub style: InitStyle,
    /// Functions of this file reachable from the init function by direct calls.
    pub init_path: Vec<usize>,
}

/// One `PyMethodDef` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MethodEntry {
    pub py_name: String,
    pub func: String,
    pub flags: String,
    pub range: Range,
}

/// A `PyMethodDef[]` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MethodTable {
    pub name: String,
    pub entries: Vec<MethodEntry>,
    pub range: Range,
}

/// Everything rules need to know about one file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FileIndex {
    pub functions: Vec<Function>,
    pub calls: Vec<Call>,
    pub decls: Vec<Declaration>,
    pub structs: Vec<StructDef>,
    pub module_defs: Vec<ModuleDef>,
    pub slot_arrays: Vec<SlotArray>,
    pub module_inits: Vec<ModuleInit>,
    pub method_tables: Vec<MethodTable>,
    by_function_name: FxHashMap<String, usize>,
    /// Indices into `calls` per function, in offset order: `calls_in` used to
    /// filter every call of the file for each function, which made rules that ask
    /// per function quadratic (minutes on an amalgamation like `sqlite3.c`).
    calls_by_function: Vec<Vec<usize>>,
    /// Indices into `assignments` per function (same reason).
    assignments_by_function: Vec<Vec<usize>>,
    /// Indices into `decls` per function (same reason).
    decls_by_function: Vec<Vec<usize>>,
    /// The function enclosing each function (C++ local classes, GNU nested
    /// functions), for `function_at`.
    enclosing_function: Vec<Option<usize>>,
    /// Every assignment expression (`a = b`, `a += b`), sorted by offset.
    pub assignments: Vec<Assignment>,
}

/// An assignment expression inside a function.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Assignment {
    /// The left-hand side and its text.
    pub lhs: Range,
    pub lhs_text: String,
    /// The right-hand side.
    pub rhs: Range,
    /// `=`, `+=`, ...
    pub operator: String,
    pub range: Range,
    /// Index into [`FileIndex::functions`] of the enclosing function.
    pub function: Option<usize>,
}

impl FileIndex {
    pub fn build(file: &SourceFile) -> FileIndex {
        FileIndex::build_visiting(file, &mut ())
    }

    /// [`FileIndex::build`], showing every node of its walk to `visit` too, so that
    /// another analysis of the whole tree needs no walk of its own (the walk is a
    /// large part of a run's cost after the parse).
    pub(crate) fn build_visiting<'t>(
        file: &'t SourceFile,
        visit: &mut impl Visitor<'t>,
    ) -> FileIndex {
        let mut idx = FileIndex::default();
        let mut walker = Walker::new(file, &mut idx);
        walker.walk(file.tree.root_node(), &mut Ancestors::default(), visit);
        walker.finish();
        idx.complete(file);
        idx
    }

    /// [`FileIndex::build_visiting`], in parallel parts when the file is large
    /// and `parallel` (the run has threads to spare): see [`parts`].
    pub(crate) fn build_visiting_in_parts<'t, V: PartVisitor<'t>>(
        file: &'t SourceFile,
        visit: &mut V,
        parallel: bool,
    ) -> FileIndex {
        let threads = rayon::current_num_threads();
        if !parallel || threads < 2 || file.parse_text.len() < parts::PARALLEL_BYTES {
            return FileIndex::build_visiting(file, visit);
        }
        parts::build(file, visit, 2 * threads)
    }

    /// What follows the walk: the lookups by name and function, and the module
    /// objects.
    fn complete(&mut self, file: &SourceFile) {
        let idx = self;
        idx.by_function_name = idx
            .functions
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        idx.calls_by_function = vec![Vec::new(); idx.functions.len()];
        for (i, c) in idx.calls.iter().enumerate() {
            if let Some(f) = c.function.and_then(|f| idx.calls_by_function.get_mut(f)) {
                f.push(i);
            }
        }
        idx.assignments_by_function = vec![Vec::new(); idx.functions.len()];
        for (i, a) in idx.assignments.iter().enumerate() {
            if let Some(f) = a
                .function
                .and_then(|f| idx.assignments_by_function.get_mut(f))
            {
                f.push(i);
            }
        }
        idx.decls_by_function = vec![Vec::new(); idx.functions.len()];
        for (i, d) in idx.decls.iter().enumerate() {
            if let Some(f) = d.function.and_then(|f| idx.decls_by_function.get_mut(f)) {
                f.push(i);
            }
        }
        // Functions are found in document order, so an enclosing function comes
        // before the ones it contains: a stack of open ranges gives each its parent.
        let mut open: Vec<usize> = Vec::new();
        for (i, f) in idx.functions.iter().enumerate() {
            while open
                .last()
                .is_some_and(|&o| idx.functions[o].range.1 <= f.range.0)
            {
                open.pop();
            }
            idx.enclosing_function.push(open.last().copied());
            open.push(i);
        }
        idx.derive_module_objects(file);
    }

    pub fn function_named(&self, name: &str) -> Option<usize> {
        self.by_function_name.get(name).copied()
    }

    /// Index of the function whose definition contains `offset`.
    /// The outermost one when definitions nest.
    pub fn function_at(&self, offset: usize) -> Option<usize> {
        // The last function starting at or before `offset`, then out through the
        // functions enclosing it to the outermost that contains `offset`.
        let after = self.functions.partition_point(|f| f.range.0 <= offset);
        let mut at = after.checked_sub(1);
        let mut found = None;
        while let Some(i) = at {
            let f = &self.functions[i];
            if f.range.0 <= offset && offset < f.range.1 {
                found = Some(i);
            }
            at = self.enclosing_function.get(i).copied().flatten();
        }
        found
    }

    /// Calls made directly in function `f`.
    pub fn calls_in(&self, f: usize) -> impl Iterator<Item = &Call> {
        self.calls_by_function
            .get(f)
            .into_iter()
            .flatten()
            .map(|&i| &self.calls[i])
    }

    /// Declarations inside function `f`.
    pub fn decls_in(&self, f: usize) -> impl Iterator<Item = &Declaration> {
        self.decls_by_function
            .get(f)
            .into_iter()
            .flatten()
            .map(|&i| &self.decls[i])
    }

    /// Assignments made directly in function `f`.
    pub fn assignments_in(&self, f: usize) -> impl Iterator<Item = &Assignment> {
        self.assignments_by_function
            .get(f)
            .into_iter()
            .flatten()
            .map(|&i| &self.assignments[i])
    }

    /// Functions of this file reachable from `start` through direct calls (including `start`).
    pub fn reachable_from(&self, start: usize) -> Vec<usize> {
        let mut seen = FxHashSet::default();
        seen.insert(start);
        let mut order = vec![start];
        let mut i = 0;
        while i < order.len() {
            let f = order[i];
            i += 1;
            for c in self.calls_in(f) {
                if let Some(g) = self.function_named(&c.name) {
                    if seen.insert(g) {
                        order.push(g);
                    }
                }
            }
        }
        order
    }

    pub fn slot_array(&self, name: &str) -> Option<&SlotArray> {
        self.slot_arrays.iter().find(|s| s.name == name)
    }

    pub fn module_def(&self, name: &str) -> Option<&ModuleDef> {
        self.module_defs.iter().find(|d| d.name == name)
    }

    /// The declaration of `name` visible in function `f` (a local first, then file scope).
    pub fn declaration_of(&self, name: &str, f: Option<usize>) -> Option<&Declaration> {
        self.decls
            .iter()
            .filter(|d| d.name == name)
            .find(|d| f.is_some() && d.function == f)
            .or_else(|| {
                self.decls
                    .iter()
                    .find(|d| d.name == name && d.function.is_none())
            })
    }
}
