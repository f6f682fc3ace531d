//! The type model: each extension type (static `PyTypeObject` or `PyType_Spec`, in
//! any file) with its object struct, the functions it names (methods, getset,
//! slots), which of those are lifecycle functions, and the C++ classes its object
//! struct owns.

use std::collections::HashMap;

use super::facts::FileFacts;
use crate::source::entry::is_lifecycle_slot;

/// One extension type.
#[derive(Debug, Clone)]
pub struct ExtType {
    /// The `PyTypeObject`/`PyType_Spec` variable.
    pub var: String,
    /// `tp_name` (`mod.Buf`).
    pub py_name: Option<String>,
    /// Its object struct (`sizeof(BufObject)`).
    pub object_struct: Option<String>,
    /// Functions it names, with the slot (`tp_dealloc`, `Py_tp_methods`...).
    pub functions: Vec<(String, String)>,
    /// Functions filling a lifecycle slot (`tp_new`, `tp_dealloc`, `tp_clear`,
    /// `tp_traverse`, finalizers, `tp_init`).
    pub lifecycle: Vec<String>,
    /// C++ classes the object struct holds by pointer or by value.
    pub owned_classes: Vec<String>,
    /// Declared in this file.
    pub file: usize,
}

impl ExtType {
    /// Does `name` name this type: its variable, its Python name (or the last
    /// dotted part of it), or its object struct?
    pub fn is_named(&self, name: &str) -> bool {
        self.var == name
            || self.object_struct.as_deref() == Some(name)
            || self
                .py_name
                .as_deref()
                .is_some_and(|p| p == name || p.rsplit('.').next() == Some(name))
    }
}

/// Every extension type of the project, and which object struct belongs to which.
#[derive(Debug, Clone, Default)]
pub struct TypeModel {
    pub types: Vec<ExtType>,
    /// Object struct → indices into `types`.
    pub by_struct: HashMap<String, Vec<usize>>,
}

impl TypeModel {
    pub fn build(files: &[FileFacts]) -> TypeModel {
        let classes: Vec<&str> = files
            .iter()
            .flat_map(|f| f.functions.iter().filter_map(|f| f.class.as_deref()))
            .collect();
        let mut m = TypeModel::default();
        for (fi, ff) in files.iter().enumerate() {
            for t in &ff.types {
                let lifecycle = t
                    .functions
                    .iter()
                    .filter(|(slot, _)| is_lifecycle_slot(slot) || slot.ends_with("finalize"))
                    .map(|(_, f)| f.clone())
                    .collect();
                let owned_classes = t
                    .object_struct
                    .as_deref()
                    .and_then(|s| {
                        files
                            .iter()
                            .flat_map(|f| f.structs.iter())
                            .find(|st| st.names.iter().any(|n| n == s))
                    })
                    .map(|st| {
                        st.fields
                            .iter()
                            .map(|(_, ty, _)| {
                                ty.trim_start_matches("std::unique_ptr<")
                                    .trim_start_matches("std::shared_ptr<")
                                    .trim_end_matches('>')
                                    .rsplit("::")
                                    .next()
                                    .unwrap_or("")
                                    .to_owned()
                            })
                            .filter(|ty| classes.contains(&ty.as_str()))
                            .collect()
                    })
                    .unwrap_or_default();
                if let Some(s) = &t.object_struct {
                    m.by_struct
                        .entry(s.clone())
                        .or_default()
                        .push(m.types.len());
                }
                m.types.push(ExtType {
                    var: t.var.clone(),
                    py_name: t.py_name.clone(),
                    object_struct: t.object_struct.clone(),
                    functions: t.functions.clone(),
                    lifecycle,
                    owned_classes,
                    file: fi,
                });
            }
        }
        m
    }

    /// Is the object struct `st` (or the C++ class it is) one of the types `names` lists?
    pub fn struct_named(&self, st: &str, names: &[String]) -> bool {
        if names.iter().any(|n| n == st) {
            return true;
        }
        self.by_struct.get(st).is_some_and(|ts| {
            ts.iter()
                .any(|t| names.iter().any(|n| self.types[*t].is_named(n)))
        }) || self
            .types
            .iter()
            .any(|t| t.owned_classes.iter().any(|c| c == st) && names.iter().any(|n| t.is_named(n)))
    }
}
