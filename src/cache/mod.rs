//! The check cache (`.ftaudit_cache/`), like ruff's: what a run learnt about each
//! file, so that the next run redoes only what changed.
//!
//! Layout, below the cache folder (the project root's `.ftaudit_cache/` unless
//! `--cache-dir` or the `cache-dir` key says otherwise):
//!
//! ```text
//! .gitignore            `*`: the folder never ends up in version control
//! CACHEDIR.TAG          marks the folder as a cache for backup tools
//! <version>/files/<key>.bin    one per C/C++ file: FileEntry (bincode)
//! <version>/runs/<slot>.json   one per set of roots and settings: RunEntry
//! ```
//!
//! A file entry is found by the file's path and the fingerprint of its settings,
//! and used only when the file's content hash matches: it holds the file's own
//! findings (its file checks) and its [`FileFacts`]. A run entry holds the whole
//! result of a run, and is used only when the discovered files and every content
//! hash are the same as when it was written: an unchanged re-run reads and hashes
//! the files and nothing else.
//!
//! The cache is never trusted blindly: an entry that does not parse, was written by
//! another version or format, or is about another path is ignored with a note and
//! overwritten. Entries are written to a temporary file and renamed into place, so
//! a reader sees a whole entry or none, and concurrent runs at worst redo work.

mod entry;
mod hash;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use entry::{
    restore_all, CachedDiagnostic, CachedResult, FileEntry, FileEntryOut, FileModel, FileModelOut,
    RunEntry, TextKind,
};
pub use hash::{content_hash, Hash, Hasher};

use crate::settings::Settings;

/// Bumped when the layout of an entry changes (together with the version, part of
/// every entry's identity).
pub const FORMAT: u32 = 3;

/// The folder name below a project root.
pub const DIR_NAME: &str = ".ftaudit_cache";

/// An open cache folder.
pub struct Cache {
    /// `<cache dir>/<version>`.
    dir: PathBuf,
    notes: Mutex<Vec<String>>,
}

impl Cache {
    /// Opens (creating it if needed) the cache in `root`. Fails when the folder cannot
    /// be created; the caller then runs without a cache.
    pub fn open(root: &Path) -> Result<Cache, String> {
        let dir = root.join(env!("CARGO_PKG_VERSION"));
        for sub in ["files", "runs"] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(|e| format!("cannot create the cache in {}: {e}", root.display()))?;
        }
        // Like ruff's: the folder ignores itself, and says it is a cache.
        let ignore = root.join(".gitignore");
        if !ignore.exists() {
            let _ = write_atomically(&ignore, b"# Automatically created by ftaudit.\n*\n");
        }
        let tag = root.join("CACHEDIR.TAG");
        if !tag.exists() {
            let _ = write_atomically(
                &tag,
                b"Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by ftaudit.\n",
            );
        }
        Ok(Cache {
            dir,
            notes: Mutex::new(Vec::new()),
        })
    }

    /// The cache folder for `settings` and an explicit `--cache-dir`: the option,
    /// else the project root's `.ftaudit_cache`.
    pub fn location(explicit: Option<&Path>, settings: &Settings) -> PathBuf {
        match explicit {
            Some(d) => d.to_path_buf(),
            None => settings.project_root.join(DIR_NAME),
        }
    }

    /// Notes about entries that were ignored (corrupt, foreign) or not written.
    pub fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut *self.notes.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn note(&self, message: String) {
        self.notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message);
    }

    fn file_path(&self, key: Hash) -> PathBuf {
        let ext = Encoding::Binary.extension();
        self.dir.join("files").join(format!("{key}.{ext}"))
    }

    fn run_path(&self, key: Hash) -> PathBuf {
        let ext = Encoding::Json.extension();
        self.dir.join("runs").join(format!("{key}.{ext}"))
    }

    /// The entry of the file at `path` with `settings`, if one was written for this
    /// content.
    pub fn load_file(&self, path: &Path, settings: Hash, content: Hash) -> Option<FileEntry> {
        let at = self.file_path(file_key(path, settings));
        let entry: FileEntry = self.read(&at, Encoding::Binary)?;
        if entry.format != FORMAT
            || entry.version != env!("CARGO_PKG_VERSION")
            || entry.path != path
            || entry.settings != settings
        {
            self.note(format!(
                "{}: a cache entry for another file, version or format: ignored",
                at.display()
            ));
            return None;
        }
        (entry.content == content).then_some(entry)
    }

    pub fn store_file(&self, entry: &FileEntryOut) {
        let at = self.file_path(file_key(entry.path, entry.settings));
        self.write(&at, entry, Encoding::Binary);
    }

    /// The result of the last run over these roots and settings (`slot`), if it
    /// was over exactly these inputs (`key`).
    pub fn load_run(&self, slot: Hash, key: Hash) -> Option<RunEntry> {
        let at = self.run_path(slot);
        let entry: RunEntry = self.read(&at, Encoding::Json)?;
        if entry.format != FORMAT || entry.version != env!("CARGO_PKG_VERSION") {
            self.note(format!(
                "{}: a cache entry for another version or format: ignored",
                at.display()
            ));
            return None;
        }
        // Another key is the usual case after an edit: the entry is replaced.
        (entry.key == key).then_some(entry)
    }

    /// Replaces the run entry of `slot`.
    pub fn store_run(&self, slot: Hash, entry: &RunEntry) {
        self.write(&self.run_path(slot), entry, Encoding::Json);
    }

    fn read<T: DeserializeOwned>(&self, at: &Path, encoding: Encoding) -> Option<T> {
        let bytes = match std::fs::read(at) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                self.note(format!(
                    "{}: cannot read the cache entry: {e}",
                    at.display()
                ));
                return None;
            }
        };
        match encoding.decode(&bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                self.note(format!(
                    "{}: a corrupt cache entry ({e}): ignored and rewritten",
                    at.display()
                ));
                None
            }
        }
    }

    fn write<T: Serialize>(&self, at: &Path, value: &T, encoding: Encoding) {
        let result = encoding
            .encode(value)
            .and_then(|bytes| write_atomically(at, &bytes));
        if let Err(e) = result {
            self.note(format!(
                "{}: cannot write the cache entry: {e}",
                at.display()
            ));
        }
    }
}

/// A file entry from the bytes of its file (for tests and tools that inspect the
/// cache; a run reads entries through [`Cache::load_file`]).
pub fn decode_file_entry(bytes: &[u8]) -> Result<FileEntry, String> {
    Encoding::Binary.decode(bytes)
}

/// How an entry is written. File entries hold a file's whole model (index, masked
/// text, facts), some 5× the file's size as JSON, and a re-run reads one per
/// file: they are binary (bincode), which reads several times faster. The run
/// entry is one small JSON file.
#[derive(Clone, Copy)]
enum Encoding {
    Json,
    Binary,
}

impl Encoding {
    /// bincode with variable-length integers, reading at most the entry's own
    /// length (a corrupt length prefix cannot ask for more memory than that).
    fn bincode(limit: u64) -> impl bincode::Options {
        use bincode::Options;
        bincode::DefaultOptions::new()
            .with_limit(limit)
            .reject_trailing_bytes()
    }

    fn encode<T: Serialize>(self, value: &T) -> Result<Vec<u8>, String> {
        use bincode::Options;
        match self {
            Encoding::Json => serde_json::to_vec(value).map_err(|e| e.to_string()),
            Encoding::Binary => Self::bincode(u64::MAX)
                .serialize(value)
                .map_err(|e| e.to_string()),
        }
    }

    fn decode<T: DeserializeOwned>(self, bytes: &[u8]) -> Result<T, String> {
        use bincode::Options;
        match self {
            Encoding::Json => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
            Encoding::Binary => Self::bincode(bytes.len() as u64)
                .deserialize(bytes)
                .map_err(|e| e.to_string()),
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Encoding::Json => "json",
            Encoding::Binary => "bin",
        }
    }
}

/// Where a file's entry lives: its path and its settings (so that two runs with
/// different settings keep their own entries).
fn file_key(path: &Path, settings: Hash) -> Hash {
    let mut h = Hasher::new();
    h.path(path);
    h.hash(settings);
    h.finish()
}

/// The fingerprint of everything in `settings` that can change a finding. Every
/// field is in it (through its debug form), so a setting added later is covered
/// without touching the cache.
pub fn settings_fingerprint(settings: &Settings) -> Hash {
    let mut h = Hasher::new();
    h.str(&format!("{settings:?}"));
    h.finish()
}

/// Writes `bytes` to a temporary file next to `at` and renames it into place.
fn write_atomically(at: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let dir = at.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| e.to_string())?;
    tmp.write_all(bytes).map_err(|e| e.to_string())?;
    tmp.persist(at).map_err(|e| e.error.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::source::{Language, ParsedFile, SourceFile};

    /// A file entry written and read back rebuilds the file as the pipeline kept
    /// it: same index, conditions, comments, masked text, facts and kept words,
    /// without a tree and without parsing.
    #[test]
    fn a_file_entry_rebuilds_the_project_file() {
        let text = "#include <Python.h>\n#ifdef Py_GIL_DISABLED\n/* PyInit_m */\nstatic int n;\n#else\nstatic long n;\n#endif\nstatic PyObject *f(PyObject *self, PyObject *d) {\n    n++;\n    return PyDict_GetItem(d, self);\n}\nstatic PyMethodDef methods[] = {{\"f\", f, METH_O, NULL}, {NULL}};\nstatic struct PyModuleDef def = {PyModuleDef_HEAD_INIT, \"m\", NULL, -1, methods};\nPyMODINIT_FUNC PyInit_m(void) { return PyModule_Create(&def); }\n";
        let path = PathBuf::from("m.c");
        let settings = Arc::new(Settings::default());
        let file = SourceFile::from_text(path.clone(), Language::C, text.to_owned(), false);
        let errors = file.parse_error_count();
        let pf = crate::check::project_file(ParsedFile::new(file), settings.clone(), true);
        let bytes = Encoding::Binary
            .encode(&FileEntryOut {
                format: FORMAT,
                version: env!("CARGO_PKG_VERSION"),
                path: &path,
                settings: Hash(1),
                content: Hash(2),
                diagnostics: Vec::new(),
                model: FileModelOut::of(&pf, errors).expect("the tree is released"),
            })
            .expect("encodes");
        let entry = decode_file_entry(&bytes).expect("decodes");
        assert_eq!(
            (entry.path.as_path(), entry.content),
            (path.as_path(), Hash(2))
        );
        let (back, back_errors) = entry
            .model
            .restore(
                path.clone(),
                text.to_owned(),
                false,
                false,
                settings.clone(),
                true,
            )
            .expect("restores");
        assert!(!back.file.tree.is_present());
        assert_eq!(back_errors, errors);
        let debug = |pf: &crate::context::ProjectFile| {
            format!(
                "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{:?}",
                pf.index,
                pf.file.conditions,
                pf.file.lexed,
                pf.entry,
                pf.parse_problem,
                pf.prepared_fixes,
                pf.file.parse_text,
                pf.file.code_occurrences("PyInit_m"),
            )
        };
        assert_eq!(debug(&back), debug(&pf));
        assert!(!back.index.functions.is_empty() && back.entry.is_some());
        // Without entry facts in the entry, a run that needs them analyses the file.
        let none = crate::check::project_file(
            ParsedFile::new(SourceFile::from_text(
                path.clone(),
                Language::C,
                text.to_owned(),
                false,
            )),
            settings.clone(),
            false,
        );
        let bytes = Encoding::Binary
            .encode(&FileModelOut::of(&none, errors).expect("released"))
            .expect("encodes");
        let model: FileModel = Encoding::Binary.decode(&bytes).expect("decodes");
        assert!(model
            .restore(path, text.to_owned(), false, false, settings, true)
            .is_none());
        // A truncated entry is an error, never a panic.
        assert!(decode_file_entry(&bytes[..bytes.len() / 2]).is_err());
    }
}
