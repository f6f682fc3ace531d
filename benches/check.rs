//! `cargo bench --bench check`: times `ftaudit check` on a large real tree against
//! two baselines measured in the same run on the same files:
//!   - a bare tree-sitter parse (the floor for any syntax-aware checker),
//!   - a ripgrep search for the borrowed-reference API names (what people use today).
//!
//! Corpus: `$FTAUDIT_CPYTHON_SRC/{Modules,Objects,Python}` (scripts/provision-python.sh
//! prints it; scripts/bench.sh sets it up), or the folders given in `FTAUDIT_BENCH_DIRS`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use ftaudit::check;
use ftaudit::config::{Overrides, Settings};
use ftaudit::source::Language;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<F: FnMut()>(runs: usize, mut f: F) -> Duration {
    f(); // warm the page cache
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
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
        .unwrap_or(5);
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
        "threads: {}, runs: {runs} (median)",
        rayon::current_num_threads()
    );

    let parse = time(runs, || {
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
    });

    let ov = Overrides {
        isolated: true,
        ..Default::default()
    };
    let roots: Vec<(PathBuf, Arc<Settings>)> = dirs
        .iter()
        .map(|d| {
            (
                d.clone(),
                Arc::new(Settings::resolve(d, &ov).expect("settings")),
            )
        })
        .collect();
    let mut findings = 0;
    let ftaudit = time(runs, || {
        let r = check::run(&roots, &Default::default());
        findings = r.diagnostics.len();
    });

    let rg = which_rg().map(|rg| {
        time(runs, || {
            let out = std::process::Command::new(&rg)
                .args(["-c", "--no-messages", "-t", "c", "-t", "cpp", r"PyDict_GetItem|PyList_GetItem|PyList_GET_ITEM|PyDict_Next|PyWeakref_GetObject"])
                .args(&dirs)
                .output();
            std::hint::black_box(out.ok());
        })
    });

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("{:<38} {:>10} {:>12}", "", "median ms", "vs parse");
    println!(
        "{:<38} {:>10.1} {:>11.2}x",
        "tree-sitter parse only (baseline)",
        ms(parse),
        1.0
    );
    println!(
        "{:<38} {:>10.1} {:>11.2}x",
        format!("ftaudit check ({findings} findings)"),
        ms(ftaudit),
        ms(ftaudit) / ms(parse)
    );
    match rg {
        Some(rg) => println!(
            "{:<38} {:>10.1} {:>11.2}x   (ftaudit is {:.1}x ripgrep)",
            "ripgrep search for borrowed-ref APIs",
            ms(rg),
            ms(rg) / ms(parse),
            ms(ftaudit) / ms(rg)
        ),
        None => println!("ripgrep not installed: scripts/bench.sh installs it"),
    }
    println!(
        "throughput: {:.1} MB/s",
        bytes as f64 / 1e6 / ftaudit.as_secs_f64()
    );
}

fn which_rg() -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| PathBuf::from(d).join("rg"))
        .find(|p| p.is_file())
}
