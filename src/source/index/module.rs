//! The module objects derived from the index: slot arrays, `PyModuleDef`s, module
//! init functions and method tables.

use std::collections::HashMap;

use super::macros::{self, MacroTable};
use super::{
    Call, Declaration, FileIndex, Function, Init, InitStyle, MethodEntry, MethodTable, ModuleDef,
    ModuleInit, SlotArray, SlotArrayKind, SlotEntry, SlotsRef,
};
use crate::capi::{self, EntryPoint, ModuleApi};
use crate::source::SourceFile;

impl FileIndex {
    /// Slot arrays, module definitions, module inits and method tables, from the
    /// declarations and functions the walk collected.
    pub(super) fn derive_module_objects(&mut self, file: &SourceFile) {
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
        let table = MacroTable::from_file(file);
        let names: Vec<(usize, String)> = self
            .functions
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                // `MODULE_INIT(name) { ... }` where the file defines
                // `#define MODULE_INIT(name) PyMODINIT_FUNC PyInit_##name(void)`.
                let pasted = macro_init_name(&macros, f);
                let name = pasted.unwrap_or_else(|| f.name.clone());
                if capi::module_entry_point(&name).is_some() {
                    return Some((i, name));
                }
                macro_named_init(file, f, &table).map(|n| (i, n))
            })
            .collect();
        for (i, name) in names {
            self.push_module_init(file, i, &name, &macros);
        }
    }

    /// Module inits named through macros defined outside the file (`headers`: the
    /// definitions of the headers it includes, read at project level). The file's
    /// own definitions win over the headers'.
    pub fn add_inits_from_macros(&mut self, file: &SourceFile, headers: &MacroTable) {
        let mut table = MacroTable::from_file(file);
        table.merge_missing(headers);
        let macros = local_function_macros(file);
        let known: Vec<usize> = self.module_inits.iter().map(|m| m.function).collect();
        let names: Vec<(usize, String)> = self
            .functions
            .iter()
            .enumerate()
            .filter(|(i, _)| !known.contains(i))
            .filter_map(|(i, f)| macro_named_init(file, f, &table).map(|n| (i, n)))
            .collect();
        for (i, name) in names {
            self.push_module_init(file, i, &name, &macros);
        }
    }

    /// Does any function look like an init named through a macro this file does not
    /// define (`PyMODINIT_FUNC` before it, or a macro-headed definition)?
    pub fn has_unresolved_init_candidates(&self, file: &SourceFile) -> bool {
        let known: Vec<usize> = self.module_inits.iter().map(|m| m.function).collect();
        self.functions.iter().enumerate().any(|(i, f)| {
            !known.contains(&i)
                && (file
                    .text
                    .get(f.range.0..f.name_range.0)
                    .is_some_and(|h| h.contains("PyMODINIT_FUNC"))
                    || f.name
                        .bytes()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_'))
        })
    }

    fn push_module_init(
        &mut self,
        file: &SourceFile,
        i: usize,
        name: &str,
        macros: &HashMap<&str, Vec<(Vec<&str>, &str)>>,
    ) {
        let Some((entry, module)) = capi::module_entry_point(name) else {
            return;
        };
        if self.module_inits.iter().any(|m| m.function == i) {
            return;
        }
        let f = &self.functions[i];
        {
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

/// The entry point a function declared through macros names: the declarator
/// (`INIT_NAME(void)`, `MODINIT(spam)(void)`, `MOD_INIT(spam)`) expanded with
/// `table`, when the function is declared `PyMODINIT_FUNC` or its name is a macro.
fn macro_named_init(file: &SourceFile, f: &Function, table: &MacroTable) -> Option<String> {
    if table.is_empty() {
        return None;
    }
    let head = file.text.get(f.range.0..f.name_range.0).unwrap_or("");
    let is_macro = table.defs.contains_key(&f.name);
    if !is_macro && !head.contains("PyMODINIT_FUNC") {
        return None;
    }
    // The whole head: return type and declarator, up to the body's brace (the
    // recorded name may be an argument of the macro, as in `INIT(spam)(void)`).
    let decl = file.text.get(f.range.0..f.body.0).unwrap_or("");
    macros::entry_name(table, decl)
}

/// Function-like macros the file defines: name → every (parameters, body) definition.
fn local_function_macros(file: &SourceFile) -> HashMap<&str, Vec<(Vec<&str>, &str)>> {
    use crate::source::lex::DirectiveKind;
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
