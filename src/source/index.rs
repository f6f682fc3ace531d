//! The per-file index: everything rules ask about a file, collected in one walk of
//! the syntax tree. Rules read this; they do not walk the tree again for what it holds.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use super::SourceFile;
use crate::capi::{self, EntryPoint, ModuleApi};

/// A byte range in the file.
pub type Range = (usize, usize);

/// A parameter of a function definition.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    /// The declared type, e.g. `PyObject *` or `PyObject *const *`.
    pub ty: String,
}

/// A function definition.
#[derive(Debug, Clone)]
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
#[derive(Debug, Clone)]
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
#[derive(Debug, Clone)]
pub enum Init {
    Expr { range: Range, text: String },
    List { range: Range, items: Vec<InitItem> },
}

/// One element of a braced list, with its designator (`.m_slots`) if any.
#[derive(Debug, Clone)]
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
#[derive(Debug, Clone, Default)]
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
#[derive(Debug, Clone)]
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
#[derive(Debug, Clone)]
pub struct StructDef {
    pub names: Vec<String>,
    pub fields: Vec<(String, String)>,
    pub range: Range,
}

/// Which slot-array type: `PyModuleDef_Slot[]` or 3.15's `PySlot[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotArrayKind {
    ModuleDefSlot,
    PySlot,
}

/// One entry of a slot array: `{Py_mod_gil, Py_MOD_GIL_NOT_USED}` or
/// `PySlot_STATIC_DATA(Py_mod_gil, Py_MOD_GIL_NOT_USED)`.
#[derive(Debug, Clone)]
pub struct SlotEntry {
    pub slot: String,
    pub value: String,
    pub range: Range,
}

/// A module slot array.
#[derive(Debug, Clone)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotsRef {
    /// No `m_slots` field given (or `NULL`/`0`).
    None,
    /// `m_slots` names an array.
    Name(String),
    /// Something we cannot resolve.
    Other(String),
}

/// A `PyModuleDef` variable.
#[derive(Debug, Clone)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone)]
pub struct ModuleInit {
    pub module: String,
    pub function: usize,
    pub style: InitStyle,
    /// Functions of this file reachable from the init function by direct calls.
    pub init_path: Vec<usize>,
}

/// One `PyMethodDef` entry.
#[derive(Debug, Clone)]
pub struct MethodEntry {
    pub py_name: String,
    pub func: String,
    pub flags: String,
    pub range: Range,
}

/// A `PyMethodDef[]` table.
#[derive(Debug, Clone)]
pub struct MethodTable {
    pub name: String,
    pub entries: Vec<MethodEntry>,
    pub range: Range,
}

/// Everything rules need to know about one file.
#[derive(Debug, Default)]
pub struct FileIndex {
    pub functions: Vec<Function>,
    pub calls: Vec<Call>,
    pub decls: Vec<Declaration>,
    pub structs: Vec<StructDef>,
    pub module_defs: Vec<ModuleDef>,
    pub slot_arrays: Vec<SlotArray>,
    pub module_inits: Vec<ModuleInit>,
    pub method_tables: Vec<MethodTable>,
    by_function_name: HashMap<String, usize>,
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
#[derive(Debug, Clone)]
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
        let mut idx = FileIndex::default();
        Walker {
            file,
            idx: &mut idx,
        }
        .walk(file.tree.root_node());
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
        idx
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
        let mut seen = HashSet::from([start]);
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

    fn derive_module_objects(&mut self, file: &SourceFile) {
        for d in &self.decls {
            let Some(init) = &d.init else { continue };
            match d.base_type() {
                "PyModuleDef_Slot" if d.is_array => {
                    self.slot_arrays
                        .push(slot_array(d, init, SlotArrayKind::ModuleDefSlot));
                }
                "PySlot" if d.is_array => {
                    self.slot_arrays
                        .push(slot_array(d, init, SlotArrayKind::PySlot))
                }
                "PyModuleDef" if !d.is_pointer && !d.is_array => {
                    let field = |des: &str, pos: usize| {
                        init.field(des, pos).and_then(|f| f.expr()).map(str::trim)
                    };
                    let slots = match field("m_slots", 5) {
                        // Initialised by a macro (`= MODULE_DEF(name, slots)`): we cannot see the fields.
                        _ if init.expr().is_some() => {
                            SlotsRef::Other(init.expr().unwrap_or("").to_owned())
                        }
                        None | Some("NULL" | "0" | "nullptr") => SlotsRef::None,
                        Some(t) => {
                            let t = t.trim_start_matches('&').trim();
                            if is_identifier(t) {
                                SlotsRef::Name(t.to_owned())
                            } else {
                                SlotsRef::Other(t.to_owned())
                            }
                        }
                    };
                    self.module_defs.push(ModuleDef {
                        name: d.name.clone(),
                        m_name: field("m_name", 1).map(|s| s.trim_matches('"').to_owned()),
                        slots,
                        methods: field("m_methods", 4)
                            .filter(|m| is_identifier(m))
                            .map(str::to_owned),
                        range: d.range,
                        list_range: init.range(),
                    });
                }
                "PyMethodDef" if d.is_array => {
                    let entries = init
                        .items()
                        .iter()
                        .filter_map(|it| {
                            let name = it
                                .value
                                .field("ml_name", 0)?
                                .expr()?
                                .trim()
                                .trim_matches('"')
                                .to_owned();
                            let func = it.value.field("ml_meth", 1)?.expr().map(last_identifier)?;
                            let flags = it
                                .value
                                .field("ml_flags", 2)
                                .and_then(|f| f.expr())
                                .unwrap_or("")
                                .to_owned();
                            Some(MethodEntry {
                                py_name: name,
                                func,
                                flags,
                                range: it.range,
                            })
                        })
                        .collect();
                    self.method_tables.push(MethodTable {
                        name: d.name.clone(),
                        entries,
                        range: d.range,
                    });
                }
                _ => {}
            }
        }
        let macros = local_function_macros(file);
        for (i, f) in self.functions.iter().enumerate() {
            // `MODULE_INIT(name) { ... }` where the file defines
            // `#define MODULE_INIT(name) PyMODINIT_FUNC PyInit_##name(void)`.
            let pasted = macro_init_name(&macros, f);
            let name = pasted.as_deref().unwrap_or(&f.name);
            let Some((entry, module)) = capi::module_entry_point(name) else {
                continue;
            };
            let export = entry == EntryPoint::Export;
            let init_path = self.reachable_from(i);
            let calls: Vec<(usize, &Call)> = self
                .calls
                .iter()
                .enumerate()
                .filter(|(_, c)| c.function.is_some_and(|g| init_path.contains(&g)))
                .collect();
            let arg_ident = |c: &Call, n: usize| {
                c.args
                    .get(n)
                    .map(|r| last_identifier(&file.parse_text[r.0..r.1]))
                    .filter(|s| !s.is_empty())
            };
            let style = if export {
                let slots = f
                    .returns
                    .iter()
                    .map(|r| last_identifier(&file.parse_text[r.0..r.1]))
                    .find(|n| self.slot_arrays.iter().any(|s| &s.name == n))
                    .or_else(|| {
                        f.returns
                            .first()
                            .map(|r| last_identifier(&file.parse_text[r.0..r.1]))
                    });
                InitStyle::Export { slots }
            } else if let Some((_, c)) = calls
                .iter()
                .find(|(_, c)| capi::module_api(&c.name) == Some(ModuleApi::MultiPhaseInit))
            {
                InitStyle::MultiPhase {
                    def: arg_ident(c, 0),
                }
            } else if let Some((ci, c)) = calls.iter().find(|(_, c)| {
                capi::module_api(&c.name) == Some(ModuleApi::SinglePhaseCreate)
                    || macros.get(c.name.as_str()).is_some_and(|defs| {
                        defs.iter()
                            .any(|(_, body)| body.contains("PyModule_Create"))
                    })
            }) {
                InitStyle::SinglePhase {
                    def: arg_ident(c, 0),
                    create_call: *ci,
                }
            } else {
                InitStyle::Unknown
            };
            self.module_inits.push(ModuleInit {
                module: module.to_owned(),
                function: i,
                style,
                init_path,
            });
        }
    }
}

/// Function-like macros the file defines: name → every (parameters, body) definition.
fn local_function_macros(file: &SourceFile) -> HashMap<&str, Vec<(Vec<&str>, &str)>> {
    use super::lex::DirectiveKind;
    let mut out: HashMap<&str, Vec<(Vec<&str>, &str)>> = HashMap::new();
    for d in file
        .lexed
        .directives
        .iter()
        .filter(|d| d.kind == DirectiveKind::Define)
    {
        let name_len = d
            .arg
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        let (name, rest) = d.arg.split_at(name_len);
        let Some(rest) = rest.strip_prefix('(') else {
            continue;
        };
        let Some(close) = rest.find(')') else {
            continue;
        };
        let params = rest[..close].split(',').map(str::trim).collect();
        out.entry(name)
            .or_default()
            .push((params, rest[close + 1..].trim()));
    }
    out
}

/// The real name of a function written as `MACRO(arg) { ... }` when a definition of
/// `MACRO` pastes `PyInit_##param` (or `PyModExport_##param`).
fn macro_init_name(macros: &HashMap<&str, Vec<(Vec<&str>, &str)>>, f: &Function) -> Option<String> {
    let defs = macros.get(f.name.as_str())?;
    for (params, body) in defs {
        for prefix in capi::module_entry_prefixes() {
            for (i, p) in params.iter().enumerate() {
                let pasted = [format!("{prefix}##{p}"), format!("{prefix} ## {p}")];
                if !pasted.iter().any(|t| body.contains(t.as_str())) {
                    continue;
                }
                // The argument parses as a parameter: a type name or a parameter name.
                let arg = f.params.get(i).map(|a| {
                    if a.name.is_empty() {
                        a.ty.trim()
                    } else {
                        a.name.trim()
                    }
                })?;
                if !arg.is_empty() && arg.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
                    return Some(format!("{prefix}{arg}"));
                }
            }
        }
    }
    None
}

fn slot_array(d: &Declaration, init: &Init, kind: SlotArrayKind) -> SlotArray {
    let mut entries = Vec::new();
    let mut sentinel = None;
    for it in init.items() {
        let (slot, value) = match &it.value {
            Init::List { .. } => {
                let slot = it
                    .value
                    .field("slot", 0)
                    .or_else(|| it.value.field("sl_id", 0));
                let value = it
                    .value
                    .field("value", 1)
                    .or_else(|| it.value.field("sl_ptr", 1));
                (
                    slot.and_then(|s| s.expr()).unwrap_or("").trim(),
                    value.and_then(|v| v.expr()).unwrap_or("").trim(),
                )
            }
            Init::Expr { text, .. } => {
                // PySlot_STATIC_DATA(Py_mod_gil, Py_MOD_GIL_NOT_USED), PySlot_END
                let t = text.trim();
                match t.split_once('(') {
                    Some((_, rest)) => {
                        let inner = rest.trim_end().trim_end_matches(')');
                        let (a, b) = inner.split_once(',').unwrap_or((inner, ""));
                        (a.trim(), b.trim())
                    }
                    None => (t, ""),
                }
            }
        };
        let is_end =
            matches!(slot, "0" | "" | "NULL") || slot.ends_with("_END") || slot == "PySlot_END";
        if is_end {
            sentinel.get_or_insert(it.range);
            continue;
        }
        entries.push(SlotEntry {
            slot: slot.to_owned(),
            value: value.to_owned(),
            range: it.range,
        });
    }
    SlotArray {
        name: d.name.clone(),
        kind,
        entries,
        range: d.range,
        sentinel,
        list_range: init.range(),
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
}

/// The last identifier of an expression: the function in `(PyCFunction)(void(*)(void))f`,
/// the array in `&slots[0]`-free forms, the variable in `(PyObject *)&def`.
pub fn last_identifier(text: &str) -> String {
    let mut last = "";
    let mut i = 0;
    let b = text.as_bytes();
    while i < b.len() {
        if b[i].is_ascii_alphabetic() || b[i] == b'_' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let word = &text[s..i];
            if !matches!(word, "void" | "const" | "struct" | "NULL" | "nullptr") {
                last = word;
            }
        } else {
            i += 1;
        }
    }
    last.to_owned()
}

struct Walker<'a> {
    file: &'a SourceFile,
    idx: &'a mut FileIndex,
}

/// See [`Walker::init`].
const MAX_INIT_DEPTH: usize = 64;
/// Items of one initializer list the index keeps (see [`Walker::init`]).
const MAX_INIT_ITEMS: usize = 4096;

impl Walker<'_> {
    fn text(&self, n: Node) -> String {
        self.file.node_text(n).to_owned()
    }

    fn walk(&mut self, root: Node) {
        // Iterative: real C has initializer lists deep enough to overflow recursion.
        let mut stack: Vec<(Node, Option<usize>)> = vec![(root, None)];
        let mut cursor = root.walk();
        while let Some((node, mut func)) = stack.pop() {
            match node.kind() {
                "function_definition" => {
                    if let Some(f) = self.function(node) {
                        self.idx.functions.push(f);
                        func = Some(self.idx.functions.len() - 1);
                    }
                }
                "call_expression" => self.call(node, func),
                "assignment_expression" => self.assignment(node, func),
                "declaration" => self.declaration(node, func),
                "struct_specifier" | "class_specifier" => self.struct_def(node),
                "return_statement" => {
                    if let (Some(f), Some(e)) = (func, node.named_child(0)) {
                        self.idx.functions[f]
                            .returns
                            .push((e.start_byte(), e.end_byte()));
                    }
                }
                _ => {}
            }
            let children: Vec<Node> = node.children(&mut cursor).collect();
            stack.extend(children.into_iter().rev().map(|c| (c, func)));
        }
        self.idx.calls.sort_by_key(|c| c.range.0);
        self.idx.assignments.sort_by_key(|a| a.range.0);
    }

    fn assignment(&mut self, node: Node, func: Option<usize>) {
        let (Some(l), Some(r)) = (
            node.child_by_field_name("left"),
            node.child_by_field_name("right"),
        ) else {
            return;
        };
        let operator = node
            .child_by_field_name("operator")
            .map(|o| self.text(o))
            .unwrap_or_else(|| "=".to_owned());
        self.idx.assignments.push(Assignment {
            lhs: (l.start_byte(), l.end_byte()),
            lhs_text: self.text(l),
            rhs: (r.start_byte(), r.end_byte()),
            operator,
            range: (node.start_byte(), node.end_byte()),
            function: func,
        });
    }

    fn function(&mut self, node: Node) -> Option<Function> {
        let decl = node.child_by_field_name("declarator")?;
        let Some(fdecl) = find_function_declarator(decl) else {
            return self.macro_headed_function(node, decl);
        };
        let name_node = fdecl.child_by_field_name("declarator")?;
        // A macro-confused parse can make `if (x) {...}` look like a definition of `if`.
        if matches!(
            self.file.node_text(name_node),
            "if" | "while" | "for" | "switch" | "return" | "sizeof" | "do" | "else"
        ) {
            return None;
        }
        let body = node.child_by_field_name("body")?;
        let mut params = Vec::new();
        if let Some(plist) = fdecl.child_by_field_name("parameters") {
            let mut c = plist.walk();
            for p in plist.named_children(&mut c) {
                if p.kind() != "parameter_declaration"
                    && p.kind() != "optional_parameter_declaration"
                {
                    continue;
                }
                let ty = p
                    .child_by_field_name("type")
                    .map(|t| self.text(t))
                    .unwrap_or_default();
                let (name, ptr) = match p.child_by_field_name("declarator") {
                    Some(d) => {
                        let (n, _) = declarator_name(d);
                        let full = self.text(d);
                        let stars: String = full
                            .chars()
                            .take_while(|c| *c == '*' || c.is_whitespace())
                            .collect();
                        let stars = stars.replace(char::is_whitespace, "");
                        let inner = if full.contains("const") && stars.len() > 1 {
                            " *const *"
                        } else {
                            ""
                        };
                        (
                            n.map(|n| self.text(n)).unwrap_or_default(),
                            if inner.is_empty() {
                                stars
                            } else {
                                inner.trim().to_owned()
                            },
                        )
                    }
                    None => (String::new(), String::new()),
                };
                let ty = if ptr.is_empty() {
                    ty
                } else {
                    format!("{ty} {ptr}")
                };
                params.push(Param { name, ty });
            }
        }
        let specifiers = self.file.parse_text[node.start_byte()..decl.start_byte()]
            .trim()
            .to_owned();
        Some(Function {
            name: self.text(name_node),
            range: (node.start_byte(), node.end_byte()),
            name_range: (name_node.start_byte(), name_node.end_byte()),
            body: (body.start_byte(), body.end_byte()),
            params,
            specifiers,
            returns: vec![],
            has_error: node.has_error(),
        })
    }

    /// `MODULE_INIT(name) { ... }`: tree-sitter reads the macro as the type and
    /// `(name)` as a parenthesised declarator. Indexed as a function named after the
    /// macro with one parameter, so a file-local macro that pastes `PyInit_##name`
    /// can be resolved ([`macro_init_name`]).
    fn macro_headed_function(&mut self, node: Node, decl: Node) -> Option<Function> {
        let ty = node.child_by_field_name("type")?;
        if decl.kind() != "parenthesized_declarator" || ty.kind() != "type_identifier" {
            return None;
        }
        let arg = decl.named_child(0).filter(|n| n.kind() == "identifier")?;
        let body = node.child_by_field_name("body")?;
        Some(Function {
            name: self.text(ty),
            range: (node.start_byte(), node.end_byte()),
            name_range: (ty.start_byte(), decl.end_byte()),
            body: (body.start_byte(), body.end_byte()),
            params: vec![Param {
                name: self.text(arg),
                ty: String::new(),
            }],
            specifiers: String::new(),
            returns: vec![],
            has_error: node.has_error(),
        })
    }

    fn call(&mut self, node: Node, func: Option<usize>) {
        let Some(f) = node.child_by_field_name("function") else {
            return;
        };
        let callee = self.text(f);
        let name_node = last_identifier_node(f).unwrap_or(f);
        let mut args = Vec::new();
        if let Some(a) = node.child_by_field_name("arguments") {
            let mut c = a.walk();
            for arg in a.named_children(&mut c) {
                if arg.kind() != "comment" {
                    args.push((arg.start_byte(), arg.end_byte()));
                }
            }
        }
        self.idx.calls.push(Call {
            name: self.text(name_node),
            callee,
            range: (node.start_byte(), node.end_byte()),
            name_range: (name_node.start_byte(), name_node.end_byte()),
            args,
            function: func,
        });
    }

    fn declaration(&mut self, node: Node, func: Option<usize>) {
        let Some(ty) = node.child_by_field_name("type") else {
            return;
        };
        let mut storage = Storage::default();
        let mut first_declarator = None;
        let mut c = node.walk();
        for child in node.children(&mut c) {
            if node.field_name_for_child(child.id() as u32).is_some() && child.id() == ty.id() {
                continue;
            }
            match child.kind() {
                "storage_class_specifier" => match self.file.node_text(child) {
                    "static" => storage.is_static = true,
                    "extern" => storage.is_extern = true,
                    "_Thread_local" | "thread_local" | "__thread" => storage.thread_local = true,
                    _ => {}
                },
                "type_qualifier" => match self.file.node_text(child) {
                    "const" | "constexpr" => storage.is_const = true,
                    "_Atomic" => storage.atomic = true,
                    _ => {}
                },
                "ms_declspec_modifier" if self.file.node_text(child).contains("thread") => {
                    storage.thread_local = true
                }
                "init_declarator"
                | "identifier"
                | "pointer_declarator"
                | "array_declarator"
                | "reference_declarator"
                | "function_declarator"
                | "parenthesized_declarator" => {
                    first_declarator.get_or_insert(child.start_byte());
                }
                _ => {}
            }
        }
        let type_text = self.text(ty);
        if type_text.starts_with("std::atomic")
            || type_text.starts_with("atomic_")
            || type_text.starts_with("_Atomic")
        {
            storage.atomic = true;
        }
        let specifiers = self.file.parse_text
            [node.start_byte()..first_declarator.unwrap_or(ty.end_byte())]
            .trim()
            .to_owned();
        // `_Thread_local`, `thread_local`, `__thread`, and project macros such as
        // `NPY_TLS` or `Py_THREAD_LOCAL` that expand to one of them.
        let lower = specifiers.to_ascii_lowercase();
        if lower.contains("thread_local")
            || lower.contains("__thread")
            || specifiers
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .any(|w| w.ends_with("_TLS") || w == "TLS")
        {
            storage.thread_local = true;
        }
        let mut c = node.walk();
        for d in node.children_by_field_name("declarator", &mut c) {
            let (decl, init) = if d.kind() == "init_declarator" {
                (
                    d.child_by_field_name("declarator"),
                    d.child_by_field_name("value"),
                )
            } else {
                (Some(d), None)
            };
            let Some(decl) = decl else { continue };
            if find_function_declarator(decl)
                .is_some_and(|f| f.id() == decl.id() || !has_pointer_to_fn(decl))
            {
                continue; // a prototype, not a variable
            }
            let (Some(name), shape) = declarator_name(decl) else {
                continue;
            };
            self.idx.decls.push(Declaration {
                name: self.text(name),
                type_text: type_text.clone(),
                specifiers: specifiers.clone(),
                storage: storage.clone(),
                is_pointer: shape.pointer,
                is_array: shape.array,
                function: func,
                range: (node.start_byte(), node.end_byte()),
                name_range: (name.start_byte(), name.end_byte()),
                init: init.map(|i| self.init(i, 0)),
            });
        }
    }

    /// The initializer `node`. Lists nested deeper than [`MAX_INIT_DEPTH`] (no
    /// table of methods, slots or members nests that far) are kept as one
    /// expression, so generated `{{{...}}}` thousands deep cannot exhaust the stack.
    fn init(&self, node: Node, depth: usize) -> Init {
        let range = (node.start_byte(), node.end_byte());
        if node.kind() != "initializer_list" || depth >= MAX_INIT_DEPTH {
            return Init::Expr {
                range,
                text: self.text(node),
            };
        }
        let mut items = Vec::new();
        let mut c = node.walk();
        for child in node.named_children(&mut c) {
            if child.kind() == "comment" {
                continue;
            }
            // Tables the rules read (methods, slots, members, type objects) are
            // far shorter; data arrays of millions of numbers are not indexed.
            if items.len() >= MAX_INIT_ITEMS {
                break;
            }
            let item_range = (child.start_byte(), child.end_byte());
            if child.kind() == "initializer_pair" {
                let designator = child
                    .child_by_field_name("designator")
                    .map(|d| self.text(d).trim_start_matches('.').trim().to_owned());
                let Some(v) = child.child_by_field_name("value") else {
                    continue;
                };
                items.push(InitItem {
                    designator,
                    value: self.init(v, depth + 1),
                    range: item_range,
                });
            } else {
                items.push(InitItem {
                    designator: None,
                    value: self.init(child, depth + 1),
                    range: item_range,
                });
            }
        }
        Init::List { range, items }
    }

    fn struct_def(&mut self, node: Node) {
        let Some(body) = node.child_by_field_name("body") else {
            return;
        };
        let mut names = Vec::new();
        if let Some(n) = node.child_by_field_name("name") {
            names.push(self.text(n));
        }
        if let Some(p) = node.parent().filter(|p| p.kind() == "type_definition") {
            let mut c = p.walk();
            for d in p.children_by_field_name("declarator", &mut c) {
                if let (Some(n), _) = declarator_name(d) {
                    names.push(self.text(n));
                }
            }
        }
        let mut fields = Vec::new();
        let mut c = body.walk();
        for f in body.named_children(&mut c) {
            if f.kind() != "field_declaration" {
                continue;
            }
            let ty = f
                .child_by_field_name("type")
                .map(|t| self.text(t))
                .unwrap_or_default();
            let mut c2 = f.walk();
            for d in f.children_by_field_name("declarator", &mut c2) {
                if let (Some(n), _) = declarator_name(d) {
                    fields.push((self.text(n), ty.clone()));
                }
            }
        }
        self.idx.structs.push(StructDef {
            names,
            fields,
            range: (node.start_byte(), node.end_byte()),
        });
    }
}

#[derive(Default)]
struct Shape {
    pointer: bool,
    array: bool,
}

/// The identifier a declarator declares, and whether it is a pointer or array.
fn declarator_name(mut d: Node) -> (Option<Node>, Shape) {
    let mut shape = Shape::default();
    loop {
        match d.kind() {
            "identifier"
            | "field_identifier"
            | "type_identifier"
            | "qualified_identifier"
            | "destructor_name"
            | "operator_name" => return (Some(d), shape),
            "pointer_declarator" | "reference_declarator" => shape.pointer = true,
            "array_declarator" => shape.array = true,
            _ => {}
        }
        let next = d.child_by_field_name("declarator").or_else(|| {
            let mut c = d.walk();
            let found = d
                .named_children(&mut c)
                .find(|n| n.kind().ends_with("declarator") || n.kind() == "identifier");
            found
        });
        match next {
            Some(n) => d = n,
            None => return (None, shape),
        }
    }
}

fn find_function_declarator(mut d: Node) -> Option<Node> {
    loop {
        if d.kind() == "function_declarator" {
            return Some(d);
        }
        d = d.child_by_field_name("declarator")?;
    }
}

/// `int (*fp)(void)` declares a variable (a function pointer), not a prototype.
fn has_pointer_to_fn(d: Node) -> bool {
    let mut n = Some(d);
    while let Some(x) = n {
        if x.kind() == "parenthesized_declarator" {
            return true;
        }
        if x.kind() == "function_declarator" {
            n = x.child_by_field_name("declarator");
            continue;
        }
        n = x.child_by_field_name("declarator");
    }
    false
}

fn last_identifier_node(n: Node) -> Option<Node> {
    match n.kind() {
        "identifier" | "field_identifier" => Some(n),
        "field_expression" => n.child_by_field_name("field"),
        "qualified_identifier" => n.child_by_field_name("name").and_then(last_identifier_node),
        "template_function" => n.child_by_field_name("name").and_then(last_identifier_node),
        "parenthesized_expression" => n.named_child(0).and_then(last_identifier_node),
        _ => None,
    }
}
