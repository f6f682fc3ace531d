//! `cargo bench --bench check`: the cost of `ftaudit check` on a large real tree,
//! in CPU time (user + system, from `getrusage`: the machine may be shared, so wall
//! time would measure the neighbours), against baselines measured in the same run
//! on the same files:
//!   - a bare tree-sitter parse (the floor for any syntax-aware checker),
//!   - a ripgrep search for the borrowed-reference API names (what people use today).
//!
//! Rows: bare parse; cold check (no cache); cold check writing the cache; warm
//! re-run (nothing changed); re-run after one file changed; one large file (bare
//! parse and check, and how much of the machine's cores the check used); peak
//! memory; a scaling run over 1x, 2x and 4x copies of part of the corpus.
//! `ftaudit check` runs as a child process (the release binary), so its CPU and
//! peak memory are the child's own.
//!
//! Corpus: `$FTAUDIT_CPYTHON_SRC/{Modules,Objects,Python}` (scripts/provision-python.sh
//! prints it; scripts/bench.sh sets it up), or the folders given in `FTAUDIT_BENCH_DIRS`.
//! The large file is `Modules/posixmodule.c` of that tree, or `FTAUDIT_BENCH_LARGE`.
//! The scaling run copies `Objects/` (or `FTAUDIT_BENCH_SCALE_DIR`). Last, the
//! cold check's phases (`FTAUDIT_TIMINGS`) against its own parse.
//! `FTAUDIT_BENCH_ONLY=large,phases` (any of `large`, `tree`, `scaling`, `phases`)
//! runs only those groups of rows, for a quicker look while working on one.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use ftaudit::source::Language;
use ftaudit::timing::{children_usage, own_usage};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn corpus() -> Vec<PathBuf> {
    if let Ok(dirs) = std::env::var("FTAUDIT_BENCH_DIRS") {
        return dirs.split(':').map(PathBuf::from).collect();
    }
    let src = std::env::var("FTAUDIT_CPYTHON_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/ftaudit/cpython/src")
        });
    ["Modules", "Objects", "Python"]
        .iter()
        .map(|d| src.join(d))
        .filter(|p| p.is_dir())
        .collect()
}

fn source_files(dirs: &[PathBuf]) -> Vec<(PathBuf, Language)> {
    let mut v = Vec::new();
    for d in dirs {
        for e in ignore::WalkBuilder::new(d).build().flatten() {
            if let Some(l) = Language::from_path(e.path()) {
                if e.file_type().is_some_and(|t| t.is_file()) {
                    v.push((e.path().to_path_buf(), l));
                }
            }
        }
    }
    v
}

/// One `ftaudit check` as a child process: its CPU time and wall time. The output
/// format is the default (text, what a person runs) unless `args` name another.
fn check_once(args: &[&str], paths: &[PathBuf]) -> (Duration, Duration) {
    let before = children_usage().cpu;
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .arg("check")
        .arg("--isolated")
        .args(args)
        .args(paths)
        .output()
        .expect("run ftaudit");
    let wall = t.elapsed();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "ftaudit check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (children_usage().cpu.saturating_sub(before), wall)
}

/// Median CPU (and the wall time of that run) of `runs` checks, each after `prepare`.
fn check_cpu(
    runs: usize,
    args: &[&str],
    paths: &[PathBuf],
    mut prepare: impl FnMut(usize),
) -> (Duration, Duration) {
    let mut v: Vec<(Duration, Duration)> = (0..runs)
        .map(|i| {
            prepare(i);
            check_once(args, paths)
        })
        .collect();
    v.sort();
    v[v.len() / 2]
}

fn bare_parse(files: &[(PathBuf, Language)]) {
    files.par_iter().for_each(|(p, l)| {
        let text = std::fs::read(p).unwrap_or_default();
        let mut parser = tree_sitter::Parser::new();
        let lang: tree_sitter::Language = match l {
            Language::C => tree_sitter_c::LANGUAGE.into(),
            Language::Cpp => tree_sitter_cpp::LANGUAGE.into(),
        };
        parser.set_language(&lang).expect("grammar");
        std::hint::black_box(parser.parse(&text, None));
    })
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let dest = to.join(e.file_name());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            copy_tree(&e.path(), &dest);
        } else if e.file_type().is_ok_and(|t| t.is_file()) {
            std::fs::copy(e.path(), dest).expect("copy");
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn row(name: &str, cpu: Duration, base: Duration, extra: &str) {
    println!(
        "{:<44} {:>10.1} {:>9.3}x  {extra}",
        name,
        ms(cpu),
        ms(cpu) / ms(base)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not, and a
    // debug-build benchmark would only waste CI time.
    if !std::env::args().any(|a| a == "--bench") {
        println!("benchmark skipped: run `cargo bench --bench check` or scripts/bench.sh");
        return;
    }
    let dirs = corpus();
    if dirs.is_empty() {
        eprintln!("no corpus: run scripts/provision-python.sh (or set FTAUDIT_BENCH_DIRS)");
        std::process::exit(2);
    }
    let files = source_files(&dirs);
    let bytes: u64 = files
        .iter()
        .filter_map(|(p, _)| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let runs = std::env::var("FTAUDIT_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    println!(
        "corpus: {} C/C++ files, {:.1} MB, in {}",
        files.len(),
        bytes as f64 / 1e6,
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "threads: {}, runs: {runs} (median); times are CPU time (user + system)",
        rayon::current_num_threads()
    );
    let work = tempfile::tempdir().expect("tempdir");

    // The large single file first: its child's peak memory is small, so the peak
    // read after the tree runs is the tree's.
    let large = std::env::var_os("FTAUDIT_BENCH_LARGE")
        .map(PathBuf::from)
        .or_else(|| {
            dirs.iter()
                .map(|d| d.join("posixmodule.c"))
                .find(|p| p.is_file())
        });
    let large_rows = large.as_ref().filter(|_| wanted("large")).map(|large| {
        let lang = Language::from_path(large).unwrap_or(Language::C);
        let one = vec![(large.clone(), lang)];
        // Alternating, as for the tree below.
        bare_parse(&one);
        let mut parses = Vec::new();
        let mut checks = Vec::new();
        for _ in 0..runs.max(5) {
            let before = own_usage().cpu;
            bare_parse(&one);
            parses.push(own_usage().cpu.saturating_sub(before));
            checks.push(check_once(&["--no-cache"], std::slice::from_ref(large)));
        }
        checks.sort();
        let (check, wall) = checks[checks.len() / 2];
        let size = std::fs::metadata(large).map(|m| m.len()).unwrap_or(0);
        (large.clone(), size, median(parses), check, wall)
    });
    if !wanted("tree") {
        print_large(large_rows);
        if wanted("scaling") {
            scaling(&dirs, work.path(), runs);
        }
        if wanted("phases") {
            phase_split(&dirs, runs);
        }
        return;
    }

    // The baseline and the cold check alternate, so that a change in the machine's
    // load during the run affects both alike.
    bare_parse(&files);
    let mut parses = Vec::new();
    let mut colds = Vec::new();
    let mut colds_json = Vec::new();
    for _ in 0..runs {
        let before = own_usage().cpu;
        bare_parse(&files);
        parses.push(own_usage().cpu.saturating_sub(before));
        colds.push(check_once(&["--no-cache"], &dirs));
        // JSON carries every fix's edits, so it also builds the deferred ones
        // (re-parsing the files that have them): its own row.
        colds_json.push(check_once(&["--no-cache", "--output-format", "json"], &dirs).0);
    }
    let parse = median(parses);
    colds.sort();
    let (cold, cold_wall) = colds[colds.len() / 2];
    let cold_json = median(colds_json);
    let peak = children_usage().max_rss;
    let cache_dir = work.path().join("cache");
    let cache = cache_dir.to_str().expect("utf-8 temp path");
    let (cold_write, _) = check_cpu(runs, &["--cache-dir", cache], &dirs, |_| {
        let _ = std::fs::remove_dir_all(&cache_dir);
    });
    let (warm, _) = check_cpu(runs, &["--cache-dir", cache], &dirs, |_| {});

    // One file changed: a copy of the corpus, one file edited before each run.
    let copy: Vec<PathBuf> = dirs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let to = work
                .path()
                .join(format!("copy{i}"))
                .join(d.file_name().unwrap_or_default());
            copy_tree(d, &to);
            to
        })
        .collect();
    let copy_cache = work.path().join("copy-cache");
    let copy_cache_s = copy_cache.to_str().expect("utf-8 temp path");
    check_once(&["--cache-dir", copy_cache_s], &copy);
    let edited = source_files(&copy)
        .into_iter()
        .map(|(p, _)| p)
        .find(|p| p.ends_with("listobject.c"))
        .or_else(|| source_files(&copy).into_iter().next().map(|(p, _)| p))
        .expect("a file to edit");
    let (changed, _) = check_cpu(runs, &["--cache-dir", copy_cache_s], &copy, |i| {
        let mut text = std::fs::read_to_string(&edited).unwrap_or_default();
        text.push_str(&format!("\n/* edit {i} */\n"));
        std::fs::write(&edited, text).expect("edit");
    });

    let rg = which_rg().map(|rg| {
        cpu_children(runs, || {
            let out = Command::new(&rg)
                .args(["-c", "--no-messages", "-t", "c", "-t", "cpp", r"PyDict_GetItem|PyList_GetItem|PyList_GET_ITEM|PyDict_Next|PyWeakref_GetObject"])
                .args(&dirs)
                .output();
            std::hint::black_box(out.ok());
        })
    });

    println!();
    println!("{:<44} {:>10} {:>10}", "", "CPU ms", "vs parse");
    row("tree-sitter parse only (baseline)", parse, parse, "");
    row(
        "check, cold (--no-cache)",
        cold,
        parse,
        &format!(
            "wall {:.0} ms, {:.1} MB/s of CPU",
            ms(cold_wall),
            bytes as f64 / 1e6 / cold.as_secs_f64()
        ),
    );
    row(
        "check, cold, JSON output",
        cold_json,
        parse,
        "builds the fixes deferred past the project phase",
    );
    row("check, cold, writing the cache", cold_write, parse, "");
    row(
        "check, warm re-run (nothing changed)",
        warm,
        parse,
        &format!("{:.3}x the cold run", ms(warm) / ms(cold)),
    );
    row(
        "check, re-run after one file changed",
        changed,
        parse,
        &format!("{:.3}x the cold run", ms(changed) / ms(cold)),
    );
    match rg {
        Some(rg) => row("ripgrep search for borrowed-ref APIs", rg, parse, ""),
        None => println!("ripgrep not installed: scripts/bench.sh installs it"),
    }
    println!("peak memory of the cold check: {:.0} MB", peak as f64 / 1e6);
    print_large(large_rows);
    if wanted("scaling") {
        scaling(&dirs, work.path(), runs);
    }
    if wanted("phases") {
        phase_split(&dirs, runs);
    }
}

/// Is the group of rows `name` wanted? `FTAUDIT_BENCH_ONLY` (comma-separated:
/// `large`, `tree`, `scaling`, `phases`) picks some; unset, all run.
fn wanted(name: &str) -> bool {
    std::env::var("FTAUDIT_BENCH_ONLY")
        .map_or(true, |only| only.split(',').any(|o| o.trim() == name))
}

/// The rows of the one-large-file case.
fn print_large(large_rows: Option<(PathBuf, u64, Duration, Duration, Duration)>) {
    if let Some((path, size, lparse, lcheck, lwall)) = large_rows {
        println!();
        println!(
            "one large file: {} ({:.0} KB)",
            path.display(),
            size as f64 / 1e3
        );
        row("  tree-sitter parse only", lparse, lparse, "");
        row(
            "  check (--no-cache)",
            lcheck,
            lparse,
            &format!(
                "wall {:.0} ms: {:.2} cores busy",
                ms(lwall),
                lcheck.as_secs_f64() / lwall.as_secs_f64().max(1e-9)
            ),
        );
    }
}

/// The cold check's CPU by phase (`FTAUDIT_TIMINGS=1`, median per phase over
/// `runs`), each against the check's own tree-sitter parse, and everything after
/// the parse together (the analysis: the target is at most half the parse).
fn phase_split(dirs: &[PathBuf], runs: usize) {
    let mut by_phase: Vec<(String, Vec<f64>)> = Vec::new();
    for _ in 0..runs {
        let out = Command::new(env!("CARGO_BIN_EXE_ftaudit"))
            .env("FTAUDIT_TIMINGS", "1")
            .args([
                "check",
                "--isolated",
                "--no-cache",
                "--output-format",
                "json",
            ])
            .args(dirs)
            .output()
            .expect("run ftaudit");
        for line in String::from_utf8_lossy(&out.stderr).lines() {
            let Some(secs) = line.strip_suffix(" s") else {
                continue;
            };
            let Some((name, value)) = secs.trim().rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.trim().parse::<f64>() else {
                continue;
            };
            let name = name.trim().to_owned();
            match by_phase.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => v.push(value),
                None => by_phase.push((name, vec![value])),
            }
        }
    }
    let med = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let phases: Vec<(String, f64)> = by_phase.iter().map(|(n, v)| (n.clone(), med(v))).collect();
    let Some(parse) = phases
        .iter()
        .find(|(n, _)| n == "tree-sitter parse")
        .map(|(_, s)| *s)
        .filter(|s| *s > 0.0)
    else {
        println!("no phase timings (FTAUDIT_TIMINGS) from the check");
        return;
    };
    println!();
    println!("cold check by phase (CPU, median of {runs}), against its own parse");
    println!("{:<44} {:>10} {:>10}", "", "CPU ms", "vs parse");
    for (name, secs) in &phases {
        println!("{:<44} {:>10.1} {:>9.3}x", name, secs * 1e3, secs / parse);
    }
    let after: f64 = phases
        .iter()
        .filter(|(n, _)| {
            !matches!(
                n.as_str(),
                "total" | "tree-sitter parse" | "read + cache look-up"
            )
        })
        .map(|(_, s)| s)
        .sum();
    println!(
        "{:<44} {:>10.1} {:>9.3}x",
        "analysis (everything but reading and parsing)",
        after * 1e3,
        after / parse
    );
}

/// CPU of child processes `f` runs (median of `runs`, after one warm-up).
fn cpu_children<F: FnMut()>(runs: usize, mut f: F) -> Duration {
    f();
    median(
        (0..runs)
            .map(|_| {
                let before = children_usage().cpu;
                f();
                children_usage().cpu.saturating_sub(before)
            })
            .collect(),
    )
}

/// The check over 1, 2 and 4 copies of one corpus folder: CPU per MB should stay flat.
fn scaling(dirs: &[PathBuf], work: &Path, runs: usize) {
    let base = std::env::var_os("FTAUDIT_BENCH_SCALE_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs.iter().find(|d| d.ends_with("Objects")).cloned())
        .or_else(|| dirs.first().cloned());
    let Some(base) = base else { return };
    let copies: Vec<PathBuf> = (0..4)
        .map(|i| {
            let to = work.join(format!("scale{i}")).join("src");
            copy_tree(&base, &to);
            to
        })
        .collect();
    let mb = |paths: &[PathBuf]| {
        source_files(paths)
            .iter()
            .filter_map(|(p, _)| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum::<u64>() as f64
            / 1e6
    };
    println!();
    println!("scaling: copies of {}", base.display());
    println!(
        "{:<10} {:>8} {:>10} {:>10} {:>12}",
        "input", "MB", "CPU ms", "ms per MB", "vs 1x per MB"
    );
    let mut first = None;
    for n in [1usize, 2, 4] {
        let paths = &copies[..n];
        let (cpu, _) = check_cpu(runs, &["--no-cache"], paths, |_| {});
        let size = mb(paths);
        let per = ms(cpu) / size;
        let base_per = *first.get_or_insert(per);
        println!(
            "{:<10} {:>8.1} {:>10.1} {:>10.1} {:>11.2}x",
            format!("{n}x"),
            size,
            ms(cpu),
            per,
            per / base_per
        );
    }
    println!(
        "peak memory of the largest check so far: {:.0} MB",
        children_usage().max_rss as f64 / 1e6
    );
}

fn which_rg() -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| PathBuf::from(d).join("rg"))
        .find(|p| p.is_file())
}
