//! An in-tree mutation fuzzer that runs on stable Rust (no `cargo fuzz`, which
//! needs nightly). Three targets, each seeded with the repository's fixtures and
//! examples:
//!
//! - `c`: the C/C++ front end on arbitrary bytes — lexer, preprocessor conditions,
//!   masking, tree-sitter parse, index, inline suppressions, every per-file and
//!   project rule, and applying the fixes they offer;
//! - `build`: the build, CI and generator readers (setup.py, setup.cfg,
//!   pyproject.toml, Cargo.toml, meson, CMake, workflows, Cython, Rust) and the
//!   FT6xx checks over them;
//! - `binary`: the ELF/PE/Mach-O reader and the wheel (zip) reader.
//!
//! Every input runs under `catch_unwind`; a counting global allocator gives each
//! input's peak memory and a clock its time. A panic, or an input over the time or
//! memory budget, is saved under `target/fuzz-findings/` and fails the run. A stack
//! overflow aborts the process: the input being run is always in
//! `target/fuzz-findings/<target>-current.bin`, so it is never lost.
//!
//! `cargo test --test fuzz` runs each target for `FTAUDIT_FUZZ_SECONDS` (default 5;
//! `scripts/test.sh` uses 30). `FTAUDIT_FUZZ_TARGETS=c,build` picks targets and
//! `FTAUDIT_FUZZ_SEED` makes a run reproducible. `FTAUDIT_FUZZ_REPLAY=FILE` runs one
//! saved input (with `FTAUDIT_FUZZ_TARGETS` naming its target). See CONTRIBUTING.md.

// The counting allocator below implements `GlobalAlloc`, an unsafe trait.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ftaudit::build::{BuildFile, BuildKind};
use ftaudit::config::Settings;
use ftaudit::context::{BuildContext, FileContext, ProjectContext, ProjectFile};
use ftaudit::rules::{self, registry};
use ftaudit::source::index::FileIndex;
use ftaudit::source::{Language, ParsedFile, SourceFile};
use ftaudit::suppress::Suppressions;

/// Counts live heap bytes and the peak since the last reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            if new >= l.size() {
                let now = LIVE.fetch_add(new - l.size(), Ordering::Relaxed) + new - l.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(l.size() - new, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Inputs are capped at this size: large enough for deep nesting and long lines,
/// small enough that a blow-up shows as one.
const MAX_INPUT: usize = 64 << 10;
/// Heap an input may take above the baseline (the worst legitimate inputs of this
/// size stay far below).
const MEMORY_BUDGET: usize = 512 << 20;

fn time_budget() -> Duration {
    // Debug builds are several times slower than release ones.
    if cfg!(debug_assertions) {
        Duration::from_secs(20)
    } else {
        Duration::from_secs(5)
    }
}

/// xorshift64*: small, fast and reproducible from a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Tokens worth splicing in: directives, braces, the macros the masking rewrites,
/// line ends of every kind, non-ASCII text, suppression comments.
const C_DICTIONARY: &[&str] = &[
    "#if ",
    "#ifdef X\n",
    "#elif ",
    "#else\n",
    "#endif\n",
    "#define ",
    "#include <x.h>\n",
    "defined(",
    "Py_GIL_DISABLED",
    "Py_LIMITED_API",
    "PY_VERSION_HEX >= 0x030D0000",
    "{",
    "}",
    "{{{",
    "}}}",
    "(",
    ")",
    ";",
    "\"",
    "'",
    "/*",
    "*/",
    "//",
    "\\\n",
    "\r",
    "\r\n",
    "\n",
    "é",
    "\u{2028}",
    "\u{feff}",
    "PyMODINIT_FUNC ",
    "PyInit_x(void)",
    "Py_mod_gil",
    "Py_MOD_GIL_NOT_USED",
    "PyList_GetItem(",
    "PyDict_GetItem(",
    "Py_BEGIN_ALLOW_THREADS",
    "Py_END_ALLOW_THREADS",
    "Py_BEGIN_CRITICAL_SECTION(",
    "Py_END_CRITICAL_SECTION()",
    "static ",
    "int ",
    "PyObject *",
    "[](){",
    "template<",
    "// ftaudit: ignore[FT101]",
    "/* ftaudit: ignore */",
    "ignore]X[",
    "\t",
    " ",
    "0x7fffffff",
    "-",
    "&&",
    "||",
    "!",
    "PyModuleDef_Init(&",
    "static PyModuleDef_Slot s[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};\n",
];

const BUILD_DICTIONARY: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "=",
    "\"",
    "'",
    "\n",
    "\r",
    ":",
    "-",
    "(",
    ")",
    ",",
    "#",
    "é",
    "[tool.ftaudit]\n",
    "select = [\"\"]\n",
    "[project]\n",
    "requires-python = \">=3.13\"\n",
    "Extension(",
    "setup(",
    "ext_modules=",
    "py_limited_api=True",
    "project(",
    "add_library(",
    "py.extension_module(",
    "Python_add_library(",
    "free-threaded",
    "3.13t",
    "cp313t",
    "uses: pypa/cibuildwheel@v2\n",
    "CIBW_ENABLE: cpython-freethreading\n",
    "python-version: ",
    "pyo3 = \"0.22\"\n",
    "# cython: freethreading_compatible=True\n",
    "%module x\n",
    "#[pymodule(gil_used = false)]\n",
    "&anchor",
    "*anchor",
    "<<: ",
    "!!binary ",
    "|\n",
    ">\n",
];

const BINARY_DICTIONARY: &[&str] = &[
    "\x7fELF",
    "MZ",
    "PE\0\0",
    "\u{fe}\u{ed}\u{fa}\u{cf}",
    "PyInit_x",
    "PyModuleDef_Init",
    "_Py_IncRef",
    "Py_IncRef",
    "_Py_Dealloc",
    "python313t.dll",
    "PK\x03\x04",
    "PK\x01\x02",
    "PK\x05\x06",
    "WHEEL",
    "Tag: cp313-cp313t-linux_x86_64\n",
    "\0\0\0\0",
    "\u{ff}\u{ff}\u{ff}\u{ff}",
];

fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>], dict: &[&str]) -> Vec<u8> {
    let mut v = input.to_vec();
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        let len = v.len();
        match rng.below(10) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = rng.next() as u8;
            }
            2 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                v.drain(a..b);
            }
            3 if len > 0 => {
                // Duplicate a range, sometimes many times (nesting, long lines).
                let a = rng.below(len);
                let b = (a + 1 + rng.below(128)).min(len);
                let chunk = v[a..b].to_vec();
                let times = if rng.below(4) == 0 {
                    1 + rng.below(500)
                } else {
                    1
                };
                let at = rng.below(len + 1);
                let mut ins = Vec::with_capacity(chunk.len() * times);
                for _ in 0..times {
                    ins.extend_from_slice(&chunk);
                }
                v.splice(at..at, ins);
            }
            4..=6 => {
                let tok = dict[rng.below(dict.len())].as_bytes();
                let times = if rng.below(8) == 0 {
                    1 + rng.below(2000)
                } else {
                    1
                };
                let at = rng.below(len + 1);
                let ins: Vec<u8> = tok
                    .iter()
                    .copied()
                    .cycle()
                    .take(tok.len() * times)
                    .collect();
                v.splice(at..at, ins);
            }
            7 if !corpus.is_empty() => {
                // Splice part of another input.
                let other = &corpus[rng.below(corpus.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + 1 + rng.below(512)).min(other.len());
                    let at = rng.below(len + 1);
                    v.splice(at..at, other[a..b].iter().copied());
                }
            }
            8 if len > 1 => {
                let at = rng.below(len);
                v.truncate(at.max(1));
            }
            _ => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                v.splice(at..at, bytes);
            }
        }
        v.truncate(MAX_INPUT);
    }
    v
}

/// Runs the C/C++ front end and every rule on one input, then applies the fixes.
fn run_c(data: &[u8]) {
    let lang = if data.first().is_some_and(|b| b % 2 == 0) {
        Language::C
    } else {
        Language::Cpp
    };
    let path = Path::new(if lang == Language::C {
        "fuzz.c"
    } else {
        "fuzz.cpp"
    });
    let Ok(file) = SourceFile::from_bytes(path, lang, data.to_vec()) else {
        return;
    };
    let settings = Arc::new(Settings::default());
    let index = FileIndex::build(&file);
    let mut diagnostics = Vec::new();
    let _ = Suppressions::parse(&file, &mut diagnostics);
    // Every registered check, as `check::run` dispatches them.
    {
        let ctx = FileContext::new(&file, &index, &settings);
        for (_, check) in registry::file_checks() {
            check(&ctx, &mut diagnostics);
        }
    }
    let text = file.text.clone();
    let files = vec![ftaudit::check::project_file(
        ParsedFile { file, index },
        settings.clone(),
        true,
    )];
    let project = ProjectContext::new(&files, &settings);
    for (_, check) in registry::project_checks() {
        check(&project, &mut diagnostics);
    }
    let builds = BuildContext {
        builds: &[],
        project: &project,
        declarations: &[],
    };
    for (_, check) in registry::build_checks() {
        check(&builds, &mut diagnostics);
    }
    // Fixes placed on the syntax tree are built from a new parse, as `check::run` does.
    let mut result = ftaudit::check::CheckResult {
        diagnostics,
        sources: [(path.to_path_buf(), std::sync::Arc::new(text.clone()))].into(),
        ..Default::default()
    };
    ftaudit::check::build_deferred_fixes(&mut result, ftaudit::check::FixEdits::All);
    let fixes: Vec<_> = result
        .diagnostics
        .iter()
        .filter_map(|d| d.fix.as_ref())
        .collect();
    let (fixed, _) = ftaudit::fix::apply::apply_fixes(&text, &fixes);
    // The fixed text must itself be analysable.
    let _ = SourceFile::from_text(path.to_path_buf(), lang, fixed, false);
}

const BUILD_NAMES: &[&str] = &[
    "setup.py",
    "setup.cfg",
    "pyproject.toml",
    "Cargo.toml",
    "Cargo.lock",
    "meson.build",
    "CMakeLists.txt",
    ".github/workflows/ci.yml",
    "src/lib.rs",
    "x.pyx",
    "x.i",
];

fn run_build(data: &[u8]) {
    let (sel, body) = data.split_first().unwrap_or((&0, &[]));
    let name = BUILD_NAMES[*sel as usize % BUILD_NAMES.len()];
    let path = PathBuf::from(name);
    let Some(kind) = BuildKind::from_path(&path) else {
        panic!("{name} is not a build file name any more: update BUILD_NAMES");
    };
    let text = String::from_utf8_lossy(body).into_owned();
    let file = BuildFile::parse(path, kind, text);
    let settings = Arc::new(Settings::default());
    let mut out = Vec::new();
    let builds = vec![(file, settings.clone())];
    let files: Vec<ProjectFile> = Vec::new();
    let project = ProjectContext::new(&files, &settings);
    let ctx = BuildContext {
        builds: &builds,
        project: &project,
        declarations: &[],
    };
    for (_, check) in registry::build_checks() {
        check(&ctx, &mut out);
    }
    let _ = rules::build::summarize(&ctx, &out);
}

fn run_binary(data: &[u8], scratch: &Path) {
    let _ = ftaudit::binary::object::analyse(data);
    // The same bytes as a wheel and as a bare binary, through the whole audit.
    let wheel = scratch.join("fuzz-1.0-cp313-cp313t-linux_x86_64.whl");
    let so = scratch.join("fuzz.cpython-313t-x86_64-linux-gnu.so");
    std::fs::write(&wheel, data).expect("scratch write");
    std::fs::write(&so, data).expect("scratch write");
    let limits = ftaudit::binary::wheel::Limits {
        max_member: 1 << 20,
        max_total: 4 << 20,
    };
    let _ = ftaudit::binary::audit(&[wheel, so], limits);
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn seeds(target: &str, root: &Path) -> Vec<Vec<u8>> {
    let mut paths = Vec::new();
    for d in [
        "tests/fixtures",
        "examples",
        "tests/build_fixtures",
        "tests/wheel",
        "tests/verify-modules",
        "tests/fix_corpus",
    ] {
        files_under(&root.join(d), &mut paths);
    }
    paths.sort();
    let mut out = Vec::new();
    match target {
        "c" => {
            for p in &paths {
                if Language::from_path(p).is_some() {
                    out.extend(std::fs::read(p).ok());
                }
            }
        }
        "build" => {
            for p in &paths {
                let Some(kind) = BuildKind::from_path(p) else {
                    continue;
                };
                let Some(sel) = BUILD_NAMES
                    .iter()
                    .position(|n| BuildKind::from_path(Path::new(n)) == Some(kind))
                else {
                    continue;
                };
                if let Ok(b) = std::fs::read(p) {
                    let mut v = vec![sel as u8];
                    v.extend(b);
                    out.push(v);
                }
            }
        }
        _ => {
            // Small shared objects of the system, and wheels wrapping them.
            let mut libs = Vec::new();
            for d in ["/usr/lib/x86_64-linux-gnu", "/usr/lib", "/lib"] {
                if let Ok(rd) = std::fs::read_dir(d) {
                    for e in rd.flatten() {
                        let p = e.path();
                        let small = e
                            .metadata()
                            .is_ok_and(|m| m.is_file() && m.len() < 48 << 10);
                        if small && p.to_string_lossy().contains(".so") {
                            libs.push(p);
                        }
                    }
                }
            }
            libs.sort();
            for p in libs.iter().take(12) {
                if let Ok(b) = std::fs::read(p) {
                    out.push(wheel_with(&b));
                    out.push(b);
                }
            }
            out.push(wheel_with(b"\x7fELF"));
        }
    }
    out.retain(|s| s.len() <= MAX_INPUT);
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}

/// A minimal wheel holding `binary` as an extension module.
fn wheel_with(binary: &[u8]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let o = zip::write::SimpleFileOptions::default();
        z.start_file("fuzz/_x.cpython-313t-x86_64-linux-gnu.so", o)
            .unwrap();
        z.write_all(binary).unwrap();
        z.start_file("fuzz-1.0.dist-info/WHEEL", o).unwrap();
        z.write_all(b"Wheel-Version: 1.0\nTag: cp313-cp313t-linux_x86_64\n")
            .unwrap();
        z.start_file("fuzz-1.0.dist-info/METADATA", o).unwrap();
        z.write_all(b"Metadata-Version: 2.1\nName: fuzz\nRequires-Python: >=3.13\n")
            .unwrap();
        z.finish().unwrap();
    }
    buf.into_inner()
}

struct Finding {
    what: String,
    saved: PathBuf,
}

/// CPU time of this thread: wall-clock time on a loaded machine (CI, or this
/// fuzzer at `nice 19`) would report slowness that is not the input's.
fn thread_cpu_time() -> Duration {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid clock id and a writable timespec.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
        }
    }
    Instant::now().elapsed()
}

/// Resident memory: (current, peak since the last reset) in bytes, from
/// /proc/self/status on Linux. This counts what the C parts (tree-sitter)
/// allocate, which the counting allocator does not see.
fn rss() -> Option<(usize, usize)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<usize> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb << 10)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn run_one(target: &str, data: &[u8], scratch: &Path) -> Result<(Duration, usize), String> {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    reset_peak_rss();
    let rss_before = rss().map(|r| r.0);
    let start = thread_cpu_time();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match target {
        "c" => run_c(data),
        "build" => run_build(data),
        _ => run_binary(data, scratch),
    }));
    let took = thread_cpu_time().saturating_sub(start);
    let heap_peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    let rss_peak = match (rss_before, rss()) {
        (Some(b), Some((_, hwm))) => hwm.saturating_sub(b),
        _ => 0,
    };
    let peak = heap_peak.max(rss_peak);
    if let Err(e) = r {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        return Err(format!("panic: {msg}"));
    }
    if took > time_budget() {
        return Err(format!("slow: {took:?}"));
    }
    if peak > MEMORY_BUDGET {
        return Err(format!("memory: {} MB", peak >> 20));
    }
    Ok((took, peak))
}

fn fuzz(
    target: &str,
    root: &Path,
    seconds: u64,
    seed: u64,
) -> (usize, Vec<Finding>, (Duration, usize)) {
    let dir = root.join("target/fuzz-findings");
    std::fs::create_dir_all(&dir).expect("findings folder");
    let scratch = tempfile::tempdir().expect("scratch folder");
    let dict = match target {
        "c" => C_DICTIONARY,
        "build" => BUILD_DICTIONARY,
        _ => BINARY_DICTIONARY,
    };
    let seeds = seeds(target, root);
    let mut pool = seeds.clone();
    let mut rng = Rng(seed | 1);
    let current = dir.join(format!("{target}-current.bin"));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut findings = Vec::new();
    let mut runs = 0;
    let mut worst = (Duration::ZERO, 0usize);
    let mut i = 0;
    while Instant::now() < deadline {
        // Seeds first, unchanged; then mutants of seeds and of earlier mutants.
        let input = if i < seeds.len() {
            seeds[i].clone()
        } else {
            let parent = &pool[rng.below(pool.len())];
            mutate(&mut rng, parent, &seeds, dict)
        };
        i += 1;
        let _ = std::fs::write(&current, &input);
        runs += 1;
        match run_one(target, &input, scratch.path()) {
            Ok((took, peak)) => {
                worst = (worst.0.max(took), worst.1.max(peak));
                // Keep a rolling pool so mutations stack.
                if pool.len() < 4096 {
                    pool.push(input);
                } else {
                    let k = seeds.len() + rng.below(pool.len() - seeds.len());
                    pool[k] = input;
                }
            }
            Err(what) => {
                let h = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                    (h ^ *b as u64).wrapping_mul(0x100_0000_01b3)
                });
                let saved = dir.join(format!("{target}-{h:016x}.bin"));
                let _ = std::fs::write(&saved, &input);
                eprintln!("fuzz {target}: {what} -> {}", saved.display());
                findings.push(Finding { what, saved });
                if findings.len() >= 20 {
                    break;
                }
            }
        }
    }
    let _ = std::fs::remove_file(&current);
    (runs, findings, worst)
}

fn main() {
    // `cargo test` passes harness flags (`--nocapture`, filters); a filter that is
    // not "fuzz" means the caller wants other tests only.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("fuzz: test");
        return;
    }
    if let Some(filter) = args.iter().find(|a| !a.starts_with('-')) {
        if !"fuzz".contains(filter.as_str()) {
            return;
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let targets: Vec<String> = std::env::var("FTAUDIT_FUZZ_TARGETS")
        .unwrap_or_else(|_| "c,build,binary".into())
        .split(',')
        .map(str::to_owned)
        .collect();
    // Panics are caught and reported by the harness; the default hook would print
    // every one of them.
    std::panic::set_hook(Box::new(|_| {}));
    if let Ok(replay) = std::env::var("FTAUDIT_FUZZ_REPLAY") {
        let data = std::fs::read(&replay).expect("replay file");
        let scratch = tempfile::tempdir().expect("scratch folder");
        for t in &targets {
            match run_one(t, &data, scratch.path()) {
                Ok((took, peak)) => println!("{t}: ok in {took:?}, peak {} KB", peak >> 10),
                Err(e) => {
                    println!("{t}: {e}");
                    std::process::exit(1);
                }
            }
        }
        return;
    }
    let seconds: u64 = std::env::var("FTAUDIT_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let seed: u64 = std::env::var("FTAUDIT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let mut failed = false;
    let mut counts = HashMap::new();
    for t in &targets {
        let (runs, findings, worst) = fuzz(t, &root, seconds, seed);
        println!(
            "fuzz {t}: {runs} inputs in {seconds} s (seed {seed}), {} finding(s); slowest input {:?}, largest peak {} KB",
            findings.len(),
            worst.0,
            worst.1 >> 10
        );
        for f in &findings {
            println!("  {}: {}", f.what, f.saved.display());
        }
        failed |= !findings.is_empty();
        counts.insert(t.clone(), runs);
    }
    if failed {
        std::process::exit(1);
    }
}
