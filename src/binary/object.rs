//! Facts read from one extension binary — ELF, PE or Mach-O (including fat
//! binaries) — with the `object` crate: imported symbols and DLLs, the module entry
//! points it exports, which headers it was built with, and whether each module
//! declares that it can run without the GIL.
//!
//! Every fact can be "unknown": absence of evidence is reported as such, never
//! guessed.

use std::collections::{BTreeSet, HashMap};

use object::read::macho::{FatArch, MachOFatFile32, MachOFatFile64};
use object::{
    Endianness, FileKind, Object, ObjectSection, ObjectSymbol, ObjectSymbolTable, RelocationTarget,
    SectionKind,
};

use crate::capi::{self, EntryPoint, ModuleApi, Since};

use crate::capi::abi::{FREE_THREADED_IMPORTS, GIL_IMPORTS};

/// The slot number of `Py_mod_gil` (3.13+).
fn py_mod_gil() -> u64 {
    capi::module_slot("Py_mod_gil").map_or(4, |s| u64::from(s.number))
}

/// Binary container format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Elf,
    Pe,
    MachO,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Elf => "ELF",
            Format::Pe => "PE",
            Format::MachO => "Mach-O",
        }
    }
}

/// Which headers the binary was compiled with, as far as its imports tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// Free-threaded headers (`Py_GIL_DISABLED`).
    FreeThreaded,
    /// Regular (GIL) headers.
    Gil,
    /// Evidence of both: parts were compiled differently.
    Mixed,
    /// Linked against the stable-ABI DLL (`python3.dll`).
    StableAbi,
    /// No import decides it (a module that never calls `Py_DECREF` looks the same
    /// in both builds).
    Unknown,
}

impl Build {
    pub fn as_str(self) -> &'static str {
        match self {
            Build::FreeThreaded => "free-threaded",
            Build::Gil => "gil",
            Build::Mixed => "mixed",
            Build::StableAbi => "stable-abi",
            Build::Unknown => "unknown",
        }
    }
}

/// How a module is initialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitStyle {
    /// `PyInit_*` returns `PyModuleDef_Init(&def)`.
    MultiPhase,
    /// `PyInit_*` calls `PyModule_Create`.
    SinglePhase,
    /// 3.15 `PyModExport_*`.
    Export,
    Unknown,
}

impl InitStyle {
    pub fn as_str(self) -> &'static str {
        match self {
            InitStyle::MultiPhase => "multi-phase",
            InitStyle::SinglePhase => "single-phase",
            InitStyle::Export => "PyModExport",
            InitStyle::Unknown => "unknown",
        }
    }
}

/// What the module says about the GIL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GilDeclaration {
    /// `Py_MOD_GIL_NOT_USED` (slot or `PyUnstable_Module_SetGIL`).
    NotUsed,
    /// An explicit `{Py_mod_gil, Py_MOD_GIL_USED}`.
    Used,
    /// No declaration: the interpreter assumes the GIL is needed.
    Undeclared,
    Unknown,
}

impl GilDeclaration {
    pub fn as_str(self) -> &'static str {
        match self {
            GilDeclaration::NotUsed => "not-used",
            GilDeclaration::Used => "used",
            GilDeclaration::Undeclared => "undeclared",
            GilDeclaration::Unknown => "unknown",
        }
    }
}

/// One module entry point exported by a binary.
#[derive(Debug, Clone)]
pub struct ModuleFacts {
    /// The name after `PyInit_` / `PyModExport_`.
    pub name: String,
    pub style: InitStyle,
    pub gil: GilDeclaration,
    /// How `gil` was decided, for messages.
    pub how: String,
}

/// A Python DLL a PE binary imports from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonDll {
    pub name: String,
    /// `Some(13)` for `python313.dll`; `None` for the stable-ABI `python3.dll`.
    pub minor: Option<u32>,
    pub free_threaded: bool,
}

/// Everything read from one binary (one slice of a fat Mach-O file).
#[derive(Debug, Clone)]
pub struct BinaryFacts {
    pub format: Format,
    /// The architecture, e.g. `x86_64`.
    pub arch: String,
    pub imports: BTreeSet<String>,
    /// PE only: imported DLL names, lower-cased.
    pub dlls: Vec<String>,
    pub python_dll: Option<PythonDll>,
    pub modules: Vec<ModuleFacts>,
    pub build: Build,
    /// The imports (or DLL) that decided `build`.
    pub evidence: Vec<String>,
}

/// Parses a binary. A fat Mach-O file gives one entry per architecture. The error
/// says why the bytes are not a usable binary.
pub fn analyse(data: &[u8]) -> Result<Vec<BinaryFacts>, String> {
    let kind = FileKind::parse(data).map_err(|e| format!("not a recognised binary ({e})"))?;
    match kind {
        FileKind::MachOFat32 => {
            let fat = MachOFatFile32::parse(data)
                .map_err(|e| format!("corrupt fat Mach-O header: {e}"))?;
            fat.arches()
                .iter()
                .map(|a| {
                    a.data(data)
                        .map_err(|e| format!("corrupt fat Mach-O slice: {e}"))
                        .and_then(analyse_one)
                })
                .collect()
        }
        FileKind::MachOFat64 => {
            let fat = MachOFatFile64::parse(data)
                .map_err(|e| format!("corrupt fat Mach-O header: {e}"))?;
            fat.arches()
                .iter()
                .map(|a| {
                    a.data(data)
                        .map_err(|e| format!("corrupt fat Mach-O slice: {e}"))
                        .and_then(analyse_one)
                })
                .collect()
        }
        FileKind::Elf32
        | FileKind::Elf64
        | FileKind::Pe32
        | FileKind::Pe64
        | FileKind::MachO32
        | FileKind::MachO64 => analyse_one(data).map(|f| vec![f]),
        other => Err(format!("{other:?} files are not extension binaries")),
    }
}

fn analyse_one(data: &[u8]) -> Result<BinaryFacts, String> {
    let file = object::File::parse(data).map_err(|e| format!("corrupt binary: {e}"))?;
    let format = match file.format() {
        object::BinaryFormat::Elf => Format::Elf,
        object::BinaryFormat::Pe => Format::Pe,
        object::BinaryFormat::MachO => Format::MachO,
        other => return Err(format!("unsupported binary format {other:?}")),
    };
    let strip = |name: &[u8]| -> String {
        let s = String::from_utf8_lossy(name).into_owned();
        let s = if format == Format::MachO {
            s.strip_prefix('_').map(str::to_owned).unwrap_or(s)
        } else {
            s
        };
        // ELF version suffixes (`usleep@GLIBC_2.2.5`) are not part of the name.
        s.split('@').next().unwrap_or_default().to_owned()
    };
    let mut imports = BTreeSet::new();
    let mut dlls = BTreeSet::new();
    let mut exported: Vec<String> = Vec::new();
    if format == Format::MachO {
        // Extension modules link with `-undefined dynamic_lookup`, whose binds the
        // import reader rejects; the symbol table lists the same names.
        for sym in file.symbols() {
            let Ok(name) = sym.name_bytes() else { continue };
            if sym.is_undefined() {
                imports.insert(strip(name));
            } else if sym.is_global() {
                exported.push(strip(name));
            }
        }
    } else {
        for imp in file
            .imports()
            .map_err(|e| format!("corrupt import table: {e}"))?
        {
            imports.insert(strip(imp.name()));
            if format == Format::Pe {
                dlls.insert(String::from_utf8_lossy(imp.library()).to_ascii_lowercase());
            }
        }
        for e in file
            .exports()
            .map_err(|e| format!("corrupt export table: {e}"))?
        {
            exported.push(strip(e.name()));
        }
    }
    let mut entry_points: Vec<(String, InitStyle)> = Vec::new();
    for name in exported {
        match capi::module_entry_point(&name) {
            Some((EntryPoint::Init, m)) => entry_points.push((m.to_owned(), InitStyle::Unknown)),
            Some((EntryPoint::Export, m)) => entry_points.push((m.to_owned(), InitStyle::Export)),
            None => {}
        }
    }
    entry_points.sort_by(|a, b| a.0.cmp(&b.0));
    entry_points.dedup_by(|a, b| a.0 == b.0);
    let dlls: Vec<String> = dlls.into_iter().collect();
    let python_dll = dlls.iter().find_map(|d| parse_python_dll(d));
    let (build, evidence) = build_evidence(&imports, python_dll.as_ref());
    let image = Image::new(&file);
    let modules = entry_points
        .into_iter()
        .map(|(name, style)| module_facts(&name, style, &imports, &image))
        .collect();
    Ok(BinaryFacts {
        format,
        arch: format!("{:?}", file.architecture()).to_ascii_lowercase(),
        imports,
        dlls,
        python_dll,
        modules,
        build,
        evidence,
    })
}

/// `python313t.dll` → minor 13, free-threaded; `python3.dll` → stable ABI.
pub fn parse_python_dll(name: &str) -> Option<PythonDll> {
    let stem = name.to_ascii_lowercase();
    let stem = stem.strip_suffix(".dll")?;
    let rest = stem.strip_prefix("python3")?;
    let rest = rest.strip_suffix("_d").unwrap_or(rest);
    if rest.is_empty() {
        return Some(PythonDll {
            name: name.to_owned(),
            minor: None,
            free_threaded: false,
        });
    }
    if rest == "t" {
        return Some(PythonDll {
            name: name.to_owned(),
            minor: None,
            free_threaded: true,
        });
    }
    let (digits, ft) = match rest.strip_suffix('t') {
        Some(d) => (d, true),
        None => (rest, false),
    };
    let minor = digits.parse::<u32>().ok()?;
    Some(PythonDll {
        name: name.to_owned(),
        minor: Some(minor),
        free_threaded: ft,
    })
}

fn build_evidence(imports: &BTreeSet<String>, dll: Option<&PythonDll>) -> (Build, Vec<String>) {
    if let Some(d) = dll {
        return match (d.minor, d.free_threaded) {
            (Some(_), true) => (Build::FreeThreaded, vec![d.name.clone()]),
            (Some(_), false) => (Build::Gil, vec![d.name.clone()]),
            (None, _) => (Build::StableAbi, vec![d.name.clone()]),
        };
    }
    let ft: Vec<String> = FREE_THREADED_IMPORTS
        .iter()
        .filter(|s| imports.contains(**s))
        .map(|s| s.to_string())
        .collect();
    let gil: Vec<String> = GIL_IMPORTS
        .iter()
        .filter(|s| imports.contains(**s))
        .map(|s| s.to_string())
        .collect();
    match (ft.is_empty(), gil.is_empty()) {
        (false, true) => (Build::FreeThreaded, ft),
        (true, false) => (Build::Gil, gil),
        (false, false) => (Build::Mixed, ft.into_iter().chain(gil).collect()),
        (true, true) => (Build::Unknown, Vec::new()),
    }
}

fn module_facts(
    name: &str,
    style: InitStyle,
    imports: &BTreeSet<String>,
    image: &Image,
) -> ModuleFacts {
    let fact = |style, gil, how: &str| ModuleFacts {
        name: name.to_owned(),
        style,
        gil,
        how: how.to_owned(),
    };
    if style == InitStyle::Export {
        return fact(
            InitStyle::Export,
            GilDeclaration::Unknown,
            "`PyModExport_*` slot arrays are not read yet",
        );
    }
    // Macros (`PyModule_Create`) are in the catalogue too; they are never imported.
    let imported =
        |is: fn(ModuleApi) -> bool| capi::module_apis().any(|(n, m)| is(m) && imports.contains(n));
    let multi = imported(|m| matches!(m, ModuleApi::MultiPhaseInit | ModuleApi::CreateFromSpec));
    let single = imported(|m| m == ModuleApi::SinglePhaseCreate);
    let set_gil = imported(|m| m == ModuleApi::SetGil);
    if multi {
        match image.gil_slot_of(name) {
            DefLookup::Slot(1) => {
                return fact(
                    InitStyle::MultiPhase,
                    GilDeclaration::NotUsed,
                    "slot `{Py_mod_gil, Py_MOD_GIL_NOT_USED}`",
                )
            }
            DefLookup::Slot(0) => {
                return fact(
                    InitStyle::MultiPhase,
                    GilDeclaration::Used,
                    "slot `{Py_mod_gil, Py_MOD_GIL_USED}`",
                )
            }
            DefLookup::Slot(v) => {
                return fact(
                    InitStyle::MultiPhase,
                    GilDeclaration::Unknown,
                    &format!("`Py_mod_gil` slot with unexpected value {v}"),
                )
            }
            DefLookup::NoGilSlot => {
                return fact(
                    InitStyle::MultiPhase,
                    GilDeclaration::Undeclared,
                    "its `PyModuleDef` slot array has no `Py_mod_gil` entry",
                )
            }
            DefLookup::NoSlots if !single => {
                return fact(
                    InitStyle::MultiPhase,
                    GilDeclaration::Undeclared,
                    "its `PyModuleDef` has no slot array",
                )
            }
            DefLookup::NoSlots | DefLookup::NotFound => {}
        }
        if !single {
            return fact(
                InitStyle::MultiPhase,
                GilDeclaration::Unknown,
                "the module definition could not be located in the data sections",
            );
        }
    }
    if single {
        if set_gil {
            return fact(
                InitStyle::SinglePhase,
                GilDeclaration::NotUsed,
                "imports `PyUnstable_Module_SetGIL`",
            );
        }
        return fact(
            InitStyle::SinglePhase,
            GilDeclaration::Undeclared,
            "single-phase init without `PyUnstable_Module_SetGIL`",
        );
    }
    fact(
        InitStyle::Unknown,
        GilDeclaration::Unknown,
        "imports neither `PyModuleDef_Init` nor `PyModule_Create2`",
    )
}

enum DefLookup {
    /// The value of the `Py_mod_gil` slot.
    Slot(u64),
    NoGilSlot,
    /// A definition with `m_slots == NULL`.
    NoSlots,
    NotFound,
}

/// The loaded image as far as the file describes it: section contents by virtual
/// address, plus pointer values that dynamic relocations put there.
struct Image<'a> {
    sections: Vec<(u64, u64, &'a [u8], SectionKind)>,
    relocated: HashMap<u64, Option<u64>>,
    ptr: u64,
    little: bool,
    /// 64-bit Mach-O: stored pointers may be chained fixups.
    macho64: bool,
}

impl<'a> Image<'a> {
    fn new(file: &object::File<'a>) -> Self {
        let mut sections = Vec::new();
        for s in file.sections() {
            let data = s.data().unwrap_or(&[]);
            sections.push((s.address(), s.size(), data, s.kind()));
        }
        let mut relocated = HashMap::new();
        if let Some(relocs) = file.dynamic_relocations() {
            let dynsyms = file.dynamic_symbol_table();
            for (offset, r) in relocs {
                let value = match r.target() {
                    RelocationTarget::Absolute if !r.has_implicit_addend() => {
                        Some(r.addend() as u64)
                    }
                    RelocationTarget::Absolute => continue,
                    RelocationTarget::Symbol(idx) => {
                        let sym = dynsyms.as_ref().and_then(|t| t.symbol_by_index(idx).ok());
                        match sym {
                            Some(s) if !s.is_undefined() => {
                                Some(s.address().wrapping_add(r.addend() as u64))
                            }
                            _ => None,
                        }
                    }
                    _ => None,
                };
                relocated.insert(offset, value);
            }
        }
        let little = file.endianness() == Endianness::Little;
        let macho64 = file.format() == object::BinaryFormat::MachO && file.is_64();
        Image {
            sections,
            relocated,
            ptr: if file.is_64() { 8 } else { 4 },
            little,
            macho64,
        }
    }

    fn bytes(&self, addr: u64, len: u64) -> Option<&'a [u8]> {
        let (start, _, data, _) = self
            .sections
            .iter()
            .find(|(a, size, data, _)| addr >= *a && addr - a < *size && !data.is_empty())?;
        let off = usize::try_from(addr - start).ok()?;
        data.get(off..off.checked_add(usize::try_from(len).ok()?)?)
    }

    fn uint(&self, addr: u64, len: u64) -> Option<u64> {
        let b = self.bytes(addr, len)?;
        let mut v: u64 = 0;
        for i in 0..b.len() {
            let byte = if self.little {
                b[b.len() - 1 - i]
            } else {
                b[i]
            };
            v = (v << 8) | u64::from(byte);
        }
        Some(v)
    }

    /// A pointer-sized value as the loader leaves it. `None` for a pointer to an
    /// imported symbol or memory the file does not describe.
    fn pointer(&self, addr: u64) -> Option<u64> {
        if let Some(v) = self.relocated.get(&addr) {
            return *v;
        }
        let raw = self.uint(addr, self.ptr)?;
        if self.macho64 {
            // A chained fixup (`DYLD_CHAINED_PTR_64[_OFFSET]`): bit 63 marks a bind to
            // an imported symbol; a rebase keeps the target in the low 36 bits. Plain
            // (pre-chained) pointers of a dylib are below 2^36 and pass unchanged.
            if raw >> 63 == 1 {
                return None;
            }
            return Some(raw & ((1 << 36) - 1));
        }
        Some(raw)
    }

    fn c_string(&self, addr: u64) -> Option<&'a [u8]> {
        let (start, _, data, _) = self
            .sections
            .iter()
            .find(|(a, size, data, _)| addr >= *a && addr - a < *size && !data.is_empty())?;
        let off = usize::try_from(addr - start).ok()?;
        let rest = data.get(off..)?;
        let end = rest.iter().position(|b| *b == 0)?;
        Some(&rest[..end])
    }

    /// Finds the `PyModuleDef` whose `m_name` is `name` (or ends in `.name`) and
    /// reads its slot array. `m_slots` sits four pointers after `m_name` whatever the
    /// object header's size, which differs between GIL and free-threaded builds.
    fn gil_slot_of(&self, name: &str) -> DefLookup {
        let mut best = DefLookup::NotFound;
        for (start, _, data, kind) in &self.sections {
            if !matches!(
                kind,
                SectionKind::Data | SectionKind::ReadOnlyData | SectionKind::ReadOnlyDataWithRel
            ) {
                continue;
            }
            let mut off = 0u64;
            while off + self.ptr <= data.len() as u64 {
                let at = start.wrapping_add(off);
                off += self.ptr;
                let Some(p) = self.pointer(at) else { continue };
                if p == 0 {
                    continue;
                }
                let Some(s) = self.c_string(p) else { continue };
                if !name_matches(s, name) || !self.follows_module_def_base(at) {
                    continue;
                }
                let Some(slots) = at.checked_add(4 * self.ptr).and_then(|a| self.pointer(a)) else {
                    continue;
                };
                if slots == 0 {
                    if let DefLookup::NotFound = best {
                        best = DefLookup::NoSlots;
                    }
                    continue;
                }
                match self.read_slots(slots) {
                    Some(Some(v)) => return DefLookup::Slot(v),
                    Some(None) => best = DefLookup::NoGilSlot,
                    None => {}
                }
            }
        }
        best
    }

    /// `PyModuleDef_HEAD_INIT` leaves `m_init`, `m_index` and `m_copy` — the three
    /// words before `m_name` — zero in the file, in both builds. This tells a module
    /// definition from, say, a method table entry that happens to share its name.
    fn follows_module_def_base(&self, m_name: u64) -> bool {
        (1..=3).all(|i| {
            m_name
                .checked_sub(i * self.ptr)
                .filter(|a| !self.relocated.contains_key(a))
                .and_then(|a| self.uint(a, self.ptr))
                == Some(0)
        })
    }

    /// Reads `{int slot; void *value}` entries up to `{0, NULL}`. `None` when the
    /// memory does not look like a slot array; `Some(value)` of `Py_mod_gil`.
    fn read_slots(&self, addr: u64) -> Option<Option<u64>> {
        let entry = 2 * self.ptr;
        let mut gil = None;
        for i in 0..64 {
            let at = addr.checked_add(i * entry)?;
            let slot = self.uint(at, 4)?;
            if slot == 0 {
                return Some(gil);
            }
            if slot > 0x100 {
                return None;
            }
            if slot == py_mod_gil() {
                gil = Some(
                    at.checked_add(self.ptr)
                        .and_then(|a| self.pointer(a))
                        .unwrap_or(u64::MAX),
                );
            }
        }
        None
    }
}

fn name_matches(s: &[u8], name: &str) -> bool {
    let n = name.as_bytes();
    s == n || (s.len() > n.len() && s.ends_with(n) && s[s.len() - n.len() - 1] == b'.')
}

/// Borrowed-reference C-API functions a binary may import, with what to use
/// instead: the catalogue's borrowed getters (the same names, versions and
/// replacements `ftaudit check` uses), plus `PyDict_Next`, whose hazard is
/// iteration (FT201).
pub fn borrowed_reference_functions() -> impl Iterator<Item = (&'static str, String)> {
    let apis = capi::BORROWED_GETTERS.iter().map(|(name, g)| {
        (
            *name,
            match g.since {
                Since::Always => g.replacement.to_owned(),
                Since::V3(minor) => format!("{} (3.{minor})", g.replacement),
            },
        )
    });
    apis.chain(std::iter::once((
        "PyDict_Next",
        "PyDict_Next inside Py_BEGIN_CRITICAL_SECTION, or iterate a copy".to_owned(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_reference_table_follows_the_rules() {
        let table: Vec<(&str, String)> = borrowed_reference_functions().collect();
        let find = |n: &str| table.iter().find(|(f, _)| *f == n).map(|(_, r)| r.clone());
        // Same replacement and version as `ftaudit check` tells (FT104 / FT102).
        let sys = capi::borrowed_getter("PySys_GetObject").unwrap();
        assert_eq!(
            find("PySys_GetObject"),
            Some(format!("{} (3.{})", sys.replacement, sys.since.minor()))
        );
        assert_eq!(find("PyCell_GET").as_deref(), Some("PyCell_Get"));
        assert_eq!(
            find("PyDict_GetItem").as_deref(),
            Some("PyDict_GetItemRef (3.13)")
        );
        assert!(find("PyDict_Next").is_some());
    }

    #[test]
    fn python_dlls() {
        let d = parse_python_dll("python313t.dll").unwrap();
        assert_eq!((d.minor, d.free_threaded), (Some(13), true));
        let d = parse_python_dll("PYTHON314.DLL").unwrap();
        assert_eq!((d.minor, d.free_threaded), (Some(14), false));
        assert_eq!(parse_python_dll("python3.dll").unwrap().minor, None);
        assert_eq!(
            parse_python_dll("python313t_d.dll").unwrap().minor,
            Some(13)
        );
        assert!(parse_python_dll("pythoncom313.dll").is_none());
        assert!(parse_python_dll("kernel32.dll").is_none());
    }

    #[test]
    fn evidence() {
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(
            build_evidence(&set(&["_Py_DecRefShared"]), None).0,
            Build::FreeThreaded
        );
        assert_eq!(
            build_evidence(&set(&["_Py_Dealloc", "PyList_New"]), None).0,
            Build::Gil
        );
        assert_eq!(
            build_evidence(&set(&["_Py_Dealloc", "_Py_MergeZeroLocalRefcount"]), None).0,
            Build::Mixed
        );
        assert_eq!(
            build_evidence(&set(&["PyList_New"]), None).0,
            Build::Unknown
        );
        let dll = parse_python_dll("python313.dll");
        assert_eq!(
            build_evidence(&set(&["_Py_DecRefShared"]), dll.as_ref()).0,
            Build::Gil
        );
    }

    #[test]
    fn module_names() {
        assert!(name_matches(b"spam", "spam"));
        assert!(name_matches(b"pkg.spam", "spam"));
        assert!(!name_matches(b"pkgspam", "spam"));
        assert!(!name_matches(b"spam.x", "spam"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(analyse(b"").is_err());
        assert!(analyse(b"\x7fELF\x02\x01\x01").is_err());
        assert!(analyse(b"MZ\x90\x00").is_err());
        assert!(analyse(&[0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]).is_err());
    }
}
